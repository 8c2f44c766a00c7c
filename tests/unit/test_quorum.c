/* test_quorum.c: the quorum port's packets (core/quorum.h): byte layout,
 * every prefix of a packet asks for more, malformed packets are refused,
 * LearnerInfo in its three lengths. */
#include "test_util.h"

#include "err.h"
#include "jute.h"
#include "quorum.h"

static struct tu_alloc ALLOC;

static void test_layout_and_round_trip(void **state)
{
	struct pd_mem mem;
	struct pd_buf buf = {0};
	struct pd_qp qp;
	/* ACK of zxid (1, 5): type, zxid, a null data buffer, no authinfo */
	static const uint8_t ack[] = {0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	size_t i;
	(void)state;
	pd_mem_init(&mem, tu_allocator(&ALLOC), 0);
	assert_int_equal(pd_qp_encode(&mem, &buf, PD_QP_ACK, PD_ZXID_MAKE(1, 5), NULL, -1), 0);
	assert_int_equal(buf.len, sizeof(ack));
	assert_memory_equal(buf.data, ack, sizeof(ack));
	assert_int_equal(pd_qp_decode(buf.data, buf.len, 1024, &qp), (long)sizeof(ack));
	assert_int_equal(qp.type, PD_QP_ACK);
	assert_true(qp.zxid == PD_ZXID_MAKE(1, 5));
	assert_true(qp.data.is_null);
	assert_string_equal(pd_qp_name(qp.type), "ACK");
	/* a PROPOSAL with data, then a second packet behind it */
	buf.len = 0;
	assert_int_equal(pd_qp_encode(&mem, &buf, PD_QP_PROPOSAL, PD_ZXID_MAKE(2, 1), "txn-bytes", 9), 0);
	assert_int_equal(pd_qp_encode(&mem, &buf, PD_QP_COMMIT, PD_ZXID_MAKE(2, 1), NULL, -1), 0);
	assert_int_equal(pd_qp_decode(buf.data, buf.len, 1024, &qp), 12 + 4 + 9 + 4);
	assert_int_equal(qp.type, PD_QP_PROPOSAL);
	assert_int_equal(qp.data.len, 9);
	assert_memory_equal(qp.data.ptr, "txn-bytes", 9);
	/* every prefix of the first packet asks for more */
	for (i = 0; i < 29; i++)
		assert_int_equal(pd_qp_decode(buf.data, i, 1024, &qp), 0);
	pd_buf_free(&mem, &buf);
	assert_int_equal(ALLOC.live_blocks, 0);
}

static void test_authinfo_and_malformed(void **state)
{
	uint8_t p[64];
	struct pd_qp qp;
	size_t n;
	(void)state;
	/* a REQUEST with one auth id (digest, u:x) */
	memset(p, 0, sizeof(p));
	pd_put_be32(p, PD_QP_REQUEST);
	pd_put_be64(p + 4, (uint64_t)-1);
	pd_put_be32(p + 12, 0);       /* empty data */
	pd_put_be32(p + 16, 1);       /* one Id */
	pd_put_be32(p + 20, 6);
	memcpy(p + 24, "digest", 6);
	pd_put_be32(p + 30, 3);
	memcpy(p + 34, "u:x", 3);
	n = 37;
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), (long)n);
	assert_int_equal(qp.auth_count, 1);
	assert_int_equal(qp.auth.len, 17);
	assert_int_equal(pd_qp_decode(p, n - 1, 1024, &qp), 0);
	/* an unknown type; a length of -2; data over the limit; a silly count */
	pd_put_be32(p, 20);
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
	pd_put_be32(p, 0);
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
	pd_put_be32(p, PD_QP_REQUEST);
	pd_put_be32(p + 12, (uint32_t)-2);
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
	pd_put_be32(p + 12, 2000);
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
	pd_put_be32(p + 12, 0);
	pd_put_be32(p + 16, 5000);
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
	pd_put_be32(p + 16, 1);
	pd_put_be32(p + 20, (uint32_t)-1); /* an Id's scheme may not be null */
	assert_int_equal(pd_qp_decode(p, n, 1024, &qp), -1);
}

static void test_learner_info(void **state)
{
	struct pd_learner_info li = {3, PD_QP_PROTOCOL_VERSION, 0x100000000LL}, back;
	uint8_t b[20];
	(void)state;
	assert_int_equal(pd_learner_info_encode(&li, b), 20);
	assert_int_equal(pd_learner_info_decode((struct pd_span){b, 20, false}, &back), 0);
	assert_true(back.sid == 3 && back.protocol_version == PD_QP_PROTOCOL_VERSION && back.config_version == 0x100000000LL);
	/* older learners send less */
	assert_int_equal(pd_learner_info_decode((struct pd_span){b, 12, false}, &back), 0);
	assert_true(back.sid == 3 && back.protocol_version == PD_QP_PROTOCOL_VERSION && back.config_version == -1);
	assert_int_equal(pd_learner_info_decode((struct pd_span){b, 8, false}, &back), 0);
	assert_true(back.sid == 3 && back.protocol_version == 0);
	assert_int_equal(pd_learner_info_decode((struct pd_span){b, 7, false}, &back), PD_EPROTO);
	assert_int_equal(pd_learner_info_decode((struct pd_span){NULL, 0, true}, &back), PD_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_round_trip),
		cmocka_unit_test(test_authinfo_and_malformed),
		cmocka_unit_test(test_learner_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
