/* fuzz_drive.c: see fuzz_drive.h. */
#include "fuzz_drive.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "assert.h"
#include "config.h"
#include "err.h"
#include "pd.h"

/* --- small helpers ---------------------------------------------------- */

#define FD_CONN_CANARY 1u
#define FD_CONN_JANITOR 2u
#define FD_CONN_FUZZ 3u
#define FD_FRAME_MAX 0xfffffu
#define FD_TICK_MS 2000
#define FD_FUZZ_TIMEOUT_MS 4000
#define FD_HELPER_TIMEOUT_MS 40000

#define FD_SUPER_AUTH "super:pdfuzz-super-secret"
#define FD_CANARY_AUTH "canary:pdfuzz-canary-secret"
#define FD_FUZZ_AUTH "fuzz:fuzz"
#define FD_CANARY_DIR "/pdfuzz"
#define FD_CANARY_PATH "/pdfuzz/canary"

static const uint8_t fd_canary_data[] = "canary \x00\xff\x7f data: must never change";

static char fd_input_name[512] = "(fuzz input)";

void fd_set_input_name(const char *name)
{
	snprintf(fd_input_name, sizeof(fd_input_name), "%s", name);
}

void fd_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\n*** fuzz_drive invariant violated (input %s):\n    ", fd_input_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

static void fd_assert_hook(const char *expr, const char *file, int line)
{
	fprintf(stderr, "\n*** PD_ASSERT(%s) failed at %s:%d (input %s)\n", expr, file, line, fd_input_name);
	fflush(stderr);
	abort();
}

static uint32_t fd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t fd_be64(const uint8_t *p)
{
	return ((uint64_t)fd_be32(p) << 32) | fd_be32(p + 4);
}

