/*
 * node.c: pd_node_create and pd_step: validate the event, frame client
 * bytes, dispatch, and keep the effect list.  Protocol decisions live in
 * request.c (per request), prep.c (validation into transactions) and
 * apply.c (transactions into the tree).
 */
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "err.h"
#include "log.h"
#include "server_int.h"

static void node_draw_snapshot_due(struct pd_node *node);

int pd_node_create(const struct pd_config *cfg, struct pd_allocator allocator, uint64_t now_ms,
		   int64_t wall_ms, struct pd_node **out, char *errmsg, size_t errmsg_size)
{
	struct pd_mem mem;
	struct pd_node *node;
	int rc;
	pd_mem_init(&mem, allocator, cfg->memory_budget_bytes);
	node = pd_mem_zalloc(&mem, sizeof(*node));
	if (node == NULL) {
		snprintf(errmsg, errmsg_size, "out of memory creating the node");
		return PD_ENOMEM;
	}
	node->mem = mem;
	pd_mem_init(&node->io_mem, allocator, 0);
	node->cfg = *cfg;
	node->now_ms = now_ms;
	node->start_ms = now_ms;
	node->wall_ms = wall_ms;
	node->trace_mask = 306;
	node->min_response_size = -1;
	node->max_response_size = -1;
	node->last_response_size = -1;
	pd_prng_seed(&node->prng, cfg->prng_seed != 0 ? cfg->prng_seed
						       : (uint64_t)wall_ms ^ ((uint64_t)cfg->my_id << 48));
	rc = pd_acl_table_init(&node->acls, &node->mem);
	if (rc != 0)
		goto err_after_node;
	rc = pd_tree_init(&node->tree, &node->mem, &node->acls);
	if (rc != 0)
		goto err_after_acls;
	pd_session_table_init(&node->sessions, &node->mem, (uint8_t)(cfg->my_id > 0 ? cfg->my_id : 1),
			      wall_ms, cfg->tick_ms);
	pd_watch_init(&node->watches, &node->mem);
	pd_map64_init(&node->overlay, &node->mem);
	node_draw_snapshot_due(node);
	if (cfg->buggify_seed != 0) {
		uint32_t site;
		pd_prng_seed(&node->buggify_prng, cfg->buggify_seed);
		for (site = 0; site < PD_BUGGIFY_SITES; site++)
			if (pd_prng_below(&node->buggify_prng, 4) == 0)
				node->buggify_active |= 1u << site;
	}
	node->next_container_check_ms = now_ms + (uint64_t)cfg->container_check_interval_ms;
	rc = peer_init(node, errmsg, errmsg_size);
	if (rc != 0) {
		pd_node_destroy(node);
		return rc;
	}
	*out = node;
	return 0;

err_after_acls:
	pd_acl_table_free(&node->acls);
err_after_node:
	PD_ASSERT(rc != 0);
	snprintf(errmsg, errmsg_size, "creating the node: %s", pd_strerror(rc));
	pd_mem_free(&mem, node, sizeof(*node));
	return rc;
}

static void node_conn_free(struct pd_node *node, struct pd_conn *conn)
{
	struct pd_session *s;
	pd_watch_drop_conn(&node->watches, conn->id);
	if (conn->session_id != 0) {
		s = pd_session_get(&node->sessions, conn->session_id);
		if (s != NULL && s->conn == conn->id)
			s->conn = PD_CONN_NONE;
	}
	pd_auth_free(&node->mem, &conn->auth);
	pd_buf_free(&node->io_mem, &conn->in);
	node->conns[conn->id] = NULL;
	node->conn_count--;
	pd_mem_free(&node->mem, conn, sizeof(*conn));
}

static void node_pending_free(struct pd_node *node)
{
	struct pend_queue *q = &node->pending;
	while (q->count > 0) {
		struct pend *p = &q->items[q->head];
		pd_mem_free(&node->io_mem, p->txn, p->txn_len);
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	pd_mem_free(&node->io_mem, q->items, (size_t)q->cap * sizeof(*q->items));
	memset(q, 0, sizeof(*q));
}

void pd_node_destroy(struct pd_node *node)
{
	struct pd_mem mem;
	uint32_t i;
	if (node == NULL)
		return;
	for (i = 0; i < node->conns_cap; i++)
		if (node->conns[i] != NULL)
			node_conn_free(node, node->conns[i]);
	node_pending_free(node);
	prep_overlay_free(node);
	pd_mem_free(&node->io_mem, node->held, (size_t)node->held_cap * sizeof(uint32_t));
	pd_mem_free(&node->mem, node->conns, node->conns_cap * sizeof(*node->conns));
	pd_buf_free(&node->io_mem, &node->txn);
	pd_buf_free(&node->io_mem, &node->scratch);
	pd_buf_free(&node->io_mem, &node->path_buf);
	pd_buf_free(&node->io_mem, &node->final_buf);
	pd_mem_free(&node->io_mem, node->results, node->results_cap * sizeof(*node->results));
	pd_watch_free(&node->watches);
	/* Sessions reference tree nodes by index only; drop the lists first. */
	{
		uint32_t pos = 0;
		struct pd_session *s;
		while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL)
			s->ephemeral_count = 0;
	}
	pd_session_table_free(&node->sessions);
	pd_tree_free(&node->tree);
	pd_acl_table_free(&node->acls);
	peer_destroy(node);
	mem = node->mem;
	pd_mem_free(&mem, node, sizeof(*node));
}

