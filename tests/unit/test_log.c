/* test_log.c: log record framing (core/log.h): checksums and the verdicts
 * recovery relies on: record, end of data, torn tail, corruption. */
#include "test_util.h"

#include "jute.h"
#include "log.h"

static uint32_t ref_crc32c(const uint8_t *p, size_t len)
{
	/* bitwise reference, independent of the table in log.c */
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;
	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void test_crc32c_known_vectors(void **state)
{
	uint8_t buf[1000];
	size_t i;
	(void)state;
	/* the standard check value of CRC-32C */
	assert_int_equal(pd_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(pd_crc32c(0, "", 0), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(pd_crc32c(0, buf, sizeof(buf)), ref_crc32c(buf, sizeof(buf)));
	/* incremental == one shot */
	assert_int_equal(pd_crc32c(pd_crc32c(0, buf, 300), buf + 300, 700), pd_crc32c(0, buf, sizeof(buf)));
	/* every start offset and length around the 8-byte steps */
	{
		size_t off, len;
		for (off = 0; off < 16; off++)
			for (len = 0; len < 80; len++)
				assert_int_equal(pd_crc32c(0, buf + off, len), ref_crc32c(buf + off, len));
	}
}

/* Builds a log of three records followed by `tail` extra bytes. */
static size_t build_log(uint8_t *out, const char *const txns[3])
{
	size_t off = 0;
	int i;
	for (i = 0; i < 3; i++) {
		uint32_t len = (uint32_t)strlen(txns[i]);
		pd_log_record_header(out + off, (const uint8_t *)txns[i], len);
		memcpy(out + off + PD_LOG_RECORD_HEADER_BYTES, txns[i], len);
		off += PD_LOG_RECORD_HEADER_BYTES + len;
	}
	return off;
}

static int count_records(const uint8_t *p, size_t len, enum pd_log_status *last, size_t *good)
{
	size_t off = 0, used;
	const uint8_t *txn;
	uint32_t txn_len;
	int n = 0;
	for (;;) {
		enum pd_log_status st = pd_log_next(p + off, len - off, &txn, &txn_len, &used);
		if (st != PD_LOG_RECORD) {
			*last = st;
			*good = off;
			return n;
		}
		n++;
		off += used;
	}
}

static void test_records_torn_corrupt_and_zero_fill(void **state)
{
	static const char *const txns[3] = {"first transaction", "second", "the third and last one"};
	uint8_t log[256], copy[256];
	size_t len, good, cut;
	enum pd_log_status last;
	(void)state;
	len = build_log(log, txns);
	assert_int_equal(count_records(log, len, &last, &good), 3);
	assert_int_equal(last, PD_LOG_END);
	assert_int_equal(good, len);
	/* zero fill after the records (preallocated space) is a clean end */
	memcpy(copy, log, len);
	memset(copy + len, 0, 40);
	assert_int_equal(count_records(copy, len + 40, &last, &good), 3);
	assert_int_equal(last, PD_LOG_END);
	/* every cut inside the last record is a torn tail after two records */
	for (cut = len - strlen(txns[2]) - PD_LOG_RECORD_HEADER_BYTES + 1; cut < len; cut++) {
		assert_int_equal(count_records(log, cut, &last, &good), 2);
		assert_true(last == PD_LOG_TORN || last == PD_LOG_END);
		assert_int_equal(good, len - strlen(txns[2]) - PD_LOG_RECORD_HEADER_BYTES);
	}
	/* a flipped bit anywhere in a record is corruption at that record */
	for (cut = 0; cut < len; cut++) {
		int bit;
		for (bit = 0; bit < 8; bit++) {
			int n;
			memcpy(copy, log, len);
			copy[cut] ^= (uint8_t)(1u << bit);
			n = count_records(copy, len, &last, &good);
			assert_true(n < 3);
			assert_true(last == PD_LOG_CORRUPT || last == PD_LOG_TORN || last == PD_LOG_END);
		}
	}
	/* a wrong checksum on an intact record */
	memcpy(copy, log, len);
	copy[5] ^= 0x10;
	assert_int_equal(count_records(copy, len, &last, &good), 0);
	assert_int_equal(last, PD_LOG_CORRUPT);
	/* an absurd length is corruption, not a 4 GiB allocation */
	pd_put_be32(copy, 0x7fffffffu);
	assert_int_equal(count_records(copy, len, &last, &good), 0);
	assert_int_equal(last, PD_LOG_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_vectors),
		cmocka_unit_test(test_records_torn_corrupt_and_zero_fill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
