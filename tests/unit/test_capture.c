/*
 * test_capture.c: paddock against bytes captured from a real Apache ZooKeeper 3.8.0.
 *
 * The table below was captured from ZooKeeper 3.8.0 (Debian package zookeeper
 * 3.8.0-11+deb12u2, standalone, tickTime=2000, 4lw.commands.whitelist=srvr,ruok)
 * with tests/unit/zk_capture.py: it starts the server through
 * tests/net/harness.py's ZooKeeperServer and drives it with raw sockets, printing
 * every frame sent ('s') and received ('r'), every close by the server ('c') and
 * raw four-letter-word output ('t'), in order.  The server was fresh, so zxids are
 * deterministic (the first session is zxid 1); the wall-clock times of the writes
 * are fed to paddock as the event wall_ms of the same steps (step_wall below), and
 * the node is created with wall_ms 0x174440 so that its session ids are the ones
 * the reference handed out (0x0100001744400000, ...01, ...02).  The only bytes
 * that may differ are the 16-byte session passwords in ConnectResponses, which
 * are secret by design; they are masked.
 *
 * The replay checks every byte of every reply and notification, that closes
 * happen exactly where the reference closed, and that nothing else is sent.
 */
#include "node_harness.h"

#include "err.h"
#include "proto.h"

struct cap_line {
	const char *step;
	char conn; /* 'A'.. */
	char kind; /* s = sent to the server, r = received, c = closed by the server, t = raw text */
	const char *hex;
};

