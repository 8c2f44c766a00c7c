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

/*
 * ZooKeeper keeps two tables, data watches and child watches; a persistent
 * registration (addWatch mode 0 or 1) sits in both, and removeWatches of
 * type Children or Data removes a connection's entry from one table
 * whatever its mode.  The bits below
 * model exactly that, so removal and firing match ZooKeeper.
 */
enum pd_watch_kind {
	PD_WATCH_DATA = 1,            /* one-shot exists/getData (data table) */
	PD_WATCH_CHILD = 2,           /* one-shot getChildren (child table) */
	PD_WATCH_PERSIST_DATA = 4,    /* addWatch mode 0, its data-table part */
	PD_WATCH_RECURSIVE = 8,       /* addWatch mode 1, its data-table part */
	PD_WATCH_PERSIST_CHILD = 16,  /* addWatch mode 0, its child-table part */
	/* A recursive registration sits in both tables too (addWatch and
	 * setWatches2 in 3.8.0); in the child table it can only ever deliver
	 * NodeDeleted, which the data-table part already delivers, but
	 * removeWatches of type Children finds it there. */
	PD_WATCH_RECURSIVE_CHILD = 32,
	PD_WATCH_PERSIST = PD_WATCH_PERSIST_DATA | PD_WATCH_PERSIST_CHILD,
	PD_WATCH_DATA_TABLE = PD_WATCH_DATA | PD_WATCH_PERSIST_DATA | PD_WATCH_RECURSIVE,
	PD_WATCH_CHILD_TABLE = PD_WATCH_CHILD | PD_WATCH_PERSIST_CHILD | PD_WATCH_RECURSIVE_CHILD,
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
	uint64_t count_data;       /* entries of the data table */
	uint64_t count_child;      /* entries of the child table */
	uint64_t count_persistent; /* registrations with a persistent or recursive bit */
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
/* True if any connection holds a registration on path with one of kinds. */
bool pd_watch_path_watched(const struct pd_watch_table *w, const char *path, size_t len, uint8_t kinds);
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