/* A growable byte string owned by the driver (not by the core). */
struct fd_bytes {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static void fd_bytes_add(struct fd_bytes *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap < 256 ? 256 : b->cap;
		uint8_t *fresh;
		while (cap < b->len + n)
			cap *= 2;
		fresh = realloc(b->p, cap);
		if (fresh == NULL)
			fd_fail("driver out of memory");
		b->p = fresh;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void fd_bytes_free(struct fd_bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void fd_put32(struct fd_bytes *b, int32_t v)
{
	uint8_t x[4] = {(uint8_t)((uint32_t)v >> 24), (uint8_t)((uint32_t)v >> 16), (uint8_t)((uint32_t)v >> 8),
			(uint8_t)v};
	fd_bytes_add(b, x, 4);
}

static void fd_put64(struct fd_bytes *b, int64_t v)
{
	fd_put32(b, (int32_t)(uint32_t)((uint64_t)v >> 32));
	fd_put32(b, (int32_t)(uint32_t)(uint64_t)v);
}

static void fd_put_buf(struct fd_bytes *b, const void *p, size_t n)
{
	fd_put32(b, (int32_t)n);
	fd_bytes_add(b, p, n);
}

static void fd_put_str(struct fd_bytes *b, const char *s)
{
	fd_put_buf(b, s, strlen(s));
}

/* --- state ------------------------------------------------------------ */

struct fd_client {
	const char *name;
	uint32_t conn;
	bool open;
	bool closed_by_core;
	bool dropped;      /* closed by the core on behalf of another connection */
	int64_t session_id;
	uint8_t passwd[16];
	int32_t xid;
	struct fd_bytes rx; /* bytes the core sent to this connection */
};

/* A built-in znode the input may modify (root and /zookeeper are world-writable). */
struct fd_base_node {
	const char *path;
	struct fd_bytes data;
	bool data_null;
	struct fd_bytes acl; /* encoded vector<ACL> */
	int32_t version;
	int32_t aversion;
};

struct fd_ctx {
	struct fd_opts opts;
	struct pd_node *node;
	struct pd_effects fx;
	uint64_t now_ms;
	int64_t wall_ms;
	uint64_t live_bytes; /* what the core holds from our allocator */
	uint64_t inputs;
	struct fd_client canary, janitor, fuzz;
	struct pd_node_stats base;
	struct fd_base_node base_nodes[3];
	uint8_t canary_stat[68];
	uint8_t canary_dir_stat[68];
	uint32_t canary_checks;
	/* the input being fed */
	const uint8_t *in;
	size_t in_len;
	bool fault_active;
	struct fd_outcome *out;
	uint64_t hijacks;
	struct fd_bytes reply; /* body of the last fd_call reply */
	struct fd_bytes stream; /* FD_F_SASL, FD_F_REATTACH: the bytes built around the data */
	int64_t reply_zxid;
	uint16_t next_port;
	uint64_t keepalive_ms; /* when the helpers last pinged */
	bool enomem_pending;   /* pd_step failed: look for connections it forgot */
	bool hold_durable;     /* the input's records stay pending (then the log fails) */
	bool trace;            /* PD_FUZZ_TRACE=1: print every event and effect */
};

static void *fd_alloc(void *ctx, size_t bytes)
{
	struct fd_ctx *c = ctx;
	void *p = malloc(bytes);
	if (p != NULL)
		c->live_bytes += bytes;
	return p;
}

static void fd_free(void *ctx, void *ptr, size_t bytes)
{
	struct fd_ctx *c = ctx;
	if (c->live_bytes < bytes)
		fd_fail("core freed %zu bytes but holds only %llu", bytes, (unsigned long long)c->live_bytes);
	c->live_bytes -= bytes;
	free(ptr);
}

static struct fd_client *fd_client_of(struct fd_ctx *c, uint32_t conn)
{
	if (conn == FD_CONN_CANARY)
		return &c->canary;
	if (conn == FD_CONN_JANITOR)
		return &c->janitor;
	if (conn == FD_CONN_FUZZ)
		return &c->fuzz;
	return NULL;
}

/* True if the input carries this session's id as a big-endian i64, the only
 * way a ConnectRequest can re-attach to (and so take over) that session. */
static bool fd_input_names_session(const struct fd_ctx *c, int64_t session_id)
{
	uint8_t id[8];
	size_t i;
	for (i = 0; i < 8; i++)
		id[i] = (uint8_t)((uint64_t)session_id >> (56 - 8 * i));
	return c->in != NULL && c->in_len >= 8 && memmem(c->in, c->in_len, id, 8) != NULL;
}

static void fd_render_fourlw(struct fd_ctx *c, const struct pd_effect *e)
{
	struct pd_env env;
	struct pd_buf text;
	memset(&env, 0, sizeof(env));
	memset(&text, 0, sizeof(text));
	env.host_name = "fuzzhost";
	env.os_name = "Linux";
	env.os_arch = "amd64";
	env.os_version = "6.0";
	env.user_name = "fuzz";
	env.user_home = "/home/fuzz";
	env.user_dir = "/work";
	env.open_fd_count = 7;
	env.max_fd_count = 1024;
	env.mem_total_bytes = 1u << 30;
	env.mem_free_bytes = 1u << 29;
	env.data_dir_bytes = 4096;
	env.data_log_dir_bytes = 4096;
	env.client_port_listen = "0.0.0.0:2181";
	(void)pd_admin_render(c->node, e->word, e->stmk_mask, &env, &text);
	fd_bytes_add(&c->fuzz.rx, text.data, text.len);
	pd_buf_free(pd_node_io_mem(c->node), &text);
}

/* Feeds one event and executes its effects the way net/server.c does. */
static int fd_step(struct fd_ctx *c, struct pd_event *ev)
{
	uint32_t i;
	int rc;
	bool fourlw_close = false;
	pd_zxid logged = 0;
	/* A PD_EV_LOG_DURABLE is attributed to the event whose records it
	 * covers (its conn field, which the core ignores, says which). */
	struct fd_client *src = ev->type == PD_EV_TICK || ev->type == PD_EV_LOG_FAILED || ev->type == PD_EV_LOG_OK
					? NULL
					: fd_client_of(c, ev->conn);
	ev->now_ms = c->now_ms;
	ev->wall_ms = c->wall_ms;
	rc = pd_step(c->node, ev, &c->fx);
	if (c->trace)
		fprintf(stderr, "[t=%llu] event %d conn %u len %zu -> rc %d, %u effects\n", (unsigned long long)c->now_ms,
			(int)ev->type, ev->conn, ev->len, rc, c->fx.count);
	for (i = 0; i < c->fx.count; i++) {
		const struct pd_effect *e = &c->fx.items[i];
		bool nodeless = e->type == PD_FX_TIMER || e->type == PD_FX_LOG_APPEND || e->type == PD_FX_SNAPSHOT;
		struct fd_client *cl = nodeless ? NULL : fd_client_of(c, e->conn);
		if (c->trace)
			fprintf(stderr, "    effect %d conn %u len %zu\n", (int)e->type, e->conn, e->len);
		if (e->type == PD_FX_LOG_APPEND && e->zxid > logged)
			logged = e->zxid;
		if (nodeless)
			continue; /* snapshots are exercised by test_snap and the net tests */
		if (cl == NULL)
			fd_fail("effect %d for connection %u, which the driver never opened", (int)e->type, e->conn);
		if (!cl->open)
			fd_fail("effect %d for %s connection %u after it was closed", (int)e->type, cl->name, e->conn);
		/* The helper connections have no watches: only their own requests
		 * may produce output for them. */
		if (cl != &c->fuzz && src != cl) {
			/* The input re-attached to its session: the core closes the
			 * old connection, at once or, if recording the effect failed
			 * for lack of memory, at a later step. */
			if (e->type == PD_FX_CLOSE && (src == &c->fuzz || src == NULL) &&
			    fd_input_names_session(c, cl->session_id)) {
				cl->dropped = true;
			} else {
				fd_fail("effect %d (len %zu) for the %s connection while handling event %d on connection %u",
					(int)e->type, e->len, cl->name, (int)ev->type, ev->conn);
			}
		}
		switch (e->type) {
		case PD_FX_SEND:
			if (e->len == 0)
				fd_fail("empty PD_FX_SEND for connection %u", e->conn);
			if (c->fx.bytes.data == NULL || e->offset > c->fx.bytes.len || e->len > c->fx.bytes.len - e->offset) {
				char msg[200];
				snprintf(msg, sizeof(msg),
					 "PD_FX_SEND for connection %u references bytes [%zu, %zu) beyond the %zu effect "
					 "bytes (pd_step returned %d)",
					 e->conn, e->offset, e->offset + e->len, c->fx.bytes.len, rc);
				if (!c->opts.soft_output || c->out == NULL)
					fd_fail("%s", msg);
				if (c->out->violation[0] == '\0')
					snprintf(c->out->violation, sizeof(c->out->violation), "%s", msg);
				break; /* a driver cannot send what is not there */
			}
			fd_bytes_add(&cl->rx, pd_effect_bytes(&c->fx, e), e->len);
			break;
		case PD_FX_CLOSE:
			cl->open = false;
			cl->closed_by_core = true;
			/* A close the core could not record earlier arrives with a
			 * later event, possibly the helper's own request. */
			if (cl != &c->fuzz && src == cl && fd_input_names_session(c, cl->session_id))
				cl->dropped = true;
			break;
		case PD_FX_FOURLW:
			if (cl != &c->fuzz)
				fd_fail("four-letter word on the %s connection", cl->name);
			if (c->out != NULL)
				c->out->fourlw = true;
			fd_render_fourlw(c, e);
			cl->open = false;
			cl->closed_by_core = true;
			fourlw_close = true;
			break;
		default:
			fd_fail("unknown effect type %d", (int)e->type);
		}
	}
	pd_effects_reset(&c->fx);
	/* The log is durable at once: what the step logged is answered by
	 * the next step, before anything else happens (unless the input
	 * holds it back to have it fail). */
	if (rc == 0 && logged != 0 && !c->hold_durable) {
		struct pd_event durable;
		memset(&durable, 0, sizeof(durable));
		durable.type = PD_EV_LOG_DURABLE;
		durable.zxid = logged;
		durable.conn = src != NULL ? src->conn : 0;
		return fd_step(c, &durable);
	}
	if (rc != 0) {
		if (rc != PD_ENOMEM || !c->fault_active)
			fd_fail("pd_step(event %d, conn %u) returned %d (%s)", (int)ev->type, ev->conn, rc, pd_strerror(rc));
		if (c->out != NULL)
			c->out->enomem = true;
		c->enomem_pending = true;
		/* The driver drops the connection involved. */
		if (src != NULL && src->open) {
			struct pd_event drop;
			memset(&drop, 0, sizeof(drop));
			drop.type = PD_EV_CONN_CLOSED;
			drop.conn = src->conn;
			src->open = false;
			(void)fd_step(c, &drop);
		}
	}
	if (fourlw_close) {
		struct pd_event closed;
		memset(&closed, 0, sizeof(closed));
		closed.type = PD_EV_CONN_CLOSED;
		closed.conn = FD_CONN_FUZZ;
		(void)fd_step(c, &closed);
	}
	return rc;
}

static void fd_send(struct fd_ctx *c, struct fd_client *cl, const uint8_t *p, size_t len)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_DATA;
	ev.conn = cl->conn;
	ev.data = p;
	ev.len = len;
	(void)fd_step(c, &ev);
}

static void fd_ping(struct fd_ctx *c, struct fd_client *cl);
static void fd_find_lost_closes(struct fd_ctx *c, struct fd_outcome *o);

/* The helper sessions are idle otherwise; keep them well inside their timeout. */
static void fd_keepalive(struct fd_ctx *c)
{
	/* Injected allocation failures are meant for the fuzzed connection only. */
	uint64_t countdown = pd_node_mem(c->node)->fail_countdown;
	uint64_t io_countdown = pd_node_io_mem(c->node)->fail_countdown;
	bool fault_active = c->fault_active;
	if (c->enomem_pending && c->out != NULL)
		fd_find_lost_closes(c, c->out);
	if (c->now_ms - c->keepalive_ms < 5000)
		return;
	pd_node_mem(c->node)->fail_countdown = 0;
	pd_node_io_mem(c->node)->fail_countdown = 0;
	c->fault_active = false;
	if (c->canary.open)
		fd_ping(c, &c->canary);
	if (c->janitor.open)
		fd_ping(c, &c->janitor);
	c->keepalive_ms = c->now_ms;
	pd_node_mem(c->node)->fail_countdown = countdown;
	pd_node_io_mem(c->node)->fail_countdown = io_countdown;
	c->fault_active = fault_active;
}

static void fd_tick(struct fd_ctx *c, uint64_t advance_ms)
{
	struct pd_event ev;
	fd_keepalive(c);
	c->now_ms += advance_ms;
	c->wall_ms += (int64_t)advance_ms;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_TICK;
	(void)fd_step(c, &ev);
}

static void fd_open(struct fd_ctx *c, struct fd_client *cl, const char *ip)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.conn = cl->conn;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "%s", ip);
	ev.peer_port = c->next_port++;
	if (c->next_port < 30000)
		c->next_port = 30000;
	cl->open = true;
	cl->closed_by_core = false;
	cl->dropped = false;
	cl->rx.len = 0;
	cl->session_id = 0;
	cl->xid = 0;
	(void)fd_step(c, &ev);
	if (!cl->open)
		fd_fail("the core refused to open the %s connection", cl->name);
}

