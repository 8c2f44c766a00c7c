/* test_map.c: the open-addressing map with backward-shift deletion (core/map.h). */
#include "test_util.h"

#include "err.h"
#include "map.h"
#include "prng.h"

struct mfix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_map64 m;
};

static void mfix_init(struct mfix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	pd_map64_init(&f->m, &f->mem);
}

static void mfix_done(struct mfix *f)
{
	pd_map64_free(&f->m);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

/* Values are fake non-NULL pointers derived from the key. */
static void *val(uint64_t k, unsigned gen)
{
	return (void *)(uintptr_t)(((k * 2654435761u) ^ gen) | 1u);
}

static void test_empty_map(void **state)
{
	struct mfix f;
	uint32_t pos = 0;
	(void)state;
	mfix_init(&f);
	assert_null(pd_map64_get(&f.m, 0));
	assert_null(pd_map64_get(&f.m, 42));
	assert_null(pd_map64_del(&f.m, 42));
	assert_null(pd_map64_next(&f.m, &pos, NULL));
	assert_int_equal(f.m.count, 0);
	mfix_done(&f);
}

static void test_put_get_replace_del(void **state)
{
	struct mfix f;
	(void)state;
	mfix_init(&f);
	assert_int_equal(pd_map64_put(&f.m, 7, val(7, 0)), 0);
	assert_int_equal(pd_map64_put(&f.m, 0, val(0, 0)), 0); /* key 0 is an ordinary key */
	assert_int_equal(pd_map64_put(&f.m, UINT64_MAX, val(1, 9)), 0);
	assert_int_equal(f.m.count, 3);
	assert_ptr_equal(pd_map64_get(&f.m, 7), val(7, 0));
	assert_ptr_equal(pd_map64_get(&f.m, 0), val(0, 0));
	assert_ptr_equal(pd_map64_get(&f.m, UINT64_MAX), val(1, 9));
	assert_null(pd_map64_get(&f.m, 8));
	/* replace keeps the count */
	assert_int_equal(pd_map64_put(&f.m, 7, val(7, 1)), 0);
	assert_int_equal(f.m.count, 3);
	assert_ptr_equal(pd_map64_get(&f.m, 7), val(7, 1));
	assert_ptr_equal(pd_map64_del(&f.m, 7), val(7, 1));
	assert_null(pd_map64_get(&f.m, 7));
	assert_null(pd_map64_del(&f.m, 7));
	assert_int_equal(f.m.count, 2);
	assert_ptr_equal(pd_map64_del(&f.m, 0), val(0, 0));
	assert_ptr_equal(pd_map64_del(&f.m, UINT64_MAX), val(1, 9));
	assert_int_equal(f.m.count, 0);
	mfix_done(&f);
}

static void test_many_keys_and_iteration(void **state)
{
	struct mfix f;
	enum { N = 100000 };
	static uint8_t seen[N];
	uint32_t pos = 0;
	uint64_t k;
	void *v;
	uint32_t i, n = 0;
	(void)state;
	mfix_init(&f);
	for (i = 0; i < N; i++)
		assert_int_equal(pd_map64_put(&f.m, (uint64_t)i << 20, val(i, 0)), 0);
	assert_int_equal(f.m.count, N);
	assert_true((uint64_t)f.m.count * 4 <= (uint64_t)f.m.cap * 3); /* load factor kept */
	for (i = 0; i < N; i++)
		assert_ptr_equal(pd_map64_get(&f.m, (uint64_t)i << 20), val(i, 0));
	assert_null(pd_map64_get(&f.m, 1));
	memset(seen, 0, sizeof(seen));
	while ((v = pd_map64_next(&f.m, &pos, &k)) != NULL) {
		uint64_t key_index = k >> 20;
		assert_true(key_index < N);
		assert_int_equal(seen[key_index], 0);
		seen[key_index] = 1;
		assert_ptr_equal(v, val(key_index, 0));
		n++;
	}
	assert_int_equal(n, N);
	mfix_done(&f);
}

/* Random put/del over a small key universe, checked against a plain array.
 * Deletions inside long probe clusters exercise the backward shift, including
 * clusters that wrap around the end of the table. */
static void churn(uint64_t seed, uint32_t universe, uint32_t ops, bool clustered)
{
	struct mfix f;
	static void *ref[8192];
	static uint64_t keys[8192];
	struct pd_prng prng;
	uint32_t i, live = 0;
	assert_true(universe <= PD_ARRAY_LEN(ref));
	mfix_init(&f);
	pd_prng_seed(&prng, seed);
	for (i = 0; i < universe; i++) {
		ref[i] = NULL;
		keys[i] = clustered ? i : pd_prng_next(&prng);
	}
	for (i = 0; i < ops; i++) {
		uint32_t k = (uint32_t)pd_prng_below(&prng, universe);
		uint32_t action = (uint32_t)pd_prng_below(&prng, 3);
		if (action == 0 || ref[k] == NULL) {
			void *v = val(keys[k], i);
			assert_int_equal(pd_map64_put(&f.m, keys[k], v), 0);
			if (ref[k] == NULL)
				live++;
			ref[k] = v;
		} else {
			assert_ptr_equal(pd_map64_del(&f.m, keys[k]), ref[k]);
			ref[k] = NULL;
			live--;
		}
		assert_ptr_equal(pd_map64_get(&f.m, keys[k]), ref[k]);
		assert_int_equal(f.m.count, live);
		if (i % 4096 == 4095) {
			uint32_t j;
			for (j = 0; j < universe; j++)
				assert_ptr_equal(pd_map64_get(&f.m, keys[j]), ref[j]);
		}
	}
	/* drain completely: the map ends empty and every lookup misses */
	for (i = 0; i < universe; i++) {
		if (ref[i] != NULL) {
			assert_ptr_equal(pd_map64_del(&f.m, keys[i]), ref[i]);
			ref[i] = NULL;
		}
		assert_null(pd_map64_get(&f.m, keys[i]));
	}
	assert_int_equal(f.m.count, 0);
	{
		uint32_t pos = 0;
		assert_null(pd_map64_next(&f.m, &pos, NULL));
	}
	mfix_done(&f);
}

static void test_churn_against_reference(void **state)
{
	(void)state;
	churn(1, 64, 200000, false);	 /* a tiny table: near-full clusters, wrap-around */
	churn(2, 8192, 300000, false);
	churn(3, 1000, 300000, true);	 /* sequential keys */
}

static void test_hash_bytes(void **state)
{
	(void)state;
	assert_true(pd_hash_bytes("abc", 3) == pd_hash_bytes("abc", 3));
	assert_true(pd_hash_bytes("abc", 3) != pd_hash_bytes("abd", 3));
	assert_true(pd_hash_bytes("abc", 3) != pd_hash_bytes("abc", 2));
	assert_true(pd_hash_bytes("/a/b", 4) != pd_hash_bytes("/a/c", 4));
	assert_true(pd_hash_bytes("", 0) == pd_hash_bytes("x", 0));
}

static void test_out_of_memory(void **state)
{
	struct mfix f;
	uint32_t i;
	int rc = 0;
	(void)state;
	mfix_init(&f);
	f.mem.budget_bytes = 16 * sizeof(struct pd_map64_slot); /* room for the first table only */
	for (i = 0; i < 100 && rc == 0; i++)
		rc = pd_map64_put(&f.m, i, val(i, 0));
	assert_int_equal(rc, PD_ENOMEM);
	/* the entries already present are intact */
	assert_int_equal(f.m.count, i - 1);
	for (i = 0; i < f.m.count; i++)
		assert_ptr_equal(pd_map64_get(&f.m, i), val(i, 0));
	mfix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_map),
		cmocka_unit_test(test_put_get_replace_del),
		cmocka_unit_test(test_many_keys_and_iteration),
		cmocka_unit_test(test_churn_against_reference),
		cmocka_unit_test(test_hash_bytes),
		cmocka_unit_test(test_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