static const struct cap_line cap[] = {
	{"connect_ro", 'A', 's',
		  "0000002d0000000000000000000000000000753000000000000000000000001000000000000000000000000000000000"
		  "00"},
	{"connect_ro", 'A', 'r',
		  "00000025000000000000753001000017444000000000001032d25accd79c318a60bd3d1a782a900e00"},
	{"create", 'A', 's',
		  "000000380000000100000001000000042f6361700000000568656c6c6f000000010000001f00000005776f726c640000"
		  "0006616e796f6e6500000000"},
	{"create", 'A', 'r',
		  "0000001800000001000000000000000200000000000000042f636170"},
	{"create2", 'A', 's',
		  "00000036000000020000000f000000072f6361702f633200000000000000010000001f00000005776f726c6400000006"
		  "616e796f6e6500000000"},
	{"create2", 'A', 'r',
		  "0000005f00000002000000000000000300000000000000072f6361702f63320000000000000003000000000000000300"
		  "0001a217288055000001a217288055000000000000000000000000000000000000000000000000000000000000000000"
		  "000003"},
	{"getdata", 'A', 's',
		  "000000110000000300000004000000042f63617000"},
	{"getdata", 'A', 'r',
		  "0000005d000000030000000000000003000000000000000568656c6c6f00000000000000020000000000000002000001"
		  "a21728804d000001a21728804d0000000000000001000000000000000000000000000000050000000100000000000000"
		  "03"},
	{"setdata", 'A', 's',
		  "0000001e0000000400000005000000042f63617000000006776f726c642100000000"},
	{"setdata", 'A', 'r',
		  "000000540000000400000000000000040000000000000000000000020000000000000004000001a21728804d000001a2"
		  "17288059000000010000000100000000000000000000000000000006000000010000000000000003"},
	{"setdata_badversion", 'A', 's',
		  "000000190000000500000005000000042f636170000000017800000000"},
	{"setdata_badversion", 'A', 'r',
		  "00000010000000050000000000000005ffffff99"},
	{"exists_nonode", 'A', 's',
		  "000000120000000600000003000000052f6e6f706500"},
	{"exists_nonode", 'A', 'r',
		  "00000010000000060000000000000005ffffff9b"},
	{"getchildren2", 'A', 's',
		  "00000011000000070000000c000000042f63617000"},
	{"getchildren2", 'A', 'r',
		  "0000005e0000000700000000000000050000000000000001000000026332000000000000000200000000000000040000"
		  "01a21728804d000001a21728805900000001000000010000000000000000000000000000000600000001000000000000"
		  "0003"},
	{"create_exists", 'A', 's',
		  "000000380000000800000001000000042f6361700000000568656c6c6f000000010000001f00000005776f726c640000"
		  "0006616e796f6e6500000000"},
	{"create_exists", 'A', 'r',
		  "00000010000000080000000000000006ffffff92"},
	{"ping", 'A', 's',
		  "000000080000004d0000000b"},
	{"ping", 'A', 'r',
		  "00000010fffffffe000000000000000600000000"},
	{"create_seq_parent", 'A', 's',
		  "000000330000000900000001000000042f736571ffffffff000000010000001f00000005776f726c6400000006616e79"
		  "6f6e6500000000"},
	{"create_seq_parent", 'A', 'r',
		  "0000001800000009000000000000000700000000000000042f736571"},
	{"create_seq0", 'A', 's',
		  "000000360000000a00000001000000072f7365712f732d00000000000000010000001f00000005776f726c6400000006"
		  "616e796f6e6500000002"},
	{"create_seq0", 'A', 'r',
		  "000000250000000a000000000000000800000000000000112f7365712f732d30303030303030303030"},
	{"delete_seq0", 'A', 's',
		  "000000210000000b00000002000000112f7365712f732d30303030303030303030ffffffff"},
	{"delete_seq0", 'A', 'r',
		  "000000100000000b000000000000000900000000"},
	{"create_seq1", 'A', 's',
		  "000000360000000c0000000f000000072f7365712f732d00000000000000010000001f00000005776f726c6400000006"
		  "616e796f6e6500000002"},
	{"create_seq1", 'A', 'r',
		  "000000690000000c000000000000000a00000000000000112f7365712f732d3030303030303030303100000000000000"
		  "0a000000000000000a000001a217288063000001a2172880630000000000000000000000000000000000000000000000"
		  "0000000000000000000000000a"},
	{"exists_zookeeper", 'A', 's',
		  "000000170000000d000000030000000a2f7a6f6f6b656570657200"},
	{"exists_zookeeper", 'A', 'r',
		  "000000540000000d000000000000000a0000000000000000000000000000000000000000000000000000000000000000"
		  "0000000000000000fffffffe00000000000000000000000000000000000000020000000000000000"},
	{"getacl_config", 'A', 's',
		  "0000001d0000000e00000006000000112f7a6f6f6b65657065722f636f6e666967"},
	{"getacl_config", 'A', 'r',
		  "0000006f0000000e000000000000000a00000000000000010000000100000005776f726c6400000006616e796f6e6500"
		  "000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffff0000000000"
		  "00000000000000000000000000000000000000"},
	{"exists_root", 'A', 's',
		  "0000000e0000000f00000003000000012f00"},
	{"exists_root", 'A', 'r',
		  "000000540000000f000000000000000a0000000000000000000000000000000000000000000000000000000000000000"
		  "00000000000000000000000100000000000000000000000000000000000000030000000000000007"},
	{"allchildren_root", 'A', 's',
		  "0000000d0000001000000068000000012f"},
	{"allchildren_root", 'A', 'r',
		  "0000001400000010000000000000000a0000000000000007"},
	{"sync", 'A', 's',
		  "000000100000001100000009000000042f636170"},
	{"sync", 'A', 'r',
		  "0000001800000011000000000000000a00000000000000042f636170"},
	{"addwatch", 'A', 's',
		  "00000014000000120000006a000000042f63617000000000"},
	{"addwatch", 'A', 'r',
		  "0000001400000012000000000000000a0000000000000000"},
	{"multi_ok", 'A', 's',
		  "00000090000000130000000e0000000100ffffffff000000022f6d00000000000000010000001f00000005776f726c64"
		  "00000006616e796f6e65000000000000000100ffffffff000000042f6d2f610000000141000000010000001f00000005"
		  "776f726c6400000006616e796f6e65000000000000000500ffffffff000000022f6d0000000178ffffffffffffffff01"
		  "ffffffff"},
	{"multi_ok", 'A', 'r',
		  "0000008600000013000000000000000b00000000000000010000000000000000022f6d00000001000000000000000004"
		  "2f6d2f61000000050000000000000000000000000b000000000000000b000001a21728806c000001a21728806c000000"
		  "01000000010000000000000000000000000000000100000001000000000000000bffffffff01ffffffff"},
	{"multi_fail", 'A', 's',
		  "00000091000000140000000e0000000100ffffffff000000042f6d2f6200000000000000010000001f00000005776f72"
		  "6c6400000006616e796f6e65000000000000000100ffffffff000000042f6d2f6100000000000000010000001f000000"
		  "05776f726c6400000006616e796f6e65000000000000000500ffffffff000000022f6d0000000179ffffffffffffffff"
		  "01ffffffff"},
	{"multi_fail", 'A', 'r',
		  "0000004000000014000000000000000c00000000ffffffff000000000000000000ffffffff00ffffff92ffffff92ffff"
		  "ffff00fffffffefffffffeffffffff01ffffffff"},
	{"multi_empty", 'A', 's',
		  "00000011000000150000000effffffff01ffffffff"},
	{"multi_empty", 'A', 'r',
		  "0000001900000015000000000000000d00000000ffffffff01ffffffff"},
	{"getdata_watch", 'A', 's',
		  "000000110000001600000004000000042f63617001"},
	{"getdata_watch", 'A', 'r',
		  "0000005e00000016000000000000000d0000000000000006776f726c6421000000000000000200000000000000040000"
		  "01a21728804d000001a21728805900000001000000010000000000000000000000000000000600000001000000000000"
		  "0003"},
	{"connect_b", 'B', 's',
		  "0000002d0000000000000000000000000000753000000000000000000000001000000000000000000000000000000000"
		  "00"},
	{"connect_b", 'B', 'r',
		  "00000025000000000000753001000017444000010000001045f354cc77e810cf5500a5454cb3a4db00"},
	{"setdata_b", 'B', 's',
		  "0000001b0000000100000005000000042f63617000000003627965ffffffff"},
	{"setdata_b", 'B', 'r',
		  "0000005400000001000000000000000f000000000000000000000002000000000000000f000001a21728804d000001a2"
		  "17288072000000020000000100000000000000000000000000000003000000010000000000000003"},
	{"notify_a", 'A', 'r',
		  "00000020ffffffffffffffffffffffff000000000000000300000003000000042f636170"},
	{"delete_c2", 'A', 's',
		  "000000170000001700000002000000072f6361702f6332ffffffff"},
	{"delete_c2", 'A', 'r',
		  "00000020ffffffffffffffffffffffff000000000000000400000003000000042f636170"},
	{"delete_c2", 'A', 'r',
		  "0000001000000017000000000000001000000000"},
	{"auth", 'A', 's',
		  "00000021fffffffc00000064000000000000000664696765737400000007757365723a7077"},
	{"auth", 'A', 'r',
		  "00000010fffffffc000000000000000000000000"},
	{"create_truncated", 'A', 's',
		  "000000120000001800000001000000062f7472756e63"},
	{"create_truncated", 'A', 'r',
		  "00000010000000180000000000000011fffffffb"},
	{"getdata_truncated", 'A', 's',
		  "000000100000001900000004000000042f636170"},
	{"getdata_truncated", 'A', 'r',
		  "00000010000000190000000000000011fffffffb"},
	{"getdata_after", 'A', 's',
		  "000000110000001a00000004000000042f73657100"},
	{"getdata_after", 'A', 'r',
		  "000000580000001a000000000000001100000000ffffffff00000000000000070000000000000007000001a21728805f"
		  "000001a21728805f00000000000000030000000000000000000000000000000000000001000000000000000a"},
	{"unknown_op", 'A', 's',
		  "000000080000001b0000000a"},
	{"unknown_op", 'A', 'r',
		  "000000100000001bfffffffffffffffffffffffa"},
	{"unknown_op", 'A', 'c',
		  ""},
	{"connect_old", 'C', 's',
		  "0000002c0000000000000000000000000000753000000000000000000000001000000000000000000000000000000000"},
	{"connect_old", 'C', 'r',
		  "0000002400000000000075300100001744400002000000100c9066cc9705730076376fc3d1186774"},
	{"connect_ahead", 'D', 's',
		  "0000002d0000000000000100000000000000753000000000000000000000001000000000000000000000000000000000"
		  "00"},
	{"connect_ahead", 'D', 'c',
		  ""},
	{"connect_badpw", 'E', 's',
		  "0000002d0000000000000000000000000000753001000000000000010000001001010101010101010101010101010101"
		  "00"},
	{"connect_badpw", 'E', 'r',
		  "0000002500000000000000000000000000000000000000100000000000000000000000000000000000"},
	{"connect_badpw", 'E', 'c',
		  ""},
	{"ruok", 'F', 's',
		  "72756f6b"},
	{"ruok", 'F', 't',
		  "696d6f6b"},
	{"stat_denied", 'G', 's',
		  "73746174"},
	{"stat_denied", 'G', 't',
		  "73746174206973206e6f742065786563757465642062656361757365206974206973206e6f7420696e20746865207768"
		  "6974656c6973742e0a"},
};