static void fd_close(struct fd_ctx *c, struct fd_client *cl)
{
	struct pd_event ev;
	if (!cl->open)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_CLOSED;
	ev.conn = cl->conn;
	cl->open = false;
	(void)fd_step(c, &ev);
}

/* ConnectRequest for a new session; parses the ConnectResponse. */
static void fd_handshake(struct fd_ctx *c, struct fd_client *cl, int32_t timeout_ms, bool old_client)
{
	static const uint8_t zero[16];
	struct fd_bytes b = {0};
	const uint8_t *r;
	size_t want = old_client ? 40 : 41;
	fd_put32(&b, 0); /* length, patched below */
	fd_put32(&b, 0); /* protocolVersion */
	fd_put64(&b, 0); /* lastZxidSeen */
	fd_put32(&b, timeout_ms);
	fd_put64(&b, 0); /* sessionId */
	fd_put_buf(&b, zero, sizeof(zero));
	if (!old_client)
		fd_bytes_add(&b, "", 1); /* readOnly = false */
	b.p[0] = 0;
	b.p[1] = 0;
	b.p[2] = (uint8_t)((b.len - 4) >> 8);
	b.p[3] = (uint8_t)(b.len - 4);
	cl->rx.len = 0;
	fd_send(c, cl, b.p, b.len);
	fd_bytes_free(&b);
	if (!cl->open)
		fd_fail("the %s connection was closed on a valid ConnectRequest", cl->name);
	if (cl->rx.len != want)
		fd_fail("ConnectResponse to the %s connection is %zu bytes, expected %zu", cl->name, cl->rx.len, want);
	r = cl->rx.p;
	if (fd_be32(r) != want - 4 || fd_be32(r + 4) != 0 || (int32_t)fd_be32(r + 8) != timeout_ms ||
	    fd_be32(r + 20) != 16)
		fd_fail("malformed ConnectResponse to the %s connection", cl->name);
	cl->session_id = (int64_t)fd_be64(r + 12);
	memcpy(cl->passwd, r + 24, 16);
	if (cl->session_id == 0)
		fd_fail("the %s connection got session id 0", cl->name);
	cl->rx.len = 0;
}

/* Sends one request from a helper connection and returns the reply's err;
 * the body is left in c->reply.  Aborts unless exactly one reply frame with
 * the right xid comes back and the connection stays open (closeSession:
 * closed). */
static int32_t fd_call(struct fd_ctx *c, struct fd_client *cl, int32_t type, const struct fd_bytes *body)
{
	struct fd_bytes b = {0};
	int32_t xid = type == 11 ? -2 : type == 100 ? -4 : ++cl->xid;
	uint32_t len;
	int32_t err;
	fd_put32(&b, 0);
	fd_put32(&b, xid);
	fd_put32(&b, type);
	if (body != NULL)
		fd_bytes_add(&b, body->p, body->len);
	len = (uint32_t)(b.len - 4);
	b.p[0] = (uint8_t)(len >> 24);
	b.p[1] = (uint8_t)(len >> 16);
	b.p[2] = (uint8_t)(len >> 8);
	b.p[3] = (uint8_t)len;
	cl->rx.len = 0;
	fd_send(c, cl, b.p, b.len);
	fd_bytes_free(&b);
	if (cl->open != (type != -11) && !cl->dropped)
		fd_fail("%s connection %s after request type %d", cl->name, cl->open ? "still open" : "closed", type);
	if (cl->dropped)
		return 0; /* taken over by the input: the caller re-connects it */
	if (cl->rx.len < 20 || fd_be32(cl->rx.p) != cl->rx.len - 4)
		fd_fail("%s connection: expected one reply frame to type %d, got %zu bytes", cl->name, type, cl->rx.len);
	if ((int32_t)fd_be32(cl->rx.p + 4) != xid)
		fd_fail("%s connection: reply xid %d, expected %d", cl->name, (int32_t)fd_be32(cl->rx.p + 4), xid);
	c->reply_zxid = (int64_t)fd_be64(cl->rx.p + 8);
	err = (int32_t)fd_be32(cl->rx.p + 16);
	c->reply.len = 0;
	fd_bytes_add(&c->reply, cl->rx.p + 20, cl->rx.len - 20);
	cl->rx.len = 0;
	return err;
}

static void fd_call_ok(struct fd_ctx *c, struct fd_client *cl, int32_t type, const struct fd_bytes *body,
		       const char *what)
{
	int32_t err = fd_call(c, cl, type, body);
	if (err != 0)
		fd_fail("%s connection: %s failed with err %d", cl->name, what, err);
}

static void fd_auth(struct fd_ctx *c, struct fd_client *cl, const char *user_pass)
{
	struct fd_bytes b = {0};
	fd_put32(&b, 0);
	fd_put_str(&b, "digest");
	fd_put_str(&b, user_pass);
	fd_call_ok(c, cl, 100, &b, "auth");
	fd_bytes_free(&b);
}

static void fd_ping(struct fd_ctx *c, struct fd_client *cl)
{
	fd_call_ok(c, cl, 11, NULL, "ping");
	if (cl->dropped)
		return;
	if (c->reply.len != 0)
		fd_fail("%s connection: ping reply has a body", cl->name);
}

/* --- the janitor: puts the tree back as it was --------------------------- */

static bool fd_is_base_path(const char *path)
{
	static const char *const base[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config",
					   FD_CANARY_DIR, FD_CANARY_PATH};
	size_t i;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strcmp(path, base[i]) == 0)
			return true;
	return false;
}