void node_loaded(struct pd_node *node, pd_zxid zxid)
{
	node->last_zxid = zxid;
	node->next_zxid = zxid;
	node->durable_zxid = zxid;
}

void node_release_acl_map(struct pd_node *node, struct pd_map64 *acl_map)
{
	uint32_t pos = 0;
	void *v;
	while ((v = pd_map64_next(acl_map, &pos, NULL)) != NULL)
		pd_acl_unref(&node->acls, (uint32_t)((uintptr_t)v - 1));
	pd_map64_free(acl_map);
}

int pd_node_stat(const struct pd_node *node, const char *path, size_t len, struct pd_stat *out)
{
	uint32_t idx = pd_tree_lookup(&node->tree, path, len);
	if (idx == PD_NODE_NONE)
		return PD_ENONODE;
	pd_tree_stat(&node->tree, idx, out);
	return 0;
}

uint64_t pd_node_orphan_ephemerals(const struct pd_node *node)
{
	uint64_t orphans = 0;
	uint32_t i;
	for (i = 0; i < node->tree.node_slots; i++) {
		int64_t owner;
		if (pd_tree_node(&node->tree, i)->blob == NULL)
			continue; /* a free slot */
		owner = pd_tree_owner(&node->tree, i);
		if (pd_owner_is_session(owner) && pd_session_get(&node->sessions, owner) == NULL)
			orphans++;
	}
	return orphans;
}

static uint64_t node_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t pd_node_digest(struct pd_node *node)
{
	uint64_t sum = 0;
	uint32_t i, pos = 0;
	struct pd_session *s;
	for (i = 0; i < node->tree.node_slots; i++) {
		struct pd_stat st;
		struct pd_span data;
		const char *path;
		size_t len;
		uint64_t h = 0xcbf29ce484222325ULL;
		int64_t f[9];
		if (pd_tree_node(&node->tree, i)->blob == NULL)
			continue; /* a free slot */
		path = node_path(node, i, &len);
		if (path == NULL || (len >= 10 && memcmp(path, "/zookeeper", 10) == 0 && (len == 10 || path[10] == '/')))
			continue; /* the /zookeeper subtree is each server's own, as in ZooKeeper's digest */
		pd_tree_stat(&node->tree, i, &st);
		data = pd_tree_data(&node->tree, i);
		f[0] = st.czxid, f[1] = st.mzxid, f[2] = st.ctime, f[3] = st.mtime, f[4] = st.version;
		f[5] = st.cversion, f[6] = st.aversion, f[7] = st.ephemeral_owner, f[8] = st.pzxid;
		h = node_fnv(h, path, len + 1);
		h = node_fnv(h, f, sizeof(f));
		h = node_fnv(h, data.is_null ? "" : (const char *)data.ptr, data.is_null ? 0 : data.len);
		sum += h; /* a sum: independent of where each node sits */
	}
	while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL) {
		int64_t f[2] = {s->id, s->timeout_ms};
		sum += node_fnv(0x84222325cbf29ce4ULL, f, sizeof(f));
	}
	return sum;
}

struct pd_mem *pd_node_mem(struct pd_node *node)
{
	return &node->mem;
}

struct pd_mem *pd_node_io_mem(struct pd_node *node)
{
	return &node->io_mem;
}

uint64_t pd_node_marks_hit(const struct pd_node *node)
{
	uint64_t hit = 0;
	uint32_t m;
	for (m = 0; m < PD_MARK_COUNT; m++)
		if (node->marks[m] != 0)
			hit |= 1ull << m;
	return hit;
}

void pd_node_get_stats(const struct pd_node *node, struct pd_node_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->last_zxid = node->last_zxid;
	out->logged_zxid = node->next_zxid;
	out->durable_zxid = node->durable_zxid;
	out->znode_count = node->tree.node_count;
	out->session_count = node->sessions.by_id.count;
	out->ephemeral_count = node->sessions.ephemeral_total;
	out->watch_count = node->watches.count_data + node->watches.count_child;
	out->connection_count = node->conn_count;
	out->mem_used_bytes = node->mem.used_bytes + node->io_mem.used_bytes;
	out->mem_used_bytes_peak = node->mem.used_bytes_peak;
	out->mem_data_bytes = node->mem.used_bytes;
	out->tree_blob_bytes = node->tree.blob_bytes;
	out->buggify_fired = node->buggify_fired;
	peer_stats(node, out);
}

