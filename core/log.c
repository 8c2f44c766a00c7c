/* log.c: log record framing and checksums; see log.h. */
#include "log.h"

#include "crc32c_tables.h"
#include "jute.h"

/* CRC-32C (Castagnoli), reflected, polynomial 0x82F63B78, eight bytes per
 * step with the slicing-by-8 tables (tools/gen_crc32c_tables.py;
 * tests/unit/test_log.c checks the result against a bitwise computation). */
uint32_t pd_crc32c(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	const uint32_t(*t)[256] = crc32c_tables;
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		uint32_t hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
		b += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = t[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void pd_log_record_header(uint8_t hdr[PD_LOG_RECORD_HEADER_BYTES], const uint8_t *txn, uint32_t len)
{
	uint32_t crc;
	pd_put_be32(hdr, len);
	crc = pd_crc32c(0, hdr, 4);
	crc = pd_crc32c(crc, txn, len);
	pd_put_be32(hdr + 4, crc);
}

enum pd_log_status pd_log_next(const uint8_t *p, size_t len, const uint8_t **txn, uint32_t *txn_len,
			       size_t *used)
{
	uint32_t n, crc;
	if (len < 4)
		return len == 0 || (len >= 1 && p[0] == 0) ? PD_LOG_END : PD_LOG_TORN;
	n = pd_be32(p);
	if (n == 0)
		return PD_LOG_END;
	if (n > PD_LOG_RECORD_BYTES_MAX)
		return PD_LOG_CORRUPT;
	if (len < PD_LOG_RECORD_HEADER_BYTES || len - PD_LOG_RECORD_HEADER_BYTES < n)
		return PD_LOG_TORN;
	crc = pd_crc32c(0, p, 4);
	crc = pd_crc32c(crc, p + PD_LOG_RECORD_HEADER_BYTES, n);
	if (crc != pd_be32(p + 4))
		return PD_LOG_CORRUPT;
	*txn = p + PD_LOG_RECORD_HEADER_BYTES;
	*txn_len = n;
	*used = PD_LOG_RECORD_HEADER_BYTES + n;
	return PD_LOG_RECORD;
}
