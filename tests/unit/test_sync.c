/* test_sync.c: every row of the learner sync decision (core/sync.h). */
#include "test_util.h"

#include "sync.h"

#define Z PD_ZXID_MAKE

static struct pd_sync_plan plan(pd_zxid peer, pd_zxid last, const pd_zxid *log, size_t n)
{
	struct pd_sync_plan p;
	pd_sync_plan(peer, last, log, n, &p);
	return p;
}

static void test_rows(void **state)
{
	/* the leader's committed log: epoch 2 txns 1..5, then epoch 3 txns 1..3 */
	static const pd_zxid log[] = {Z(2, 1), Z(2, 2), Z(2, 3), Z(2, 4), Z(2, 5), Z(3, 1), Z(3, 2), Z(3, 3)};
	const size_t n = PD_ARRAY_LEN(log);
	const pd_zxid last = Z(3, 3);
	struct pd_sync_plan p;
	(void)state;
	/* in sync: an empty DIFF */
	p = plan(last, last, log, n);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
	assert_true(p.from == last);
	/* behind, with its last zxid in the log: a DIFF from it */
	p = plan(Z(2, 4), last, log, n);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
	assert_true(p.from == Z(2, 4));
	/* ahead of everything committed (an uncommitted tail of an old leader): TRUNC */
	p = plan(Z(3, 7), last, log, n);
	assert_int_equal(p.kind, PD_SYNC_TRUNC);
	assert_true(p.trunc_to == Z(3, 3) && p.from == Z(3, 3));
	/* inside the range, not in the log, next leader txn of the same epoch: TRUNC below it */
	{
		static const pd_zxid gap[] = {Z(2, 1), Z(2, 2), Z(2, 5), Z(2, 6)};
		p = plan(Z(2, 3), Z(2, 6), gap, PD_ARRAY_LEN(gap));
		assert_int_equal(p.kind, PD_SYNC_TRUNC);
		assert_true(p.trunc_to == Z(2, 2) && p.from == Z(2, 2));
	}
	/* the same, but the next leader txn is of another epoch: SNAP (no TRUNC across epochs) */
	{
		static const pd_zxid cross[] = {Z(2, 1), Z(2, 2), Z(4, 1), Z(4, 2)};
		p = plan(Z(3, 2), Z(4, 2), cross, PD_ARRAY_LEN(cross));
		assert_int_equal(p.kind, PD_SYNC_SNAP);
		assert_true(p.from == Z(4, 2));
	}
	/* at an epoch start inside the range: a DIFF from it */
	p = plan(Z(3, 0), last, log, n);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
	assert_true(p.from == Z(3, 0));
	/* at an epoch start past the log: a DIFF too, not a TRUNC */
	p = plan(Z(4, 0), last, log, n);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
	/* older than the log: SNAP */
	p = plan(Z(1, 9), last, log, n);
	assert_int_equal(p.kind, PD_SYNC_SNAP);
	p = plan(0, last, log, n);
	assert_int_equal(p.kind, PD_SYNC_SNAP);
	/* an empty log: the leader's last zxid is the whole range */
	p = plan(Z(2, 5), Z(2, 5), NULL, 0);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
	p = plan(Z(2, 6), Z(2, 5), NULL, 0);
	assert_int_equal(p.kind, PD_SYNC_TRUNC);
	assert_true(p.trunc_to == Z(2, 5));
	p = plan(Z(2, 4), Z(2, 5), NULL, 0);
	assert_int_equal(p.kind, PD_SYNC_SNAP);
	/* a brand-new ensemble: everyone at 0 */
	p = plan(0, 0, NULL, 0);
	assert_int_equal(p.kind, PD_SYNC_DIFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
