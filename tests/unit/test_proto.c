/*
 * test_proto.c: client records and their codec (core/proto.h).
 *
 * The "appendix_a_*" vectors are the reference-server captures of
 * /work/shared/docs/wire-protocol.md Appendix A (Apache ZooKeeper 3.8.0,
 * raw sockets); test_capture.c replays a fuller exchange captured for this
 * suite.
 */
#include "test_util.h"

#include "err.h"
#include "proto.h"

struct fix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_buf buf;
	struct pd_jw jw;
};

static void fix_init(struct fix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	memset(&f->buf, 0, sizeof(f->buf));
	f->jw.mem = &f->mem;
	f->jw.buf = &f->buf;
}

static void fix_done(struct fix *f)
{
	pd_buf_free(&f->mem, &f->buf);
	assert_int_equal(f->a.live_blocks, 0);
}

static bool span_is(struct pd_span s, const char *lit)
{
	return !s.is_null && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Decodes a whole request payload (header + body) as request.c does. */
static int decode_req(const uint8_t *p, size_t len, struct pd_req *req)
{
	struct pd_jr jr;
	memset(req, 0, sizeof(*req));
	pd_jr_init(&jr, p, len, 2u * 0xfffffu);
	req->xid = pd_jr_int(&jr);
	req->type = pd_jr_int(&jr);
	if (jr.err != 0)
		return jr.err;
	return pd_proto_decode_body(&jr, req);
}

/* --- ConnectRequest --- */

static void test_appendix_a_connect_request_with_read_only(void **state)
{
	uint8_t b[64];
	size_t n = tu_unhex("0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010"
			    " 00000000000000000000000000000000 00", b, sizeof(b));
	struct pd_connect_req c;
	(void)state;
	assert_int_equal(n, 49);
	assert_int_equal(pd_be32(b), 45);
	assert_int_equal(pd_proto_decode_connect(b + 4, n - 4, 100, &c), 0);
	assert_int_equal(c.protocol_version, 0);
	assert_true(c.last_zxid_seen == 0);
	assert_int_equal(c.timeout_ms, 30000);
	assert_true(c.session_id == 0);
	assert_false(c.passwd.is_null);
	assert_int_equal(c.passwd.len, 16);
	assert_true(c.has_read_only);
	assert_false(c.read_only);
}

static void test_connect_request_without_read_only_byte(void **state)
{
	struct tb t = {.n = 0};
	struct pd_connect_req c;
	uint8_t pw[16];
	(void)state;
	memset(pw, 0xab, sizeof(pw));
	tb_i32(&t, 7); /* protocolVersion is ignored; 7 is accepted */
	tb_i64(&t, 0x1234);
	tb_i32(&t, 4000);
	tb_i64(&t, 0x0100000dbe780020LL);
	tb_buf(&t, pw, sizeof(pw));
	assert_int_equal(t.n, 44);
	assert_int_equal(pd_proto_decode_connect(t.b, t.n, 100, &c), 0);
	assert_int_equal(c.protocol_version, 7);
	assert_true(c.last_zxid_seen == 0x1234);
	assert_int_equal(c.timeout_ms, 4000);
	assert_true(c.session_id == 0x0100000dbe780020LL);
	assert_memory_equal(c.passwd.ptr, pw, 16);
	assert_false(c.has_read_only);
	assert_false(c.read_only);

	tb_u8(&t, 1); /* readOnly = 1 */
	assert_int_equal(pd_proto_decode_connect(t.b, t.n, 100, &c), 0);
	assert_true(c.has_read_only);
	assert_true(c.read_only);
}

static void test_connect_request_null_and_odd_passwords(void **state)
{
	struct tb t = {.n = 0};
	struct pd_connect_req c;
	(void)state;
	tb_i32(&t, 0);
	tb_i64(&t, 0);
	tb_i32(&t, 30000);
	tb_i64(&t, 0);
	tb_buf(&t, NULL, 0); /* null passwd: accepted for a new session */
	tb_u8(&t, 0);
	assert_int_equal(pd_proto_decode_connect(t.b, t.n, 100, &c), 0);
	assert_true(c.passwd.is_null);
	assert_true(c.has_read_only);

	/* a passwd longer than the field limit is malformed */
	t.n = 0;
	tb_i32(&t, 0);
	tb_i64(&t, 0);
	tb_i32(&t, 30000);
	tb_i64(&t, 0);
	tb_buf(&t, "0123456789", 10);
	assert_int_equal(pd_proto_decode_connect(t.b, t.n, 9, &c), PD_EPROTO);
	assert_int_equal(pd_proto_decode_connect(t.b, t.n, 10, &c), 0);
}

static void test_connect_request_truncated(void **state)
{
	uint8_t b[64];
	size_t n = tu_unhex("00000000 0000000000000000 00007530 0000000000000000 00000010"
			    " 00000000000000000000000000000000 00", b, sizeof(b));
	struct pd_connect_req c;
	size_t cut;
	(void)state;
	assert_int_equal(n, 45);
	/* every prefix shorter than the mandatory 44 bytes is malformed */
	for (cut = 0; cut < 44; cut++)
		assert_int_equal(pd_proto_decode_connect(b, cut, 100, &c), PD_EPROTO);
	assert_int_equal(pd_proto_decode_connect(b, 44, 100, &c), 0);
	assert_false(c.has_read_only);
	assert_int_equal(pd_proto_decode_connect(b, 45, 100, &c), 0);
	assert_true(c.has_read_only);
}

/* --- request bodies --- */

static void test_appendix_a_create_request(void **state)
{
	uint8_t b[64];
	size_t n = tu_unhex("00000033 00000001 00000001 00000003 2f6578 00000001 78 00000001 0000001f"
			    " 00000005 776f726c64 00000006 616e796f6e65 00000000", b, sizeof(b));
	struct pd_req req;
	struct pd_vec_iter it;
	struct pd_acl acl;
	(void)state;
	assert_int_equal(n, 4 + 0x33);
	assert_int_equal(decode_req(b + 4, n - 4, &req), 0);
	assert_int_equal(req.xid, 1);
	assert_int_equal(req.type, PD_OP_CREATE);
	assert_true(span_is(req.path, "/ex"));
	assert_true(span_is(req.data, "x"));
	assert_int_equal(req.flags, 0);
	assert_int_equal(req.acl.count, 1);
	assert_false(req.acl.is_null);
	pd_vec_iter_init(&it, &req.acl);
	assert_true(pd_vec_next_acl(&it, &acl));
	assert_int_equal(acl.perms, PD_PERM_ALL);
	assert_true(span_is(acl.scheme, "world"));
	assert_true(span_is(acl.id, "anyone"));
	assert_false(pd_vec_next_acl(&it, &acl));
}

static void test_appendix_a_get_data_and_ping_requests(void **state)
{
	uint8_t b[64];
	size_t n = tu_unhex("00000010 00000002 00000004 00000003 2f6578 01", b, sizeof(b));
	struct pd_req req;
	(void)state;
	assert_int_equal(decode_req(b + 4, n - 4, &req), 0);
	assert_int_equal(req.xid, 2);
	assert_int_equal(req.type, PD_OP_GETDATA);
	assert_true(span_is(req.path, "/ex"));
	assert_true(req.watch);

	n = tu_unhex("00000008 fffffffe 0000000b", b, sizeof(b));
	assert_int_equal(decode_req(b + 4, n - 4, &req), 0);
	assert_int_equal(req.xid, PD_XID_PING);
	assert_int_equal(req.type, PD_OP_PING);
}

static void test_decode_create_variants(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req req;
	static const int32_t types[] = {PD_OP_CREATE, PD_OP_CREATE2, PD_OP_CREATECONTAINER, PD_OP_CREATETTL};
	size_t i;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(types); i++) {
		t.n = 0;
		tb_i32(&t, 9);
		tb_i32(&t, types[i]);
		tb_str(&t, "/c");
		tb_buf(&t, NULL, 0);
		tb_i32(&t, 2); /* two ACLs */
		tb_i32(&t, 1);
		tb_str(&t, "world");
		tb_str(&t, "anyone");
		tb_i32(&t, 31);
		tb_str(&t, "digest");
		tb_str(&t, "u:h");
		tb_i32(&t, types[i] == PD_OP_CREATECONTAINER ? 4 : 5);
		if (types[i] == PD_OP_CREATETTL)
			tb_i64(&t, 60000);
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_int_equal(req.type, types[i]);
		assert_true(span_is(req.path, "/c"));
		assert_true(req.data.is_null);
		assert_int_equal(req.acl.count, 2);
		assert_int_equal(req.flags, types[i] == PD_OP_CREATECONTAINER ? 4 : 5);
		if (types[i] == PD_OP_CREATETTL)
			assert_true(req.ttl == 60000);
		else
			assert_true(req.ttl == 0);
		/* every truncation is a marshalling error */
		{
			size_t cut;
			for (cut = 8; cut < t.n; cut++)
				assert_int_equal(decode_req(t.b, cut, &req), PD_EPROTO);
		}
	}
}

