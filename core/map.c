/* map.c: open addressing with backward-shift deletion; see map.h. */
#include "map.h"

#include <string.h>

#include "assert.h"
#include "err.h"

static uint64_t map_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

uint64_t pd_hash_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return map_mix(h);
}

void pd_map64_init(struct pd_map64 *m, struct pd_mem *mem)
{
	memset(m, 0, sizeof(*m));
	m->mem = mem;
}

void pd_map64_free(struct pd_map64 *m)
{
	pd_mem_free(m->mem, m->slots, (size_t)m->cap * sizeof(*m->slots));
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

void *pd_map64_get(const struct pd_map64 *m, uint64_t key)
{
	uint32_t pos;
	if (m->cap == 0)
		return NULL;
	pos = (uint32_t)map_mix(key) & (m->cap - 1);
	while (m->slots[pos].value != NULL) {
		if (m->slots[pos].key == key)
			return m->slots[pos].value;
		pos = (pos + 1) & (m->cap - 1);
	}
	return NULL;
}

static void map_insert_raw(struct pd_map64_slot *slots, uint32_t cap, uint64_t key, void *value)
{
	uint32_t pos = (uint32_t)map_mix(key) & (cap - 1);
	while (slots[pos].value != NULL)
		pos = (pos + 1) & (cap - 1);
	slots[pos].key = key;
	slots[pos].value = value;
}

int pd_map64_put(struct pd_map64 *m, uint64_t key, void *value)
{
	uint32_t pos;
	PD_ASSERT(value != NULL);
	if (m->cap != 0) {
		pos = (uint32_t)map_mix(key) & (m->cap - 1);
		while (m->slots[pos].value != NULL) {
			if (m->slots[pos].key == key) {
				m->slots[pos].value = value;
				return 0;
			}
			pos = (pos + 1) & (m->cap - 1);
		}
	}
	if ((m->count + 1) * 4 > m->cap * 3) {
		uint32_t cap = m->cap == 0 ? 16 : m->cap * 2, i;
		struct pd_map64_slot *slots = pd_mem_zalloc(m->mem, (size_t)cap * sizeof(*slots));
		if (slots == NULL)
			return PD_ENOMEM;
		for (i = 0; i < m->cap; i++)
			if (m->slots[i].value != NULL)
				map_insert_raw(slots, cap, m->slots[i].key, m->slots[i].value);
		pd_mem_free(m->mem, m->slots, (size_t)m->cap * sizeof(*m->slots));
		m->slots = slots;
		m->cap = cap;
	}
	map_insert_raw(m->slots, m->cap, key, value);
	m->count++;
	return 0;
}

void *pd_map64_del(struct pd_map64 *m, uint64_t key)
{
	uint32_t mask, pos, hole, next;
	void *old;
	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	pos = (uint32_t)map_mix(key) & mask;
	while (m->slots[pos].value != NULL && m->slots[pos].key != key)
		pos = (pos + 1) & mask;
	if (m->slots[pos].value == NULL)
		return NULL;
	old = m->slots[pos].value;
	hole = pos;
	next = (pos + 1) & mask;
	while (m->slots[next].value != NULL) {
		uint32_t home = (uint32_t)map_mix(m->slots[next].key) & mask;
		bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
		if (movable) {
			m->slots[hole] = m->slots[next];
			hole = next;
		}
		next = (next + 1) & mask;
	}
	m->slots[hole].value = NULL;
	m->slots[hole].key = 0;
	m->count--;
	return old;
}

void *pd_map64_next(const struct pd_map64 *m, uint32_t *pos, uint64_t *key)
{
	while (*pos < m->cap) {
		uint32_t i = (*pos)++;
		if (m->slots[i].value != NULL) {
			if (key != NULL)
				*key = m->slots[i].key;
			return m->slots[i].value;
		}
	}
	return NULL;
}
