/* test_session.c: the session table (core/session.h, wire-protocol.md §3.5, §13). */
#include "test_util.h"

#include "acl.h"
#include "err.h"
#include "prng.h"
#include "session.h"
#include "tree.h"


struct sfix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_acl_table acls;
	struct pd_tree tree;
	struct pd_session_table st;
};

static void sfix_init(struct sfix *f, uint8_t server_id, int64_t wall_ms, int64_t tick_ms)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	assert_int_equal(pd_acl_table_init(&f->acls, &f->mem), 0);
	assert_int_equal(pd_tree_init(&f->tree, &f->mem, &f->acls), 0);
	pd_session_table_init(&f->st, &f->mem, server_id, wall_ms, tick_ms);
}

static void sfix_done(struct sfix *f)
{
	pd_session_table_free(&f->st);
	pd_tree_free(&f->tree);
	pd_acl_table_free(&f->acls);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

static struct pd_session *add(struct sfix *f, int64_t id, int32_t timeout_ms, uint64_t now_ms)
{
	struct pd_session *s = NULL;
	assert_int_equal(pd_session_add(&f->st, id, timeout_ms, now_ms, &s), 0);
	assert_non_null(s);
	return s;
}

/* --- ids --- */

static void test_id_layout_like_the_reference(void **state)
{
	struct sfix f;
	(void)state;
	/* sid in the top byte, 40 bits of clock, a counter below: the reference
	 * handed out 0x0100001744400000, ...01, ...02 with that clock value */
	sfix_init(&f, 1, 0x174440, 2000);
	assert_true(pd_session_next_id(&f.st) == 0x0100001744400000LL);
	assert_true(pd_session_next_id(&f.st) == 0x0100001744400001LL);
	assert_true(pd_session_next_id(&f.st) == 0x0100001744400002LL);
	sfix_done(&f);
	/* only the low 40 bits of the clock are used */
	sfix_init(&f, 3, (int64_t)0xabcd00000012345LL, 2000);
	assert_true(pd_session_next_id(&f.st) == (int64_t)0x0300000123450000LL);
	sfix_done(&f);
}

static void test_ids_never_zero_or_markers(void **state)
{
	struct sfix f;
	int64_t id;
	int i;
	(void)state;
	/* server id 0 and clock 0 would start at 0 */
	sfix_init(&f, 0, 0, 2000);
	id = pd_session_next_id(&f.st);
	assert_true(id == 1);
	/* the container marker 0x8000000000000000 is skipped */
	f.st.next_id = INT64_MIN;
	id = pd_session_next_id(&f.st);
	assert_true(id == INT64_MIN + 1);
	assert_false(pd_owner_is_container(id));
	/* ids with top byte 0xFF look like TTL owners: skipped, and so is 0 after them */
	f.st.next_id = -2; /* 0xFFFF...FE */
	id = pd_session_next_id(&f.st);
	assert_true(id == 1);
	/* the generator never returns an id a live session holds */
	f.st.next_id = 100;
	add(&f, 100, 4000, 0);
	add(&f, 101, 4000, 0);
	assert_true(pd_session_next_id(&f.st) == 102);
	/* and each id it returns is a plain session owner */
	f.st.next_id = 0x7ffffffffffffff0LL;
	for (i = 0; i < 8; i++) {
		id = pd_session_next_id(&f.st);
		assert_true(pd_owner_is_session(id));
	}
	sfix_done(&f);
}

/* --- add, passwords, removal --- */

static void test_add_and_passwords(void **state)
{
	struct sfix f;
	struct pd_session *s, *again;
	uint8_t pw[16], pw2[16];
	(void)state;
	sfix_init(&f, 1, 0x174440, 2000);
	s = add(&f, 0x0100001744400000LL, 30000, 5000);
	assert_true(s->id == 0x0100001744400000LL);
	assert_int_equal(s->timeout_ms, 30000);
	assert_int_equal(s->conn, PD_CONN_NONE);
	assert_false(s->closing);
	assert_int_equal(s->ephemeral_count, 0);
	assert_ptr_equal(pd_session_get(&f.st, s->id), s);
	assert_null(pd_session_get(&f.st, s->id + 1));
	/* the password is ZooKeeper's: java.util.Random(id ^ 0xB3415C00).nextBytes
	 * (bytes from the JDK for this id), so imported sessions keep theirs */
	{
		static const uint8_t zk[16] = {0x32, 0xd2, 0x5a, 0xcc, 0xd7, 0x9c, 0x31, 0x8a,
					       0x60, 0xbd, 0x3d, 0x1a, 0x78, 0x2a, 0x90, 0x0e};
		pd_session_passwd(&f.st, s->id, pw);
		assert_memory_equal(pw, zk, 16);
		assert_memory_equal(pw, s->passwd, 16);
		pd_session_passwd(&f.st, s->id + 1, pw2);
		assert_memory_not_equal(pw, pw2, 16);
	}
	/* re-adding (a replayed createSession) updates the timeout, keeps the entry */
	again = add(&f, s->id, 8000, 6000);
	assert_ptr_equal(again, s);
	assert_int_equal(s->timeout_ms, 8000);
	assert_int_equal(f.st.by_id.count, 1);
	pd_session_remove(&f.st, s);
	assert_null(pd_session_get(&f.st, 0x0100001744400000LL));
	assert_int_equal(f.st.by_id.count, 0);
	sfix_done(&f);
}

/* --- expiry buckets --- */

static void test_expiry_rounds_to_tick_buckets(void **state)
{
	struct sfix f;
	struct pd_session *s;
	uint64_t now;
	(void)state;
	sfix_init(&f, 1, 1, 2000);
	s = add(&f, 77, 4000, 0);
	/* ZooKeeper's ExpiryQueue: ((now + timeout) / tick + 1) * tick */
	assert_int_equal(s->expire_at_ms, 6000);
	pd_session_touch(&f.st, s, 1000);
	assert_int_equal(s->expire_at_ms, 6000);
	pd_session_touch(&f.st, s, 1999);
	assert_int_equal(s->expire_at_ms, 6000);
	pd_session_touch(&f.st, s, 2000);
	assert_int_equal(s->expire_at_ms, 8000);
	pd_session_touch(&f.st, s, 123457);
	assert_int_equal(s->expire_at_ms, 128000);
	/* always between timeout and timeout + tick after the touch, on a tick boundary */
	for (now = 0; now < 50000; now += 137) {
		pd_session_touch(&f.st, s, now);
		assert_true(s->expire_at_ms > now + 4000);
		assert_true(s->expire_at_ms <= now + 4000 + 2000);
		assert_int_equal(s->expire_at_ms % 2000, 0);
	}
	/* a closing session is never refreshed */
	s->closing = true;
	pd_session_touch(&f.st, s, 1000000);
	assert_true(s->expire_at_ms < 1000000);
	s->closing = false;
	pd_session_remove(&f.st, s);
	sfix_done(&f);
	/* tick 0 is treated as 1 ms */
	sfix_init(&f, 1, 1, 0);
	s = add(&f, 5, 3000, 10);
	assert_int_equal(s->expire_at_ms, 3011);
	sfix_done(&f);
}

/* --- ephemeral lists --- */

static uint32_t mk_node(struct sfix *f, const char *name, int64_t owner, pd_zxid zxid)
{
	struct pd_span empty = {(const uint8_t *)"", 0, false};
	uint32_t idx;
	pd_acl_ref(&f->acls, PD_ACL_OPEN);
	assert_int_equal(pd_tree_create(&f->tree, PD_NODE_ROOT, name, strlen(name), empty, PD_ACL_OPEN, owner, zxid,
					1, pd_tree_node(&f->tree, PD_NODE_ROOT)->cversion_creates + 1, strlen(name) + 1,
					&idx),
			 0);
	return idx;
}

static void check_aux(const struct sfix *f, const struct pd_session *s)
{
	uint32_t i;
	for (i = 0; i < s->ephemeral_count; i++)
		assert_int_equal(pd_tree_aux(&f->tree, s->ephemerals[i]), i);
}

static void test_ephemeral_list_o1_removal(void **state)
{
	struct sfix f;
	struct pd_session *s;
	uint32_t a, b, c, d;
	(void)state;
	sfix_init(&f, 1, 1, 2000);
	s = add(&f, 9, 4000, 0);
	a = mk_node(&f, "a", 9, 2);
	b = mk_node(&f, "b", 9, 3);
	c = mk_node(&f, "c", 9, 4);
	d = mk_node(&f, "d", 9, 5);
	assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, a), 0);
	assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, b), 0);
	assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, c), 0);
	assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, d), 0);
	assert_int_equal(s->ephemeral_count, 4);
	assert_int_equal(f.st.ephemeral_total, 4);
	check_aux(&f, s);
	/* removing b moves the last entry (d) into its place */
	pd_session_remove_ephemeral(&f.st, &f.tree, s, b);
	assert_int_equal(s->ephemeral_count, 3);
	assert_int_equal(s->ephemerals[0], a);
	assert_int_equal(s->ephemerals[1], d);
	assert_int_equal(s->ephemerals[2], c);
	check_aux(&f, s);
	/* removing the last entry */
	pd_session_remove_ephemeral(&f.st, &f.tree, s, c);
	assert_int_equal(s->ephemeral_count, 2);
	check_aux(&f, s);
	pd_session_remove_ephemeral(&f.st, &f.tree, s, a);
	pd_session_remove_ephemeral(&f.st, &f.tree, s, d);
	assert_int_equal(s->ephemeral_count, 0);
	assert_int_equal(f.st.ephemeral_total, 0);
	pd_session_remove(&f.st, s);
	sfix_done(&f);
}

