/* test_jute.c: the bounds-checked jute reader and the writer (core/jute.h). */
#include "test_util.h"

#include "err.h"
#include "jute.h"

/* --- reader --- */

static void test_reader_ints_big_endian(void **state)
{
	static const uint8_t in[] = {0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x02,
				     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xfe};
	struct pd_jr jr;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_int_equal(pd_jr_int(&jr), INT32_MIN);
	assert_int_equal(pd_jr_int(&jr), -1);
	assert_int_equal(pd_jr_int(&jr), 258);
	assert_true(pd_jr_long(&jr) == (int64_t)0x0123456789abcdefLL);
	assert_true(pd_jr_long(&jr) == -2);
	assert_int_equal(jr.err, 0);
	assert_int_equal(pd_jr_remaining(&jr), 0);
}

static void test_reader_bool_any_nonzero_is_true(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0x02, 0xff};
	struct pd_jr jr;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_false(pd_jr_bool(&jr));
	assert_true(pd_jr_bool(&jr));
	assert_true(pd_jr_bool(&jr));
	assert_true(pd_jr_bool(&jr));
	assert_int_equal(jr.err, 0);
	/* one more: past the end */
	assert_false(pd_jr_bool(&jr));
	assert_int_equal(jr.err, PD_EPROTO);
}

static void test_reader_short_input_is_eproto(void **state)
{
	static const uint8_t in[] = {0x00, 0x00, 0x01};
	struct pd_jr jr;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_int_equal(pd_jr_int(&jr), 0);
	assert_int_equal(jr.err, PD_EPROTO);
	/* the reader never points past its end */
	assert_int_equal(pd_jr_remaining(&jr), 0);
	assert_ptr_equal(jr.p, in + sizeof(in));

	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_true(pd_jr_long(&jr) == 0);
	assert_int_equal(jr.err, PD_EPROTO);

	pd_jr_init(&jr, in, 0, 100);
	assert_false(pd_jr_bool(&jr));
	assert_int_equal(jr.err, PD_EPROTO);
}

static void test_reader_error_is_sticky(void **state)
{
	/* int 7, then a buffer claiming 5 bytes with only 2 present, then more */
	static const uint8_t in[] = {0, 0, 0, 7, 0, 0, 0, 5, 'a', 'b'};
	struct pd_jr jr;
	struct pd_span s;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_int_equal(pd_jr_int(&jr), 7);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, PD_EPROTO);
	assert_true(s.is_null);
	assert_null(s.ptr);
	assert_int_equal(s.len, 0);
	/* everything after the first failure fails and returns zero values */
	assert_int_equal(pd_jr_int(&jr), 0);
	assert_true(pd_jr_long(&jr) == 0);
	assert_false(pd_jr_bool(&jr));
	s = pd_jr_buffer(&jr);
	assert_true(s.is_null);
	assert_int_equal(jr.err, PD_EPROTO);

	/* sticky even when later bytes would be readable: fail a long with 4 bytes left, then int */
	{
		static const uint8_t in2[] = {0, 0, 0, 1, 0, 0, 0, 2};
		pd_jr_init(&jr, in2, sizeof(in2), 100);
		assert_int_equal(pd_jr_int(&jr), 1);
		jr.err = PD_EPROTO; /* as after any earlier failure */
		assert_int_equal(pd_jr_int(&jr), 0);
		assert_int_equal(jr.err, PD_EPROTO);
	}
}

static void test_reader_null_buffer_vs_empty(void **state)
{
	static const uint8_t in[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'};
	struct pd_jr jr;
	struct pd_span s;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, 0);
	assert_true(s.is_null);
	assert_null(s.ptr);
	assert_int_equal(s.len, 0);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, 0);
	assert_false(s.is_null);
	assert_int_equal(s.len, 0);
	assert_ptr_equal(s.ptr, in + 8); /* a span into the input, no copy */
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, 0);
	assert_false(s.is_null);
	assert_int_equal(s.len, 3);
	assert_ptr_equal(s.ptr, in + 12);
	assert_memory_equal(s.ptr, "abc", 3);
	assert_int_equal(pd_jr_remaining(&jr), 0);
}

