/*
 * log.h: the transaction-log record format (what goes to disk, not how).
 *
 * A log file is a sequence of records, each: u32 length of the txn bytes,
 * u32 CRC-32C over the length field and the txn bytes, then the txn bytes
 * (txn.h).  Big-endian like jute.  A zero length marks the end of data
 * (preallocated space is zero-filled); a record cut short is a torn tail;
 * a complete record with the wrong checksum is corruption.  The driver
 * owns files and fsync; the core only encodes and judges bytes.
 */
#ifndef PD_LOG_H
#define PD_LOG_H

#include "types.h"

#define PD_LOG_RECORD_HEADER_BYTES 8u
#define PD_LOG_RECORD_BYTES_MAX (64u << 20)

enum pd_log_status {
	PD_LOG_RECORD = 1, /* a valid record */
	PD_LOG_END,        /* no more data: end of buffer or zero fill */
	PD_LOG_TORN,       /* a record that does not fit in what is left */
	PD_LOG_CORRUPT,    /* a complete record whose checksum is wrong, or a bad length */
};

uint32_t pd_crc32c(uint32_t crc, const void *p, size_t len);
/* Writes the 8-byte record header for txn bytes. */
void pd_log_record_header(uint8_t hdr[PD_LOG_RECORD_HEADER_BYTES], const uint8_t *txn, uint32_t len);
/* Judges the record at p (len bytes left).  For PD_LOG_RECORD, *txn and
 * *txn_len give the txn bytes and *used the bytes to skip. */
enum pd_log_status pd_log_next(const uint8_t *p, size_t len, const uint8_t **txn, uint32_t *txn_len,
			       size_t *used);

#endif
