/* linear.c: the linearizability search of linear.h. */
#include "linear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lin_entry {
	uint64_t time;
	uint32_t op;
	bool is_return;
	int32_t prev;
	int32_t next;
};

/* What linearizing op does to state: false if it cannot happen there. */
static bool lin_step(const struct lin_op *op, uint64_t state, uint64_t *next)
{
	switch (op->kind) {
	case LIN_CREATE_OK:
	case LIN_CREATE_UNKNOWN:
		*next = 1;
		return state == 0;
	case LIN_CREATE_EXISTS:
		*next = state;
		return state != 0;
	case LIN_SET_OK:
	case LIN_SET_UNKNOWN:
		*next = op->value;
		return state != 0;
	case LIN_SET_NONODE:
		*next = state;
		return state == 0;
	case LIN_GET:
		*next = state;
		return state == op->value;
	}
	return false;
}

static int lin_cmp(const void *a, const void *b)
{
	const struct lin_entry *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->is_return != y->is_return)
		return x->is_return ? 1 : -1; /* calls first: overlapping at equal times */
	return x->op < y->op ? -1 : x->op > y->op;
}

/* The memo: (set of linearized ops, state) already explored.  The set is
 * kept as a Zobrist hash (the XOR of a 64-bit key per operation) next to its
 * size, so a step costs O(1) instead of O(ops); two different sets of the
 * same size would have to collide in 64 bits to be confused. */
struct lin_key {
	uint64_t set;
	uint64_t state;
	uint64_t size;
};

struct lin_cache {
	struct lin_key *keys;
	uint8_t *used;
	size_t cap;
	size_t count;
};

static uint64_t lin_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static bool lin_cache_grow(struct lin_cache *c);

/* Adds the key; false if it was there already. */
static bool lin_cache_add(struct lin_cache *c, struct lin_key k)
{
	size_t i;
	if ((c->count + 1) * 2 > c->cap && !lin_cache_grow(c))
		abort();
	i = lin_mix(k.set ^ lin_mix(k.state) ^ k.size) & (c->cap - 1);
	while (c->used[i]) {
		if (c->keys[i].set == k.set && c->keys[i].state == k.state && c->keys[i].size == k.size)
			return false;
		i = (i + 1) & (c->cap - 1);
	}
	c->used[i] = 1;
	c->keys[i] = k;
	c->count++;
	return true;
}

static bool lin_cache_grow(struct lin_cache *c)
{
	struct lin_cache n;
	size_t i;
	n.cap = c->cap == 0 ? 1024 : c->cap * 2;
	n.count = 0;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.used = calloc(n.cap, 1);
	if (n.keys == NULL || n.used == NULL)
		return false;
	for (i = 0; i < c->cap; i++)
		if (c->used[i])
			(void)lin_cache_add(&n, c->keys[i]);
	free(c->keys);
	free(c->used);
	*c = n;
	return true;
}

