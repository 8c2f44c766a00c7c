/*
 * apply.c: transactions into the tree, firing watches (ZooKeeper's
 * DataTree.processTxn role; zab-and-server.md §5.5, §7.3).
 *
 * Apply trusts the transaction: prep validated it.  It is still written to
 * be idempotent for replay (a create of an existing node or a delete of a
 * missing one is reported and ignored, and counters are only raised), since
 * recovery from a fuzzy snapshot replays transactions the snapshot may
 * already contain.  Watches fire during apply, so notifications precede the
 * reply (wire-protocol.md §9.7).
 */
#include <string.h>

#include "assert.h"
#include "err.h"
#include "path.h"
#include "server_int.h"

void pd_txn_write_hdr(struct pd_jw *jw, const struct pd_txn_hdr *h)
{
	pd_jw_long(jw, h->client_id);
	pd_jw_int(jw, h->cxid);
	pd_jw_long(jw, h->zxid);
	pd_jw_long(jw, h->time_ms);
	pd_jw_int(jw, h->type);
}

int pd_txn_read_hdr(struct pd_jr *jr, struct pd_txn_hdr *h)
{
	h->client_id = pd_jr_long(jr);
	h->cxid = pd_jr_int(jr);
	h->zxid = pd_jr_long(jr);
	h->time_ms = pd_jr_long(jr);
	h->type = pd_jr_int(jr);
	return jr->err;
}

