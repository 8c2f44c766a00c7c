/*
 * types.h: fixed-width types shared by every core module.
 *
 * A zxid is epoch << 32 | counter (zab-and-server.md §1.1); a session id is
 * an opaque 64-bit value whose top byte is the server id (§1.3).  Byte spans
 * are (pointer, length) pairs that never own their memory.
 */
#ifndef PD_TYPES_H
#define PD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t pd_zxid;
typedef int64_t pd_session_id;

#define PD_ZXID_EPOCH(z) ((uint32_t)((uint64_t)(z) >> 32))
#define PD_ZXID_COUNTER(z) ((uint32_t)((uint64_t)(z)&0xffffffffu))
#define PD_ZXID_MAKE(e, c) ((pd_zxid)(((uint64_t)(e) << 32) | (uint32_t)(c)))

/* A borrowed byte range.  len is never negative; a null jute buffer is
 * represented by ptr == NULL together with is_null. */
struct pd_span {
	const uint8_t *ptr;
	uint32_t len;
	bool is_null;
};

#define PD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PD_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