/* Wall-clock times (ms) the reference stamped on the writes, read back from its stats. */
static const struct {
	const char *step;
	int64_t wall_ms;
} step_wall[] = {
	{"create", 0x1a21728804dLL},		{"create2", 0x1a217288055LL},
	{"setdata", 0x1a217288059LL},		{"create_seq_parent", 0x1a21728805fLL},
	{"create_seq1", 0x1a217288063LL},	{"multi_ok", 0x1a21728806cLL},
	{"setdata_b", 0x1a217288072LL},
};

#define CAP_CONNS 8

struct replay {
	struct nh h;
	bool opened[CAP_CONNS];
	bool closed[CAP_CONNS];
	bool fourlw[CAP_CONNS];
	char word[CAP_CONNS][4];
	uint8_t out[CAP_CONNS][8192];
	size_t out_len[CAP_CONNS];
	size_t seen[CAP_CONNS];
	size_t frames_seen[CAP_CONNS];
};

static uint32_t cap_conn(char c)
{
	assert_true(c >= 'A' && c < 'A' + CAP_CONNS - 1);
	return (uint32_t)(c - 'A' + 1);
}

/* Collects everything the last step emitted, per connection. */
static void replay_collect(struct replay *r)
{
	uint32_t i;
	for (i = 0; i < r->h.fx.count; i++) {
		const struct pd_effect *e = &r->h.fx.items[i];
		if (e->type == PD_FX_TIMER || e->type == PD_FX_LOG_APPEND)
			continue; /* timers and log records are not on the client wire */
		assert_true(e->conn < CAP_CONNS);
		assert_false(r->closed[e->conn]); /* nothing after a close */
		switch (e->type) {
		case PD_FX_SEND:
			assert_true(r->out_len[e->conn] + e->len <= sizeof(r->out[0]));
			memcpy(r->out[e->conn] + r->out_len[e->conn], pd_effect_bytes(&r->h.fx, e), e->len);
			r->out_len[e->conn] += e->len;
			break;
		case PD_FX_CLOSE:
			r->closed[e->conn] = true;
			break;
		case PD_FX_FOURLW:
			r->fourlw[e->conn] = true;
			memcpy(r->word[e->conn], e->word, 4);
			break;
		default:
			fail_msg("unexpected effect %d", (int)e->type);
		}
	}
}

