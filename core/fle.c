/* fle.c: fast leader election, the state machine of fle.h. */
#include "fle.h"

#include <string.h>

#include "err.h"
#include "jute.h"

bool pd_fle_is_voter(const struct pd_fle *f, uint64_t sid)
{
	uint32_t i;
	for (i = 0; i < f->voter_count; i++)
		if (f->voters[i] == sid)
			return true;
	return false;
}

bool pd_fle_better(const struct pd_vote *a, const struct pd_vote *b)
{
	if (a->peer_epoch != b->peer_epoch)
		return a->peer_epoch > b->peer_epoch;
	if (a->zxid != b->zxid)
		return a->zxid > b->zxid;
	return a->leader > b->leader;
}

/* Only a voter can be a candidate (§2.3: non-zero weight). */
static bool fle_better(const struct pd_fle *f, const struct pd_vote *a, const struct pd_vote *b)
{
	return pd_fle_is_voter(f, a->leader) && pd_fle_better(a, b);
}

int pd_fle_init(struct pd_fle *f, uint64_t me, const uint64_t *voters, uint32_t voter_count,
		const uint64_t *observers, uint32_t observer_count)
{
	uint32_t i;
	memset(f, 0, sizeof(*f));
	if (voter_count == 0 || voter_count > PD_FLE_PEERS_MAX || observer_count > PD_FLE_PEERS_MAX ||
	    voter_count + observer_count > PD_FLE_PEERS_MAX)
		return PD_ECONFIG;
	f->me = me;
	for (i = 0; i < voter_count; i++) {
		f->voters[f->voter_count++] = voters[i];
		if (voters[i] == me)
			f->voter = true;
		else
			f->peers[f->peer_count++] = voters[i];
	}
	for (i = 0; i < observer_count; i++)
		if (observers[i] != me)
			f->peers[f->peer_count++] = observers[i];
	f->state = PD_PEER_LOOKING;
	return 0;
}

static void fle_send(struct pd_fle *f, uint64_t to, const struct pd_vote *v)
{
	if (f->out_count == PD_FLE_OUT_MAX) {
		f->out_dropped++;
		return;
	}
	f->out[f->out_count].to = to;
	f->out[f->out_count].vote = *v;
	f->out_count++;
}

/* My proposal to every voter but me (observers ask; they are answered). */
static void fle_broadcast(struct pd_fle *f)
{
	uint32_t i;
	for (i = 0; i < f->voter_count; i++)
		if (f->voters[i] != f->me)
			fle_send(f, f->voters[i], &f->prop);
}

static void fle_put(struct pd_fle_entry *set, uint32_t *count, uint64_t sid, const struct pd_vote *v)
{
	uint32_t i;
	for (i = 0; i < *count; i++)
		if (set[i].sid == sid) {
			set[i].vote = *v;
			return;
		}
	if (*count < PD_FLE_PEERS_MAX) {
		set[*count].sid = sid;
		set[*count].vote = *v;
		(*count)++;
	}
}

/* Two votes agree: fully if either comes from a LOOKING server; on leader
 * and epoch only between established servers, whose zxids and rounds
 * legitimately differ (ZOOKEEPER-1805). */
static bool fle_match(const struct pd_vote *a, const struct pd_vote *b)
{
	if (a->leader != b->leader || a->peer_epoch != b->peer_epoch)
		return false;
	if (a->state != PD_PEER_LOOKING && b->state != PD_PEER_LOOKING)
		return true;
	return a->zxid == b->zxid && a->round == b->round;
}

/* The voters in set whose votes agree with v form a majority of voters. */
static bool fle_quorum(const struct pd_fle *f, const struct pd_fle_entry *set, uint32_t count, const struct pd_vote *v)
{
	uint32_t i, n = 0;
	for (i = 0; i < count; i++)
		if (pd_fle_is_voter(f, set[i].sid) && fle_match(&set[i].vote, v))
			n++;
	return 2 * n > f->voter_count;
}

/* §2.5.6.3: a leader other than me must itself say it leads; if it is me,
 * the round must be mine. */
static bool fle_check_leader(const struct pd_fle *f, const struct pd_fle_entry *set, uint32_t count, uint64_t leader,
			     uint64_t round)
{
	uint32_t i;
	if (leader == f->me)
		return round == f->round;
	for (i = 0; i < count; i++)
		if (set[i].sid == leader)
			return set[i].vote.state == PD_PEER_LEADING;
	return false;
}

static void fle_decide(struct pd_fle *f, const struct pd_vote *v)
{
	f->prop.leader = v->leader;
	f->prop.zxid = v->zxid;
	f->prop.peer_epoch = v->peer_epoch;
	f->prop.round = f->round;
	f->state = v->leader == f->me ? PD_PEER_LEADING : f->voter ? PD_PEER_FOLLOWING : PD_PEER_OBSERVING;
	f->prop.state = f->state;
	f->decided = true;
	f->finalize_at_ms = 0;
	f->resend_at_ms = 0;
}

