/* zkc.c: the sans-I/O ZooKeeper client of zkc.h. */
#include "zkc.h"

#include <stdlib.h>
#include <string.h>

#define ZKC_XID_NOTIFICATION (-1)
#define ZKC_XID_PING (-2)
#define ZKC_XID_SETWATCHES (-8)
#define ZKC_OP_CREATE 1
#define ZKC_OP_DELETE 2
#define ZKC_OP_EXISTS 3
#define ZKC_OP_GETDATA 4
#define ZKC_OP_SETDATA 5
#define ZKC_OP_SYNC 9
#define ZKC_OP_MULTI 14
#define ZKC_OP_PING 11
#define ZKC_OP_GETCHILDREN2 12
#define ZKC_OP_SETWATCHES 101
#define ZKC_OP_CREATECONTAINER 19
#define ZKC_OP_SETWATCHES2 105
#define ZKC_OP_ADDWATCH 106
#define ZKC_OP_CLOSESESSION (-11)
#define ZKC_ERR_NONODE (-101)
#define ZKC_FRAME_MAX (16u << 20)

struct zkc_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

struct zkc_req {
	int32_t xid;
	int32_t op;
	bool watch;
	int32_t add_mode; /* addWatch: its mode; -1 otherwise */
	char *path;
	uint8_t *frame; /* kept until sent, for requests made while connecting */
	size_t frame_len;
};

struct zkc_set {
	char **paths;
	size_t count;
	size_t cap;
};

struct zkc_item {
	struct zkc_result r;
	struct zkc_event e;
	uint8_t *body;
};

struct zkc_queue {
	struct zkc_item *items;
	size_t head;
	size_t count;
	size_t cap;
};

struct zkc {
	enum zkc_state state;
	uint32_t server_count;
	uint32_t server;
	bool transport;   /* a transport is up */
	bool handshaking; /* ConnectRequest sent, no ConnectResponse yet */
	int32_t timeout_ms;
	int64_t session_id;
	uint8_t passwd[16];
	int64_t last_zxid;
	int32_t next_xid;
	uint64_t last_send_ms;
	uint64_t last_recv_ms; /* the transport's last sign of life */
	struct zkc_buf out;
	struct zkc_buf in;
	struct zkc_req *waiting; /* made while not connected: sent after the handshake */
	size_t waiting_count;
	size_t waiting_cap;
	struct zkc_req *flight; /* sent, in order */
	size_t flight_head;
	size_t flight_count;
	size_t flight_cap;
	struct zkc_set data_w, exist_w, child_w;
	struct zkc_set persist_w, recursive_w; /* addWatch: kept until the session ends */
	struct zkc_queue results;
	struct zkc_queue events;
	uint8_t *last_body;
};

/* --- buffers and encoding --- */

