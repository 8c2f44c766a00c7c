/*
 * err.h: the one error convention (STYLE lesson 9).
 *
 * Functions return int: 0 on success, a negative PD_E* code otherwise.  Codes
 * that ZooKeeper clients can see have the same numeric value as ZooKeeper's
 * KeeperException codes (wire-protocol.md §11), so the edge needs no mapping
 * for them; codes below -1000 are internal and are mapped by pd_err_wire().
 */
#ifndef PD_ERR_H
#define PD_ERR_H

#include <stddef.h>

/* X(name, value, wire code, text) */
#define PD_ERR_TABLE(X)                                                          \
	X(PD_OK, 0, 0, "ok")                                                     \
	X(PD_ERUNTIMEINCONSISTENCY, -2, -2, "runtime inconsistency")             \
	X(PD_EMARSHALLING, -5, -5, "marshalling error")                          \
	X(PD_EUNIMPLEMENTED, -6, -6, "unimplemented")                            \
	X(PD_EBADARGUMENTS, -8, -8, "bad arguments")                             \
	X(PD_ENONODE, -101, -101, "no node")                                     \
	X(PD_ENOAUTH, -102, -102, "not authenticated")                           \
	X(PD_EBADVERSION, -103, -103, "bad version")                             \
	X(PD_ENOCHILDRENFOREPHEMERALS, -108, -108, "no children for ephemerals") \
	X(PD_ENODEEXISTS, -110, -110, "node exists")                             \
	X(PD_ENOTEMPTY, -111, -111, "directory not empty")                       \
	X(PD_ESESSIONEXPIRED, -112, -112, "session expired")                     \
	X(PD_EINVALIDACL, -114, -114, "invalid ACL")                             \
	X(PD_EAUTHFAILED, -115, -115, "authentication failed")                   \
	X(PD_ENOTREADONLY, -119, -119, "not a read-only call")                   \
	X(PD_ENOWATCHER, -121, -121, "no such watcher")                          \
	X(PD_ERECONFIGDISABLED, -123, -123, "reconfig disabled")                 \
	X(PD_EQUOTAEXCEEDED, -125, -125, "quota exceeded")                       \
	X(PD_ENOMEM, -1001, -125, "memory budget exhausted")                     \
	X(PD_EPROTO, -1002, -5, "malformed packet")                              \
	X(PD_ETOOBIG, -1003, -5, "packet too large")                             \
	X(PD_ECONFIG, -1004, -8, "invalid configuration")                        \
	X(PD_EFULL, -1005, -1, "table full")                                     \
	X(PD_ECLOSED, -1006, -1, "connection closed")

enum pd_err {
#define PD_ERR_ENUM(name, value, wire, text) name = value,
	PD_ERR_TABLE(PD_ERR_ENUM)
#undef PD_ERR_ENUM
};

/* Human-readable text for a code. */
const char *pd_strerror(int code);
/* ZooKeeper's wire code for a PD_E* code. */
int pd_err_wire(int code);
/* Name such as "PD_ENONODE". */
const char *pd_err_name(int code);

/* Writes "prefix: old message" into errmsg (size bytes), for layered context. */
void pd_errmsg_prefix(char *errmsg, size_t size, const char *prefix);

#endif
