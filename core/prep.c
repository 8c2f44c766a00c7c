/*
 * prep.c: request-to-transaction preparation (ZooKeeper's
 * PrepRequestProcessor role; zab-and-server.md §5.2, wire-protocol.md §5.1).
 *
 * Every check runs against a view: the committed tree overlaid with the
 * change records of transactions prepared but not yet applied (they wait
 * for the log to be durable).  One record per path holds the state after
 * the newest pending transaction that touched it, tagged with that zxid.
 * A FIFO lists (record, zxid) per touch in zxid order; once the tree has
 * applied a zxid, records whose newest touch is at or below it equal the
 * tree and are dropped (prep_applied).  A transaction is prepared inside a
 * scope (prep_txn_begin/prep_txn_end): the first touch of a record saves
 * its previous state, so a failed multi or an allocation failure puts the
 * view back exactly (prep_txn_undo) without disturbing other pending
 * transactions.  The checks run in ZooKeeper's order, because the first
 * failing check decides the error a client sees.
 */
#include <string.h>

#include "assert.h"
#include "err.h"
#include "path.h"
#include "server_int.h"

/* What the view knows of a path after the pending transactions. */
struct prep_state {
	pd_zxid zxid; /* the newest pending transaction that touched it */
	bool exists;
	bool acl_ref; /* the record holds a reference on acl */
	int32_t version;
	int32_t aversion;
	int32_t cversion_creates;
	uint32_t num_children;
	int64_t owner;
	uint32_t acl;
};

struct prep_rec {
	struct prep_rec *chain;
	uint64_t hash;
	struct prep_state st;
	uint32_t path_len;
	char path[];
};

/* A touch of a record by the transaction at (the FIFO). */
struct prep_touch {
	struct prep_rec *rec;
	pd_zxid at;
};

/* A record as it was before the transaction being prepared touched it. */
struct prep_undo {
	struct prep_rec *rec;
	bool was_new;
	struct prep_state saved;
};

/* --- the overlay --- */

static struct prep_rec *prep_find(struct pd_node *node, const char *path, size_t len, uint64_t h)
{
	struct prep_rec *r = pd_map64_get(&node->overlay, h);
	while (r != NULL && (r->path_len != len || memcmp(r->path, path, len) != 0))
		r = r->chain;
	return r;
}

static void prep_from_tree(struct pd_node *node, uint32_t idx, struct prep_rec *r)
{
	const struct pd_tnode *n = pd_tree_node(&node->tree, idx);
	struct pd_tmeta m;
	pd_tree_meta(&node->tree, idx, &m);
	r->st.exists = true;
	r->st.version = m.version;
	r->st.aversion = m.aversion;
	r->st.cversion_creates = n->cversion_creates;
	r->st.num_children = n->num_children;
	r->st.owner = m.owner;
	r->st.acl = m.acl;
	r->st.acl_ref = false;
}

/* The view of path: NULL if it does not exist there. */
static const struct prep_rec *prep_view(struct pd_node *node, const char *path, size_t len, struct prep_rec *tmp)
{
	struct prep_rec *r = prep_find(node, path, len, pd_hash_bytes(path, len));
	uint32_t idx;
	if (r != NULL)
		return r->st.exists ? r : NULL;
	idx = pd_tree_lookup(&node->tree, path, len);
	if (idx == PD_NODE_NONE)
		return NULL;
	prep_from_tree(node, idx, tmp);
	return tmp;
}

static int prep_grow(struct pd_node *node, void **items, uint32_t *cap, uint32_t need, size_t item_size)
{
	uint32_t fresh_cap;
	void *fresh;
	if (need <= *cap)
		return 0;
	fresh_cap = *cap == 0 ? 64 : *cap * 2;
	fresh = pd_mem_realloc(&node->mem, *items, (size_t)*cap * item_size, (size_t)fresh_cap * item_size);
	if (fresh == NULL)
		return PD_ENOMEM;
	*items = fresh;
	*cap = fresh_cap;
	return 0;
}

