/*
 * observe.h: watching a node apply transactions, for the simulator's
 * invariant checkers (zab-and-server.md §4.3: I7 apply only what is
 * committed, I8 primary order, I15 stat monotonicity, I17 sessions).  A
 * production server sets no observer; with none set, applying costs
 * nothing more.
 */
#ifndef PD_OBSERVE_H
#define PD_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd.h"
#include "proto.h"

/* One applied op: each op of a multi, or a whole txn of another type. */
struct pd_applied {
	pd_zxid zxid;
	int32_t txn_type;   /* the txn's (PD_OP_MULTI for every op of a multi) */
	int32_t op;         /* this op's: PD_OP_CREATE..., PD_OP_CREATESESSION, PD_OP_CLOSESESSION */
	int err;            /* what the op gave (0: applied) */
	int64_t session;    /* the txn header's client id */
	bool replay;        /* replayed from the node's own log as it starts, not committed just now */
	bool catch_up;      /* the tree catching up with the node's own log as it leaves its role
			     * (ZOOKEEPER-2845), not committed just now either */
	bool serving;       /* the node serves clients (synced with an established leader, or standalone) */
	const char *path;   /* the op's znode; NULL for a session txn */
	size_t path_len;
	bool existed, exists;               /* the znode, before and after */
	struct pd_stat before, after;       /* its stat, when it existed / exists */
	bool parent_existed, parent_exists; /* its parent, before and after */
	struct pd_stat parent_before, parent_after;
};

typedef void (*pd_apply_observer)(void *ctx, const struct pd_applied *a);

/* Sets (or, with fn NULL, removes) the node's observer. */
void pd_node_observe_applies(struct pd_node *node, pd_apply_observer fn, void *ctx);

#endif
