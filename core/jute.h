/*
 * jute.h: bounds-checked reader and writer for ZooKeeper's jute encoding
 * (wire-protocol.md §1.2).
 *
 * The reader never reads past its end: every getter returns PD_EPROTO once
 * the input is short, and the error is sticky so a decoder can read a whole
 * record and check once.  Buffers and strings are returned as spans that
 * point into the input; nothing is copied.  The writer appends to a pd_buf.
 */
#ifndef PD_JUTE_H
#define PD_JUTE_H

#include "mem.h"
#include "types.h"

struct pd_jr {
	const uint8_t *p;
	const uint8_t *end;
	uint32_t field_bytes_max; /* longest buffer/string accepted */
	int err;
};

void pd_jr_init(struct pd_jr *jr, const uint8_t *p, size_t len, uint32_t field_bytes_max);
int32_t pd_jr_int(struct pd_jr *jr);
int64_t pd_jr_long(struct pd_jr *jr);
bool pd_jr_bool(struct pd_jr *jr);
/* A jute buffer or ustring; length -1 gives a null span. */
struct pd_span pd_jr_buffer(struct pd_jr *jr);
/* Vector length; -1 (null) is reported through *is_null and returns 0. */
int32_t pd_jr_vector_len(struct pd_jr *jr, bool *is_null);
size_t pd_jr_remaining(const struct pd_jr *jr);

struct pd_jw {
	struct pd_mem *mem;
	struct pd_buf *buf;
};

void pd_jw_int(struct pd_jw *jw, int32_t v);
void pd_jw_long(struct pd_jw *jw, int64_t v);
void pd_jw_bool(struct pd_jw *jw, bool v);
void pd_jw_bytes(struct pd_jw *jw, const void *p, size_t len); /* raw, no prefix */
void pd_jw_buffer(struct pd_jw *jw, const void *p, int32_t len); /* len -1 = null */
void pd_jw_span(struct pd_jw *jw, struct pd_span s);
void pd_jw_string(struct pd_jw *jw, const char *s, size_t len);
void pd_jw_cstr(struct pd_jw *jw, const char *s);
/* Overwrites a big-endian int at offset (for frame lengths written last). */
void pd_jw_patch_int(struct pd_jw *jw, size_t offset, int32_t v);

static inline uint32_t pd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t pd_be64(const uint8_t *p)
{
	return ((uint64_t)pd_be32(p) << 32) | pd_be32(p + 4);
}

static inline void pd_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void pd_put_be64(uint8_t *p, uint64_t v)
{
	pd_put_be32(p, (uint32_t)(v >> 32));
	pd_put_be32(p + 4, (uint32_t)v);
}

#endif