static void test_decode_path_version_and_path_watch_ops(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req req;
	static const int32_t pv[] = {PD_OP_DELETE, PD_OP_CHECK};
	static const int32_t pw[] = {PD_OP_EXISTS, PD_OP_GETDATA, PD_OP_GETCHILDREN, PD_OP_GETCHILDREN2};
	static const int32_t p[] = {PD_OP_GETACL, PD_OP_SYNC, PD_OP_GETEPHEMERALS, PD_OP_GETALLCHILDRENNUMBER};
	static const int32_t pm[] = {PD_OP_CHECKWATCHES, PD_OP_REMOVEWATCHES, PD_OP_ADDWATCH};
	size_t i;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(pv); i++) {
		t.n = 0;
		tb_i32(&t, 3);
		tb_i32(&t, pv[i]);
		tb_str(&t, "/a/b");
		tb_i32(&t, -1);
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_true(span_is(req.path, "/a/b"));
		assert_int_equal(req.version, -1);
		assert_int_equal(decode_req(t.b, t.n - 1, &req), PD_EPROTO);
	}
	for (i = 0; i < PD_ARRAY_LEN(pw); i++) {
		t.n = 0;
		tb_i32(&t, 3);
		tb_i32(&t, pw[i]);
		tb_str(&t, "/w");
		tb_u8(&t, 0);
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_true(span_is(req.path, "/w"));
		assert_false(req.watch);
		t.b[t.n - 1] = 1;
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_true(req.watch);
		/* the watch byte missing: MARSHALLINGERROR territory */
		assert_int_equal(decode_req(t.b, t.n - 1, &req), PD_EPROTO);
	}
	for (i = 0; i < PD_ARRAY_LEN(p); i++) {
		t.n = 0;
		tb_i32(&t, 3);
		tb_i32(&t, p[i]);
		tb_str(&t, "/pp");
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_true(span_is(req.path, "/pp"));
		assert_int_equal(decode_req(t.b, t.n - 1, &req), PD_EPROTO);
	}
	for (i = 0; i < PD_ARRAY_LEN(pm); i++) {
		t.n = 0;
		tb_i32(&t, 3);
		tb_i32(&t, pm[i]);
		tb_str(&t, "/m");
		tb_i32(&t, 1);
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
		assert_true(span_is(req.path, "/m"));
		assert_int_equal(req.mode, 1);
		assert_int_equal(decode_req(t.b, t.n - 2, &req), PD_EPROTO);
	}
	/* extra bytes after a body are ignored, as the reference does */
	t.n = 0;
	tb_i32(&t, 3);
	tb_i32(&t, PD_OP_SYNC);
	tb_str(&t, "/x");
	tb_i32(&t, 12345);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_true(span_is(req.path, "/x"));
}

