/* test_acl.c: ACL validation, interning and checks (core/acl.h, wire-protocol.md §8). */
#include "test_util.h"

#include "acl.h"
#include "err.h"

struct afix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_acl_table t;
	struct pd_auth_set ids;
	struct pd_buf out;
};

static void afix_init(struct afix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	assert_int_equal(pd_acl_table_init(&f->t, &f->mem), 0);
	memset(&f->ids, 0, sizeof(f->ids));
	memset(&f->out, 0, sizeof(f->out));
}

static void afix_done(struct afix *f)
{
	pd_buf_free(&f->mem, &f->out);
	pd_auth_free(&f->mem, &f->ids);
	pd_acl_table_free(&f->t);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

/* An encoded vector<ACL> being built. */
struct alist {
	struct tb t;
	int count;
};

static void al_reset(struct alist *l)
{
	l->t.n = 0;
	l->count = 0;
	tb_i32(&l->t, 0);
}

static void al_add(struct alist *l, int32_t perms, const char *scheme, const char *id)
{
	tb_i32(&l->t, perms);
	tb_str(&l->t, scheme);
	tb_str(&l->t, id);
	l->count++;
	l->t.b[0] = (uint8_t)((uint32_t)l->count >> 24);
	l->t.b[1] = (uint8_t)((uint32_t)l->count >> 16);
	l->t.b[2] = (uint8_t)((uint32_t)l->count >> 8);
	l->t.b[3] = (uint8_t)l->count;
}

static struct pd_vec al_vec(const struct alist *l)
{
	struct pd_vec v;
	struct pd_jr jr;
	bool is_null;
	pd_jr_init(&jr, l->t.b, l->t.n, 1000);
	v.count = pd_jr_vector_len(&jr, &is_null);
	v.is_null = is_null;
	v.ptr = jr.p;
	v.len = pd_jr_remaining(&jr);
	assert_int_equal(jr.err, 0);
	return v;
}

static int canon(struct afix *f, const struct alist *l)
{
	struct pd_vec v = al_vec(l);
	return pd_acl_canonicalize(&f->mem, &v, &f->ids, &f->out);
}

static int canon_one(struct afix *f, int32_t perms, const char *scheme, const char *id)
{
	struct alist l;
	al_reset(&l);
	al_add(&l, perms, scheme, id);
	return canon(f, &l);
}

static void add_id(struct afix *f, const char *scheme, const char *id)
{
	assert_int_equal(pd_auth_add(&f->mem, &f->ids, scheme, id, strlen(id)), 0);
}

/* --- digest ids and base64 --- */

static void check_digest(const char *auth, const char *want)
{
	char out[128];
	size_t n = pd_acl_digest_id((const uint8_t *)auth, strlen(auth), out, sizeof(out));
	assert_int_equal(n, strlen(want));
	out[n] = '\0';
	assert_string_equal(out, want);
}

static void test_digest_id(void **state)
{
	(void)state;
	check_digest("user:pw", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A="); /* wire */
	check_digest("super:adminsecret", "super:GcMT0ijsx21yLyTWAWMqFV/azZE=");
	/* the hash covers all the bytes; the user ends at the first ':' */
	check_digest("a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=");
	/* no colon: the whole string is the user */
	check_digest("nocolon", "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=");
	check_digest("", ":2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
}

static void check_b64(const void *in, size_t len, const char *want)
{
	char out[64];
	memset(out, 'X', sizeof(out));
	assert_int_equal(pd_base64_encode(in, len, out), strlen(want));
	assert_string_equal(out, want);
}

static void test_base64(void **state)
{
	(void)state;
	/* RFC 4648 §10 */
	check_b64("", 0, "");
	check_b64("f", 1, "Zg==");
	check_b64("fo", 2, "Zm8=");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg==");
	check_b64("fooba", 5, "Zm9vYmE=");
	check_b64("foobar", 6, "Zm9vYmFy");
	check_b64("\xfb\xef\xbe", 3, "++++");
	check_b64("\xff\xff\xff", 3, "////");
	check_b64("\xff\xfe", 2, "//4=");
	check_b64("\x00\x00\x00\x00", 4, "AAAAAA==");
}

/* --- canonicalisation (fixupACL) --- */

static void test_canonicalize_world(void **state)
{
	struct afix f;
	struct tb want = {.n = 0};
	(void)state;
	afix_init(&f);
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "world", "anyone"), 0);
	tb_acl_world(&want, PD_PERM_ALL);
	tu_assert_bytes(f.out.data, f.out.len, want.b, want.n, "world:anyone ALL");
	/* world is valid only with the id anyone */
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "world", "someone"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "world", ""), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "World", "anyone"), PD_EINVALIDACL);
	/* perms are not validated: 0 and odd bits are kept */
	assert_int_equal(canon_one(&f, 0, "world", "anyone"), 0);
	assert_int_equal(pd_be32(f.out.data + 4), 0);
	assert_int_equal(canon_one(&f, 0x7fffffff, "world", "anyone"), 0);
	assert_int_equal(pd_be32(f.out.data + 4), 0x7fffffff);
	afix_done(&f);
}