static void replay_line(struct replay *r, const struct cap_line *l)
{
	uint8_t want[1024];
	size_t n = tu_unhex(l->hex, want, sizeof(want));
	uint32_t c = cap_conn(l->conn);
	size_t i;
	char what[96];
	snprintf(what, sizeof(what), "step %s conn %c", l->step, l->conn);
	switch (l->kind) {
	case 's':
		if (!r->opened[c]) {
			nh_open(&r->h, c, "127.0.0.1");
			replay_collect(r);
			r->opened[c] = true;
		}
		for (i = 0; i < PD_ARRAY_LEN(step_wall); i++)
			if (strcmp(step_wall[i].step, l->step) == 0)
				r->h.wall_ms = step_wall[i].wall_ms;
		r->h.now_ms += 10;
		nh_data(&r->h, c, want, n);
		assert_int_equal(r->h.last_rc, 0);
		replay_collect(r);
		break;
	case 'r': {
		uint8_t *got = r->out[c] + r->seen[c];
		size_t avail = r->out_len[c] - r->seen[c];
		uint8_t masked[1024];
		if (avail < n)
			tu_assert_bytes(got, avail, want, n, what);
		memcpy(masked, got, n);
		/* the first frame is the ConnectResponse: mask the password of a valid session */
		if (r->frames_seen[c] == 0 && n >= 40 && pd_be32(want + 8) != 0) {
			assert_int_equal(pd_be32(got + 20), 16);
			memcpy(masked + 24, want + 24, 16);
		}
		tu_assert_bytes(masked, n, want, n, what);
		r->seen[c] += n;
		r->frames_seen[c]++;
		break;
	}
	case 'c':
		assert_true(r->closed[c]);
		tu_assert_bytes(r->out[c] + r->seen[c], r->out_len[c] - r->seen[c], NULL, 0, what);
		break;
	case 't':
		if (r->fourlw[c]) {
			struct pd_env env;
			struct pd_buf text = {0};
			memset(&env, 0, sizeof(env));
			env.host_name = "localhost";
			assert_int_equal(pd_admin_render(r->h.node, r->word[c], 0, &env, &text), 0);
			tu_assert_bytes(text.data, text.len, want, n, what);
			pd_buf_free(pd_node_io_mem(r->h.node), &text);
			nh_conn_closed(&r->h, c); /* the driver reports the close */
			replay_collect(r);
			r->closed[c] = true;
		} else {
			tu_assert_bytes(r->out[c] + r->seen[c], r->out_len[c] - r->seen[c], want, n, what);
			r->seen[c] += n;
			assert_true(r->closed[c]);
		}
		break;
	default:
		fail();
	}
}