static void zkc_add(struct zkc_buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void zkc_i32(struct zkc_buf *b, int32_t v)
{
	uint8_t x[4] = {(uint8_t)((uint32_t)v >> 24), (uint8_t)((uint32_t)v >> 16), (uint8_t)((uint32_t)v >> 8),
			(uint8_t)v};
	zkc_add(b, x, 4);
}

static void zkc_i64(struct zkc_buf *b, int64_t v)
{
	zkc_i32(b, (int32_t)((uint64_t)v >> 32));
	zkc_i32(b, (int32_t)(uint32_t)v);
}

static void zkc_bytes(struct zkc_buf *b, const void *p, size_t len)
{
	zkc_i32(b, (int32_t)len);
	zkc_add(b, p, len);
}

static void zkc_str(struct zkc_buf *b, const char *s)
{
	zkc_bytes(b, s, strlen(s));
}

static uint32_t zkc_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t zkc_be64(const uint8_t *p)
{
	return (uint64_t)zkc_be32(p) << 32 | zkc_be32(p + 4);
}

static void zkc_patch_len(struct zkc_buf *b, size_t at)
{
	uint32_t n = (uint32_t)(b->len - at - 4);
	b->p[at] = (uint8_t)(n >> 24);
	b->p[at + 1] = (uint8_t)(n >> 16);
	b->p[at + 2] = (uint8_t)(n >> 8);
	b->p[at + 3] = (uint8_t)n;
}

/* --- watch sets --- */

static bool zkc_set_has(const struct zkc_set *s, const char *path)
{
	size_t i;
	for (i = 0; i < s->count; i++)
		if (strcmp(s->paths[i], path) == 0)
			return true;
	return false;
}

static void zkc_set_add(struct zkc_set *s, const char *path)
{
	if (zkc_set_has(s, path))
		return;
	if (s->count == s->cap) {
		s->cap = s->cap == 0 ? 8 : s->cap * 2;
		s->paths = realloc(s->paths, s->cap * sizeof(char *));
		if (s->paths == NULL)
			abort();
	}
	s->paths[s->count] = strdup(path);
	if (s->paths[s->count] == NULL)
		abort();
	s->count++;
}

static void zkc_set_del(struct zkc_set *s, const char *path)
{
	size_t i;
	for (i = 0; i < s->count; i++)
		if (strcmp(s->paths[i], path) == 0) {
			free(s->paths[i]);
			s->paths[i] = s->paths[--s->count];
			return;
		}
}

static void zkc_set_free(struct zkc_set *s)
{
	size_t i;
	for (i = 0; i < s->count; i++)
		free(s->paths[i]);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}

/* --- queues of results and events --- */

static struct zkc_item *zkc_push(struct zkc_queue *q)
{
	struct zkc_item *it;
	if (q->count == q->cap) {
		size_t cap = q->cap == 0 ? 16 : q->cap * 2, i;
		struct zkc_item *fresh = malloc(cap * sizeof(*fresh));
		if (fresh == NULL)
			abort();
		for (i = 0; i < q->count; i++)
			fresh[i] = q->items[(q->head + i) % q->cap];
		free(q->items);
		q->items = fresh;
		q->cap = cap;
		q->head = 0;
	}
	it = &q->items[(q->head + q->count++) % q->cap];
	memset(it, 0, sizeof(*it));
	return it;
}

static void zkc_result_add(struct zkc *c, int32_t xid, int32_t op, int32_t err, int64_t zxid, const uint8_t *body,
			   size_t len)
{
	struct zkc_item *it = zkc_push(&c->results);
	it->r.xid = xid;
	it->r.op = op;
	it->r.err = err;
	it->r.zxid = zxid;
	if (len > 0) {
		it->body = malloc(len);
		if (it->body == NULL)
			abort();
		memcpy(it->body, body, len);
	}
	it->r.body_len = len;
}

/* --- the client --- */

struct zkc *zkc_new(uint32_t server_count, int32_t session_timeout_ms, uint64_t now_ms)
{
	struct zkc *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->state = ZKC_CONNECTING;
	c->server_count = server_count > 0 ? server_count : 1;
	c->timeout_ms = session_timeout_ms;
	c->next_xid = 1;
	c->last_send_ms = now_ms;
	return c;
}

static void zkc_req_free(struct zkc_req *r)
{
	free(r->path);
	free(r->frame);
}

void zkc_free(struct zkc *c)
{
	size_t i;
	struct zkc_item it;
	if (c == NULL)
		return;
	for (i = 0; i < c->waiting_count; i++)
		zkc_req_free(&c->waiting[i]);
	for (i = 0; i < c->flight_count; i++)
		zkc_req_free(&c->flight[(c->flight_head + i) % c->flight_cap]);
	while (c->results.count > 0) {
		it = c->results.items[c->results.head];
		free(it.body);
		c->results.head = (c->results.head + 1) % c->results.cap;
		c->results.count--;
	}
	free(c->results.items);
	free(c->events.items);
	free(c->waiting);
	free(c->flight);
	free(c->out.p);
	free(c->in.p);
	free(c->last_body);
	zkc_set_free(&c->data_w);
	zkc_set_free(&c->exist_w);
	zkc_set_free(&c->child_w);
	zkc_set_free(&c->persist_w);
	zkc_set_free(&c->recursive_w);
	free(c);
}

enum zkc_state zkc_state(const struct zkc *c)
{
	return c->state;
}

int64_t zkc_session_id(const struct zkc *c)
{
	return c->session_id;
}

bool zkc_want_connect(const struct zkc *c, uint32_t *server)
{
	if (c->state != ZKC_CONNECTING || c->transport)
		return false;
	*server = c->server;
	return true;
}

void zkc_on_connected(struct zkc *c, uint64_t now_ms)
{
	size_t at = c->out.len;
	c->transport = true;
	c->handshaking = true;
	c->in.len = 0;
	zkc_i32(&c->out, 0);
	zkc_i32(&c->out, 0); /* protocolVersion */
	zkc_i64(&c->out, c->last_zxid);
	zkc_i32(&c->out, c->timeout_ms);
	zkc_i64(&c->out, c->session_id);
	zkc_bytes(&c->out, c->passwd, sizeof(c->passwd));
	zkc_add(&c->out, "", 1); /* readOnly: false */
	zkc_patch_len(&c->out, at);
	c->last_send_ms = now_ms;
	c->last_recv_ms = now_ms;
}

static void zkc_flight_push(struct zkc *c, const struct zkc_req *r)
{
	if (c->flight_count == c->flight_cap) {
		size_t cap = c->flight_cap == 0 ? 16 : c->flight_cap * 2, i;
		struct zkc_req *fresh = malloc(cap * sizeof(*fresh));
		if (fresh == NULL)
			abort();
		for (i = 0; i < c->flight_count; i++)
			fresh[i] = c->flight[(c->flight_head + i) % c->flight_cap];
		free(c->flight);
		c->flight = fresh;
		c->flight_cap = cap;
		c->flight_head = 0;
	}
	c->flight[(c->flight_head + c->flight_count++) % c->flight_cap] = *r;
}

static void zkc_set_vector(struct zkc_buf *b, const struct zkc_set *s)
{
	size_t i;
	zkc_i32(b, (int32_t)s->count);
	for (i = 0; i < s->count; i++)
		zkc_str(b, s->paths[i]);
}

/* The handshake is done: watches back, then what waited. */
static void zkc_established(struct zkc *c, uint64_t now_ms)
{
	size_t i;
	c->state = ZKC_CONNECTED;
	if (c->data_w.count + c->exist_w.count + c->child_w.count + c->persist_w.count + c->recursive_w.count > 0) {
		/* setWatches2 only when there are persistent watches, as the Java client does */
		bool two = c->persist_w.count + c->recursive_w.count > 0;
		size_t at = c->out.len;
		zkc_i32(&c->out, 0);
		zkc_i32(&c->out, ZKC_XID_SETWATCHES);
		zkc_i32(&c->out, two ? ZKC_OP_SETWATCHES2 : ZKC_OP_SETWATCHES);
		zkc_i64(&c->out, c->last_zxid);
		zkc_set_vector(&c->out, &c->data_w);
		zkc_set_vector(&c->out, &c->exist_w);
		zkc_set_vector(&c->out, &c->child_w);
		if (two) {
			zkc_set_vector(&c->out, &c->persist_w);
			zkc_set_vector(&c->out, &c->recursive_w);
		}
		zkc_patch_len(&c->out, at);
	}
	for (i = 0; i < c->waiting_count; i++) {
		struct zkc_req *r = &c->waiting[i];
		zkc_add(&c->out, r->frame, r->frame_len);
		free(r->frame);
		r->frame = NULL;
		zkc_flight_push(c, r);
	}
	c->waiting_count = 0;
	c->last_send_ms = now_ms;
}

void zkc_on_closed(struct zkc *c, uint64_t now_ms)
{
	(void)now_ms;
	c->transport = false;
	c->handshaking = false;
	c->out.len = 0;
	c->in.len = 0;
	/* what was in flight is lost to the caller: CONNECTIONLOSS, in order */
	while (c->flight_count > 0) {
		struct zkc_req *r = &c->flight[c->flight_head];
		zkc_result_add(c, r->xid, r->op, ZKC_ERR_CONNECTIONLOSS, 0, NULL, 0);
		zkc_req_free(r);
		c->flight_head = (c->flight_head + 1) % c->flight_cap;
		c->flight_count--;
	}
	if (c->state == ZKC_CONNECTED || c->state == ZKC_CONNECTING) {
		c->state = ZKC_CONNECTING;
		c->server = (c->server + 1) % c->server_count;
	}
}

bool zkc_on_tick(struct zkc *c, uint64_t now_ms)
{
	uint64_t quiet = now_ms > c->last_recv_ms ? now_ms - c->last_recv_ms : 0;
	if (!c->transport)
		return false;
	/* ZooKeeper's client deadlines: the handshake gets the session timeout
	 * shared among the servers; a session two thirds of it */
	if (c->state == ZKC_CONNECTING && quiet >= (uint64_t)c->timeout_ms / c->server_count)
		return true;
	if (c->state == ZKC_CONNECTED && quiet >= (uint64_t)c->timeout_ms * 2 / 3)
		return true;
	/* a ping when the connection has been quiet a third of the timeout */
	if (c->state == ZKC_CONNECTED && now_ms - c->last_send_ms >= (uint64_t)c->timeout_ms / 3) {
		size_t at = c->out.len;
		zkc_i32(&c->out, 0);
		zkc_i32(&c->out, ZKC_XID_PING);
		zkc_i32(&c->out, ZKC_OP_PING);
		zkc_patch_len(&c->out, at);
		c->last_send_ms = now_ms;
	}
	return false;
}

const uint8_t *zkc_output(const struct zkc *c, size_t *len)
{
	*len = c->transport ? c->out.len : 0;
	return c->out.p;
}

void zkc_output_done(struct zkc *c, size_t n)
{
	if (n > c->out.len)
		n = c->out.len;
	memmove(c->out.p, c->out.p + n, c->out.len - n);
	c->out.len -= n;
}

/* A request frame: header, then the body writer's bytes. */
static int32_t zkc_request(struct zkc *c, int32_t op, const char *path, bool watch, const struct zkc_buf *body)
{
	struct zkc_req r;
	struct zkc_buf f = {0};
	memset(&r, 0, sizeof(r));
	r.xid = c->next_xid++;
	r.op = op;
	r.watch = watch;
	r.add_mode = -1;
	r.path = strdup(path != NULL ? path : "");
	if (r.path == NULL)
		abort();
	zkc_i32(&f, 0);
	zkc_i32(&f, r.xid);
	zkc_i32(&f, op);
	if (body != NULL)
		zkc_add(&f, body->p, body->len);
	zkc_patch_len(&f, 0);
	if (c->state == ZKC_CONNECTED && c->transport) {
		zkc_add(&c->out, f.p, f.len);
		free(f.p);
		zkc_flight_push(c, &r);
	} else if (c->state == ZKC_CONNECTING) {
		r.frame = f.p;
		r.frame_len = f.len;
		if (c->waiting_count == c->waiting_cap) {
			c->waiting_cap = c->waiting_cap == 0 ? 16 : c->waiting_cap * 2;
			c->waiting = realloc(c->waiting, c->waiting_cap * sizeof(*c->waiting));
			if (c->waiting == NULL)
				abort();
		}
		c->waiting[c->waiting_count++] = r;
	} else {
		/* expired or closed: nothing will ever answer */
		free(f.p);
		zkc_result_add(c, r.xid, op, ZKC_ERR_SESSIONEXPIRED, 0, NULL, 0);
		zkc_req_free(&r);
	}
	return r.xid;
}

static int32_t zkc_path_req(struct zkc *c, int32_t op, const char *path, int watch_or_minus1)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_str(&b, path);
	if (watch_or_minus1 >= 0)
		zkc_add(&b, watch_or_minus1 ? "\1" : "", 1);
	xid = zkc_request(c, op, path, watch_or_minus1 == 1, &b);
	free(b.p);
	return xid;
}