static void test_ephemeral_list_many_random(void **state)
{
	struct sfix f;
	struct pd_session *s1, *s2;
	enum { N = 2000 };
	static uint32_t nodes[N];
	static bool in_list[N];
	struct pd_prng prng;
	char name[16];
	int i, live = 0;
	(void)state;
	sfix_init(&f, 1, 1, 2000);
	s1 = add(&f, 11, 4000, 0);
	s2 = add(&f, 12, 4000, 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		nodes[i] = mk_node(&f, name, i % 2 ? 11 : 12, 10 + i);
		in_list[i] = false;
	}
	pd_prng_seed(&prng, 7);
	for (i = 0; i < 20000; i++) {
		int k = (int)pd_prng_below(&prng, N);
		struct pd_session *s = k % 2 ? s1 : s2;
		if (in_list[k]) {
			pd_session_remove_ephemeral(&f.st, &f.tree, s, nodes[k]);
			live--;
		} else {
			assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, nodes[k]), 0);
			live++;
		}
		in_list[k] = !in_list[k];
		assert_int_equal(f.st.ephemeral_total, (uint64_t)live);
	}
	check_aux(&f, s1);
	check_aux(&f, s2);
	assert_int_equal(s1->ephemeral_count + s2->ephemeral_count, (uint32_t)live);
	/* every listed node is one we think is listed, owned by that session */
	{
		uint32_t j;
		for (j = 0; j < s1->ephemeral_count; j++)
			assert_true(pd_tree_owner(&f.tree, s1->ephemerals[j]) == 11);
		for (j = 0; j < s2->ephemeral_count; j++)
			assert_true(pd_tree_owner(&f.tree, s2->ephemerals[j]) == 12);
	}
	for (i = 0; i < N; i++)
		if (in_list[i])
			pd_session_remove_ephemeral(&f.st, &f.tree, i % 2 ? s1 : s2, nodes[i]);
	assert_int_equal(f.st.ephemeral_total, 0);
	pd_session_remove(&f.st, s1);
	pd_session_remove(&f.st, s2);
	sfix_done(&f);
}