static void test_reader_negative_length_other_than_minus_one(void **state)
{
	static const uint8_t in[] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0};
	static const uint8_t in2[] = {0x80, 0, 0, 0};
	struct pd_jr jr;
	struct pd_span s;
	(void)state;
	pd_jr_init(&jr, in, sizeof(in), 100);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, PD_EPROTO);
	assert_true(s.is_null);
	pd_jr_init(&jr, in2, sizeof(in2), 100);
	(void)pd_jr_buffer(&jr);
	assert_int_equal(jr.err, PD_EPROTO);
}

static void test_reader_field_limit(void **state)
{
	uint8_t in[4 + 11];
	struct pd_jr jr;
	struct pd_span s;
	(void)state;
	memset(in, 'x', sizeof(in));
	pd_put_be32(in, 10);
	pd_jr_init(&jr, in, sizeof(in), 10);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, 0);
	assert_int_equal(s.len, 10);

	pd_put_be32(in, 11);
	pd_jr_init(&jr, in, sizeof(in), 10);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, PD_EPROTO); /* enough bytes, but over the limit */
	assert_true(s.is_null);

	/* a huge length never reads past the end */
	pd_put_be32(in, 0x7fffffff);
	pd_jr_init(&jr, in, sizeof(in), UINT32_MAX);
	s = pd_jr_buffer(&jr);
	assert_int_equal(jr.err, PD_EPROTO);
	assert_int_equal(pd_jr_remaining(&jr), 0);
}