static struct pd_txn_result *apply_result(struct pd_node *node)
{
	struct pd_txn_result *r;
	if (node->result_count == node->results_cap) {
		uint32_t cap = node->results_cap == 0 ? 8 : node->results_cap * 2;
		struct pd_txn_result *fresh = pd_mem_realloc(&node->io_mem, node->results,
			node->results_cap * sizeof(*fresh), cap * sizeof(*fresh));
		PD_ASSERT(fresh != NULL); /* bounded by the ops of one frame; see limits */
		node->results = fresh;
		node->results_cap = cap;
	}
	r = &node->results[node->result_count++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void apply_parent(const char *path, size_t len, const char **ppath, size_t *plen)
{
	size_t slash = pd_path_basename_off(path, len);
	*ppath = slash <= 1 ? "/" : path;
	*plen = slash <= 1 ? 1 : slash - 1;
}

static int apply_create(struct pd_node *node, const struct pd_txn_hdr *h, int32_t type, struct pd_jr *jr,
			struct pd_txn_result *r)
{
	struct pd_span path = pd_jr_buffer(jr);
	struct pd_span data = pd_jr_buffer(jr);
	const uint8_t *acl_start = jr->p;
	bool is_null, ephemeral = false;
	int32_t i, n = pd_jr_vector_len(jr, &is_null);
	int32_t parent_c;
	int64_t owner = 0, ttl = 0;
	uint32_t acl_len, acl_idx, parent, idx;
	const char *ppath;
	size_t plen, base;
	int rc;
	for (i = 0; i < n; i++) {
		(void)pd_jr_int(jr);
		(void)pd_jr_buffer(jr);
		(void)pd_jr_buffer(jr);
	}
	acl_len = (uint32_t)(jr->p - acl_start);
	if (type == PD_OP_CREATE || type == PD_OP_CREATE2)
		ephemeral = pd_jr_bool(jr);
	parent_c = pd_jr_int(jr);
	if (type == PD_OP_CREATETTL)
		ttl = pd_jr_long(jr);
	if (jr->err != 0 || path.is_null || path.len == 0)
		return PD_EPROTO;
	r->path = path;
	if (type == PD_OP_CREATECONTAINER)
		owner = PD_OWNER_CONTAINER;
	else if (type == PD_OP_CREATETTL)
		owner = PD_OWNER_TTL_MASK | ttl;
	else if (ephemeral)
		owner = h->client_id;
	apply_parent((const char *)path.ptr, path.len, &ppath, &plen);
	parent = pd_tree_lookup(&node->tree, ppath, plen);
	if (parent == PD_NODE_NONE)
		return PD_ENONODE;
	base = pd_path_basename_off((const char *)path.ptr, path.len);
	if (pd_tree_child(&node->tree, parent, (const char *)path.ptr + base, path.len - base) != PD_NODE_NONE) {
		/* Replay of a create the tree already has: only raise the parent. */
		struct pd_tnode *p = pd_tree_node(&node->tree, parent);
		if ((int32_t)((uint32_t)parent_c - (uint32_t)p->cversion_creates) > 0)
			p->cversion_creates = parent_c;
		if (h->zxid > p->pzxid)
			p->pzxid = h->zxid;
		return PD_ENODEEXISTS;
	}
	rc = pd_acl_intern(&node->acls, acl_start, acl_len, &acl_idx);
	if (rc != 0)
		return rc;
	rc = pd_tree_create(&node->tree, parent, (const char *)path.ptr + base, path.len - base, data, acl_idx,
			    owner, h->zxid, h->time_ms, parent_c, path.len, &idx);
	if (rc != 0) {
		pd_acl_unref(&node->acls, acl_idx);
		return rc;
	}
	if (pd_owner_is_session(owner)) {
		struct pd_session *s = pd_session_get(&node->sessions, owner);
		if (s != NULL && pd_session_add_ephemeral(&node->sessions, &node->tree, s, idx) != 0) {
			pd_tree_delete(&node->tree, idx, h->zxid, path.len);
			return PD_ENOMEM;
		}
	}
	pd_tree_stat(&node->tree, idx, &r->stat);
	r->has_stat = true;
	node_notify(node, (const char *)path.ptr, path.len, PD_WEV_CREATED, acl_idx);
	node_notify(node, ppath, plen, PD_WEV_CHILDREN_CHANGED, pd_tree_acl(&node->tree, parent));
	return 0;
}

/* Deletes a leaf by index and fires its watches. */
static void apply_delete_node(struct pd_node *node, uint32_t idx, const char *path, size_t len, pd_zxid zxid)
{
	const struct pd_tnode *n = pd_tree_node(&node->tree, idx);
	struct pd_tmeta m;
	uint32_t parent = n->parent, acl;
	const char *ppath;
	size_t plen;
	pd_tree_meta(&node->tree, idx, &m);
	acl = m.acl;
	if (pd_owner_is_session(m.owner)) {
		struct pd_session *s = pd_session_get(&node->sessions, m.owner);
		if (s != NULL)
			pd_session_remove_ephemeral(&node->sessions, &node->tree, s, idx);
	}
	pd_acl_ref(&node->acls, acl); /* the deleted node's ACL filters its event */
	pd_tree_delete(&node->tree, idx, zxid, len);
	apply_parent(path, len, &ppath, &plen);
	node_notify(node, path, len, PD_WEV_DELETED, acl);
	pd_acl_unref(&node->acls, acl);
	node_notify(node, ppath, plen, PD_WEV_CHILDREN_CHANGED, pd_tree_acl(&node->tree, parent));
}

static int apply_delete(struct pd_node *node, const struct pd_txn_hdr *h, struct pd_jr *jr, struct pd_txn_result *r)
{
	struct pd_span path = pd_jr_buffer(jr);
	uint32_t idx;
	if (jr->err != 0 || path.is_null)
		return PD_EPROTO;
	r->path = path;
	idx = pd_tree_lookup(&node->tree, (const char *)path.ptr, path.len);
	if (idx == PD_NODE_NONE || idx == PD_NODE_ROOT)
		return PD_ENONODE;
	if (pd_tree_node(&node->tree, idx)->num_children != 0)
		return PD_ENOTEMPTY;
	apply_delete_node(node, idx, (const char *)path.ptr, path.len, h->zxid);
	return 0;
}

static int apply_set_data(struct pd_node *node, const struct pd_txn_hdr *h, struct pd_jr *jr, struct pd_txn_result *r)
{
	struct pd_span path = pd_jr_buffer(jr);
	struct pd_span data = pd_jr_buffer(jr);
	int32_t version = pd_jr_int(jr);
	uint32_t idx;
	int rc;
	if (jr->err != 0 || path.is_null)
		return PD_EPROTO;
	r->path = path;
	idx = pd_tree_lookup(&node->tree, (const char *)path.ptr, path.len);
	if (idx == PD_NODE_NONE)
		return PD_ENONODE;
	rc = pd_tree_set_data(&node->tree, idx, data, version, h->zxid, h->time_ms);
	if (rc != 0)
		return rc;
	pd_tree_stat(&node->tree, idx, &r->stat);
	r->has_stat = true;
	node_notify(node, (const char *)path.ptr, path.len, PD_WEV_DATA_CHANGED, pd_tree_acl(&node->tree, idx));
	return 0;
}

static int apply_set_acl(struct pd_node *node, struct pd_jr *jr, struct pd_txn_result *r)
{
	struct pd_span path = pd_jr_buffer(jr);
	const uint8_t *acl_start = jr->p;
	bool is_null;
	int32_t i, n = pd_jr_vector_len(jr, &is_null), aversion;
	uint32_t acl_idx, idx;
	int rc;
	for (i = 0; i < n; i++) {
		(void)pd_jr_int(jr);
		(void)pd_jr_buffer(jr);
		(void)pd_jr_buffer(jr);
	}
	{
		uint32_t acl_len = (uint32_t)(jr->p - acl_start);
		aversion = pd_jr_int(jr);
		if (jr->err != 0 || path.is_null)
			return PD_EPROTO;
		r->path = path;
		idx = pd_tree_lookup(&node->tree, (const char *)path.ptr, path.len);
		if (idx == PD_NODE_NONE)
			return PD_ENONODE;
		rc = pd_acl_intern(&node->acls, acl_start, acl_len, &acl_idx);
		if (rc != 0)
			return rc;
	}
	rc = pd_tree_set_acl(&node->tree, idx, acl_idx, aversion);
	if (rc != 0) {
		pd_acl_unref(&node->acls, acl_idx);
		return rc;
	}
	pd_tree_stat(&node->tree, idx, &r->stat);
	r->has_stat = true;
	return 0;
}

static int apply_check(struct pd_node *node, struct pd_jr *jr, struct pd_txn_result *r)
{
	struct pd_span path = pd_jr_buffer(jr);
	(void)pd_jr_int(jr);
	(void)node;
	if (jr->err != 0)
		return PD_EPROTO;
	r->path = path;
	return 0;
}

static void apply_close_session(struct pd_node *node, const struct pd_txn_hdr *h)
{
	struct pd_session *s = pd_session_get(&node->sessions, h->client_id);
	if (s == NULL)
		return;
	s->closing = true;
	while (s->ephemeral_count > 0) {
		uint32_t idx = s->ephemerals[s->ephemeral_count - 1];
		size_t len;
		const char *path = node_path(node, idx, &len);
		PD_ASSERT(path != NULL);
		apply_delete_node(node, idx, path, len, h->zxid);
	}
	/* The connection, if any, is closed by the caller: silently on expiry,
	 * after the reply on an explicit closeSession. */
	s->conn = PD_CONN_NONE;
	pd_session_remove(&node->sessions, s);
}

static int apply_op(struct pd_node *node, const struct pd_txn_hdr *h, int32_t type, struct pd_jr *jr,
		    struct pd_txn_result *r)
{
	r->type = type;
	switch (type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		return apply_create(node, h, type, jr, r);
	case PD_OP_DELETE:
	case PD_OP_DELETECONTAINER:
		return apply_delete(node, h, jr, r);
	case PD_OP_SETDATA:
		return apply_set_data(node, h, jr, r);
	case PD_OP_SETACL:
		return apply_set_acl(node, jr, r);
	case PD_OP_CHECK:
		return apply_check(node, jr, r);
	case PD_OP_ERROR:
		r->err = pd_jr_int(jr);
		return r->err;
	default:
		return PD_EPROTO;
	}
}

/* --- observing applies (observe.h) --- */

static void apply_observed_stat(const struct pd_node *node, const char *path, size_t len, bool *exists,
				struct pd_stat *st)
{
	uint32_t idx = len > 0 ? pd_tree_lookup(&node->tree, path, len) : PD_NODE_NONE;
	*exists = idx != PD_NODE_NONE;
	if (*exists)
		pd_tree_stat(&node->tree, idx, st);
}

static void apply_observed_init(const struct pd_node *node, const struct pd_txn_hdr *h, int32_t op,
				struct pd_applied *a)
{
	memset(a, 0, sizeof(*a));
	a->zxid = h->zxid;
	a->txn_type = h->type;
	a->op = op;
	a->session = h->client_id;
	a->replay = node->replaying;
	a->catch_up = node->catching_up;
	a->serving = node->ens == NULL || zab_serving(node);
}

/* An op, with what its znode and its parent were before and after, told
 * to the observer. */
static int apply_one(struct pd_node *node, const struct pd_txn_hdr *h, int32_t type, struct pd_jr *jr,
		     struct pd_txn_result *r)
{
	struct pd_applied a;
	struct pd_jr peek = *jr;
	struct pd_span path;
	const char *ppath = NULL;
	size_t plen = 0;
	if (node->apply_observer == NULL)
		return apply_op(node, h, type, jr, r);
	apply_observed_init(node, h, type, &a);
	path = type == PD_OP_ERROR ? (struct pd_span){NULL, 0, true} : pd_jr_buffer(&peek);
	if (peek.err == 0 && path.ptr != NULL && path.len > 0) {
		a.path = (const char *)path.ptr;
		a.path_len = path.len;
		apply_parent(a.path, a.path_len, &ppath, &plen);
	}
	apply_observed_stat(node, a.path, a.path_len, &a.existed, &a.before);
	apply_observed_stat(node, ppath, plen, &a.parent_existed, &a.parent_before);
	a.err = apply_op(node, h, type, jr, r);
	apply_observed_stat(node, a.path, a.path_len, &a.exists, &a.after);
	apply_observed_stat(node, ppath, plen, &a.parent_exists, &a.parent_after);
	node->apply_observer(node->apply_observer_ctx, &a);
	return a.err;
}

/* A session txn told to the observer. */
static void apply_observe_session(struct pd_node *node, const struct pd_txn_hdr *h, int err)
{
	struct pd_applied a;
	if (node->apply_observer == NULL)
		return;
	apply_observed_init(node, h, h->type, &a);
	a.err = err;
	node->apply_observer(node->apply_observer_ctx, &a);
}

void pd_node_observe_applies(struct pd_node *node, pd_apply_observer fn, void *ctx)
{
	node->apply_observer = fn;
	node->apply_observer_ctx = ctx;
}

static int apply_multi(struct pd_node *node, const struct pd_txn_hdr *h, struct pd_jr *jr)
{
	bool is_null, failed = false;
	int32_t i, n = pd_jr_vector_len(jr, &is_null);
	struct pd_jr scan = *jr;
	/* A multi containing an error applies nothing (all-or-nothing). */
	for (i = 0; i < n; i++) {
		int32_t type = pd_jr_int(&scan);
		(void)pd_jr_buffer(&scan);
		if (type == PD_OP_ERROR)
			failed = true;
	}
	if (scan.err != 0)
		return PD_EPROTO;
	for (i = 0; i < n; i++) {
		int32_t type = pd_jr_int(jr);
		struct pd_span body = pd_jr_buffer(jr);
		struct pd_txn_result *r = apply_result(node);
		struct pd_jr sub;
		pd_jr_init(&sub, body.ptr, body.len, UINT32_MAX);
		if (failed) {
			r->type = PD_OP_ERROR;
			r->err = type == PD_OP_ERROR ? pd_jr_int(&sub) : 0;
			continue;
		}
		r->err = apply_one(node, h, type, &sub, r);
	}
	if (failed || n == 0) {
		/* nothing applied, but the txn took its zxid: the observer hears of it once */
		struct pd_applied a;
		if (node->apply_observer != NULL) {
			apply_observed_init(node, h, PD_OP_MULTI, &a);
			a.err = failed ? PD_ERUNTIMEINCONSISTENCY : 0;
			node->apply_observer(node->apply_observer_ctx, &a);
		}
	}
	/* Ops after the failing one were written as RUNTIMEINCONSISTENCY by prep;
	 * ops before it report 0. */
	return 0;
}

int apply_txn(struct pd_node *node, const uint8_t *txn, size_t len, struct pd_txn_hdr *hdr)
{
	struct pd_jr jr;
	struct pd_txn_result *r;
	int err = 0;
	PD_ASSERT(txn != NULL);
	node->result_count = 0;
	pd_jr_init(&jr, txn, len, UINT32_MAX);
	if (pd_txn_read_hdr(&jr, hdr) != 0)
		return PD_EPROTO;
	PD_ASSERT(hdr->zxid > node->last_zxid);
	/* A committed transaction applies whole: the budget was checked when it
	 * was prepared (request.c), so apply may not fail for lack of it. */
	node->mem.unbounded = true;
	switch (hdr->type) {
	case PD_OP_CREATESESSION: {
		int32_t timeout = pd_jr_int(&jr);
		struct pd_session *s;
		err = pd_session_add(&node->sessions, hdr->client_id, timeout, node->now_ms, &s);
		apply_observe_session(node, hdr, err);
		break;
	}
	case PD_OP_CLOSESESSION:
		apply_close_session(node, hdr);
		apply_observe_session(node, hdr, 0);
		break;
	case PD_OP_MULTI:
		err = apply_multi(node, hdr, &jr);
		break;
	default:
		r = apply_result(node);
		err = apply_one(node, hdr, hdr->type, &jr, r);
		if (hdr->type == PD_OP_ERROR)
			r->type = PD_OP_ERROR;
		break;
	}
	node->mem.unbounded = false;
	/* Only the world's allocator itself can fail now, and a half-applied
	 * transaction must never be visible: stop instead. */
	PD_ASSERT(err != PD_ENOMEM);
	{
		uint32_t i;
		for (i = 0; i < node->result_count; i++)
			PD_ASSERT(node->results[i].err != PD_ENOMEM);
	}
	node->last_zxid = hdr->zxid;
	return err;
}

/* --- validation of untrusted txn bytes (recovery) --- */

static void apply_skip_acls(struct pd_jr *jr)
{
	bool is_null;
	int32_t i, n = pd_jr_vector_len(jr, &is_null);
	if (n < 0 || is_null)
		jr->err = PD_EPROTO;
	for (i = 0; i < n && jr->err == 0; i++) {
		(void)pd_jr_int(jr);
		(void)pd_jr_buffer(jr);
		(void)pd_jr_buffer(jr);
	}
}

static bool apply_valid_path(struct pd_jr *jr)
{
	struct pd_span p = pd_jr_buffer(jr);
	return jr->err == 0 && !p.is_null && p.len > 0 && p.ptr[0] == '/';
}

/* The record of one op (type), parsed without applying it. */
static bool apply_valid_op(int32_t type, struct pd_jr *jr, bool in_multi)
{
	switch (type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		if (!apply_valid_path(jr))
			return false;
		(void)pd_jr_buffer(jr);
		apply_skip_acls(jr);
		if (type == PD_OP_CREATE || type == PD_OP_CREATE2)
			(void)pd_jr_bool(jr);
		(void)pd_jr_int(jr);
		if (type == PD_OP_CREATETTL)
			(void)pd_jr_long(jr);
		break;
	case PD_OP_DELETE:
	case PD_OP_DELETECONTAINER:
		if (!apply_valid_path(jr))
			return false;
		break;
	case PD_OP_SETDATA:
		if (!apply_valid_path(jr))
			return false;
		(void)pd_jr_buffer(jr);
		(void)pd_jr_int(jr);
		break;
	case PD_OP_SETACL:
		if (!apply_valid_path(jr))
			return false;
		apply_skip_acls(jr);
		(void)pd_jr_int(jr);
		break;
	case PD_OP_CHECK:
		if (!apply_valid_path(jr))
			return false;
		(void)pd_jr_int(jr);
		break;
	case PD_OP_ERROR:
		(void)pd_jr_int(jr);
		break;
	case PD_OP_CREATESESSION:
		if (in_multi)
			return false;
		(void)pd_jr_int(jr);
		break;
	case PD_OP_CLOSESESSION:
		if (in_multi)
			return false;
		if (pd_jr_remaining(jr) > 0) { /* the optional list of its ephemerals */
			bool is_null;
			int32_t i, n = pd_jr_vector_len(jr, &is_null);
			if (n < 0)
				return false;
			for (i = 0; i < n && jr->err == 0; i++)
				(void)pd_jr_buffer(jr);
		}
		break;
	case PD_OP_MULTI: {
		bool is_null;
		int32_t i, n;
		if (in_multi)
			return false;
		n = pd_jr_vector_len(jr, &is_null);
		if (n < 0 || is_null)
			return false;
		for (i = 0; i < n && jr->err == 0; i++) {
			int32_t sub_type = pd_jr_int(jr);
			struct pd_span body = pd_jr_buffer(jr);
			struct pd_jr sub;
			if (jr->err != 0 || body.is_null)
				return false;
			pd_jr_init(&sub, body.ptr, body.len, UINT32_MAX);
			if (!apply_valid_op(sub_type, &sub, true) || pd_jr_remaining(&sub) != 0)
				return false;
		}
		break;
	}
	default:
		return false;
	}
	return jr->err == 0;
}

size_t apply_txn_record_len(const uint8_t *txn, size_t len)
{
	struct pd_jr jr;
	struct pd_txn_hdr h;
	pd_jr_init(&jr, txn, len, UINT32_MAX);
	if (pd_txn_read_hdr(&jr, &h) != 0 || !apply_valid_op(h.type, &jr, false))
		return 0;
	return len - pd_jr_remaining(&jr);
}

bool apply_txn_valid(const uint8_t *txn, size_t len)
{
	return len > 0 && apply_txn_record_len(txn, len) == len;
}