static void test_canonicalize_empty_and_null_lists(void **state)
{
	struct afix f;
	struct alist l;
	struct pd_vec v;
	(void)state;
	afix_init(&f);
	al_reset(&l);
	assert_int_equal(canon(&f, &l), PD_EINVALIDACL);
	memset(&v, 0, sizeof(v));
	v.count = 0;
	v.is_null = true;
	assert_int_equal(pd_acl_canonicalize(&f.mem, &v, &f.ids, &f.out), PD_EINVALIDACL);
	/* a null scheme or id */
	al_reset(&l);
	tb_i32(&l.t, 31);
	tb_buf(&l.t, NULL, 0);
	tb_str(&l.t, "anyone");
	l.t.b[3] = 1;
	assert_int_equal(canon(&f, &l), PD_EINVALIDACL);
	al_reset(&l);
	tb_i32(&l.t, 31);
	tb_str(&l.t, "digest");
	tb_buf(&l.t, NULL, 0);
	l.t.b[3] = 1;
	assert_int_equal(canon(&f, &l), PD_EINVALIDACL);
	afix_done(&f);
}

static void test_canonicalize_dedup(void **state)
{
	struct afix f;
	struct alist l;
	struct tb want = {.n = 0};
	(void)state;
	afix_init(&f);
	al_reset(&l);
	al_add(&l, 31, "world", "anyone");
	al_add(&l, 1, "digest", "u:h");
	al_add(&l, 31, "world", "anyone");
	al_add(&l, 1, "digest", "u:h");
	al_add(&l, 3, "digest", "u:h"); /* different perms: a different entry */
	assert_int_equal(canon(&f, &l), 0);
	tb_i32(&want, 3);
	tb_i32(&want, 31);
	tb_str(&want, "world");
	tb_str(&want, "anyone");
	tb_i32(&want, 1);
	tb_str(&want, "digest");
	tb_str(&want, "u:h");
	tb_i32(&want, 3);
	tb_str(&want, "digest");
	tb_str(&want, "u:h");
	tu_assert_bytes(f.out.data, f.out.len, want.b, want.n, "deduplicated list");
	afix_done(&f);
}

