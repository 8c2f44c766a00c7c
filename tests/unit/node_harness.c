/* node_harness.c: see node_harness.h. */
#include "node_harness.h"

#include "config.h"
#include "err.h"

void nh_init(struct nh *h, const char *cfg_text, int64_t node_wall_ms)
{
	char text[4096];
	char errmsg[256] = "";
	int n;
	memset(h, 0, sizeof(*h));
	n = snprintf(text, sizeof(text), "dataDir=/tmp/paddock-unit-test\n%s", cfg_text != NULL ? cfg_text : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(pd_config_parse(&h->cfg, text, (size_t)n, errmsg, sizeof(errmsg)), 0);
	assert_int_equal(pd_config_finish(&h->cfg, errmsg, sizeof(errmsg)), 0);
	h->now_ms = 1000;
	h->wall_ms = node_wall_ms;
	assert_int_equal(pd_node_create(&h->cfg, tu_allocator(&h->alloc), h->now_ms, node_wall_ms, &h->node, errmsg,
					sizeof(errmsg)),
			 0);
	assert_non_null(h->node);
}

void nh_destroy(struct nh *h)
{
	pd_effects_free(h->node, &h->fx);
	pd_node_destroy(h->node);
	h->node = NULL;
	assert_int_equal(h->alloc.live_bytes, 0);
	assert_int_equal(h->alloc.live_blocks, 0);
}

void nh_abandon(struct nh *h)
{
	if (h->node == NULL)
		return;
	pd_effects_free(h->node, &h->fx);
	pd_node_destroy(h->node);
	h->node = NULL;
}

/* Unless the test holds durability back (h->hold_durable), the log is
 * durable at once: a PD_EV_LOG_DURABLE for the newest record follows every
 * step that logged one, and its effects join the step's own. */
static void nh_step(struct nh *h, struct pd_event *ev)
{
	pd_zxid newest = 0, done = 0;
	uint32_t i, seen = 0;
	ev->now_ms = h->now_ms;
	ev->wall_ms = h->wall_ms;
	pd_effects_reset(&h->fx);
	h->last_rc = pd_step(h->node, ev, &h->fx);
	/* Answers can log more (requests held behind a connect or a write). */
	for (;;) {
		struct pd_event d;
		for (i = seen; i < h->fx.count; i++) {
			const struct pd_effect *e = &h->fx.items[i];
			if (e->type != PD_FX_LOG_APPEND)
				continue;
			if (e->zxid > newest)
				newest = e->zxid;
			if (h->log != NULL) {
				if (h->log->len + e->len > h->log->cap) {
					h->log->cap = (h->log->len + e->len) * 2;
					h->log->p = realloc(h->log->p, h->log->cap);
					assert_non_null(h->log->p);
				}
				memcpy(h->log->p + h->log->len, pd_effect_bytes(&h->fx, e), e->len);
				h->log->len += e->len;
			}
		}
		seen = h->fx.count;
		if (newest == done || h->hold_durable || h->last_rc != 0)
			break;
		done = newest;
		memset(&d, 0, sizeof(d));
		d.type = PD_EV_LOG_DURABLE;
		d.zxid = newest;
		d.now_ms = h->now_ms;
		d.wall_ms = h->wall_ms;
		h->last_rc = pd_step(h->node, &d, &h->fx);
	}
}

void nh_log_event(struct nh *h, enum pd_event_type type)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	nh_step(h, &ev);
}

void nh_durable(struct nh *h, pd_zxid zxid)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_LOG_DURABLE;
	ev.zxid = zxid;
	ev.now_ms = h->now_ms;
	ev.wall_ms = h->wall_ms;
	pd_effects_reset(&h->fx);
	h->last_rc = pd_step(h->node, &ev, &h->fx);
}

void nh_open(struct nh *h, uint32_t conn, const char *ip)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.conn = conn;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "%s", ip != NULL ? ip : "127.0.0.1");
	ev.peer_port = (uint16_t)(40000 + conn);
	nh_step(h, &ev);
	assert_int_equal(h->last_rc, 0);
}

void nh_data(struct nh *h, uint32_t conn, const void *p, size_t len)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_DATA;
	ev.conn = conn;
	ev.data = p;
	ev.len = len;
	nh_step(h, &ev);
}

void nh_tick(struct nh *h, uint64_t now_ms)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_TICK;
	h->now_ms = now_ms;
	nh_step(h, &ev);
	assert_int_equal(h->last_rc, 0);
}

void nh_conn_closed(struct nh *h, uint32_t conn)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_CLOSED;
	ev.conn = conn;
	nh_step(h, &ev);
	assert_int_equal(h->last_rc, 0);
}

size_t nh_sent(const struct nh *h, uint32_t conn, uint8_t *out, size_t cap)
{
	size_t n = 0;
	uint32_t i;
	for (i = 0; i < h->fx.count; i++) {
		const struct pd_effect *e = &h->fx.items[i];
		if (e->type != PD_FX_SEND || e->conn != conn)
			continue;
		assert_true(n + e->len <= cap);
		memcpy(out + n, pd_effect_bytes(&h->fx, e), e->len);
		n += e->len;
	}
	return n;
}

