/*
 * client.c: simulated ZooKeeper clients (a first, minimal state machine;
 * the sans-I/O client library of client/ replaces it in a later step).
 *
 * Each client connects to its server, keeps up to SIM_DEPTH_MAX requests in
 * flight, and draws its next request from the world's PRNG: creates of
 * persistent nodes it owns (each acknowledged one must survive every
 * crash), setData and getData on shared nodes, ephemeral sequential
 * creates, pings, and now and then it drops its connection on purpose.
 * When its connection goes, it reconnects with its session id, password
 * and the highest zxid it has seen; an expired session starts a new one.
 *
 * Checks, run on every reply: answers come in request order with the
 * request's xid, their zxids never go back (across reconnects too), and a
 * write answered OK is already durable on its server (world.c).
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

#define SIM_OP_CONNECT 0

static void sim_put32(struct sim_bytes *b, int32_t v)
{
	uint8_t x[4];
	pd_put_be32(x, (uint32_t)v);
	sim_bytes_add(b, x, 4);
}

static void sim_put64(struct sim_bytes *b, int64_t v)
{
	uint8_t x[8];
	pd_put_be64(x, (uint64_t)v);
	sim_bytes_add(b, x, 8);
}

static void sim_put_str(struct sim_bytes *b, const char *s)
{
	sim_put32(b, (int32_t)strlen(s));
	sim_bytes_add(b, s, strlen(s));
}

/* A client has one wake-up pending at a time: a new one replaces it. */
static void sim_client_schedule(struct sim_world *w, struct sim_client *c, uint64_t lo_us, uint64_t hi_us)
{
	sim_schedule(w, w->now_us + sim_draw(w, lo_us, hi_us), SIM_EV_CLIENT_WAKE, c->id, 0, ++c->wake_gen, NULL, 0);
}

static void sim_client_connect(struct sim_world *w, struct sim_client *c)
{
	struct sim_bytes f = {0};
	uint32_t conn = sim_connect(w, c->id, c->server);
	c->conn = conn + 1;
	c->connecting = true;
	c->ready = false;
	c->ops_count = 0;
	c->in.len = 0;
	sim_put32(&f, 0); /* length, patched below */
	sim_put32(&f, 0); /* protocolVersion */
	sim_put64(&f, (int64_t)c->last_zxid);
	sim_put32(&f, 10000);
	sim_put64(&f, c->session_id);
	sim_put32(&f, 16);
	sim_bytes_add(&f, c->passwd, 16);
	sim_bytes_add(&f, "", 1); /* readOnly false */
	pd_put_be32(f.p, (uint32_t)(f.len - 4));
	sim_client_send(w, conn, f.p, f.len);
	free(f.p);
}

void sim_client_init(struct sim_world *w, struct sim_client *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->server = id % w->opt.servers;
	c->next_xid = 1;
	sim_client_schedule(w, c, 0, 20000);
}

static void sim_client_request(struct sim_world *w, struct sim_client *c)
{
	struct sim_bytes f = {0};
	struct sim_pending_op *op = &c->ops[(c->ops_head + c->ops_count) % SIM_DEPTH_MAX];
	uint64_t pick = sim_draw(w, 0, 99);
	uint32_t key = (uint32_t)sim_draw(w, 0, SIM_KEYS - 1);
	char shared[24], value[24];
	snprintf(shared, sizeof(shared), "/shared%u", key);
	op->xid = c->next_xid++;
	op->path[0] = '\0';
	op->key = -1;
	op->sequential = false;
	op->watch = false;
	sim_put32(&f, 0);
	if (pick < 30) {
		op->type = PD_OP_CREATE;
		snprintf(op->path, sizeof(op->path), "/c%u-%u", c->id, (unsigned)op->xid);
		sim_put32(&f, op->xid);
		sim_put32(&f, PD_OP_CREATE);
		sim_put_str(&f, op->path);
		sim_put_str(&f, "data");
		sim_put32(&f, 1);
		sim_put32(&f, PD_PERM_ALL);
		sim_put_str(&f, "world");
		sim_put_str(&f, "anyone");
		sim_put32(&f, 0);
	} else if (pick < 40) {
		op->type = PD_OP_CREATE;
		if (pick < 35) {
			op->key = (int32_t)key;
			op->hist = sim_history_add(w, c->server, key, LIN_CREATE_UNKNOWN, 0);
		}
		op->sequential = pick >= 35;
		sim_put32(&f, op->xid);
		sim_put32(&f, PD_OP_CREATE);
		sim_put_str(&f, pick < 35 ? shared : "/master-");
		sim_put_str(&f, "");
		sim_put32(&f, 1);
		sim_put32(&f, PD_PERM_ALL);
		sim_put_str(&f, "world");
		sim_put_str(&f, "anyone");
		sim_put32(&f, pick < 35 ? 0 : PD_MODE_EPHEMERAL_SEQUENTIAL);
	} else if (pick < 65) {
		/* a value no other write uses, so a read says which write it saw */
		uint64_t v = ((uint64_t)c->id + 1) * 1000000000ULL + (uint64_t)op->xid;
		op->type = PD_OP_SETDATA;
		op->key = (int32_t)key;
		op->hist = sim_history_add(w, c->server, key, LIN_SET_UNKNOWN, v);
		snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
		sim_put32(&f, op->xid);
		sim_put32(&f, PD_OP_SETDATA);
		sim_put_str(&f, shared);
		sim_put_str(&f, value);
		sim_put32(&f, -1);
	} else if (pick < 95) {
		op->type = PD_OP_GETDATA;
		op->key = (int32_t)key;
		op->hist = sim_history_add(w, c->server, key, LIN_GET, 0);
		op->watch = sim_draw(w, 0, 1) == 1;
		sim_put32(&f, op->xid);
		sim_put32(&f, PD_OP_GETDATA);
		sim_put_str(&f, shared);
		sim_bytes_add(&f, op->watch ? "\1" : "", 1);
	} else {
		op->type = PD_OP_PING;
		op->xid = PD_XID_PING;
		c->next_xid--;
		sim_put32(&f, PD_XID_PING);
		sim_put32(&f, PD_OP_PING);
	}
	pd_put_be32(f.p, (uint32_t)(f.len - 4));
	c->ops_count++;
	sim_client_send(w, c->conn - 1, f.p, f.len);
	free(f.p);
}

