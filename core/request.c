/*
 * request.c: one client request at a time, in arrival order
 * (wire-protocol.md §3-§5, §8-§10; the roles of ZooKeeper's
 * FinalRequestProcessor for reads and of the commit path for writes).
 *
 * Writes go prep (validation into a txn, always producing one: failures
 * become error txns that still consume a zxid) -> log (PD_FX_LOG_APPEND,
 * queued in node->pending) -> PD_EV_LOG_DURABLE -> apply -> reply
 * (request_finish).  Reads run at once on the applied tree, except that a
 * connection's reads wait behind its own pending writes (node.c).
 */
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "ens.h"
#include "err.h"
#include "path.h"
#include "server_int.h"

#define REQUEST_FIELD_MAX (2u * 0xfffffu)

static pd_zxid request_next_zxid(struct pd_node *node)
{
	return node->next_zxid + 1;
}

/* Logs the transaction prep just wrote (node->txn) for p's asker; on
 * failure the view forgets it.  Returns 0 or PD_ENOMEM. */
static int request_log(struct pd_node *node, struct pend *p)
{
	int rc;
	p->zxid = request_next_zxid(node);
	rc = node_log_txn(node, p);
	if (rc != 0)
		prep_txn_undo(node);
	prep_txn_end(node);
	return rc;
}

static struct pend request_pend(enum pend_kind kind, const struct pd_conn *conn, int32_t xid, int32_t type,
				uint64_t start_ms)
{
	struct pend p;
	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.conn = conn != NULL ? conn->id : PD_CONN_NONE;
	p.conn_serial = conn != NULL ? conn->serial : 0;
	p.xid = xid;
	p.req_type = type;
	p.start_ms = start_ms;
	return p;
}

/* The connection that asked for p, if it is still the same incarnation. */
static struct pd_conn *request_asker(struct pd_node *node, const struct pend *p)
{
	struct pd_conn *conn = p->conn != PD_CONN_NONE ? node_conn(node, p->conn) : NULL;
	return conn != NULL && conn->serial == p->conn_serial ? conn : NULL;
}

static void request_latency(struct pd_node *node, struct pd_conn *conn, int32_t op, int32_t xid,
			    int64_t zxid, uint64_t start_ms)
{
	uint64_t lat = node->now_ms - start_ms;
	struct latency_stats *ls[2] = {&node->latency, &conn->latency};
	int i;
	conn->last_op = op;
	if (xid >= 0)
		conn->last_cxid = xid;
	conn->last_zxid = zxid;
	conn->last_response_wall_ms = node->wall_ms;
	conn->last_latency_ms = lat;
	for (i = 0; i < 2; i++) {
		if (ls[i]->count == 0 || lat < ls[i]->min_ms)
			ls[i]->min_ms = lat;
		if (lat > ls[i]->max_ms)
			ls[i]->max_ms = lat;
		ls[i]->sum_ms += lat;
		ls[i]->count++;
	}
}

/* --- connect --- */

static int32_t request_negotiate_timeout(const struct pd_node *node, int32_t requested)
{
	int32_t t = requested;
	if (t < node->cfg.session_timeout_ms_min)
		t = node->cfg.session_timeout_ms_min;
	if (t > node->cfg.session_timeout_ms_max)
		t = node->cfg.session_timeout_ms_max;
	return t;
}

static void request_connect_reply(struct pd_node *node, struct pd_conn *conn, int32_t timeout_ms,
				  int64_t session_id, const uint8_t *passwd)
{
	static const uint8_t zero[PD_SESSION_PASSWD_BYTES];
	size_t start;
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_int(&jw, 0);
	pd_jw_int(&jw, timeout_ms);
	pd_jw_long(&jw, session_id);
	pd_jw_buffer(&jw, passwd != NULL ? passwd : zero, PD_SESSION_PASSWD_BYTES);
	if (conn->has_read_only)
		pd_jw_bool(&jw, false);
	node_frame_end(node, conn, start);
}

static void request_attach(struct pd_node *node, struct pd_conn *conn, struct pd_session *s, int32_t timeout,
			   uint64_t start_ms)
{
	s->conn = conn->id;
	conn->session_id = s->id;
	conn->state = CONN_READY;
	conn->established_wall_ms = node->wall_ms;
	request_connect_reply(node, conn, timeout, s->id, s->passwd);
	request_latency(node, conn, PD_OP_CREATESESSION, -1, node->last_zxid, start_ms);
}

