/* test_prng.c: the seeded generator (core/prng.h): xoshiro256** seeded by splitmix64. */
#include "test_util.h"

#include "prng.h"

static void test_reference_outputs(void **state)
{
	/* computed independently from the published xoshiro256** and splitmix64 algorithms */
	static const struct {
		uint64_t seed;
		uint64_t out[4];
	} ref[] = {
		{0, {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL}},
		{42, {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL}},
		{0xdeadbeef,
		 {0xc5555444a74d7e83ULL, 0x65c30d37b4b16e38ULL, 0x54f773200a4efa23ULL, 0x429aed75fb958af7ULL}},
	};
	size_t i, j;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(ref); i++) {
		struct pd_prng r;
		pd_prng_seed(&r, ref[i].seed);
		for (j = 0; j < 4; j++)
			assert_true(pd_prng_next(&r) == ref[i].out[j]);
	}
}

static void test_same_seed_same_sequence(void **state)
{
	struct pd_prng a, b, c;
	int i, differ = 0;
	(void)state;
	pd_prng_seed(&a, 7);
	pd_prng_seed(&b, 7);
	pd_prng_seed(&c, 8);
	for (i = 0; i < 10000; i++) {
		uint64_t x = pd_prng_next(&a);
		assert_true(x == pd_prng_next(&b));
		if (x != pd_prng_next(&c))
			differ++;
	}
	assert_true(differ > 9990);
	/* reseeding restarts the sequence */
	pd_prng_seed(&a, 7);
	pd_prng_seed(&b, 7);
	assert_true(pd_prng_next(&a) == pd_prng_next(&b));
}

static void test_below_bounds(void **state)
{
	static const uint64_t bounds[] = {1, 2, 3, 7, 10, 1000, 1ULL << 32, (1ULL << 63) + 1, UINT64_MAX};
	struct pd_prng r;
	size_t i;
	int j;
	(void)state;
	pd_prng_seed(&r, 99);
	for (i = 0; i < PD_ARRAY_LEN(bounds); i++) {
		uint64_t max_seen = 0;
		for (j = 0; j < 20000; j++) {
			uint64_t x = pd_prng_below(&r, bounds[i]);
			assert_true(x < bounds[i]);
			if (x > max_seen)
				max_seen = x;
		}
		if (bounds[i] == 1)
			assert_true(max_seen == 0);
		else if (bounds[i] <= 1000)
			assert_true(max_seen == bounds[i] - 1); /* the top value is reachable */
		else
			assert_true(max_seen > bounds[i] / 2);
	}
}

static void test_below_is_uniform(void **state)
{
	struct pd_prng r;
	uint32_t hist[10] = {0};
	int i;
	(void)state;
	pd_prng_seed(&r, 2024);
	for (i = 0; i < 100000; i++)
		hist[pd_prng_below(&r, 10)]++;
	for (i = 0; i < 10; i++) {
		assert_true(hist[i] > 9500);
		assert_true(hist[i] < 10500);
	}
	/* deterministic for a seed */
	{
		struct pd_prng a, b;
		pd_prng_seed(&a, 5);
		pd_prng_seed(&b, 5);
		for (i = 0; i < 1000; i++)
			assert_true(pd_prng_below(&a, 12345) == pd_prng_below(&b, 12345));
	}
}

static void test_bytes(void **state)
{
	static const size_t lens[] = {0, 1, 7, 8, 9, 16, 33};
	size_t i, k;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(lens); i++) {
		struct pd_prng a, b;
		uint8_t out[40];
		memset(out, 0xee, sizeof(out));
		pd_prng_seed(&a, 3);
		pd_prng_seed(&b, 3);
		pd_prng_bytes(&a, out, lens[i]);
		/* little-endian bytes of successive next() values */
		for (k = 0; k < lens[i]; k += 8) {
			uint64_t x = pd_prng_next(&b);
			size_t m;
			for (m = 0; m < 8 && k + m < lens[i]; m++)
				assert_int_equal(out[k + m], (uint8_t)(x >> (8 * m)));
		}
		assert_int_equal(out[lens[i]], 0xee); /* nothing written past the end */
		/* and the generators are in step afterwards */
		assert_true(pd_prng_next(&a) == pd_prng_next(&b));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_outputs),
		cmocka_unit_test(test_same_seed_same_sequence),
		cmocka_unit_test(test_below_bounds),
		cmocka_unit_test(test_below_is_uniform),
		cmocka_unit_test(test_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
