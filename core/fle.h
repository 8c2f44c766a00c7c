/*
 * fle.h: fast leader election (zab-and-server.md §2), as a pure state
 * machine: notifications and time in, notifications to send and a decision
 * out.  It owns no connection: the node layer carries its notifications over
 * the election plane and calls it back.  Safety never rests on it (§2.8):
 * it only proposes a leader; discovery decides the epoch.
 *
 * Votes are ordered by (peerEpoch, zxid, sid) (§2.3).  A LOOKING server
 * starts a round by voting for itself, adopts any better vote it hears in
 * its round (or jumps to a later round it hears of), and decides once the
 * voters whose votes equal its own form a quorum and no better vote has come
 * for finalizeWait (200 ms).  It also joins an established ensemble when a
 * quorum of FOLLOWING/LEADING servers report the same leader and that leader
 * itself says it leads (the check that stops servers from electing a dead
 * leader again).  With nothing heard, it resends its vote with a backoff
 * doubling from 200 ms to 60 s.  An established server answers every
 * LOOKING notification with its own vote and state.
 *
 * Wire formats (§2.1, §2.2): a notification is state i32, leader i64,
 * zxid i64, electionEpoch i64, peerEpoch i64, version i32 (2), then the
 * configuration text as i32 length + bytes; the older 28- and 40-byte forms
 * are read too.  An election connection starts with the dialer's hello:
 * protocol version i64 (-65536 or -65535), sid i64, then its election
 * address as i32 length (1..2048) + bytes; a first i64 that is not negative
 * is the sid alone (the pre-3.5 hello).  Each message is framed by an i32
 * length.
 */
#ifndef PD_FLE_H
#define PD_FLE_H

#include "types.h"

#define PD_FLE_PEERS_MAX 64u /* voters and observers in one configuration */
#define PD_FLE_FINALIZE_MS 200u
#define PD_FLE_MAX_INTERVAL_MS 60000u
#define PD_FLE_OUT_MAX (2u * PD_FLE_PEERS_MAX)
#define PD_FLE_HELLO_V1 (-65536LL)
#define PD_FLE_HELLO_V2 (-65535LL)

enum pd_peer_state {
	PD_PEER_LOOKING = 0,
	PD_PEER_FOLLOWING = 1,
	PD_PEER_LEADING = 2,
	PD_PEER_OBSERVING = 3,
};

struct pd_vote {
	uint64_t leader;     /* the sid voted for (or followed) */
	pd_zxid zxid;        /* that candidate's last zxid, as the voter knows it */
	uint64_t round;      /* the voter's electionEpoch (logicalclock) */
	uint64_t peer_epoch; /* the candidate's currentEpoch (or the established epoch) */
	enum pd_peer_state state; /* the voter's own state */
};

/* A notification to send. */
struct pd_fle_send {
	uint64_t to;
	struct pd_vote vote;
};

struct pd_fle_entry {
	uint64_t sid;
	struct pd_vote vote;
};

struct pd_fle {
	uint64_t me;
	bool voter;                         /* a participant (not an observer) */
	uint64_t voters[PD_FLE_PEERS_MAX];  /* the participants' sids, me included if I am one */
	uint32_t voter_count;
	uint64_t peers[PD_FLE_PEERS_MAX];   /* everyone else to talk to (voters and observers) */
	uint32_t peer_count;
	enum pd_peer_state state;
	uint64_t round;
	struct pd_vote initial;             /* my own candidacy for this round */
	struct pd_vote prop;                /* what I vote for now (as LOOKING), or my settled vote */
	bool untrusted;                     /* my data is not trustworthy (zxid -1): no LOOKING votes */
	struct pd_fle_entry recv[PD_FLE_PEERS_MAX];    /* this round's votes */
	uint32_t recv_count;
	struct pd_fle_entry outside[PD_FLE_PEERS_MAX]; /* votes of established servers, any round */
	uint32_t outside_count;
	struct pd_fle_entry early[PD_FLE_PEERS_MAX];   /* heard before my first round: kept for it */
	uint32_t early_count;
	uint64_t wait_ms;      /* the current resend interval */
	uint64_t resend_at_ms; /* resend if nothing is heard by then */
	uint64_t finalize_at_ms; /* decide then, if no better vote comes; 0: no quorum yet */
	bool decided;          /* a decision is waiting to be taken by pd_fle_decision */
	/* outputs, drained by the caller */
	struct pd_fle_send out[PD_FLE_OUT_MAX];
	uint32_t out_count;
	uint32_t out_dropped;  /* sends that did not fit (the next resend covers them) */
};

/* voters: every participant's sid (me included if I am one); observers:
 * the others.  Returns 0, or PD_ECONFIG if the lists are empty or too long. */
int pd_fle_init(struct pd_fle *f, uint64_t me, const uint64_t *voters, uint32_t voter_count,
		const uint64_t *observers, uint32_t observer_count);
/* Starts a round: LOOKING, voting for myself with my durable state
 * (current_epoch, last_zxid; last_zxid -1 says my data is not trusted). */
void pd_fle_look(struct pd_fle *f, uint64_t now_ms, uint64_t current_epoch, pd_zxid last_zxid);
/* A notification from sid. */
void pd_fle_receive(struct pd_fle *f, uint64_t now_ms, uint64_t from, const struct pd_vote *n);
/* Time passed: resend, or decide once finalizeWait is over. */
void pd_fle_tick(struct pd_fle *f, uint64_t now_ms);
/* The next time pd_fle_tick has something to do (0: nothing). */
uint64_t pd_fle_deadline(const struct pd_fle *f);
/* Takes the decision once made: true, with the state (LEADING, FOLLOWING
 * or OBSERVING) and the leader's sid. */
bool pd_fle_decision(struct pd_fle *f, enum pd_peer_state *state, uint64_t *leader);
/* The node's role is settled (or has changed epoch): LOOKING servers that
 * ask are answered with this vote (§2.6: the established epoch). */
void pd_fle_settle(struct pd_fle *f, enum pd_peer_state state, uint64_t leader, pd_zxid zxid,
		   uint64_t peer_epoch);
/* The better of two votes by (peerEpoch, zxid, sid). */
bool pd_fle_better(const struct pd_vote *a, const struct pd_vote *b);
bool pd_fle_is_voter(const struct pd_fle *f, uint64_t sid);

/* Codecs.  Encoders return the length written, or 0 if it does not fit. */
size_t pd_fle_encode(const struct pd_vote *v, const char *config, size_t config_len, uint8_t *out, size_t cap);
/* Returns 0 or PD_EPROTO. */
int pd_fle_decode(const uint8_t *p, size_t len, struct pd_vote *v);
size_t pd_fle_hello_encode(uint64_t sid, const char *addr, uint8_t *out, size_t cap);
/* Returns the bytes the hello took (0: need more), or -1 if it is malformed. */
long pd_fle_hello_decode(const uint8_t *p, size_t len, uint64_t *sid);

#endif
