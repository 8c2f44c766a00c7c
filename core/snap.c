/* snap.c: snapshot encoding and loading, file names, recovery plan; see snap.h. */
#include "snap.h"

#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "err.h"
#include "jute.h"
#include "log.h"
#include "server_int.h"
#include "varint.h"

enum snap_phase {
	SNAP_HEADER = 0,
	SNAP_SESSIONS,
	SNAP_ACLS,
	SNAP_NODES,
	SNAP_TRAILER,
	SNAP_DONE,
};

static const uint8_t snap_magic[4] = {'P', 'D', 'S', 'N'};
static const uint8_t snap_end[4] = {'P', 'D', 'S', 'E'};

/* --- writing --- */

void pd_snap_writer_init(struct pd_snap_writer *w, struct pd_node *node)
{
	memset(w, 0, sizeof(*w));
	w->node = node;
	w->cur = PD_NODE_ROOT;
	w->zxid = node->last_zxid;
	w->nodes = node->tree.node_count;
}

void pd_snap_writer_free(struct pd_snap_writer *w)
{
	pd_mem_free(&w->node->io_mem, w->stack, (size_t)w->stack_cap * sizeof(*w->stack));
	w->stack = NULL;
	w->stack_cap = 0;
}

static int snap_put(struct pd_snap_writer *w, struct pd_buf *out, const void *p, size_t len)
{
	if (pd_buf_append(&w->node->io_mem, out, p, len) != 0)
		return PD_ENOMEM;
	w->crc = pd_crc32c(w->crc, p, len);
	return 0;
}

static int snap_put_varint(struct pd_snap_writer *w, struct pd_buf *out, uint64_t v)
{
	uint8_t b[PD_VARINT_MAX];
	return snap_put(w, out, b, pd_varint_put(b, v));
}

static int snap_header(struct pd_snap_writer *w, struct pd_buf *out)
{
	uint8_t h[40];
	memcpy(h, snap_magic, 4);
	pd_put_be32(h + 4, PD_SNAP_VERSION);
	pd_put_be64(h + 8, w->zxid);
	pd_put_be64(h + 16, w->node->sessions.by_id.count);
	pd_put_be64(h + 24, w->node->acls.live_count);
	pd_put_be64(h + 32, w->nodes);
	return snap_put(w, out, h, sizeof(h));
}

/* One node: see the layout in snap.h. */
static int snap_node(struct pd_snap_writer *w, struct pd_buf *out, uint32_t idx, uint64_t parent_ordinal)
{
	const struct pd_tree *t = &w->node->tree;
	const struct pd_tnode *n = pd_tree_node(t, idx);
	struct pd_span name = pd_tree_name(t, idx);
	struct pd_span data = pd_tree_data(t, idx);
	struct pd_tmeta m;
	uint8_t b[16 * PD_VARINT_MAX];
	size_t k = 0;
	pd_tree_meta(t, idx, &m);
	k += pd_varint_put(b + k, idx == PD_NODE_ROOT ? 0 : w->emitted - parent_ordinal);
	k += pd_varint_put(b + k, name.len);
	if (snap_put(w, out, b, k) != 0 || snap_put(w, out, name.ptr, name.len) != 0)
		return PD_ENOMEM;
	k = pd_varint_put(b, data.is_null ? 0 : (uint64_t)data.len + 1);
	if (snap_put(w, out, b, k) != 0 || (!data.is_null && snap_put(w, out, data.ptr, data.len) != 0))
		return PD_ENOMEM;
	k = 0;
	k += pd_varint_put(b + k, (uint64_t)m.czxid);
	k += pd_varint_put(b + k, (uint64_t)(m.mzxid - m.czxid));
	k += pd_varint_put(b + k, pd_zz(n->pzxid - m.czxid));
	k += pd_varint_put(b + k, pd_zz(m.ctime));
	k += pd_varint_put(b + k, pd_zz(m.mtime - m.ctime));
	k += pd_varint_put(b + k, pd_zz(m.version));
	k += pd_varint_put(b + k, pd_zz(m.aversion));
	k += pd_varint_put(b + k, pd_zz(n->cversion_creates));
	k += pd_varint_put(b + k, pd_zz(m.owner));
	k += pd_varint_put(b + k, m.acl);
	return snap_put(w, out, b, k);
}

