/* session.c: session creation, expiry buckets, ephemeral bookkeeping; see session.h. */
#include "session.h"

#include <string.h>

#include "assert.h"
#include "err.h"

void pd_session_table_init(struct pd_session_table *st, struct pd_mem *mem, uint8_t server_id,
			   int64_t wall_ms, int64_t tick_ms)
{
	memset(st, 0, sizeof(*st));
	st->mem = mem;
	pd_map64_init(&st->by_id, mem);
	/* zab-and-server.md §1.3: sid in the top byte, the low 40 bits of the
	 * start time in the next 40, a 16-bit counter below. */
	st->next_id = (int64_t)(((uint64_t)wall_ms << 24) >> 8) | ((int64_t)server_id << 56);
	st->tick_ms = tick_ms > 0 ? tick_ms : 1;
}

void pd_session_table_free(struct pd_session_table *st)
{
	uint32_t pos = 0;
	struct pd_session *s;
	while ((s = pd_map64_next(&st->by_id, &pos, NULL)) != NULL) {
		pd_mem_free(st->mem, s->ephemerals, s->ephemeral_cap * sizeof(uint32_t));
		pd_mem_free(st->mem, s, sizeof(*s));
	}
	pd_map64_free(&st->by_id);
}

struct pd_session *pd_session_get(const struct pd_session_table *st, int64_t id)
{
	return pd_map64_get(&st->by_id, (uint64_t)id);
}

int64_t pd_session_next_id(struct pd_session_table *st)
{
	for (;;) {
		int64_t id = st->next_id++;
		if (id == 0 || pd_owner_is_container(id) || pd_owner_is_ttl(id))
			continue;
		if (pd_session_get(st, id) != NULL)
			continue;
		return id;
	}
}

int pd_session_add(struct pd_session_table *st, int64_t id, int32_t timeout_ms, uint64_t now_ms,
		   struct pd_session **out)
{
	struct pd_session *s = pd_session_get(st, id);
	int rc;
	if (s == NULL) {
		s = pd_mem_zalloc(st->mem, sizeof(*s));
		if (s == NULL)
			return PD_ENOMEM;
		rc = pd_map64_put(&st->by_id, (uint64_t)id, s);
		if (rc != 0) {
			pd_mem_free(st->mem, s, sizeof(*s));
			return rc;
		}
		s->id = id;
		s->conn = PD_CONN_NONE;
		pd_session_passwd(st, id, s->passwd);
	}
	s->timeout_ms = timeout_ms;
	pd_session_touch(st, s, now_ms);
	*out = s;
	return 0;
}

void pd_session_remove(struct pd_session_table *st, struct pd_session *s)
{
	PD_ASSERT(s->ephemeral_count == 0);
	pd_map64_del(&st->by_id, (uint64_t)s->id);
	pd_mem_free(st->mem, s->ephemerals, s->ephemeral_cap * sizeof(uint32_t));
	pd_mem_free(st->mem, s, sizeof(*s));
}

void pd_session_touch(struct pd_session_table *st, struct pd_session *s, uint64_t now_ms)
{
	uint64_t tick = (uint64_t)st->tick_ms;
	if (s->closing)
		return;
	s->touched = true;
	s->expire_at_ms = ((now_ms + (uint64_t)s->timeout_ms) / tick + 1) * tick;
}

/* ZooKeeper's password for a session: 16 bytes from java.util.Random
 * seeded with id ^ 0xB3415C00 (its constant "superSecret"), so a session
 * imported from a ZooKeeper data directory (paddock import) keeps the
 * password its client holds.  Like ZooKeeper's, it is a sanity check, not
 * a secret: anyone who knows the algorithm and the id can compute it. */
void pd_session_passwd(const struct pd_session_table *st, int64_t id,
		       uint8_t out[PD_SESSION_PASSWD_BYTES])
{
	const uint64_t mult = 0x5DEECE66DULL, mask = (1ULL << 48) - 1;
	uint64_t seed = (((uint64_t)id ^ 0xB3415C00ULL) ^ mult) & mask;
	size_t i = 0;
	(void)st;
	while (i < PD_SESSION_PASSWD_BYTES) {
		uint32_t rnd;
		int n;
		seed = (seed * mult + 0xB) & mask; /* Random.next(32) */
		rnd = (uint32_t)(seed >> 16);
		for (n = 0; n < 4 && i < PD_SESSION_PASSWD_BYTES; n++, rnd >>= 8)
			out[i++] = (uint8_t)rnd;
	}
}

int pd_session_add_ephemeral(struct pd_session_table *st, struct pd_tree *t, struct pd_session *s,
			     uint32_t node)
{
	if (s->ephemeral_count == s->ephemeral_cap) {
		uint32_t cap = s->ephemeral_cap == 0 ? 4 : s->ephemeral_cap * 2;
		uint32_t *fresh = pd_mem_realloc(st->mem, s->ephemerals,
						 s->ephemeral_cap * sizeof(uint32_t), cap * sizeof(uint32_t));
		if (fresh == NULL)
			return PD_ENOMEM;
		s->ephemerals = fresh;
		s->ephemeral_cap = cap;
	}
	if (pd_tree_set_aux(t, node, s->ephemeral_count) != 0)
		return PD_ENOMEM;
	s->ephemerals[s->ephemeral_count++] = node;
	st->ephemeral_total++;
	return 0;
}

void pd_session_remove_ephemeral(struct pd_session_table *st, struct pd_tree *t,
				 struct pd_session *s, uint32_t node)
{
	uint32_t pos = pd_tree_aux(t, node);
	uint32_t last;
	PD_ASSERT(pos < s->ephemeral_count && s->ephemerals[pos] == node);
	last = s->ephemerals[--s->ephemeral_count];
	s->ephemerals[pos] = last;
	pd_map64_del(&t->aux, node);
	if (last != node)
		(void)pd_tree_set_aux(t, last, pos); /* replaces an entry: no allocation */
	st->ephemeral_total--;
}