static bool lin_search(const struct lin_op *ops, const size_t *orig, size_t n, uint64_t max_steps, bool *gave_up,
		       char *why, size_t why_size)
{
	struct lin_entry *e;
	int32_t *call_of, *ret_of, head, cur;
	uint32_t *stack;
	uint64_t *stack_state, state = 0, steps = 0, set = 0;
	size_t count = 0, i, depth = 0, best = 0;
	struct lin_cache cache;
	bool ok = false;
	*gave_up = false;
	if (n == 0)
		return true;
	e = calloc(2 * n + 1, sizeof(*e));
	call_of = malloc(n * sizeof(int32_t));
	ret_of = malloc(n * sizeof(int32_t));
	stack = malloc(n * sizeof(uint32_t));
	stack_state = malloc(n * sizeof(uint64_t));
	memset(&cache, 0, sizeof(cache));
	if (e == NULL || call_of == NULL || ret_of == NULL || stack == NULL || stack_state == NULL)
		abort();
	for (i = 0; i < n; i++) {
		e[count++] = (struct lin_entry){ops[i].call, (uint32_t)i, false, 0, 0};
		if (ops[i].ret != LIN_NO_RETURN)
			e[count++] = (struct lin_entry){ops[i].ret, (uint32_t)i, true, 0, 0};
	}
	qsort(e, count, sizeof(*e), lin_cmp);
	for (i = 0; i < n; i++)
		ret_of[i] = -1;
	for (i = 0; i < count; i++) {
		e[i].prev = (int32_t)i - 1;
		e[i].next = i + 1 < count ? (int32_t)i + 1 : -1;
		if (e[i].is_return)
			ret_of[e[i].op] = (int32_t)i;
		else
			call_of[e[i].op] = (int32_t)i;
	}
	head = 0;
	cur = head;
	for (;;) {
		if (cur < 0) {
			ok = true; /* only calls of operations that may never have happened are left */
			break;
		}
		if (max_steps != 0 && ++steps > max_steps) {
			*gave_up = true;
			ok = true;
			break;
		}
		if (!e[cur].is_return) {
			uint32_t op = e[cur].op;
			uint64_t next;
			if (lin_step(&ops[op], state, &next) &&
			    lin_cache_add(&cache, (struct lin_key){set ^ lin_mix(op), next, depth + 1})) {
				int32_t c = call_of[op], r = ret_of[op];
				/* lift: unlink the call, then the return */
				if (e[c].prev >= 0)
					e[e[c].prev].next = e[c].next;
				else
					head = e[c].next;
				if (e[c].next >= 0)
					e[e[c].next].prev = e[c].prev;
				if (r >= 0) {
					if (e[r].prev >= 0)
						e[e[r].prev].next = e[r].next;
					else
						head = e[r].next;
					if (e[r].next >= 0)
						e[e[r].next].prev = e[r].prev;
				}
				stack[depth] = op;
				stack_state[depth++] = state;
				if (depth > best)
					best = depth;
				state = next;
				set ^= lin_mix(op);
				cur = head;
			} else {
				cur = e[cur].next;
			}
			continue;
		}
		/* a return whose operation is not linearized yet: undo the last step */
		if (depth == 0) {
			snprintf(why, why_size, "no linearization: operation %u (kind %d, value %llu, called at %llu, "
				 "returned at %llu) cannot be placed; the longest linearized prefix had %zu of %zu operations",
				 (unsigned)orig[e[cur].op], (int)ops[e[cur].op].kind, (unsigned long long)ops[e[cur].op].value,
				 (unsigned long long)ops[e[cur].op].call, (unsigned long long)ops[e[cur].op].ret, best, n);
			break;
		}
		{
			uint32_t op = stack[--depth];
			int32_t c = call_of[op], r = ret_of[op];
			state = stack_state[depth];
			set ^= lin_mix(op);
			/* unlift in reverse order: the return, then the call */
			if (r >= 0) {
				if (e[r].prev >= 0)
					e[e[r].prev].next = r;
				else
					head = r;
				if (e[r].next >= 0)
					e[e[r].next].prev = r;
			}
			if (e[c].prev >= 0)
				e[e[c].prev].next = c;
			else
				head = c;
			if (e[c].next >= 0)
				e[e[c].next].prev = c;
			cur = e[c].next;
		}
	}
	free(e);
	free(call_of);
	free(ret_of);
	free(stack);
	free(stack_state);
	free(cache.keys);
	free(cache.used);
	return ok;
}

static int lin_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Before the search: a write whose outcome is unknown and whose value no
 * read returned is dropped.  Choosing "never happened" for it is always at
 * least as good as placing it (it only changes what later reads may see,
 * and none saw its value), so the verdict is the same, and each such
 * write would otherwise double the states the search may visit. */
bool lin_check(const struct lin_op *ops, size_t n, uint64_t max_steps, bool *gave_up, char *why, size_t why_size)
{
	uint64_t *read = malloc((n > 0 ? n : 1) * sizeof(uint64_t));
	struct lin_op *kept = malloc((n > 0 ? n : 1) * sizeof(*kept));
	size_t *orig = malloc((n > 0 ? n : 1) * sizeof(size_t));
	size_t reads = 0, m = 0, i;
	bool ok;
	if (read == NULL || kept == NULL || orig == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (ops[i].kind == LIN_GET)
			read[reads++] = ops[i].value;
	qsort(read, reads, sizeof(uint64_t), lin_cmp_u64);
	for (i = 0; i < n; i++) {
		if (ops[i].kind == LIN_SET_UNKNOWN && ops[i].ret == LIN_NO_RETURN &&
		    bsearch(&ops[i].value, read, reads, sizeof(uint64_t), lin_cmp_u64) == NULL)
			continue;
		orig[m] = i;
		kept[m++] = ops[i];
	}
	*gave_up = false;
	ok = lin_search(kept, orig, m, max_steps, gave_up, why, why_size);
	free(read);
	free(kept);
	free(orig);
	return ok;
}