/* Emits w->cur and moves to the next node in depth-first pre-order. */
static int snap_next_node(struct pd_snap_writer *w, struct pd_buf *out)
{
	const struct pd_tree *t = &w->node->tree;
	const struct pd_tnode *n = pd_tree_node(t, w->cur);
	uint64_t ordinal = w->emitted;
	if (snap_node(w, out, w->cur, w->depth > 0 ? w->stack[w->depth - 1] : 0) != 0)
		return PD_ENOMEM;
	w->emitted++;
	if (n->first_child != PD_NODE_NONE) {
		if (w->depth == w->stack_cap) {
			uint32_t cap = w->stack_cap == 0 ? 32 : w->stack_cap * 2;
			uint64_t *fresh = pd_mem_realloc(&w->node->io_mem, w->stack, (size_t)w->stack_cap * sizeof(*fresh),
							 (size_t)cap * sizeof(*fresh));
			if (fresh == NULL)
				return PD_ENOMEM;
			w->stack = fresh;
			w->stack_cap = cap;
		}
		w->stack[w->depth++] = ordinal;
		w->cur = n->first_child;
		return 0;
	}
	/* up until a node has a next sibling */
	while (w->cur != PD_NODE_ROOT && pd_tree_node(t, w->cur)->next_sibling == PD_NODE_NONE) {
		w->cur = pd_tree_node(t, w->cur)->parent;
		w->depth--;
	}
	if (w->cur == PD_NODE_ROOT)
		w->phase = SNAP_TRAILER;
	else
		w->cur = pd_tree_node(t, w->cur)->next_sibling;
	return 0;
}

int pd_snap_writer_next(struct pd_snap_writer *w, struct pd_buf *out, size_t chunk)
{
	struct pd_node *node = w->node;
	while (w->phase != SNAP_DONE && out->len < chunk) {
		switch (w->phase) {
		case SNAP_HEADER:
			if (snap_header(w, out) != 0)
				return PD_ENOMEM;
			w->phase = SNAP_SESSIONS;
			break;
		case SNAP_SESSIONS: {
			struct pd_session *s = pd_map64_next(&node->sessions.by_id, &w->pos, NULL);
			if (s == NULL) {
				w->phase = SNAP_ACLS;
				w->pos = 0;
				break;
			}
			if (snap_put_varint(w, out, (uint64_t)s->id) != 0 ||
			    snap_put_varint(w, out, (uint64_t)(uint32_t)s->timeout_ms) != 0)
				return PD_ENOMEM;
			break;
		}
		case SNAP_ACLS: {
			const struct pd_acl_slot *a;
			if (w->pos >= node->acls.slot_count) {
				w->phase = SNAP_NODES;
				break;
			}
			a = &node->acls.slots[w->pos];
			if (a->bytes != NULL &&
			    (snap_put_varint(w, out, w->pos) != 0 || snap_put_varint(w, out, a->len) != 0 ||
			     snap_put(w, out, a->bytes, a->len) != 0))
				return PD_ENOMEM;
			w->pos++;
			break;
		}
		case SNAP_NODES:
			if (snap_next_node(w, out) != 0)
				return PD_ENOMEM;
			break;
		case SNAP_TRAILER: {
			uint8_t crc[4];
			PD_ASSERT(w->emitted == w->nodes);
			if (snap_put(w, out, snap_end, 4) != 0)
				return PD_ENOMEM;
			pd_put_be32(crc, w->crc);
			if (pd_buf_append(&node->io_mem, out, crc, 4) != 0)
				return PD_ENOMEM;
			w->phase = SNAP_DONE;
			break;
		}
		default:
			PD_UNREACHABLE();
		}
	}
	return w->phase == SNAP_DONE ? 0 : 1;
}

/* --- loading --- */

struct snap_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static uint64_t snap_get(struct snap_reader *r)
{
	uint64_t v = 0;
	size_t n;
	if (r->bad)
		return 0;
	n = pd_varint_get_checked(r->p + r->off, r->len - r->off, &v);
	if (n == 0) {
		r->bad = true;
		return 0;
	}
	r->off += n;
	return v;
}

static const uint8_t *snap_take(struct snap_reader *r, uint64_t n)
{
	const uint8_t *q;
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += (size_t)n;
	return q;
}

struct snap_load {
	struct pd_node *node;
	struct snap_reader r;
	struct pd_map64 acl_map; /* old index + 1 -> new index + 1 */
	uint32_t *ord_idx;       /* ordinal -> tree index */
	uint32_t *ord_plen;      /* ordinal -> path length ("/" counts 0: children add "/name") */
	uint64_t nodes;
	char *errmsg;
	size_t errmsg_size;
};

static int snap_fail(struct snap_load *l, int rc, const char *what)
{
	snprintf(l->errmsg, l->errmsg_size, "%s (at byte %zu of %zu)", what, l->r.off, l->r.len);
	return rc;
}

/* True if bytes are exactly one jute vector<ACL> (the table's encoding),
 * which pd_acl_intern trusts. */
