/*
 * fuzz_peer.c: untrusted bytes on the server-to-server planes, and the
 * quorum and election message decoders themselves (issue 7, item 4).
 *
 * Input layout:
 *   byte 0  mode (low two bits):
 *           0  the decoders alone: quorum packets (pd_qp_decode) one after
 *              another, LearnerInfo, election notifications and the
 *              election port's hello;
 *           1  a LOOKING member (sid 1 of 1..3) hears the bytes on an inbound
 *              election connection from sid 2 or 3 (bit 2 of byte 0);
 *           2  a leader (sid 1, the only voter, with observer 2) hears them on
 *              an inbound quorum connection, as from a learner;
 *           3  a LOOKING member hears them on an inbound quorum connection
 *   byte 1  chunking: 0 one event; else chunks of (byte & 63) + 1 bytes,
 *           with a tick of 100 ms after each when bit 6 is set
 *   byte 2.. the peer's bytes
 *
 * Invariants: the core never asserts or crashes (ASan, UBSan), pd_step never
 * fails, every effect names a connection the core was told about (or the
 * fuzzed one), and destroying the node gives back every byte it took.
 *
 * Build and run as fuzz_request (tests/fuzz/CMakeLists.txt):
 *   build-fuzz/tests/fuzz/fuzz_peer -max_total_time=300 /tmp/peer-corpus tests/fuzz/peer_corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fle.h"
#include "fuzz_peer.h"
#include "pd.h"
#include "quorum.h"

#define FP_CONN 7

struct fp_ctx {
	struct pd_node *node;
	struct pd_effects fx;
	uint64_t now_ms;
	uint64_t timer_ms;
	size_t live_bytes;
	pd_zxid append_zxid; /* the newest record appended, reported durable after each step */
	bool conn_open;
};

static void fp_fail(const char *what)
{
	fprintf(stderr, "fuzz_peer: %s\n", what);
	abort();
}

static void *fp_alloc(void *ctx, size_t bytes)
{
	struct fp_ctx *c = ctx;
	void *p = malloc(bytes);
	if (p != NULL)
		c->live_bytes += bytes;
	return p;
}

static void fp_free(void *ctx, void *p, size_t bytes)
{
	struct fp_ctx *c = ctx;
	if (p == NULL)
		return;
	c->live_bytes -= bytes;
	free(p);
}

static void fp_step(struct fp_ctx *c, struct pd_event *ev);

/* Answers what the effects ask that a driver must answer. */
static void fp_effects(struct fp_ctx *c)
{
	size_t i, n = c->fx.count;
	struct pd_effect *copy;
	if (n == 0)
		return;
	copy = malloc(n * sizeof(*copy));
	if (copy == NULL)
		abort();
	memcpy(copy, c->fx.items, n * sizeof(*copy));
	pd_effects_reset(&c->fx);
	for (i = 0; i < n; i++) {
		struct pd_event ev;
		memset(&ev, 0, sizeof(ev));
		switch (copy[i].type) {
		case PD_FX_TIMER:
			c->timer_ms = copy[i].at_ms;
			break;
		case PD_FX_CLOSE:
			if (copy[i].conn == FP_CONN)
				c->conn_open = false;
			break;
		case PD_FX_LOG_APPEND:
			c->append_zxid = copy[i].zxid;
			break;
		case PD_FX_EPOCH_WRITE:
			ev.type = PD_EV_EPOCH_DURABLE;
			ev.which = copy[i].which;
			ev.value = copy[i].value;
			fp_step(c, &ev);
			break;
		case PD_FX_CONNECT:
			ev.type = PD_EV_CONNECT_FAILED;
			ev.plane = copy[i].plane;
			ev.peer_sid = copy[i].peer;
			fp_step(c, &ev);
			break;
		default:
			break;
		}
	}
	free(copy);
	if (c->append_zxid != 0) {
		struct pd_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_LOG_DURABLE;
		ev.zxid = c->append_zxid;
		c->append_zxid = 0;
		fp_step(c, &ev);
	}
}

static void fp_step(struct fp_ctx *c, struct pd_event *ev)
{
	ev->now_ms = c->now_ms;
	ev->wall_ms = 1700000000000LL + (int64_t)c->now_ms;
	if (pd_step(c->node, ev, &c->fx) != 0)
		fp_fail("pd_step failed");
	fp_effects(c);
}