static void test_table_free_releases_everything(void **state)
{
	struct sfix f;
	int i;
	(void)state;
	sfix_init(&f, 1, 1, 2000);
	for (i = 1; i <= 500; i++) {
		struct pd_session *s = add(&f, i, 4000, 0);
		if (i % 5 == 0) {
			uint32_t n;
			char name[16];
			snprintf(name, sizeof(name), "x%d", i);
			n = mk_node(&f, name, i, i);
			assert_int_equal(pd_session_add_ephemeral(&f.st, &f.tree, s, n), 0);
		}
	}
	assert_int_equal(f.st.by_id.count, 500);
	assert_int_equal(f.st.ephemeral_total, 100);
	sfix_done(&f); /* frees the sessions with their lists: used bytes end at 0 */
}

static void test_add_out_of_memory(void **state)
{
	struct sfix f;
	struct pd_session *s = NULL;
	uint64_t used;
	(void)state;
	sfix_init(&f, 1, 1, 2000);
	used = f.mem.used_bytes;
	f.mem.fail_countdown = 1;
	assert_int_equal(pd_session_add(&f.st, 42, 4000, 0, &s), PD_ENOMEM);
	assert_null(pd_session_get(&f.st, 42));
	assert_int_equal(f.mem.used_bytes, used);
	f.mem.fail_countdown = 2; /* the session struct succeeds, the map table fails */
	assert_int_equal(pd_session_add(&f.st, 42, 4000, 0, &s), PD_ENOMEM);
	assert_null(pd_session_get(&f.st, 42));
	assert_int_equal(f.mem.used_bytes, used);
	f.mem.fail_countdown = 0;
	assert_int_equal(pd_session_add(&f.st, 42, 4000, 0, &s), 0);
	assert_non_null(pd_session_get(&f.st, 42));
	sfix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_layout_like_the_reference),
		cmocka_unit_test(test_ids_never_zero_or_markers),
		cmocka_unit_test(test_add_and_passwords),
		cmocka_unit_test(test_expiry_rounds_to_tick_buckets),
		cmocka_unit_test(test_ephemeral_list_o1_removal),
		cmocka_unit_test(test_ephemeral_list_many_random),
		cmocka_unit_test(test_table_free_releases_everything),
		cmocka_unit_test(test_add_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
