/*
 * test_node.c: single-node step tests through the public API (core/pd.h).
 *
 * Each test creates a node with a malloc-backed allocator, feeds it
 * PD_EV_CONN_OPEN / PD_EV_CONN_DATA / PD_EV_TICK events carrying hand-built
 * jute frames, and asserts on the effects: the exact bytes of every
 * PD_FX_SEND, PD_FX_CLOSE, PD_FX_FOURLW.  Tests are named after the protocol
 * rule they check (wire-protocol.md sections in the comments).  Expected bytes
 * are built with the independent writer in test_util.h, never with the
 * encoder under test.
 */
#include "node_harness.h"

#include "err.h"
#include "proto.h"
#include "server_int.h"

#define SID0 ((int64_t)0x0100001744400000LL) /* first session id for node wall_ms 0x174440 */
#define BASE_CFG "tickTime=2000\n4lw.commands.whitelist=*\n"

static struct nh H;
static struct nh_reply R;
static struct tb B; /* request bodies */
static struct tb W; /* expected bytes */

static void start(const char *cfg)
{
	nh_init(&H, cfg != NULL ? cfg : BASE_CFG, 0x174440);
}

static void stop(void)
{
	nh_destroy(&H);
}

static struct nh H2; /* a second node, for comparisons */

/* After a failed assertion the test body stops early: free what it left. */
static int teardown(void **state)
{
	(void)state;
	nh_abandon(&H);
	nh_abandon(&H2);
	return 0;
}

static void call(uint32_t conn, int32_t xid, int32_t type, const struct tb *body)
{
	nh_call(&H, conn, xid, type, body, &R);
}

static void w_reset(void)
{
	W.n = 0;
}

static size_t w_begin(void)
{
	return tb_frame_begin(&W);
}

static void w_header(int32_t xid, int64_t zxid, int32_t err)
{
	tb_i32(&W, xid);
	tb_i64(&W, zxid);
	tb_i32(&W, err);
}

/* A whole header-only frame. */
static void w_header_frame(int32_t xid, int64_t zxid, int32_t err)
{
	size_t at = w_begin();
	w_header(xid, zxid, err);
	tb_frame_end(&W, at);
}

static void w_notification(int32_t type, const char *path)
{
	size_t at = w_begin();
	w_header(-1, -1, 0);
	tb_i32(&W, type);
	tb_i32(&W, 3);
	tb_str(&W, path);
	tb_frame_end(&W, at);
}

static void expect_sent(const char *what)
{
	tu_assert_bytes(R.bytes, R.len, W.b, W.n, what);
}

/* Asserts that the reply is one bare 16-byte header with these values. */
static void expect_error(int32_t xid, int64_t zxid, int32_t err)
{
	assert_int_equal(R.count, 1);
	assert_int_equal(R.len, 20);
	assert_int_equal(nh_frame_xid(R.frames[0]), xid);
	assert_true(nh_frame_zxid(R.frames[0]) == zxid);
	assert_int_equal(nh_frame_err(R.frames[0]), err);
}

static int64_t connect_session(uint32_t conn, int32_t timeout_ms, uint8_t passwd[16])
{
	return nh_connect(&H, conn, timeout_ms, passwd);
}

static int32_t create(uint32_t conn, int32_t xid, const char *path, const char *data, int32_t flags)
{
	nh_body_create(&B, path, data, data != NULL ? strlen(data) : 0, flags);
	call(conn, xid, PD_OP_CREATE, &B);
	assert_true(R.count >= 1);
	return nh_frame_err(R.frames[R.count - 1]);
}

static int64_t ping_zxid(uint32_t conn)
{
	call(conn, 77, PD_OP_PING, NULL);
	assert_int_equal(R.count, 1);
	assert_int_equal(nh_frame_xid(R.frames[0]), PD_XID_PING);
	return nh_frame_zxid(R.frames[0]);
}

static bool exists(uint32_t conn, const char *path)
{
	nh_body_path_watch(&B, path, false);
	call(conn, 88, PD_OP_EXISTS, &B);
	assert_int_equal(R.count, 1);
	return nh_frame_err(R.frames[0]) == 0;
}

static bool is_zookeeper_code(int32_t err)
{
	static const int32_t codes[] = {0,    -1,   -2,   -3,   -4,   -5,   -6,   -7,   -8,   -13,  -14,
					-100, -101, -102, -103, -108, -110, -111, -112, -113, -114, -115,
					-118, -119, -120, -121, -122, -123, -124, -125, -127};
	size_t i;
	for (i = 0; i < PD_ARRAY_LEN(codes); i++)
		if (codes[i] == err)
			return true;
	return false;
}

/* --- handshake (§3) --- */

static void test_handshake_41_bytes_with_read_only(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	nh_open(&H, 1, "127.0.0.1");
	assert_int_equal(H.fx.count, 1); /* only the timer */
	assert_int_equal(H.fx.items[0].type, PD_FX_TIMER);
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, 0, NULL, true);
	assert_int_equal(t.n, 49);
	nh_data(&H, 1, t.b, t.n);
	assert_int_equal(H.last_rc, 0);
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 1);
	assert_int_equal(R.len, 41);
	assert_int_equal(pd_be32(R.bytes), 37);
	assert_int_equal(pd_be32(R.bytes + 4), 0);	      /* protocolVersion */
	assert_int_equal(pd_be32(R.bytes + 8), 30000);	      /* negotiated timeout */
	assert_true((int64_t)pd_be64(R.bytes + 12) == SID0);  /* sid 1 in the top byte */
	assert_int_equal(pd_be32(R.bytes + 20), 16);	      /* passwd is always 16 bytes */
	assert_int_equal(R.bytes[40], 0);		      /* readOnly = 0: not a read-only server */
	assert_false(nh_closed(&H, 1));
	{
		struct pd_node_stats st;
		pd_node_get_stats(H.node, &st);
		assert_int_equal(st.session_count, 1);
		assert_true(st.last_zxid == 1); /* creating a session is a transaction */
		assert_int_equal(st.connection_count, 1);
	}
	stop();
}

static void test_handshake_40_bytes_without_read_only(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	nh_open(&H, 1, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, 0, NULL, false);
	assert_int_equal(t.n, 48);
	nh_data(&H, 1, t.b, t.n);
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 1);
	assert_int_equal(R.len, 40);
	assert_int_equal(pd_be32(R.bytes), 36);
	assert_int_equal(pd_be32(R.bytes + 20), 16);
	assert_true((int64_t)pd_be64(R.bytes + 12) == SID0);
	/* the connection works */
	assert_true(ping_zxid(1) == 1);
	stop();
}

static void test_timeout_negotiation_clamps(void **state)
{
	static const struct {
		int32_t requested, negotiated;
	} cases[] = {{1000, 4000}, {10000000, 40000}, {0, 4000}, {-5, 4000}, {30000, 30000}, {4000, 4000}, {40000, 40000}};
	static struct tb t;
	size_t i;
	(void)state;
	start(NULL); /* tickTime 2000: min 4000, max 40000 (§3.4, wire) */
	for (i = 0; i < PD_ARRAY_LEN(cases); i++) {
		uint32_t conn = (uint32_t)(10 + i);
		nh_open(&H, conn, "127.0.0.1");
		t.n = 0;
		nh_connect_frame(&t, 0, cases[i].requested, 0, NULL, true);
		nh_data(&H, conn, t.b, t.n);
		nh_replies(&H, conn, &R);
		assert_int_equal(R.len, 41);
		assert_int_equal((int32_t)pd_be32(R.bytes + 8), cases[i].negotiated);
	}
	stop();
}

static void test_new_session_consumes_zxid_reattach_does_not(void **state)
{
	uint8_t pw[16];
	static struct tb t;
	int64_t sid;
	(void)state;
	start(NULL);
	sid = connect_session(1, 30000, pw);
	assert_true(ping_zxid(1) == 1);
	connect_session(2, 30000, NULL);
	assert_true(ping_zxid(2) == 2);
	/* re-attach: same id and password, newly negotiated timeout, no zxid */
	nh_open(&H, 3, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 2, 8000, sid, pw, true);
	nh_data(&H, 3, t.b, t.n);
	nh_replies(&H, 3, &R);
	assert_int_equal(R.len, 41);
	assert_int_equal(pd_be32(R.bytes + 8), 8000);
	assert_true((int64_t)pd_be64(R.bytes + 12) == sid);
	assert_memory_equal(R.bytes + 24, pw, 16);
	/* the connection that held the session is closed */
	assert_true(nh_closed(&H, 1));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	assert_true(ping_zxid(3) == 2);
	stop();
}

/* --- request/reply round trips with exact bytes (§2, §4, §6) --- */

static void test_create_get_set_delete_exact_bytes(void **state)
{
	const int64_t t1 = 0x1a21728804dLL, t2 = 0x1a217288059LL;
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* zxid 1 */

	H.wall_ms = t1;
	assert_int_equal(create(1, 1, "/a", "hi", 0), 0); /* zxid 2 */
	w_reset();
	at = w_begin();
	w_header(1, 2, 0);
	tb_str(&W, "/a");
	tb_frame_end(&W, at);
	expect_sent("create reply");

	H.wall_ms = t2; /* reads do not care about the clock */
	nh_body_path_watch(&B, "/a", false);
	call(1, 2, PD_OP_GETDATA, &B);
	w_reset();
	at = w_begin();
	w_header(2, 2, 0);
	tb_buf(&W, "hi", 2);
	tb_stat(&W, 2, 2, t1, t1, 0, 0, 0, 0, 2, 0, 2);
	tb_frame_end(&W, at);
	assert_int_equal(W.n, 4 + 16 + 6 + 68);
	expect_sent("getData reply");

	nh_body_set_data(&B, "/a", "bye", 3, 0);
	call(1, 3, PD_OP_SETDATA, &B); /* zxid 3 */
	w_reset();
	at = w_begin();
	w_header(3, 3, 0);
	tb_stat(&W, 2, 3, t1, t2, 1, 0, 0, 0, 3, 0, 2);
	tb_frame_end(&W, at);
	expect_sent("setData reply");

	nh_body_create(&B, "/a/b", NULL, 0, 0);
	call(1, 4, PD_OP_CREATE2, &B); /* zxid 4, null data */
	w_reset();
	at = w_begin();
	w_header(4, 4, 0);
	tb_str(&W, "/a/b");
	tb_stat(&W, 4, 4, t2, t2, 0, 0, 0, 0, 0, 0, 4);
	tb_frame_end(&W, at);
	expect_sent("create2 reply");

	nh_body_path_watch(&B, "/a/b", false);
	call(1, 5, PD_OP_GETDATA, &B);
	w_reset();
	at = w_begin();
	w_header(5, 4, 0);
	tb_buf(&W, NULL, 0); /* null data stays null (§1.2) */
	tb_stat(&W, 4, 4, t2, t2, 0, 0, 0, 0, 0, 0, 4);
	tb_frame_end(&W, at);
	expect_sent("getData of null data");

	nh_body_path_watch(&B, "/a", false);
	call(1, 6, PD_OP_GETCHILDREN2, &B);
	w_reset();
	at = w_begin();
	w_header(6, 4, 0);
	tb_i32(&W, 1);
	tb_str(&W, "b");
	tb_stat(&W, 2, 3, t1, t2, 1, 1, 0, 0, 3, 1, 4);
	tb_frame_end(&W, at);
	expect_sent("getChildren2 reply");

	nh_body_path_int(&B, "/a/b", -1);
	call(1, 7, PD_OP_DELETE, &B); /* zxid 5 */
	w_reset();
	w_header_frame(7, 5, 0);
	expect_sent("delete reply");

	nh_body_path_watch(&B, "/a", false);
	call(1, 8, PD_OP_EXISTS, &B);
	w_reset();
	at = w_begin();
	w_header(8, 5, 0);
	tb_stat(&W, 2, 3, t1, t2, 1, 2, 0, 0, 3, 0, 5); /* cversion 2 = 2*1 - 0, pzxid raised by the delete */
	tb_frame_end(&W, at);
	expect_sent("exists reply");

	nh_body_path_int(&B, "/a", 1);
	call(1, 9, PD_OP_DELETE, &B); /* zxid 6 */
	expect_error(9, 6, 0);
	nh_body_path_watch(&B, "/a", false);
	call(1, 10, PD_OP_GETDATA, &B);
	expect_error(10, 6, PD_ENONODE);
	stop();
}

