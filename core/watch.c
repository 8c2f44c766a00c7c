/* watch.c: data, child and persistent watches; one-shot firing; see watch.h. */
#include "watch.h"

#include <string.h>

#include "assert.h"
#include "err.h"
#include "proto.h"

void pd_watch_init(struct pd_watch_table *w, struct pd_mem *mem)
{
	memset(w, 0, sizeof(*w));
	w->mem = mem;
	pd_map64_init(&w->by_hash, mem);
}

static void watch_path_free(struct pd_watch_table *w, struct pd_watch_path *wp)
{
	w->path_bytes -= wp->path_len;
	pd_mem_free(w->mem, wp, sizeof(*wp) + wp->path_len);
}

void pd_watch_free(struct pd_watch_table *w)
{
	uint32_t pos = 0;
	struct pd_watch_path *wp;
	while ((wp = pd_map64_next(&w->by_hash, &pos, NULL)) != NULL) {
		while (wp != NULL) {
			struct pd_watch_path *next = wp->hash_next;
			struct pd_watcher *r = wp->watchers;
			while (r != NULL) {
				struct pd_watcher *rn = r->path_next;
				pd_mem_free(w->mem, r, sizeof(*r));
				r = rn;
			}
			watch_path_free(w, wp);
			wp = next;
		}
	}
	pd_map64_free(&w->by_hash);
	pd_mem_free(w->mem, w->heads, w->heads_cap * sizeof(*w->heads));
	pd_mem_free(w->mem, w->fire, w->fire_cap * sizeof(uint32_t));
	memset(w, 0, sizeof(*w));
}

static struct pd_watch_path *watch_find(const struct pd_watch_table *w, uint64_t h, const char *path,
					size_t len)
{
	struct pd_watch_path *wp = pd_map64_get(&w->by_hash, h);
	while (wp != NULL && (wp->path_len != len || memcmp(wp->path, path, len) != 0))
		wp = wp->hash_next;
	return wp;
}

/* Adjusts the counters for a registration going from kinds `before` to `after`. */
static void watch_recount(struct pd_watch_table *w, uint8_t before, uint8_t after)
{
#define WATCH_DELTA(field, mask) \
	w->field = w->field - (((before) & (mask)) != 0) + (((after) & (mask)) != 0)
	WATCH_DELTA(count_data, PD_WATCH_DATA_TABLE);
	WATCH_DELTA(count_child, PD_WATCH_CHILD_TABLE);
	WATCH_DELTA(count_persistent, PD_WATCH_PERSIST | PD_WATCH_RECURSIVE | PD_WATCH_RECURSIVE_CHILD);
	WATCH_DELTA(count_recursive, PD_WATCH_RECURSIVE | PD_WATCH_RECURSIVE_CHILD);
#undef WATCH_DELTA
}

static int watch_heads_reserve(struct pd_watch_table *w, uint32_t conn)
{
	uint32_t cap;
	struct pd_watcher **fresh;
	if (conn < w->heads_cap)
		return 0;
	cap = w->heads_cap == 0 ? 64 : w->heads_cap;
	while (cap <= conn)
		cap *= 2;
	fresh = pd_mem_realloc(w->mem, w->heads, w->heads_cap * sizeof(*w->heads), cap * sizeof(*w->heads));
	if (fresh == NULL)
		return PD_ENOMEM;
	memset(fresh + w->heads_cap, 0, (cap - w->heads_cap) * sizeof(*w->heads));
	w->heads = fresh;
	w->heads_cap = cap;
	return 0;
}

struct pd_watcher *pd_watch_conn_first(const struct pd_watch_table *w, uint32_t conn)
{
	return conn < w->heads_cap ? w->heads[conn] : NULL;
}

