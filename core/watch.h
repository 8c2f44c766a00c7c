/*
 * watch.h: the watch registry (wire-protocol.md §9).
 *
 * Watches are per connection, neither replicated nor persisted.  One entry
 * per watched path holds the list of (connection, kinds) registrations; each
 * registration is also linked into its connection's list so a closing
 * connection drops all of its watches in one walk.  Standard (one-shot) data
 * and child watches and persistent / persistent-recursive registrations are
 * independent bits, so a one-shot watch never cancels a persistent one (the
 * 3.8 quirk in §9.4 is deliberately not copied).
 */
#ifndef PD_WATCH_H
#define PD_WATCH_H

#include "map.h"

enum pd_watch_kind {
	PD_WATCH_DATA = 1,      /* one-shot exists/getData */
	PD_WATCH_CHILD = 2,     /* one-shot getChildren */
	PD_WATCH_PERSIST = 4,   /* addWatch mode 0 */
	PD_WATCH_RECURSIVE = 8, /* addWatch mode 1 */
};

struct pd_watch_path;

struct pd_watcher {
	struct pd_watch_path *wp;
	uint32_t conn;
	uint8_t kinds;
	struct pd_watcher *path_next;
	struct pd_watcher *path_prev;
	struct pd_watcher *conn_next;
	struct pd_watcher *conn_prev;
};

struct pd_watch_path {
	uint64_t hash;
	struct pd_watch_path *hash_next;
	struct pd_watcher *watchers;
	uint32_t path_len;
	char path[]; /* not NUL-terminated */
};

struct pd_watch_table {
	struct pd_mem *mem;
	struct pd_map64 by_hash;
	uint64_t count_data;      /* registrations with the DATA bit */
	uint64_t count_child;     /* with the CHILD bit */
	uint64_t count_persistent; /* with PERSIST or RECURSIVE */
	uint64_t count_recursive;
	uint64_t path_bytes;      /* for mntr zk_watch_bytes */
	/* each connection's registrations, indexed by connection id */
	struct pd_watcher **heads;
	uint32_t heads_cap;
	/* scratch for triggers: connections to notify */
	uint32_t *fire;
	uint32_t fire_count;
	uint32_t fire_cap;
};

void pd_watch_init(struct pd_watch_table *w, struct pd_mem *mem);
void pd_watch_free(struct pd_watch_table *w);

/* Adds kinds to conn's registration on path. */
int pd_watch_add(struct pd_watch_table *w, uint32_t conn, const char *path, size_t len,
		 uint8_t kinds);
/* Removes kinds from conn's registration on path; returns the kinds removed. */
uint8_t pd_watch_remove(struct pd_watch_table *w, uint32_t conn, const char *path, size_t len,
			uint8_t kinds, bool dry_run);
/* Drops every registration of a connection. */
void pd_watch_drop_conn(struct pd_watch_table *w, uint32_t conn);
/* First registration of a connection (walk with conn_next). */
struct pd_watcher *pd_watch_conn_first(const struct pd_watch_table *w, uint32_t conn);

/* Computes the connections to notify of event on path, consuming one-shot
 * registrations; the result (sorted, each connection once) is in w->fire. */
int pd_watch_trigger(struct pd_watch_table *w, const char *path, size_t len, int event);

/* Iteration over watched paths, for wchc/wchp/dump. */
struct pd_watch_path *pd_watch_next_path(const struct pd_watch_table *w, uint32_t *pos,
					 struct pd_watch_path **chain);

#endif