/* --- effects --- */

const uint8_t *pd_effect_bytes(const struct pd_effects *fx, const struct pd_effect *e)
{
	return fx->bytes.data + e->offset;
}

void pd_effects_reset(struct pd_effects *fx)
{
	fx->count = 0;
	fx->bytes.len = 0;
	fx->bytes.err = 0;
}

void pd_effects_free(struct pd_node *node, struct pd_effects *fx)
{
	pd_mem_free(&node->io_mem, fx->items, fx->cap * sizeof(*fx->items));
	pd_buf_free(&node->io_mem, &fx->bytes);
	memset(fx, 0, sizeof(*fx));
}

int node_fx_push(struct pd_node *node, const struct pd_effect *e)
{
	struct pd_effects *fx = node->fx;
	if (fx->count == fx->cap) {
		uint32_t cap = fx->cap == 0 ? 64 : fx->cap * 2;
		struct pd_effect *fresh = pd_mem_realloc(&node->io_mem, fx->items, fx->cap * sizeof(*fx->items),
							 cap * sizeof(*fx->items));
		if (fresh == NULL)
			return PD_ENOMEM;
		fx->items = fresh;
		fx->cap = cap;
	}
	fx->items[fx->count++] = *e;
	return 0;
}

struct pd_jw node_frame_begin(struct pd_node *node, size_t *start)
{
	struct pd_jw jw = {&node->io_mem, &node->fx->bytes};
	*start = node->fx->bytes.len;
	pd_jw_int(&jw, 0);
	return jw;
}

void node_frame_end(struct pd_node *node, struct pd_conn *conn, size_t start)
{
	struct pd_effects *fx = node->fx;
	struct pd_effect *last;
	size_t len;
	if (fx->bytes.err != 0)
		return;
	len = fx->bytes.len - start;
	PD_ASSERT(len >= 4);
	pd_put_be32(fx->bytes.data + start, (uint32_t)(len - 4));
	conn->packets_sent++;
	node->packets_sent++;
	node->last_response_size = (int64_t)len;
	if (node->min_response_size < 0 || (int64_t)len < node->min_response_size)
		node->min_response_size = (int64_t)len;
	if ((int64_t)len > node->max_response_size)
		node->max_response_size = (int64_t)len;
	last = fx->count > 0 ? &fx->items[fx->count - 1] : NULL;
	if (last != NULL && last->type == PD_FX_SEND && last->conn == conn->id &&
	    last->offset + last->len == start) {
		last->len += len;
		return;
	}
	{
		struct pd_effect e;
		memset(&e, 0, sizeof(e));
		e.type = PD_FX_SEND;
		e.conn = conn->id;
		e.offset = start;
		e.len = len;
		if (node_fx_push(node, &e) != 0)
			fx->bytes.err = PD_ENOMEM;
	}
}

void node_reply_header(struct pd_node *node, struct pd_conn *conn, int32_t xid, int64_t zxid, int32_t err)
{
	size_t start;
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, xid, zxid, err);
	node_frame_end(node, conn, start);
}

void node_conn_close(struct pd_node *node, struct pd_conn *conn)
{
	struct pd_effect e;
	memset(&e, 0, sizeof(e));
	e.type = PD_FX_CLOSE;
	e.conn = conn->id;
	if (node_fx_push(node, &e) != 0) {
		/* The driver must learn of every close: keep the connection,
		 * deaf, until the effect can be recorded. */
		struct pd_session *s = conn->session_id != 0 ? pd_session_get(&node->sessions, conn->session_id) : NULL;
		if (s != NULL && s->conn == conn->id)
			s->conn = PD_CONN_NONE;
		conn->session_id = 0;
		pd_watch_drop_conn(&node->watches, conn->id);
		conn->state = CONN_CLOSING;
		node->close_pending = true;
		return;
	}
	node_conn_free(node, conn);
}

static void node_retry_closes(struct pd_node *node)
{
	uint32_t i;
	node->close_pending = false;
	for (i = 0; i < node->conns_cap; i++) {
		struct pd_conn *conn = node->conns[i];
		if (conn != NULL && conn->state == CONN_CLOSING)
			node_conn_close(node, conn); /* sets close_pending again if it fails */
	}
}

const char *node_path(struct pd_node *node, uint32_t idx, size_t *len)
{
	size_t n = pd_tree_path_len(&node->tree, idx);
	node->path_buf.len = 0;
	node->path_buf.err = 0;
	if (pd_buf_reserve(&node->io_mem, &node->path_buf, n + 1) != 0)
		return NULL;
	*len = pd_tree_path(&node->tree, idx, (char *)node->path_buf.data, n + 1);
	PD_ASSERT(*len == n);
	return (const char *)node->path_buf.data;
}

