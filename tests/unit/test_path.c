/* test_path.c: path validation (wire-protocol.md §7.3) and sequence suffixes (§7.2). */
#include "test_util.h"

#include "err.h"
#include "path.h"

static int validate(const char *s)
{
	return pd_path_validate(s, strlen(s));
}

#define OK(s) assert_int_equal(validate(s), 0)
#define BAD(s) assert_int_equal(validate(s), PD_EBADARGUMENTS)

static void test_validate_shape(void **state)
{
	(void)state;
	OK("/");
	OK("/a");
	OK("/a/b");
	OK("/zookeeper/quota");
	OK("/a b"); /* space is fine */
	OK("/~!@#$%^&*()_+-=[]{};':\",<>?|\\");
	BAD("");
	BAD("a");
	BAD("a/b");
	BAD("/a/");
	BAD("//");
	BAD("/a//b");
	BAD("//a");
	BAD("/a/b/");
	assert_int_equal(pd_path_validate(NULL, 0), PD_EBADARGUMENTS);
	/* the length, not a NUL, delimits the path */
	assert_int_equal(pd_path_validate("/ab", 2), 0);
	assert_int_equal(pd_path_validate("/a/", 2), 0);
	assert_int_equal(pd_path_validate("/a/", 3), PD_EBADARGUMENTS);
}

static void test_validate_dot_segments(void **state)
{
	(void)state;
	BAD("/.");
	BAD("/..");
	BAD("/a/.");
	BAD("/a/..");
	BAD("/./a");
	BAD("/../a");
	BAD("/a/./b");
	BAD("/a/../b");
	/* segments that merely contain dots are fine (wire) */
	OK("/...");
	OK("/.a");
	OK("/a.");
	OK("/..a");
	OK("/a..");
	OK("/a/.../b");
	OK("/.zookeeper");
	OK("/a.b.c");
}

static void test_validate_nul_and_control_characters(void **state)
{
	char p[8];
	int c;
	(void)state;
	assert_int_equal(pd_path_validate("/a\0b", 4), PD_EBADARGUMENTS);
	assert_int_equal(pd_path_validate("/\0", 2), PD_EBADARGUMENTS);
	for (c = 1; c <= 0x1f; c++) {
		p[0] = '/';
		p[1] = 'x';
		p[2] = (char)c;
		assert_int_equal(pd_path_validate(p, 3), PD_EBADARGUMENTS);
	}
	p[2] = 0x7f; /* DEL */
	assert_int_equal(pd_path_validate(p, 3), PD_EBADARGUMENTS);
	p[2] = 0x20;
	assert_int_equal(pd_path_validate(p, 3), 0);
	p[2] = 0x7e;
	assert_int_equal(pd_path_validate(p, 3), 0);
}

static void test_validate_utf8_ranges(void **state)
{
	(void)state;
	OK("/\xc3\xa9");		/* é U+00E9 (wire) */
	OK("/caf\xc3\xa9/cr\xc3\xa8me");
	OK("/\xc2\xa0");		/* U+00A0, first after the C1 block */
	BAD("/\xc2\x80");		/* U+0080 */
	BAD("/\xc2\x9f");		/* U+009F */
	OK("/\xe4\xb8\xad\xe6\x96\x87"); /* 中文 */
	OK("/\xed\x9f\xbf");		/* U+D7FF, just below the surrogates */
	BAD("/\xed\xa0\x80");		/* U+D800 encoded directly (CESU-style surrogate) */
	BAD("/\xed\xbf\xbf");		/* U+DFFF */
	BAD("/\xee\x80\x80");		/* U+E000 private use */
	BAD("/\xef\xa3\xbf");		/* U+F8FF, last private use */
	OK("/\xef\xa4\x80");		/* U+F900 */
	OK("/\xef\xbf\xaf");		/* U+FFEF */
	BAD("/\xef\xbf\xb0");		/* U+FFF0 */
	BAD("/\xef\xbf\xbd");		/* U+FFFD replacement char: in the specials block */
	BAD("/\xef\xbf\xbf");		/* U+FFFF */
	BAD("/\xf0\x9f\x98\x80");	/* emoji U+1F600 (wire: rejected) */
	BAD("/\xf0\x90\x80\x80");	/* U+10000, first supplementary */
	BAD("/a/\xf4\x8f\xbf\xbf/b");	/* U+10FFFF */
}