static void test_decode_set_data_set_acl_reconfig(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req req;
	(void)state;
	tb_i32(&t, 4);
	tb_i32(&t, PD_OP_SETDATA);
	tb_str(&t, "/s");
	tb_buf(&t, "", 0);
	tb_i32(&t, 7);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_true(span_is(req.path, "/s"));
	assert_false(req.data.is_null);
	assert_int_equal(req.data.len, 0);
	assert_int_equal(req.version, 7);

	t.n = 0;
	tb_i32(&t, 5);
	tb_i32(&t, PD_OP_SETACL);
	tb_str(&t, "/s");
	tb_acl_world(&t, PD_PERM_READ);
	tb_i32(&t, 3);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_int_equal(req.acl.count, 1);
	assert_int_equal(req.version, 3);
	/* ACL vector count larger than what follows */
	t.b[8 + 6 + 3] = 9;
	assert_int_equal(decode_req(t.b, t.n, &req), PD_EPROTO);

	t.n = 0;
	tb_i32(&t, 6);
	tb_i32(&t, PD_OP_RECONFIG);
	tb_str(&t, "server.2=h:1:2");
	tb_buf(&t, NULL, 0);
	tb_str(&t, "");
	tb_i64(&t, -1);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_true(span_is(req.joining, "server.2=h:1:2"));
	assert_true(req.leaving.is_null);
	assert_false(req.new_members.is_null);
	assert_true(req.cur_config_id == -1);
}