struct fd_names {
	char **v;
	size_t n;
};

static void fd_names_free(struct fd_names *names)
{
	size_t i;
	for (i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	memset(names, 0, sizeof(*names));
}

static bool fd_children(struct fd_ctx *c, const char *path, struct fd_names *out)
{
	struct fd_bytes b = {0};
	int32_t err, count, i;
	size_t off = 4;
	memset(out, 0, sizeof(*out));
	fd_put_str(&b, path);
	fd_bytes_add(&b, "", 1); /* watch = false */
	err = fd_call(c, &c->janitor, 8, &b);
	fd_bytes_free(&b);
	if (err == PD_ENONODE)
		return false;
	if (err != 0 || c->reply.len < 4)
		fd_fail("janitor: getChildren %s failed with err %d", path, err);
	count = (int32_t)fd_be32(c->reply.p);
	if (count < 0)
		fd_fail("janitor: getChildren %s returned count %d", path, count);
	out->v = calloc((size_t)count + 1, sizeof(char *));
	if (out->v == NULL)
		fd_fail("driver out of memory");
	for (i = 0; i < count; i++) {
		uint32_t n;
		if (off + 4 > c->reply.len)
			fd_fail("janitor: truncated getChildren reply for %s", path);
		n = fd_be32(c->reply.p + off);
		off += 4;
		if (n > c->reply.len - off)
			fd_fail("janitor: bad child name length %u under %s", n, path);
		out->v[i] = malloc(n + 1);
		if (out->v[i] == NULL)
			fd_fail("driver out of memory");
		memcpy(out->v[i], c->reply.p + off, n);
		out->v[i][n] = '\0';
		out->n++;
		off += n;
	}
	if (off != c->reply.len)
		fd_fail("janitor: %zu stray bytes after getChildren reply for %s", c->reply.len - off, path);
	return true;
}

static char *fd_join(const char *parent, const char *name)
{
	size_t pl = strlen(parent), nl = strlen(name);
	char *p = malloc(pl + nl + 2);
	if (p == NULL)
		fd_fail("driver out of memory");
	memcpy(p, parent, pl);
	if (pl != 1) /* not the root */
		p[pl++] = '/';
	memcpy(p + pl, name, nl + 1);
	return p;
}

static uint32_t fd_delete_tree(struct fd_ctx *c, const char *path, unsigned depth)
{
	struct fd_names kids;
	struct fd_bytes b = {0};
	uint32_t removed = 0;
	size_t i;
	int32_t err;
	if (depth > 10000)
		fd_fail("janitor: tree deeper than 10000 at %s", path);
	if (fd_children(c, path, &kids)) {
		for (i = 0; i < kids.n; i++) {
			char *child = fd_join(path, kids.v[i]);
			removed += fd_delete_tree(c, child, depth + 1);
			free(child);
		}
		fd_names_free(&kids);
	}
	fd_put_str(&b, path);
	fd_put32(&b, -1);
	err = fd_call(c, &c->janitor, 2, &b);
	fd_bytes_free(&b);
	if (err != 0 && err != PD_ENONODE)
		fd_fail("janitor: delete %s failed with err %d", path, err);
	return removed + (err == 0);
}

static uint32_t fd_clean_under(struct fd_ctx *c, const char *path)
{
	struct fd_names kids;
	uint32_t removed = 0;
	size_t i;
	if (!fd_children(c, path, &kids))
		fd_fail("janitor: built-in znode %s is gone", path);
	for (i = 0; i < kids.n; i++) {
		char *child = fd_join(path, kids.v[i]);
		if (fd_is_base_path(child)) {
			if (strcmp(child, FD_CANARY_DIR) != 0) /* nobody else may write there */
				removed += fd_clean_under(c, child);
		} else {
			removed += fd_delete_tree(c, child, 1);
		}
		free(child);
	}
	fd_names_free(&kids);
	return removed;
}

/* Reads a node's stat with exists(); returns false if missing. */
static bool fd_stat(struct fd_ctx *c, struct fd_client *cl, const char *path, uint8_t stat[68])
{
	struct fd_bytes b = {0};
	int32_t err;
	fd_put_str(&b, path);
	fd_bytes_add(&b, "", 1);
	err = fd_call(c, cl, 3, &b);
	fd_bytes_free(&b);
	if (err == PD_ENONODE)
		return false;
	if (err != 0 || c->reply.len != 68)
		fd_fail("%s: exists %s: err %d, %zu bytes", cl->name, path, err, c->reply.len);
	memcpy(stat, c->reply.p, 68);
	return true;
}

static void fd_record_base_node(struct fd_ctx *c, struct fd_base_node *bn)
{
	struct fd_bytes b = {0};
	int32_t n;
	fd_put_str(&b, bn->path);
	fd_bytes_add(&b, "", 1);
	fd_call_ok(c, &c->janitor, 4, &b, "getData");
	n = (int32_t)fd_be32(c->reply.p);
	bn->data_null = n < 0;
	bn->data.len = 0;
	fd_bytes_add(&bn->data, c->reply.p + 4, n < 0 ? 0 : (size_t)n);
	bn->version = (int32_t)fd_be32(c->reply.p + 4 + (n < 0 ? 0 : n) + 32);
	b.len = 0;
	fd_put_str(&b, bn->path);
	fd_call_ok(c, &c->janitor, 6, &b, "getACL");
	bn->acl.len = 0;
	fd_bytes_add(&bn->acl, c->reply.p, c->reply.len - 68);
	bn->aversion = (int32_t)fd_be32(c->reply.p + c->reply.len - 68 + 40);
	fd_bytes_free(&b);
}

/* Root and /zookeeper are world-writable, as in ZooKeeper: put back their
 * data and ACL if the input changed them. */
static void fd_restore_base_node(struct fd_ctx *c, struct fd_base_node *bn)
{
	uint8_t st[68];
	struct fd_bytes b = {0};
	if (!fd_stat(c, &c->janitor, bn->path, st))
		fd_fail("built-in znode %s was deleted", bn->path);
	if ((int32_t)fd_be32(st + 32) != bn->version) {
		fd_put_str(&b, bn->path);
		if (bn->data_null)
			fd_put32(&b, -1);
		else
			fd_put_buf(&b, bn->data.p, bn->data.len);
		fd_put32(&b, -1);
		fd_call_ok(c, &c->janitor, 5, &b, "setData (restore)");
		bn->version = (int32_t)fd_be32(c->reply.p + 32);
		b.len = 0;
	}
	if ((int32_t)fd_be32(st + 40) != bn->aversion) {
		fd_put_str(&b, bn->path);
		fd_bytes_add(&b, bn->acl.p, bn->acl.len);
		fd_put32(&b, -1);
		fd_call_ok(c, &c->janitor, 7, &b, "setACL (restore)");
		bn->aversion = (int32_t)fd_be32(c->reply.p + 40);
	}
	fd_bytes_free(&b);
}

/* --- helper sessions ------------------------------------------------------ */

static void fd_digest_acl(struct fd_bytes *b, const char *user_pass)
{
	char id[256];
	size_t n = pd_acl_digest_id((const uint8_t *)user_pass, strlen(user_pass), id, sizeof(id));
	fd_put32(b, 1);  /* one ACL */
	fd_put32(b, 31); /* ALL */
	fd_put_str(b, "digest");
	fd_put_buf(b, id, n);
}

static void fd_connect_helpers(struct fd_ctx *c, bool canary, bool janitor)
{
	if (janitor) {
		fd_open(c, &c->janitor, "127.0.0.1");
		fd_handshake(c, &c->janitor, FD_HELPER_TIMEOUT_MS, false);
		fd_auth(c, &c->janitor, FD_SUPER_AUTH);
	}
	if (canary) {
		fd_open(c, &c->canary, "127.0.0.1");
		fd_handshake(c, &c->canary, FD_HELPER_TIMEOUT_MS, false);
		fd_auth(c, &c->canary, FD_CANARY_AUTH);
	}
}

static void fd_get_canary(struct fd_ctx *c, const char *path, uint8_t stat[68], bool with_data)
{
	struct fd_bytes b = {0};
	size_t dlen = with_data ? sizeof(fd_canary_data) : 0;
	fd_put_str(&b, path);
	fd_bytes_add(&b, "", 1);
	fd_call_ok(c, &c->canary, 4, &b, "getData of the canary");
	fd_bytes_free(&b);
	if (c->reply.len != 4 + dlen + 68 || fd_be32(c->reply.p) != dlen ||
	    memcmp(c->reply.p + 4, fd_canary_data, dlen) != 0)
		fd_fail("canary %s: data changed (%zu byte reply)", path, c->reply.len);
	memcpy(stat, c->reply.p + 4 + dlen, 68);
}

static void fd_check_canary(struct fd_ctx *c)
{
	uint8_t st[68], dir_st[68];
	fd_get_canary(c, FD_CANARY_PATH, st, true);
	fd_get_canary(c, FD_CANARY_DIR, dir_st, false);
	if (memcmp(st, c->canary_stat, 68) != 0)
		fd_fail("canary %s: stat changed", FD_CANARY_PATH);
	if (memcmp(dir_st, c->canary_dir_stat, 68) != 0)
		fd_fail("canary %s: stat changed", FD_CANARY_DIR);
	c->canary_checks++;
}

static void fd_check_counts(struct fd_ctx *c, const char *when)
{
	struct pd_node_stats s;
	pd_node_get_stats(c->node, &s);
	if (s.connection_count != c->base.connection_count || s.session_count != c->base.session_count ||
	    s.znode_count != c->base.znode_count || s.ephemeral_count != c->base.ephemeral_count ||
	    s.watch_count != c->base.watch_count)
		fd_fail("%s: state not back to baseline: connections %llu/%llu sessions %llu/%llu znodes %llu/%llu "
			"ephemerals %llu/%llu watches %llu/%llu (now/baseline)",
			when, (unsigned long long)s.connection_count, (unsigned long long)c->base.connection_count,
			(unsigned long long)s.session_count, (unsigned long long)c->base.session_count,
			(unsigned long long)s.znode_count, (unsigned long long)c->base.znode_count,
			(unsigned long long)s.ephemeral_count, (unsigned long long)c->base.ephemeral_count,
			(unsigned long long)s.watch_count, (unsigned long long)c->base.watch_count);
	if (s.mem_used_bytes != c->live_bytes)
		fd_fail("%s: pd_node_get_stats reports %llu bytes in use, the allocator saw %llu", when,
			(unsigned long long)s.mem_used_bytes, (unsigned long long)c->live_bytes);
}

struct fd_ctx *fd_create(const struct fd_opts *opts)
{
	struct fd_ctx *c = calloc(1, sizeof(*c));
	struct pd_config cfg;
	struct pd_allocator allocator;
	struct fd_bytes b = {0};
	char errmsg[256], id[256];
	size_t n, i;
	int rc;
	if (c == NULL)
		fd_fail("driver out of memory");
	pd_assert_set_hook(fd_assert_hook);
	c->opts = *opts;
	c->trace = getenv("PD_FUZZ_TRACE") != NULL && atoi(getenv("PD_FUZZ_TRACE")) != 0;
	if (c->opts.canary_every == 0)
		c->opts.canary_every = 1;
	c->now_ms = 1000000;
	c->wall_ms = 1700000000000LL;
	c->next_port = 30000;
	c->canary.name = "canary";
	c->canary.conn = FD_CONN_CANARY;
	c->janitor.name = "janitor";
	c->janitor.conn = FD_CONN_JANITOR;
	c->fuzz.name = "fuzzed";
	c->fuzz.conn = FD_CONN_FUZZ;

	pd_config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "/nonexistent/paddock-fuzz");
	cfg.tick_ms = FD_TICK_MS;
	/* every word but dirs and hash, so the whitelist refusal is reachable too */
	cfg.fourlw_whitelist = PD_4LW_ALL & ~(uint32_t)(PD_4LW_DIRS | PD_4LW_HASH);
	cfg.extended_types = true;
	cfg.container_check_interval_ms = 5000;
	n = pd_acl_digest_id((const uint8_t *)FD_SUPER_AUTH, strlen(FD_SUPER_AUTH), id, sizeof(id));
	snprintf(cfg.super_digest, sizeof(cfg.super_digest), "%.*s", (int)n, id);
	snprintf(cfg.sasl_users[0].name, sizeof(cfg.sasl_users[0].name), "fuzz");
	snprintf(cfg.sasl_users[0].password, sizeof(cfg.sasl_users[0].password), "fuzz");
	cfg.sasl_user_count = 1;
	if (pd_config_finish(&cfg, errmsg, sizeof(errmsg)) != 0)
		fd_fail("pd_config_finish: %s", errmsg);
	allocator.alloc = fd_alloc;
	allocator.free = fd_free;
	allocator.ctx = c;
	rc = pd_node_create(&cfg, allocator, c->now_ms, c->wall_ms, &c->node, errmsg, sizeof(errmsg));
	if (rc != 0)
		fd_fail("pd_node_create: %s", errmsg);

	fd_connect_helpers(c, true, true);
	/* /pdfuzz and /pdfuzz/canary: only the canary's identity may touch them. */
	fd_put_str(&b, FD_CANARY_DIR);
	fd_put32(&b, 0);
	fd_digest_acl(&b, FD_CANARY_AUTH);
	fd_put32(&b, 0);
	fd_call_ok(c, &c->canary, 1, &b, "create " FD_CANARY_DIR);
	b.len = 0;
	fd_put_str(&b, FD_CANARY_PATH);
	fd_put_buf(&b, fd_canary_data, sizeof(fd_canary_data));
	fd_digest_acl(&b, FD_CANARY_AUTH);
	fd_put32(&b, 0);
	fd_call_ok(c, &c->canary, 1, &b, "create " FD_CANARY_PATH);
	fd_bytes_free(&b);
	fd_get_canary(c, FD_CANARY_PATH, c->canary_stat, true);
	fd_get_canary(c, FD_CANARY_DIR, c->canary_dir_stat, false);

	c->base_nodes[0].path = "/";
	c->base_nodes[1].path = "/zookeeper";
	c->base_nodes[2].path = "/zookeeper/quota";
	for (i = 0; i < 3; i++)
		fd_record_base_node(c, &c->base_nodes[i]);
	pd_effects_free(c->node, &c->fx);
	pd_node_get_stats(c->node, &c->base);
	fd_check_counts(c, "after setup");
	return c;
}

