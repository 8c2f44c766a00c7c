/* test_linear.c: the linearizability checker (sim/linear.h) on hand-made
 * histories, linearizable and not. */
#include <string.h>

#include "test_util.h"

#include "linear.h"

#define NR LIN_NO_RETURN

static bool check(const struct lin_op *ops, size_t n)
{
	char why[256] = "";
	bool gave_up = false, ok = lin_check(ops, n, 0, &gave_up, why, sizeof(why));
	assert_false(gave_up);
	if (!ok)
		assert_true(why[0] != '\0');
	return ok;
}

static void test_sequential(void **state)
{
	const struct lin_op good[] = {
		{LIN_GET, 0, 1, 0},        {LIN_SET_NONODE, 2, 3, 9}, {LIN_CREATE_OK, 4, 5, 0},
		{LIN_CREATE_EXISTS, 6, 7, 0}, {LIN_GET, 8, 9, 1},      {LIN_SET_OK, 10, 11, 7},
		{LIN_GET, 12, 13, 7},
	};
	const struct lin_op never_written[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_GET, 2, 3, 3}};
	const struct lin_op exists_too_early[] = {{LIN_CREATE_EXISTS, 0, 1, 0}, {LIN_CREATE_OK, 2, 3, 0}};
	(void)state;
	assert_true(check(good, 7));
	assert_false(check(never_written, 2));
	assert_false(check(exists_too_early, 2));
}

static void test_concurrency(void **state)
{
	/* a read overlapping a write may see either value */
	const struct lin_op overlap_new[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_OK, 2, 10, 5}, {LIN_GET, 3, 4, 5}};
	const struct lin_op overlap_old[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_OK, 2, 10, 5}, {LIN_GET, 3, 4, 1}};
	/* a stale read after both writes returned is not linearizable */
	const struct lin_op stale[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_OK, 2, 3, 5}, {LIN_SET_OK, 4, 5, 6},
				       {LIN_GET, 6, 7, 5}};
	/* two reads in real-time order must not see the writes in reverse */
	const struct lin_op flip[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_OK, 2, 20, 5}, {LIN_SET_OK, 2, 20, 6},
				      {LIN_GET, 3, 4, 6}, {LIN_GET, 5, 6, 5}, {LIN_GET, 7, 8, 6}};
	/* the same reads with a consistent order are fine */
	const struct lin_op no_flip[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_OK, 2, 20, 5}, {LIN_SET_OK, 2, 20, 6},
					 {LIN_GET, 3, 4, 5}, {LIN_GET, 5, 6, 6}, {LIN_GET, 7, 8, 6}};
	(void)state;
	assert_true(check(overlap_new, 3));
	assert_true(check(overlap_old, 3));
	assert_false(check(stale, 4));
	assert_false(check(flip, 6));
	assert_true(check(no_flip, 6));
}

static void test_unknown_outcomes(void **state)
{
	/* a write whose client never heard back may have happened, late */
	const struct lin_op late[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_UNKNOWN, 2, NR, 5}, {LIN_GET, 10, 11, 1},
				      {LIN_GET, 12, 13, 5}};
	/* or never */
	const struct lin_op never[] = {{LIN_CREATE_UNKNOWN, 0, NR, 0}, {LIN_GET, 5, 6, 0}};
	/* but not in a way no write explains */
	const struct lin_op unexplained[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_UNKNOWN, 2, NR, 5},
					     {LIN_GET, 10, 11, 7}};
	/* and not twice: once seen, then gone back */
	const struct lin_op once[] = {{LIN_CREATE_OK, 0, 1, 0}, {LIN_SET_UNKNOWN, 2, NR, 5}, {LIN_GET, 10, 11, 5},
				      {LIN_SET_OK, 12, 13, 6}, {LIN_GET, 14, 15, 5}};
	(void)state;
	assert_true(check(late, 4));
	assert_true(check(never, 2));
	assert_false(check(unexplained, 3));
	assert_false(check(once, 5));
}

static void test_a_long_history_is_fast(void **state)
{
	/* 3000 operations: writes overlapping reads, a few writes of unknown
	 * outcome (as after a crash) */
	static struct lin_op ops[3000];
	uint64_t t = 10, prev = 1;
	size_t i, n = 0;
	(void)state;
	ops[n++] = (struct lin_op){LIN_CREATE_OK, 0, 1, 0};
	for (i = 0; n + 4 <= 3000; i++) {
		uint64_t v = i + 2;
		ops[n++] = (struct lin_op){LIN_SET_OK, t, t + 5, v};
		/* overlapping the set: either value */
		ops[n++] = (struct lin_op){LIN_GET, t + 1, t + 3, (i % 2) ? v : prev};
		ops[n++] = (struct lin_op){LIN_GET, t + 6, t + 7, v};
		/* now and then a write whose client never heard back */
		ops[n++] = i % 100 == 0 ? (struct lin_op){LIN_SET_UNKNOWN, t + 2, NR, 1000000 + i}
					: (struct lin_op){LIN_GET, t + 8, t + 9, v};
		prev = v;
		t += 10;
	}
	/* the unknown writes never show up in a read: linearizable (they never happened) */
	assert_true(check(ops, n));
	/* one stale read at the end breaks it */
	ops[n - 2].value = 2;
	assert_false(check(ops, n));
}

/* Many writes of unknown outcome whose values nobody read (a long
 * partition): they are pruned before the search, so the check stays
 * small, and the verdict is the same either way. */
static void test_unread_unknown_writes_are_pruned(void **state)
{
	static struct lin_op ops[200];
	char why[256];
	bool gave_up = true;
	size_t n = 0, i;
	(void)state;
	ops[n++] = (struct lin_op){LIN_CREATE_OK, 0, 1, 0};
	for (i = 0; i < 60; i++) /* all pending at once, never answered */
		ops[n++] = (struct lin_op){LIN_SET_UNKNOWN, 2 + i, NR, 100 + i};
	for (i = 0; i < 60; i++) { /* known writes and reads afterwards */
		ops[n++] = (struct lin_op){LIN_SET_OK, 1000 + 10 * i, 1001 + 10 * i, 1000 + i};
		ops[n++] = (struct lin_op){LIN_GET, 1002 + 10 * i, 1003 + 10 * i, 1000 + i};
	}
	/* without the pruning this bound would not be enough: every subset of
	 * the 60 pending writes is a distinct state before the first read */
	assert_true(lin_check(ops, n, 20000, &gave_up, why, sizeof(why)));
	assert_false(gave_up);
	/* one of them read back (it took effect late: fine), then the value
	 * before it again: caught */
	ops[n++] = (struct lin_op){LIN_GET, 5000, 5001, 130};
	assert_true(lin_check(ops, n, 0, &gave_up, why, sizeof(why)));
	ops[n++] = (struct lin_op){LIN_GET, 5002, 5003, 1059};
	assert_false(lin_check(ops, n, 0, &gave_up, why, sizeof(why)));
	assert_false(gave_up);
	/* the failure names the operation by its index in the history given */
	assert_non_null(strstr(why, "operation "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_unknown_outcomes),
		cmocka_unit_test(test_a_long_history_is_fast),
		cmocka_unit_test(test_unread_unknown_writes_are_pruned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