static void test_reader_vector_counts(void **state)
{
	uint8_t in[16];
	struct pd_jr jr;
	bool is_null = false;
	(void)state;
	memset(in, 0, sizeof(in));

	pd_put_be32(in, (uint32_t)-1);
	pd_jr_init(&jr, in, 4, 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_true(is_null);
	assert_int_equal(jr.err, 0);

	pd_put_be32(in, 0);
	pd_jr_init(&jr, in, 4, 100);
	is_null = true;
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_false(is_null);
	assert_int_equal(jr.err, 0);

	/* a count is bounded by the bytes left: 3 elements need at least 3 bytes */
	pd_put_be32(in, 3);
	pd_jr_init(&jr, in, 7, 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 3);
	assert_int_equal(jr.err, 0);
	pd_jr_init(&jr, in, 6, 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_int_equal(jr.err, PD_EPROTO);

	pd_put_be32(in, (uint32_t)-2);
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_int_equal(jr.err, PD_EPROTO);

	pd_put_be32(in, 0x7fffffff);
	pd_jr_init(&jr, in, sizeof(in), 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_int_equal(jr.err, PD_EPROTO);

	/* a short count itself */
	pd_jr_init(&jr, in, 2, 100);
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 0);
	assert_int_equal(jr.err, PD_EPROTO);
}

static void test_be_helpers(void **state)
{
	uint8_t b[8];
	(void)state;
	pd_put_be32(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(b[3], 0xef);
	assert_int_equal(pd_be32(b), 0xdeadbeef);
	pd_put_be64(b, 0x0102030405060708ULL);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[7], 8);
	assert_true(pd_be64(b) == 0x0102030405060708ULL);
}

/* --- writer --- */

struct wfix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_buf buf;
	struct pd_jw jw;
};

static void wfix_init(struct wfix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	memset(&f->buf, 0, sizeof(f->buf));
	f->jw.mem = &f->mem;
	f->jw.buf = &f->buf;
}

static void wfix_done(struct wfix *f)
{
	pd_buf_free(&f->mem, &f->buf);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

static void test_writer_exact_bytes(void **state)
{
	struct wfix f;
	struct pd_span null_span = {NULL, 0, true};
	struct pd_span abc = {(const uint8_t *)"abc", 3, false};
	struct pd_span empty = {(const uint8_t *)"", 0, false};
	uint8_t want[128];
	size_t n;
	(void)state;
	wfix_init(&f);
	pd_jw_int(&f.jw, -2);
	pd_jw_long(&f.jw, 0xc1);
	pd_jw_bool(&f.jw, true);
	pd_jw_bool(&f.jw, false);
	pd_jw_buffer(&f.jw, "xy", 2);
	pd_jw_buffer(&f.jw, NULL, -1);
	pd_jw_buffer(&f.jw, "", 0);
	pd_jw_span(&f.jw, null_span);
	pd_jw_span(&f.jw, empty);
	pd_jw_span(&f.jw, abc);
	pd_jw_string(&f.jw, "/exyz", 3);
	pd_jw_cstr(&f.jw, "world");
	pd_jw_bytes(&f.jw, "\x01\x02", 2);
	n = tu_unhex("fffffffe 00000000000000c1 01 00 00000002 7879 ffffffff 00000000"
		     " ffffffff 00000000 00000003 616263 00000003 2f6578 00000005 776f726c64 0102",
		     want, sizeof(want));
	assert_int_equal(f.buf.err, 0);
	tu_assert_bytes(f.buf.data, f.buf.len, want, n, "writer output");
	wfix_done(&f);
}

static void test_writer_patch_frame_length(void **state)
{
	struct wfix f;
	size_t i;
	(void)state;
	wfix_init(&f);
	pd_jw_int(&f.jw, 0);
	for (i = 0; i < 1000; i++) /* forces several buffer growths */
		pd_jw_int(&f.jw, (int32_t)i);
	pd_jw_patch_int(&f.jw, 0, (int32_t)(f.buf.len - 4));
	assert_int_equal(f.buf.len, 4004);
	assert_int_equal(pd_be32(f.buf.data), 4000);
	assert_int_equal(pd_be32(f.buf.data + 4 + 4 * 999), 999);
	pd_jw_patch_int(&f.jw, 8, -1);
	assert_int_equal(pd_be32(f.buf.data + 8), 0xffffffffu);
	assert_int_equal(pd_be32(f.buf.data + 4), 0); /* neighbours untouched */
	assert_int_equal(pd_be32(f.buf.data + 12), 2);
	wfix_done(&f);
}

static void test_writer_out_of_memory_is_sticky(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	f.mem.budget_bytes = 256; /* the first growth is 256 bytes */
	pd_jw_int(&f.jw, 1);
	assert_int_equal(f.buf.err, 0);
	assert_int_equal(f.buf.len, 4);
	{
		uint8_t big[300];
		memset(big, 0, sizeof(big));
		pd_jw_bytes(&f.jw, big, sizeof(big));
	}
	assert_int_equal(f.buf.err, PD_ENOMEM);
	assert_int_equal(f.buf.len, 4); /* nothing partial was appended */
	/* sticky: even a small write now fails, and patching is a no-op */
	pd_jw_int(&f.jw, 2);
	assert_int_equal(f.buf.len, 4);
	pd_jw_patch_int(&f.jw, 0, 99);
	assert_int_equal(pd_be32(f.buf.data), 1);
	wfix_done(&f);
}

static void test_writer_reader_round_trip(void **state)
{
	struct wfix f;
	struct pd_jr jr;
	struct pd_span s;
	bool is_null;
	(void)state;
	wfix_init(&f);
	pd_jw_int(&f.jw, INT32_MAX);
	pd_jw_long(&f.jw, INT64_MIN);
	pd_jw_bool(&f.jw, true);
	pd_jw_int(&f.jw, 2); /* vector of two strings */
	pd_jw_cstr(&f.jw, "a");
	pd_jw_buffer(&f.jw, NULL, -1);
	pd_jr_init(&jr, f.buf.data, f.buf.len, 100);
	assert_int_equal(pd_jr_int(&jr), INT32_MAX);
	assert_true(pd_jr_long(&jr) == INT64_MIN);
	assert_true(pd_jr_bool(&jr));
	assert_int_equal(pd_jr_vector_len(&jr, &is_null), 2);
	assert_false(is_null);
	s = pd_jr_buffer(&jr);
	assert_int_equal(s.len, 1);
	assert_int_equal(s.ptr[0], 'a');
	s = pd_jr_buffer(&jr);
	assert_true(s.is_null);
	assert_int_equal(jr.err, 0);
	assert_int_equal(pd_jr_remaining(&jr), 0);
	wfix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_ints_big_endian),
		cmocka_unit_test(test_reader_bool_any_nonzero_is_true),
		cmocka_unit_test(test_reader_short_input_is_eproto),
		cmocka_unit_test(test_reader_error_is_sticky),
		cmocka_unit_test(test_reader_null_buffer_vs_empty),
		cmocka_unit_test(test_reader_negative_length_other_than_minus_one),
		cmocka_unit_test(test_reader_field_limit),
		cmocka_unit_test(test_reader_vector_counts),
		cmocka_unit_test(test_be_helpers),
		cmocka_unit_test(test_writer_exact_bytes),
		cmocka_unit_test(test_writer_patch_frame_length),
		cmocka_unit_test(test_writer_out_of_memory_is_sticky),
		cmocka_unit_test(test_writer_reader_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