bool request_connect(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len)
{
	struct pd_connect_req req;
	struct pd_session *s;
	int32_t timeout;
	if (pd_proto_decode_connect(p, len, REQUEST_FIELD_MAX, &req) != 0) {
		node_conn_close(node, conn);
		return false;
	}
	conn->has_read_only = req.has_read_only;
	/* A client that has seen a newer state must look for another server. */
	if (req.last_zxid_seen > node->last_zxid) {
		node_conn_close(node, conn);
		return false;
	}
	timeout = request_negotiate_timeout(node, req.timeout_ms);
	if (req.session_id == 0 && node->log_failed) {
		/* No new session without a log to write it to. */
		node_conn_close(node, conn);
		return false;
	}
	if (req.session_id == 0 && zab_learner(node)) {
		/* A learner asks the leader; the ConnectResponse waits for the
		 * createSession txn to come back committed. */
		struct zab_fwd f;
		uint8_t body[4];
		memset(&f, 0, sizeof(f));
		f.session = pd_session_next_id(&node->sessions);
		f.type = PD_OP_CREATESESSION;
		f.kind = PEND_CONNECT;
		f.timeout_ms = timeout;
		f.start_ms = node->now_ms;
		pd_put_be32(body, (uint32_t)timeout);
		if (zab_forward(node, conn, &f, body, sizeof(body)) != 0) {
			node_conn_close(node, conn);
			return false;
		}
		conn->state = CONN_CONNECTING;
		return true;
	}
	if (req.session_id == 0) {
		/* The ConnectResponse waits for the createSession txn (request_finish). */
		int64_t id = pd_session_next_id(&node->sessions);
		struct pend pe = request_pend(PEND_CONNECT, conn, -1, PD_OP_CREATESESSION, node->now_ms);
		pe.timeout_ms = timeout;
		prep_txn_begin(node, request_next_zxid(node));
		if (prep_create_session(node, id, timeout, request_next_zxid(node)) != 0) {
			prep_txn_end(node);
			node_conn_close(node, conn);
			return false;
		}
		if (request_log(node, &pe) != 0) {
			node_conn_close(node, conn);
			return false;
		}
		conn->state = CONN_CONNECTING;
		return true;
	}
	s = pd_session_get(&node->sessions, req.session_id);
	if (s == NULL || s->closing || req.passwd.is_null || req.passwd.len != PD_SESSION_PASSWD_BYTES ||
	    memcmp(req.passwd.ptr, s->passwd, PD_SESSION_PASSWD_BYTES) != 0) {
		request_connect_reply(node, conn, 0, 0, NULL);
		node_conn_close(node, conn);
		return false;
	}
	/* The session moves to this connection; the old one is dropped. */
	if (s->conn != PD_CONN_NONE && s->conn != conn->id) {
		struct pd_conn *old = node_conn(node, s->conn);
		if (old != NULL)
			node_conn_close(node, old);
	}
	s->timeout_ms = timeout;
	pd_session_touch(&node->sessions, s, node->now_ms);
	request_attach(node, conn, s, timeout, node->now_ms);
	return true;
}

/* --- replies to writes --- */

static void request_write_result(struct pd_jw *jw, const struct pd_txn_result *r, int32_t req_type)
{
	switch (req_type) {
	case PD_OP_CREATE:
		pd_jw_span(jw, r->path);
		break;
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		pd_jw_span(jw, r->path);
		pd_jw_stat(jw, &r->stat);
		break;
	case PD_OP_SETDATA:
	case PD_OP_SETACL:
		pd_jw_stat(jw, &r->stat);
		break;
	default:
		break;
	}
}

static void request_multi_reply(struct pd_node *node, struct pd_conn *conn, int32_t xid, pd_zxid zxid)
{
	size_t start;
	uint32_t i;
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, xid, zxid, 0);
	for (i = 0; i < node->result_count; i++) {
		const struct pd_txn_result *r = &node->results[i];
		if (r->type == PD_OP_ERROR || r->err != 0) {
			int32_t err = pd_err_wire(r->err);
			pd_jw_multi_header(&jw, PD_OP_ERROR, false, err);
			pd_jw_int(&jw, err);
			continue;
		}
		switch (r->type) {
		case PD_OP_CREATE:
			pd_jw_multi_header(&jw, PD_OP_CREATE, false, 0);
			pd_jw_span(&jw, r->path);
			break;
		case PD_OP_CREATECONTAINER:
		case PD_OP_CREATETTL:
			pd_jw_multi_header(&jw, PD_OP_CREATE2, false, 0);
			pd_jw_span(&jw, r->path);
			pd_jw_stat(&jw, &r->stat);
			break;
		case PD_OP_SETDATA:
			pd_jw_multi_header(&jw, PD_OP_SETDATA, false, 0);
			pd_jw_stat(&jw, &r->stat);
			break;
		default: /* delete, check */
			pd_jw_multi_header(&jw, r->type, false, 0);
			break;
		}
	}
	pd_jw_multi_header(&jw, -1, true, -1);
	node_frame_end(node, conn, start);
}

/* Bytes a write may need when applied: its payload twice (node blob and
 * ACL copies) plus the fixed records around it. */
static uint64_t request_write_estimate(const struct pd_req *req)
{
	uint64_t bytes = 1024;
	if (!req->path.is_null)
		bytes += 2u * req->path.len;
	if (!req->data.is_null)
		bytes += 2u * req->data.len;
	bytes += req->acl.len + req->multi_len * 2u;
	return bytes;
}

static bool request_write(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, int decode_rc,
			  uint64_t start_ms)
{
	pd_zxid zxid = request_next_zxid(node);
	struct pend p = request_pend(PEND_WRITE, conn, req->xid, req->type, start_ms);
	int rc;
	if (node->log_failed) {
		/* The log cannot take it: like a read-only server, refuse the
		 * write and keep serving reads.  Nothing is pending on this
		 * connection (the failure dropped it all), so order holds. */
		PD_ASSERT(conn->pending_writes == 0);
		node->writes_refused++;
		node_reply_header(node, conn, req->xid, node->last_zxid, PD_ENOTREADONLY);
		if (req->type == PD_OP_CLOSESESSION) {
			node_conn_close(node, conn);
			return false;
		}
		return true;
	}
	prep_txn_begin(node, zxid);
	if (decode_rc != 0)
		rc = prep_error(node, conn->session_id, req->xid, req->type, PD_EMARSHALLING, zxid);
	else if (req->type != PD_OP_CLOSESESSION && req->type != PD_OP_DELETE &&
		 !pd_mem_headroom(&node->mem, request_write_estimate(req)))
		/* The memory budget is full: refuse the write before it exists
		 * (deletes and closes, which free memory, always pass). */
		rc = prep_error(node, conn->session_id, req->xid, req->type, pd_err_wire(PD_ENOMEM), zxid);
	else
		rc = prep_write(node, conn, conn->session_id, req, zxid);
	if (rc != 0)
		prep_txn_undo(node);
	if (rc != 0 || request_log(node, &p) != 0) {
		prep_txn_end(node);
		/* Out of memory: nothing was logged.  Refuse the request, unless
		 * an answer now would overtake the connection's pending ones. */
		if (conn->pending_writes > 0) {
			node_conn_close(node, conn);
			return false;
		}
		node_reply_header(node, conn, req->xid, node->last_zxid, pd_err_wire(PD_ENOMEM));
		return true;
	}
	conn->pending_writes++;
	if (req->type == PD_OP_CLOSESESSION)
		conn->closing_session = true; /* nothing after closeSession is read */
	return true;
}