/* Appends a touch at the FIFO's tail. */
static int prep_touch_push(struct pd_node *node, struct prep_rec *r, pd_zxid zxid)
{
	struct prep_overlay_q *q = &node->overlay_q;
	if (pd_ring_reserve(&node->mem, (void **)&q->items, &q->head, q->count, &q->cap, sizeof(*q->items)) != 0)
		return PD_ENOMEM;
	q->items[(q->head + q->count) % q->cap] = (struct prep_touch){r, zxid};
	q->count++;
	return 0;
}

static void prep_unlink(struct pd_node *node, struct prep_rec *r)
{
	struct prep_rec *head = pd_map64_get(&node->overlay, r->hash), *p;
	if (head == r) {
		if (r->chain != NULL)
			(void)pd_map64_put(&node->overlay, r->hash, r->chain); /* replaces: no allocation */
		else
			(void)pd_map64_del(&node->overlay, r->hash);
	} else {
		for (p = head; p != NULL && p->chain != r; p = p->chain)
			;
		PD_ASSERT(p != NULL);
		p->chain = r->chain;
	}
	if (r->st.acl_ref)
		pd_acl_unref(&node->acls, r->st.acl);
	pd_mem_free(&node->mem, r, sizeof(*r) + r->path_len);
}

/* A mutable overlay record for path, created from the view if needed; its
 * state before this transaction is saved for prep_txn_undo. */
static struct prep_rec *prep_mut(struct pd_node *node, const char *path, size_t len)
{
	uint64_t h = pd_hash_bytes(path, len);
	struct prep_rec *r = prep_find(node, path, len, h);
	struct prep_undo *u;
	uint32_t idx;
	PD_ASSERT(node->prep_zxid != 0);
	if (r != NULL && r->st.zxid == node->prep_zxid)
		return r; /* already touched by this transaction */
	if (prep_grow(node, (void **)&node->undo, &node->undo_cap, node->undo_count + 1, sizeof(*node->undo)) != 0)
		return NULL;
	if (r != NULL) {
		if (prep_touch_push(node, r, node->prep_zxid) != 0)
			return NULL;
		u = &node->undo[node->undo_count++];
		u->rec = r;
		u->was_new = false;
		u->saved = r->st;
		if (r->st.acl_ref)
			pd_acl_ref(&node->acls, r->st.acl); /* the saved copy's own reference */
		r->st.zxid = node->prep_zxid;
		return r;
	}
	r = pd_mem_zalloc(&node->mem, sizeof(*r) + len);
	if (r == NULL)
		return NULL;
	r->hash = h;
	r->st.zxid = node->prep_zxid;
	r->path_len = (uint32_t)len;
	memcpy(r->path, path, len);
	idx = pd_tree_lookup(&node->tree, path, len);
	if (idx != PD_NODE_NONE)
		prep_from_tree(node, idx, r);
	r->chain = pd_map64_get(&node->overlay, h);
	if (pd_map64_put(&node->overlay, h, r) != 0) {
		pd_mem_free(&node->mem, r, sizeof(*r) + len);
		return NULL;
	}
	if (prep_touch_push(node, r, node->prep_zxid) != 0) {
		r->st.acl_ref = false;
		prep_unlink(node, r);
		return NULL;
	}
	u = &node->undo[node->undo_count++];
	u->rec = r;
	u->was_new = true;
	return r;
}

void prep_txn_begin(struct pd_node *node, pd_zxid zxid)
{
	PD_ASSERT(node->undo_count == 0);
	node->prep_zxid = zxid;
}

void prep_txn_undo(struct pd_node *node)
{
	struct prep_overlay_q *q = &node->overlay_q;
	while (node->undo_count > 0) {
		struct prep_undo *u = &node->undo[--node->undo_count];
		struct prep_rec *r = u->rec;
		/* Every touch of this transaction is at the FIFO's tail. */
		PD_ASSERT(q->count > 0 && q->items[(q->head + q->count - 1) % q->cap].rec == r);
		q->count--;
		if (u->was_new) {
			prep_unlink(node, r);
			continue;
		}
		if (r->st.acl_ref)
			pd_acl_unref(&node->acls, r->st.acl);
		r->st = u->saved; /* takes over the saved reference */
	}
}