uint64_t fd_mem_in_use(const struct fd_ctx *c)
{
	return c->live_bytes;
}

void fd_destroy(struct fd_ctx *c)
{
	struct pd_node_stats s;
	fd_check_canary(c);
	fd_call(c, &c->canary, -11, NULL);
	fd_call(c, &c->janitor, -11, NULL);
	pd_node_get_stats(c->node, &s);
	if (s.session_count != 0 || s.connection_count != 0)
		fd_fail("after closing the helper sessions: %llu sessions, %llu connections",
			(unsigned long long)s.session_count, (unsigned long long)s.connection_count);
	pd_effects_free(c->node, &c->fx);
	pd_node_destroy(c->node);
	if (c->live_bytes != 0)
		fd_fail("pd_node_destroy left %llu bytes allocated", (unsigned long long)c->live_bytes);
	fd_bytes_free(&c->canary.rx);
	fd_bytes_free(&c->janitor.rx);
	fd_bytes_free(&c->fuzz.rx);
	fd_bytes_free(&c->reply);
	fd_bytes_free(&c->stream);
	for (size_t i = 0; i < 3; i++) {
		fd_bytes_free(&c->base_nodes[i].data);
		fd_bytes_free(&c->base_nodes[i].acl);
	}
	free(c);
}

/* --- one input -------------------------------------------------------------- */