/* A learner's write: forwarded to the leader, answered when it commits. */
static bool request_forward(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req, const uint8_t *body,
			    size_t body_len, uint64_t start_ms)
{
	struct zab_fwd f;
	memset(&f, 0, sizeof(f));
	f.session = conn->session_id;
	f.cxid = req->xid;
	f.type = req->type;
	f.kind = req->type == PD_OP_SYNC ? PEND_SYNC : PEND_WRITE;
	f.start_ms = start_ms;
	if (req->type == PD_OP_SYNC && !req->path.is_null) {
		f.path = (char *)req->path.ptr;
		f.path_len = req->path.len;
	}
	if (zab_forward(node, conn, &f, body, body_len) != 0) {
		/* no leader to ask: the outcome is unknown to nobody, but the
		 * order of this connection's replies would break; it goes */
		node_conn_close(node, conn);
		return false;
	}
	conn->pending_writes++;
	if (req->type == PD_OP_CLOSESESSION)
		conn->closing_session = true;
	return true;
}

int request_forwarded(struct pd_node *node, struct pd_conn *asker, int64_t session, int32_t cxid, int32_t type,
		      const uint8_t *body, size_t len)
{
	struct pend p = request_pend(PEND_SERVER, NULL, cxid, type, node->now_ms);
	pd_zxid zxid = request_next_zxid(node);
	struct pd_session *s = pd_session_get(&node->sessions, session);
	int rc;
	if (node->log_failed)
		return PD_ECLOSED; /* no log: the learner's link goes, and it looks again */
	prep_txn_begin(node, zxid);
	if (type == PD_OP_CREATESESSION) {
		struct pd_jr jr;
		int32_t timeout;
		pd_jr_init(&jr, body, len, REQUEST_FIELD_MAX);
		timeout = pd_jr_int(&jr);
		if (jr.err != 0 || s != NULL)
			rc = prep_error(node, session, 0, type, PD_EMARSHALLING, zxid);
		else
			rc = prep_create_session(node, session, request_negotiate_timeout(node, timeout), zxid);
	} else if (s == NULL || s->closing) {
		rc = prep_error(node, session, cxid, type, PD_ESESSIONEXPIRED, zxid);
	} else if (type == PD_OP_CLOSESESSION) {
		rc = prep_close_session(node, session, cxid, zxid);
	} else {
		struct pd_jr jr;
		struct pd_req req;
		int drc;
		memset(&req, 0, sizeof(req));
		req.xid = cxid;
		req.type = type;
		pd_jr_init(&jr, body, len, REQUEST_FIELD_MAX);
		drc = pd_proto_op_is_write(type) ? pd_proto_decode_body(&jr, &req) : PD_EUNIMPLEMENTED;
		if (drc != 0)
			rc = prep_error(node, session, cxid, type, PD_EMARSHALLING, zxid);
		else if (type != PD_OP_DELETE && !pd_mem_headroom(&node->mem, request_write_estimate(&req)))
			rc = prep_error(node, session, cxid, type, pd_err_wire(PD_ENOMEM), zxid);
		else
			rc = prep_write(node, asker, session, &req, zxid);
		if (s != NULL)
			pd_session_touch(&node->sessions, s, node->now_ms);
	}
	if (rc != 0) {
		prep_txn_undo(node);
		prep_txn_end(node);
		return rc;
	}
	return request_log(node, &p);
}

static void request_finish_write(struct pd_node *node, struct pd_conn *conn, const struct pend *p,
				 const struct pd_txn_hdr *hdr, int err)
{
	PD_ASSERT(conn->pending_writes > 0);
	conn->pending_writes--;
	request_latency(node, conn, p->req_type, p->xid, hdr->zxid, p->start_ms);
	if (p->req_type == PD_OP_CLOSESESSION) {
		/* apply_txn closed the session; conn is still ours to answer. */
		node_reply_header(node, conn, p->xid, hdr->zxid, 0);
		node_conn_close(node, conn);
		return;
	}
	if (p->req_type == PD_OP_MULTI && hdr->type == PD_OP_MULTI) {
		request_multi_reply(node, conn, p->xid, hdr->zxid);
		return;
	}
	if (err != 0 || node->result_count == 0) {
		node_reply_header(node, conn, p->xid, hdr->zxid, pd_err_wire(err));
		return;
	}
	{
		size_t start;
		struct pd_jw jw = node_frame_begin(node, &start);
		pd_jw_reply_header(&jw, p->xid, hdr->zxid, 0);
		request_write_result(&jw, &node->results[0], p->req_type);
		node_frame_end(node, conn, start);
	}
}

void request_drop(struct pd_node *node, const struct pend *p)
{
	struct pd_conn *conn = request_asker(node, p);
	struct pd_session *s;
	switch (p->kind) {
	case PEND_WRITE:
		if (conn == NULL)
			break;
		PD_ASSERT(conn->pending_writes > 0);
		conn->pending_writes--;
		node->writes_refused++;
		if (p->req_type == PD_OP_CLOSESESSION) {
			/* the session stays; it ends by its timeout */
			node_conn_close(node, conn);
			break;
		}
		node_reply_header(node, conn, p->xid, node->last_zxid, PD_ENOTREADONLY);
		break;
	case PEND_CONNECT:
		if (conn != NULL)
			node_conn_close(node, conn);
		break;
	case PEND_EXPIRE:
		/* due again at the next tick (it is still past its deadline) */
		s = pd_session_get(&node->sessions, pd_be64(p->txn));
		if (s != NULL)
			s->closing = false;
		break;
	case PEND_SERVER:
	case PEND_SYNC:
		break;
	}
}

