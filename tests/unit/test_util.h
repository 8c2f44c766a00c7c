/*
 * test_util.h: helpers shared by the cmocka unit tests (header-only).
 *
 * A malloc-backed pd_allocator that counts live blocks and bytes, so a test
 * can check that a module returned every byte it took; a tiny independent
 * big-endian writer used to build expected byte vectors without going through
 * the encoder under test; and hex helpers for vectors copied from captures.
 */
#ifndef PD_TEST_UTIL_H
#define PD_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "types.h"

struct tu_alloc {
	uint64_t live_bytes;
	uint64_t live_blocks;
	uint64_t total_blocks;
};

static inline void *tu_alloc_fn(void *ctx, size_t bytes)
{
	struct tu_alloc *a = ctx;
	void *p = malloc(bytes);
	if (p != NULL) {
		a->live_bytes += bytes;
		a->live_blocks++;
		a->total_blocks++;
	}
	return p;
}

static inline void tu_free_fn(void *ctx, void *ptr, size_t bytes)
{
	struct tu_alloc *a = ctx;
	assert_true(a->live_blocks > 0);
	assert_true(a->live_bytes >= bytes);
	a->live_bytes -= bytes;
	a->live_blocks--;
	free(ptr);
}

static inline struct pd_allocator tu_allocator(struct tu_alloc *a)
{
	struct pd_allocator al;
	memset(a, 0, sizeof(*a));
	al.alloc = tu_alloc_fn;
	al.free = tu_free_fn;
	al.ctx = a;
	return al;
}

/* --- an independent big-endian writer for expected vectors --- */

struct tb {
	uint8_t b[1 << 16];
	size_t n;
};

static inline void tb_u8(struct tb *t, uint8_t v)
{
	assert_true(t->n + 1 <= sizeof(t->b));
	t->b[t->n++] = v;
}

static inline void tb_i32(struct tb *t, int32_t v)
{
	uint32_t u = (uint32_t)v;
	tb_u8(t, (uint8_t)(u >> 24));
	tb_u8(t, (uint8_t)(u >> 16));
	tb_u8(t, (uint8_t)(u >> 8));
	tb_u8(t, (uint8_t)u);
}

static inline void tb_i64(struct tb *t, int64_t v)
{
	uint64_t u = (uint64_t)v;
	tb_i32(t, (int32_t)(uint32_t)(u >> 32));
	tb_i32(t, (int32_t)(uint32_t)u);
}

static inline void tb_raw(struct tb *t, const void *p, size_t len)
{
	assert_true(t->n + len <= sizeof(t->b));
	if (len > 0)
		memcpy(t->b + t->n, p, len);
	t->n += len;
}

/* jute buffer/ustring; NULL gives a null (-1) buffer */
static inline void tb_buf(struct tb *t, const void *p, size_t len)
{
	if (p == NULL) {
		tb_i32(t, -1);
		return;
	}
	tb_i32(t, (int32_t)len);
	tb_raw(t, p, len);
}

static inline void tb_str(struct tb *t, const char *s)
{
	tb_buf(t, s, s == NULL ? 0 : strlen(s));
}

/* Starts a frame: returns the offset of its length prefix. */
static inline size_t tb_frame_begin(struct tb *t)
{
	size_t at = t->n;
	tb_i32(t, 0);
	return at;
}

static inline void tb_frame_end(struct tb *t, size_t at)
{
	uint32_t len = (uint32_t)(t->n - at - 4);
	t->b[at] = (uint8_t)(len >> 24);
	t->b[at + 1] = (uint8_t)(len >> 16);
	t->b[at + 2] = (uint8_t)(len >> 8);
	t->b[at + 3] = (uint8_t)len;
}

/* Stat as 68 bytes, field by field (wire-protocol.md §2.1). */
static inline void tb_stat(struct tb *t, int64_t czxid, int64_t mzxid, int64_t ctime, int64_t mtime,
			   int32_t version, int32_t cversion, int32_t aversion, int64_t owner,
			   int32_t data_length, int32_t num_children, int64_t pzxid)
{
	tb_i64(t, czxid);
	tb_i64(t, mzxid);
	tb_i64(t, ctime);
	tb_i64(t, mtime);
	tb_i32(t, version);
	tb_i32(t, cversion);
	tb_i32(t, aversion);
	tb_i64(t, owner);
	tb_i32(t, data_length);
	tb_i32(t, num_children);
	tb_i64(t, pzxid);
}

/* world:anyone with the given perms, as a one-element vector<ACL> */
static inline void tb_acl_world(struct tb *t, int32_t perms)
{
	tb_i32(t, 1);
	tb_i32(t, perms);
	tb_str(t, "world");
	tb_str(t, "anyone");
}

/* --- hex --- */

static inline int tu_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex (spaces and '|' ignored) into out; returns the byte count. */
static inline size_t tu_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *hex != '\0'; hex++) {
		int v = tu_hexval(*hex);
		if (v < 0) {
			assert_true(*hex == ' ' || *hex == '|' || *hex == '\n');
			continue;
		}
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

/* Compares two byte strings and prints the first difference on failure. */
static inline void tu_assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
				   const char *what)
{
	size_t i, n = got_len < want_len ? got_len : want_len;
	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	if (i < n || got_len != want_len) {
		size_t j;
		print_error("%s: %zu bytes vs %zu expected, first difference at offset %zu\n  got : ", what,
			    got_len, want_len, i);
		for (j = 0; j < got_len && j < 256; j++)
			print_error("%02x", got[j]);
		print_error("\n  want: ");
		for (j = 0; j < want_len && j < 256; j++)
			print_error("%02x", want[j]);
		print_error("\n");
		fail_msg("%s differs", what);
	}
}

/* multi op header and a create op inside a multi request body */
static inline void tb_multi_header(struct tb *t, int32_t type, bool done, int32_t err)
{
	tb_i32(t, type);
	tb_u8(t, done ? 1 : 0);
	tb_i32(t, err);
}

static inline void tb_multi_create(struct tb *t, const char *path, const char *data, int32_t flags)
{
	tb_multi_header(t, 1 /* create */, false, -1);
	tb_str(t, path);
	tb_str(t, data);
	tb_acl_world(t, 31);
	tb_i32(t, flags);
}

#endif
