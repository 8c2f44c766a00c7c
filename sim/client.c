/*
 * client.c: simulated ZooKeeper clients.  Each one is client/zkc's state
 * machine (the same one `paddock shell` uses) driven over the world's
 * streams, with a workload drawn from the world's PRNG and checks around
 * it.
 *
 * Workload: up to SIM_DEPTH_MAX requests in flight: creates of persistent
 * znodes the client owns (each acknowledged one must survive every crash),
 * creates, setData and getData (half of them setting a watch) on the
 * shared znodes /shared0../shared3 (their histories are checked for
 * linearizability), ephemeral sequential creates of /master-, and syncs.
 * Now and then, during the fault phase, a client drops its connection on
 * purpose.  zkc reconnects with the session id, password and the highest
 * zxid seen, re-registers its watches with setWatches, gives a quiet
 * transport up at two thirds of the session timeout, and reports an
 * expired session, after which the client starts a new one.
 *
 * Checks, on every frame in the order it arrived: the server's bytes make
 * sense to zkc (replies in request order, with the request's xid), reply
 * zxids never go back, a watch event answers exactly one registration and
 * comes before the watched znode's new data, a write answered OK is
 * already durable on its server (world.c), and sequential numbers are
 * recorded for the reuse check.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jute.h"
#include "linear.h"
#include "proto.h"
#include "world.h"

#define SIM_SESSION_TIMEOUT_MS 10000

static uint64_t sim_client_ms(const struct sim_world *w)
{
	return w->now_us / 1000;
}

/* A client has one wake-up pending at a time: a new one replaces it. */
static void sim_client_schedule(struct sim_world *w, struct sim_client *c, uint64_t lo_us, uint64_t hi_us)
{
	sim_schedule(w, w->now_us + sim_draw(w, lo_us, hi_us), SIM_EV_CLIENT_WAKE, c->id, 0, ++c->wake_gen, NULL, 0);
}

/* Sends whatever zkc has queued. */
static void sim_client_flush(struct sim_world *w, struct sim_client *c)
{
	size_t len;
	const uint8_t *p = zkc_output(c->zk, &len);
	if (len == 0 || c->conn == 0)
		return;
	sim_client_send(w, c->conn - 1, p, len);
	zkc_output_done(c->zk, len);
}

void sim_client_init(struct sim_world *w, struct sim_client *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->server = id % w->opt.servers;
	c->hs = w->opt.ensemble ? 0 : c->server;
	sim_client_schedule(w, c, 0, 20000);
}

/* A scenario's client (sim/script.c): a session on one server (pinned) or
 * on the ensemble (it starts on server and moves on down the list). */
void sim_client_init_scripted(struct sim_world *w, struct sim_client *c, uint32_t id, uint32_t server, bool pinned,
			      int32_t timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->server = server;
	c->scripted = true;
	c->pinned = pinned;
	c->zk = zkc_new(1, timeout_ms, sim_client_ms(w));
	if (c->zk == NULL)
		abort();
	w->res->sessions++;
	sim_client_schedule(w, c, 0, 1000);
}

void sim_client_flush_out(struct sim_world *w, struct sim_client *c)
{
	if (!c->killed && w->clients[c->id].paused_until_us <= w->now_us)
		sim_client_flush(w, c);
}

static void sim_client_lost(struct sim_world *w, struct sim_client *c);

/* The client's process dies: its connection goes, nothing closes the
 * session, and what it had in flight is lost. */
void sim_client_kill(struct sim_world *w, struct sim_client *c)
{
	if (c->killed)
		return;
	if (c->conn != 0) {
		sim_client_close(w, c->conn - 1);
		sim_client_lost(w, c);
	}
	c->killed = true;
}

void sim_client_free(struct sim_client *c)
{
	zkc_free(c->zk);
	c->zk = NULL;
}