int pd_watch_add(struct pd_watch_table *w, uint32_t conn, const char *path, size_t len,
		 uint8_t kinds)
{
	uint64_t h = pd_hash_bytes(path, len);
	struct pd_watch_path *wp;
	struct pd_watcher *r, **conn_head;
	int rc = watch_heads_reserve(w, conn);
	if (rc != 0)
		return rc;
	conn_head = &w->heads[conn];
	wp = watch_find(w, h, path, len);
	if (wp == NULL) {
		struct pd_watch_path *head = pd_map64_get(&w->by_hash, h);
		wp = pd_mem_alloc(w->mem, sizeof(*wp) + len);
		if (wp == NULL)
			return PD_ENOMEM;
		wp->hash = h;
		wp->watchers = NULL;
		wp->path_len = (uint32_t)len;
		memcpy(wp->path, path, len);
		wp->hash_next = head;
		rc = pd_map64_put(&w->by_hash, h, wp);
		if (rc != 0) {
			pd_mem_free(w->mem, wp, sizeof(*wp) + len);
			return rc;
		}
		w->path_bytes += len;
	}
	for (r = wp->watchers; r != NULL; r = r->path_next) {
		if (r->conn == conn) {
			watch_recount(w, r->kinds, (uint8_t)(r->kinds | kinds));
			r->kinds |= kinds;
			return 0;
		}
	}
	r = pd_mem_zalloc(w->mem, sizeof(*r));
	if (r == NULL) {
		if (wp->watchers == NULL) {
			/* undo the empty path entry */
			struct pd_watch_path *head = pd_map64_get(&w->by_hash, h);
			if (head == wp) {
				if (wp->hash_next != NULL)
					pd_map64_put(&w->by_hash, h, wp->hash_next);
				else
					pd_map64_del(&w->by_hash, h);
			}
			watch_path_free(w, wp);
		}
		return PD_ENOMEM;
	}
	r->wp = wp;
	r->conn = conn;
	r->kinds = kinds;
	r->path_next = wp->watchers;
	if (wp->watchers != NULL)
		wp->watchers->path_prev = r;
	wp->watchers = r;
	r->conn_next = *conn_head;
	if (*conn_head != NULL)
		(*conn_head)->conn_prev = r;
	*conn_head = r;
	watch_recount(w, 0, kinds);
	return 0;
}

/* Unlinks an empty path entry from its hash chain and frees it. */
static void watch_path_release(struct pd_watch_table *w, struct pd_watch_path *wp)
{
	struct pd_watch_path *head = pd_map64_get(&w->by_hash, wp->hash);
	if (head == wp) {
		if (wp->hash_next != NULL)
			pd_map64_put(&w->by_hash, wp->hash, wp->hash_next); /* replace: no allocation */
		else
			pd_map64_del(&w->by_hash, wp->hash);
	} else {
		while (head->hash_next != wp)
			head = head->hash_next;
		head->hash_next = wp->hash_next;
	}
	watch_path_free(w, wp);
}

static void watch_unlink(struct pd_watch_table *w, struct pd_watcher *r)
{
	struct pd_watch_path *wp = r->wp;
	struct pd_watcher **conn_head = &w->heads[r->conn];
	if (r->path_prev != NULL)
		r->path_prev->path_next = r->path_next;
	else
		wp->watchers = r->path_next;
	if (r->path_next != NULL)
		r->path_next->path_prev = r->path_prev;
	if (r->conn_prev != NULL)
		r->conn_prev->conn_next = r->conn_next;
	else
		*conn_head = r->conn_next;
	if (r->conn_next != NULL)
		r->conn_next->conn_prev = r->conn_prev;
	pd_mem_free(w->mem, r, sizeof(*r));
	if (wp->watchers == NULL)
		watch_path_release(w, wp);
}

uint8_t pd_watch_remove(struct pd_watch_table *w, uint32_t conn, const char *path, size_t len,
			uint8_t kinds, bool dry_run)
{
	struct pd_watch_path *wp = watch_find(w, pd_hash_bytes(path, len), path, len);
	struct pd_watcher *r;
	uint8_t removed;
	if (wp == NULL)
		return 0;
	for (r = wp->watchers; r != NULL && r->conn != conn; r = r->path_next)
		;
	if (r == NULL)
		return 0;
	removed = r->kinds & kinds;
	if (dry_run || removed == 0)
		return removed;
	watch_recount(w, r->kinds, (uint8_t)(r->kinds & ~removed));
	r->kinds &= (uint8_t)~removed;
	if (r->kinds == 0)
		watch_unlink(w, r);
	return removed;
}

bool pd_watch_path_watched(const struct pd_watch_table *w, const char *path, size_t len, uint8_t kinds)
{
	struct pd_watch_path *wp = watch_find(w, pd_hash_bytes(path, len), path, len);
	struct pd_watcher *r;
	for (r = wp != NULL ? wp->watchers : NULL; r != NULL; r = r->path_next)
		if (r->kinds & kinds)
			return true;
	return false;
}

void pd_watch_drop_conn(struct pd_watch_table *w, uint32_t conn)
{
	if (conn >= w->heads_cap)
		return;
	while (w->heads[conn] != NULL) {
		watch_recount(w, w->heads[conn]->kinds, 0);
		watch_unlink(w, w->heads[conn]);
	}
}