static void test_canonicalize_auth_expansion(void **state)
{
	struct afix f;
	struct tb want = {.n = 0};
	(void)state;
	afix_init(&f);
	/* only an ip identity: not an authenticated scheme, so INVALIDACL (wire) */
	add_id(&f, "ip", "127.0.0.1");
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "auth", ""), PD_EINVALIDACL);
	/* with a digest identity, auth becomes that id with the same perms */
	add_id(&f, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	assert_int_equal(canon_one(&f, 5, "auth", "ignored"), 0);
	tb_i32(&want, 1);
	tb_i32(&want, 5);
	tb_str(&want, "digest");
	tb_str(&want, "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	tu_assert_bytes(f.out.data, f.out.len, want.b, want.n, "auth expanded");
	/* one entry per authenticated id (digest, sasl), never ip or super */
	add_id(&f, "sasl", "bob");
	add_id(&f, "super", "");
	assert_int_equal(canon_one(&f, PD_PERM_ALL, "auth", ""), 0);
	want.n = 0;
	tb_i32(&want, 2);
	tb_i32(&want, 31);
	tb_str(&want, "digest");
	tb_str(&want, "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	tb_i32(&want, 31);
	tb_str(&want, "sasl");
	tb_str(&want, "bob");
	tu_assert_bytes(f.out.data, f.out.len, want.b, want.n, "auth expanded to two ids");
	afix_done(&f);
}

static void test_canonicalize_digest_ids(void **state)
{
	struct afix f;
	(void)state;
	afix_init(&f);
	assert_int_equal(canon_one(&f, 31, "digest", "u:h"), 0);
	assert_int_equal(canon_one(&f, 31, "digest", ":h"), 0);
	assert_int_equal(canon_one(&f, 31, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A="), 0);
	assert_int_equal(canon_one(&f, 31, "digest", "u:"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digest", "a:b:c"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digest", "nocolon"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digest", ""), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digest", ":"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digest", "u::"), PD_EINVALIDACL);
	afix_done(&f);
}

static void test_canonicalize_ip_ids(void **state)
{
	struct afix f;
	(void)state;
	afix_init(&f);
	assert_int_equal(canon_one(&f, 31, "ip", "127.0.0.1"), 0);
	assert_int_equal(canon_one(&f, 31, "ip", "10.0.0.0/8"), 0);
	assert_int_equal(canon_one(&f, 31, "ip", "0.0.0.0/0"), 0);
	assert_int_equal(canon_one(&f, 31, "ip", "255.255.255.255/32"), 0);
	assert_int_equal(canon_one(&f, 31, "ip", "10.0.0.0/33"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "::1"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "1.2.3"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "1.2.3.4.5"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "256.1.1.1"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "1.2.3.4/"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "1.2.3.4/x"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "a.b.c.d"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", ""), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "ip", "1..2.3"), PD_EINVALIDACL);
	afix_done(&f);
}

static void test_canonicalize_unknown_schemes(void **state)
{
	struct afix f;
	(void)state;
	afix_init(&f);
	assert_int_equal(canon_one(&f, 31, "foo", "bar"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "super", ""), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "", "x"), PD_EINVALIDACL);
	assert_int_equal(canon_one(&f, 31, "digestx", "u:h"), PD_EINVALIDACL);
	/* one bad entry spoils the list, wherever it is */
	{
		struct alist l;
		al_reset(&l);
		al_add(&l, 31, "world", "anyone");
		al_add(&l, 31, "foo", "bar");
		assert_int_equal(canon(&f, &l), PD_EINVALIDACL);
	}
	afix_done(&f);
}

static void test_parse_ipv4(void **state)
{
	uint32_t addr = 0;
	int bits = -1;
	(void)state;
	assert_true(pd_acl_parse_ipv4("127.0.0.1", 9, &addr, &bits));
	assert_int_equal(addr, 0x7f000001u);
	assert_int_equal(bits, 32);
	assert_true(pd_acl_parse_ipv4("10.1.2.3/8", 10, &addr, &bits));
	assert_int_equal(addr, 0x0a010203u);
	assert_int_equal(bits, 8);
	assert_true(pd_acl_parse_ipv4("0.0.0.0/0", 9, &addr, &bits));
	assert_int_equal(bits, 0);
	/* the length delimits the text */
	assert_true(pd_acl_parse_ipv4("1.2.3.4junk", 7, &addr, &bits));
	assert_int_equal(addr, 0x01020304u);
	assert_false(pd_acl_parse_ipv4("1.2.3.4junk", 11, &addr, &bits));
}

/* --- permission checks --- */

static uint32_t intern(struct afix *f, const struct alist *l)
{
	uint32_t idx;
	assert_int_equal(pd_acl_intern(&f->t, l->t.b, (uint32_t)l->t.n, &idx), 0);
	return idx;
}

static void test_allows_world_lists(void **state)
{
	struct afix f;
	struct alist l;
	uint32_t rw;
	int32_t perm;
	(void)state;
	afix_init(&f);
	for (perm = 1; perm <= 16; perm <<= 1) {
		assert_true(pd_acl_allows(&f.t, PD_ACL_OPEN, perm, NULL));
		assert_true(pd_acl_allows(&f.t, PD_ACL_OPEN, perm, &f.ids));
	}
	assert_true(pd_acl_allows(&f.t, PD_ACL_READ_ONLY_WORLD, PD_PERM_READ, &f.ids));
	assert_false(pd_acl_allows(&f.t, PD_ACL_READ_ONLY_WORLD, PD_PERM_WRITE, &f.ids));
	assert_false(pd_acl_allows(&f.t, PD_ACL_READ_ONLY_WORLD, PD_PERM_ADMIN, NULL));
	/* READ | ADMIN asks for either bit (getACL) */
	assert_true(pd_acl_allows(&f.t, PD_ACL_READ_ONLY_WORLD, PD_PERM_READ | PD_PERM_ADMIN, &f.ids));
	al_reset(&l);
	al_add(&l, PD_PERM_READ | PD_PERM_WRITE, "world", "anyone");
	rw = intern(&f, &l);
	assert_true(pd_acl_allows(&f.t, rw, PD_PERM_WRITE, &f.ids));
	assert_false(pd_acl_allows(&f.t, rw, PD_PERM_CREATE, &f.ids));
	assert_false(pd_acl_allows(&f.t, rw, PD_PERM_DELETE, &f.ids));
	pd_acl_unref(&f.t, rw);
	/* perms 0: nobody but super */
	al_reset(&l);
	al_add(&l, 0, "world", "anyone");
	rw = intern(&f, &l);
	for (perm = 1; perm <= 16; perm <<= 1)
		assert_false(pd_acl_allows(&f.t, rw, perm, &f.ids));
	add_id(&f, "super", "");
	assert_true(f.ids.super);
	assert_true(pd_acl_allows(&f.t, rw, PD_PERM_READ, &f.ids));
	pd_acl_unref(&f.t, rw);
	afix_done(&f);
}

static void test_allows_digest_and_super(void **state)
{
	struct afix f;
	struct alist l;
	uint32_t idx;
	(void)state;
	afix_init(&f);
	al_reset(&l);
	al_add(&l, PD_PERM_ALL, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	idx = intern(&f, &l);
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, NULL));
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, &f.ids));
	add_id(&f, "ip", "127.0.0.1");
	add_id(&f, "digest", "user:wronghash");
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, &f.ids));
	add_id(&f, "sasl", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A="); /* same id, other scheme */
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, &f.ids));
	add_id(&f, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_READ, &f.ids));
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_ADMIN, &f.ids));
	pd_auth_free(&f.mem, &f.ids);
	/* super bypasses every list */
	add_id(&f, "super", "");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_DELETE, &f.ids));
	pd_acl_unref(&f.t, idx);
	afix_done(&f);
}