static void sim_client_issue(struct sim_world *w, struct sim_client *c)
{
	struct sim_pending_op *op = &c->ops[(c->ops_head + c->ops_count) % SIM_DEPTH_MAX];
	uint64_t pick = sim_draw(w, 0, 99);
	uint32_t key = (uint32_t)sim_draw(w, 0, SIM_KEYS - 1);
	char shared[24], value[24];
	snprintf(shared, sizeof(shared), "/shared%u", key);
	op->path[0] = '\0';
	op->call_us = w->now_us;
	op->key = -1;
	op->sequential = false;
	op->watch = false;
	if (pick < 30) {
		op->type = PD_OP_CREATE;
		snprintf(op->path, sizeof(op->path), "/c%u-%llu", c->id, (unsigned long long)w->res->events);
		op->xid = zkc_create(c->zk, op->path, "data", 4, 0);
	} else if (pick < 35) {
		op->type = PD_OP_CREATE;
		op->key = (int32_t)key;
		op->hist = sim_history_add(w, c->hs, key, LIN_CREATE_UNKNOWN, 0);
		op->xid = zkc_create(c->zk, shared, "", 0, 0);
	} else if (pick < 40) {
		op->type = PD_OP_CREATE;
		op->sequential = true;
		op->xid = zkc_create(c->zk, "/master-", "", 0, PD_MODE_EPHEMERAL_SEQUENTIAL);
	} else if (pick < 65) {
		/* a value no other write uses, so a read says which write it saw */
		uint64_t v = ((uint64_t)c->id + 1) * 1000000000ULL + w->res->events % 1000000000ULL;
		op->type = PD_OP_SETDATA;
		op->key = (int32_t)key;
		op->hist = sim_history_add(w, c->hs, key, LIN_SET_UNKNOWN, v);
		snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
		op->xid = zkc_set_data(c->zk, shared, value, strlen(value), -1);
	} else if (pick < 95) {
		op->type = PD_OP_GETDATA;
		op->key = (int32_t)key;
		op->hist = sim_history_add(w, c->hs, key, LIN_GET, 0);
		if (w->opt.ensemble) {
			/* ZooKeeper's reads are sequentially consistent, not
			 * linearizable: a follower serves them from its state, which
			 * is at least what this client saw last (the zxid check keeps
			 * that honest).  The read may take effect any time after the
			 * newest operation the client had answered was issued (a
			 * sync included: after it, the read is linearizable from the
			 * sync on). */
			w->hist[c->hs][key].ops[op->hist].call = c->last_done_call_us;
		}
		op->watch = sim_draw(w, 0, 1) == 1;
		op->xid = zkc_get_data(c->zk, shared, op->watch);
	} else {
		op->type = PD_OP_SYNC;
		op->xid = zkc_sync(c->zk, shared);
	}
	c->ops_count++;
}

/* A new session: the old one expired (or the run just began). */
static void sim_client_new_session(struct sim_world *w, struct sim_client *c)
{
	zkc_free(c->zk);
	c->zk = zkc_new(1, SIM_SESSION_TIMEOUT_MS, sim_client_ms(w));
	if (c->zk == NULL)
		abort();
	memset(c->watching, 0, sizeof(c->watching)); /* watches die with their session */
	if (w->opt.ensemble) {
		/* a new session has seen nothing: it may land on a server behind
		 * the old one, as a new ZooKeeper handle may */
		c->last_zxid = 0;
		c->last_done_call_us = 0;
	}
	w->res->sessions++;
}

static void sim_client_drain(struct sim_world *w, struct sim_client *c);

/* The transport is gone (closed by either side, reset, or refused). */
static void sim_client_lost(struct sim_world *w, struct sim_client *c)
{
	c->conn = 0;
	if (w->opt.ensemble && !c->pinned)
		c->server = (c->server + 1) % w->opt.servers; /* the next server in its list */
	c->hdr_have = 0;
	c->body_left = 0;
	zkc_on_closed(c->zk, sim_client_ms(w));
	sim_client_drain(w, c);
	w->res->reconnects++;
}

void sim_client_wake(struct sim_world *w, struct sim_client *c)
{
	uint32_t server;
	uint64_t now_ms = sim_client_ms(w);
	if (c->scripted && (c->killed || zkc_state(c->zk) == ZKC_EXPIRED || zkc_state(c->zk) == ZKC_CLOSED)) {
		/* a scenario's client is not renewed: the scenario sees it end */
		if (!c->killed && c->conn != 0) {
			sim_client_close(w, c->conn - 1);
			sim_client_lost(w, c);
		}
		return;
	}
	if (c->zk == NULL || zkc_state(c->zk) == ZKC_EXPIRED) {
		if (c->zk != NULL && c->conn != 0) { /* the server closes it; do not wait */
			sim_client_close(w, c->conn - 1);
			sim_client_lost(w, c);
		}
		sim_client_new_session(w, c);
	}
	if (c->conn != 0 && zkc_on_tick(c->zk, now_ms)) {
		/* the server went quiet (a partition, a clog): give it up */
		w->res->read_timeouts++;
		sim_client_close(w, c->conn - 1);
		sim_client_lost(w, c);
	}
	if (c->conn == 0 && zkc_want_connect(c->zk, &server)) {
		c->conn = sim_connect(w, c->id, c->server) + 1;
		if (c->conn != 0 && w->conns[c->conn - 1].open)
			zkc_on_connected(c->zk, now_ms);
	}
	if (c->conn != 0 && zkc_state(c->zk) == ZKC_CONNECTED && !c->scripted) {
		if (w->opt.faults && !w->calm && sim_draw(w, 0, 999) == 0) {
			/* now and then a client drops its connection and comes back */
			sim_client_close(w, c->conn - 1);
			sim_client_lost(w, c);
			sim_client_schedule(w, c, 1000, 100000);
			return;
		}
		while (c->ops_count < SIM_DEPTH_MAX && sim_draw(w, 0, 2) != 0)
			sim_client_issue(w, c);
	}
	sim_client_flush(w, c);
	sim_client_schedule(w, c, 500, 200000);
}