void request_finish(struct pd_node *node, const struct pend *p)
{
	struct pd_txn_hdr hdr;
	struct pd_conn *conn = request_asker(node, p);
	struct pd_session *s;
	int err = apply_txn(node, p->txn, p->txn_len, &hdr);
	PD_ASSERT(hdr.zxid == p->zxid);
	node->commit_count++;
	node_count_for_snapshot(node, p->txn_len);
	switch (p->kind) {
	case PEND_WRITE:
		if (conn != NULL)
			request_finish_write(node, conn, p, &hdr, err);
		break;
	case PEND_CONNECT:
		s = pd_session_get(&node->sessions, hdr.client_id);
		if (conn != NULL && conn->state == CONN_CONNECTING && s != NULL)
			request_attach(node, conn, s, p->timeout_ms, p->start_ms);
		else if (conn != NULL)
			node_conn_close(node, conn);
		break;
	case PEND_EXPIRE:
		/* The client learns of the expiry when it reconnects. */
		if (conn != NULL)
			node_conn_close(node, conn);
		break;
	case PEND_SERVER:
	case PEND_SYNC:
		break;
	}
}

/* --- reads --- */

static const char *request_path(const struct pd_req *req, size_t *len)
{
	*len = req->path.is_null ? 0 : req->path.len;
	return req->path.is_null ? "" : (const char *)req->path.ptr;
}

static bool request_has_nul(const struct pd_req *req)
{
	return !req->path.is_null && memchr(req->path.ptr, 0, req->path.len) != NULL;
}

/* Writes one read result body (getData / getChildren) for reads and multiRead. */
static int request_read_body(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req,
			     struct pd_jw *jw, bool register_watch)
{
	size_t len;
	const char *path = request_path(req, &len);
	uint32_t idx = pd_tree_lookup(&node->tree, path, len);
	struct pd_stat st;
	const struct pd_tnode *n;
	uint32_t child, count;
	if (idx == PD_NODE_NONE)
		return PD_ENONODE;
	n = pd_tree_node(&node->tree, idx);
	if (!pd_acl_allows(&node->acls, pd_tree_acl(&node->tree, idx), PD_PERM_READ, &conn->auth))
		return PD_ENOAUTH;
	if (register_watch && req->watch) {
		uint8_t kind = req->type == PD_OP_GETDATA ? PD_WATCH_DATA : PD_WATCH_CHILD;
		if (pd_watch_add(&node->watches, conn->id, path, len, kind) != 0)
			return PD_ENOMEM;
	}
	if (jw == NULL)
		return 0;
	pd_tree_stat(&node->tree, idx, &st);
	if (req->type == PD_OP_GETDATA) {
		pd_jw_span(jw, pd_tree_data(&node->tree, idx));
		pd_jw_stat(jw, &st);
		return 0;
	}
	pd_jw_int(jw, (int32_t)n->num_children);
	count = 0;
	for (child = n->first_child; child != PD_NODE_NONE; child = pd_tree_node(&node->tree, child)->next_sibling) {
		pd_jw_span(jw, pd_tree_name(&node->tree, child));
		count++;
	}
	PD_ASSERT(count == n->num_children);
	if (req->type == PD_OP_GETCHILDREN2)
		pd_jw_stat(jw, &st);
	return 0;
}

static void request_multi_read(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	struct pd_multi_iter it;
	struct pd_req op;
	size_t start, mark;
	int r;
	struct pd_jw jw;
	/* Validate the whole request first: any non-read op is a marshalling error. */
	pd_multi_iter_init(&it, req, REQUEST_FIELD_MAX);
	while ((r = pd_multi_next(&it, &op)) == 1) {
		if (op.type != PD_OP_GETDATA && op.type != PD_OP_GETCHILDREN) {
			r = PD_EPROTO;
			break;
		}
	}
	if (r != 0) {
		node_reply_header(node, conn, req->xid, node->last_zxid, PD_EMARSHALLING);
		return;
	}
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_multi_iter_init(&it, req, REQUEST_FIELD_MAX);
	while (pd_multi_next(&it, &op) == 1) {
		int err;
		mark = jw.buf->len;
		pd_jw_multi_header(&jw, op.type, false, 0);
		err = request_read_body(node, conn, &op, &jw, false);
		if (err != 0) {
			jw.buf->len = mark;
			err = pd_err_wire(err);
			pd_jw_multi_header(&jw, PD_OP_ERROR, false, err);
			pd_jw_int(&jw, err);
		}
	}
	pd_jw_multi_header(&jw, -1, true, -1);
	node_frame_end(node, conn, start);
}

/* Error replies are a bare header carrying the current zxid. */
static void request_read_error(struct pd_node *node, struct pd_conn *conn, int32_t xid, int err)
{
	node_reply_header(node, conn, xid, node->last_zxid, pd_err_wire(err));
}

static void request_get_acl(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t len, start;
	const char *path = request_path(req, &len);
	uint32_t idx = pd_tree_lookup(&node->tree, path, len);
	uint32_t acl;
	struct pd_stat st;
	struct pd_jw jw;
	bool admin;
	if (idx == PD_NODE_NONE) {
		request_read_error(node, conn, req->xid, PD_ENONODE);
		return;
	}
	acl = pd_tree_acl(&node->tree, idx);
	if (!pd_acl_allows(&node->acls, acl, PD_PERM_READ | PD_PERM_ADMIN, &conn->auth)) {
		request_read_error(node, conn, req->xid, PD_ENOAUTH);
		return;
	}
	admin = pd_acl_allows(&node->acls, acl, PD_PERM_ADMIN, &conn->auth);
	pd_tree_stat(&node->tree, idx, &st);
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_acl_write_reply(&node->acls, acl, !admin, &jw);
	pd_jw_stat(&jw, &st);
	node_frame_end(node, conn, start);
}