int node_log_txn(struct pd_node *node, const struct pend *p)
{
	struct pd_effects *fx = node->fx;
	struct pend_queue *q = &node->pending;
	uint8_t rh[PD_LOG_RECORD_HEADER_BYTES];
	struct pd_effect e;
	struct pend *slot;
	uint8_t *copy;
	size_t bytes_len = fx->bytes.len;
	PD_ASSERT(node->ens != NULL ? p->zxid > node->next_zxid : p->zxid == node->next_zxid + 1);
	PD_ASSERT(node->txn.len >= 32 && pd_be64(node->txn.data + 12) == (uint64_t)p->zxid);
	if (pd_ring_reserve(&node->io_mem, (void **)&q->items, &q->head, q->count, &q->cap, sizeof(*q->items)) != 0)
		return PD_ENOMEM;
	copy = pd_mem_alloc(&node->io_mem, node->txn.len);
	if (copy == NULL)
		return PD_ENOMEM;
	memcpy(copy, node->txn.data, node->txn.len);
	memset(&e, 0, sizeof(e));
	e.type = PD_FX_LOG_APPEND;
	e.zxid = p->zxid;
	e.offset = fx->bytes.len;
	pd_log_record_header(rh, node->txn.data, (uint32_t)node->txn.len);
	if (pd_buf_append(&node->io_mem, &fx->bytes, rh, sizeof(rh)) != 0 ||
	    pd_buf_append(&node->io_mem, &fx->bytes, node->txn.data, node->txn.len) != 0)
		goto fail;
	e.len = fx->bytes.len - e.offset;
	if (node_fx_push(node, &e) != 0)
		goto fail;
	slot = &q->items[(q->head + q->count) % q->cap];
	*slot = *p;
	slot->txn = copy;
	slot->txn_len = node->txn.len;
	q->count++;
	node->next_zxid = p->zxid;
	zab_proposed(node, p->zxid, copy, slot->txn_len);
	return 0;
fail:
	fx->bytes.len = bytes_len;
	fx->bytes.err = 0;
	pd_mem_free(&node->io_mem, copy, node->txn.len);
	return PD_ENOMEM;
}

/* ZooKeeper spreads snapshots: the next one is due after half the limit
 * plus a random part of the other half, so servers do not all snapshot at
 * once. */
static void node_draw_snapshot_due(struct pd_node *node)
{
	uint64_t half = (uint64_t)node->cfg.snap_count / 2;
	node->snap_txns_due = half + (half > 0 ? pd_prng_below(&node->prng, half) : 0);
	half = (uint64_t)node->cfg.snap_size_limit_bytes / 2;
	node->snap_bytes_due = half + (half > 0 ? pd_prng_below(&node->prng, half) : 0);
}

bool node_buggify(struct pd_node *node, enum pd_buggify_site site)
{
	if ((node->buggify_active & (1u << site)) == 0 || pd_prng_below(&node->buggify_prng, 100) >= 5)
		return false;
	node->buggify_fired++;
	return true;
}

void node_count_for_snapshot(struct pd_node *node, size_t txn_len)
{
	struct pd_effect e;
	node->snap_txns++;
	node->snap_bytes += txn_len + PD_LOG_RECORD_HEADER_BYTES;
	if (node->snap_txns <= node->snap_txns_due &&
	    (node->cfg.snap_size_limit_bytes == 0 || node->snap_bytes <= node->snap_bytes_due) &&
	    !PD_BUGGIFY(node, PD_BUGGIFY_SNAPSHOT_NOW))
		return;
	if (node->durable_zxid < node->last_zxid) {
		/* An ensemble member may apply what its own log has not made
		 * durable yet (committed by a quorum, or logged when a role
		 * ended).  A snapshot of that could cover a hole a crash leaves
		 * in the log: it waits until the log catches up. */
		node->snap_wanted = true;
		return;
	}
	node->snap_wanted = false;
	memset(&e, 0, sizeof(e));
	e.type = PD_FX_SNAPSHOT;
	e.zxid = node->last_zxid;
	PD_MARK(node, PD_MARK_SNAPSHOT_DUE);
	if (node_fx_push(node, &e) != 0)
		return; /* asked again after the next txn */
	node->snap_txns = 0;
	node->snap_bytes = 0;
	node->snapshots_requested++;
	node_draw_snapshot_due(node);
}

static void node_conn_hold(struct pd_node *node, struct pd_conn *conn);

static bool node_resumable(const struct pd_conn *conn)
{
	return conn != NULL && conn->held && conn->pending_writes == 0 && conn->state != CONN_CONNECTING;
}

/* Let held connections read on once their writes are done with.  Only the
 * held ones are looked at (this runs after every durable batch). */