static struct replay r;

static int teardown(void **state)
{
	(void)state;
	nh_abandon(&r.h);
	return 0;
}

static void test_replay_reference_exchange(void **state)
{
	size_t i;
	uint32_t c;
	(void)state;
	memset(&r, 0, sizeof(r));
	nh_init(&r.h, "tickTime=2000\n4lw.commands.whitelist=srvr,ruok\n", 0x174440);
	for (i = 0; i < PD_ARRAY_LEN(cap); i++)
		replay_line(&r, &cap[i]);
	/* nothing was sent that the reference did not send */
	for (c = 0; c < CAP_CONNS; c++) {
		char what[32];
		snprintf(what, sizeof(what), "trailing bytes conn %u", c);
		tu_assert_bytes(r.out[c] + r.seen[c], r.out_len[c] - r.seen[c], NULL, 0, what);
	}
	nh_destroy(&r.h);
}

/* Every request the reference accepted decodes; the two it rejected as malformed
 * (MARSHALLINGERROR) and the unknown opcode are rejected the same way. */
static void test_decode_captured_requests(void **state)
{
	size_t i;
	int decoded = 0;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(cap); i++) {
		const struct cap_line *l = &cap[i];
		uint8_t b[1024];
		size_t n;
		struct pd_jr jr;
		struct pd_req req;
		int rc;
		if (l->kind != 's' || strncmp(l->step, "connect", 7) == 0 || strcmp(l->step, "ruok") == 0 ||
		    strcmp(l->step, "stat_denied") == 0)
			continue;
		n = tu_unhex(l->hex, b, sizeof(b));
		assert_int_equal(pd_be32(b), n - 4);
		memset(&req, 0, sizeof(req));
		pd_jr_init(&jr, b + 4, n - 4, 2u * 0xfffffu);
		req.xid = pd_jr_int(&jr);
		req.type = pd_jr_int(&jr);
		assert_int_equal(jr.err, 0);
		rc = pd_proto_decode_body(&jr, &req);
		if (strcmp(l->step, "create_truncated") == 0 || strcmp(l->step, "getdata_truncated") == 0)
			assert_int_equal(rc, PD_EPROTO);
		else if (strcmp(l->step, "unknown_op") == 0)
			assert_int_equal(rc, PD_EUNIMPLEMENTED);
		else
			assert_int_equal(rc, 0);
		decoded++;
	}
	assert_true(decoded >= 30);
	/* and the ConnectRequests */
	for (i = 0; i < PD_ARRAY_LEN(cap); i++) {
		const struct cap_line *l = &cap[i];
		uint8_t b[128];
		size_t n;
		struct pd_connect_req c;
		if (l->kind != 's' || strncmp(l->step, "connect", 7) != 0)
			continue;
		n = tu_unhex(l->hex, b, sizeof(b));
		assert_int_equal(pd_proto_decode_connect(b + 4, n - 4, 1024, &c), 0);
		assert_int_equal(c.has_read_only, strcmp(l->step, "connect_old") != 0);
		assert_int_equal(c.passwd.len, 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_captured_requests),
		cmocka_unit_test_teardown(test_replay_reference_exchange, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
