/*
 * txn.h: transaction records shared by apply, the log, snapshots and
 * proposals (zab-and-server.md §5.2, §7.2).
 *
 * A transaction is carried as bytes in ZooKeeper's own jute txn format:
 * TxnHeader {clientId, cxid, zxid, time, type} followed by CreateTxn,
 * DeleteTxn, SetDataTxn, SetACLTxn, CheckVersionTxn, CreateSessionTxn,
 * CloseSessionTxn, ErrorTxn or MultiTxn.  Prep produces these bytes, apply
 * consumes them; the log and ZAB will move them unchanged.  Every txn
 * carries final values (absolute versions, the parent's new child-creation
 * counter), so applying one twice is harmless (fuzzy-snapshot replay).
 */
#ifndef PD_TXN_H
#define PD_TXN_H

#include "jute.h"
#include "proto.h"

struct pd_txn_hdr {
	int64_t client_id;
	int32_t cxid;
	pd_zxid zxid;
	int64_t time_ms;
	int32_t type;
};

void pd_txn_write_hdr(struct pd_jw *jw, const struct pd_txn_hdr *h);
int pd_txn_read_hdr(struct pd_jr *jr, struct pd_txn_hdr *h);

/* One applied (sub-)operation's outcome, used to build replies. */
struct pd_txn_result {
	int32_t type; /* the op type, or PD_OP_ERROR */
	int32_t err;
	struct pd_span path; /* into the txn bytes */
	struct pd_stat stat;
	bool has_stat;
};

#endif