static void request_exists(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t len, start;
	const char *path = request_path(req, &len);
	uint32_t idx;
	struct pd_stat st;
	struct pd_jw jw;
	if (request_has_nul(req)) {
		request_read_error(node, conn, req->xid, PD_EBADARGUMENTS);
		return;
	}
	/* The watch is set before the lookup: exists watches missing nodes too. */
	if (req->watch && pd_watch_add(&node->watches, conn->id, path, len, PD_WATCH_DATA) != 0) {
		request_read_error(node, conn, req->xid, PD_ENOMEM);
		return;
	}
	idx = pd_tree_lookup(&node->tree, path, len);
	if (idx == PD_NODE_NONE) {
		request_read_error(node, conn, req->xid, PD_ENONODE);
		return;
	}
	pd_tree_stat(&node->tree, idx, &st);
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_jw_stat(&jw, &st);
	node_frame_end(node, conn, start);
}

static void request_simple_read(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t start, mark;
	struct pd_jw jw = node_frame_begin(node, &start);
	int err;
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	mark = jw.buf->len;
	err = request_read_body(node, conn, req, &jw, true);
	if (err != 0) {
		jw.buf->len = mark;
		pd_put_be32(jw.buf->data + start + 4 + 12, (uint32_t)pd_err_wire(err));
	}
	node_frame_end(node, conn, start);
}

static void request_all_children(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t len, start;
	const char *path = request_path(req, &len);
	uint32_t idx = pd_tree_lookup(&node->tree, path, len);
	struct pd_jw jw;
	if (idx == PD_NODE_NONE) {
		request_read_error(node, conn, req->xid, PD_ENONODE);
		return;
	}
	if (!pd_acl_allows(&node->acls, pd_tree_acl(&node->tree, idx), PD_PERM_READ, &conn->auth)) {
		request_read_error(node, conn, req->xid, PD_ENOAUTH);
		return;
	}
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_jw_int(&jw, (int32_t)pd_tree_descendants(&node->tree, idx));
	node_frame_end(node, conn, start);
}

static bool request_prefix_is_all(const struct pd_req *req)
{
	uint32_t i;
	if (req->path.is_null || req->path.len == 0)
		return true;
	if (req->path.len == 1 && req->path.ptr[0] == '/')
		return true;
	for (i = 0; i < req->path.len; i++)
		if (req->path.ptr[i] != ' ' && req->path.ptr[i] != '\t' && req->path.ptr[i] != '\n' &&
		    req->path.ptr[i] != '\r')
			return false;
	return true;
}

static void request_ephemerals(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	struct pd_session *s = pd_session_get(&node->sessions, conn->session_id);
	size_t start, count_at;
	int32_t count = 0;
	uint32_t i;
	bool all = request_prefix_is_all(req);
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	count_at = jw.buf->len;
	pd_jw_int(&jw, 0);
	for (i = 0; s != NULL && i < s->ephemeral_count; i++) {
		size_t n;
		const char *path = node_path(node, s->ephemerals[i], &n);
		if (path == NULL)
			continue;
		if (!all && (n < req->path.len || memcmp(path, req->path.ptr, req->path.len) != 0))
			continue;
		pd_jw_string(&jw, path, n);
		count++;
	}
	if (jw.buf->err == 0)
		pd_put_be32(jw.buf->data + count_at, (uint32_t)count);
	node_frame_end(node, conn, start);
}

static void request_who_am_i(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t start;
	uint32_t i;
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_jw_int(&jw, (int32_t)conn->auth.count);
	for (i = 0; i < conn->auth.count; i++) {
		const struct pd_auth_id *a = &conn->auth.ids[i];
		size_t user_len = a->id_len;
		if (strcmp(a->scheme, "digest") == 0) {
			const char *colon = memchr(a->id, ':', a->id_len);
			if (colon != NULL)
				user_len = (size_t)(colon - a->id);
		}
		pd_jw_cstr(&jw, a->scheme);
		pd_jw_string(&jw, a->id, user_len);
	}
	node_frame_end(node, conn, start);
}

/* --- watches --- */

static bool request_watch_type(int32_t type, uint8_t *kinds)
{
	switch (type) {
	case 1: /* Children: the connection's child-table entry, whatever its mode */
		*kinds = PD_WATCH_CHILD_TABLE;
		return true;
	case 2: /* Data */
		*kinds = PD_WATCH_DATA_TABLE;
		return true;
	case 3: /* Any */
		*kinds = PD_WATCH_DATA_TABLE | PD_WATCH_CHILD_TABLE;
		return true;
	default:
		return false;
	}
}

static void request_remove_watches(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t len;
	const char *path = request_path(req, &len);
	uint8_t kinds, removed;
	if (!request_watch_type(req->mode, &kinds)) {
		request_read_error(node, conn, req->xid, PD_EMARSHALLING);
		return;
	}
	if (req->type == PD_OP_CHECKWATCHES) {
		/* ZooKeeper 3.8's check answers for the path, not the caller: any
		 * connection's registration in the table(s) named counts. */
		bool found = pd_watch_path_watched(&node->watches, path, len, kinds);
		node_reply_header(node, conn, req->xid, node->last_zxid, found ? 0 : PD_ENOWATCHER);
		return;
	}
	removed = pd_watch_remove(&node->watches, conn->id, path, len, kinds, false);
	node_reply_header(node, conn, req->xid, node->last_zxid, removed != 0 ? 0 : PD_ENOWATCHER);
}