static bool snap_acl_bytes_valid(const uint8_t *bytes, uint64_t len)
{
	struct pd_jr jr;
	bool is_null = false;
	int32_t n, i;
	pd_jr_init(&jr, bytes, (size_t)len, UINT32_MAX);
	n = pd_jr_vector_len(&jr, &is_null);
	if (jr.err != 0 || is_null || n < 0)
		return false;
	for (i = 0; i < n && jr.err == 0; i++) {
		struct pd_span scheme, id;
		(void)pd_jr_int(&jr);
		scheme = pd_jr_buffer(&jr);
		id = pd_jr_buffer(&jr);
		if (scheme.is_null || id.is_null)
			return false;
	}
	return jr.err == 0 && pd_jr_remaining(&jr) == 0;
}

static int snap_load_acls(struct snap_load *l, uint64_t count)
{
	uint64_t i;
	for (i = 0; i < count; i++) {
		uint64_t old = snap_get(&l->r), len = snap_get(&l->r);
		const uint8_t *bytes = snap_take(&l->r, len);
		uint32_t idx;
		if (bytes == NULL || old >= UINT32_MAX || len > PD_LOG_RECORD_BYTES_MAX)
			return snap_fail(l, PD_EPROTO, "truncated ACL table");
		if (pd_map64_get(&l->acl_map, old + 1) != NULL || !snap_acl_bytes_valid(bytes, len))
			return snap_fail(l, PD_EPROTO, "an ACL list that cannot be");
		if (pd_acl_intern(&l->node->acls, bytes, (uint32_t)len, &idx) != 0 ||
		    pd_map64_put(&l->acl_map, old + 1, (void *)(uintptr_t)((uint64_t)idx + 1)) != 0)
			return snap_fail(l, PD_ENOMEM, "out of memory loading ACLs");
	}
	return 0;
}

static int snap_load_node(struct snap_load *l, uint64_t ordinal)
{
	struct pd_node *node = l->node;
	struct snap_reader *r = &l->r;
	uint64_t dist = snap_get(r), name_len = snap_get(r), data_len1;
	const uint8_t *name = snap_take(r, name_len), *data;
	struct pd_tmeta m;
	struct pd_span dspan;
	int64_t pzxid;
	int32_t cversion;
	uint64_t acl_old;
	void *acl_new;
	uint32_t parent, idx;
	int rc;
	data_len1 = snap_get(r);
	data = data_len1 == 0 ? NULL : snap_take(r, data_len1 - 1);
	m.czxid = (int64_t)snap_get(r);
	m.mzxid = m.czxid + (int64_t)snap_get(r);
	pzxid = m.czxid + pd_unzz(snap_get(r));
	m.ctime = pd_unzz(snap_get(r));
	m.mtime = m.ctime + pd_unzz(snap_get(r));
	m.version = (int32_t)pd_unzz(snap_get(r));
	m.aversion = (int32_t)pd_unzz(snap_get(r));
	cversion = (int32_t)pd_unzz(snap_get(r));
	m.owner = pd_unzz(snap_get(r));
	acl_old = snap_get(r);
	if (r->bad || name == NULL || (data_len1 != 0 && data == NULL))
		return snap_fail(l, PD_EPROTO, "truncated node");
	if ((ordinal == 0) != (dist == 0) || dist > ordinal || (ordinal > 0 && name_len == 0) ||
	    memchr(name, '/', name_len) != NULL)
		return snap_fail(l, PD_EPROTO, "a node without a valid parent or name");
	acl_new = pd_map64_get(&l->acl_map, acl_old + 1);
	if (acl_new == NULL)
		return snap_fail(l, PD_EPROTO, "a node with an unknown ACL");
	m.acl = (uint32_t)((uintptr_t)acl_new - 1);
	parent = ordinal == 0 ? PD_NODE_NONE : l->ord_idx[ordinal - dist];
	if (parent != PD_NODE_NONE && pd_owner_is_session(pd_tree_owner(&node->tree, parent)))
		return snap_fail(l, PD_EPROTO, "a child of an ephemeral node");
	dspan.ptr = data;
	dspan.len = data_len1 == 0 ? 0 : (uint32_t)(data_len1 - 1);
	dspan.is_null = data_len1 == 0;
	l->ord_plen[ordinal] = ordinal == 0 ? 0 : l->ord_plen[ordinal - dist] + 1 + (uint32_t)name_len;
	pd_acl_ref(&node->acls, m.acl);
	rc = pd_tree_restore(&node->tree, parent, (const char *)name, name_len, dspan, &m, pzxid, cversion,
			     l->ord_plen[ordinal], &idx);
	if (rc != 0) {
		pd_acl_unref(&node->acls, m.acl);
		return snap_fail(l, rc, rc == PD_ENOMEM ? "out of memory loading nodes" : "an impossible node");
	}
	l->ord_idx[ordinal] = idx;
	if (pd_owner_is_session(m.owner)) {
		struct pd_session *s = pd_session_get(&node->sessions, m.owner);
		if (s == NULL)
			return snap_fail(l, PD_EPROTO, "an ephemeral node of an unknown session");
		if (pd_session_add_ephemeral(&node->sessions, &node->tree, s, idx) != 0)
			return snap_fail(l, PD_ENOMEM, "out of memory loading ephemerals");
	}
	return 0;
}

