/*
 * ens.h: the ensemble state shared by peer.c (election, discovery, failure
 * detection) and zab.c (synchronisation and broadcast).  Only those two and
 * the node's hooks in server_int.h touch it.
 */
#ifndef PD_ENS_H
#define PD_ENS_H

#include "fle.h"
#include "quorum.h"
#include "server_int.h"

#define PEER_FRAME_MAX (16u * 1024u * 1024u)

struct peer_link {
	uint64_t sid;
	uint32_t conn;       /* the election connection's id + 1; 0: none */
	bool dialing;
	bool have_pending;   /* a notification waits for a connection */
	struct pd_vote pending;
};

/* Leader side: a learner on the quorum plane. */
struct peer_learner {
	uint32_t conn;       /* id + 1 */
	uint64_t sid;        /* 0 until its FOLLOWERINFO / OBSERVERINFO */
	bool observer;
	uint64_t accepted;   /* the acceptedEpoch it reported */
	bool acked;          /* a valid ACKEPOCH for this epoch */
	uint64_t last_heard_ms;
	/* synchronisation and broadcast (zab.c) */
	bool ackepoch_seen;  /* any ACKEPOCH (also -1): its last zxid is known */
	pd_zxid last_zxid;   /* from its ACKEPOCH */
	bool sync_sent;      /* DIFF/TRUNC/SNAP went out */
	bool forwarding;     /* receives proposals and commits (or informs) */
	bool newleader_acked;
	pd_zxid acked_zxid;  /* its newest ACK of a proposal (acks are cumulative) */
};

/* Learner side: a request forwarded to the leader, waiting for its txn to
 * commit (or for SYNC). */
struct zab_fwd {
	int64_t session;
	int32_t cxid;
	int32_t type;
	enum pend_kind kind;
	uint32_t conn;
	uint64_t conn_serial;
	int32_t timeout_ms;
	uint64_t start_ms;
	char *path; /* sync: the path to echo */
	uint32_t path_len;
};

/* Leader side: a learner's sync waiting for a commit. */
struct zab_sync_wait {
	uint32_t conn; /* the learner's quorum connection: id + 1 */
	uint64_t serial;
	pd_zxid zxid;  /* send SYNC once this is committed */
};

/* A committed txn kept for DIFF (ZooKeeper's committedLog). */
struct zab_clog {
	pd_zxid zxid;
	uint8_t *txn;
	size_t len;
};

enum learner_sync {
	LSYNC_DISCOVERY = 0, /* before DIFF/TRUNC/SNAP */
	LSYNC_RECEIVING,     /* after DIFF: proposals and commits of the history */
	LSYNC_NEWLEADER,     /* NEWLEADER heard: ack once it is all durable */
	LSYNC_UPTODATE,      /* serving */
};

struct node_ens {
	struct pd_fle fle;
	struct peer_link links[PD_FLE_PEERS_MAX];
	uint32_t link_count;
	bool started;
	bool halted;               /* a PD_FX_RELOAD went out: the driver rebuilds the node */
	uint64_t follow_hint;      /* pd_node_follow: the leader to go back to at start */
	bool empty_born;           /* pd_node_set_empty: started from an empty data directory */
	bool distrust;             /* and has heard of a history: votes -1 until synced */
	int role;
	uint64_t leader;
	uint64_t elections;
	uint64_t lost;
	uint64_t role_serial;      /* one per role taken: stale completions are recognised */
	uint64_t role_since_ms;
	char my_addr[160];
	uint64_t epochs[2];        /* durable acceptedEpoch, currentEpoch */
	uint64_t writing_serial[2]; /* the role that asked for the write in flight (0: none) */
	uint64_t writing_value[2];
	bool established;
	uint64_t epoch;            /* the epoch decided (leader) or offered (learner) */
	/* leader */
	bool epoch_decided;
	uint64_t epoch_candidate;
	struct peer_learner learners[PD_FLE_PEERS_MAX];
	uint32_t learner_count;
	uint64_t next_ping_ms;
	bool serving;              /* a quorum acked NEWLEADER */
	struct zab_sync_wait *syncs;
	uint32_t sync_head, sync_count, sync_cap;
	/* learner */
	uint32_t lconn;            /* the quorum link to the leader: id + 1 */
	bool ldialing;
	uint32_t dial_tries;
	uint64_t next_dial_ms;
	uint64_t last_heard_ms;
	bool got_ping;
	bool epoch_acked;
	enum learner_sync lsync;
	pd_zxid newleader_zxid;
	bool newleader_acked;
	pd_zxid commit_zxid;       /* the newest COMMIT heard */
	pd_zxid acked_zxid;        /* the newest proposal acked */
	struct pd_buf snap;        /* SNAP chunks being received */
	pd_zxid snap_zxid;
	struct zab_fwd *fwd;
	uint32_t fwd_head, fwd_count, fwd_cap;
	/* every member: the committed log, for DIFF */
	struct zab_clog *clog;
	uint32_t clog_head, clog_count, clog_cap;
	uint64_t commits_sent;
	int64_t last_proposal_size, max_proposal_size, min_proposal_size;
	uint64_t proposals;
	uint64_t syncs_diff, syncs_trunc, syncs_snap;
};

static inline uint64_t peer_ticks_ms(const struct pd_node *node, int32_t ticks)
{
	return (uint64_t)ticks * (uint64_t)node->cfg.tick_ms;
}

/* peer.c, for zab.c */
void peer_send_qp(struct pd_node *node, uint32_t conn, int32_t type, pd_zxid zxid, const void *data, int32_t len);
void peer_look(struct pd_node *node);
void peer_write_epoch(struct pd_node *node, enum pd_epoch_file which, uint64_t value);
struct peer_learner *peer_learner_of(struct node_ens *e, uint32_t conn_id);
void peer_learner_drop(struct pd_node *node, struct peer_learner *l, bool close);
uint32_t peer_voter_quorum(const struct node_ens *e);
void peer_leader_try_establish(struct pd_node *node);

/* zab.c, for peer.c */
void zab_leader_established(struct pd_node *node);
void zab_leader_ackepoch(struct pd_node *node, struct peer_learner *l);
/* Leader: a quorum packet past discovery (ACK, REQUEST, PING). */
void zab_leader_packet(struct pd_node *node, struct peer_learner *l, const struct pd_qp *qp);
/* Learner: a packet of synchronisation or broadcast. */
void zab_learner_packet(struct pd_node *node, struct pd_conn *conn, const struct pd_qp *qp);
void zab_epoch_durable(struct pd_node *node, enum pd_epoch_file which, uint64_t value);
/* The role ends: clients dropped, what was logged applied, state reset. */
void zab_role_end(struct pd_node *node);
void zab_free(struct pd_node *node);

#endif
