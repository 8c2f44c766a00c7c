/*
 * zkimport.h: reading an Apache ZooKeeper 3.x data directory (its
 * version-2/snapshot.* and log.* files) into a node, so users can migrate
 * with `paddock import`.  Pure decoding; the driver reads the files.
 *
 * ZooKeeper's formats (jute, big-endian): a snapshot is a file header
 * ("ZKSN", version 2, dbid), the sessions (id, timeout), the ACL cache
 * (index, vector<ACL>; index -1 is world:anyone ALL and has no entry), the
 * nodes depth-first with full paths (the root as ""), each with its data,
 * ACL index and stat, an end marker "/", then an Adler-32 of every byte
 * before it and "/"; a digest section and a second seal may follow.  A log
 * is a file header ("ZKLG", 2, dbid) then records: Adler-32 of the txn
 * bytes (int64), their length (int32), the txn bytes (TxnHeader, record,
 * optional TxnDigest) and the byte 'B'; preallocated zeros end it.
 * ZooKeeper's txn records are the ones paddock logs, and its stored
 * cversion counts child creates exactly as paddock's does, so a log
 * record applies as it is once its digest trailer is cut off.
 *
 * A ZooKeeper snapshot is fuzzy: it may already hold some effects of txns
 * after its label; replaying them converges (apply.c treats a create of an
 * existing node and a delete of a missing one as ZooKeeper's replay does).
 */
#ifndef PD_ZKIMPORT_H
#define PD_ZKIMPORT_H

#include "types.h"

struct pd_node;

uint32_t pd_adler32(uint32_t adler, const uint8_t *p, size_t len);

/* "snapshot.<hex>" / "log.<hex>" as ZooKeeper names them (lowercase hex,
 * no padding; a compressed snapshot's suffix makes it not match). */
bool pd_zk_parse_name(const char *name, const char *kind, pd_zxid *zxid);

/* Loads a ZooKeeper snapshot labelled zxid into a node that has served
 * nothing.  Returns 0, PD_EPROTO (not a valid snapshot: errmsg says why;
 * the node is then unusable) or PD_ENOMEM. */
int pd_zk_snapshot_load(struct pd_node *node, const uint8_t *p, size_t len, pd_zxid zxid, uint64_t now_ms,
			char *errmsg, size_t errmsg_size);

/* Applies the records of one ZooKeeper log file that follow the node's
 * zxid.  A torn or zero-filled tail ends the file; a record whose checksum
 * is wrong, or a gap in the zxids, is an error.  *applied counts the
 * records applied.  Returns 0 or PD_EPROTO with errmsg. */
int pd_zk_log_replay(struct pd_node *node, const uint8_t *p, size_t len, uint64_t now_ms, uint64_t *applied,
		     char *errmsg, size_t errmsg_size);

#endif