static void test_error_replies_are_bare_16_byte_headers(void **state)
{
	int64_t z;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	assert_int_equal(create(1, 1, "/p", "", 0), 0);
	assert_int_equal(create(1, 2, "/p/c", "", 0), 0);
	z = 3;
	/* reads: the current zxid, no body */
	nh_body_path_watch(&B, "/missing", false);
	call(1, 3, PD_OP_GETDATA, &B);
	expect_error(3, z, PD_ENONODE);
	call(1, 4, PD_OP_EXISTS, &B);
	expect_error(4, z, PD_ENONODE);
	call(1, 5, PD_OP_GETCHILDREN, &B);
	expect_error(5, z, PD_ENONODE);
	B.n = 0;
	tb_str(&B, "/missing");
	call(1, 6, PD_OP_GETACL, &B);
	expect_error(6, z, PD_ENONODE);
	call(1, 7, PD_OP_GETALLCHILDRENNUMBER, &B);
	expect_error(7, z, PD_ENONODE);
	/* writes: each failure is a transaction with its own zxid (§4.4) */
	nh_body_path_int(&B, "/missing", -1);
	call(1, 8, PD_OP_DELETE, &B);
	expect_error(8, ++z, PD_ENONODE);
	nh_body_path_int(&B, "/p", -1);
	call(1, 9, PD_OP_DELETE, &B);
	expect_error(9, ++z, PD_ENOTEMPTY);
	nh_body_path_int(&B, "/p/c", 5);
	call(1, 10, PD_OP_DELETE, &B);
	expect_error(10, ++z, PD_EBADVERSION);
	nh_body_path_int(&B, "/zookeeper", -1);
	call(1, 11, PD_OP_DELETE, &B);
	expect_error(11, ++z, PD_EBADARGUMENTS);
	nh_body_set_data(&B, "/p", "x", 1, 3);
	call(1, 12, PD_OP_SETDATA, &B);
	expect_error(12, ++z, PD_EBADVERSION);
	nh_body_set_data(&B, "/nope", "x", 1, -1);
	call(1, 13, PD_OP_SETDATA, &B);
	expect_error(13, ++z, PD_ENONODE);
	assert_int_equal(create(1, 14, "/p", "", 0), PD_ENODEEXISTS);
	expect_error(14, ++z, PD_ENODEEXISTS);
	assert_int_equal(create(1, 15, "/nope/x", "", 0), PD_ENONODE);
	expect_error(15, ++z, PD_ENONODE);
	/* "/a/" with /a missing is NONODE, not BADARGUMENTS (wire) */
	assert_int_equal(create(1, 16, "/a/", "", 0), PD_ENONODE);
	expect_error(16, ++z, PD_ENONODE);
	assert_int_equal(create(1, 17, "/p/.", "", 0), PD_EBADARGUMENTS);
	expect_error(17, ++z, PD_EBADARGUMENTS);
	assert_int_equal(create(1, 18, "/p/x", "", 7), PD_EBADARGUMENTS); /* flags out of range */
	expect_error(18, ++z, PD_EBADARGUMENTS);
	assert_int_equal(create(1, 19, "/", "", 0), PD_ENODEEXISTS); /* wire */
	expect_error(19, ++z, PD_ENODEEXISTS);
	assert_int_equal(create(1, 20, "/p/\xf0\x9f\x98\x80", "", 0), PD_EBADARGUMENTS); /* emoji, wire */
	expect_error(20, ++z, PD_EBADARGUMENTS);
	assert_int_equal(create(1, 21, "/p/\xc3\xa9", "", 0), 0); /* é is fine (wire) */
	z++;
	/* TTL while extended types are off: UNIMPLEMENTED (wire) */
	assert_int_equal(create(1, 22, "/p/t", "", 5), PD_EUNIMPLEMENTED);
	expect_error(22, ++z, PD_EUNIMPLEMENTED);
	/* an invalid ACL */
	B.n = 0;
	tb_str(&B, "/p/acl");
	tb_buf(&B, "", 0);
	tb_i32(&B, 1);
	tb_i32(&B, 31);
	tb_str(&B, "world");
	tb_str(&B, "someone");
	tb_i32(&B, 0);
	call(1, 23, PD_OP_CREATE, &B);
	expect_error(23, ++z, PD_EINVALIDACL);
	/* reconfig is disabled by default */
	B.n = 0;
	tb_str(&B, "");
	tb_str(&B, "");
	tb_str(&B, "");
	tb_i64(&B, -1);
	call(1, 24, PD_OP_RECONFIG, &B);
	expect_error(24, ++z, PD_ERECONFIGDISABLED);
	assert_true(ping_zxid(1) == z);
	stop();
}

static void test_failed_create_consumes_a_zxid(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	assert_int_equal(create(1, 1, "/ex", "x", 0), 0);
	assert_true(nh_frame_zxid(R.frames[0]) == 2);
	/* Appendix A: the same create again answers NODEEXISTS with the next zxid */
	assert_int_equal(create(1, 1, "/ex", "x", 0), PD_ENODEEXISTS);
	expect_error(1, 3, PD_ENODEEXISTS);
	assert_true(ping_zxid(1) == 3);
	/* and the next successful write gets the zxid after that */
	assert_int_equal(create(1, 2, "/ex2", "x", 0), 0);
	assert_true(nh_frame_zxid(R.frames[0]) == 4);
	stop();
}

static void test_ping_reply_xid_is_always_minus_two(void **state)
{
	static const int32_t xids[] = {-2, 0, 1, 12345, -7, INT32_MAX, INT32_MIN};
	size_t i;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	for (i = 0; i < PD_ARRAY_LEN(xids); i++) {
		call(1, xids[i], PD_OP_PING, NULL);
		w_reset();
		w_header_frame(-2, 1, 0);
		expect_sent("ping reply");
	}
	stop();
}

static void test_unknown_opcode_unimplemented_then_close(void **state)
{
	static const int32_t ops[] = {0, 10, 20, -10, 23, 99, 108, -1, 1000, -12};
	static struct tb t;
	size_t i;
	(void)state;
	start(NULL);
	for (i = 0; i < PD_ARRAY_LEN(ops); i++) {
		uint32_t conn = (uint32_t)(1 + i);
		connect_session(conn, 30000, NULL);
		/* the unknown op, and a ping pipelined behind it that must not be answered */
		t.n = 0;
		B.n = 0;
		tb_str(&B, "/x");
		nh_request_frame(&t, 42, ops[i], &B);
		nh_request_frame(&t, 43, PD_OP_PING, NULL);
		nh_data(&H, conn, t.b, t.n);
		nh_replies(&H, conn, &R);
		w_reset();
		w_header_frame(42, -1, PD_EUNIMPLEMENTED); /* zxid -1 (wire) */
		expect_sent("UNIMPLEMENTED reply");
		assert_true(nh_closed(&H, conn));
		/* the core forgot the connection: more data is ignored */
		nh_data(&H, conn, t.b, t.n);
		assert_int_equal(H.last_rc, 0);
		assert_int_equal(nh_count(&H, PD_FX_SEND, conn), 0);
	}
	stop();
}

/* --- framing (§1.1) --- */

static size_t build_stream(struct tb *t)
{
	t->n = 0;
	nh_connect_frame(t, 0, 30000, 0, NULL, true);
	nh_body_create(&B, "/s", "data", 4, 0);
	nh_request_frame(t, 1, PD_OP_CREATE, &B);
	nh_body_path_watch(&B, "/s", true);
	nh_request_frame(t, 2, PD_OP_GETDATA, &B);
	nh_body_set_data(&B, "/s", "more", 4, -1);
	nh_request_frame(t, 3, PD_OP_SETDATA, &B);
	nh_body_path_watch(&B, "/", false);
	nh_request_frame(t, 4, PD_OP_GETCHILDREN, &B);
	nh_request_frame(t, 5, PD_OP_PING, NULL);
	nh_body_path_watch(&B, "/none", false);
	nh_request_frame(t, 6, PD_OP_EXISTS, &B);
	return t->n;
}

static void test_split_frames_byte_by_byte_same_output(void **state)
{
	static struct tb t;
	static uint8_t whole[8192], split[8192];
	size_t whole_len, split_len = 0, i, n;
	(void)state;
	n = build_stream(&t);
	/* one event with everything */
	start(NULL);
	H.wall_ms = 5000;
	nh_open(&H, 1, "127.0.0.1");
	nh_data(&H, 1, t.b, n);
	whole_len = nh_sent(&H, 1, whole, sizeof(whole));
	/* ConnectResponse, create, getData, the data watch event, setData, getChildren, ping, exists */
	assert_int_equal(nh_frames(whole, whole_len, R.frames, PD_ARRAY_LEN(R.frames)), 8);
	stop();
	/* one event per byte, on an identical node */
	nh_init(&H2, BASE_CFG, 0x174440);
	H2.wall_ms = 5000;
	nh_open(&H2, 1, "127.0.0.1");
	for (i = 0; i < n; i++) {
		nh_data(&H2, 1, t.b + i, 1);
		assert_int_equal(H2.last_rc, 0);
		split_len += nh_sent(&H2, 1, split + split_len, sizeof(split) - split_len);
		assert_false(nh_closed(&H2, 1));
	}
	tu_assert_bytes(split, split_len, whole, whole_len, "byte-by-byte output");
	/* uneven chunks too */
	nh_destroy(&H2);
	nh_init(&H2, BASE_CFG, 0x174440);
	H2.wall_ms = 5000;
	nh_open(&H2, 1, "127.0.0.1");
	split_len = 0;
	for (i = 0; i < n;) {
		size_t chunk = 1 + (i * 7) % 13;
		if (chunk > n - i)
			chunk = n - i;
		nh_data(&H2, 1, t.b + i, chunk);
		split_len += nh_sent(&H2, 1, split + split_len, sizeof(split) - split_len);
		i += chunk;
	}
	tu_assert_bytes(split, split_len, whole, whole_len, "chunked output");
	nh_destroy(&H2);
}

static void test_pipelined_frames_answered_in_order(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	t.n = 0;
	nh_body_create(&B, "/p", "", 0, 0);
	nh_request_frame(&t, 10, PD_OP_CREATE, &B);
	nh_body_path_watch(&B, "/p", false);
	nh_request_frame(&t, 11, PD_OP_EXISTS, &B);
	nh_body_path_watch(&B, "/nope", false);
	nh_request_frame(&t, 12, PD_OP_GETDATA, &B);
	nh_request_frame(&t, 13, PD_OP_PING, NULL);
	B.n = 0;
	tb_str(&B, "/p");
	nh_request_frame(&t, 14, PD_OP_SYNC, &B);
	nh_body_create(&B, "/p", "", 0, 0);
	nh_request_frame(&t, 15, PD_OP_CREATE, &B);
	nh_data(&H, 1, t.b, t.n);
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 6);
	assert_int_equal(nh_frame_xid(R.frames[0]), 10);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(nh_frame_xid(R.frames[1]), 11);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	assert_int_equal(nh_frame_xid(R.frames[2]), 12);
	assert_int_equal(nh_frame_err(R.frames[2]), PD_ENONODE);
	assert_int_equal(nh_frame_xid(R.frames[3]), -2);
	assert_int_equal(nh_frame_xid(R.frames[4]), 14);
	assert_int_equal(nh_frame_xid(R.frames[5]), 15);
	assert_int_equal(nh_frame_err(R.frames[5]), PD_ENODEEXISTS);
	/* zxids never decrease along the stream (§13) */
	assert_true(nh_frame_zxid(R.frames[0]) == 2);
	assert_true(nh_frame_zxid(R.frames[4]) == 2);
	assert_true(nh_frame_zxid(R.frames[5]) == 3);
	/* sync echoes the path */
	assert_int_equal(R.frames[4].len, 4 + 16 + 4 + 2);
	assert_memory_equal(R.frames[4].p + 24, "/p", 2);
	stop();
}

static void test_requests_pipelined_behind_connect(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	nh_open(&H, 1, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, 0, NULL, true);
	nh_body_create(&B, "/early", "", 0, 0);
	nh_request_frame(&t, 1, PD_OP_CREATE, &B);
	nh_request_frame(&t, 2, PD_OP_PING, NULL);
	nh_data(&H, 1, t.b, t.n);
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 3);
	assert_int_equal(R.frames[0].len, 41); /* the ConnectResponse comes first */
	assert_int_equal(nh_frame_xid(R.frames[1]), 1);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	assert_true(nh_frame_zxid(R.frames[1]) == 2);
	assert_int_equal(nh_frame_xid(R.frames[2]), -2);
	stop();
}

static void test_bad_length_prefix_closes_only_that_connection(void **state)
{
	static const uint8_t too_big[] = {0x00, 0x10, 0x00, 0x00}; /* 0x100000 > jute.maxbuffer 0xfffff */
	static const uint8_t negative[] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0};
	static const uint8_t max_ok[] = {0x00, 0x0f, 0xff, 0xff, 0, 0, 0, 1};
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	connect_session(3, 30000, NULL);
	nh_data(&H, 1, too_big, sizeof(too_big));
	assert_true(nh_closed(&H, 1));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0); /* closed without a reply */
	nh_data(&H, 2, negative, sizeof(negative));
	assert_true(nh_closed(&H, 2));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	/* exactly the limit is a legal length: the node waits for the rest */
	nh_data(&H, 3, max_ok, sizeof(max_ok));
	assert_false(nh_closed(&H, 3));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 3), 0);
	/* another connection still works */
	connect_session(4, 30000, NULL);
	assert_true(ping_zxid(4) == 4);
	assert_int_equal(create(4, 1, "/still", "", 0), 0);
	/* before the handshake too */
	nh_open(&H, 5, "127.0.0.1");
	nh_data(&H, 5, too_big, sizeof(too_big));
	assert_true(nh_closed(&H, 5));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 5), 0);
	stop();
}

