/*
 * test_zkc.c: the sans-I/O client (client/zkc.h) against a real core node,
 * in process: the test moves bytes between them as a transport would.
 * Watches fire once, survive a reconnect through setWatches, requests in
 * flight when the transport drops fail with CONNECTIONLOSS, and a session
 * that expired while away is reported as expired.
 */
#include "test_util.h"

#include "config.h"
#include "err.h"
#include "pd.h"
#include "zkc.h"

struct side {
	struct zkc *c;
	uint32_t conn; /* core connection id, 0 = none */
};

static struct pd_node *NODE;
static struct pd_effects FX;
static struct tu_alloc ALLOC;
static struct side SIDES[2];
static uint64_t NOW = 1000;
static uint32_t NEXT_CONN = 1;

static void step(struct pd_event *ev);

static struct side *side_of(uint32_t conn)
{
	int i;
	for (i = 0; i < 2; i++)
		if (SIDES[i].conn == conn && conn != 0)
			return &SIDES[i];
	return NULL;
}

static void effects(void)
{
	struct pd_effects fx = FX;
	pd_zxid logged = 0;
	uint32_t i;
	memset(&FX, 0, sizeof(FX));
	for (i = 0; i < fx.count; i++) {
		const struct pd_effect *e = &fx.items[i];
		struct side *s = side_of(e->conn);
		if (e->type == PD_FX_LOG_APPEND && e->zxid > logged)
			logged = e->zxid;
		if (e->type == PD_FX_SEND && s != NULL)
			assert_int_equal(zkc_on_data(s->c, pd_effect_bytes(&fx, e), e->len, NOW), 0);
		if (e->type == PD_FX_CLOSE && s != NULL) {
			s->conn = 0;
			zkc_on_closed(s->c, NOW);
		}
	}
	pd_effects_free(NODE, &fx);
	if (logged != 0) { /* the log is durable at once */
		struct pd_event d;
		memset(&d, 0, sizeof(d));
		d.type = PD_EV_LOG_DURABLE;
		d.zxid = logged;
		step(&d);
	}
}

static void step(struct pd_event *ev)
{
	ev->now_ms = NOW;
	ev->wall_ms = 1700000000000LL + (int64_t)NOW;
	assert_int_equal(pd_step(NODE, ev, &FX), 0);
	effects();
}

/* Moves bytes until nothing moves. */
static void pump(void)
{
	bool moved = true;
	while (moved) {
		int i;
		moved = false;
		for (i = 0; i < 2; i++) {
			struct side *s = &SIDES[i];
			uint32_t server;
			size_t len;
			const uint8_t *p;
			if (s->c == NULL)
				continue;
			if (zkc_want_connect(s->c, &server)) {
				struct pd_event ev;
				assert_int_equal(server, 0);
				memset(&ev, 0, sizeof(ev));
				ev.type = PD_EV_CONN_OPEN;
				ev.conn = s->conn = NEXT_CONN++;
				snprintf(ev.peer_ip, sizeof(ev.peer_ip), "127.0.0.1");
				step(&ev);
				zkc_on_connected(s->c, NOW);
				moved = true;
			}
			p = zkc_output(s->c, &len);
			if (len > 0 && s->conn != 0) {
				struct pd_event ev;
				uint8_t *copy = malloc(len);
				assert_non_null(copy);
				memcpy(copy, p, len);
				zkc_output_done(s->c, len);
				memset(&ev, 0, sizeof(ev));
				ev.type = PD_EV_CONN_DATA;
				ev.conn = s->conn;
				ev.data = copy;
				ev.len = len;
				step(&ev);
				free(copy);
				moved = true;
			}
		}
	}
}

static void drop_transport(struct side *s)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_CLOSED;
	ev.conn = s->conn;
	s->conn = 0;
	step(&ev);
	zkc_on_closed(s->c, NOW);
}

static void tick(uint64_t ms)
{
	struct pd_event ev;
	NOW += ms;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_TICK;
	step(&ev);
	if (SIDES[0].c != NULL)
		zkc_on_tick(SIDES[0].c, NOW);
	if (SIDES[1].c != NULL)
		zkc_on_tick(SIDES[1].c, NOW);
	pump();
}

static struct zkc_result expect_result(struct zkc *c, int32_t xid, int32_t err)
{
	struct zkc_result r;
	assert_true(zkc_next_result(c, &r));
	assert_int_equal(r.xid, xid);
	assert_int_equal(r.err, err);
	return r;
}

static int setup(void **state)
{
	static const char cfg_text[] = "dataDir=/tmp/zkc-unit\ntickTime=2000\n";
	struct pd_config cfg;
	char errmsg[128];
	(void)state;
	assert_int_equal(pd_config_parse(&cfg, cfg_text, sizeof(cfg_text) - 1, errmsg, sizeof(errmsg)), 0);
	assert_int_equal(pd_config_finish(&cfg, errmsg, sizeof(errmsg)), 0);
	NOW = 1000;
	NEXT_CONN = 1;
	assert_int_equal(pd_node_create(&cfg, tu_allocator(&ALLOC), NOW, 1700000000000LL, &NODE, errmsg, sizeof(errmsg)), 0);
	memset(SIDES, 0, sizeof(SIDES));
	SIDES[0].c = zkc_new(1, 6000, NOW);
	SIDES[1].c = zkc_new(1, 6000, NOW);
	pump();
	assert_int_equal(zkc_state(SIDES[0].c), ZKC_CONNECTED);
	assert_int_equal(zkc_state(SIDES[1].c), ZKC_CONNECTED);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zkc_free(SIDES[0].c);
	zkc_free(SIDES[1].c);
	pd_effects_free(NODE, &FX);
	pd_node_destroy(NODE);
	assert_int_equal(ALLOC.live_blocks, 0);
	return 0;
}