static void test_allows_ip_masks(void **state)
{
	struct afix f;
	struct alist l;
	uint32_t idx;
	struct pd_auth_set caller;
	(void)state;
	afix_init(&f);
	al_reset(&l);
	al_add(&l, PD_PERM_READ, "ip", "10.0.0.0/8");
	al_add(&l, PD_PERM_WRITE, "ip", "192.168.1.7");
	al_add(&l, PD_PERM_ADMIN, "ip", "172.16.0.0/12");
	idx = intern(&f, &l);
	memset(&caller, 0, sizeof(caller));
#define CALLER(ip)                                                                           \
	do {                                                                                 \
		pd_auth_free(&f.mem, &caller);                                               \
		assert_int_equal(pd_auth_add(&f.mem, &caller, "ip", ip, strlen(ip)), 0);    \
	} while (0)
	CALLER("10.1.2.3");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_READ, &caller));
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_WRITE, &caller));
	CALLER("10.255.255.255");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_READ, &caller));
	CALLER("11.0.0.1");
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, &caller));
	CALLER("192.168.1.7");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_WRITE, &caller));
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_READ, &caller));
	CALLER("192.168.1.8");
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_WRITE, &caller));
	CALLER("172.31.255.1");
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_ADMIN, &caller));
	CALLER("172.32.0.1");
	assert_false(pd_acl_allows(&f.t, idx, PD_PERM_ADMIN, &caller));