static void test_decode_set_watches(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req req;
	struct pd_vec_iter it;
	struct pd_span s;
	int list;
	(void)state;
	tb_i32(&t, PD_XID_SETWATCHES);
	tb_i32(&t, PD_OP_SETWATCHES2);
	tb_i64(&t, 0x42);
	for (list = 0; list < 5; list++) {
		tb_i32(&t, list); /* list k holds k paths */
		for (int k = 0; k < list; k++) {
			char p[16];
			snprintf(p, sizeof(p), "/l%d/%d", list, k);
			tb_str(&t, p);
		}
	}
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_true(req.relative_zxid == 0x42);
	for (list = 0; list < 5; list++) {
		int k = 0;
		assert_int_equal(req.watches[list].count, list);
		pd_vec_iter_init(&it, &req.watches[list]);
		while (pd_vec_next_string(&it, &s)) {
			char p[16];
			snprintf(p, sizeof(p), "/l%d/%d", list, k);
			assert_true(span_is(s, p));
			k++;
		}
		assert_int_equal(k, list);
	}

	/* setWatches (101) has three lists; a null list is a marshalling error */
	t.n = 0;
	tb_i32(&t, PD_XID_SETWATCHES);
	tb_i32(&t, PD_OP_SETWATCHES);
	tb_i64(&t, 1);
	tb_i32(&t, 0);
	tb_i32(&t, 1);
	tb_str(&t, "/e");
	tb_i32(&t, 0);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_int_equal(req.watches[1].count, 1);
	t.n = 0;
	tb_i32(&t, PD_XID_SETWATCHES);
	tb_i32(&t, PD_OP_SETWATCHES);
	tb_i64(&t, 1);
	tb_i32(&t, 0);
	tb_i32(&t, -1);
	tb_i32(&t, 0);
	assert_int_equal(decode_req(t.b, t.n, &req), PD_EPROTO);
	/* setWatches2 with only three lists is short */
	t.n = 0;
	tb_i32(&t, PD_XID_SETWATCHES);
	tb_i32(&t, PD_OP_SETWATCHES2);
	tb_i64(&t, 1);
	tb_i32(&t, 0);
	tb_i32(&t, 0);
	tb_i32(&t, 0);
	assert_int_equal(decode_req(t.b, t.n, &req), PD_EPROTO);
}

static void test_decode_auth_sasl_and_bodyless(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req req;
	static const int32_t bodyless[] = {PD_OP_PING, PD_OP_CLOSESESSION, PD_OP_WHOAMI};
	size_t i;
	(void)state;
	tb_i32(&t, PD_XID_AUTH);
	tb_i32(&t, PD_OP_AUTH);
	tb_i32(&t, 0);
	tb_str(&t, "digest");
	tb_str(&t, "user:pw");
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_int_equal(req.auth_type, 0);
	assert_true(span_is(req.scheme, "digest"));
	assert_true(span_is(req.auth, "user:pw"));
	assert_int_equal(decode_req(t.b, t.n - 1, &req), PD_EPROTO);

	t.n = 0;
	tb_i32(&t, 1);
	tb_i32(&t, PD_OP_SASL);
	tb_buf(&t, NULL, 0);
	assert_int_equal(decode_req(t.b, t.n, &req), 0);
	assert_true(req.data.is_null);

	for (i = 0; i < PD_ARRAY_LEN(bodyless); i++) {
		t.n = 0;
		tb_i32(&t, 1);
		tb_i32(&t, bodyless[i]);
		assert_int_equal(decode_req(t.b, t.n, &req), 0);
	}
}

static void test_decode_unknown_type(void **state)
{
	static const int32_t unknown[] = {0, -1, 10, 20, 23, 99, 108, -10, -12, 1000};
	struct tb t = {.n = 0};
	struct pd_req req;
	size_t i;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(unknown); i++) {
		t.n = 0;
		tb_i32(&t, 1);
		tb_i32(&t, unknown[i]);
		tb_str(&t, "/x");
		assert_int_equal(decode_req(t.b, t.n, &req), PD_EUNIMPLEMENTED);
		assert_false(pd_proto_op_known(unknown[i]));
	}
}

static void test_op_known_and_write_class(void **state)
{
	static const int32_t known[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22,
					100, 101, 102, 103, 104, 105, 106, 107, -11};
	static const int32_t writes[] = {PD_OP_CREATE, PD_OP_CREATE2, PD_OP_CREATECONTAINER, PD_OP_CREATETTL,
					 PD_OP_DELETE, PD_OP_SETDATA, PD_OP_SETACL, PD_OP_MULTI, PD_OP_RECONFIG,
					 PD_OP_CLOSESESSION};
	static const int32_t reads[] = {PD_OP_EXISTS, PD_OP_GETDATA, PD_OP_GETACL, PD_OP_GETCHILDREN,
					PD_OP_SYNC, PD_OP_PING, PD_OP_GETCHILDREN2, PD_OP_MULTIREAD, PD_OP_AUTH,
					PD_OP_SETWATCHES, PD_OP_SASL, PD_OP_GETEPHEMERALS,
					PD_OP_GETALLCHILDRENNUMBER, PD_OP_SETWATCHES2, PD_OP_ADDWATCH,
					PD_OP_WHOAMI, PD_OP_CHECKWATCHES, PD_OP_REMOVEWATCHES};
	size_t i;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(known); i++)
		assert_true(pd_proto_op_known(known[i]));
	/* wire-protocol.md §4.4: write-class ops consume a zxid, reads never do */
	for (i = 0; i < PD_ARRAY_LEN(writes); i++)
		assert_true(pd_proto_op_is_write(writes[i]));
	for (i = 0; i < PD_ARRAY_LEN(reads); i++)
		assert_false(pd_proto_op_is_write(reads[i]));
}

