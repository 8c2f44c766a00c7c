/* test_err.c: the error table, wire codes and errmsg prefixing (core/err.h), and the assert hook. */
#include "test_util.h"

#include "assert.h"
#include "err.h"

static void test_wire_codes_match_zookeeper(void **state)
{
	(void)state;
	/* wire-protocol.md §11: codes a client can see keep ZooKeeper's value */
	assert_int_equal(PD_OK, 0);
	assert_int_equal(PD_ERUNTIMEINCONSISTENCY, -2);
	assert_int_equal(PD_EMARSHALLING, -5);
	assert_int_equal(PD_EUNIMPLEMENTED, -6);
	assert_int_equal(PD_EBADARGUMENTS, -8);
	assert_int_equal(PD_ENONODE, -101);
	assert_int_equal(PD_ENOAUTH, -102);
	assert_int_equal(PD_EBADVERSION, -103);
	assert_int_equal(PD_ENOCHILDRENFOREPHEMERALS, -108);
	assert_int_equal(PD_ENODEEXISTS, -110);
	assert_int_equal(PD_ENOTEMPTY, -111);
	assert_int_equal(PD_ESESSIONEXPIRED, -112);
	assert_int_equal(PD_EINVALIDACL, -114);
	assert_int_equal(PD_EAUTHFAILED, -115);
	assert_int_equal(PD_ENOTREADONLY, -119);
	assert_int_equal(PD_ENOWATCHER, -121);
	assert_int_equal(PD_ERECONFIGDISABLED, -123);
	assert_int_equal(PD_EQUOTAEXCEEDED, -125);
	assert_int_equal(pd_err_wire(PD_ENONODE), -101);
	assert_int_equal(pd_err_wire(PD_ENODEEXISTS), -110);
	assert_int_equal(pd_err_wire(PD_OK), 0);
}

static void test_internal_codes_map_to_wire_codes(void **state)
{
	/* the only values a reply may carry: 0 and ZooKeeper's assigned codes */
	static const int assigned[] = {0, -1, -2, -3, -4, -5, -6, -7, -8, -13, -14, -100, -101, -102, -103, -108,
				       -110, -111, -112, -113, -114, -115, -118, -119, -120, -121, -122, -123, -124,
				       -125, -127};
	static const int internal[] = {PD_ENOMEM, PD_EPROTO, PD_ETOOBIG, PD_ECONFIG, PD_EFULL, PD_ECLOSED};
	size_t i, j;
	(void)state;
	for (i = 0; i < PD_ARRAY_LEN(internal); i++) {
		int w = pd_err_wire(internal[i]);
		bool ok = false;
		assert_true(internal[i] <= -1000);
		for (j = 0; j < PD_ARRAY_LEN(assigned); j++)
			ok = ok || assigned[j] == w;
		assert_true(ok);
		assert_int_not_equal(w, 0);
	}
	assert_int_equal(pd_err_wire(PD_EPROTO), -5);
	assert_int_equal(pd_err_wire(PD_ETOOBIG), -5);
	/* a full memory budget reaches clients as QUOTAEXCEEDED */
	assert_int_equal(pd_err_wire(PD_ENOMEM), -125);
	/* unknown values pass through */
	assert_int_equal(pd_err_wire(-7), -7);
	assert_int_equal(pd_err_wire(-99999), -99999);
}

static void test_strerror_and_names(void **state)
{
	(void)state;
	assert_string_equal(pd_strerror(PD_OK), "ok");
	assert_string_equal(pd_strerror(PD_ENONODE), "no node");
	assert_string_equal(pd_strerror(PD_ENOMEM), "memory budget exhausted");
	assert_string_equal(pd_strerror(12345), "unknown error");
	assert_string_equal(pd_err_name(PD_ENONODE), "PD_ENONODE");
	assert_string_equal(pd_err_name(PD_ECONFIG), "PD_ECONFIG");
	assert_string_equal(pd_err_name(-9999), "PD_E?");
}

static void test_errmsg_prefix(void **state)
{
	char msg[32];
	(void)state;
	msg[0] = '\0';
	pd_errmsg_prefix(msg, sizeof(msg), "zoo.cfg");
	assert_string_equal(msg, "zoo.cfg");
	snprintf(msg, sizeof(msg), "line 3: bad");
	pd_errmsg_prefix(msg, sizeof(msg), "zoo.cfg");
	assert_string_equal(msg, "zoo.cfg: line 3: bad");
	pd_errmsg_prefix(msg, sizeof(msg), "config");
	assert_string_equal(msg, "config: zoo.cfg: line 3: bad");
	/* truncated to the buffer, always terminated */
	pd_errmsg_prefix(msg, 12, "a-long-prefix");
	assert_int_equal(strlen(msg), 11);
	assert_string_equal(msg, "a-long-pref");
}

static jmp_buf assert_jmp;
static int assert_line;
static char assert_expr[64];

static void hook(const char *expr, const char *file, int line)
{
	(void)file;
	snprintf(assert_expr, sizeof(assert_expr), "%s", expr);
	assert_line = line;
	longjmp(assert_jmp, 1);
}

static void test_assert_hook(void **state)
{
	volatile int reached = 0;
	(void)state;
	pd_assert_set_hook(hook);
	if (setjmp(assert_jmp) == 0) {
		PD_ASSERT(1 + 1 == 2);
		reached = 1;
		PD_ASSERT(reached == 2);
		fail_msg("PD_ASSERT did not fire");
	}
	assert_int_equal(reached, 1);
	assert_string_equal(assert_expr, "reached == 2");
	assert_true(assert_line > 0);
	pd_assert_set_hook(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_codes_match_zookeeper),
		cmocka_unit_test(test_internal_codes_map_to_wire_codes),
		cmocka_unit_test(test_strerror_and_names),
		cmocka_unit_test(test_errmsg_prefix),
		cmocka_unit_test(test_assert_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