int32_t zkc_create(struct zkc *c, const char *path, const void *data, size_t len, int32_t flags)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_str(&b, path);
	zkc_bytes(&b, data, len);
	zkc_i32(&b, 1); /* world:anyone ALL */
	zkc_i32(&b, 31);
	zkc_str(&b, "world");
	zkc_str(&b, "anyone");
	zkc_i32(&b, flags);
	/* a container goes as createContainer, as the Java client sends it (the
	 * server decides container-ness by the opcode) */
	xid = zkc_request(c, flags == 4 ? ZKC_OP_CREATECONTAINER : ZKC_OP_CREATE, path, false, &b);
	free(b.p);
	return xid;
}

int32_t zkc_delete(struct zkc *c, const char *path, int32_t version)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_str(&b, path);
	zkc_i32(&b, version);
	xid = zkc_request(c, ZKC_OP_DELETE, path, false, &b);
	free(b.p);
	return xid;
}

int32_t zkc_exists(struct zkc *c, const char *path, bool watch)
{
	return zkc_path_req(c, ZKC_OP_EXISTS, path, watch ? 1 : 0);
}

int32_t zkc_get_data(struct zkc *c, const char *path, bool watch)
{
	return zkc_path_req(c, ZKC_OP_GETDATA, path, watch ? 1 : 0);
}