void sim_client_reset(struct sim_world *w, struct sim_client *c)
{
	sim_client_lost(w, c);
	sim_client_schedule(w, c, 1000, 300000);
}

/* A watch event: it must answer a registration, once. */
static void sim_client_event(struct sim_world *w, struct sim_client *c, const struct zkc_event *e)
{
	uint32_t key;
	if (e->type == -1) { /* the session expired */
		w->res->expired++;
		memset(c->watching, 0, sizeof(c->watching));
		return;
	}
	if (w->opt.bugs & SIM_BUG_LOSE_WATCH_EVENTS)
		return; /* planted: the event is lost */
	if (strncmp(e->path, "/shared", 7) != 0 || e->path[7] < '0' || e->path[7] >= '0' + (int)SIM_KEYS ||
	    e->path[8] != '\0') {
		sim_violation(w, 129, "client %u: a watch event for %s, which it never watched", c->id, e->path);
		return;
	}
	key = (uint32_t)(e->path[7] - '0');
	if (!c->watching[key]) {
		sim_violation(w, 129, "client %u: a second watch event for /shared%u from one registration", c->id, key);
		return;
	}
	if (e->type != PD_WEV_DATA_CHANGED)
		sim_violation(w, 129, "client %u: watch event type %d for /shared%u", c->id, e->type, key);
	c->watching[key] = false;
	w->res->watch_events++;
}

/* ZooKeeper's promise: a client sees a watch event for a znode before it
 * sees the znode's new data. */
static void sim_client_watch_read(struct sim_world *w, struct sim_client *c, const struct sim_pending_op *op,
				  uint64_t value)
{
	uint32_t key = (uint32_t)op->key;
	if (c->watching[key] && c->watched_value[key] != value)
		sim_violation(w, 129, "client %u read new data of /shared%u (%llu, was %llu) before its watch event",
			      c->id, key, (unsigned long long)value, (unsigned long long)c->watched_value[key]);
	if (op->watch) {
		c->watching[key] = true;
		c->watched_value[key] = value;
	}
}

/* What the reply says the operation did, in its history. */
static void sim_client_history(struct sim_world *w, struct sim_client *c, const struct sim_pending_op *op,
			       const struct zkc_result *r)
{
	struct lin_op *h = &w->hist[c->hs][op->key].ops[op->hist];
	h->ret = w->now_us;
	if (r->err == ZKC_ERR_CONNECTIONLOSS || r->err == ZKC_ERR_SESSIONEXPIRED) {
		/* a read never answered did not happen; a write may or may not have */
		h->ret = LIN_NO_RETURN;
		if (op->type == PD_OP_GETDATA)
			h->kind = 0;
		return;
	}
	if (op->type == PD_OP_CREATE)
		h->kind = r->err == 0 ? LIN_CREATE_OK : r->err == PD_ENODEEXISTS ? LIN_CREATE_EXISTS : 0;
	else if (op->type == PD_OP_SETDATA)
		h->kind = r->err == 0 ? LIN_SET_OK : r->err == PD_ENONODE ? LIN_SET_NONODE : 0;
	else if (r->err == PD_ENONODE)
		h->value = 0;
	else if (r->err != 0 || r->body_len < 4)
		h->kind = 0;
	else {
		/* data "" is the value a create leaves (1); a set writes digits */
		int32_t n = (int32_t)pd_be32(r->body);
		uint64_t v = 0;
		int32_t i;
		for (i = 0; i < n && (size_t)i + 4 < r->body_len && r->body[4 + i] >= '0' && r->body[4 + i] <= '9'; i++)
			v = v * 10 + (uint64_t)(r->body[4 + i] - '0');
		h->value = n <= 0 ? 1 : v;
		sim_client_watch_read(w, c, op, h->value);
		if (w->opt.bugs & SIM_BUG_STALE_READS) { /* planted: the oldest value written */
			const struct sim_history *hist = &w->hist[c->hs][op->key];
			size_t j;
			for (j = 0; j < hist->count; j++)
				if (hist->ops[j].kind == LIN_SET_OK) {
					h->value = hist->ops[j].value;
					break;
				}
		}
	}
}