static void test_truncated_body_marshalling_error_connection_stays(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* zxid 1 */
	/* getData without its watch byte: a read, no zxid */
	B.n = 0;
	tb_str(&B, "/x");
	call(1, 5, PD_OP_GETDATA, &B);
	expect_error(5, 1, PD_EMARSHALLING);
	assert_false(nh_closed(&H, 1));
	/* create with only a path: a write, the failure consumes a zxid (wire) */
	call(1, 6, PD_OP_CREATE, &B);
	expect_error(6, 2, PD_EMARSHALLING);
	assert_false(nh_closed(&H, 1));
	assert_false(exists(1, "/x"));
	/* a string length running past the frame */
	B.n = 0;
	tb_i32(&B, 100);
	tb_raw(&B, "/x", 2);
	call(1, 7, PD_OP_EXISTS, &B);
	expect_error(7, 2, PD_EMARSHALLING);
	/* setWatches with a null list (wire: MARSHALLINGERROR) */
	B.n = 0;
	tb_i64(&B, 0);
	tb_i32(&B, 0);
	tb_i32(&B, -1);
	tb_i32(&B, 0);
	call(1, PD_XID_SETWATCHES, PD_OP_SETWATCHES, &B);
	expect_error(PD_XID_SETWATCHES, 2, PD_EMARSHALLING);
	assert_true(ping_zxid(1) == 2);
	/* a frame too short for a RequestHeader closes the connection */
	t.n = 0;
	tb_i32(&t, 4);
	tb_i32(&t, 1);
	nh_data(&H, 1, t.b, t.n);
	assert_true(nh_closed(&H, 1));
	stop();
}

/* --- watches (§9) --- */

static void test_watch_notification_precedes_reply(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	assert_int_equal(create(1, 1, "/w", "1", 0), 0); /* zxid 3 */
	/* A watches /w and changes it itself: the event comes before the reply (wire) */
	nh_body_path_watch(&B, "/w", true);
	call(1, 2, PD_OP_GETDATA, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	nh_body_set_data(&B, "/w", "2", 1, -1);
	call(1, 3, PD_OP_SETDATA, &B); /* zxid 4 */
	assert_int_equal(R.count, 2);
	w_reset();
	w_notification(PD_WEV_DATA_CHANGED, "/w");
	tu_assert_bytes(R.frames[0].p, R.frames[0].len, W.b, W.n, "notification first");
	assert_int_equal(nh_frame_xid(R.frames[1]), 3);
	assert_true(nh_frame_zxid(R.frames[1]) == 4);
	/* one-shot: the next change is silent */
	call(1, 4, PD_OP_SETDATA, &B);
	assert_int_equal(R.count, 1);
	/* B: exists-watch on a missing node fires NodeCreated in A's step */
	nh_body_path_watch(&B, "/x", true);
	call(2, 1, PD_OP_EXISTS, &B);
	expect_error(1, 5, PD_ENONODE);
	nh_body_path_watch(&B, "/", true);
	call(2, 2, PD_OP_GETCHILDREN, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(create(1, 5, "/x", "", 0), 0); /* zxid 6 */
	assert_int_equal(R.count, 1); /* A itself watches nothing here */
	nh_replies(&H, 2, &R);
	w_reset();
	w_notification(PD_WEV_CREATED, "/x");
	w_notification(PD_WEV_CHILDREN_CHANGED, "/"); /* the node's event first, then the parent's */
	expect_sent("events for B");
	/* both watches were one-shot */
	nh_body_path_int(&B, "/x", -1);
	call(1, 6, PD_OP_DELETE, &B);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	/* Appendix A: a notification after another session deleted the node */
	assert_int_equal(create(1, 7, "/ex", "x", 0), 0);
	nh_body_path_watch(&B, "/ex", true);
	call(2, 3, PD_OP_GETDATA, &B);
	nh_body_path_int(&B, "/ex", -1);
	call(1, 8, PD_OP_DELETE, &B);
	nh_replies(&H, 2, &R);
	{
		uint8_t want[64];
		size_t n = tu_unhex("0000001f ffffffff ffffffffffffffff 00000000 00000002 00000003 00000003 2f6578",
				    want, sizeof(want));
		tu_assert_bytes(R.bytes, R.len, want, n, "Appendix A notification");
	}
	(void)at;
	stop();
}

static void test_persistent_watches_and_add_watch_reply(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	nh_body_path_int(&B, "/r", 1); /* PERSISTENT_RECURSIVE on a node that does not exist */
	call(2, 1, PD_OP_ADDWATCH, &B);
	w_reset();
	at = w_begin();
	w_header(1, 2, 0);
	tb_i32(&W, 0); /* a 4-byte body (wire) */
	tb_frame_end(&W, at);
	expect_sent("addWatch reply");
	nh_body_path_int(&B, "/r", 2);
	call(2, 2, PD_OP_ADDWATCH, &B);
	expect_error(2, 2, PD_EMARSHALLING); /* bad mode (wire) */
	assert_int_equal(create(1, 1, "/r", "", 0), 0);
	assert_int_equal(create(1, 2, "/r/a", "", 0), 0);
	assert_int_equal(create(1, 3, "/r/a/b", "", 0), 0);
	nh_body_set_data(&B, "/r/a/b", "z", 1, -1);
	call(1, 4, PD_OP_SETDATA, &B);
	nh_replies(&H, 2, &R);
	w_reset();
	w_notification(PD_WEV_DATA_CHANGED, "/r/a/b");
	expect_sent("recursive: data change of a grandchild");
	nh_body_path_int(&B, "/r/a/b", -1);
	call(1, 5, PD_OP_DELETE, &B);
	nh_replies(&H, 2, &R);
	w_reset();
	w_notification(PD_WEV_DELETED, "/r/a/b"); /* never NodeChildrenChanged */
	expect_sent("recursive: delete");
	/* removeWatches: type 3 (any) removes the persistent one; again: NOWATCHER */
	nh_body_path_int(&B, "/r", 3);
	call(2, 3, PD_OP_REMOVEWATCHES, &B);
	expect_error(3, 7, 0);
	call(2, 4, PD_OP_REMOVEWATCHES, &B);
	expect_error(4, 7, PD_ENOWATCHER);
	nh_body_path_int(&B, "/r", 9);
	call(2, 5, PD_OP_CHECKWATCHES, &B);
	expect_error(5, 7, PD_EMARSHALLING);
	nh_body_set_data(&B, "/r/a", "z", 1, -1);
	call(1, 6, PD_OP_SETDATA, &B);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	stop();
}

static void test_set_watches_catch_up_events_before_reply(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);			 /* 1 */
	assert_int_equal(create(1, 1, "/d", "", 0), 0); /* 2 */
	assert_int_equal(create(1, 2, "/e", "", 0), 0); /* 3 */
	nh_body_set_data(&B, "/d", "x", 1, -1);
	call(1, 3, PD_OP_SETDATA, &B); /* 4: /d mzxid 4 */
	connect_session(2, 30000, NULL); /* 5 */
	B.n = 0;
	tb_i64(&B, 3); /* relativeZxid: the client last saw zxid 3 */
	tb_i32(&B, 3); /* data watches */
	tb_str(&B, "/d");    /* changed after 3: NodeDataChanged */
	tb_str(&B, "/e");    /* unchanged: re-registered */
	tb_str(&B, "/gone"); /* missing: NodeDeleted */
	tb_i32(&B, 2); /* exist watches */
	tb_str(&B, "/e");    /* exists now: NodeCreated */
	tb_str(&B, "/new");  /* still missing: re-registered */
	tb_i32(&B, 1); /* child watches */
	tb_str(&B, "/");     /* pzxid 3 is not after 3: re-registered */
	call(2, PD_XID_SETWATCHES, PD_OP_SETWATCHES, &B);
	w_reset();
	w_notification(PD_WEV_DATA_CHANGED, "/d");
	w_notification(PD_WEV_DELETED, "/gone");
	w_notification(PD_WEV_CREATED, "/e");
	w_header_frame(PD_XID_SETWATCHES, 5, 0);
	expect_sent("setWatches catch-up then reply");
	/* the re-registered watches fire later */
	assert_int_equal(create(1, 4, "/new", "", 0), 0);
	nh_replies(&H, 2, &R);
	w_reset();
	w_notification(PD_WEV_CREATED, "/new");
	w_notification(PD_WEV_CHILDREN_CHANGED, "/");
	expect_sent("re-registered watches");
	stop();
}

static void test_dropped_connection_loses_its_watches(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	assert_int_equal(create(1, 1, "/x", "", 0), 0);
	nh_body_path_watch(&B, "/x", true);
	call(2, 1, PD_OP_GETDATA, &B);
	assert_int_equal(create(2, 2, "/x/eph", "", 1), 0);
	nh_conn_closed(&H, 2);
	nh_body_set_data(&B, "/x", "1", 1, -1);
	call(1, 2, PD_OP_SETDATA, &B);
	assert_int_equal(H.fx.count >= 1, 1);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	/* the session (and its ephemeral) outlives the TCP connection until it times out */
	assert_true(exists(1, "/x/eph"));
	stop();
}

/* --- multi (§10) --- */

static void test_multi_failure_results(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);		    /* 1 */
	assert_int_equal(create(1, 1, "/m4", "", 0), 0); /* 2 */
	assert_int_equal(create(1, 2, "/m4/a", "", 0), 0); /* 3 */
	B.n = 0;
	tb_multi_create(&B, "/m4/d", "", 0);
	tb_multi_create(&B, "/m4/a", "", 0);
	tb_multi_header(&B, PD_OP_SETDATA, false, -1);
	tb_str(&B, "/m4/a");
	tb_str(&B, "v");
	tb_i32(&B, -1);
	tb_multi_header(&B, PD_OP_DELETE, false, -1);
	tb_str(&B, "/m4");
	tb_i32(&B, -1);
	tb_multi_header(&B, -1, true, -1);
	call(1, 9, PD_OP_MULTI, &B); /* 4 */
	w_reset();
	at = w_begin();
	w_header(9, 4, 0); /* header err 0 even though the multi failed (wire) */
	tb_multi_header(&W, -1, false, 0);
	tb_i32(&W, 0);
	tb_multi_header(&W, -1, false, PD_ENODEEXISTS);
	tb_i32(&W, PD_ENODEEXISTS);
	tb_multi_header(&W, -1, false, PD_ERUNTIMEINCONSISTENCY);
	tb_i32(&W, PD_ERUNTIMEINCONSISTENCY);
	tb_multi_header(&W, -1, false, PD_ERUNTIMEINCONSISTENCY);
	tb_i32(&W, PD_ERUNTIMEINCONSISTENCY);
	tb_multi_header(&W, -1, true, -1);
	tb_frame_end(&W, at);
	expect_sent("failed multi");
	/* nothing was applied */
	assert_false(exists(1, "/m4/d"));
	nh_body_path_watch(&B, "/m4/a", false);
	call(1, 10, PD_OP_GETDATA, &B);
	assert_int_equal(pd_be32(R.bytes + 20), 0); /* data still empty */
	assert_int_equal((int32_t)pd_be32(R.bytes + 24 + 32), 0); /* version 0 */
	/* the failed multi consumed zxid 4 */
	assert_true(ping_zxid(1) == 4);
	stop();
}