int32_t zkc_get_children(struct zkc *c, const char *path, bool watch)
{
	return zkc_path_req(c, ZKC_OP_GETCHILDREN2, path, watch ? 1 : 0);
}

int32_t zkc_sync(struct zkc *c, const char *path)
{
	return zkc_path_req(c, ZKC_OP_SYNC, path, -1);
}

int32_t zkc_set_data(struct zkc *c, const char *path, const void *data, size_t len, int32_t version)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_str(&b, path);
	zkc_bytes(&b, data, len);
	zkc_i32(&b, version);
	xid = zkc_request(c, ZKC_OP_SETDATA, path, false, &b);
	free(b.p);
	return xid;
}

int32_t zkc_multi(struct zkc *c, const void *body, size_t len)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_add(&b, body, len);
	xid = zkc_request(c, ZKC_OP_MULTI, NULL, false, &b);
	free(b.p);
	return xid;
}

int32_t zkc_add_watch(struct zkc *c, const char *path, int32_t mode)
{
	struct zkc_buf b = {0};
	int32_t xid;
	zkc_str(&b, path);
	zkc_i32(&b, mode);
	xid = zkc_request(c, ZKC_OP_ADDWATCH, path, false, &b);
	free(b.p);
	/* the request is the newest one, waiting or in flight */
	if (c->waiting_count > 0 && c->waiting[c->waiting_count - 1].xid == xid)
		c->waiting[c->waiting_count - 1].add_mode = mode;
	else if (c->flight_count > 0)
		c->flight[(c->flight_head + c->flight_count - 1) % c->flight_cap].add_mode = mode;
	return xid;
}