static void test_validate_invalid_utf8(void **state)
{
	(void)state;
	BAD("/\x80");			/* lone continuation byte */
	BAD("/\xbf");
	BAD("/\xc3");			/* truncated 2-byte sequence at the end */
	BAD("/\xc3/b");			/* truncated, followed by a '/' */
	BAD("/\xc3\x28");		/* bad continuation */
	BAD("/\xc0\xaf");		/* overlong '/' */
	BAD("/\xc1\xbf");		/* overlong */
	BAD("/\xe0\x80\xaf");		/* overlong 3-byte */
	BAD("/\xe2\x82");		/* truncated 3-byte */
	BAD("/\xf0\x80\x80\xaf");	/* overlong 4-byte */
	BAD("/\xf4\x90\x80\x80");	/* above U+10FFFF */
	BAD("/\xf5\x80\x80\x80");
	BAD("/\xf8\x88\x80\x80\x80");	/* 5-byte form */
	BAD("/\xfe");
	BAD("/\xff");
}

static void test_parent_len_and_basename(void **state)
{
	(void)state;
	assert_int_equal(pd_path_parent_len("/a", 2), 1);
	assert_int_equal(pd_path_parent_len("/abc", 4), 1);
	assert_int_equal(pd_path_parent_len("/a/b", 4), 2);
	assert_int_equal(pd_path_parent_len("/ab/cd/ef", 9), 6);
	assert_int_equal(pd_path_parent_len("/a/", 3), 2); /* ZooKeeper: text before the last '/' */
	assert_int_equal(pd_path_parent_len("abc", 3), 0);
	assert_int_equal(pd_path_parent_len("", 0), 0);
	assert_int_equal(pd_path_basename_off("/a", 2), 1);
	assert_int_equal(pd_path_basename_off("/ab/cd", 6), 4);
	assert_int_equal(pd_path_basename_off("/ab/", 4), 4);
	assert_int_equal(pd_path_basename_off("abc", 3), 0);
}

static void check_suffix(int32_t v, const char *want)
{
	char out[16];
	size_t n;
	memset(out, 'X', sizeof(out));
	n = pd_path_seq_suffix(v, out);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	/* the same text as printf's %010d, which is what Java's String.format gives */
	{
		char ref[16];
		snprintf(ref, sizeof(ref), "%010d", v);
		assert_string_equal(out, ref);
	}
}

static void test_seq_suffix(void **state)
{
	(void)state;
	check_suffix(0, "0000000000");
	check_suffix(1, "0000000001");
	check_suffix(42, "0000000042");
	check_suffix(999999999, "0999999999");
	check_suffix(1234567890, "1234567890");
	check_suffix(INT32_MAX, "2147483647");
	/* after int32 wrap-around the sign stays inside the width */
	check_suffix(-1, "-000000001");
	check_suffix(-123, "-000000123");
	check_suffix(-999999999, "-999999999");
	check_suffix(-1000000000, "-1000000000");
	check_suffix(INT32_MIN + 1, "-2147483647");
	check_suffix(INT32_MIN, "-2147483648"); /* 11 characters */
}

static void test_reserved_and_prefix(void **state)
{
	(void)state;
	assert_true(pd_path_is_reserved("/", 1));
	assert_true(pd_path_is_reserved("/zookeeper", 10));
	assert_true(pd_path_is_reserved("/zookeeper/quota", 16));
	assert_true(pd_path_is_reserved("/zookeeper/config", 17));
	assert_false(pd_path_is_reserved("/zookeeper/x", 12));
	assert_false(pd_path_is_reserved("/zookeeper/", 11));
	assert_false(pd_path_is_reserved("/zoo", 4));
	assert_false(pd_path_is_reserved("/zookeeper/quota/a", 18));
	assert_false(pd_path_is_reserved("/zookeeperx", 11));

	assert_true(pd_path_is_prefix("/a", 2, "/a", 2));
	assert_true(pd_path_is_prefix("/a", 2, "/a/b", 4));
	assert_true(pd_path_is_prefix("/a", 2, "/a/b/c", 6));
	assert_false(pd_path_is_prefix("/a", 2, "/ab", 3));
	assert_false(pd_path_is_prefix("/a/b", 4, "/a", 2));
	assert_false(pd_path_is_prefix("/a", 2, "/b", 2));
	assert_true(pd_path_is_prefix("/", 1, "/", 1));
	assert_true(pd_path_is_prefix("/", 1, "/x/y", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_shape),
		cmocka_unit_test(test_validate_dot_segments),
		cmocka_unit_test(test_validate_nul_and_control_characters),
		cmocka_unit_test(test_validate_utf8_ranges),
		cmocka_unit_test(test_validate_invalid_utf8),
		cmocka_unit_test(test_parent_len_and_basename),
		cmocka_unit_test(test_seq_suffix),
		cmocka_unit_test(test_reserved_and_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