#undef CALLER
	pd_auth_free(&f.mem, &caller);
	pd_acl_unref(&f.t, idx);
	/* /0 matches every address */
	al_reset(&l);
	al_add(&l, PD_PERM_READ, "ip", "1.2.3.4/0");
	idx = intern(&f, &l);
	assert_int_equal(pd_auth_add(&f.mem, &caller, "ip", "200.1.1.1", 9), 0);
	assert_true(pd_acl_allows(&f.t, idx, PD_PERM_READ, &caller));
	pd_auth_free(&f.mem, &caller);
	pd_acl_unref(&f.t, idx);
	afix_done(&f);
}

/* --- getACL masking --- */

static void test_get_acl_reply_masking(void **state)
{
	struct afix f;
	struct alist l;
	struct tb want = {.n = 0};
	struct pd_buf b = {0};
	struct pd_jw jw = {&f.mem, &b};
	uint32_t idx;
	(void)state;
	afix_init(&f);
	jw.mem = &f.mem;
	al_reset(&l);
	al_add(&l, PD_PERM_ALL, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=");
	al_add(&l, PD_PERM_READ, "world", "anyone");
	al_add(&l, PD_PERM_READ, "ip", "10.0.0.0/8");
	al_add(&l, PD_PERM_ADMIN, "digest", ":abc");
	idx = intern(&f, &l);
	/* with ADMIN: the list exactly as stored */
	pd_acl_write_reply(&f.t, idx, false, &jw);
	tu_assert_bytes(b.data, b.len, l.t.b, l.t.n, "unmasked ACL");
	/* without ADMIN: digest ids become user:x (wire) */
	b.len = 0;
	pd_acl_write_reply(&f.t, idx, true, &jw);
	tb_i32(&want, 4);
	tb_i32(&want, PD_PERM_ALL);
	tb_str(&want, "digest");
	tb_str(&want, "user:x");
	tb_i32(&want, PD_PERM_READ);
	tb_str(&want, "world");
	tb_str(&want, "anyone");
	tb_i32(&want, PD_PERM_READ);
	tb_str(&want, "ip");
	tb_str(&want, "10.0.0.0/8");
	tb_i32(&want, PD_PERM_ADMIN);
	tb_str(&want, "digest");
	tb_str(&want, ":x");
	tu_assert_bytes(b.data, b.len, want.b, want.n, "masked ACL");
	pd_buf_free(&f.mem, &b);
	pd_acl_unref(&f.t, idx);
	afix_done(&f);
}

/* --- the intern table --- */

static void test_intern_refcounts(void **state)
{
	struct afix f;
	struct alist l;
	uint32_t a, b, c;
	uint32_t base;
	(void)state;
	afix_init(&f);
	base = f.t.live_count;
	assert_int_equal(base, 2); /* OPEN and READ_ONLY_WORLD */
	/* the built-ins are the lists they claim to be */
	{
		struct tb w = {.n = 0};
		const struct pd_acl_slot *s = pd_acl_get(&f.t, PD_ACL_OPEN);
		tb_acl_world(&w, PD_PERM_ALL);
		tu_assert_bytes(s->bytes, s->len, w.b, w.n, "PD_ACL_OPEN");
		assert_int_equal(s->world_perms, PD_PERM_ALL);
		w.n = 0;
		s = pd_acl_get(&f.t, PD_ACL_READ_ONLY_WORLD);
		tb_acl_world(&w, PD_PERM_READ);
		tu_assert_bytes(s->bytes, s->len, w.b, w.n, "PD_ACL_READ_ONLY_WORLD");
	}
	/* interning world:anyone ALL again finds the built-in */
	al_reset(&l);
	al_add(&l, PD_PERM_ALL, "world", "anyone");
	a = intern(&f, &l);
	assert_int_equal(a, PD_ACL_OPEN);
	pd_acl_unref(&f.t, a);
	/* equal lists share a slot; a different one gets its own */
	al_reset(&l);
	al_add(&l, 1, "digest", "u:h");
	a = intern(&f, &l);
	b = intern(&f, &l);
	assert_int_equal(a, b);
	assert_int_equal(pd_acl_get(&f.t, a)->refcount, 2);
	al_add(&l, 2, "ip", "1.2.3.4");
	c = intern(&f, &l);
	assert_int_not_equal(c, a);
	assert_int_equal(f.t.live_count, base + 2);
	pd_acl_unref(&f.t, a);
	assert_int_equal(f.t.live_count, base + 2);
	pd_acl_unref(&f.t, b);
	assert_int_equal(f.t.live_count, base + 1);
	pd_acl_unref(&f.t, c);
	assert_int_equal(f.t.live_count, base);
	/* built-ins survive dropping every reference */
	pd_acl_ref(&f.t, PD_ACL_OPEN);
	pd_acl_unref(&f.t, PD_ACL_OPEN);
	pd_acl_unref(&f.t, PD_ACL_OPEN);
	assert_non_null(pd_acl_get(&f.t, PD_ACL_OPEN)->bytes);
	afix_done(&f);
}

static void test_intern_many_with_churn(void **state)
{
	struct afix f;
	enum { N = 600 };
	static uint32_t idx[N];
	char id[32];
	struct alist l;
	int i, round;
	(void)state;
	afix_init(&f);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < N; i++) {
			al_reset(&l);
			snprintf(id, sizeof(id), "user%d:h", i);
			al_add(&l, 31, "digest", id);
			idx[i] = intern(&f, &l);
		}
		assert_int_equal(f.t.live_count, 2 + N);
		/* drop the odd ones, then every remaining list must still be found */
		for (i = 1; i < N; i += 2)
			pd_acl_unref(&f.t, idx[i]);
		for (i = 0; i < N; i += 2) {
			uint32_t again;
			al_reset(&l);
			snprintf(id, sizeof(id), "user%d:h", i);
			al_add(&l, 31, "digest", id);
			again = intern(&f, &l);
			assert_int_equal(again, idx[i]);
			assert_int_equal(pd_acl_get(&f.t, again)->refcount, 2);
			pd_acl_unref(&f.t, again);
			pd_acl_unref(&f.t, idx[i]);
		}
		assert_int_equal(f.t.live_count, 2);
	}
	afix_done(&f);
}