static void test_requests_and_a_watch(void **state)
{
	struct zkc *a = SIDES[0].c, *b = SIDES[1].c;
	struct zkc_result r;
	struct zkc_event e;
	int32_t x1, x2, x3;
	(void)state;
	x1 = zkc_create(a, "/a", "x", 1, 0);
	x2 = zkc_get_data(a, "/a", true);
	x3 = zkc_exists(a, "/nope", true);
	pump();
	expect_result(a, x1, 0);
	r = expect_result(a, x2, 0);
	assert_true(r.body_len >= 5);
	assert_memory_equal(r.body, "\0\0\0\1x", 5);
	expect_result(a, x3, PD_ENONODE);
	/* another client changes it: one event, then no more */
	zkc_set_data(b, "/a", "y", 1, -1);
	zkc_create(b, "/nope", "", 0, 0);
	pump();
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.type, 3);
	assert_string_equal(e.path, "/a");
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.type, 1);
	assert_string_equal(e.path, "/nope");
	zkc_set_data(b, "/a", "z", 1, -1);
	pump();
	assert_false(zkc_next_event(a, &e));
}

static void test_watch_survives_a_reconnect(void **state)
{
	struct zkc *a = SIDES[0].c, *b = SIDES[1].c;
	struct zkc_event e;
	int64_t sid;
	int32_t x1, x2, lost, x;
	(void)state;
	x1 = zkc_create(a, "/w", "1", 1, 0);
	x2 = zkc_get_data(a, "/w", true);
	pump();
	expect_result(a, x1, 0);
	expect_result(a, x2, 0);
	sid = zkc_session_id(a);
	/* a request goes out, the transport drops before its answer */
	lost = zkc_get_data(a, "/w", false);
	drop_transport(&SIDES[0]);
	expect_result(a, lost, ZKC_ERR_CONNECTIONLOSS);
	pump();
	/* back on the same session; setWatches re-registered /w */
	assert_int_equal(zkc_state(a), ZKC_CONNECTED);
	assert_true(zkc_session_id(a) == sid);
	x = zkc_set_data(b, "/w", "2", 1, -1);
	pump();
	expect_result(b, x, 0);
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.type, 3);
	assert_string_equal(e.path, "/w");
}

static void test_expired_while_away(void **state)
{
	struct zkc *a = SIDES[0].c;
	struct zkc_event e;
	int i;
	(void)state;
	drop_transport(&SIDES[0]);
	/* stay away longer than the 6 s timeout (the other client pings on) */
	SIDES[0].c = NULL;
	for (i = 0; i < 10; i++)
		tick(1000);
	SIDES[0].c = a;
	pump();
	assert_int_equal(zkc_state(a), ZKC_EXPIRED);
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.state, ZKC_ERR_SESSIONEXPIRED);
	/* a request now can never be answered */
	{
		int32_t x = zkc_get_data(a, "/", false);
		expect_result(a, x, ZKC_ERR_SESSIONEXPIRED);
	}
	assert_int_equal(zkc_state(SIDES[1].c), ZKC_CONNECTED); /* its pings kept it alive */
}

/* addWatch: a recursive watch fires for every change below it, many
 * times, and after a reconnect setWatches2 brings it back. */
static void test_persistent_watch_survives_a_reconnect(void **state)
{
	struct zkc *a = SIDES[0].c, *b = SIDES[1].c;
	struct zkc_event e;
	int32_t x;
	int i;
	(void)state;
	x = zkc_add_watch(a, "/p", ZKC_WATCH_PERSISTENT_RECURSIVE);
	pump();
	expect_result(a, x, 0);
	x = zkc_create(b, "/p", "", 0, 0);
	pump();
	expect_result(b, x, 0);
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.type, 1);
	assert_string_equal(e.path, "/p");
	for (i = 0; i < 3; i++) {
		if (i == 1) { /* away and back on the same session */
			drop_transport(&SIDES[0]);
			pump();
			assert_int_equal(zkc_state(a), ZKC_CONNECTED);
		}
		x = zkc_set_data(b, "/p", "v", 1, -1);
		pump();
		expect_result(b, x, 0);
		assert_true(zkc_next_event(a, &e));
		assert_int_equal(e.type, 3);
		assert_string_equal(e.path, "/p");
	}
	x = zkc_create(b, "/p/deep", "", 0, 0);
	pump();
	expect_result(b, x, 0);
	assert_true(zkc_next_event(a, &e));
	assert_int_equal(e.type, 1);
	assert_string_equal(e.path, "/p/deep");
	assert_false(zkc_next_event(a, &e));
}

/* A server that goes quiet: the client pings at a third of the timeout,
 * and gives the transport up at two thirds, as ZooKeeper's client does. */
static void test_quiet_server_is_given_up(void **state)
{
	struct zkc *a = SIDES[0].c;
	size_t len;
	(void)state;
	assert_false(zkc_on_tick(a, NOW + 1000));
	assert_false(zkc_on_tick(a, NOW + 2100)); /* a ping goes out */
	(void)zkc_output(a, &len);
	assert_true(len > 0);
	assert_false(zkc_on_tick(a, NOW + 3900));
	assert_true(zkc_on_tick(a, NOW + 4000)); /* 6000 * 2 / 3 without a byte */
	zkc_on_closed(a, NOW + 4000);
	assert_int_equal(zkc_state(a), ZKC_CONNECTING);
	assert_false(zkc_on_tick(a, NOW + 9000)); /* no transport: nothing to give up */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_and_a_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_survives_a_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_while_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_watch_survives_a_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_server_is_given_up, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