static void fp_tick(struct fp_ctx *c, uint64_t ms)
{
	struct pd_event ev;
	c->now_ms += ms;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_TICK;
	fp_step(c, &ev);
}

static void fp_decoders(const uint8_t *p, size_t len)
{
	struct pd_vote v;
	struct pd_qp qp;
	struct pd_learner_info li;
	uint64_t sid;
	size_t off = 0;
	(void)pd_fle_decode(p, len, &v);
	(void)pd_fle_hello_decode(p, len, &sid);
	while (off < len) {
		long used = pd_qp_decode(p + off, len - off, 1u << 20, &qp);
		if (used <= 0)
			break;
		if ((size_t)used > len - off)
			fp_fail("pd_qp_decode took more bytes than it had");
		(void)pd_learner_info_decode(qp.data, &li);
		off += (size_t)used;
	}
}

void fp_run(const uint8_t *data, size_t size)
{
	struct fp_ctx c;
	struct pd_config cfg;
	struct pd_allocator al;
	struct pd_event ev;
	char text[512], errmsg[256];
	unsigned mode, chunk;
	bool ticks;
	size_t off;
	int n, k;
	if (size < 2)
		return;
	mode = data[0] & 3u;
	chunk = data[1] & 63u;
	ticks = (data[1] & 64u) != 0;
	data += 2;
	size -= 2;
	if (mode == 0) {
		fp_decoders(data, size);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.now_ms = 1000000;
	if (mode == 2)
		n = snprintf(text, sizeof(text), "tickTime=100\ninitLimit=5\nsyncLimit=2\ndataDir=/fuzz\n"
						 "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888:observer\n");
	else
		n = snprintf(text, sizeof(text), "tickTime=100\ninitLimit=5\nsyncLimit=2\ndataDir=/fuzz\n"
						 "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\n"
						 "server.3=10.0.0.3:2888:3888\n");
	if (pd_config_parse(&cfg, text, (size_t)n, errmsg, sizeof(errmsg)) != 0)
		fp_fail(errmsg);
	cfg.my_id = 1;
	cfg.ensemble_preview = true;
	if (pd_config_finish(&cfg, errmsg, sizeof(errmsg)) != 0)
		fp_fail(errmsg);
	cfg.prng_seed = 1;
	al.alloc = fp_alloc;
	al.free = fp_free;
	al.ctx = &c;
	if (pd_node_create(&cfg, al, c.now_ms, 1700000000000LL, &c.node, errmsg, sizeof(errmsg)) != 0)
		fp_fail(errmsg);
	pd_node_set_epochs(c.node, 0, 0);
	/* let it look (mode 2: until it leads) */
	for (k = 0; k < 40; k++) {
		struct pd_node_stats st;
		fp_tick(&c, 100);
		pd_node_get_stats(c.node, &st);
		if (mode != 2 || (st.role == 2 && st.serving))
			break;
	}
	if (mode == 2) {
		struct pd_node_stats st;
		pd_node_get_stats(c.node, &st);
		if (st.role != 2 || !st.serving)
			fp_fail("the lone voter did not come to lead");
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.conn = FP_CONN;
	ev.plane = mode == 1 ? PD_PLANE_ELECTION : PD_PLANE_QUORUM;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "10.0.0.%u", mode == 1 ? 2u + ((data[-2] >> 2) & 1u) : 2u);
	fp_step(&c, &ev);
	c.conn_open = true;
	for (off = 0; off < size && c.conn_open;) {
		size_t len = chunk == 0 ? size - off : chunk + 1u;
		if (len > size - off)
			len = size - off;
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_CONN_DATA;
		ev.conn = FP_CONN;
		ev.data = data + off;
		ev.len = len;
		fp_step(&c, &ev);
		off += len;
		if (ticks)
			fp_tick(&c, 100);
	}
	if (c.conn_open) {
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_CONN_CLOSED;
		ev.conn = FP_CONN;
		fp_step(&c, &ev);
	}
	fp_tick(&c, 5000);
	pd_effects_free(c.node, &c.fx);
	pd_node_destroy(c.node);
	if (c.live_bytes != 0) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%zu bytes not given back after pd_node_destroy", c.live_bytes);
		fp_fail(msg);
	}
}