/* The requests in flight when the connection went: a read never answered
 * did not happen; a write may or may not have (no return in its history). */
static void sim_client_forget(struct sim_world *w, struct sim_client *c)
{
	uint32_t i;
	for (i = 0; i < c->ops_count; i++) {
		const struct sim_pending_op *op = &c->ops[(c->ops_head + i) % SIM_DEPTH_MAX];
		if (op->key >= 0 && op->type == PD_OP_GETDATA)
			w->hist[c->server][op->key].ops[op->hist].kind = 0;
	}
	c->ops_count = 0;
	/* watches live with the connection */
	memset(c->watching, 0, sizeof(c->watching));
}

void sim_client_wake(struct sim_world *w, struct sim_client *c)
{
	if (c->conn == 0) {
		sim_client_connect(w, c);
		return;
	}
	if (!c->ready) {
		sim_client_schedule(w, c, 1000, 5000);
		return;
	}
	/* now and then a client drops its connection and comes back */
	if (w->opt.faults && sim_draw(w, 0, 999) == 0) {
		sim_client_forget(w, c);
		sim_client_close(w, c->conn - 1);
		c->conn = 0;
		c->ready = false;
		w->res->reconnects++;
		sim_client_schedule(w, c, 1000, 100000);
		return;
	}
	while (c->ops_count < SIM_DEPTH_MAX && sim_draw(w, 0, 2) != 0)
		sim_client_request(w, c);
	sim_client_schedule(w, c, 500, 200000);
}

void sim_client_reset(struct sim_world *w, struct sim_client *c)
{
	sim_client_forget(w, c);
	/* whatever was in flight is unknown now; reconnect with the session */
	c->conn = 0;
	c->ready = false;
	c->connecting = false;
	c->ops_count = 0;
	w->res->reconnects++;
	sim_client_schedule(w, c, 1000, 300000);
}