void pd_fle_look(struct pd_fle *f, uint64_t now_ms, uint64_t current_epoch, pd_zxid last_zxid)
{
	f->state = PD_PEER_LOOKING;
	f->round++;
	f->decided = false;
	f->untrusted = last_zxid < 0;
	if (f->voter) {
		f->initial.leader = f->me;
		f->initial.zxid = last_zxid;
		f->initial.peer_epoch = current_epoch;
	} else {
		/* an observer never wins: the lowest possible vote */
		f->initial.leader = 0;
		f->initial.zxid = INT64_MIN;
		f->initial.peer_epoch = 0;
	}
	f->initial.round = f->round;
	f->initial.state = PD_PEER_LOOKING;
	f->prop = f->initial;
	f->recv_count = 0;
	f->outside_count = 0;
	if (f->voter && !f->untrusted)
		fle_put(f->recv, &f->recv_count, f->me, &f->prop);
	fle_broadcast(f);
	f->wait_ms = PD_FLE_FINALIZE_MS;
	f->resend_at_ms = now_ms + f->wait_ms;
	/* ZooKeeper delivers a server's notifications to itself too: when its
	 * own vote is a quorum (the only voter, beside observers) it decides
	 * after finalizeWait with nothing heard */
	f->finalize_at_ms = f->voter && !f->untrusted && fle_quorum(f, f->recv, f->recv_count, &f->prop)
				    ? now_ms + PD_FLE_FINALIZE_MS
				    : 0;
	if (f->early_count > 0) {
		uint32_t i, n = f->early_count;
		f->early_count = 0;
		for (i = 0; i < n; i++)
			pd_fle_receive(f, now_ms, f->early[i].sid, &f->early[i].vote);
	}
}

/* A LOOKING notification while I am LOOKING (§2.5.4). */
static void fle_looking(struct pd_fle *f, uint64_t now_ms, uint64_t from, const struct pd_vote *n)
{
	if (f->untrusted)
		return; /* my data may not vote: wait for an established ensemble */
	if (n->round > f->round) {
		f->round = n->round;
		f->recv_count = 0;
		f->initial.round = f->round;
		f->prop = fle_better(f, n, &f->initial) ? *n : f->initial;
		f->prop.round = f->round;
		f->prop.state = PD_PEER_LOOKING;
		fle_broadcast(f);
	} else if (n->round < f->round) {
		fle_send(f, from, &f->prop); /* so the laggard catches up */
		return;
	} else if (fle_better(f, n, &f->prop)) {
		f->prop = *n;
		f->prop.round = f->round;
		f->prop.state = PD_PEER_LOOKING;
		fle_broadcast(f);
	}
	if (f->voter)
		fle_put(f->recv, &f->recv_count, f->me, &f->prop);
	fle_put(f->recv, &f->recv_count, from, n);
	/* a quorum agrees: decide unless a better vote comes within
	 * finalizeWait (each notification restarts the wait) */
	f->finalize_at_ms = fle_quorum(f, f->recv, f->recv_count, &f->prop) ? now_ms + PD_FLE_FINALIZE_MS : 0;
}

/* A notification from an established server while I am LOOKING (§2.5.6). */
static void fle_established(struct pd_fle *f, uint64_t from, const struct pd_vote *n)
{
	if (n->round == f->round) {
		fle_put(f->recv, &f->recv_count, from, n);
		if (fle_quorum(f, f->recv, f->recv_count, n) &&
		    fle_check_leader(f, f->recv, f->recv_count, n->leader, n->round)) {
			fle_decide(f, n);
			return;
		}
	}
	fle_put(f->outside, &f->outside_count, from, n);
	if (fle_quorum(f, f->outside, f->outside_count, n) &&
	    fle_check_leader(f, f->outside, f->outside_count, n->leader, n->round)) {
		f->round = n->round; /* joining an ensemble that formed without me */
		fle_decide(f, n);
	}
}

void pd_fle_receive(struct pd_fle *f, uint64_t now_ms, uint64_t from, const struct pd_vote *n)
{
	if (from == f->me)
		return;
	if (f->round == 0) {
		/* not started: kept (the newest per sender) for my first round,
		 * as ZooKeeper's receive queue keeps them */
		fle_put(f->early, &f->early_count, from, n);
		return;
	}
	if (f->state != PD_PEER_LOOKING) {
		/* §2.6: a LOOKING server asking is told what I follow */
		if (n->state == PD_PEER_LOOKING)
			fle_send(f, from, &f->prop);
		return;
	}
	if (f->decided)
		return; /* decided, not yet taken */
	if (!pd_fle_is_voter(f, from)) {
		/* an observer asking: it is answered, never counted */
		if (n->state == PD_PEER_LOOKING)
			fle_send(f, from, &f->prop);
		return;
	}
	if (!pd_fle_is_voter(f, n->leader) || n->zxid == -1)
		return;
	f->resend_at_ms = now_ms + f->wait_ms; /* heard something: the quiet timer restarts */
	switch (n->state) {
	case PD_PEER_LOOKING:
		fle_looking(f, now_ms, from, n);
		break;
	case PD_PEER_FOLLOWING:
	case PD_PEER_LEADING:
		fle_established(f, from, n);
		break;
	case PD_PEER_OBSERVING:
		break;
	}
}