static void node_resume_held(struct pd_node *node)
{
	uint32_t n = node->held_count, i, kept = 0;
	if (node->held_overflow) {
		/* the list missed some: a full scan, then start the list afresh */
		node->held_overflow = false;
		node->held_count = 0;
		for (i = 0; i < node->conns_cap; i++) {
			struct pd_conn *conn = node->conns[i];
			if (node_resumable(conn))
				node_conn_resume(node, conn);
			else if (conn != NULL && conn->held) {
				conn->held = false;
				node_conn_hold(node, conn);
			}
		}
		return;
	}
	if (n == 0)
		return;
	/* Resuming can hold a connection again, which appends past n. */
	for (i = 0; i < n; i++) {
		struct pd_conn *conn = node_conn(node, node->held[i]);
		if (node_resumable(conn))
			node_conn_resume(node, conn);
		else if (conn != NULL && conn->held)
			node->held[kept++] = node->held[i];
	}
	memmove(node->held + kept, node->held + n, (node->held_count - n) * sizeof(uint32_t));
	node->held_count -= n - kept;
}

/* PD_EV_LOG_FAILED: what was not durable will never be.  Drop it all, in
 * order, put the view and the zxid back to the applied state, and refuse
 * writes until the log is back. */
static void node_log_failed(struct pd_node *node)
{
	struct pend_queue *q = &node->pending;
	node->log_failed = true;
	PD_MARK(node, PD_MARK_LOG_FAILED);
	if (node->ens != NULL) {
		/* An ensemble member cannot take back what it proposed or acked:
		 * what is durable stays its history, the rest is gone, and it
		 * gives up its role (its clients' connections go, so none is told
		 * a write failed that a quorum may still commit). */
		uint32_t kept = 0;
		zab_drop_clients(node);
		while (kept < q->count && q->items[(q->head + kept) % q->cap].zxid <= node->durable_zxid)
			kept++;
		while (q->count > kept) {
			struct pend *p = &q->items[(q->head + q->count - 1) % q->cap];
			request_drop(node, p); /* its asker is gone; an expiry is due again */
			pd_mem_free(&node->io_mem, p->txn, p->txn_len);
			q->count--;
		}
		/* the dropped txns' records leave the view with them; the kept
		 * ones are applied as the role ends */
		prep_overlay_clear(node);
		node->next_zxid = node->durable_zxid > node->last_zxid ? node->durable_zxid : node->last_zxid;
		zab_log_failed(node);
		return;
	}
	while (q->count > 0) {
		struct pend p = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		request_drop(node, &p);
		pd_mem_free(&node->io_mem, p.txn, p.txn_len);
	}
	/* every pending txn is gone, so every change record is */
	prep_overlay_clear(node);
	node_loaded(node, node->last_zxid);
	node_resume_held(node);
}

static void node_apply_upto(struct pd_node *node, pd_zxid upto)
{
	struct pend_queue *q = &node->pending;
	while (q->count > 0 && q->items[q->head].zxid <= upto) {
		struct pend p = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		zab_before_apply(node, &p);
		request_finish(node, &p);
		prep_applied(node, p.zxid);
		if (!zab_applied(node, &p))
			pd_mem_free(&node->io_mem, p.txn, p.txn_len);
	}
}

/* Applies and answers, in zxid order, what may be applied now: what the
 * log holds (standalone), what a quorum acked (leader), what the leader
 * committed (learner); then lets held connections read on. */
void node_advance(struct pd_node *node)
{
	node_apply_upto(node, zab_apply_limit(node));
	node_resume_held(node);
}

void node_apply_all_pending(struct pd_node *node)
{
	node->catching_up = true;
	node_apply_upto(node, node->next_zxid);
	node->catching_up = false;
	node_resume_held(node);
}

void node_resume_held_all(struct pd_node *node)
{
	node_resume_held(node);
}

/* PD_EV_LOG_DURABLE: the log holds everything up to zxid. */
static void node_durable(struct pd_node *node, pd_zxid zxid)
{
	if (zxid > node->next_zxid)
		zxid = node->next_zxid; /* a driver cannot make durable what was never logged */
	if (zxid > node->durable_zxid)
		node->durable_zxid = zxid;
	zab_durable(node);
	node_advance(node);
	if (node->snap_wanted && node->durable_zxid >= node->last_zxid) {
		node->snap_txns = node->snap_txns_due + 1;
		node->snap_bytes = 0;
		node_count_for_snapshot(node, 0);
	}
}

pd_zxid pd_node_last_zxid(const struct pd_node *node)
{
	return node->last_zxid;
}