int nh_count(const struct nh *h, enum pd_effect_type type, uint32_t conn)
{
	int c = 0;
	uint32_t i;
	for (i = 0; i < h->fx.count; i++)
		if (h->fx.items[i].type == type && h->fx.items[i].conn == conn)
			c++;
	return c;
}

bool nh_closed(const struct nh *h, uint32_t conn)
{
	uint32_t i;
	bool closed = false;
	for (i = 0; i < h->fx.count; i++) {
		const struct pd_effect *e = &h->fx.items[i];
		if (e->conn != conn)
			continue;
		if (e->type == PD_FX_CLOSE)
			closed = true;
		else if (e->type == PD_FX_SEND)
			assert_false(closed); /* nothing may be sent after the close */
	}
	return closed;
}

size_t nh_frames(const uint8_t *p, size_t len, struct nh_frame *out, size_t max)
{
	size_t off = 0, n = 0;
	while (off < len) {
		uint32_t flen;
		assert_true(len - off >= 4);
		flen = pd_be32(p + off);
		assert_true(len - off - 4 >= flen);
		assert_true(n < max);
		out[n].p = p + off;
		out[n].len = 4 + flen;
		n++;
		off += 4 + flen;
	}
	return n;
}

int32_t nh_frame_xid(struct nh_frame f)
{
	assert_true(f.len >= 20);
	return (int32_t)pd_be32(f.p + 4);
}

int64_t nh_frame_zxid(struct nh_frame f)
{
	assert_true(f.len >= 20);
	return (int64_t)pd_be64(f.p + 8);
}

int32_t nh_frame_err(struct nh_frame f)
{
	assert_true(f.len >= 20);
	return (int32_t)pd_be32(f.p + 16);
}

void nh_replies(const struct nh *h, uint32_t conn, struct nh_reply *r)
{
	r->len = nh_sent(h, conn, r->bytes, sizeof(r->bytes));
	r->count = nh_frames(r->bytes, r->len, r->frames, PD_ARRAY_LEN(r->frames));
}

void nh_connect_frame(struct tb *t, int64_t last_zxid, int32_t timeout_ms, int64_t session_id,
		      const uint8_t *passwd, bool read_only_byte)
{
	static const uint8_t zero[16];
	size_t at = tb_frame_begin(t);
	tb_i32(t, 0);
	tb_i64(t, last_zxid);
	tb_i32(t, timeout_ms);
	tb_i64(t, session_id);
	tb_buf(t, passwd != NULL ? passwd : zero, 16);
	if (read_only_byte)
		tb_u8(t, 0);
	tb_frame_end(t, at);
}

int64_t nh_connect(struct nh *h, uint32_t conn, int32_t timeout_ms, uint8_t passwd[16])
{
	static struct tb t;
	static struct nh_reply r;
	int64_t sid;
	t.n = 0;
	nh_open(h, conn, "127.0.0.1");
	nh_connect_frame(&t, 0, timeout_ms, 0, NULL, true);
	nh_data(h, conn, t.b, t.n);
	assert_int_equal(h->last_rc, 0);
	nh_replies(h, conn, &r);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.len, 41);
	assert_int_equal(pd_be32(r.bytes + 20), 16);
	sid = (int64_t)pd_be64(r.bytes + 12);
	assert_true(sid != 0);
	if (passwd != NULL)
		memcpy(passwd, r.bytes + 24, 16);
	return sid;
}

void nh_request_frame(struct tb *t, int32_t xid, int32_t type, const struct tb *body)
{
	size_t at = tb_frame_begin(t);
	tb_i32(t, xid);
	tb_i32(t, type);
	if (body != NULL)
		tb_raw(t, body->b, body->n);
	tb_frame_end(t, at);
}

void nh_call(struct nh *h, uint32_t conn, int32_t xid, int32_t type, const struct tb *body, struct nh_reply *r)
{
	static struct tb t;
	t.n = 0;
	nh_request_frame(&t, xid, type, body);
	nh_data(h, conn, t.b, t.n);
	nh_replies(h, conn, r);
}

void nh_body_create(struct tb *t, const char *path, const void *data, size_t data_len, int32_t flags)
{
	t->n = 0;
	tb_str(t, path);
	tb_buf(t, data, data_len);
	tb_acl_world(t, 31);
	tb_i32(t, flags);
}

void nh_body_path_watch(struct tb *t, const char *path, bool watch)
{
	t->n = 0;
	tb_str(t, path);
	tb_u8(t, watch ? 1 : 0);
}

void nh_body_path_int(struct tb *t, const char *path, int32_t v)
{
	t->n = 0;
	tb_str(t, path);
	tb_i32(t, v);
}

void nh_body_set_data(struct tb *t, const char *path, const void *data, size_t len, int32_t version)
{
	t->n = 0;
	tb_str(t, path);
	tb_buf(t, data, len);
	tb_i32(t, version);
}