void prep_txn_end(struct pd_node *node)
{
	uint32_t i;
	for (i = 0; i < node->undo_count; i++)
		if (!node->undo[i].was_new && node->undo[i].saved.acl_ref)
			pd_acl_unref(&node->acls, node->undo[i].saved.acl);
	node->undo_count = 0;
	node->prep_zxid = 0;
}

void prep_applied(struct pd_node *node, pd_zxid zxid)
{
	struct prep_overlay_q *q = &node->overlay_q;
	while (q->count > 0) {
		struct prep_touch *t = &q->items[q->head];
		if (t->at > zxid)
			break;
		/* The newest touch of a record says when the tree caught up. */
		if (t->rec->st.zxid == t->at)
			prep_unlink(node, t->rec);
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
}

bool prep_overlay_empty(const struct pd_node *node)
{
	return node->overlay_q.count == 0 && node->overlay.count == 0;
}

void prep_overlay_clear(struct pd_node *node)
{
	uint32_t pos = 0;
	struct prep_rec *r;
	PD_ASSERT(node->undo_count == 0);
	while ((r = pd_map64_next(&node->overlay, &pos, NULL)) != NULL) {
		while (r != NULL) {
			struct prep_rec *next = r->chain;
			if (r->st.acl_ref)
				pd_acl_unref(&node->acls, r->st.acl);
			pd_mem_free(&node->mem, r, sizeof(*r) + r->path_len);
			r = next;
		}
	}
	pd_map64_free(&node->overlay);
	node->overlay_q.count = 0;
	node->overlay_q.head = 0;
}

void prep_overlay_free(struct pd_node *node)
{
	prep_overlay_clear(node);
	pd_mem_free(&node->mem, node->overlay_q.items, (size_t)node->overlay_q.cap * sizeof(*node->overlay_q.items));
	pd_mem_free(&node->mem, node->undo, (size_t)node->undo_cap * sizeof(*node->undo));
	memset(&node->overlay_q, 0, sizeof(node->overlay_q));
	node->undo = NULL;
	node->undo_cap = 0;
}

/* --- txn writing --- */

static struct pd_jw prep_begin(struct pd_node *node, int64_t session_id, int32_t cxid, pd_zxid zxid, int32_t type)
{
	struct pd_jw jw = {&node->io_mem, &node->txn};
	struct pd_txn_hdr h;
	node->txn.len = 0;
	node->txn.err = 0;
	h.client_id = session_id;
	h.cxid = cxid;
	h.zxid = zxid;
	h.time_ms = node->wall_ms;
	h.type = type;
	pd_txn_write_hdr(&jw, &h);
	return jw;
}

int prep_error(struct pd_node *node, int64_t session_id, int32_t cxid, int32_t type, int32_t err, pd_zxid zxid)
{
	struct pd_jw jw = prep_begin(node, session_id, cxid, zxid, PD_OP_ERROR);
	(void)type;
	pd_jw_int(&jw, err);
	return node->txn.err;
}

int prep_create_session(struct pd_node *node, int64_t session_id, int32_t timeout_ms, pd_zxid zxid)
{
	struct pd_jw jw = prep_begin(node, session_id, 0, zxid, PD_OP_CREATESESSION);
	pd_jw_int(&jw, timeout_ms);
	return node->txn.err;
}

static void prep_parent(const char *p, size_t len, const char **parent, size_t *parent_len);

/* Marks an existing path deleted in the view (and its parent one child
 * shorter), for closeSession. */
static int prep_delete_in_view(struct pd_node *node, const char *path, size_t len)
{
	const char *ppath;
	size_t plen;
	struct prep_rec *prec, *nrec;
	/* path (node_path's buffer or a record's own path) stays valid:
	 * prep_mut neither calls node_path nor frees an existing record. */
	prep_parent(path, len, &ppath, &plen);
	prec = prep_mut(node, ppath, plen);
	nrec = prec != NULL ? prep_mut(node, path, len) : NULL;
	if (nrec == NULL)
		return PD_ENOMEM;
	if (prec->st.exists && prec->st.num_children > 0)
		prec->st.num_children--;
	nrec->st.exists = false;
	return 0;
}

int prep_close_session(struct pd_node *node, int64_t session_id, int32_t cxid, pd_zxid zxid)
{
	struct pd_session *s = pd_session_get(&node->sessions, session_id);
	struct pd_jw jw = prep_begin(node, session_id, cxid, zxid, PD_OP_CLOSESESSION);
	uint32_t i, pending;
	int32_t count = 0;
	size_t count_at = node->txn.len;
	pd_jw_int(&jw, 0);
	/* The session's ephemerals in the view: committed ones not deleted by
	 * a pending transaction, then pending creates (zab-and-server.md §5.2.8).
	 * Each is deleted in the view; applying the txn deletes whatever the
	 * session owns by then, so the list is informative, as in ZooKeeper. */
	for (i = 0; s != NULL && i < s->ephemeral_count; i++) {
		size_t n;
		const char *path = node_path(node, s->ephemerals[i], &n);
		struct prep_rec tmp;
		const struct prep_rec *v;
		if (path == NULL)
			return PD_ENOMEM;
		v = prep_view(node, path, n, &tmp);
		if (v == NULL || v->st.owner != session_id)
			continue;
		pd_jw_string(&jw, path, n);
		count++;
		if (prep_delete_in_view(node, path, n) != 0)
			return PD_ENOMEM;
	}
	pending = node->overlay_q.count; /* touches this loop adds are not looked at */
	for (i = 0; i < pending; i++) {
		const struct prep_touch *t = &node->overlay_q.items[(node->overlay_q.head + i) % node->overlay_q.cap];
		struct prep_rec *r = t->rec;
		if (r->st.zxid != t->at || !r->st.exists || r->st.owner != session_id ||
		    pd_tree_lookup(&node->tree, r->path, r->path_len) != PD_NODE_NONE)
			continue; /* an older touch, not an ephemeral, or counted above */
		pd_jw_string(&jw, r->path, r->path_len);
		count++;
		if (prep_delete_in_view(node, r->path, r->path_len) != 0)
			return PD_ENOMEM;
	}
	pd_jw_patch_int(&jw, count_at, count);
	return node->txn.err;
}

/* --- checks shared by the ops --- */

static bool prep_allowed(struct pd_node *node, struct pd_conn *conn, uint32_t acl, int32_t perm)
{
	if (conn == NULL)
		return true; /* the server itself (reaping, expiry) */
	return pd_acl_allows(&node->acls, acl, perm, &conn->auth);
}

static bool prep_has_nul(struct pd_span s)
{
	return memchr(s.ptr, 0, s.len) != NULL;
}

/* version -1 matches anything; otherwise it must equal current. */
static int prep_version(int32_t current, int32_t expected, int32_t *next)
{
	if (expected != -1 && expected != current)
		return PD_EBADVERSION;
	*next = (int32_t)((uint32_t)current + 1u);
	return 0;
}

/* Parent path of p as ZooKeeper computes it: the text before the last '/',
 * with "" meaning the root. */
static void prep_parent(const char *p, size_t len, const char **parent, size_t *parent_len)
{
	size_t slash = len;
	while (slash > 0 && p[slash - 1] != '/')
		slash--;
	PD_ASSERT(slash > 0);
	if (slash - 1 == 0) {
		*parent = "/";
		*parent_len = 1;
	} else {
		*parent = p;
		*parent_len = slash - 1;
	}
}

/* --- create --- */

struct prep_create {
	int32_t txn_type; /* PD_OP_CREATE, CREATE2, CREATECONTAINER, CREATETTL */
	int64_t ttl;
	int32_t mode;
};

static int prep_create_kind(const struct pd_req *req, bool in_multi, struct prep_create *c)
{
	c->mode = req->flags;
	c->ttl = req->type == PD_OP_CREATETTL ? req->ttl : -1;
	if (req->flags < 0 || req->flags > 6)
		return PD_EBADARGUMENTS;
	if (in_multi) {
		if (req->flags == PD_MODE_CONTAINER)
			c->txn_type = PD_OP_CREATECONTAINER;
		else if (req->flags >= PD_MODE_PERSISTENT_WITH_TTL)
			c->txn_type = PD_OP_CREATETTL;
		else
			c->txn_type = PD_OP_CREATE;
		/* ZooKeeper rebuilds multi creates from the flags: a createTTL op
		 * with non-TTL flags is a plain create and its ttl is dropped. */
		if (req->type != PD_OP_CREATETTL || c->txn_type != PD_OP_CREATETTL)
			c->ttl = -1;
	} else {
		c->txn_type = req->type;
	}
	return 0;
}

static int prep_create(struct pd_node *node, struct pd_conn *conn, int64_t session_id, const struct pd_req *req,
		       bool in_multi, struct pd_jw *jw, int32_t *txn_type)
{
	struct prep_create c;
	struct prep_rec tmp_parent, tmp_node, *prec, *nrec;
	const struct prep_rec *parent;
	const char *path = (const char *)req->path.ptr, *ppath;
	size_t len = req->path.len, plen, final_len;
	char *final_path;
	bool sequential, ttl_mode;
	int64_t owner = 0;
	int32_t new_c;
	uint32_t acl_idx;
	int rc = prep_create_kind(req, in_multi, &c);
	if (rc != 0)
		return rc;
	sequential = c.mode == PD_MODE_PERSISTENT_SEQUENTIAL || c.mode == PD_MODE_EPHEMERAL_SEQUENTIAL ||
		     c.mode == PD_MODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
	ttl_mode = c.mode == PD_MODE_PERSISTENT_WITH_TTL || c.mode == PD_MODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
	/* validateCreateRequest: TTL enabled, then TTL consistency. */
	if (ttl_mode && !node->cfg.extended_types)
		return PD_EUNIMPLEMENTED;
	if (ttl_mode) {
		if (c.ttl <= 0 || c.ttl > PD_TTL_MAX)
			return PD_EBADARGUMENTS;
	} else if (c.ttl >= 0) {
		return PD_EBADARGUMENTS;
	}
	if (c.txn_type == PD_OP_CREATETTL && !ttl_mode)
		c.txn_type = PD_OP_CREATE;
	/* validatePathForCreate */
	if (req->path.is_null || memchr(path, '/', len) == NULL || prep_has_nul(req->path))
		return PD_EBADARGUMENTS;
	/* fixupACL */
	rc = pd_acl_canonicalize(&node->io_mem, &req->acl, conn != NULL ? &conn->auth : NULL, &node->scratch);
	if (rc != 0)
		return rc;
	prep_parent(path, len, &ppath, &plen);
	parent = prep_view(node, ppath, plen, &tmp_parent);
	if (parent == NULL)
		return PD_ENONODE;
	if (!prep_allowed(node, conn, parent->st.acl, PD_PERM_CREATE))
		return PD_ENOAUTH;
	node->final_buf.len = 0;
	node->final_buf.err = 0;
	if (pd_buf_reserve(&node->io_mem, &node->final_buf, len + 12) != 0)
		return PD_ENOMEM;
	final_path = (char *)node->final_buf.data;
	memcpy(final_path, path, len);
	final_len = len;
	if (sequential)
		final_len += pd_path_seq_suffix(parent->st.cversion_creates, final_path + len);
	if (pd_path_validate(final_path, final_len) != 0)
		return PD_EBADARGUMENTS;
	if (prep_view(node, final_path, final_len, &tmp_node) != NULL)
		return PD_ENODEEXISTS;
	if (pd_owner_is_session(parent->st.owner))
		return PD_ENOCHILDRENFOREPHEMERALS;
	new_c = (int32_t)((uint32_t)parent->st.cversion_creates + 1u);
	if (c.txn_type == PD_OP_CREATECONTAINER)
		owner = PD_OWNER_CONTAINER;
	else if (c.txn_type == PD_OP_CREATETTL)
		owner = PD_OWNER_TTL_MASK | c.ttl;
	else if (c.mode == PD_MODE_EPHEMERAL || c.mode == PD_MODE_EPHEMERAL_SEQUENTIAL)
		owner = session_id;
	/* Record the changes for later ops of the same multi. */
	rc = pd_acl_intern(&node->acls, node->scratch.data, (uint32_t)node->scratch.len, &acl_idx);
	if (rc != 0)
		return rc;
	prec = prep_mut(node, ppath, plen);
	nrec = prec != NULL ? prep_mut(node, final_path, final_len) : NULL;
	if (nrec == NULL) {
		pd_acl_unref(&node->acls, acl_idx);
		return PD_ENOMEM;
	}
	prec->st.cversion_creates = new_c;
	prec->st.num_children++;
	if (nrec->st.acl_ref)
		pd_acl_unref(&node->acls, nrec->st.acl);
	nrec->st.exists = true;
	nrec->st.version = 0;
	nrec->st.aversion = 0;
	nrec->st.cversion_creates = 0;
	nrec->st.num_children = 0;
	nrec->st.owner = owner;
	nrec->st.acl = acl_idx;
	nrec->st.acl_ref = true;
	/* The txn body. */
	pd_jw_string(jw, final_path, final_len);
	pd_jw_span(jw, req->data);
	pd_jw_bytes(jw, node->scratch.data, node->scratch.len);
	if (c.txn_type == PD_OP_CREATE || c.txn_type == PD_OP_CREATE2)
		pd_jw_bool(jw, owner != 0);
	pd_jw_int(jw, new_c);
	if (c.txn_type == PD_OP_CREATETTL)
		pd_jw_long(jw, c.ttl);
	*txn_type = c.txn_type;
	return 0;
}

/* --- delete, setData, setACL, check --- */

static int prep_delete(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, struct pd_jw *jw)
{
	struct prep_rec tmp_parent, tmp_node, *prec, *nrec;
	const struct prep_rec *parent, *n;
	const char *path = (const char *)req->path.ptr, *ppath;
	size_t len = req->path.len, plen;
	int32_t unused;
	int rc;
	if (req->path.is_null || memchr(path, '/', len) == NULL || prep_has_nul(req->path) ||
	    pd_path_is_reserved(path, len))
		return PD_EBADARGUMENTS;
	prep_parent(path, len, &ppath, &plen);
	if (req->type == PD_OP_DELETECONTAINER) {
		n = prep_view(node, path, len, &tmp_node);
		if (n == NULL)
			return PD_ENONODE;
		if (n->st.num_children > 0)
			return PD_ENOTEMPTY;
		if (pd_owner_is_session(n->st.owner) || n->st.owner == 0)
			return PD_EBADVERSION;
		parent = prep_view(node, ppath, plen, &tmp_parent);
		if (parent == NULL)
			return PD_ENONODE;
	} else {
		parent = prep_view(node, ppath, plen, &tmp_parent);
		if (parent == NULL)
			return PD_ENONODE;
		if (!prep_allowed(node, conn, parent->st.acl, PD_PERM_DELETE))
			return PD_ENOAUTH;
		n = prep_view(node, path, len, &tmp_node);
		if (n == NULL)
			return PD_ENONODE;
		rc = prep_version(n->st.version, req->version, &unused);
		if (rc != 0)
			return rc;
		if (n->st.num_children > 0)
			return PD_ENOTEMPTY;
	}
	prec = prep_mut(node, ppath, plen);
	nrec = prec != NULL ? prep_mut(node, path, len) : NULL;
	if (nrec == NULL)
		return PD_ENOMEM;
	PD_ASSERT(prec->st.num_children > 0);
	prec->st.num_children--;
	nrec->st.exists = false;
	pd_jw_string(jw, path, len);
	return 0;
}

static int prep_set_data(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, struct pd_jw *jw)
{
	struct prep_rec tmp, *rec;
	const struct prep_rec *n;
	const char *path = (const char *)req->path.ptr;
	size_t len = req->path.len;
	int32_t next;
	int rc;
	if (req->path.is_null || pd_path_validate(path, len) != 0)
		return PD_EBADARGUMENTS;
	n = prep_view(node, path, len, &tmp);
	if (n == NULL)
		return PD_ENONODE;
	if (!prep_allowed(node, conn, n->st.acl, PD_PERM_WRITE))
		return PD_ENOAUTH;
	rc = prep_version(n->st.version, req->version, &next);
	if (rc != 0)
		return rc;
	rec = prep_mut(node, path, len);
	if (rec == NULL)
		return PD_ENOMEM;
	rec->st.version = next;
	pd_jw_string(jw, path, len);
	pd_jw_span(jw, req->data);
	pd_jw_int(jw, next);
	return 0;
}

static int prep_set_acl(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, struct pd_jw *jw)
{
	struct prep_rec tmp, *rec;
	const struct prep_rec *n;
	const char *path = (const char *)req->path.ptr;
	size_t len = req->path.len;
	int32_t next;
	uint32_t acl_idx;
	int rc;
	if (req->path.is_null || pd_path_validate(path, len) != 0)
		return PD_EBADARGUMENTS;
	rc = pd_acl_canonicalize(&node->io_mem, &req->acl, conn != NULL ? &conn->auth : NULL, &node->scratch);
	if (rc != 0)
		return rc;
	n = prep_view(node, path, len, &tmp);
	if (n == NULL)
		return PD_ENONODE;
	if (!prep_allowed(node, conn, n->st.acl, PD_PERM_ADMIN))
		return PD_ENOAUTH;
	rc = prep_version(n->st.aversion, req->version, &next);
	if (rc != 0)
		return rc;
	rc = pd_acl_intern(&node->acls, node->scratch.data, (uint32_t)node->scratch.len, &acl_idx);
	if (rc != 0)
		return rc;
	rec = prep_mut(node, path, len);
	if (rec == NULL) {
		pd_acl_unref(&node->acls, acl_idx);
		return PD_ENOMEM;
	}
	rec->st.aversion = next;
	/* Later pending requests are checked against the new list. */
	if (rec->st.acl_ref)
		pd_acl_unref(&node->acls, rec->st.acl);
	rec->st.acl = acl_idx;
	rec->st.acl_ref = true;
	pd_jw_string(jw, path, len);
	pd_jw_bytes(jw, node->scratch.data, node->scratch.len);
	pd_jw_int(jw, next);
	return 0;
}

static int prep_check(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, struct pd_jw *jw)
{
	struct prep_rec tmp;
	const struct prep_rec *n;
	const char *path = (const char *)req->path.ptr;
	size_t len = req->path.len;
	int32_t next;
	int rc;
	if (req->path.is_null || pd_path_validate(path, len) != 0)
		return PD_EBADARGUMENTS;
	n = prep_view(node, path, len, &tmp);
	if (n == NULL)
		return PD_ENONODE;
	if (!prep_allowed(node, conn, n->st.acl, PD_PERM_READ))
		return PD_ENOAUTH;
	rc = prep_version(n->st.version, req->version, &next);
	if (rc != 0)
		return rc;
	pd_jw_string(jw, path, len);
	pd_jw_int(jw, next);
	return 0;
}

/* One op's txn body.  *txn_type is the type recorded for it. */
static int prep_op(struct pd_node *node, struct pd_conn *conn, int64_t session_id, const struct pd_req *req,
		   bool in_multi, struct pd_jw *jw, int32_t *txn_type)
{
	*txn_type = req->type;
	switch (req->type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		return prep_create(node, conn, session_id, req, in_multi, jw, txn_type);
	case PD_OP_DELETE:
	case PD_OP_DELETECONTAINER:
		return prep_delete(node, conn, req, jw);
	case PD_OP_SETDATA:
		return prep_set_data(node, conn, req, jw);
	case PD_OP_SETACL:
		return prep_set_acl(node, conn, req, jw);
	case PD_OP_CHECK:
		return prep_check(node, conn, req, jw);
	default:
		return PD_EMARSHALLING;
	}
}

static int prep_multi(struct pd_node *node, struct pd_conn *conn, int64_t session_id, const struct pd_req *req,
		      pd_zxid zxid)
{
	struct pd_multi_iter it;
	struct pd_req op;
	struct pd_jw jw;
	size_t count_at;
	int32_t count = 0;
	int r, failed = 0;
	/* Parse every op first: a malformed or mixed multi fails as a whole. */
	pd_multi_iter_init(&it, req, 2u * 0xfffffu);
	while ((r = pd_multi_next(&it, &op)) == 1) {
		if (op.type == PD_OP_GETDATA || op.type == PD_OP_GETCHILDREN) {
			r = PD_EPROTO;
			break;
		}
	}
	if (r != 0)
		return prep_error(node, session_id, req->xid, req->type, PD_EMARSHALLING, zxid);
	jw = prep_begin(node, session_id, req->xid, zxid, PD_OP_MULTI);
	count_at = node->txn.len;
	pd_jw_int(&jw, 0);
	pd_multi_iter_init(&it, req, 2u * 0xfffffu);
	while (pd_multi_next(&it, &op) == 1) {
		size_t type_at = node->txn.len, len_at, body_at;
		int32_t txn_type;
		int rc;
		pd_jw_int(&jw, 0);
		len_at = node->txn.len;
		pd_jw_int(&jw, 0);
		body_at = node->txn.len;
		if (failed != 0) {
			txn_type = PD_OP_ERROR;
			pd_jw_int(&jw, PD_ERUNTIMEINCONSISTENCY);
		} else if (op.type != PD_OP_CREATETTL && (op.flags == PD_MODE_PERSISTENT_WITH_TTL ||
			   op.flags == PD_MODE_PERSISTENT_SEQUENTIAL_WITH_TTL) &&
			   (op.type == PD_OP_CREATE || op.type == PD_OP_CREATE2 || op.type == PD_OP_CREATECONTAINER)) {
			/* ZooKeeper turns such an op into a TTL create without a ttl
			 * field and fails the whole multi with a marshalling error. */
			prep_txn_undo(node);
			return prep_error(node, session_id, req->xid, req->type, PD_EMARSHALLING, zxid);
		} else {
			rc = prep_op(node, conn, session_id, &op, true, &jw, &txn_type);
			if (rc == PD_ENOMEM)
				return rc;
			if (rc != 0) {
				failed = rc;
				node->txn.len = body_at;
				txn_type = PD_OP_ERROR;
				pd_jw_int(&jw, pd_err_wire(rc));
			}
		}
		if (node->txn.err != 0)
			return node->txn.err;
		pd_jw_patch_int(&jw, type_at, txn_type);
		pd_jw_patch_int(&jw, len_at, (int32_t)(node->txn.len - body_at));
		count++;
	}
	pd_jw_patch_int(&jw, count_at, count);
	/* A failed multi leaves no trace in the view. */
	if (failed != 0)
		prep_txn_undo(node);
	return node->txn.err;
}

static int prep_reconfig(struct pd_node *node, int64_t session_id, const struct pd_req *req, pd_zxid zxid)
{
	int err = node->cfg.reconfig_enabled ? PD_EUNIMPLEMENTED : PD_ERECONFIGDISABLED;
	return prep_error(node, session_id, req->xid, req->type, err, zxid);
}

int prep_write(struct pd_node *node, struct pd_conn *conn, int64_t session_id, const struct pd_req *req,
	       pd_zxid zxid)
{
	struct pd_jw jw;
	int32_t txn_type;
	int rc;
	switch (req->type) {
	case PD_OP_MULTI:
		return prep_multi(node, conn, session_id, req, zxid);
	case PD_OP_CLOSESESSION:
		return prep_close_session(node, session_id, req->xid, zxid);
	case PD_OP_RECONFIG:
		return prep_reconfig(node, session_id, req, zxid);
	default:
		break;
	}
	jw = prep_begin(node, session_id, req->xid, zxid, req->type);
	rc = prep_op(node, conn, session_id, req, false, &jw, &txn_type);
	if (rc == PD_ENOMEM)
		return rc;
	if (rc != 0)
		return prep_error(node, session_id, req->xid, req->type, pd_err_wire(rc), zxid);
	if (txn_type != req->type)
		pd_put_be32(node->txn.data + 28, (uint32_t)txn_type); /* header type field */
	return node->txn.err;
}