static int snap_load_body(struct snap_load *l, uint64_t now_ms)
{
	struct pd_node *node = l->node;
	struct snap_reader *r = &l->r;
	const uint8_t *h = snap_take(r, 40);
	uint64_t sessions, acls, i;
	pd_zxid zxid;
	int rc;
	if (h == NULL || memcmp(h, snap_magic, 4) != 0)
		return snap_fail(l, PD_EPROTO, "not a paddock snapshot");
	if (pd_be32(h + 4) != PD_SNAP_VERSION)
		return snap_fail(l, PD_EPROTO, "unknown snapshot version");
	zxid = pd_be64(h + 8);
	sessions = pd_be64(h + 16);
	acls = pd_be64(h + 24);
	l->nodes = pd_be64(h + 32);
	/* every record takes at least a byte, so the counts are bounded by the size */
	if (l->nodes == 0 || l->nodes > r->len || sessions > r->len || acls > r->len)
		return snap_fail(l, PD_EPROTO, "impossible counts in the snapshot header");
	for (i = 0; i < sessions; i++) {
		uint64_t id = snap_get(r), timeout = snap_get(r);
		struct pd_session *s;
		if (r->bad || id == 0 || timeout > INT32_MAX)
			return snap_fail(l, PD_EPROTO, "truncated session table");
		if (pd_session_add(&node->sessions, (int64_t)id, (int32_t)timeout, now_ms, &s) != 0)
			return snap_fail(l, PD_ENOMEM, "out of memory loading sessions");
	}
	rc = snap_load_acls(l, acls);
	if (rc != 0)
		return rc;
	l->ord_idx = pd_mem_alloc(&node->io_mem, (size_t)l->nodes * sizeof(uint32_t));
	l->ord_plen = pd_mem_alloc(&node->io_mem, (size_t)l->nodes * sizeof(uint32_t));
	if (l->ord_idx == NULL || l->ord_plen == NULL || pd_tree_reserve(&node->tree, l->nodes) != 0)
		return snap_fail(l, PD_ENOMEM, "out of memory loading nodes");
	for (i = 0; i < l->nodes; i++) {
		rc = snap_load_node(l, i);
		if (rc != 0)
			return rc;
	}
	h = snap_take(r, 8);
	if (h == NULL || memcmp(h, snap_end, 4) != 0 || r->off != r->len)
		return snap_fail(l, PD_EPROTO, "no end seal where the nodes end");
	if (pd_crc32c(0, r->p, r->len - 4) != pd_be32(h + 4))
		return snap_fail(l, PD_EPROTO, "checksum mismatch");
	node_loaded(node, zxid);
	return 0;
}

int pd_snap_load(struct pd_node *node, const uint8_t *p, size_t len, uint64_t now_ms, char *errmsg,
		 size_t errmsg_size)
{
	struct snap_load l;
	int rc;
	PD_ASSERT(node->conn_count == 0 && node->pending.count == 0);
	memset(&l, 0, sizeof(l));
	l.node = node;
	l.r.p = p;
	l.r.len = len;
	l.errmsg = errmsg;
	l.errmsg_size = errmsg_size;
	pd_map64_init(&l.acl_map, &node->io_mem);
	rc = snap_load_body(&l, now_ms);
	node_release_acl_map(node, &l.acl_map); /* the loader's own references */
	pd_mem_free(&node->io_mem, l.ord_idx, (size_t)l.nodes * sizeof(uint32_t));
	pd_mem_free(&node->io_mem, l.ord_plen, (size_t)l.nodes * sizeof(uint32_t));
	return rc;
}

/* --- names and the recovery plan --- */

bool pd_parse_zxid_name(const char *name, const char *kind, bool padded, pd_zxid *zxid)
{
	size_t k = strlen(kind), i, n;
	uint64_t v = 0;
	if (strncmp(name, kind, k) != 0 || name[k] != '.')
		return false;
	name += k + 1;
	n = strlen(name);
	if (padded ? n != 16 : (n == 0 || n > 16))
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*zxid = v;
	return true;
}

bool pd_snap_parse_name(const char *name, const char *kind, pd_zxid *zxid)
{
	return pd_parse_zxid_name(name, kind, true, zxid);
}

size_t pd_recovery_first_log(const pd_zxid *log_starts, size_t n, pd_zxid label)
{
	size_t i, first = SIZE_MAX;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (log_starts[i] <= label + 1)
			first = i;
	return first;
}