static void test_multi_success_exact_bytes(void **state)
{
	const int64_t t = 0x1a21728806cLL;
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	H.wall_ms = t;
	/* the reference's reply to exactly this multi, captured (test_capture.c, step multi_ok), with zxid 2 */
	B.n = 0;
	tb_multi_create(&B, "/m", "", 0);
	tb_multi_create(&B, "/m/a", "A", 0);
	tb_multi_header(&B, PD_OP_SETDATA, false, -1);
	tb_str(&B, "/m");
	tb_str(&B, "x");
	tb_i32(&B, -1);
	tb_multi_header(&B, PD_OP_CHECK, false, -1);
	tb_str(&B, "/m/a");
	tb_i32(&B, 0);
	tb_multi_header(&B, PD_OP_DELETE, false, -1);
	tb_str(&B, "/m/a");
	tb_i32(&B, 0);
	tb_multi_header(&B, -1, true, -1);
	call(1, 19, PD_OP_MULTI, &B);
	w_reset();
	at = w_begin();
	w_header(19, 2, 0);
	tb_multi_header(&W, PD_OP_CREATE, false, 0);
	tb_str(&W, "/m");
	tb_multi_header(&W, PD_OP_CREATE, false, 0);
	tb_str(&W, "/m/a");
	tb_multi_header(&W, PD_OP_SETDATA, false, 0);
	tb_stat(&W, 2, 2, t, t, 1, 1, 0, 0, 1, 1, 2);
	tb_multi_header(&W, PD_OP_CHECK, false, 0);
	tb_multi_header(&W, PD_OP_DELETE, false, 0);
	tb_multi_header(&W, -1, true, -1);
	tb_frame_end(&W, at);
	expect_sent("successful multi");
	assert_true(exists(1, "/m"));
	assert_false(exists(1, "/m/a"));
	/* a create sent as type 15 in a multi still answers type 1 with the path only (wire) */
	B.n = 0;
	tb_multi_header(&B, PD_OP_CREATE2, false, -1);
	tb_str(&B, "/m/b");
	tb_str(&B, "");
	tb_acl_world(&B, 31);
	tb_i32(&B, 0);
	tb_multi_header(&B, -1, true, -1);
	call(1, 20, PD_OP_MULTI, &B);
	w_reset();
	at = w_begin();
	w_header(20, 3, 0);
	tb_multi_header(&W, PD_OP_CREATE, false, 0);
	tb_str(&W, "/m/b");
	tb_multi_header(&W, -1, true, -1);
	tb_frame_end(&W, at);
	expect_sent("create2 inside multi");
	stop();
}

static void test_empty_and_malformed_multi(void **state)
{
	uint8_t want[64];
	size_t n;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	/* an empty multi succeeds and burns a zxid (wire, Appendix A) */
	B.n = 0;
	tb_multi_header(&B, -1, true, -1);
	call(1, 6, PD_OP_MULTI, &B);
	n = tu_unhex("00000019 00000006 0000000000000002 00000000 ffffffff 01 ffffffff", want, sizeof(want));
	tu_assert_bytes(R.bytes, R.len, want, n, "empty multi");
	/* mixing a read into a multi: the whole request is a MARSHALLINGERROR, no body */
	B.n = 0;
	tb_multi_create(&B, "/mix", "", 0);
	tb_multi_header(&B, PD_OP_GETDATA, false, -1);
	tb_str(&B, "/");
	tb_u8(&B, 0);
	tb_multi_header(&B, -1, true, -1);
	call(1, 7, PD_OP_MULTI, &B);
	expect_error(7, 3, PD_EMARSHALLING);
	assert_false(exists(1, "/mix"));
	/* a multi without its terminator */
	B.n = 0;
	tb_multi_create(&B, "/mix", "", 0);
	call(1, 8, PD_OP_MULTI, &B);
	expect_error(8, 4, PD_EMARSHALLING);
	assert_false(exists(1, "/mix"));
	assert_false(nh_closed(&H, 1));
	stop();
}

static void test_multi_read_partial_failure(void **state)
{
	size_t at;
	const int64_t t = 777;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	H.wall_ms = t;
	assert_int_equal(create(1, 1, "/r", "val", 0), 0); /* 2 */
	B.n = 0;
	tb_multi_header(&B, PD_OP_GETDATA, false, -1);
	tb_str(&B, "/r");
	tb_u8(&B, 1); /* the watch flag is ignored in multiRead */
	tb_multi_header(&B, PD_OP_GETDATA, false, -1);
	tb_str(&B, "/nope");
	tb_u8(&B, 0);
	tb_multi_header(&B, PD_OP_GETCHILDREN, false, -1);
	tb_str(&B, "/r");
	tb_u8(&B, 0);
	tb_multi_header(&B, -1, true, -1);
	call(1, 30, PD_OP_MULTIREAD, &B);
	w_reset();
	at = w_begin();
	w_header(30, 2, 0);
	tb_multi_header(&W, PD_OP_GETDATA, false, 0);
	tb_str(&W, "val");
	tb_stat(&W, 2, 2, t, t, 0, 0, 0, 0, 3, 0, 2);
	tb_multi_header(&W, -1, false, PD_ENONODE);
	tb_i32(&W, PD_ENONODE);
	tb_multi_header(&W, PD_OP_GETCHILDREN, false, 0);
	tb_i32(&W, 0);
	tb_multi_header(&W, -1, true, -1);
	tb_frame_end(&W, at);
	expect_sent("multiRead");
	/* no zxid consumed, and no watch was set */
	assert_true(ping_zxid(1) == 2);
	nh_body_set_data(&B, "/r", "x", 1, -1);
	call(1, 31, PD_OP_SETDATA, &B);
	assert_int_equal(R.count, 1);
	/* a write inside multiRead */
	B.n = 0;
	tb_multi_create(&B, "/w", "", 0);
	tb_multi_header(&B, -1, true, -1);
	call(1, 32, PD_OP_MULTIREAD, &B);
	expect_error(32, 3, PD_EMARSHALLING);
	stop();
}

/* --- sessions (§3.6, §13) --- */

static void test_session_expiry_after_tick(void **state)
{
	uint8_t pw[16];
	int64_t sid_a, z;
	uint64_t touched, deadline;
	static struct tb t;
	(void)state;
	start(NULL);
	sid_a = connect_session(1, 4000, pw); /* A: 4000 ms, zxid 1 */
	connect_session(2, 30000, NULL);      /* B: zxid 2 */
	assert_int_equal(create(1, 1, "/e", "", PD_MODE_EPHEMERAL), 0);	     /* 3 */
	assert_int_equal(create(1, 2, "/keep", "", PD_MODE_PERSISTENT), 0); /* 4 */
	assert_int_equal(create(1, 3, "/keep/e2", "", PD_MODE_EPHEMERAL_SEQUENTIAL), 0); /* 5 */
	touched = H.now_ms;
	/* B watches A's ephemerals */
	nh_body_path_watch(&B, "/e", true);
	call(2, 1, PD_OP_EXISTS, &B);
	nh_body_path_watch(&B, "/", true);
	call(2, 2, PD_OP_GETCHILDREN, &B);
	nh_body_path_watch(&B, "/keep", true);
	call(2, 3, PD_OP_GETCHILDREN, &B);
	/* tick-aligned bucket: expiry between timeout and timeout + tick after the last request */
	deadline = ((touched + 4000) / 2000 + 1) * 2000;
	assert_true(deadline > touched + 4000 && deadline <= touched + 6000);
	H.now_ms = deadline - 1;
	assert_true(ping_zxid(2) == 5); /* B stays alive */
	nh_tick(&H, deadline - 1);
	assert_int_equal(nh_count(&H, PD_FX_CLOSE, 1), 0);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	nh_tick(&H, deadline);
	/* A's connection is closed without anything sent to it (§13.6) */
	assert_true(nh_closed(&H, 1));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	/* B hears about both ephemerals */
	nh_replies(&H, 2, &R);
	assert_int_equal(R.count, 3);
	{
		int deleted = 0, children = 0;
		size_t i;
		for (i = 0; i < R.count; i++) {
			int32_t type = (int32_t)pd_be32(R.frames[i].p + 20);
			assert_int_equal(nh_frame_xid(R.frames[i]), -1);
			if (type == PD_WEV_DELETED) {
				deleted++;
				assert_int_equal(pd_be32(R.frames[i].p + 28), 2);
				assert_memory_equal(R.frames[i].p + 32, "/e", 2);
			} else {
				assert_int_equal(type, PD_WEV_CHILDREN_CHANGED);
				children++;
			}
		}
		assert_int_equal(deleted, 1);
		assert_int_equal(children, 2); /* / and /keep */
	}
	/* the ephemerals are gone, the persistent node stays; the close consumed one zxid */
	assert_false(exists(2, "/e"));
	assert_true(exists(2, "/keep"));
	nh_body_path_watch(&B, "/keep", false);
	call(2, 4, PD_OP_GETCHILDREN2, &B);
	z = nh_frame_zxid(R.frames[0]);
	assert_true(z == 6);
	assert_int_equal(pd_be32(R.bytes + 20), 0); /* no children */
	assert_true((int64_t)pd_be64(R.bytes + 24 + 60) == 6); /* pzxid: the close txn's zxid */
	{
		struct pd_node_stats st;
		pd_node_get_stats(H.node, &st);
		assert_int_equal(st.session_count, 1);
		assert_int_equal(st.ephemeral_count, 0);
		assert_int_equal(st.connection_count, 1);
	}
	/* re-attaching to the expired session gets the invalid answer and a close */
	nh_open(&H, 3, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 6, 4000, sid_a, pw, true);
	nh_data(&H, 3, t.b, t.n);
	nh_replies(&H, 3, &R);
	{
		uint8_t want[64];
		size_t n = tu_unhex("00000025 00000000 00000000 0000000000000000 00000010"
				    " 00000000000000000000000000000000 00", want, sizeof(want));
		tu_assert_bytes(R.bytes, R.len, want, n, "expired session ConnectResponse");
	}
	assert_true(nh_closed(&H, 3));
	stop();
}

static void test_expired_connection_gets_events_but_no_reply(void **state)
{
	uint64_t deadline;
	(void)state;
	start(NULL);
	connect_session(1, 4000, NULL);
	assert_int_equal(create(1, 1, "/own", "", PD_MODE_EPHEMERAL), 0);
	nh_body_path_watch(&B, "/own", true);
	call(1, 2, PD_OP_GETDATA, &B); /* A watches its own ephemeral */
	deadline = ((H.now_ms + 4000) / 2000 + 1) * 2000;
	nh_tick(&H, deadline);
	/* As the reference does (checked on the wire with ZooKeeper 3.8.0: the
	 * expiring connection received NodeDeleted for its own watched ephemeral
	 * and was then closed), only the notification, no reply, then the close. */
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 1);
	w_reset();
	w_notification(PD_WEV_DELETED, "/own");
	expect_sent("own watch on expiry");
	assert_true(nh_closed(&H, 1));
	stop();
}

static void test_session_kept_alive_by_requests(void **state)
{
	uint64_t now;
	(void)state;
	start(NULL);
	connect_session(1, 4000, NULL);
	assert_int_equal(create(1, 1, "/alive", "", PD_MODE_EPHEMERAL), 0);
	for (now = H.now_ms; now < 60000; now += 1500) {
		H.now_ms = now;
		(void)ping_zxid(1);
		nh_tick(&H, now + 1000);
		assert_false(nh_closed(&H, 1));
	}
	assert_true(exists(1, "/alive"));
	stop();
}

static void test_reconnect_right_and_wrong_password(void **state)
{
	uint8_t pw[16], bad[16];
	static struct tb t;
	int64_t sid;
	(void)state;
	start(NULL);
	sid = connect_session(1, 30000, pw); /* 1 */
	assert_int_equal(create(1, 1, "/eph", "", PD_MODE_EPHEMERAL), 0); /* 2 */
	/* wrong password: invalid answer (41 bytes), the new connection closed */
	memcpy(bad, pw, 16);
	bad[0] ^= 1;
	nh_open(&H, 2, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, sid, bad, true);
	nh_data(&H, 2, t.b, t.n);
	nh_replies(&H, 2, &R);
	assert_int_equal(R.len, 41);
	assert_int_equal(pd_be32(R.bytes + 8), 0);
	assert_true(pd_be64(R.bytes + 12) == 0);
	{
		static const uint8_t zero[16];
		assert_memory_equal(R.bytes + 24, zero, 16);
	}
	assert_true(nh_closed(&H, 2));
	/* the live connection is left alone: the password is checked first (§3.6) */
	assert_false(nh_closed(&H, 1));
	assert_true(ping_zxid(1) == 2);
	/* without the readOnly byte the invalid answer is 40 bytes */
	nh_open(&H, 3, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, sid, bad, false);
	nh_data(&H, 3, t.b, t.n);
	nh_replies(&H, 3, &R);
	assert_int_equal(R.len, 40);
	assert_true(nh_closed(&H, 3));
	/* an unknown session id */
	nh_open(&H, 4, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 30000, sid + 1000, pw, true);
	nh_data(&H, 4, t.b, t.n);
	nh_replies(&H, 4, &R);
	assert_int_equal(R.len, 41);
	assert_true(pd_be64(R.bytes + 12) == 0);
	assert_true(nh_closed(&H, 4));
	/* the right password: same id and password, the old connection is dropped */
	nh_open(&H, 5, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 2, 30000, sid, pw, true);
	nh_data(&H, 5, t.b, t.n);
	nh_replies(&H, 5, &R);
	assert_int_equal(R.len, 41);
	assert_int_equal(pd_be32(R.bytes + 8), 30000);
	assert_true((int64_t)pd_be64(R.bytes + 12) == sid);
	assert_memory_equal(R.bytes + 24, pw, 16);
	assert_false(nh_closed(&H, 5));
	assert_true(nh_closed(&H, 1));
	/* ephemerals belong to the session: still there; no zxid consumed */
	assert_true(exists(5, "/eph"));
	assert_true(ping_zxid(5) == 2);
	stop();
}