int32_t zkc_close_session(struct zkc *c)
{
	return zkc_request(c, ZKC_OP_CLOSESESSION, NULL, false, NULL);
}

/* --- replies --- */

static int zkc_event(struct zkc *c, const uint8_t *p, size_t len)
{
	struct zkc_item *it;
	uint32_t n;
	if (len < 12 || (n = zkc_be32(p + 8)) > len - 12 || n >= sizeof(it->e.path))
		return -1;
	it = zkc_push(&c->events);
	it->e.type = (int32_t)zkc_be32(p);
	it->e.state = (int32_t)zkc_be32(p + 4);
	memcpy(it->e.path, p + 12, n);
	it->e.path[n] = '\0';
	/* one-shot: the watches this event consumed */
	if (it->e.type != 4) {
		zkc_set_del(&c->data_w, it->e.path);
		zkc_set_del(&c->exist_w, it->e.path);
	}
	if (it->e.type == 4 || it->e.type == 2)
		zkc_set_del(&c->child_w, it->e.path);
	return 0;
}

static int zkc_frame(struct zkc *c, const uint8_t *p, size_t len, uint64_t now_ms)
{
	int32_t xid, err;
	int64_t zxid;
	struct zkc_req *r;
	if (c->handshaking) {
		int32_t timeout;
		int64_t sid;
		c->handshaking = false;
		if (len < 36)
			return -1;
		timeout = (int32_t)zkc_be32(p + 4);
		sid = (int64_t)zkc_be64(p + 8);
		if (timeout <= 0 || sid == 0) {
			struct zkc_item *it = zkc_push(&c->events);
			it->e.type = -1;
			it->e.state = ZKC_ERR_SESSIONEXPIRED;
			c->state = ZKC_EXPIRED;
			return 0;
		}
		c->timeout_ms = timeout;
		c->session_id = sid;
		memcpy(c->passwd, p + 20, 16);
		zkc_established(c, now_ms);
		return 0;
	}
	if (len < 16)
		return -1;
	xid = (int32_t)zkc_be32(p);
	zxid = (int64_t)zkc_be64(p + 4);
	err = (int32_t)zkc_be32(p + 12);
	if (zxid > c->last_zxid)
		c->last_zxid = zxid;
	if (xid == ZKC_XID_NOTIFICATION)
		return zkc_event(c, p + 16, len - 16);
	if (xid == ZKC_XID_PING || xid == ZKC_XID_SETWATCHES)
		return 0;
	if (c->flight_count == 0)
		return -1;
	r = &c->flight[c->flight_head];
	if (r->xid != xid)
		return -1; /* replies come in request order */
	if (r->watch && (err == 0 || (err == ZKC_ERR_NONODE && r->op == ZKC_OP_EXISTS))) {
		if (r->op == ZKC_OP_GETCHILDREN2)
			zkc_set_add(&c->child_w, r->path);
		else if (err == 0)
			zkc_set_add(&c->data_w, r->path);
		else
			zkc_set_add(&c->exist_w, r->path);
	}
	if (r->op == ZKC_OP_ADDWATCH && err == 0)
		zkc_set_add(r->add_mode == ZKC_WATCH_PERSISTENT ? &c->persist_w : &c->recursive_w, r->path);
	if (r->op == ZKC_OP_CLOSESESSION && err == 0)
		c->state = ZKC_CLOSED;
	zkc_result_add(c, xid, r->op, err, zxid, p + 16, len - 16);
	zkc_req_free(r);
	c->flight_head = (c->flight_head + 1) % c->flight_cap;
	c->flight_count--;
	return 0;
}