/* --- vector iterators --- */

static void test_vec_iter_acls_and_strings(void **state)
{
	struct tb t = {.n = 0};
	struct pd_jr jr;
	struct pd_req req;
	struct pd_vec_iter it;
	struct pd_acl a;
	int i = 0;
	(void)state;
	tb_i32(&t, 1);
	tb_i32(&t, PD_OP_SETACL);
	tb_str(&t, "/v");
	tb_i32(&t, 3);
	tb_i32(&t, 1);
	tb_str(&t, "ip");
	tb_str(&t, "10.0.0.0/8");
	tb_i32(&t, 0);
	tb_str(&t, "digest");
	tb_str(&t, "");
	tb_i32(&t, 31);
	tb_buf(&t, NULL, 0);
	tb_buf(&t, NULL, 0);
	tb_i32(&t, -1);
	pd_jr_init(&jr, t.b, t.n, 1000);
	memset(&req, 0, sizeof(req));
	req.xid = pd_jr_int(&jr);
	req.type = pd_jr_int(&jr);
	assert_int_equal(pd_proto_decode_body(&jr, &req), 0);
	assert_int_equal(req.acl.count, 3);
	pd_vec_iter_init(&it, &req.acl);
	while (pd_vec_next_acl(&it, &a)) {
		if (i == 0) {
			assert_int_equal(a.perms, 1);
			assert_true(span_is(a.scheme, "ip"));
			assert_true(span_is(a.id, "10.0.0.0/8"));
		} else if (i == 1) {
			assert_int_equal(a.perms, 0);
			assert_true(span_is(a.scheme, "digest"));
			assert_false(a.id.is_null);
			assert_int_equal(a.id.len, 0);
		} else {
			assert_int_equal(a.perms, 31);
			assert_true(a.scheme.is_null);
			assert_true(a.id.is_null);
		}
		i++;
	}
	assert_int_equal(i, 3);
	assert_int_equal(req.version, -1);
}

/* --- multi iterator --- */

static void tb_create_body(struct tb *t, const char *path, const char *data, int32_t flags)
{
	tb_str(t, path);
	tb_str(t, data);
	tb_acl_world(t, PD_PERM_ALL);
	tb_i32(t, flags);
}

static int multi_collect(const struct tb *t, struct pd_req *ops, int max, int *count)
{
	struct pd_req multi;
	struct pd_multi_iter it;
	int r;
	*count = 0;
	assert_int_equal(decode_req(t->b, t->n, &multi), 0);
	assert_true(multi.type == PD_OP_MULTI || multi.type == PD_OP_MULTIREAD);
	pd_multi_iter_init(&it, &multi, 1000);
	while ((r = pd_multi_next(&it, &ops[*count])) == 1) {
		(*count)++;
		assert_true(*count < max);
	}
	if (r == 0) /* finished: further calls keep returning 0 */
		assert_int_equal(pd_multi_next(&it, &ops[*count]), 0);
	return r;
}