static void test_last_zxid_seen_ahead_closed_without_reply(void **state)
{
	static struct tb t;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* zxid 1 */
	nh_open(&H, 2, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 2, 30000, 0, NULL, true); /* the client has seen zxid 2; we are at 1 */
	nh_data(&H, 2, t.b, t.n);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	assert_true(nh_closed(&H, 2));
	/* no session was created for it */
	assert_true(ping_zxid(1) == 1);
	/* equal is fine */
	nh_open(&H, 3, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 1, 30000, 0, NULL, true);
	nh_data(&H, 3, t.b, t.n);
	nh_replies(&H, 3, &R);
	assert_int_equal(R.len, 41);
	assert_false(nh_closed(&H, 3));
	stop();
}

static void test_close_session_replies_then_closes(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	connect_session(2, 30000, NULL); /* 2 */
	assert_int_equal(create(1, 1, "/e1", "", PD_MODE_EPHEMERAL), 0); /* 3 */
	assert_int_equal(create(1, 2, "/e2", "", PD_MODE_EPHEMERAL), 0); /* 4 */
	call(1, 3, PD_OP_CLOSESESSION, NULL); /* 5 */
	w_reset();
	w_header_frame(3, 5, 0); /* the close txn's zxid (wire) */
	expect_sent("closeSession reply");
	assert_true(nh_closed(&H, 1));
	assert_false(exists(2, "/e1"));
	assert_false(exists(2, "/e2"));
	{
		struct pd_node_stats st;
		pd_node_get_stats(H.node, &st);
		assert_int_equal(st.session_count, 1);
		assert_int_equal(st.ephemeral_count, 0);
	}
	stop();
}

static void test_sequential_suffix_uses_child_creation_counter(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	H.wall_ms = 1;
	assert_int_equal(create(1, 1, "/p3", "", 0), 0);	/* 2 */
	assert_int_equal(create(1, 2, "/p3/a", "", 0), 0);	/* 3 */
	nh_body_path_int(&B, "/p3/a", -1);
	call(1, 3, PD_OP_DELETE, &B);				/* 4 */
	/* failed creates do not count */
	assert_int_equal(create(1, 4, "/p3/x/y", "", 0), PD_ENONODE); /* 5 */
	nh_body_create(&B, "/p3/s-", "", 0, PD_MODE_PERSISTENT_SEQUENTIAL);
	call(1, 5, PD_OP_CREATE2, &B); /* 6 */
	w_reset();
	at = w_begin();
	w_header(5, 6, 0);
	tb_str(&W, "/p3/s-0000000001"); /* wire: 1, not 2 */
	tb_stat(&W, 6, 6, 1, 1, 0, 0, 0, 0, 0, 0, 6);
	tb_frame_end(&W, at);
	expect_sent("sequential create2");
	nh_body_path_watch(&B, "/p3", false);
	call(1, 6, PD_OP_EXISTS, &B);
	assert_int_equal((int32_t)pd_be32(R.bytes + 20 + 36), 3); /* cversion 3 */
	/* a trailing '/' is legal for sequential creates (wire) */
	nh_body_create(&B, "/p3/", "", 0, PD_MODE_EPHEMERAL_SEQUENTIAL);
	call(1, 7, PD_OP_CREATE, &B);
	w_reset();
	at = w_begin();
	w_header(7, 7, 0);
	tb_str(&W, "/p3/0000000002");
	tb_frame_end(&W, at);
	expect_sent("sequential with trailing slash");
	stop();
}

static void test_auth_digest_and_acl_checks(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	/* auth reply: xid -4, zxid 0, no body (wire) */
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "digest");
	tb_str(&B, "user:pw");
	call(1, PD_XID_AUTH, PD_OP_AUTH, &B);
	w_reset();
	w_header_frame(PD_XID_AUTH, 0, 0);
	expect_sent("auth reply");
	/* create with auth:: ACL: expands to the digest id */
	B.n = 0;
	tb_str(&B, "/sec");
	tb_str(&B, "s");
	tb_i32(&B, 1);
	tb_i32(&B, PD_PERM_ALL);
	tb_str(&B, "auth");
	tb_str(&B, "");
	tb_i32(&B, 0);
	call(1, 1, PD_OP_CREATE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	/* the owner reads it and sees the full id */
	B.n = 0;
	tb_str(&B, "/sec");
	call(1, 2, PD_OP_GETACL, &B);
	w_reset();
	at = w_begin();
	w_header(2, 3, 0);
	tb_i32(&W, 1);
	tb_i32(&W, PD_PERM_ALL);
	tb_str(&W, "digest");
	tb_str(&W, "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	tb_stat(&W, 3, 3, H.wall_ms, H.wall_ms, 0, 0, 0, 0, 1, 0, 3);
	tb_frame_end(&W, at);
	expect_sent("getACL by the owner");
	/* the other connection is refused */
	nh_body_path_watch(&B, "/sec", false);
	call(2, 3, PD_OP_GETDATA, &B);
	expect_error(3, 3, PD_ENOAUTH);
	B.n = 0;
	tb_str(&B, "/sec");
	call(2, 4, PD_OP_GETACL, &B);
	expect_error(4, 3, PD_ENOAUTH);
	assert_int_equal(create(2, 5, "/sec/child", "", 0), PD_ENOAUTH);
	/* but exists needs no permission */
	assert_true(exists(2, "/sec"));
	/* whoAmI lists the connection's identities */
	call(1, 6, PD_OP_WHOAMI, NULL);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(pd_be32(R.bytes + 20), 2);
	/* an unknown auth scheme: AUTHFAILED, then the connection is closed (wire) */
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "kerberos");
	tb_str(&B, "x");
	call(2, PD_XID_AUTH, PD_OP_AUTH, &B);
	expect_error(PD_XID_AUTH, 0, PD_EAUTHFAILED);
	assert_true(nh_closed(&H, 2));
	stop();
}

