/*
 * prep.c: request-to-transaction preparation (ZooKeeper's
 * PrepRequestProcessor role; zab-and-server.md §5.2, wire-protocol.md §5.1).
 *
 * Every check runs against a view: the committed tree overlaid with the
 * change records of transactions prepared but not yet applied.  In this
 * standalone build a transaction is applied in the step that prepared it,
 * so the overlay holds only the records of the current multi; it is kept
 * general so that durability can leave transactions pending.  The checks
 * run in ZooKeeper's order, because the first failing check decides the
 * error a client sees.
 */
#include <string.h>

#include "assert.h"
#include "err.h"
#include "path.h"
#include "server_int.h"

struct prep_rec {
	struct prep_rec *chain;
	uint64_t hash;
	bool exists;
	int32_t version;
	int32_t aversion;
	int32_t cversion_creates;
	uint32_t num_children;
	int64_t owner;
	uint32_t acl;
	bool acl_ref; /* the record holds a reference on acl */
	uint32_t path_len;
	char path[];
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
	r->exists = true;
	r->version = m.version;
	r->aversion = m.aversion;
	r->cversion_creates = n->cversion_creates;
	r->num_children = n->num_children;
	r->owner = m.owner;
	r->acl = m.acl;
	r->acl_ref = false;
}

/* The view of path: NULL if it does not exist there. */
static const struct prep_rec *prep_view(struct pd_node *node, const char *path, size_t len, struct prep_rec *tmp)
{
	struct prep_rec *r = prep_find(node, path, len, pd_hash_bytes(path, len));
	uint32_t idx;
	if (r != NULL)
		return r->exists ? r : NULL;
	idx = pd_tree_lookup(&node->tree, path, len);
	if (idx == PD_NODE_NONE)
		return NULL;
	prep_from_tree(node, idx, tmp);
	return tmp;
}

/* A mutable overlay record for path, created from the view if needed. */
static struct prep_rec *prep_mut(struct pd_node *node, const char *path, size_t len)
{
	uint64_t h = pd_hash_bytes(path, len);
	struct prep_rec *r = prep_find(node, path, len, h);
	uint32_t idx;
	if (r != NULL)
		return r;
	r = pd_mem_zalloc(&node->mem, sizeof(*r) + len);
	if (r == NULL)
		return NULL;
	r->hash = h;
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
	return r;
}

void prep_overlay_clear(struct pd_node *node)
{
	uint32_t pos = 0;
	struct prep_rec *r;
	if (node->overlay.count == 0)
		return;
	while ((r = pd_map64_next(&node->overlay, &pos, NULL)) != NULL) {
		while (r != NULL) {
			struct prep_rec *next = r->chain;
			if (r->acl_ref)
				pd_acl_unref(&node->acls, r->acl);
			pd_mem_free(&node->mem, r, sizeof(*r) + r->path_len);
			r = next;
		}
	}
	pd_map64_free(&node->overlay);
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

int prep_close_session(struct pd_node *node, int64_t session_id, int32_t cxid, pd_zxid zxid)
{
	struct pd_session *s = pd_session_get(&node->sessions, session_id);
	struct pd_jw jw = prep_begin(node, session_id, cxid, zxid, PD_OP_CLOSESESSION);
	uint32_t i;
	int32_t count = 0;
	size_t count_at = node->txn.len;
	pd_jw_int(&jw, 0);
	for (i = 0; s != NULL && i < s->ephemeral_count; i++) {
		size_t n;
		const char *path = node_path(node, s->ephemerals[i], &n);
		if (path == NULL)
			return PD_ENOMEM;
		pd_jw_string(&jw, path, n);
		count++;
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
	if (!prep_allowed(node, conn, parent->acl, PD_PERM_CREATE))
		return PD_ENOAUTH;
	node->final_buf.len = 0;
	node->final_buf.err = 0;
	if (pd_buf_reserve(&node->io_mem, &node->final_buf, len + 12) != 0)
		return PD_ENOMEM;
	final_path = (char *)node->final_buf.data;
	memcpy(final_path, path, len);
	final_len = len;
	if (sequential)
		final_len += pd_path_seq_suffix(parent->cversion_creates, final_path + len);
	if (pd_path_validate(final_path, final_len) != 0)
		return PD_EBADARGUMENTS;
	if (prep_view(node, final_path, final_len, &tmp_node) != NULL)
		return PD_ENODEEXISTS;
	if (pd_owner_is_session(parent->owner))
		return PD_ENOCHILDRENFOREPHEMERALS;
	new_c = (int32_t)((uint32_t)parent->cversion_creates + 1u);
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
	prec->cversion_creates = new_c;
	prec->num_children++;
	if (nrec->acl_ref)
		pd_acl_unref(&node->acls, nrec->acl);
	nrec->exists = true;
	nrec->version = 0;
	nrec->aversion = 0;
	nrec->cversion_creates = 0;
	nrec->num_children = 0;
	nrec->owner = owner;
	nrec->acl = acl_idx;
	nrec->acl_ref = true;
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
		if (n->num_children > 0)
			return PD_ENOTEMPTY;
		if (pd_owner_is_session(n->owner) || n->owner == 0)
			return PD_EBADVERSION;
		parent = prep_view(node, ppath, plen, &tmp_parent);
		if (parent == NULL)
			return PD_ENONODE;
	} else {
		parent = prep_view(node, ppath, plen, &tmp_parent);
		if (parent == NULL)
			return PD_ENONODE;
		if (!prep_allowed(node, conn, parent->acl, PD_PERM_DELETE))
			return PD_ENOAUTH;
		n = prep_view(node, path, len, &tmp_node);
		if (n == NULL)
			return PD_ENONODE;
		rc = prep_version(n->version, req->version, &unused);
		if (rc != 0)
			return rc;
		if (n->num_children > 0)
			return PD_ENOTEMPTY;
	}
	prec = prep_mut(node, ppath, plen);
	nrec = prec != NULL ? prep_mut(node, path, len) : NULL;
	if (nrec == NULL)
		return PD_ENOMEM;
	PD_ASSERT(prec->num_children > 0);
	prec->num_children--;
	nrec->exists = false;
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
	if (!prep_allowed(node, conn, n->acl, PD_PERM_WRITE))
		return PD_ENOAUTH;
	rc = prep_version(n->version, req->version, &next);
	if (rc != 0)
		return rc;
	rec = prep_mut(node, path, len);
	if (rec == NULL)
		return PD_ENOMEM;
	rec->version = next;
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
	int rc;
	if (req->path.is_null || pd_path_validate(path, len) != 0)
		return PD_EBADARGUMENTS;
	rc = pd_acl_canonicalize(&node->io_mem, &req->acl, conn != NULL ? &conn->auth : NULL, &node->scratch);
	if (rc != 0)
		return rc;
	n = prep_view(node, path, len, &tmp);
	if (n == NULL)
		return PD_ENONODE;
	if (!prep_allowed(node, conn, n->acl, PD_PERM_ADMIN))
		return PD_ENOAUTH;
	rc = prep_version(n->aversion, req->version, &next);
	if (rc != 0)
		return rc;
	rec = prep_mut(node, path, len);
	if (rec == NULL)
		return PD_ENOMEM;
	rec->aversion = next;
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
	if (!prep_allowed(node, conn, n->acl, PD_PERM_READ))
		return PD_ENOAUTH;
	rc = prep_version(n->version, req->version, &next);
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
			prep_overlay_clear(node);
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
		prep_overlay_clear(node);
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