void pd_fle_tick(struct pd_fle *f, uint64_t now_ms)
{
	if (f->state != PD_PEER_LOOKING || f->decided || f->round == 0)
		return;
	if (f->finalize_at_ms != 0 && now_ms >= f->finalize_at_ms) {
		fle_decide(f, &f->prop);
		return;
	}
	if (now_ms >= f->resend_at_ms) {
		/* nothing heard for a while: say it again, and wait longer */
		fle_broadcast(f);
		f->wait_ms = f->wait_ms * 2 > PD_FLE_MAX_INTERVAL_MS ? PD_FLE_MAX_INTERVAL_MS : f->wait_ms * 2;
		f->resend_at_ms = now_ms + f->wait_ms;
	}
}

uint64_t pd_fle_deadline(const struct pd_fle *f)
{
	if (f->state != PD_PEER_LOOKING || f->decided || f->round == 0)
		return 0;
	if (f->finalize_at_ms != 0 && f->finalize_at_ms < f->resend_at_ms)
		return f->finalize_at_ms;
	return f->resend_at_ms;
}

bool pd_fle_decision(struct pd_fle *f, enum pd_peer_state *state, uint64_t *leader)
{
	if (!f->decided)
		return false;
	f->decided = false;
	*state = f->state;
	*leader = f->prop.leader;
	return true;
}

void pd_fle_settle(struct pd_fle *f, enum pd_peer_state state, uint64_t leader, pd_zxid zxid, uint64_t peer_epoch)
{
	f->state = state;
	f->decided = false;
	f->prop.leader = leader;
	f->prop.zxid = zxid;
	f->prop.peer_epoch = peer_epoch;
	f->prop.round = f->round;
	f->prop.state = state;
	f->finalize_at_ms = 0;
	f->resend_at_ms = 0;
}

/* --- codecs --- */

size_t pd_fle_encode(const struct pd_vote *v, const char *config, size_t config_len, uint8_t *out, size_t cap)
{
	size_t n = 44 + config_len;
	if (n > cap || config_len > INT32_MAX)
		return 0;
	pd_put_be32(out, (uint32_t)v->state);
	pd_put_be64(out + 4, v->leader);
	pd_put_be64(out + 12, (uint64_t)v->zxid);
	pd_put_be64(out + 20, v->round);
	pd_put_be64(out + 28, v->peer_epoch);
	pd_put_be32(out + 36, 2);
	pd_put_be32(out + 40, (uint32_t)config_len);
	if (config_len > 0)
		memcpy(out + 44, config, config_len);
	return n;
}

int pd_fle_decode(const uint8_t *p, size_t len, struct pd_vote *v)
{
	uint32_t state;
	if (len < 28)
		return PD_EPROTO;
	state = pd_be32(p);
	if (state > PD_PEER_OBSERVING)
		return PD_EPROTO;
	v->state = (enum pd_peer_state)state;
	v->leader = pd_be64(p + 4);
	v->zxid = (pd_zxid)pd_be64(p + 12);
	v->round = pd_be64(p + 20);
	/* the 28-byte form predates peerEpoch: the zxid's epoch stands in */
	v->peer_epoch = len >= 36 ? pd_be64(p + 28) : PD_ZXID_EPOCH(v->zxid);
	if (len >= 44 && pd_be32(p + 36) >= 2 && pd_be32(p + 40) > len - 44)
		return PD_EPROTO; /* a configuration longer than the message */
	return 0;
}

size_t pd_fle_hello_encode(uint64_t sid, const char *addr, uint8_t *out, size_t cap)
{
	size_t alen = strlen(addr), n = 20 + alen;
	if (n > cap || alen < 1 || alen > 2048)
		return 0;
	pd_put_be64(out, (uint64_t)PD_FLE_HELLO_V2);
	pd_put_be64(out + 8, sid);
	pd_put_be32(out + 16, (uint32_t)alen);
	memcpy(out + 20, addr, alen);
	return n;
}

long pd_fle_hello_decode(const uint8_t *p, size_t len, uint64_t *sid)
{
	int64_t first;
	uint32_t alen;
	if (len < 8)
		return 0;
	first = (int64_t)pd_be64(p);
	if (first >= 0) { /* the old hello: the sid alone */
		*sid = (uint64_t)first;
		return 8;
	}
	if (first != PD_FLE_HELLO_V1 && first != PD_FLE_HELLO_V2)
		return -1;
	if (len < 20)
		return 0;
	alen = pd_be32(p + 16);
	if (alen < 1 || alen > 2048)
		return -1;
	if (len - 20 < alen)
		return 0;
	*sid = pd_be64(p + 8);
	return (long)(20 + alen);
}