int pd_node_replay(struct pd_node *node, const uint8_t *txn, size_t len, uint64_t now_ms, int64_t wall_ms)
{
	struct pd_effects scratch;
	struct pd_txn_hdr hdr;
	struct pd_jr jr;
	int rc;
	pd_jr_init(&jr, txn, len, UINT32_MAX);
	if (pd_txn_read_hdr(&jr, &hdr) != 0)
		return PD_EPROTO;
	if (hdr.zxid <= node->last_zxid)
		return 0;
	/* Nothing half-applied: the whole txn must parse before any of it is. */
	if (!apply_txn_valid(txn, len))
		return PD_EPROTO;
	memset(&scratch, 0, sizeof(scratch));
	node->now_ms = now_ms;
	node->wall_ms = wall_ms;
	node->fx = &scratch;
	PD_ASSERT(node->pending.count == 0);
	node->replaying = true;
	rc = apply_txn(node, txn, len, &hdr);
	node->replaying = false;
	if (rc != PD_EPROTO)
		zab_replayed(node, txn, len, hdr.zxid);
	node->fx = NULL;
	pd_effects_free(node, &scratch);
	node_loaded(node, node->last_zxid);
	/* Replayed errors (a create the tree already has...) are expected;
	 * only undecodable bytes are a failure. */
	return rc == PD_EPROTO ? PD_EPROTO : 0;
}

struct pd_conn *node_conn(struct pd_node *node, uint32_t id)
{
	return id < node->conns_cap ? node->conns[id] : NULL;
}

void node_notify(struct pd_node *node, const char *path, size_t len, int event, uint32_t acl)
{
	uint32_t i;
	if (pd_watch_trigger(&node->watches, path, len, event) != 0)
		node->fx->bytes.err = PD_ENOMEM;
	for (i = 0; i < node->watches.fire_count; i++) {
		struct pd_conn *conn = node_conn(node, node->watches.fire[i]);
		size_t start;
		struct pd_jw jw;
		if (conn == NULL || !pd_acl_allows(&node->acls, acl, PD_PERM_READ, &conn->auth))
			continue;
		jw = node_frame_begin(node, &start);
		pd_jw_reply_header(&jw, PD_XID_NOTIFICATION, -1, 0);
		pd_jw_int(&jw, event);
		pd_jw_int(&jw, PD_KEEPER_STATE_SYNC_CONNECTED);
		pd_jw_string(&jw, path, len);
		node_frame_end(node, conn, start);
	}
}

/* --- connection events --- */

static int node_conn_open(struct pd_node *node, const struct pd_event *ev)
{
	struct pd_conn *conn;
	uint32_t i, same_ip = 0;
	if (ev->conn >= node->conns_cap) {
		uint32_t cap = node->conns_cap == 0 ? 64 : node->conns_cap;
		struct pd_conn **fresh;
		while (cap <= ev->conn)
			cap *= 2;
		fresh = pd_mem_realloc(&node->mem, node->conns, node->conns_cap * sizeof(*node->conns),
				       cap * sizeof(*node->conns));
		if (fresh == NULL)
			return PD_ENOMEM;
		memset(fresh + node->conns_cap, 0, (cap - node->conns_cap) * sizeof(*fresh));
		node->conns = fresh;
		node->conns_cap = cap;
	}
	PD_ASSERT(node->conns[ev->conn] == NULL);
	conn = pd_mem_zalloc(&node->mem, sizeof(*conn));
	if (conn == NULL)
		return PD_ENOMEM;
	conn->id = ev->conn;
	conn->serial = ++node->conn_serial;
	conn->state = CONN_NEW;
	conn->opened_ms = node->now_ms;
	conn->last_cxid = -1;
	conn->last_op = 0;
	snprintf(conn->ip, sizeof(conn->ip), "%s", ev->peer_ip);
	conn->port = ev->peer_port;
	node->conns[ev->conn] = conn;
	node->conn_count++;
	if (ev->plane != PD_PLANE_CLIENT)
		return peer_conn_open(node, conn, ev);
	node->connections_accepted++;
	/* maxClientCnxns: connections per client address (0 = unlimited). */
	if (node->cfg.max_client_cnxns > 0) {
		for (i = 0; i < node->conns_cap; i++)
			if (node->conns[i] != NULL && node->conns[i]->plane == PD_PLANE_CLIENT &&
			    strcmp(node->conns[i]->ip, conn->ip) == 0)
				same_ip++;
		if (same_ip > (uint32_t)node->cfg.max_client_cnxns) {
			node->connections_rejected++;
			node_conn_close(node, conn);
			return 0;
		}
	}
	/* Every connection holds its peer address as an ip identity (§8.2). */
	return pd_auth_add(&node->mem, &conn->auth, "ip", conn->ip, strlen(conn->ip));
}

static const uint8_t node_telnet_close[4] = {0xff, 0xf4, 0xff, 0xfd};

/* A NEW connection's first four bytes may be a four-letter word.  Returns
 * 1 if the connection was closed (and freed), 2 if it now waits for the
 * driver to answer the word, 0 if not a word, -1 if more bytes are needed
 * (stmk). */
