/*
 * map.h: an open-addressing map from 64-bit keys to pointers.
 *
 * Used for session ids and for hashed strings (the caller chains entries
 * that share a hash).  Keys are mixed with a fixed function, so iteration
 * order depends only on the keys inserted and the order of operations,
 * never on pointer values: simulator runs stay reproducible.
 */
#ifndef PD_MAP_H
#define PD_MAP_H

#include "mem.h"
#include "types.h"

struct pd_map64_slot {
	uint64_t key;
	void *value; /* NULL = empty */
};

struct pd_map64 {
	struct pd_mem *mem;
	struct pd_map64_slot *slots;
	uint32_t cap; /* power of two */
	uint32_t count;
};

void pd_map64_init(struct pd_map64 *m, struct pd_mem *mem);
void pd_map64_free(struct pd_map64 *m);
void *pd_map64_get(const struct pd_map64 *m, uint64_t key);
/* Inserts or replaces; value must not be NULL. */
int pd_map64_put(struct pd_map64 *m, uint64_t key, void *value);
/* Removes the key; returns the old value or NULL. */
void *pd_map64_del(struct pd_map64 *m, uint64_t key);
/* Iteration: start with *pos = 0; returns NULL at the end.  Deleting the
 * current key during iteration is not allowed. */
void *pd_map64_next(const struct pd_map64 *m, uint32_t *pos, uint64_t *key);

uint64_t pd_hash_bytes(const void *p, size_t len);

#endif