static void sim_client_result(struct sim_world *w, struct sim_client *c, const struct zkc_result *r)
{
	struct sim_pending_op *op;
	if (c->ops_count == 0 || c->ops[c->ops_head].xid != r->xid) {
		sim_violation(w, 129, "client %u: a result for xid %d it did not expect", c->id, r->xid);
		return;
	}
	op = &c->ops[c->ops_head];
	c->ops_head = (c->ops_head + 1) % SIM_DEPTH_MAX;
	c->ops_count--;
	if (r->err != ZKC_ERR_CONNECTIONLOSS && r->err != ZKC_ERR_SESSIONEXPIRED) {
		/* a read's own effect may be as old as its lowered call */
		uint64_t since = op->type == PD_OP_GETDATA && op->key >= 0 && w->opt.ensemble
					 ? w->hist[c->hs][op->key].ops[op->hist].call
					 : op->call_us;
		if (since > c->last_done_call_us)
			c->last_done_call_us = since;
		if (r->zxid >= 0 && (pd_zxid)r->zxid < c->last_zxid) {
			sim_violation(w, 129, "client %u: zxid went back from 0x%" PRIx64 " to 0x%" PRIx64, c->id,
				      (uint64_t)c->last_zxid, (uint64_t)r->zxid);
			return;
		}
		if (r->zxid > 0)
			c->last_zxid = (pd_zxid)r->zxid;
	}
	if (op->key >= 0)
		sim_client_history(w, c, op, r);
	if (r->err != 0) {
		w->res->ops_failed++;
		return;
	}
	w->res->ops_ok++;
	if (op->type != PD_OP_CREATE && op->type != PD_OP_SETDATA)
		return;
	c->last_write_us = w->now_us;
	sim_record_ack(w, c->server, op->path[0] != '\0' ? op->path : NULL, (pd_zxid)r->zxid);
	if (op->sequential) {
		/* the name the server chose: "/master-" and ten digits */
		uint32_t n = r->body_len >= 4 ? pd_be32(r->body) : 0, i;
		uint64_t number = 0;
		if (n < 10 || r->body_len < 4 + (size_t)n) {
			sim_violation(w, 129, "client %u: a sequential create answered with a %u-byte name", c->id, n);
			return;
		}
		for (i = n - 10; i < n; i++)
			number = number * 10 + (uint64_t)(r->body[4 + i] - '0');
		sim_record_sequential(w, c->hs, number);
		if (w->opt.bugs & SIM_BUG_SEQ_TWICE)
			sim_record_sequential(w, c->hs, number); /* planted */
	}
}

/* Events first: zkc was fed one frame at most, so there is at most one of
 * either, and the checks see them in the order they arrived. */
static void sim_client_drain(struct sim_world *w, struct sim_client *c)
{
	struct zkc_event e;
	struct zkc_result r;
	if (c->scripted) {
		w->attention = true; /* the scenario takes its results and events from zk */
		return;
	}
	while (!w->stop && zkc_next_event(c->zk, &e))
		sim_client_event(w, c, &e);
	while (!w->stop && zkc_next_result(c->zk, &r))
		sim_client_result(w, c, &r);
}

/* Bytes from the server: handed to zkc cut at frame ends, each frame's
 * outcome checked before the next one is read. */
void sim_client_data(struct sim_world *w, struct sim_client *c, const uint8_t *p, size_t len)
{
	uint64_t now_ms = sim_client_ms(w);
	size_t off = 0;
	while (off < len && !w->stop) {
		size_t n;
		bool frame_end = false;
		if (c->hdr_have < 4) {
			n = 4 - c->hdr_have < len - off ? 4 - c->hdr_have : len - off;
			memcpy(c->hdr + c->hdr_have, p + off, n);
			c->hdr_have += (uint32_t)n;
			if (c->hdr_have == 4) {
				c->body_left = pd_be32(c->hdr);
				frame_end = c->body_left == 0;
			}
		} else {
			n = c->body_left < len - off ? c->body_left : len - off;
			c->body_left -= (uint32_t)n;
			frame_end = c->body_left == 0;
		}
		if (zkc_on_data(c->zk, p + off, n, now_ms) != 0) {
			sim_violation(w, 129, "client %u: the server's bytes broke the protocol (a reply out of order, "
				      "or malformed)", c->id);
			return;
		}
		off += n;
		if (!frame_end)
			continue;
		c->hdr_have = 0;
		sim_client_drain(w, c);
	}
	sim_client_flush(w, c);
}