/* What the driver expects from the request stream, parsed like the core frames it. */
struct fd_expect {
	bool fourlw;         /* the data starts with a four-letter word or telnet interrupt */
	bool has_connect;    /* without handshake: a complete ConnectRequest frame */
	uint32_t requests;   /* complete request frames after the ConnectRequest */
	int32_t xids[256];   /* expected reply xid of the first 256 of them */
};

static bool fd_is_fourlw(const uint8_t *p)
{
	static const uint8_t telnet[4] = {0xff, 0xf4, 0xff, 0xfd};
	char word[4];
	memcpy(word, p, 4);
	return memcmp(p, telnet, 4) == 0 || pd_config_fourlw_bit(word) != 0;
}

static void fd_parse_requests(const uint8_t *p, size_t len, bool ready, struct fd_expect *x)
{
	size_t off = 0;
	memset(x, 0, sizeof(*x));
	if (!ready && len >= 4 && fd_is_fourlw(p)) {
		x->fourlw = true;
		return;
	}
	while (len - off >= 4) {
		int32_t flen = (int32_t)fd_be32(p + off);
		int32_t xid, type;
		if (flen < 0 || (uint32_t)flen > FD_FRAME_MAX || len - off - 4 < (size_t)flen)
			return;
		if (!ready) {
			x->has_connect = true;
			ready = true;
			off += 4 + (size_t)flen;
			continue;
		}
		if (flen < 8)
			return; /* no RequestHeader: the core closes */
		xid = (int32_t)fd_be32(p + off + 4);
		type = (int32_t)fd_be32(p + off + 8);
		if (x->requests < sizeof(x->xids) / sizeof(x->xids[0]))
			x->xids[x->requests] = type == 11 ? -2 : xid; /* wire-protocol.md 4.2 */
		x->requests++;
		off += 4 + (size_t)flen;
	}
}

static bool fd_err_known(int32_t err)
{
	static const int32_t sent[] = {0,    -2,   -5,   -6,   -8,   -13,  -14,  -101, -102, -103, -108, -110,
				       -111, -112, -114, -115, -119, -120, -121, -123, -124, -125, -127};
	size_t i;
	for (i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
		if (sent[i] == err)
			return true;
	return false;
}

/* Checks the bytes the core sent to the fuzzed connection against the
 * requests it was sent. */
/* A malformed answer is fatal while fuzzing; the replay test reports it
 * against the input and goes on (opts.soft_output). */
static bool fd_violation(struct fd_ctx *c, struct fd_outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fd_violation(struct fd_ctx *c, struct fd_outcome *o, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(o->violation)];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->opts.soft_output)
		fd_fail("%s", msg);
	if (o->violation[0] == '\0')
		snprintf(o->violation, sizeof(o->violation), "%s", msg);
	return false;
}