/* ZooKeeper keeps one mode per (connection, path) in each watch table and
 * adds a persistent registration of either mode to both tables, so it
 * replaces whatever mode the connection had there: PERSISTENT and
 * PERSISTENT_RECURSIVE replace each other and a pending one-shot watch
 * (which matters for a one-shot child watch: a recursive registration
 * never reports NodeChildrenChanged). */
static int request_persistent_watch(struct pd_node *node, struct pd_conn *conn, const char *path, size_t len,
				    uint8_t kinds)
{
	uint8_t displaced = 0;
	if (kinds & PD_WATCH_DATA_TABLE)
		displaced |= PD_WATCH_DATA;
	if (kinds & PD_WATCH_CHILD_TABLE)
		displaced |= PD_WATCH_CHILD;
	if (kinds & PD_WATCH_PERSIST_DATA)
		displaced |= PD_WATCH_RECURSIVE;
	if (kinds & PD_WATCH_PERSIST_CHILD)
		displaced |= PD_WATCH_RECURSIVE_CHILD;
	if (kinds & PD_WATCH_RECURSIVE)
		displaced |= PD_WATCH_PERSIST_DATA;
	if (kinds & PD_WATCH_RECURSIVE_CHILD)
		displaced |= PD_WATCH_PERSIST_CHILD;
	(void)pd_watch_remove(&node->watches, conn->id, path, len, displaced, false);
	return pd_watch_add(&node->watches, conn->id, path, len, kinds);
}

static void request_add_watch(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	size_t len, start;
	const char *path = request_path(req, &len);
	struct pd_jw jw;
	uint8_t kind;
	if (req->mode == 0)
		kind = PD_WATCH_PERSIST;
	else if (req->mode == 1)
		kind = PD_WATCH_RECURSIVE | PD_WATCH_RECURSIVE_CHILD; /* both tables, as 3.8 does */
	else {
		request_read_error(node, conn, req->xid, PD_EMARSHALLING);
		return;
	}
	if (request_persistent_watch(node, conn, path, len, kind) != 0) {
		request_read_error(node, conn, req->xid, PD_ENOMEM);
		return;
	}
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, node->last_zxid, 0);
	pd_jw_int(&jw, 0);
	node_frame_end(node, conn, start);
}

/* Sends one catch-up event to this connection only. */
static void request_catch_up(struct pd_node *node, struct pd_conn *conn, struct pd_span path, int event)
{
	size_t start;
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, PD_XID_NOTIFICATION, -1, 0);
	pd_jw_int(&jw, event);
	pd_jw_int(&jw, PD_KEEPER_STATE_SYNC_CONNECTED);
	/* Replies never carry a null string (wire-protocol.md §1.2). */
	pd_jw_string(&jw, path.is_null ? "" : (const char *)path.ptr, path.is_null ? 0 : path.len);
	node_frame_end(node, conn, start);
}

static void request_set_watches(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	int list, lists = req->type == PD_OP_SETWATCHES ? 3 : 5;
	for (list = 0; list < lists; list++) {
		struct pd_vec_iter it;
		struct pd_span p;
		pd_vec_iter_init(&it, &req->watches[list]);
		while (pd_vec_next_string(&it, &p)) {
			const char *path = p.is_null ? "" : (const char *)p.ptr;
			uint32_t idx = pd_tree_lookup(&node->tree, path, p.len);
			const struct pd_tnode *n = idx != PD_NODE_NONE ? pd_tree_node(&node->tree, idx) : NULL;
			struct pd_tmeta m;
			uint8_t kind = 0;
			if (n != NULL)
				pd_tree_meta(&node->tree, idx, &m);
			switch (list) {
			case 0: /* data */
				if (n == NULL)
					request_catch_up(node, conn, p, PD_WEV_DELETED);
				else if (m.mzxid > req->relative_zxid)
					request_catch_up(node, conn, p, PD_WEV_DATA_CHANGED);
				else
					kind = PD_WATCH_DATA;
				break;
			case 1: /* exist */
				if (n != NULL)
					request_catch_up(node, conn, p, PD_WEV_CREATED);
				else
					kind = PD_WATCH_DATA;
				break;
			case 2: /* child */
				if (n == NULL)
					request_catch_up(node, conn, p, PD_WEV_DELETED);
				else if (n->pzxid > req->relative_zxid)
					request_catch_up(node, conn, p, PD_WEV_CHILDREN_CHANGED);
				else
					kind = PD_WATCH_CHILD;
				break;
			case 3:
				kind = PD_WATCH_PERSIST;
				break;
			default: /* as ZooKeeper: in both tables */
				kind = PD_WATCH_RECURSIVE | PD_WATCH_RECURSIVE_CHILD;
				break;
			}
			if (list >= 3)
				(void)request_persistent_watch(node, conn, path, p.len, kind);
			else if (kind != 0)
				(void)pd_watch_add(&node->watches, conn->id, path, p.len, kind);
		}
	}
	/* The reply echoes the request's xid: C clients send -8, the Java 3.8
	 * client an ordinary xid it then matches. */
	node_reply_header(node, conn, req->xid, node->last_zxid, 0);
}

/* --- auth --- */