static void test_get_acl_masks_digest_without_admin(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	/* READ for everyone, ADMIN only for a digest user: a reader sees user:x (wire) */
	B.n = 0;
	tb_str(&B, "/masked");
	tb_str(&B, "");
	tb_i32(&B, 2);
	tb_i32(&B, PD_PERM_READ);
	tb_str(&B, "world");
	tb_str(&B, "anyone");
	tb_i32(&B, PD_PERM_ALL);
	tb_str(&B, "digest");
	tb_str(&B, "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	tb_i32(&B, 0);
	call(1, 1, PD_OP_CREATE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	B.n = 0;
	tb_str(&B, "/masked");
	call(1, 2, PD_OP_GETACL, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	{
		static struct tb want;
		want.n = 0;
		tb_i32(&want, 2);
		tb_i32(&want, PD_PERM_READ);
		tb_str(&want, "world");
		tb_str(&want, "anyone");
		tb_i32(&want, PD_PERM_ALL);
		tb_str(&want, "digest");
		tb_str(&want, "user:x");
		tu_assert_bytes(R.bytes + 20, R.len - 20 - 68, want.b, want.n, "masked getACL");
	}
	stop();
}

/* wire-protocol.md §7.3: "There is no length limit beyond the frame size."
 * Checked against ZooKeeper 3.8.0 with raw sockets: creating "/" followed by
 * 5000 'a' succeeds and the reply echoes the 5001-byte path. */
static void test_long_path_has_no_limit_but_the_frame(void **state)
{
	static char path[5002];
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	path[0] = '/';
	memset(path + 1, 'a', 5000);
	path[5001] = '\0';
	assert_int_equal(create(1, 1, path, "", 0), 0);
	w_reset();
	at = w_begin();
	w_header(1, 2, 0);
	tb_str(&W, path);
	tb_frame_end(&W, at);
	expect_sent("create of a 5001-byte path");
	assert_true(exists(1, path));
	stop();
}

static void test_create_under_ephemeral_and_get_ephemerals(void **state)
{
	size_t at;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	connect_session(2, 30000, NULL); /* 2 */
	assert_int_equal(create(1, 1, "/e8", "", 0), 0);					/* 3 */
	assert_int_equal(create(1, 2, "/e8/q-", "", PD_MODE_EPHEMERAL_SEQUENTIAL), 0);	/* 4 */
	assert_int_equal(create(1, 3, "/e8/r", "", PD_MODE_EPHEMERAL), 0);		/* 5 */
	assert_int_equal(create(2, 1, "/e8/other", "", PD_MODE_EPHEMERAL), 0);		/* 6 */
	/* children of an ephemeral: NOCHILDRENFOREPHEMERALS (wire), a zxid consumed */
	assert_int_equal(create(1, 4, "/e8/q-0000000000/x", "", 0), PD_ENOCHILDRENFOREPHEMERALS);
	expect_error(4, 7, PD_ENOCHILDRENFOREPHEMERALS);
	/* getEphemerals: a plain string prefix over the caller's own ephemerals (wire) */
	B.n = 0;
	tb_str(&B, "/e8/q");
	call(1, 5, PD_OP_GETEPHEMERALS, &B);
	w_reset();
	at = w_begin();
	w_header(5, 7, 0);
	tb_i32(&W, 1);
	tb_str(&W, "/e8/q-0000000000");
	tb_frame_end(&W, at);
	expect_sent("getEphemerals /e8/q");
	B.n = 0;
	tb_str(&B, "/");
	call(1, 6, PD_OP_GETEPHEMERALS, &B);
	assert_int_equal(pd_be32(R.bytes + 20), 2); /* "/" means all of them, never another session's */
	B.n = 0;
	tb_buf(&B, NULL, 0);
	call(1, 7, PD_OP_GETEPHEMERALS, &B);
	assert_int_equal(pd_be32(R.bytes + 20), 2);
	B.n = 0;
	tb_str(&B, "/zz");
	call(1, 8, PD_OP_GETEPHEMERALS, &B);
	assert_int_equal(pd_be32(R.bytes + 20), 0);
	/* getAllChildrenNumber counts descendants */
	B.n = 0;
	tb_str(&B, "/");
	call(1, 9, PD_OP_GETALLCHILDRENNUMBER, &B);
	w_reset();
	at = w_begin();
	w_header(9, 7, 0);
	tb_i32(&W, 3 + 4); /* the three built-ins, /e8 and its three children */
	tb_frame_end(&W, at);
	expect_sent("getAllChildrenNumber /");
	stop();
}

static void test_who_am_i(void **state)
{
	int found_ip = 0, found_digest = 0;
	const uint8_t *p;
	uint32_t i, n;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "digest");
	tb_str(&B, "user:pw");
	call(1, PD_XID_AUTH, PD_OP_AUTH, &B);
	call(1, 5, PD_OP_WHOAMI, NULL);
	/* the reference answered [("digest","user"), ("ip","127.0.0.1")]; the order is a set's */
	assert_int_equal(R.count, 1);
	assert_int_equal(R.len, 4 + 0x39);
	n = pd_be32(R.bytes + 20);
	assert_int_equal(n, 2);
	p = R.bytes + 24;
	for (i = 0; i < n; i++) {
		uint32_t sl = pd_be32(p), ul;
		const uint8_t *scheme = p + 4, *user;
		ul = pd_be32(p + 4 + sl);
		user = p + 8 + sl;
		if (sl == 2 && memcmp(scheme, "ip", 2) == 0 && ul == 9 && memcmp(user, "127.0.0.1", 9) == 0)
			found_ip++;
		if (sl == 6 && memcmp(scheme, "digest", 6) == 0 && ul == 4 && memcmp(user, "user", 4) == 0)
			found_digest++;
		p += 8 + sl + ul;
	}
	assert_int_equal(found_ip, 1);
	assert_int_equal(found_digest, 1);
	stop();
}

static void test_super_digest_bypasses_acls(void **state)
{
	(void)state;
	/* super:secret */
	start("tickTime=2000\nDigestAuthenticationProvider.superDigest=super:lK75jTNcA+U9vtVEw5vB51mj/w4=\n");
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	B.n = 0;
	tb_str(&B, "/locked");
	tb_str(&B, "secret");
	tb_i32(&B, 1);
	tb_i32(&B, 0); /* perms 0: unreadable to all but super (wire) */
	tb_str(&B, "world");
	tb_str(&B, "anyone");
	tb_i32(&B, 0);
	call(1, 1, PD_OP_CREATE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	nh_body_path_watch(&B, "/locked", false);
	call(1, 2, PD_OP_GETDATA, &B);
	expect_error(2, 3, PD_ENOAUTH);
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "digest");
	tb_str(&B, "super:secret");
	call(2, PD_XID_AUTH, PD_OP_AUTH, &B);
	expect_error(PD_XID_AUTH, 0, 0);
	nh_body_path_watch(&B, "/locked", false);
	call(2, 3, PD_OP_GETDATA, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_memory_equal(R.bytes + 24, "secret", 6);
	nh_body_path_int(&B, "/locked", -1);
	call(2, 4, PD_OP_DELETE, &B);
	expect_error(4, 4, 0);
	/* a wrong super password is just another digest identity */
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "digest");
	tb_str(&B, "super:guess");
	call(1, PD_XID_AUTH, PD_OP_AUTH, &B);
	expect_error(PD_XID_AUTH, 0, 0);
	assert_int_equal(create(1, 5, "/locked2", "", 0), 0);
	stop();
}

static void test_container_reaped_after_its_last_child(void **state)
{
	size_t at;
	(void)state;
	start("tickTime=2000\nznode.container.checkIntervalMs=1000\n");
	H.wall_ms = 50;
	connect_session(1, 30000, NULL); /* 1 */
	connect_session(2, 30000, NULL); /* 2 */
	nh_body_create(&B, "/c", "", 0, PD_MODE_CONTAINER);
	call(1, 1, PD_OP_CREATECONTAINER, &B); /* 3 */
	w_reset();
	at = w_begin();
	w_header(1, 3, 0);
	tb_str(&W, "/c");
	tb_stat(&W, 3, 3, 50, 50, 0, 0, 0, 0, 0, 0, 3); /* ephemeralOwner 0 (wire) */
	tb_frame_end(&W, at);
	expect_sent("createContainer reply");
	nh_body_create(&B, "/never", "", 0, PD_MODE_CONTAINER);
	call(1, 2, PD_OP_CREATECONTAINER, &B); /* 4 */
	/* opcode 1 with flags 4 is a plain persistent node (wire) */
	assert_int_equal(create(1, 3, "/plain", "", PD_MODE_CONTAINER), 0); /* 5 */
	assert_int_equal(create(1, 4, "/c/x", "", 0), 0); /* 6 */
	nh_body_path_int(&B, "/c/x", -1);
	call(1, 5, PD_OP_DELETE, &B); /* 7 */
	nh_body_path_watch(&B, "/c", true);
	call(2, 1, PD_OP_EXISTS, &B);
	nh_tick(&H, 1999);
	assert_true(exists(1, "/c"));
	nh_tick(&H, 2000);
	nh_replies(&H, 2, &R);
	w_reset();
	w_notification(PD_WEV_DELETED, "/c");
	expect_sent("container reaped");
	assert_false(exists(1, "/c"));
	assert_true(exists(1, "/never")); /* never had a child: kept */
	assert_true(exists(1, "/plain"));
	assert_true(ping_zxid(1) == 8); /* the reaping is a transaction */
	stop();
}

static void test_ttl_nodes(void **state)
{
	size_t at;
	(void)state;
	start("tickTime=2000\nextendedTypesEnabled=true\nznode.container.checkIntervalMs=1000\n");
	H.wall_ms = 100000;
	connect_session(1, 30000, NULL); /* 1 */
	/* ttl must be 1 .. 2^40-1 */
	nh_body_create(&B, "/t", "", 0, PD_MODE_PERSISTENT_WITH_TTL);
	tb_i64(&B, 0);
	call(1, 1, PD_OP_CREATETTL, &B);
	expect_error(1, 2, PD_EBADARGUMENTS);
	nh_body_create(&B, "/t", "", 0, PD_MODE_PERSISTENT_WITH_TTL);
	tb_i64(&B, (int64_t)1 << 40);
	call(1, 2, PD_OP_CREATETTL, &B);
	expect_error(2, 3, PD_EBADARGUMENTS);
	/* opcode 21 with non-TTL flags */
	nh_body_create(&B, "/t", "", 0, 0);
	tb_i64(&B, 500);
	call(1, 3, PD_OP_CREATETTL, &B);
	expect_error(3, 4, PD_EBADARGUMENTS);
	/* TTL flags through opcode 1 (wire: BADARGUMENTS when extended types are on) */
	assert_int_equal(create(1, 4, "/t", "", PD_MODE_PERSISTENT_WITH_TTL), PD_EBADARGUMENTS);
	nh_body_create(&B, "/t", "", 0, PD_MODE_PERSISTENT_WITH_TTL);
	tb_i64(&B, 500);
	call(1, 5, PD_OP_CREATETTL, &B); /* 6 */
	w_reset();
	at = w_begin();
	w_header(5, 6, 0);
	tb_str(&W, "/t");
	tb_stat(&W, 6, 6, 100000, 100000, 0, 0, 0, 0, 0, 0, 6);
	tb_frame_end(&W, at);
	expect_sent("createTTL reply");
	nh_body_create(&B, "/s-", "", 0, PD_MODE_PERSISTENT_SEQUENTIAL_WITH_TTL);
	tb_i64(&B, 100000);
	call(1, 6, PD_OP_CREATETTL, &B); /* 7 */
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_memory_equal(R.bytes + 24, "/s-0000000001", 13); /* failed creates do not count */
	/* not yet expired */
	H.wall_ms = 100500;
	nh_tick(&H, 2000);
	assert_true(exists(1, "/t"));
	/* mtime + ttl passed: reaped */
	H.wall_ms = 100501;
	nh_tick(&H, 3000);
	assert_false(exists(1, "/t"));
	assert_true(exists(1, "/s-0000000001"));
	stop();
}

/* --- four-letter words (§12) --- */

static void test_four_letter_word_effect(void **state)
{
	static const uint8_t ruok[] = {'r', 'u', 'o', 'k', '\n'};
	struct pd_env env;
	struct pd_buf text = {0};
	const struct pd_effect *e = NULL;
	uint32_t i;
	(void)state;
	start(NULL);
	nh_open(&H, 1, "127.0.0.1");
	nh_data(&H, 1, ruok, sizeof(ruok));
	for (i = 0; i < H.fx.count; i++)
		if (H.fx.items[i].type == PD_FX_FOURLW)
			e = &H.fx.items[i];
	assert_non_null(e);
	assert_int_equal(e->conn, 1);
	assert_memory_equal(e->word, "ruok", 4);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	assert_int_equal(nh_count(&H, PD_FX_CLOSE, 1), 0); /* the driver sends, closes and reports */
	memset(&env, 0, sizeof(env));
	env.host_name = "localhost";
	assert_int_equal(pd_admin_render(H.node, "ruok", 0, &env, &text), 0);
	assert_int_equal(text.len, 4);
	assert_memory_equal(text.data, "imok", 4); /* no newline */
	text.len = 0;
	assert_int_equal(pd_admin_render(H.node, "srvr", 0, &env, &text), 0);
	assert_true(text.len > 20);
	assert_memory_equal(text.data, "Zookeeper version: 3.8.0", 24);
	pd_buf_free(pd_node_io_mem(H.node), &text);
	nh_conn_closed(&H, 1);
	{
		struct pd_node_stats st;
		pd_node_get_stats(H.node, &st);
		assert_int_equal(st.connection_count, 0);
	}
	stop();
}

static void test_four_letter_word_not_whitelisted(void **state)
{
	static const char msg[] = "stat is not executed because it is not in the whitelist.\n";
	(void)state;
	start("tickTime=2000\n"); /* default whitelist: srvr only */
	nh_open(&H, 1, "127.0.0.1");
	nh_data(&H, 1, "stat", 4);
	{ /* raw ASCII, not a frame */
		uint8_t out[256];
		size_t n = nh_sent(&H, 1, out, sizeof(out));
		tu_assert_bytes(out, n, (const uint8_t *)msg, sizeof(msg) - 1, "not whitelisted");
	}
	assert_true(nh_closed(&H, 1));
	assert_int_equal(nh_count(&H, PD_FX_FOURLW, 1), 0);
	/* srvr is always allowed */
	nh_open(&H, 2, "127.0.0.1");
	nh_data(&H, 2, "srvr", 4);
	assert_int_equal(nh_count(&H, PD_FX_FOURLW, 2), 1);
	nh_conn_closed(&H, 2);
	stop();
}

static void test_unknown_first_bytes_close_silently(void **state)
{
	(void)state;
	start(NULL);
	/* 4 ASCII bytes that are not a word read as a huge length: closed, no output (wire) */
	nh_open(&H, 1, "127.0.0.1");
	nh_data(&H, 1, "abcd", 4);
	assert_true(nh_closed(&H, 1));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	/* a word is only recognised as the first 4 bytes of a connection */
	connect_session(3, 30000, NULL);
	nh_data(&H, 3, "ruok", 4);
	assert_int_equal(nh_count(&H, PD_FX_FOURLW, 3), 0);
	assert_true(nh_closed(&H, 3));
	stop();
}

/* The telnet interrupt sequence closes the connection (§12.1). */
static void test_telnet_interrupt_closes(void **state)
{
	static const uint8_t telnet_close[] = {0xff, 0xf4, 0xff, 0xfd};
	(void)state;
	start(NULL);
	nh_open(&H, 2, "127.0.0.1");
	nh_data(&H, 2, telnet_close, sizeof(telnet_close));
	assert_true(nh_closed(&H, 2));
	assert_int_equal(nh_count(&H, PD_FX_SEND, 2), 0);
	/* another connection is unaffected */
	connect_session(3, 30000, NULL);
	assert_true(ping_zxid(3) == 1);
	stop();
}

/* --- connections without sessions, limits --- */

static void test_connection_limits(void **state)
{
	(void)state;
	start("tickTime=2000\nmaxClientCnxns=2\n");
	nh_open(&H, 1, "10.0.0.1");
	nh_open(&H, 2, "10.0.0.1");
	assert_false(nh_closed(&H, 2));
	nh_open(&H, 3, "10.0.0.1");
	assert_true(nh_closed(&H, 3)); /* over the per-address limit: closed at accept */
	nh_open(&H, 4, "10.0.0.2");
	assert_false(nh_closed(&H, 4));
	/* no ConnectRequest within 10 s: closed */
	nh_tick(&H, H.now_ms + 9999);
	assert_false(nh_closed(&H, 1));
	nh_tick(&H, H.now_ms + 1);
	assert_true(nh_closed(&H, 1));
	assert_true(nh_closed(&H, 2));
	assert_true(nh_closed(&H, 4));
	stop();
}

/* --- memory (STYLE lessons 8 and 13) --- */

static void test_memory_budget_exhaustion_is_an_error_reply(void **state)
{
	static char data[4000];
	char path[32];
	int i, created = 0, failed = 0;
	struct pd_mem *mem;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	memset(data, 'd', sizeof(data) - 1);
	mem = pd_node_mem(H.node);
	mem->budget_bytes = mem->used_bytes + 60000;
	for (i = 0; i < 40; i++) {
		int32_t err;
		snprintf(path, sizeof(path), "/big-%d", i);
		err = create(1, i, path, data, 0);
		assert_int_equal(R.count, 1);
		assert_int_equal(H.last_rc, 0);
		if (err == 0) {
			created++;
			assert_int_equal(failed, 0);
			continue;
		}
		/* a bare header carrying ZooKeeper's code for the condition (SYSTEMERROR range) */
		assert_int_equal(R.len, 20);
		assert_true(is_zookeeper_code(err));
		assert_int_equal(err, pd_err_wire(PD_ENOMEM));
		assert_false(exists(1, path));
		failed++;
	}
	assert_true(created > 5);
	assert_true(failed > 0);
	/* the connection still works, and freeing space makes writes succeed again */
	for (i = 0; i < created; i++) {
		snprintf(path, sizeof(path), "/big-%d", i);
		nh_body_path_int(&B, path, -1);
		call(1, 100 + i, PD_OP_DELETE, &B);
		expect_error(100 + i, nh_frame_zxid(R.frames[0]), 0);
	}
	assert_int_equal(create(1, 200, "/again", data, 0), 0);
	stop();
}

/* Fails the 1st, 2nd, 3rd... allocation of a request path in turn: every
 * request gets exactly one reply, errors carry ZooKeeper codes, nothing is
 * half-applied, and no byte leaks (nh_destroy checks the allocator). */
static void test_allocation_failure_loop(void **state)
{
	char path[48];
	int k, op, violations = 0;
	struct pd_mem *mem;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	mem = pd_node_mem(H.node);
	for (op = 4; op >= 0; op--) {
		for (k = 1; k <= 12; k++) {
			int32_t err;
			snprintf(path, sizeof(path), "/f-%d-%d", op, k);
			mem->fail_countdown = (uint64_t)k;
			switch (op) {
			case 0: /* ephemeral create: tree + session list */
				err = create(1, k, path, "abc", PD_MODE_EPHEMERAL);
				break;
			case 1: /* persistent create */
				err = create(1, k, path, "xyz", 0);
				break;
			case 2: /* getData with a watch (the node exists) */
				mem->fail_countdown = 0;
				assert_int_equal(create(1, k, path, "", 0), 0);
				mem->fail_countdown = (uint64_t)k;
				nh_body_path_watch(&B, path, true);
				call(2, k, PD_OP_GETDATA, &B);
				err = nh_frame_err(R.frames[0]);
				break;
			case 3: /* exists watch on a missing node */
				nh_body_path_watch(&B, path, true);
				call(2, k, PD_OP_EXISTS, &B);
				err = nh_frame_err(R.frames[0]);
				if (err == PD_ENONODE)
					err = 0;
				break;
			default: /* auth */
				B.n = 0;
				tb_i32(&B, 0);
				tb_str(&B, "digest");
				snprintf(path, sizeof(path), "u%d:p", k);
				tb_str(&B, path);
				call(2, PD_XID_AUTH, PD_OP_AUTH, &B);
				err = nh_frame_err(R.frames[0]);
				break;
			}
			mem->fail_countdown = 0;
			assert_int_equal(R.count, 1);
			assert_int_equal(H.last_rc, 0);
			assert_false(nh_closed(&H, 1));
			assert_false(nh_closed(&H, 2));
			if (err != 0) {
				assert_int_equal(R.len, 20);
				if (!is_zookeeper_code(err)) {
					print_message("op %d countdown %d: error %d is not a ZooKeeper code\n", op, k,
						      err);
					violations++;
				}
			}
			if (op <= 1 && exists(2, path) != (err == 0)) {
				print_message("op %d countdown %d: reply err %d but the node %s\n", op, k, err,
					      err == 0 ? "is missing" : "exists");
				violations++;
			}
		}
	}
	assert_true(ping_zxid(1) > 0);
	stop();
	assert_int_equal(violations, 0);
}

/* A multi whose apply runs out of memory part-way must still be all-or-nothing,
 * and must not report success for an op that did not happen. */
static void test_multi_allocation_failure_is_atomic(void **state)
{
	int k;
	struct pd_mem *mem;
	static char data[2000];
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	memset(data, 'm', sizeof(data) - 1);
	mem = pd_node_mem(H.node);
	for (k = 1; k <= 14; k++) {
		char a[32], b[32];
		bool ea, eb, claims_success;
		int32_t header_err;
		uint8_t reply[256];
		size_t reply_len;
		snprintf(a, sizeof(a), "/ma-%d", k);
		snprintf(b, sizeof(b), "/mb-%d", k);
		B.n = 0;
		tb_multi_create(&B, a, data, 0);
		tb_multi_create(&B, b, data, 0);
		tb_multi_header(&B, -1, true, -1);
		mem->fail_countdown = (uint64_t)k;
		call(1, k, PD_OP_MULTI, &B);
		mem->fail_countdown = 0;
		assert_int_equal(R.count, 1);
		assert_int_equal(H.last_rc, 0);
		header_err = nh_frame_err(R.frames[0]);
		assert_true(is_zookeeper_code(header_err));
		/* the first result's type: 1 (create) on success, -1 on failure */
		claims_success = header_err == 0 && R.len > 24 && (int32_t)pd_be32(R.bytes + 20) == PD_OP_CREATE;
		reply_len = R.len;
		memcpy(reply, R.bytes, R.len < sizeof(reply) ? R.len : sizeof(reply));
		ea = exists(2, a);
		eb = exists(2, b);
		if (ea != eb) {
			size_t i;
			print_message("multi reply: ");
			for (i = 0; i < reply_len && i < sizeof(reply); i++)
				print_message("%02x", reply[i]);
			print_message("\n");
			fail_msg("countdown %d: multi applied partially (%s %s, %s %s)", k, a, ea ? "exists" : "missing",
				 b, eb ? "exists" : "missing");
		}
		if (claims_success != (ea && eb))
			fail_msg("countdown %d: the reply %s success but the nodes are %s", k,
				 claims_success ? "claims" : "does not claim", ea ? "there" : "missing");
	}
	stop();
}

/* When firing watches runs out of memory, the write that caused it was
 * applied: its reply must still be sent, and a one-shot watch must not be
 * consumed without its event being delivered. */
static void test_watch_trigger_allocation_failure(void **state)
{
	int k;
	struct pd_mem *mem;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	mem = pd_node_mem(H.node);
	for (k = 1; k <= 8; k++) {
		char p[32];
		struct pd_node_stats st;
		uint8_t events[512];
		size_t n_events;
		int32_t err;
		nh_body_path_watch(&B, "/", true);
		call(2, 100 + k, PD_OP_GETCHILDREN, &B); /* a fresh one-shot child watch on / */
		assert_int_equal(nh_frame_err(R.frames[0]), 0);
		snprintf(p, sizeof(p), "/t%d", k);
		mem->fail_countdown = (uint64_t)k;
		nh_body_create(&B, p, "", 0, 0);
		call(1, k, PD_OP_CREATE, &B);
		mem->fail_countdown = 0;
		n_events = nh_sent(&H, 2, events, sizeof(events));
		if (R.count != 1) {
			int rc = H.last_rc;
			size_t frames = R.count;
			bool created = exists(2, p);
			pd_node_get_stats(H.node, &st);
			fail_msg("countdown %d: the writer got %zu reply frames (step rc %d); node %s, %zu event bytes "
				 "to the watcher, its watch %s",
				 k, frames, rc, created ? "created" : "not created", n_events,
				 st.watch_count == 0 ? "consumed" : "still registered");
		}
		err = nh_frame_err(R.frames[0]); /* its code is checked by the tests above */
		assert_int_equal(exists(2, p), err == 0);
		pd_node_get_stats(H.node, &st);
		if (err == 0 && n_events == 0 && st.watch_count == 0)
			fail_msg("countdown %d: the child watch on / was consumed without an event", k);
		if (n_events > 0) {
			assert_int_equal(st.watch_count, 0);
		} else {
			/* not fired: drop it so that the next round starts clean */
			nh_body_path_int(&B, "/", 1);
			call(2, 200 + k, PD_OP_REMOVEWATCHES, &B);
		}
	}
	stop();
}

/* One client lifetime touching every table: sessions, ephemerals, sequential
 * nodes, all watch kinds, auth, multi; then the TCP connection drops and the
 * session expires, and a second session closes itself explicitly. */
static void cycle(uint32_t conn)
{
	static struct tb t;
	connect_session(conn, 4000, NULL);
	assert_int_equal(create(conn, 1, "/cyc-e", "ephemeral", PD_MODE_EPHEMERAL), 0);
	assert_int_equal(create(conn, 2, "/cyc-p", "persistent", 0), 0);
	assert_int_equal(create(conn, 3, "/cyc-p/s-", "", PD_MODE_PERSISTENT_SEQUENTIAL), 0);
	nh_body_path_watch(&B, "/cyc-p", true);
	call(conn, 4, PD_OP_GETDATA, &B);
	call(conn, 5, PD_OP_GETCHILDREN, &B);
	nh_body_path_watch(&B, "/cyc-none", true);
	call(conn, 6, PD_OP_EXISTS, &B);
	nh_body_path_int(&B, "/", 1);
	call(conn, 7, PD_OP_ADDWATCH, &B);
	B.n = 0;
	tb_i32(&B, 0);
	tb_str(&B, "digest");
	tb_str(&B, "user:pw");
	call(conn, PD_XID_AUTH, PD_OP_AUTH, &B);
	nh_body_set_data(&B, "/cyc-p", "changed", 7, -1);
	call(conn, 8, PD_OP_SETDATA, &B);
	B.n = 0;
	tb_multi_create(&B, "/cyc-m", "", 0);
	tb_multi_create(&B, "/cyc-m/x", "", 0);
	tb_multi_header(&B, -1, true, -1);
	call(conn, 9, PD_OP_MULTI, &B);
	assert_int_equal(nh_frame_err(R.frames[R.count - 1]), 0);
	nh_body_path_int(&B, "/cyc-p/s-0000000000", -1);
	call(conn, 10, PD_OP_DELETE, &B);
	assert_int_equal(nh_frame_err(R.frames[R.count - 1]), 0);
	nh_body_path_int(&B, "/cyc-p", -1);
	call(conn, 11, PD_OP_DELETE, &B);
	assert_int_equal(nh_frame_err(R.frames[R.count - 1]), 0);
	/* the TCP connection drops without closeSession */
	nh_conn_closed(&H, conn);
	/* a second client cleans up and closes its session explicitly */
	nh_open(&H, conn + 1, "127.0.0.1");
	t.n = 0;
	nh_connect_frame(&t, 0, 4000, 0, NULL, true);
	nh_data(&H, conn + 1, t.b, t.n);
	nh_body_path_int(&B, "/cyc-m/x", -1);
	call(conn + 1, 12, PD_OP_DELETE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	nh_body_path_int(&B, "/cyc-m", -1);
	call(conn + 1, 13, PD_OP_DELETE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	call(conn + 1, 14, PD_OP_CLOSESESSION, NULL);
	assert_true(nh_closed(&H, conn + 1));
	/* the first session times out and takes its ephemeral with it */
	nh_tick(&H, H.now_ms + 10000);
}

static void test_memory_returns_to_baseline_after_clients_leave(void **state)
{
	struct pd_node_stats st1, st2;
	(void)state;
	start(NULL);
	cycle(1); /* warms up every table and buffer */
	pd_node_get_stats(H.node, &st1);
	assert_int_equal(st1.znode_count, 4);
	assert_int_equal(st1.session_count, 0);
	assert_int_equal(st1.ephemeral_count, 0);
	assert_int_equal(st1.watch_count, 0);
	assert_int_equal(st1.connection_count, 0);
	cycle(1);
	cycle(1);
	pd_node_get_stats(H.node, &st2);
	assert_int_equal(st2.znode_count, 4);
	assert_int_equal(st2.session_count, 0);
	assert_int_equal(st2.watch_count, 0);
	assert_int_equal(st2.connection_count, 0);
	assert_int_equal(st2.tree_blob_bytes, st1.tree_blob_bytes);
	assert_int_equal(st2.mem_data_bytes, st1.mem_data_bytes);
	assert_int_equal(st2.mem_used_bytes, st1.mem_used_bytes);
	stop();
}

/* --- durability: nothing is applied or answered before the log is durable --- */

/* The zxid of the newest PD_FX_LOG_APPEND of the last step, 0 if none. */
static pd_zxid logged_zxid(void)
{
	pd_zxid z = 0;
	uint32_t i;
	for (i = 0; i < H.fx.count; i++)
		if (H.fx.items[i].type == PD_FX_LOG_APPEND && H.fx.items[i].zxid > z)
			z = H.fx.items[i].zxid;
	return z;
}

static void send_only(uint32_t conn, int32_t xid, int32_t type, const struct tb *body)
{
	static struct tb t;
	t.n = 0;
	nh_request_frame(&t, xid, type, body);
	nh_data(&H, conn, t.b, t.n);
}

static void test_write_answered_only_when_durable(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* zxid 1 */
	connect_session(2, 30000, NULL); /* zxid 2 */
	H.hold_durable = true;
	nh_body_create(&B, "/d", "v", 1, 0);
	send_only(1, 5, PD_OP_CREATE, &B);
	assert_true(logged_zxid() == 3);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0); /* logged, not answered */
	/* another session does not see it yet */
	nh_body_path_watch(&B, "/d", false);
	call(2, 6, PD_OP_GETDATA, &B);
	assert_int_equal(R.count, 1);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENONODE);
	assert_true(nh_frame_zxid(R.frames[0]) == 2);
	/* the writer's own read waits behind its write */
	send_only(1, 7, PD_OP_GETDATA, &B);
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	nh_durable(&H, 2); /* not far enough */
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	nh_durable(&H, 99); /* beyond what was logged: only what was logged counts */
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 2);
	assert_int_equal(nh_frame_xid(R.frames[0]), 5);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_true(nh_frame_zxid(R.frames[0]) == 3);
	assert_int_equal(nh_frame_xid(R.frames[1]), 7);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	/* the next write gets the next zxid: nothing was made durable beyond 3 */
	nh_body_create(&B, "/d2", "", 0, 0);
	send_only(1, 8, PD_OP_CREATE, &B);
	assert_true(logged_zxid() == 4);
	nh_durable(&H, 4);
	stop();
}

static void test_pending_writes_checked_against_each_other(void **state)
{
	int i;
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	assert_int_equal(create(1, 1, "/q", "", 0), 0);
	H.hold_durable = true;
	/* versioned setData calls in a row: each is checked against the one
	 * before it, which is not applied yet */
	nh_body_set_data(&B, "/q", "a", 1, 0);
	send_only(1, 2, PD_OP_SETDATA, &B);
	nh_body_set_data(&B, "/q", "b", 1, 1);
	send_only(1, 3, PD_OP_SETDATA, &B);
	nh_body_set_data(&B, "/q", "c", 1, 1); /* stale: version is 2 by now */
	send_only(1, 4, PD_OP_SETDATA, &B);
	/* sequential creates get distinct numbers while pending */
	for (i = 0; i < 3; i++) {
		nh_body_create(&B, "/q/s-", "", 0, PD_MODE_PERSISTENT_SEQUENTIAL);
		send_only(1, 10 + i, PD_OP_CREATE, &B);
	}
	/* delete of a node created by a pending txn, then its parent */
	nh_body_path_int(&B, "/q/s-0000000001", -1);
	send_only(1, 20, PD_OP_DELETE, &B);
	nh_body_path_int(&B, "/q", -1);
	send_only(1, 21, PD_OP_DELETE, &B); /* NOTEMPTY: two children pending */
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	nh_durable(&H, logged_zxid());
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 8);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	assert_int_equal(nh_frame_err(R.frames[2]), PD_EBADVERSION);
	assert_int_equal(nh_frame_xid(R.frames[3]), 10);
	assert_memory_equal(R.frames[3].p + 24, "/q/s-0000000000", 15);
	assert_memory_equal(R.frames[4].p + 24, "/q/s-0000000001", 15);
	assert_memory_equal(R.frames[5].p + 24, "/q/s-0000000002", 15);
	assert_int_equal(nh_frame_err(R.frames[6]), 0);
	assert_int_equal(nh_frame_err(R.frames[7]), PD_ENOTEMPTY);
	/* the overlay is gone once everything is applied, and the tree agrees */
	H.hold_durable = false;
	nh_body_path_watch(&B, "/q", false);
	call(1, 30, PD_OP_GETCHILDREN, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(R.frames[0].len, 4 + 16 + 4 + 2 * (4 + 12)); /* s-0, s-2 */
	stop();
}

static void test_failed_multi_keeps_other_pending_changes(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	H.hold_durable = true;
	nh_body_create(&B, "/x", "", 0, 0);
	send_only(1, 1, PD_OP_CREATE, &B);
	/* a multi that creates /x/a, then fails: /x/a must vanish from the
	 * view, /x (another pending txn) must stay */
	B.n = 0;
	tb_multi_create(&B, "/x/a", "", 0);
	tb_multi_header(&B, PD_OP_CHECK, false, -1);
	tb_str(&B, "/nope");
	tb_i32(&B, -1);
	tb_multi_header(&B, -1, true, -1);
	send_only(1, 2, PD_OP_MULTI, &B);
	nh_body_create(&B, "/x/a", "", 0, 0);
	send_only(1, 3, PD_OP_CREATE, &B);
	nh_body_create(&B, "/x/b", "", 0, 0);
	send_only(1, 4, PD_OP_CREATE, &B);
	nh_durable(&H, logged_zxid());
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 4);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(nh_frame_xid(R.frames[1]), 2);
	assert_int_equal(nh_frame_err(R.frames[2]), 0);
	assert_int_equal(nh_frame_err(R.frames[3]), 0);
	stop();
}

