/*
 * varint.h: LEB128 varints and zigzag, shared by the znode block (tree.c)
 * and the snapshot format (snap.c).
 */
#ifndef PD_VARINT_H
#define PD_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define PD_VARINT_MAX 10u

static inline size_t pd_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint from trusted bytes (a block the tree wrote). */
static inline size_t pd_varint_get(const uint8_t *p, uint64_t *v)
{
	uint64_t r = 0;
	size_t n = 0;
	int shift = 0;
	for (;;) {
		uint8_t b = p[n++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
	}
	*v = r;
	return n;
}

/* Reads a varint from untrusted bytes: 0 if it is cut short or longer than
 * 10 bytes, else the bytes used. */
static inline size_t pd_varint_get_checked(const uint8_t *p, size_t avail, uint64_t *v)
{
	uint64_t r = 0;
	size_t n = 0;
	int shift = 0;
	while (n < avail && n < PD_VARINT_MAX) {
		uint8_t b = p[n++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = r;
			return n;
		}
		shift += 7;
	}
	return 0;
}

static inline uint64_t pd_zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t pd_unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