static int watch_fire_push(struct pd_watch_table *w, uint32_t conn)
{
	if (w->fire_count == w->fire_cap) {
		uint32_t cap = w->fire_cap == 0 ? 16 : w->fire_cap * 2;
		uint32_t *fresh = pd_mem_realloc(w->mem, w->fire, w->fire_cap * sizeof(uint32_t),
						 cap * sizeof(uint32_t));
		if (fresh == NULL)
			return PD_ENOMEM;
		w->fire = fresh;
		w->fire_cap = cap;
	}
	w->fire[w->fire_count++] = conn;
	return 0;
}

/* Collects watchers of one path entry matching any of kinds; one-shot kinds
 * among them are consumed. */
static int watch_collect(struct pd_watch_table *w, struct pd_watch_path *wp, uint8_t kinds)
{
	struct pd_watcher *r = wp->watchers;
	int rc = 0;
	while (r != NULL) {
		struct pd_watcher *next = r->path_next;
		uint8_t hit = r->kinds & kinds;
		if (hit != 0) {
			uint8_t oneshot = hit & (PD_WATCH_DATA | PD_WATCH_CHILD);
			if (rc == 0)
				rc = watch_fire_push(w, r->conn);
			if (oneshot != 0) {
				watch_recount(w, r->kinds, (uint8_t)(r->kinds & ~oneshot));
				r->kinds &= (uint8_t)~oneshot;
				if (r->kinds == 0) {
					bool last = wp->watchers == r && next == NULL;
					watch_unlink(w, r);
					if (last)
						return rc; /* wp itself was released */
				}
			}
		}
		r = next;
	}
	return rc;
}

static int watch_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void watch_sort_unique(struct pd_watch_table *w)
{
	uint32_t i, o = 0;
	/* insertion sort: fire lists are short */
	for (i = 1; i < w->fire_count; i++) {
		uint32_t v = w->fire[i], j = i;
		while (j > 0 && watch_cmp_u32(&w->fire[j - 1], &v) > 0) {
			w->fire[j] = w->fire[j - 1];
			j--;
		}
		w->fire[j] = v;
	}
	for (i = 0; i < w->fire_count; i++)
		if (o == 0 || w->fire[o - 1] != w->fire[i])
			w->fire[o++] = w->fire[i];
	w->fire_count = o;
}

int pd_watch_trigger(struct pd_watch_table *w, const char *path, size_t len, int event)
{
	struct pd_watch_path *wp;
	uint8_t kinds, recursive;
	int rc = 0;
	w->fire_count = 0;
	if (w->by_hash.count == 0)
		return 0;
	switch (event) {
	case PD_WEV_CREATED:
	case PD_WEV_DATA_CHANGED:
		kinds = PD_WATCH_DATA_TABLE;
		break;
	case PD_WEV_DELETED:
		kinds = PD_WATCH_DATA_TABLE | PD_WATCH_CHILD_TABLE;
		break;
	case PD_WEV_CHILDREN_CHANGED:
		kinds = PD_WATCH_CHILD | PD_WATCH_PERSIST_CHILD;
		break;
	default:
		PD_UNREACHABLE();
	}
	wp = watch_find(w, pd_hash_bytes(path, len), path, len);
	if (wp != NULL)
		rc = watch_collect(w, wp, kinds);
	/* Recursive registrations on ancestors see every descendant's event
	 * except NodeChildrenChanged; a child-table recursive entry only
	 * NodeDeleted. */
	recursive = event == PD_WEV_DELETED ? PD_WATCH_RECURSIVE | PD_WATCH_RECURSIVE_CHILD : PD_WATCH_RECURSIVE;
	if (w->count_recursive > 0 && event != PD_WEV_CHILDREN_CHANGED && len > 1) {
		size_t l = len;
		for (;;) {
			while (l > 0 && path[l - 1] != '/')
				l--;
			if (l == 0)
				break;
			{
				size_t plen = l == 1 ? 1 : l - 1;
				wp = watch_find(w, pd_hash_bytes(path, plen), path, plen);
				if (wp != NULL && rc == 0)
					rc = watch_collect(w, wp, recursive);
				if (plen == 1)
					break;
				l = plen;
			}
		}
	}
	watch_sort_unique(w);
	return rc;
}

struct pd_watch_path *pd_watch_next_path(const struct pd_watch_table *w, uint32_t *pos,
					 struct pd_watch_path **chain)
{
	struct pd_watch_path *wp;
	if (*chain != NULL) {
		wp = *chain;
		*chain = wp->hash_next;
		return wp;
	}
	wp = pd_map64_next(&w->by_hash, pos, NULL);
	if (wp != NULL)
		*chain = wp->hash_next;
	return wp;
}