int zkc_on_data(struct zkc *c, const uint8_t *p, size_t len, uint64_t now_ms)
{
	size_t off = 0;
	c->last_recv_ms = now_ms;
	zkc_add(&c->in, p, len);
	while (c->in.len - off >= 4) {
		uint32_t n = zkc_be32(c->in.p + off);
		if (n > ZKC_FRAME_MAX)
			return -1;
		if (c->in.len - off - 4 < n)
			break;
		if (zkc_frame(c, c->in.p + off + 4, n, now_ms) != 0)
			return -1;
		off += 4 + n;
	}
	memmove(c->in.p, c->in.p + off, c->in.len - off);
	c->in.len -= off;
	return 0;
}

bool zkc_next_result(struct zkc *c, struct zkc_result *out)
{
	struct zkc_item it;
	free(c->last_body);
	c->last_body = NULL;
	if (c->results.count == 0)
		return false;
	it = c->results.items[c->results.head];
	c->results.head = (c->results.head + 1) % c->results.cap;
	c->results.count--;
	*out = it.r;
	out->body = it.body;
	c->last_body = it.body;
	return true;
}

bool zkc_next_event(struct zkc *c, struct zkc_event *out)
{
	if (c->events.count == 0)
		return false;
	*out = c->events.items[c->events.head].e;
	c->events.head = (c->events.head + 1) % c->events.cap;
	c->events.count--;
	return true;
}