static bool fd_check_output(struct fd_ctx *c, const uint8_t *p, size_t len, bool handshake,
			    const struct fd_expect *x, struct fd_outcome *o)
{
	size_t off = 0;
	int64_t last_zxid = 0;
	bool strict = !c->fault_active;
	bool connect_pending = !handshake;
	bool unimplemented = false;
	if (x->fourlw) {
		o->fourlw = true; /* raw text, no frames */
		return true;
	}
	while (off < len) {
		uint32_t flen;
		int32_t xid, err;
		int64_t zxid;
		if (len - off < 4)
			return fd_violation(c, o, "output: %zu stray bytes at the end", len - off);
		flen = fd_be32(p + off);
		if (flen > FD_FRAME_MAX || len - off - 4 < flen)
			return fd_violation(c, o, "output: frame of %u bytes at offset %zu (%zu left)", flen, off, len - off - 4);
		if (unimplemented)
			return fd_violation(c, o, "output: a frame follows the UNIMPLEMENTED reply");
		if (connect_pending) {
			int32_t timeout;
			if (flen != 36 && flen != 37)
				return fd_violation(c, o, "output: ConnectResponse payload of %u bytes (must be 36 or 37)", flen);
			timeout = (int32_t)fd_be32(p + off + 8);
			if (fd_be32(p + off + 20) != 16)
				return fd_violation(c, o, "output: ConnectResponse passwd is not 16 bytes");
			if (timeout == 0) {
				static const uint8_t zero[16];
				o->connect_rejected = true;
				if (fd_be64(p + off + 12) != 0 || memcmp(p + off + 24, zero, 16) != 0)
					return fd_violation(c, o, "output: invalid-session answer with a session id or password");
				if (!o->closed_in_feed && strict)
					return fd_violation(c, o, "output: invalid-session answer but the connection stays open");
				if (off + 4 + flen != len)
					return fd_violation(c, o, "output: frames after the invalid-session answer");
			} else {
				o->connect_valid = true;
				if (timeout < 2 * FD_TICK_MS || timeout > 20 * FD_TICK_MS)
					return fd_violation(c, o, "output: negotiated timeout %d outside [%d, %d]", timeout, 2 * FD_TICK_MS,
						20 * FD_TICK_MS);
			}
			connect_pending = false;
			off += 4 + flen;
			continue;
		}
		if (flen < 16)
			return fd_violation(c, o, "output: reply frame of %u bytes", flen);
		xid = (int32_t)fd_be32(p + off + 4);
		zxid = (int64_t)fd_be64(p + off + 8);
		err = (int32_t)fd_be32(p + off + 16);
		if (xid == -1 && zxid == -1 && err == 0) {
			/* notification: WatcherEvent{type, state, path} */
			if (flen >= 28 && fd_be32(p + off + 28) == 0xffffffffu)
				return fd_violation(c, o, "output: notification (type %d) with a null path: "
					"wire-protocol.md 1.2 forbids null ustrings in replies",
					(int32_t)fd_be32(p + off + 20));
			if (flen < 28 || fd_be32(p + off + 28) != flen - 28)
				return fd_violation(c, o, "output: malformed notification of %u bytes", flen);
			o->notifications++;
			off += 4 + flen;
			continue;
		}
		if (o->errs_count < FD_ERRS_MAX)
			o->errs[o->errs_count++] = err;
		/* Even out of memory, only ZooKeeper's codes (or -1) may reach the wire. */
		if (!strict && err != -1 && !fd_err_known(err))
			return fd_violation(c, o, "output: reply %u (xid %d) carries err %d, not a ZooKeeper error code",
					    o->replies, xid, err);
		if (strict) {
			if (!fd_err_known(err))
				return fd_violation(c, o, "output: reply %u (xid %d) carries err %d, which ZooKeeper never sends", o->replies,
					xid, err);
			if (err != 0 && flen != 16)
				return fd_violation(c, o, "output: error reply %d (xid %d) has a %u-byte body", err, xid, flen - 16);
			if (o->replies >= x->requests)
				return fd_violation(c, o, "output: reply %u (xid %d) but only %u requests were sent", o->replies, xid,
					x->requests);
			if (o->replies < sizeof(x->xids) / sizeof(x->xids[0]) && xid != x->xids[o->replies])
				return fd_violation(c, o, "output: reply %u has xid %d, expected %d", o->replies, xid, x->xids[o->replies]);
			if (zxid > 0 && zxid < last_zxid)
				return fd_violation(c, o, "output: reply %u zxid went back from %lld to %lld", o->replies,
					(long long)last_zxid, (long long)zxid);
		}
		if (zxid > last_zxid)
			last_zxid = zxid;
		if (err == -6 && zxid == -1) {
			unimplemented = true;
			if (!o->closed_in_feed && strict)
				return fd_violation(c, o, "output: UNIMPLEMENTED reply (xid %d) but the connection stays open", xid);
		}
		o->replies++;
		off += 4 + flen;
	}
	if (!strict || o->closed_in_feed)
		return true;
	if (!handshake && !x->has_connect)
		return true;
	if (!handshake && !o->connect_valid)
		return fd_violation(c, o, "output: a complete ConnectRequest got no answer and the connection stays open");
	if (o->replies != x->requests)
		return fd_violation(c, o, "output: %u complete requests but %u replies, and the connection stays open", x->requests,
			o->replies);
	return true;
}

static uint32_t fd_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void fd_feed(struct fd_ctx *c, const uint8_t *p, size_t len, uint8_t flags, uint8_t chunk)
{
	size_t off = 0;
	uint32_t seed = 0x9e3779b9u ^ chunk ^ ((uint32_t)len << 8);
	while (off < len && c->fuzz.open) {
		size_t n = len - off;
		if (chunk > 0 && chunk < 128)
			n = chunk;
		else if (chunk >= 128)
			n = 1 + fd_rand(&seed) % ((size_t)(chunk & 127) + 1);
		if (n > len - off)
			n = len - off;
		fd_send(c, &c->fuzz, p + off, n);
		off += n;
		if (flags & FD_F_TICKS)
			fd_tick(c, 250);
	}
	if (off < len && !c->fuzz.closed_by_core && !c->out->enomem)
		fd_fail("feed stopped with the connection closed but no close effect");
}

/* FD_F_SASL: asks for a challenge, then frames the data as the response token. */
static void fd_sasl_stream(struct fd_ctx *c, const uint8_t *p, size_t len)
{
	struct fd_bytes body = {0}, tok = {0};
	const uint8_t *nonce, *end;
	size_t i, nonce_len;
	uint32_t flen;
	fd_put32(&body, 0); /* empty initial token */
	fd_call_ok(c, &c->fuzz, 102, &body, "sasl (challenge)");
	if (c->reply.len < 4)
		fd_fail("sasl challenge reply of %zu bytes", c->reply.len);
	fd_bytes_add(&c->reply, "", 1); /* NUL-terminate the token text */
	nonce = (const uint8_t *)strstr((const char *)c->reply.p + 4, "nonce=\"");
	if (nonce == NULL)
		fd_fail("sasl challenge without a nonce");
	nonce += 7;
	end = (const uint8_t *)strchr((const char *)nonce, '"');
	if (end == NULL)
		fd_fail("sasl challenge with an unterminated nonce");
	nonce_len = (size_t)(end - nonce);
	for (i = 0; i < len; i++) {
		if (p[i] == '@' && i + 1 < len && p[i + 1] == 'N') {
			fd_bytes_add(&tok, nonce, nonce_len);
			i++;
		} else {
			fd_bytes_add(&tok, p + i, 1);
		}
	}
	c->stream.len = 0;
	flen = (uint32_t)(8 + 4 + tok.len);
	fd_put32(&c->stream, (int32_t)flen);
	fd_put32(&c->stream, ++c->fuzz.xid);
	fd_put32(&c->stream, 102);
	fd_put_buf(&c->stream, tok.p, tok.len);
	fd_bytes_free(&tok);
	fd_bytes_free(&body);
	c->fuzz.rx.len = 0;
}

/* FD_F_REATTACH: a ConnectRequest for the canary's session, then the data. */
static void fd_reattach_stream(struct fd_ctx *c, const uint8_t *p, size_t len)
{
	c->stream.len = 0;
	fd_put32(&c->stream, 45);
	fd_put32(&c->stream, 0);
	fd_put64(&c->stream, 0);
	fd_put32(&c->stream, FD_FUZZ_TIMEOUT_MS);
	fd_put64(&c->stream, c->canary.session_id);
	fd_put_buf(&c->stream, c->canary.passwd, sizeof(c->canary.passwd));
	fd_bytes_add(&c->stream, "", 1);
	fd_bytes_add(&c->stream, p, len);
}

/* After an injected failure made pd_step return PD_ENOMEM, the core may have
 * forgotten a helper connection whose PD_FX_CLOSE it could not record (e.g. the
 * one the input's ConnectRequest took a session from).  A forgotten connection
 * ignores its data, so a ping shows it. */