static void test_multi_iterator_ops(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req ops[8];
	int count;
	(void)state;
	tb_i32(&t, 20);
	tb_i32(&t, PD_OP_MULTI);
	tb_multi_header(&t, PD_OP_CREATE, false, -1);
	tb_create_body(&t, "/m4/d", "", 0);
	tb_multi_header(&t, PD_OP_CREATE2, false, -1);
	tb_create_body(&t, "/m4/a", "a", 4);
	tb_multi_header(&t, PD_OP_SETDATA, false, -1);
	tb_str(&t, "/m4/a");
	tb_str(&t, "z");
	tb_i32(&t, -1);
	tb_multi_header(&t, PD_OP_DELETE, false, -1);
	tb_str(&t, "/m4/d");
	tb_i32(&t, 3);
	tb_multi_header(&t, PD_OP_CHECK, false, -1);
	tb_str(&t, "/m4");
	tb_i32(&t, 0);
	tb_multi_header(&t, PD_OP_CREATETTL, false, -1);
	tb_create_body(&t, "/t", "", 5);
	tb_i64(&t, 1000);
	tb_multi_header(&t, -1, true, -1);
	assert_int_equal(multi_collect(&t, ops, 8, &count), 0);
	assert_int_equal(count, 6);
	assert_int_equal(ops[0].type, PD_OP_CREATE);
	assert_true(span_is(ops[0].path, "/m4/d"));
	assert_int_equal(ops[1].type, PD_OP_CREATE2);
	assert_int_equal(ops[1].flags, 4);
	assert_true(span_is(ops[1].data, "a"));
	assert_int_equal(ops[2].type, PD_OP_SETDATA);
	assert_true(span_is(ops[2].data, "z"));
	assert_int_equal(ops[2].version, -1);
	assert_int_equal(ops[3].type, PD_OP_DELETE);
	assert_int_equal(ops[3].version, 3);
	assert_int_equal(ops[4].type, PD_OP_CHECK);
	assert_int_equal(ops[5].type, PD_OP_CREATETTL);
	assert_true(ops[5].ttl == 1000);
}

static void test_multi_iterator_empty_and_terminator_fields_ignored(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req ops[2];
	int count;
	(void)state;
	tb_i32(&t, 21);
	tb_i32(&t, PD_OP_MULTI);
	tb_multi_header(&t, 77, true, 12345); /* the terminator's type and err are ignored */
	assert_int_equal(multi_collect(&t, ops, 2, &count), 0);
	assert_int_equal(count, 0);
}