static bool request_auth(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	int rc = 0;
	if (!req->scheme.is_null && req->scheme.len == 6 && memcmp(req->scheme.ptr, "digest", 6) == 0) {
		char id[1024];
		size_t n;
		const uint8_t *auth = req->auth.is_null ? (const uint8_t *)"" : req->auth.ptr;
		size_t auth_len = req->auth.is_null ? 0 : req->auth.len;
		const uint8_t *colon = memchr(auth, ':', auth_len);
		size_t user_len = colon != NULL ? (size_t)(colon - auth) : auth_len;
		if (user_len + 30 > sizeof(id)) {
			rc = PD_EAUTHFAILED;
		} else {
			n = pd_acl_digest_id(auth, auth_len, id, sizeof(id));
			rc = pd_auth_add(&node->mem, &conn->auth, "digest", id, n);
			if (rc == 0 && node->cfg.super_digest[0] != '\0' && strlen(node->cfg.super_digest) == n &&
			    memcmp(node->cfg.super_digest, id, n) == 0)
				rc = pd_auth_add(&node->mem, &conn->auth, "super", "", 0);
		}
	} else if (!req->scheme.is_null && req->scheme.len == 2 && memcmp(req->scheme.ptr, "ip", 2) == 0) {
		rc = pd_auth_add(&node->mem, &conn->auth, "ip", conn->ip, strlen(conn->ip));
	} else {
		rc = PD_EAUTHFAILED;
	}
	if (rc == PD_ENOMEM) {
		node_reply_header(node, conn, req->xid, 0, pd_err_wire(PD_ENOMEM));
		return true;
	}
	if (rc != 0) {
		node->auth_failed_count++;
		node_reply_header(node, conn, req->xid, 0, PD_EAUTHFAILED);
		node_conn_close(node, conn);
		return false;
	}
	node_reply_header(node, conn, req->xid, 0, 0);
	return true;
}

static bool request_sasl(struct pd_node *node, struct pd_conn *conn, const struct pd_req *req)
{
	int rc;
	size_t start, tok_at;
	struct pd_jw jw;
	if (node->cfg.sasl_user_count == 0) {
		/* SASL not configured: ZooKeeper answers a null token. */
		jw = node_frame_begin(node, &start);
		pd_jw_reply_header(&jw, req->xid, 0, 0);
		pd_jw_int(&jw, -1);
		node_frame_end(node, conn, start);
		return true;
	}
	if (req->data.is_null) {
		node->auth_failed_count++;
		node_reply_header(node, conn, req->xid, 0, PD_EAUTHFAILED);
		node_conn_close(node, conn);
		return false;
	}
	jw = node_frame_begin(node, &start);
	pd_jw_reply_header(&jw, req->xid, 0, 0);
	tok_at = jw.buf->len;
	pd_jw_int(&jw, 0);
	rc = pd_sasl_step(&conn->sasl, &node->cfg, &node->prng, req->data.ptr, req->data.len, &node->io_mem,
			  jw.buf);
	if (rc != 0) {
		jw.buf->len = start;
		node->auth_failed_count++;
		node_reply_header(node, conn, req->xid, 0, PD_EAUTHFAILED);
		node_conn_close(node, conn);
		return false;
	}
	if (jw.buf->err == 0)
		pd_put_be32(jw.buf->data + tok_at, (uint32_t)(jw.buf->len - tok_at - 4));
	node_frame_end(node, conn, start);
	if (conn->sasl.state == PD_SASL_DONE)
		(void)pd_auth_add(&node->mem, &conn->auth, "sasl", conn->sasl.authzid, strlen(conn->sasl.authzid));
	return true;
}

/* --- dispatch --- */

bool request_handle(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len)
{
	struct pd_jr jr;
	struct pd_req req;
	struct pd_session *s;
	int rc;
	uint64_t start_ms = node->now_ms;
	memset(&req, 0, sizeof(req));
	pd_jr_init(&jr, p, len, REQUEST_FIELD_MAX);
	req.xid = pd_jr_int(&jr);
	req.type = pd_jr_int(&jr);
	if (jr.err != 0) {
		node_conn_close(node, conn);
		return false;
	}
	if (!pd_proto_op_known(req.type)) {
		node_reply_header(node, conn, req.xid, -1, PD_EUNIMPLEMENTED);
		node_conn_close(node, conn);
		return false;
	}
	s = pd_session_get(&node->sessions, conn->session_id);
	if (s == NULL || s->closing) {
		/* The session expired under this connection. */
		node_conn_close(node, conn);
		return false;
	}
	if (req.type != PD_OP_AUTH && req.type != PD_OP_SASL)
		pd_session_touch(&node->sessions, s, node->now_ms);
	rc = pd_proto_decode_body(&jr, &req);
	if (zab_learner(node) && (pd_proto_op_is_write(req.type) || (req.type == PD_OP_SYNC && rc == 0)))
		return request_forward(node, conn, &req, p + 8, len - 8, start_ms);
	if (pd_proto_op_is_write(req.type))
		return request_write(node, conn, &req, rc, start_ms);
	if (rc != 0) {
		node_reply_header(node, conn, req.xid, node->last_zxid, PD_EMARSHALLING);
		return true;
	}
	switch (req.type) {
	case PD_OP_PING:
		node_reply_header(node, conn, PD_XID_PING, node->last_zxid, 0);
		break;
	case PD_OP_AUTH:
		return request_auth(node, conn, &req);
	case PD_OP_SASL:
		return request_sasl(node, conn, &req);
	case PD_OP_EXISTS:
		request_exists(node, conn, &req);
		break;
	case PD_OP_GETDATA:
	case PD_OP_GETCHILDREN:
	case PD_OP_GETCHILDREN2:
		request_simple_read(node, conn, &req);
		break;
	case PD_OP_GETACL:
		request_get_acl(node, conn, &req);
		break;
	case PD_OP_SYNC: {
		size_t start;
		struct pd_jw jw = node_frame_begin(node, &start);
		pd_jw_reply_header(&jw, req.xid, node->last_zxid, 0);
		pd_jw_span(&jw, req.path.is_null ? (struct pd_span){(const uint8_t *)"", 0, false} : req.path);
		node_frame_end(node, conn, start);
		break;
	}
	case PD_OP_MULTIREAD:
		request_multi_read(node, conn, &req);
		break;
	case PD_OP_GETEPHEMERALS:
		request_ephemerals(node, conn, &req);
		break;
	case PD_OP_GETALLCHILDRENNUMBER:
		request_all_children(node, conn, &req);
		break;
	case PD_OP_WHOAMI:
		request_who_am_i(node, conn, &req);
		break;
	case PD_OP_CHECKWATCHES:
	case PD_OP_REMOVEWATCHES:
		request_remove_watches(node, conn, &req);
		break;
	case PD_OP_ADDWATCH:
		request_add_watch(node, conn, &req);
		break;
	case PD_OP_SETWATCHES:
	case PD_OP_SETWATCHES2:
		request_set_watches(node, conn, &req);
		break;
	default:
		PD_UNREACHABLE();
	}
	request_latency(node, conn, req.type, req.xid, node->last_zxid, start_ms);
	return true;
}