static void fd_find_lost_closes(struct fd_ctx *c, struct fd_outcome *o)
{
	static const uint8_t ping[12] = {0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11};
	struct fd_client *helpers[2] = {&c->canary, &c->janitor};
	struct pd_node_stats s;
	unsigned i, mine = (unsigned)c->canary.open + (unsigned)c->janitor.open + (unsigned)c->fuzz.open;
	c->enomem_pending = false;
	pd_node_get_stats(c->node, &s);
	if (s.connection_count >= mine)
		return;
	for (i = 0; i < 2; i++) {
		struct fd_client *cl = helpers[i];
		if (!cl->open)
			continue;
		cl->rx.len = 0;
		fd_send(c, cl, ping, sizeof(ping));
		if (cl->rx.len != 0) {
			cl->rx.len = 0;
			continue;
		}
		cl->open = false;
		cl->dropped = true; /* reconnected after the input */
		(void)fd_violation(c, o, "pd_step returned PD_ENOMEM and the core forgot the %s connection "
			"without a PD_FX_CLOSE (the effect was lost)", cl->name);
	}
}

/* A PD_FX_CLOSE the core could not record for lack of memory (say, of the
 * helper connection whose session the input took over) is kept and emitted at
 * the core's next step, whichever event that is.  One bare tick right after
 * the input, while the input is still known, lets that close arrive where the
 * driver can tell it apart from output that a helper must never get. */
static void fd_settle(struct fd_ctx *c)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_TICK;
	(void)fd_step(c, &ev);
}

static uint64_t fd_run_once(struct fd_ctx *c, const uint8_t *data, size_t len, struct fd_outcome *o)
{
	uint8_t flags = len > 0 ? data[0] : 0;
	uint8_t chunk = len > 1 ? data[1] : 0;
	uint8_t fault = len > 2 ? data[2] : 0;
	const uint8_t *p = len > FD_HDR_BYTES ? data + FD_HDR_BYTES : data + len;
	size_t plen = len > FD_HDR_BYTES ? len - FD_HDR_BYTES : 0;
	bool handshake = (flags & FD_F_HANDSHAKE) != 0;
	struct fd_expect x;
	struct pd_node_stats s;
	unsigned i;

	memset(o, 0, sizeof(*o));
	c->out = o;
	c->inputs++;

	/* the fuzzed connection, possibly with a valid session first */
	fd_open(c, &c->fuzz, "10.9.8.7");
	if (handshake) {
		fd_handshake(c, &c->fuzz, FD_FUZZ_TIMEOUT_MS, (flags & FD_F_OLD_CLIENT) != 0);
		if (flags & FD_F_AUTH)
			fd_auth(c, &c->fuzz, FD_FUZZ_AUTH);
		c->fuzz.rx.len = 0;
		if (flags & FD_F_SASL) {
			fd_sasl_stream(c, p, plen);
			p = c->stream.p;
			plen = c->stream.len;
		}
	} else if (flags & FD_F_REATTACH) {
		fd_reattach_stream(c, p, plen);
		p = c->stream.p;
		plen = c->stream.len;
	}

	/* feed the untrusted bytes */
	c->in = p;
	c->in_len = plen;
	if ((flags & FD_F_FAULT) && fault != 0) {
		c->fault_active = true;
		if (fault & 0x80)
			pd_node_io_mem(c->node)->fail_countdown = fault & 0x7f;
		else
			pd_node_mem(c->node)->fail_countdown = fault;
	}
	/* FD_F_FAULT with fault byte 0: nothing the input logs becomes
	 * durable; after the feed the log fails (every pending write is
	 * refused with NOTREADONLY) and comes back. */
	c->hold_durable = (flags & FD_F_FAULT) && fault == 0;
	fd_feed(c, p, plen, flags, chunk);
	if (c->hold_durable) {
		struct pd_event ev;
		c->hold_durable = false;
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_LOG_FAILED;
		(void)fd_step(c, &ev);
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_LOG_OK;
		(void)fd_step(c, &ev);
	}
	pd_node_mem(c->node)->fail_countdown = 0;
	pd_node_io_mem(c->node)->fail_countdown = 0;
	if (c->fault_active)
		fd_settle(c);
	if (c->enomem_pending)
		fd_find_lost_closes(c, o);
	o->closed_in_feed = !c->fuzz.open && c->fuzz.closed_by_core;
	o->bytes_out = c->fuzz.rx.len;
	fd_parse_requests(p, plen, handshake, &x);
	o->requests = x.requests;
	(void)fd_check_output(c, c->fuzz.rx.p, c->fuzz.rx.len, handshake, &x, o);
	if ((flags & FD_F_PEER_CLOSE) && c->fuzz.open)
		fd_close(c, &c->fuzz);

	/* let time pass: the core must close the connection (no ConnectRequest,
	 * or an idle session) and expire any session the input created */
	pd_node_get_stats(c->node, &s);
	for (i = 0; i < 12 && (c->fuzz.open || s.session_count != c->base.session_count ||
			       c->canary.dropped || c->janitor.dropped); i++) {
		fd_tick(c, 5000);
		pd_node_get_stats(c->node, &s);
		if (!c->fuzz.open && (c->canary.dropped || c->janitor.dropped) &&
		    s.session_count + c->canary.dropped + c->janitor.dropped == c->base.session_count)
			break;
	}
	c->in = NULL;
	c->in_len = 0;
	c->fault_active = false;
	if (c->fuzz.open)
		fd_fail("the core never closed the fuzzed connection (%s)",
			handshake ? "idle session never expired" : "no ConnectRequest, never dropped");
	o->closed_by_core = c->fuzz.closed_by_core;
	if (c->canary.dropped || c->janitor.dropped) {
		o->hijack = true;
		c->hijacks++;
		fd_connect_helpers(c, c->canary.dropped, c->janitor.dropped);
	}

	/* put the tree back and check the rest of the server is untouched */
	fd_clean_under(c, "/");
	for (i = 0; i < 3; i++)
		fd_restore_base_node(c, &c->base_nodes[i]);
	if (c->inputs % c->opts.canary_every == 0 || o->hijack)
		fd_check_canary(c);
	pd_effects_free(c->node, &c->fx);
	fd_check_counts(c, "after the input");
	c->out = NULL;
	return c->live_bytes;
}

void fd_run(struct fd_ctx *c, const uint8_t *data, size_t len, struct fd_outcome *out)
{
	struct fd_outcome again;
	uint64_t m1, m2, m3;
	m1 = fd_run_once(c, data, len, out);
	if (!c->opts.leak_check)
		return;
	/* The first run may grow tables; a leak grows memory on every run. */
	m2 = fd_run_once(c, data, len, &again);
	if (m2 <= m1)
		return;
	m3 = fd_run_once(c, data, len, &again);
	if (m3 > m2)
		fd_fail("memory leak: %llu, %llu, then %llu bytes in use after running the same input 3 times",
			(unsigned long long)m1, (unsigned long long)m2, (unsigned long long)m3);
}