static void test_multi_iterator_read_ops_and_mixed(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req ops[4];
	int count;
	(void)state;
	/* multiRead ops decode (the mixing rule is enforced by the caller) */
	tb_i32(&t, 22);
	tb_i32(&t, PD_OP_MULTIREAD);
	tb_multi_header(&t, PD_OP_GETDATA, false, -1);
	tb_str(&t, "/r");
	tb_u8(&t, 1);
	tb_multi_header(&t, PD_OP_GETCHILDREN, false, -1);
	tb_str(&t, "/");
	tb_u8(&t, 0);
	tb_multi_header(&t, PD_OP_CREATE, false, -1);
	tb_create_body(&t, "/x", "", 0);
	tb_multi_header(&t, -1, true, -1);
	assert_int_equal(multi_collect(&t, ops, 4, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(ops[0].type, PD_OP_GETDATA);
	assert_true(span_is(ops[0].path, "/r"));
	assert_int_equal(ops[1].type, PD_OP_GETCHILDREN);
	assert_int_equal(ops[2].type, PD_OP_CREATE);
}

static void test_multi_iterator_malformed(void **state)
{
	struct tb t = {.n = 0};
	struct pd_req ops[4];
	int count;
	size_t cut, full;
	static const int32_t not_sub_ops[] = {PD_OP_EXISTS, PD_OP_GETACL, PD_OP_SETACL, PD_OP_SYNC, PD_OP_MULTI,
					      PD_OP_PING, 0, 99, PD_OP_DELETECONTAINER};
	size_t i;
	(void)state;
	/* a sub-op type that cannot appear in a multi */
	for (i = 0; i < PD_ARRAY_LEN(not_sub_ops); i++) {
		t.n = 0;
		tb_i32(&t, 1);
		tb_i32(&t, PD_OP_MULTI);
		tb_multi_header(&t, PD_OP_CHECK, false, -1);
		tb_str(&t, "/a");
		tb_i32(&t, -1);
		tb_multi_header(&t, not_sub_ops[i], false, -1);
		tb_str(&t, "/b");
		tb_i32(&t, -1);
		tb_multi_header(&t, -1, true, -1);
		assert_int_equal(multi_collect(&t, ops, 4, &count), PD_EPROTO);
		assert_int_equal(count, 1);
	}
	/* every truncation: missing terminator, short header, short body */
	t.n = 0;
	tb_i32(&t, 1);
	tb_i32(&t, PD_OP_MULTI);
	tb_multi_header(&t, PD_OP_CREATE, false, -1);
	tb_create_body(&t, "/a", "data", 0);
	tb_multi_header(&t, PD_OP_DELETE, false, -1);
	tb_str(&t, "/a");
	tb_i32(&t, -1);
	tb_multi_header(&t, -1, true, -1);
	full = t.n;
	for (cut = 8; cut < full; cut++) {
		t.n = cut;
		assert_int_equal(multi_collect(&t, ops, 4, &count), PD_EPROTO);
	}
	t.n = full;
	assert_int_equal(multi_collect(&t, ops, 4, &count), 0);
	assert_int_equal(count, 2);
}

/* --- encoders --- */

static void test_appendix_a_get_data_reply_and_stat(void **state)
{
	struct fix f;
	uint8_t want[128];
	size_t n = tu_unhex("00000059 00000002 00000000000000c1 00000000 00000001 78"
			    " 00000000000000c0 00000000000000c0 000001a216dc54cc 000001a216dc54cc 00000000"
			    " 00000000 00000000 0000000000000000 00000001 00000000 00000000000000c0",
			    want, sizeof(want));
	struct pd_stat st = {
		.czxid = 0xc0, .mzxid = 0xc0, .ctime = 0x1a216dc54ccLL, .mtime = 0x1a216dc54ccLL,
		.version = 0, .cversion = 0, .aversion = 0, .ephemeral_owner = 0,
		.data_length = 1, .num_children = 0, .pzxid = 0xc0,
	};
	size_t at;
	(void)state;
	assert_int_equal(n, 4 + 89);
	fix_init(&f);
	pd_jw_int(&f.jw, 0);
	pd_jw_reply_header(&f.jw, 2, 0xc1, 0);
	assert_int_equal(f.buf.len, 4 + PD_REPLY_HEADER_BYTES);
	pd_jw_buffer(&f.jw, "x", 1);
	at = f.buf.len;
	pd_jw_stat(&f.jw, &st);
	assert_int_equal(f.buf.len - at, PD_STAT_BYTES);
	assert_int_equal(PD_STAT_BYTES, 68);
	assert_int_equal(PD_REPLY_HEADER_BYTES, 16);
	pd_jw_patch_int(&f.jw, 0, (int32_t)(f.buf.len - 4));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "getData reply");
	fix_done(&f);
}

static void test_stat_field_order(void **state)
{
	struct fix f;
	struct tb t = {.n = 0};
	struct pd_stat st = {
		.czxid = 0x0102030405060708LL, .mzxid = -2, .ctime = 3, .mtime = 4, .version = -5,
		.cversion = -2, .aversion = -1, .ephemeral_owner = 0x0100000dbe780020LL,
		.data_length = 9, .num_children = 10, .pzxid = INT64_MAX,
	};
	(void)state;
	fix_init(&f);
	pd_jw_stat(&f.jw, &st);
	tb_stat(&t, 0x0102030405060708LL, -2, 3, 4, -5, -2, -1, 0x0100000dbe780020LL, 9, 10, INT64_MAX);
	tu_assert_bytes(f.buf.data, f.buf.len, t.b, t.n, "stat");
	fix_done(&f);
}

static void test_appendix_a_reply_headers(void **state)
{
	struct fix f;
	uint8_t want[64];
	size_t n;
	(void)state;
	fix_init(&f);
	/* create /ex reply: header + path */
	pd_jw_int(&f.jw, 0);
	pd_jw_reply_header(&f.jw, 1, 0xc0, 0);
	pd_jw_cstr(&f.jw, "/ex");
	pd_jw_patch_int(&f.jw, 0, (int32_t)(f.buf.len - 4));
	n = tu_unhex("00000017 00000001 00000000000000c0 00000000 00000003 2f6578", want, sizeof(want));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "create reply");
	/* NODEEXISTS: a bare 16-byte header */
	f.buf.len = 0;
	pd_jw_int(&f.jw, 16);
	pd_jw_reply_header(&f.jw, 1, 0xc1, PD_ENODEEXISTS);
	n = tu_unhex("00000010 00000001 00000000000000c1 ffffff92", want, sizeof(want));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "NODEEXISTS reply");
	/* ping reply */
	f.buf.len = 0;
	pd_jw_int(&f.jw, 16);
	pd_jw_reply_header(&f.jw, PD_XID_PING, 0xc1, 0);
	n = tu_unhex("00000010 fffffffe 00000000000000c1 00000000", want, sizeof(want));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "ping reply");
	fix_done(&f);
}

static void test_appendix_a_notification(void **state)
{
	struct fix f;
	uint8_t want[64];
	size_t n = tu_unhex("0000001f ffffffff ffffffffffffffff 00000000 00000002 00000003 00000003 2f6578",
			    want, sizeof(want));
	(void)state;
	fix_init(&f);
	pd_jw_int(&f.jw, 0);
	pd_jw_reply_header(&f.jw, PD_XID_NOTIFICATION, -1, 0);
	pd_jw_int(&f.jw, PD_WEV_DELETED);
	pd_jw_int(&f.jw, PD_KEEPER_STATE_SYNC_CONNECTED);
	pd_jw_cstr(&f.jw, "/ex");
	pd_jw_patch_int(&f.jw, 0, (int32_t)(f.buf.len - 4));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "notification");
	fix_done(&f);
}

