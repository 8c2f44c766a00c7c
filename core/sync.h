/*
 * sync.h: how a leader brings a learner up to date (zab-and-server.md
 * §3.3), decided from the learner's last zxid and the leader's committed
 * log held in memory (the last few hundred committed txns, ZooKeeper's
 * commitLogCount).  A pure function, so that every row of the decision
 * table is tested on its own before the node uses it.
 *
 *   - the learner is where the leader is: an empty DIFF;
 *   - it has txns past the leader's last committed one (and is not at an
 *     epoch start): TRUNC to the last committed one;
 *   - its last zxid is in the log: a DIFF with everything after it;
 *   - its last zxid falls inside the log's range but is not in it, and the
 *     leader's next txn after it is of the same epoch: TRUNC to the largest
 *     leader zxid below it, then a DIFF from there (a TRUNC never crosses
 *     an epoch);
 *   - the same, with the next txn of another epoch: SNAP;
 *   - it is at an epoch start (e, 0) inside the range: a DIFF from it;
 *   - it is older than the log (or anything else): SNAP.
 */
#ifndef PD_SYNC_H
#define PD_SYNC_H

#include "types.h"

enum pd_sync_kind {
	PD_SYNC_DIFF = 1,  /* send the committed txns after `from` */
	PD_SYNC_TRUNC,     /* truncate the learner to `trunc_to`, then send the txns after it */
	PD_SYNC_SNAP,      /* send the whole tree */
};

struct pd_sync_plan {
	enum pd_sync_kind kind;
	pd_zxid trunc_to; /* TRUNC */
	pd_zxid from;     /* DIFF and TRUNC: txns with zxid > from follow */
};

/* peer: the learner's last logged zxid (from ACKEPOCH); last: the leader's
 * last processed zxid; log: the zxids of the committed txns the leader
 * holds, ascending (n may be 0). */
void pd_sync_plan(pd_zxid peer, pd_zxid last, const pd_zxid *log, size_t n, struct pd_sync_plan *out);

#endif
