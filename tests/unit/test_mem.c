/* test_mem.c: the counted, budgeted allocator and byte buffers (core/mem.h). */
#include "test_util.h"

#include "err.h"
#include "mem.h"

static void test_counters_and_budget(void **state)
{
	struct tu_alloc a;
	struct pd_mem mem;
	void *p, *q, *r;
	(void)state;
	pd_mem_init(&mem, tu_allocator(&a), 100);
	p = pd_mem_alloc(&mem, 60);
	assert_non_null(p);
	assert_int_equal(mem.used_bytes, 60);
	assert_int_equal(mem.alloc_count, 1);
	/* 60 + 50 > 100: refused without touching the world's allocator */
	assert_null(pd_mem_alloc(&mem, 50));
	assert_int_equal(a.live_blocks, 1);
	q = pd_mem_alloc(&mem, 40); /* exactly the budget */
	assert_non_null(q);
	assert_int_equal(mem.used_bytes, 100);
	assert_int_equal(mem.used_bytes_peak, 100);
	pd_mem_free(&mem, p, 60);
	assert_int_equal(mem.used_bytes, 40);
	assert_int_equal(mem.used_bytes_peak, 100);
	/* zero-byte allocations cost one byte and are freed with size 0 */
	r = pd_mem_alloc(&mem, 0);
	assert_non_null(r);
	assert_int_equal(mem.used_bytes, 41);
	pd_mem_free(&mem, r, 0);
	pd_mem_free(&mem, q, 40);
	pd_mem_free(&mem, NULL, 123); /* no-op */
	assert_int_equal(mem.used_bytes, 0);
	assert_int_equal(a.live_blocks, 0);
}

static void test_fail_countdown(void **state)
{
	struct tu_alloc a;
	struct pd_mem mem;
	void *p[4];
	(void)state;
	pd_mem_init(&mem, tu_allocator(&a), 0);
	mem.fail_countdown = 3;
	p[0] = pd_mem_alloc(&mem, 8);
	p[1] = pd_mem_alloc(&mem, 8);
	p[2] = pd_mem_alloc(&mem, 8); /* the third fails */
	p[3] = pd_mem_alloc(&mem, 8); /* and only the third */
	assert_non_null(p[0]);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	assert_int_equal(mem.fail_countdown, 0);
	assert_int_equal(mem.used_bytes, 24);
	pd_mem_free(&mem, p[0], 8);
	pd_mem_free(&mem, p[1], 8);
	pd_mem_free(&mem, p[3], 8);
	assert_int_equal(a.live_blocks, 0);
}

static void test_zalloc_dup_realloc(void **state)
{
	struct tu_alloc a;
	struct pd_mem mem;
	uint8_t *p, *q;
	size_t i;
	(void)state;
	pd_mem_init(&mem, tu_allocator(&a), 0);
	p = pd_mem_zalloc(&mem, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	for (i = 0; i < 64; i++)
		p[i] = (uint8_t)i;
	p = pd_mem_realloc(&mem, p, 64, 128);
	assert_non_null(p);
	for (i = 0; i < 64; i++)
		assert_int_equal(p[i], i);
	assert_int_equal(mem.used_bytes, 128);
	p = pd_mem_realloc(&mem, p, 128, 16); /* shrink keeps the prefix */
	for (i = 0; i < 16; i++)
		assert_int_equal(p[i], i);
	assert_int_equal(mem.used_bytes, 16);
	/* a failed realloc leaves the old block untouched */
	mem.fail_countdown = 1;
	assert_null(pd_mem_realloc(&mem, p, 16, 32));
	assert_int_equal(p[15], 15);
	assert_int_equal(mem.used_bytes, 16);
	q = pd_mem_dup(&mem, "hello", 5);
	assert_memory_equal(q, "hello", 5);
	pd_mem_free(&mem, q, 5);
	pd_mem_free(&mem, p, 16);
	/* realloc of NULL is an alloc */
	p = pd_mem_realloc(&mem, NULL, 0, 10);
	assert_non_null(p);
	pd_mem_free(&mem, p, 10);
	assert_int_equal(mem.used_bytes, 0);
	assert_int_equal(a.live_blocks, 0);
}

static void test_buf(void **state)
{
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_buf b = {0};
	size_t i;
	(void)state;
	pd_mem_init(&mem, tu_allocator(&a), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(pd_buf_append(&mem, &b, &i, 1), 0);
	assert_int_equal(b.len, 1000);
	assert_true(b.cap >= 1000);
	assert_int_equal(b.data[999], (uint8_t)999);
	pd_buf_consume(&b, 10);
	assert_int_equal(b.len, 990);
	assert_int_equal(b.data[0], 10);
	pd_buf_consume(&b, 990);
	assert_int_equal(b.len, 0);
	assert_int_equal(pd_buf_append(&mem, &b, "", 0), 0);
	pd_buf_free(&mem, &b);
	assert_null(b.data);
	assert_int_equal(mem.used_bytes, 0);
	/* a failed growth is sticky */
	mem.budget_bytes = 300;
	assert_int_equal(pd_buf_append(&mem, &b, "x", 1), 0);
	{
		uint8_t big[400];
		memset(big, 1, sizeof(big));
		assert_int_equal(pd_buf_append(&mem, &b, big, sizeof(big)), PD_ENOMEM);
	}
	assert_int_equal(b.err, PD_ENOMEM);
	assert_int_equal(pd_buf_append(&mem, &b, "y", 1), PD_ENOMEM);
	assert_int_equal(b.len, 1);
	pd_buf_free(&mem, &b);
	assert_int_equal(b.err, 0);
	assert_int_equal(mem.used_bytes, 0);
	assert_int_equal(a.live_blocks, 0);
}

static void test_ring_reserve_unwraps_in_order(void **state)
{
	struct tu_alloc a;
	struct pd_mem mem;
	uint32_t *items = NULL, head = 0, count = 0, cap = 0, i;
	(void)state;
	pd_mem_init(&mem, tu_allocator(&a), 0);
	/* fill to 64, pop 10 from the head, push 10 more so the ring wraps */
	for (i = 0; i < 64; i++) {
		assert_int_equal(pd_ring_reserve(&mem, (void **)&items, &head, count, &cap, sizeof(*items)), 0);
		items[(head + count++) % cap] = i;
	}
	assert_int_equal(cap, 64);
	head = 10;
	count -= 10;
	for (i = 64; i < 74; i++) {
		assert_int_equal(pd_ring_reserve(&mem, (void **)&items, &head, count, &cap, sizeof(*items)), 0);
		items[(head + count++) % cap] = i;
	}
	assert_int_equal(cap, 64);
	assert_int_equal(head, 10);
	/* full and wrapped: the next reserve doubles and unwraps, keeping order */
	mem.fail_countdown = 1;
	assert_int_equal(pd_ring_reserve(&mem, (void **)&items, &head, count, &cap, sizeof(*items)), PD_ENOMEM);
	assert_int_equal(cap, 64);
	assert_int_equal(pd_ring_reserve(&mem, (void **)&items, &head, count, &cap, sizeof(*items)), 0);
	assert_int_equal(cap, 128);
	assert_int_equal(head, 0);
	for (i = 0; i < count; i++)
		assert_int_equal(items[i], 10 + i);
	pd_mem_free(&mem, items, cap * sizeof(*items));
	assert_int_equal(mem.used_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_budget),
		cmocka_unit_test(test_fail_countdown),
		cmocka_unit_test(test_zalloc_dup_realloc),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_ring_reserve_unwraps_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