static void test_appendix_a_multi_bodies(void **state)
{
	struct fix f;
	uint8_t want[96];
	size_t n;
	(void)state;
	fix_init(&f);
	/* failed multi body: 0, the error, then -2s, then the terminator */
	pd_jw_multi_header(&f.jw, PD_OP_ERROR, false, 0);
	pd_jw_int(&f.jw, 0);
	pd_jw_multi_header(&f.jw, PD_OP_ERROR, false, PD_ENODEEXISTS);
	pd_jw_int(&f.jw, PD_ENODEEXISTS);
	pd_jw_multi_header(&f.jw, PD_OP_ERROR, false, PD_ERUNTIMEINCONSISTENCY);
	pd_jw_int(&f.jw, PD_ERUNTIMEINCONSISTENCY);
	pd_jw_multi_header(&f.jw, -1, true, -1);
	n = tu_unhex("ffffffff 00 00000000 00000000 ffffffff 00 ffffff92 ffffff92"
		     " ffffffff 00 fffffffe fffffffe ffffffff 01 ffffffff", want, sizeof(want));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "failed multi body");
	/* empty multi: whole reply */
	f.buf.len = 0;
	pd_jw_int(&f.jw, 0);
	pd_jw_reply_header(&f.jw, 6, 0x3d, 0);
	pd_jw_multi_header(&f.jw, -1, true, -1);
	pd_jw_patch_int(&f.jw, 0, (int32_t)(f.buf.len - 4));
	n = tu_unhex("00000019 00000006 000000000000003d 00000000 ffffffff 01 ffffffff", want, sizeof(want));
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "empty multi reply");
	fix_done(&f);
}

static void test_acl_encoder(void **state)
{
	struct fix f;
	uint8_t want[64];
	size_t n = tu_unhex("0000001f 00000005 776f726c64 00000006 616e796f6e65", want, sizeof(want));
	(void)state;
	fix_init(&f);
	pd_jw_acl(&f.jw, PD_PERM_ALL, "world", 5, "anyone", 6);
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "ACL");
	fix_done(&f);
}

static void test_op_abbrev(void **state)
{
	(void)state;
	assert_string_equal(pd_proto_op_abbrev(PD_OP_GETDATA), "GETD");
	assert_string_equal(pd_proto_op_abbrev(PD_OP_CREATE2), "CREA");
	assert_string_equal(pd_proto_op_abbrev(PD_OP_CREATESESSION), "SESS");
	assert_string_equal(pd_proto_op_abbrev(PD_OP_GETALLCHILDRENNUMBER), "GETACN");
	assert_string_equal(pd_proto_op_abbrev(PD_OP_WHOAMI), "HOMI");
	assert_string_equal(pd_proto_op_abbrev(PD_OP_SETWATCHES2), "STW2");
	assert_string_equal(pd_proto_op_abbrev(12345), "NA");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appendix_a_connect_request_with_read_only),
		cmocka_unit_test(test_connect_request_without_read_only_byte),
		cmocka_unit_test(test_connect_request_null_and_odd_passwords),
		cmocka_unit_test(test_connect_request_truncated),
		cmocka_unit_test(test_appendix_a_create_request),
		cmocka_unit_test(test_appendix_a_get_data_and_ping_requests),
		cmocka_unit_test(test_decode_create_variants),
		cmocka_unit_test(test_decode_path_version_and_path_watch_ops),
		cmocka_unit_test(test_decode_set_data_set_acl_reconfig),
		cmocka_unit_test(test_decode_set_watches),
		cmocka_unit_test(test_decode_auth_sasl_and_bodyless),
		cmocka_unit_test(test_decode_unknown_type),
		cmocka_unit_test(test_op_known_and_write_class),
		cmocka_unit_test(test_vec_iter_acls_and_strings),
		cmocka_unit_test(test_multi_iterator_ops),
		cmocka_unit_test(test_multi_iterator_empty_and_terminator_fields_ignored),
		cmocka_unit_test(test_multi_iterator_read_ops_and_mixed),
		cmocka_unit_test(test_multi_iterator_malformed),
		cmocka_unit_test(test_appendix_a_get_data_reply_and_stat),
		cmocka_unit_test(test_stat_field_order),
		cmocka_unit_test(test_appendix_a_reply_headers),
		cmocka_unit_test(test_appendix_a_notification),
		cmocka_unit_test(test_appendix_a_multi_bodies),
		cmocka_unit_test(test_acl_encoder),
		cmocka_unit_test(test_op_abbrev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