/* --- time --- */

static void request_expire_sessions(struct pd_node *node)
{
	int64_t due[64];
	uint32_t n, i;
	bool failed = false;
	if (node->log_failed)
		return; /* nothing can be logged: the sessions stay due until it can */
	/* Collect a batch first (expiring mutates the table being walked);
	 * repeat until no session is due.  A session whose closeSession could
	 * not be logged (out of memory) stays due and is tried again at the
	 * next tick, not in this one (which could then never end). */
	do {
		uint32_t pos = 0;
		struct pd_session *s;
		n = 0;
		while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL)
			if (!s->closing && s->expire_at_ms <= node->now_ms && n < PD_ARRAY_LEN(due))
				due[n++] = s->id;
		for (i = 0; i < n; i++) {
			struct pd_conn *conn;
			struct pend p;
			uint32_t conn_id;
			s = pd_session_get(&node->sessions, due[i]);
			PD_ASSERT(s != NULL);
			conn_id = s->conn;
			/* Requests in the session fail from now on; the connection
			 * is closed once the closeSession txn is applied. */
			conn = conn_id != PD_CONN_NONE ? node_conn(node, conn_id) : NULL;
			p = request_pend(PEND_EXPIRE, conn, 0, PD_OP_CLOSESESSION, node->now_ms);
			prep_txn_begin(node, request_next_zxid(node));
			if (prep_close_session(node, due[i], 0, request_next_zxid(node)) != 0) {
				prep_txn_undo(node);
				prep_txn_end(node);
				failed = true;
				continue;
			}
			if (request_log(node, &p) != 0) {
				failed = true;
				continue;
			}
			s->closing = true;
			node->sessions_expired++;
			PD_MARK(node, PD_MARK_SESSION_EXPIRED);
		}
	} while (n == PD_ARRAY_LEN(due) && !failed);
}

static void request_reap(struct pd_node *node)
{
	struct pd_tree *t = &node->tree;
	uint32_t i, budget;
	uint32_t cand[256];
	uint32_t n = 0;
	/* ZooKeeper spreads maxPerMinute deletions over the minute. */
	budget = (uint32_t)((int64_t)node->cfg.container_max_per_minute * node->cfg.container_check_interval_ms / 60000);
	if (budget == 0)
		budget = 1;
	for (i = 0; i < t->reapable_count && n < PD_ARRAY_LEN(cand) && n < budget; i++) {
		uint32_t idx = t->reapable[i];
		const struct pd_tnode *nd = pd_tree_node(t, idx);
		struct pd_tmeta m;
		if (nd->num_children != 0)
			continue;
		pd_tree_meta(t, idx, &m);
		if (pd_owner_is_container(m.owner)) {
			if (nd->cversion_creates > 0 ||
			    (node->cfg.container_max_never_used_ms > 0 &&
			     node->wall_ms - m.mtime > node->cfg.container_max_never_used_ms))
				cand[n++] = idx;
		} else if (pd_owner_is_ttl(m.owner)) {
			int64_t ttl = pd_owner_ttl(m.owner);
			if (ttl != 0 && node->wall_ms - m.mtime > ttl)
				cand[n++] = idx;
		}
	}
	for (i = 0; i < n; i++) {
		struct pd_req req;
		struct pend p;
		size_t len;
		const char *path = node_path(node, cand[i], &len);
		if (path == NULL)
			continue;
		memset(&req, 0, sizeof(req));
		req.type = PD_OP_DELETECONTAINER;
		req.xid = 0;
		req.path.ptr = (const uint8_t *)path;
		req.path.len = (uint32_t)len;
		req.version = -1;
		p = request_pend(PEND_SERVER, NULL, 0, req.type, node->now_ms);
		prep_txn_begin(node, request_next_zxid(node));
		if (prep_write(node, NULL, 0, &req, request_next_zxid(node)) != 0) {
			prep_txn_undo(node);
			prep_txn_end(node);
			continue;
		}
		(void)request_log(node, &p);
	}
}

static void request_sessionless(struct pd_node *node)
{
	uint32_t i;
	for (i = 0; i < node->conns_cap; i++) {
		struct pd_conn *conn = node->conns[i];
		if (conn != NULL && conn->plane == PD_PLANE_CLIENT &&
		    (conn->state == CONN_NEW || conn->state == CONN_FOURLW) && node->now_ms - conn->opened_ms >= 10000)
			node_conn_close(node, conn);
	}
}

void request_tick(struct pd_node *node)
{
	request_sessionless(node);
	if (!zab_expires(node))
		return; /* only the leader ends sessions and reaps */
	request_expire_sessions(node);
	if ((node->now_ms >= node->next_container_check_ms || PD_BUGGIFY(node, PD_BUGGIFY_REAP_NOW)) &&
	    !node->log_failed) {
		request_reap(node);
		node->next_container_check_ms = node->now_ms + (uint64_t)node->cfg.container_check_interval_ms;
	}
}
