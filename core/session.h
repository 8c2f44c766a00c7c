/*
 * session.h: the session table (wire-protocol.md §3, §13; zab-and-server.md §6).
 *
 * Owns every session: id, negotiated timeout, password, expiry deadline,
 * closing flag, the connection it is attached to, and the list of its
 * ephemeral znodes (tree indices; each node's aux field is its position in
 * that list, so removal is O(1)).  Expiry uses tick-aligned buckets as
 * ZooKeeper does: a touch moves the deadline to the end of the tick bucket
 * that contains now + timeout.
 */
#ifndef PD_SESSION_H
#define PD_SESSION_H

#include "map.h"
#include "tree.h"

#define PD_CONN_NONE UINT32_MAX
#define PD_SESSION_PASSWD_BYTES 16

struct pd_session {
	int64_t id;
	int32_t timeout_ms;
	uint8_t passwd[PD_SESSION_PASSWD_BYTES];
	uint64_t expire_at_ms;
	bool closing;
	bool touched; /* a learner: touched since its last report to the leader */
	uint32_t conn;
	uint32_t *ephemerals;
	uint32_t ephemeral_count;
	uint32_t ephemeral_cap;
};

struct pd_session_table {
	struct pd_mem *mem;
	struct pd_map64 by_id;
	int64_t next_id;
	int64_t tick_ms;
	uint64_t ephemeral_total;
};

void pd_session_table_init(struct pd_session_table *st, struct pd_mem *mem, uint8_t server_id,
			   int64_t wall_ms, int64_t tick_ms);
void pd_session_table_free(struct pd_session_table *st);

struct pd_session *pd_session_get(const struct pd_session_table *st, int64_t id);
/* Picks the next session id (never 0, never a container or TTL marker). */
int64_t pd_session_next_id(struct pd_session_table *st);
/* Adds a session (from a createSession txn). */
int pd_session_add(struct pd_session_table *st, int64_t id, int32_t timeout_ms, uint64_t now_ms,
		   struct pd_session **out);
/* Removes a session; its ephemeral list must already be empty. */
void pd_session_remove(struct pd_session_table *st, struct pd_session *s);
void pd_session_touch(struct pd_session_table *st, struct pd_session *s, uint64_t now_ms);
/* The password ZooKeeper clients must present to re-attach. */
void pd_session_passwd(const struct pd_session_table *st, int64_t id,
		       uint8_t out[PD_SESSION_PASSWD_BYTES]);

int pd_session_add_ephemeral(struct pd_session_table *st, struct pd_tree *t, struct pd_session *s,
			     uint32_t node);
void pd_session_remove_ephemeral(struct pd_session_table *st, struct pd_tree *t,
				 struct pd_session *s, uint32_t node);

#endif