static void test_auth_set(void **state)
{
	struct afix f;
	(void)state;
	afix_init(&f);
	add_id(&f, "ip", "127.0.0.1");
	add_id(&f, "ip", "127.0.0.1"); /* a set: no duplicate */
	assert_int_equal(f.ids.count, 1);
	add_id(&f, "digest", "u:h");
	add_id(&f, "digest", "u:h2");
	add_id(&f, "digest", "u:h");
	assert_int_equal(f.ids.count, 3);
	assert_true(pd_auth_has_scheme(&f.ids, "digest"));
	assert_true(pd_auth_has_scheme(&f.ids, "ip"));
	assert_false(pd_auth_has_scheme(&f.ids, "sasl"));
	assert_false(f.ids.super);
	add_id(&f, "super", "");
	assert_true(f.ids.super);
	assert_string_equal(f.ids.ids[1].scheme, "digest");
	assert_string_equal(f.ids.ids[1].id, "u:h");
	assert_int_equal(f.ids.ids[1].id_len, 3);
	afix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_id),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_canonicalize_world),
		cmocka_unit_test(test_canonicalize_empty_and_null_lists),
		cmocka_unit_test(test_canonicalize_dedup),
		cmocka_unit_test(test_canonicalize_auth_expansion),
		cmocka_unit_test(test_canonicalize_digest_ids),
		cmocka_unit_test(test_canonicalize_ip_ids),
		cmocka_unit_test(test_canonicalize_unknown_schemes),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_allows_world_lists),
		cmocka_unit_test(test_allows_digest_and_super),
		cmocka_unit_test(test_allows_ip_masks),
		cmocka_unit_test(test_get_acl_reply_masking),
		cmocka_unit_test(test_intern_refcounts),
		cmocka_unit_test(test_intern_many_with_churn),
		cmocka_unit_test(test_auth_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