static int node_try_fourlw(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t avail)
{
	uint32_t bit;
	struct pd_effect e;
	char word[4];
	if (memcmp(p, node_telnet_close, 4) == 0) {
		node_conn_close(node, conn);
		return 1;
	}
	memcpy(word, p, 4);
	bit = pd_config_fourlw_bit(word);
	if (bit == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.type = PD_FX_FOURLW;
	e.conn = conn->id;
	memcpy(e.word, word, 4);
	if (bit == PD_4LW_STMK) {
		if (avail < 12)
			return -1;
		e.stmk_mask = pd_be64(p + 4);
	}
	if ((node->cfg.fourlw_whitelist & bit) == 0) {
		size_t start = node->fx->bytes.len;
		char msg[96];
		int n = snprintf(msg, sizeof(msg), "%.4s is not executed because it is not in the whitelist.\n", word);
		if (pd_buf_append(&node->io_mem, &node->fx->bytes, msg, (size_t)n) == 0) {
			memset(&e, 0, sizeof(e));
			e.type = PD_FX_SEND;
			e.conn = conn->id;
			e.offset = start;
			e.len = (size_t)n;
			(void)node_fx_push(node, &e);
		}
		node_conn_close(node, conn);
		return 1;
	}
	/* The connection stays known while the driver renders the answer, so
	 * it counts in srvr/stat as ZooKeeper's does; the driver reports its
	 * closure once the answer is flushed. */
	if (node_fx_push(node, &e) != 0) {
		/* The driver cannot answer a word it never hears of. */
		node->fx->bytes.err = PD_ENOMEM;
		node_conn_close(node, conn);
		return 1;
	}
	conn->state = CONN_FOURLW;
	conn->packets_received++;
	node->packets_received++;
	return 2;
}

static void node_conn_hold(struct pd_node *node, struct pd_conn *conn)
{
	uint32_t head = 0; /* a plain array: a ring that never wraps */
	if (conn->held)
		return;
	conn->held = true;
	if (node->held_overflow ||
	    pd_ring_reserve(&node->io_mem, (void **)&node->held, &head, node->held_count, &node->held_cap,
			    sizeof(uint32_t)) != 0) {
		node->held_overflow = true; /* found by a full scan */
		return;
	}
	node->held[node->held_count++] = conn->id;
}

/* Processes complete frames in p[0..len).  Returns the bytes consumed, or
 * SIZE_MAX if the connection was closed. */
static size_t node_conn_frames(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len)
{
	size_t off = 0;
	for (;;) {
		size_t avail = len - off;
		int32_t frame_len;
		if (conn->state == CONN_FOURLW || conn->state == CONN_CLOSING || conn->closing_session)
			return len; /* anything after the word, or after a close, is ignored */
		if (avail < 4)
			return off;
		if (conn->state == CONN_NEW && conn->packets_received == 0) {
			int r = node_try_fourlw(node, conn, p + off, avail);
			if (r == 1)
				return SIZE_MAX;
			if (r == 2)
				return len;
			if (r == -1)
				return off;
			if (!peer_serving(node)) {
				/* not serving (an ensemble member not synced): a
				 * four-letter word is answered, a session is not */
				node_conn_close(node, conn);
				return SIZE_MAX;
			}
		}
		/* Like ZooKeeper, read nothing more while the session is being
		 * created (it stops receiving until the session is established). */
		if (conn->state == CONN_CONNECTING) {
			node_conn_hold(node, conn);
			return off;
		}
		frame_len = (int32_t)pd_be32(p + off);
		if (frame_len < 0 || (uint32_t)frame_len > node->cfg.packet_bytes_max) {
			node_conn_close(node, conn);
			return SIZE_MAX;
		}
		if (avail - 4 < (size_t)frame_len)
			return off;
		/* A read waits behind the connection's pending writes, so that
		 * replies keep the order of requests (zab-and-server.md §5.4). */
		if (conn->pending_writes > 0 && (frame_len < 8 || !pd_proto_op_is_write((int32_t)pd_be32(p + off + 8)))) {
			node_conn_hold(node, conn);
			return off;
		}
		conn->packets_received++;
		node->packets_received++;
		if (conn->state == CONN_NEW) {
			if (!request_connect(node, conn, p + off + 4, (size_t)frame_len))
				return SIZE_MAX;
		} else {
			if (!request_handle(node, conn, p + off + 4, (size_t)frame_len))
				return SIZE_MAX;
		}
		off += 4 + (size_t)frame_len;
	}
}

void node_conn_resume(struct pd_node *node, struct pd_conn *conn)
{
	size_t used;
	conn->held = false;
	if (conn->in.len == 0)
		return;
	used = node_conn_frames(node, conn, conn->in.data, conn->in.len);
	if (used == SIZE_MAX)
		return;
	pd_buf_consume(&conn->in, used);
	if (conn->in.len == 0 && conn->in.cap > 65536)
		pd_buf_free(&node->io_mem, &conn->in);
}

static int node_conn_data(struct pd_node *node, const struct pd_event *ev)
{
	struct pd_conn *conn = node_conn(node, ev->conn);
	size_t used;
	if (conn == NULL)
		return 0; /* closed by the core already */
	if (conn->plane != PD_PLANE_CLIENT) {
		peer_conn_data(node, conn, ev->data, ev->len);
		return 0;
	}
	node->bytes_received += ev->len;
	if (conn->in.len == 0) {
		used = node_conn_frames(node, conn, ev->data, ev->len);
		if (used == SIZE_MAX)
			return 0;
		if (used < ev->len && pd_buf_append(&node->io_mem, &conn->in, ev->data + used, ev->len - used) != 0) {
			node_conn_close(node, conn);
			return PD_ENOMEM;
		}
		return 0;
	}
	if (pd_buf_append(&node->io_mem, &conn->in, ev->data, ev->len) != 0) {
		node_conn_close(node, conn);
		return PD_ENOMEM;
	}
	used = node_conn_frames(node, conn, conn->in.data, conn->in.len);
	if (used == SIZE_MAX)
		return 0;
	pd_buf_consume(&conn->in, used);
	/* Give back a large buffer once it drains. */
	if (conn->in.len == 0 && conn->in.cap > 65536)
		pd_buf_free(&node->io_mem, &conn->in);
	return 0;
}

static void node_arm_timer(struct pd_node *node)
{
	uint64_t step = (uint64_t)(node->cfg.tick_ms / 2 > 0 ? node->cfg.tick_ms / 2 : 1);
	uint64_t at;
	struct pd_effect e;
	if (step > 500)
		step = 500;
	uint64_t peer_at = peer_deadline(node);
	if (node->timer_at_ms > node->now_ms && (peer_at == 0 || peer_at >= node->timer_at_ms))
		return;
	/* a timer asked for and not yet delivered (its tick may be on its way
	 * now) stands unless something is due sooner: moving it later at
	 * every event would let a stream of events starve it */
	if (node->timer_pending && (peer_at == 0 || peer_at >= node->timer_at_ms))
		return;
	at = (node->now_ms / step + 1) * step;
	if (peer_at != 0 && peer_at < at)
		at = peer_at > node->now_ms ? peer_at : node->now_ms + 1;
	if (PD_BUGGIFY(node, PD_BUGGIFY_EARLY_TIMER))
		at = node->now_ms + 1; /* a tick that finds little to do */
	memset(&e, 0, sizeof(e));
	e.type = PD_FX_TIMER;
	e.at_ms = at;
	if (node_fx_push(node, &e) == 0) {
		node->timer_at_ms = at;
		node->timer_pending = true;
	}
}

int pd_step(struct pd_node *node, const struct pd_event *ev, struct pd_effects *fx)
{
	int rc = 0;
	struct pd_conn *conn;
	PD_ASSERT(ev != NULL && fx != NULL);
	if (ev->now_ms > node->now_ms)
		node->now_ms = ev->now_ms;
	node->wall_ms = ev->wall_ms;
	node->fx = fx;
	if (node->ens != NULL && peer_halted(node)) {
		node->fx = NULL;
		return 0; /* the driver rebuilds this node (PD_FX_RELOAD) */
	}
	if (node->close_pending)
		node_retry_closes(node);
	peer_start(node); /* an ensemble member's first step starts its election */
	switch (ev->type) {
	case PD_EV_CONN_OPEN:
		rc = node_conn_open(node, ev);
		break;
	case PD_EV_CONN_DATA:
		rc = node_conn_data(node, ev);
		break;
	case PD_EV_CONN_CLOSED:
		conn = node_conn(node, ev->conn);
		if (conn != NULL) {
			peer_conn_closed(node, conn);
			node_conn_free(node, conn);
		}
		break;
	case PD_EV_CONNECT_FAILED:
		peer_connect_failed(node, ev);
		break;
	case PD_EV_EPOCH_DURABLE:
		peer_epoch_durable(node, ev->which, ev->value);
		break;
	case PD_EV_TICK:
		node->timer_pending = false;
		request_tick(node);
		peer_tick(node);
		break;
	case PD_EV_LOG_DURABLE:
		node_durable(node, ev->zxid);
		break;
	case PD_EV_LOG_FAILED:
		node_log_failed(node);
		break;
	case PD_EV_LOG_OK:
		node->log_failed = false;
		break;
	}
	node_arm_timer(node);
	node->fx = NULL;
	if (rc == 0 && fx->bytes.err != 0)
		rc = fx->bytes.err;
	return rc;
}