/* A watch event: it must answer a registration, once. */
static void sim_client_event(struct sim_world *w, struct sim_client *c, const uint8_t *body, size_t len)
{
	uint32_t n, key;
	if (w->opt.bugs & SIM_BUG_LOSE_WATCH_EVENTS)
		return; /* planted: the event is lost */
	if (len < 12 || (n = pd_be32(body + 8)) > len - 12) {
		sim_violation(w, 129, "client %u: a malformed watch event", c->id);
		return;
	}
	if (n != 8 || memcmp(body + 12, "/shared", 7) != 0 || body[19] < '0' || body[19] >= '0' + (int)SIM_KEYS) {
		sim_violation(w, 129, "client %u: a watch event for %.*s, which it never watched", c->id, (int)n, body + 12);
		return;
	}
	key = (uint32_t)(body[19] - '0');
	if (!c->watching[key]) {
		sim_violation(w, 129, "client %u: a second watch event for /shared%u from one registration", c->id, key);
		return;
	}
	if ((int32_t)pd_be32(body) != PD_WEV_DATA_CHANGED)
		sim_violation(w, 129, "client %u: watch event type %d for /shared%u", c->id, (int32_t)pd_be32(body), key);
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
static void sim_client_history(struct sim_world *w, struct sim_client *c, const struct sim_pending_op *op, int32_t err,
			       const uint8_t *body, size_t len)
{
	struct lin_op *h = &w->hist[c->server][op->key].ops[op->hist];
	h->ret = w->now_us;
	if (op->type == PD_OP_CREATE)
		h->kind = err == 0 ? LIN_CREATE_OK : err == PD_ENODEEXISTS ? LIN_CREATE_EXISTS : 0;
	else if (op->type == PD_OP_SETDATA)
		h->kind = err == 0 ? LIN_SET_OK : err == PD_ENONODE ? LIN_SET_NONODE : 0;
	else if (err == PD_ENONODE)
		h->value = 0;
	else if (err != 0 || len < 4)
		h->kind = 0;
	else {
		/* data "" is the value a create leaves (1); a set writes digits */
		int32_t n = (int32_t)pd_be32(body);
		uint64_t v = 0;
		int32_t i;
		for (i = 0; i < n && (size_t)i + 4 < len && body[4 + i] >= '0' && body[4 + i] <= '9'; i++)
			v = v * 10 + (uint64_t)(body[4 + i] - '0');
		h->value = n <= 0 ? 1 : v;
		sim_client_watch_read(w, c, op, h->value);
		if (w->opt.bugs & SIM_BUG_STALE_READS) { /* planted: the oldest value written */
			const struct sim_history *hist = &w->hist[c->server][op->key];
			size_t j;
			for (j = 0; j < hist->count; j++)
				if (hist->ops[j].kind == LIN_SET_OK) {
					h->value = hist->ops[j].value;
					break;
				}
		}
	}
}

static void sim_client_frame(struct sim_world *w, struct sim_client *c, const uint8_t *p, size_t len)
{
	struct sim_pending_op *op;
	int32_t xid, err;
	int64_t zxid;
	if (c->connecting) {
		if (len < 36) {
			sim_violation(w, 129, "client %u: a ConnectResponse of %zu bytes", c->id, len);
			return;
		}
		c->connecting = false;
		c->timeout_ms = (int32_t)pd_be32(p + 4);
		if (c->timeout_ms <= 0) { /* the session expired: start a new one */
			c->session_id = 0;
			memset(c->passwd, 0, sizeof(c->passwd));
			return; /* the server closes the connection; the reset reconnects */
		}
		c->session_id = (int64_t)pd_be64(p + 8);
		memcpy(c->passwd, p + 20, 16);
		c->ready = true;
		sim_client_schedule(w, c, 0, 1000);
		return;
	}
	if (len < 16) {
		sim_violation(w, 129, "client %u: a reply of %zu bytes", c->id, len);
		return;
	}
	xid = (int32_t)pd_be32(p);
	zxid = (int64_t)pd_be64(p + 4);
	err = (int32_t)pd_be32(p + 12);
	if (xid == PD_XID_NOTIFICATION) {
		sim_client_event(w, c, p + 16, len - 16);
		return;
	}
	if (c->ops_count == 0) {
		sim_violation(w, 129, "client %u: a reply (xid %d) to no request", c->id, xid);
		return;
	}
	op = &c->ops[c->ops_head];
	if (xid != op->xid) {
		sim_violation(w, 129, "client %u: reply xid %d, expected %d (replies out of order)", c->id, xid, op->xid);
		return;
	}
	if (zxid >= 0 && (pd_zxid)zxid < c->last_zxid) {
		sim_violation(w, 129, "client %u: zxid went back from 0x%" PRIx64 " to 0x%" PRIx64, c->id,
			      (uint64_t)c->last_zxid, (uint64_t)zxid);
		return;
	}
	if (zxid > 0)
		c->last_zxid = (pd_zxid)zxid;
	c->ops_head = (c->ops_head + 1) % SIM_DEPTH_MAX;
	c->ops_count--;
	if (op->key >= 0)
		sim_client_history(w, c, op, err, p + 16, len - 16);
	if (err != 0) {
		w->res->ops_failed++;
		return;
	}
	w->res->ops_ok++;
	if (op->type == PD_OP_CREATE || op->type == PD_OP_SETDATA)
		sim_record_ack(w, c->server, op->path[0] != '\0' ? op->path : NULL, (pd_zxid)zxid);
	if (op->type == PD_OP_CREATE && op->sequential && len >= 20) {
		/* the name the server chose: "/master-" and ten digits */
		uint32_t n = pd_be32(p + 16);
		uint64_t number = 0;
		uint32_t i;
		if (n < 10 || len < 20 + (size_t)n) {
			sim_violation(w, 129, "client %u: a sequential create answered with a %u-byte name", c->id, n);
			return;
		}
		for (i = n - 10; i < n; i++)
			number = number * 10 + (uint64_t)(p[20 + i] - '0');
		sim_record_sequential(w, c->server, number);
		if (w->opt.bugs & SIM_BUG_SEQ_TWICE)
			sim_record_sequential(w, c->server, number); /* planted */
	}
}

void sim_client_data(struct sim_world *w, struct sim_client *c, const uint8_t *p, size_t len)
{
	size_t off = 0;
	sim_bytes_add(&c->in, p, len);
	while (c->in.len - off >= 4 && !w->stop) {
		uint32_t n = pd_be32(c->in.p + off);
		if (n > (1u << 20)) {
			sim_violation(w, 129, "client %u: a frame of %u bytes", c->id, n);
			return;
		}
		if (c->in.len - off - 4 < n)
			break;
		sim_client_frame(w, c, c->in.p + off + 4, n);
		off += 4 + n;
	}
	memmove(c->in.p, c->in.p + off, c->in.len - off);
	c->in.len -= off;
}