static void test_close_session_pending_deletes_its_ephemerals_in_the_view(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	connect_session(2, 30000, NULL);
	assert_int_equal(create(1, 1, "/e1", "", PD_MODE_EPHEMERAL), 0);
	H.hold_durable = true;
	nh_body_create(&B, "/e2", "", 0, PD_MODE_EPHEMERAL); /* pending ephemeral */
	send_only(1, 2, PD_OP_CREATE, &B);
	send_only(1, 3, PD_OP_CLOSESESSION, NULL);
	/* both are gone in the view: another session may take the names */
	nh_body_create(&B, "/e1", "", 0, 0);
	send_only(2, 4, PD_OP_CREATE, &B);
	nh_body_create(&B, "/e2", "", 0, 0);
	send_only(2, 5, PD_OP_CREATE, &B);
	nh_durable(&H, logged_zxid());
	assert_true(nh_closed(&H, 1));
	nh_replies(&H, 2, &R);
	assert_int_equal(R.count, 2);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	stop();
}

static void test_answer_not_sent_to_a_new_connection_with_the_same_id(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL);
	H.hold_durable = true;
	nh_body_create(&B, "/gone", "", 0, 0);
	send_only(1, 1, PD_OP_CREATE, &B);
	nh_conn_closed(&H, 1);
	nh_open(&H, 1, "127.0.0.1"); /* the driver reuses the id */
	nh_durable(&H, logged_zxid());
	assert_int_equal(nh_count(&H, PD_FX_SEND, 1), 0);
	H.hold_durable = false;
	connect_session(2, 30000, NULL);
	nh_body_path_watch(&B, "/gone", false);
	call(2, 2, PD_OP_EXISTS, &B); /* applied all the same */
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	stop();
}

static void test_log_failure_refuses_writes_and_keeps_reads(void **state)
{
	(void)state;
	start(NULL);
	connect_session(1, 30000, NULL); /* 1 */
	connect_session(2, 30000, NULL); /* 2 */
	assert_int_equal(create(1, 1, "/kept", "v", 0), 0); /* 3 */
	H.hold_durable = true;
	nh_body_create(&B, "/lost", "", 0, 0);
	send_only(1, 2, PD_OP_CREATE, &B); /* 4, never durable */
	nh_body_path_watch(&B, "/kept", false);
	send_only(1, 3, PD_OP_GETDATA, &B); /* held behind it */
	nh_body_create(&B, "/lost2", "", 0, 0);
	send_only(2, 4, PD_OP_CREATE, &B); /* 5 */
	assert_true(logged_zxid() == 5);
	nh_log_event(&H, PD_EV_LOG_FAILED);
	/* the writers are told, in order; the held read runs */
	nh_replies(&H, 1, &R);
	assert_int_equal(R.count, 2);
	assert_int_equal(nh_frame_xid(R.frames[0]), 2);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENOTREADONLY);
	assert_int_equal(nh_frame_xid(R.frames[1]), 3);
	assert_int_equal(nh_frame_err(R.frames[1]), 0);
	assert_true(nh_frame_zxid(R.frames[1]) == 3);
	nh_replies(&H, 2, &R);
	assert_int_equal(R.count, 1);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENOTREADONLY);
	/* while the log is down: writes refused at once, nothing logged; reads served */
	H.hold_durable = false;
	nh_body_create(&B, "/x", "", 0, 0);
	call(2, 5, PD_OP_CREATE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENOTREADONLY);
	assert_true(logged_zxid() == 0);
	nh_body_path_watch(&B, "/lost", false);
	call(2, 6, PD_OP_EXISTS, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENONODE);
	/* no new session either */
	nh_open(&H, 3, "127.0.0.1");
	{
		static struct tb t;
		t.n = 0;
		nh_connect_frame(&t, 0, 30000, 0, NULL, true);
		nh_data(&H, 3, t.b, t.n);
		assert_true(nh_closed(&H, 3));
		assert_int_equal(nh_count(&H, PD_FX_SEND, 3), 0);
	}
	/* back: the lost zxids are given out again, the dropped creates never happened */
	nh_log_event(&H, PD_EV_LOG_OK);
	nh_body_create(&B, "/lost", "", 0, 0);
	call(1, 7, PD_OP_CREATE, &B);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_true(nh_frame_zxid(R.frames[0]) == 4);
	stop();
}

static void test_orphan_ephemeral_checker_sees_a_broken_state(void **state)
{
	int64_t sid;
	struct pd_session *s;
	(void)state;
	start(NULL);
	sid = connect_session(1, 30000, NULL);
	assert_int_equal(create(1, 1, "/eph", "", PD_MODE_EPHEMERAL), 0);
	assert_int_equal(pd_node_orphan_ephemerals(H.node), 0);
	/* break the node on purpose: the session vanishes behind the tree's back */
	s = pd_session_get(&H.node->sessions, sid);
	assert_non_null(s);
	(void)pd_map64_del(&H.node->sessions.by_id, (uint64_t)sid);
	assert_int_equal(pd_node_orphan_ephemerals(H.node), 1);
	/* put it back so that teardown finds a sound node */
	assert_int_equal(pd_map64_put(&H.node->sessions.by_id, (uint64_t)sid, s), 0);
	assert_int_equal(pd_node_orphan_ephemerals(H.node), 0);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_handshake_41_bytes_with_read_only, teardown),
		cmocka_unit_test_teardown(test_handshake_40_bytes_without_read_only, teardown),
		cmocka_unit_test_teardown(test_timeout_negotiation_clamps, teardown),
		cmocka_unit_test_teardown(test_new_session_consumes_zxid_reattach_does_not, teardown),
		cmocka_unit_test_teardown(test_create_get_set_delete_exact_bytes, teardown),
		cmocka_unit_test_teardown(test_error_replies_are_bare_16_byte_headers, teardown),
		cmocka_unit_test_teardown(test_failed_create_consumes_a_zxid, teardown),
		cmocka_unit_test_teardown(test_ping_reply_xid_is_always_minus_two, teardown),
		cmocka_unit_test_teardown(test_unknown_opcode_unimplemented_then_close, teardown),
		cmocka_unit_test_teardown(test_split_frames_byte_by_byte_same_output, teardown),
		cmocka_unit_test_teardown(test_pipelined_frames_answered_in_order, teardown),
		cmocka_unit_test_teardown(test_requests_pipelined_behind_connect, teardown),
		cmocka_unit_test_teardown(test_bad_length_prefix_closes_only_that_connection, teardown),
		cmocka_unit_test_teardown(test_truncated_body_marshalling_error_connection_stays, teardown),
		cmocka_unit_test_teardown(test_watch_notification_precedes_reply, teardown),
		cmocka_unit_test_teardown(test_persistent_watches_and_add_watch_reply, teardown),
		cmocka_unit_test_teardown(test_set_watches_catch_up_events_before_reply, teardown),
		cmocka_unit_test_teardown(test_dropped_connection_loses_its_watches, teardown),
		cmocka_unit_test_teardown(test_multi_failure_results, teardown),
		cmocka_unit_test_teardown(test_multi_success_exact_bytes, teardown),
		cmocka_unit_test_teardown(test_empty_and_malformed_multi, teardown),
		cmocka_unit_test_teardown(test_multi_read_partial_failure, teardown),
		cmocka_unit_test_teardown(test_session_expiry_after_tick, teardown),
		cmocka_unit_test_teardown(test_expired_connection_gets_events_but_no_reply, teardown),
		cmocka_unit_test_teardown(test_session_kept_alive_by_requests, teardown),
		cmocka_unit_test_teardown(test_reconnect_right_and_wrong_password, teardown),
		cmocka_unit_test_teardown(test_last_zxid_seen_ahead_closed_without_reply, teardown),
		cmocka_unit_test_teardown(test_close_session_replies_then_closes, teardown),
		cmocka_unit_test_teardown(test_sequential_suffix_uses_child_creation_counter, teardown),
		cmocka_unit_test_teardown(test_auth_digest_and_acl_checks, teardown),
		cmocka_unit_test_teardown(test_get_acl_masks_digest_without_admin, teardown),
		cmocka_unit_test_teardown(test_long_path_has_no_limit_but_the_frame, teardown),
		cmocka_unit_test_teardown(test_create_under_ephemeral_and_get_ephemerals, teardown),
		cmocka_unit_test_teardown(test_who_am_i, teardown),
		cmocka_unit_test_teardown(test_super_digest_bypasses_acls, teardown),
		cmocka_unit_test_teardown(test_container_reaped_after_its_last_child, teardown),
		cmocka_unit_test_teardown(test_ttl_nodes, teardown),
		cmocka_unit_test_teardown(test_four_letter_word_effect, teardown),
		cmocka_unit_test_teardown(test_unknown_first_bytes_close_silently, teardown),
		cmocka_unit_test_teardown(test_connection_limits, teardown),
		cmocka_unit_test_teardown(test_memory_budget_exhaustion_is_an_error_reply, teardown),
		cmocka_unit_test_teardown(test_allocation_failure_loop, teardown),
		cmocka_unit_test_teardown(test_multi_allocation_failure_is_atomic, teardown),
		cmocka_unit_test_teardown(test_watch_trigger_allocation_failure, teardown),
		cmocka_unit_test_teardown(test_memory_returns_to_baseline_after_clients_leave, teardown),
		cmocka_unit_test_teardown(test_write_answered_only_when_durable, teardown),
		cmocka_unit_test_teardown(test_pending_writes_checked_against_each_other, teardown),
		cmocka_unit_test_teardown(test_failed_multi_keeps_other_pending_changes, teardown),
		cmocka_unit_test_teardown(test_close_session_pending_deletes_its_ephemerals_in_the_view, teardown),
		cmocka_unit_test_teardown(test_answer_not_sent_to_a_new_connection_with_the_same_id, teardown),
		cmocka_unit_test_teardown(test_log_failure_refuses_writes_and_keeps_reads, teardown),
		cmocka_unit_test_teardown(test_orphan_ephemeral_checker_sees_a_broken_state, teardown),
		/* last: these close the connection inside the four-letter-word check */
		cmocka_unit_test_teardown(test_four_letter_word_not_whitelisted, teardown),
		cmocka_unit_test_teardown(test_telnet_interrupt_closes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
