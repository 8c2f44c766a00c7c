/* zkimport.c: ZooKeeper 3.x snapshots and logs into a node; see zkimport.h. */
#include "zkimport.h"

#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "err.h"
#include "jute.h"
#include "path.h"
#include "server_int.h"
#include "snap.h"

#define ZK_SNAP_MAGIC 0x5A4B534Eu /* "ZKSN" */
#define ZK_LOG_MAGIC 0x5A4B4C47u  /* "ZKLG" */
#define ZK_OPEN_ACL (-1)          /* the ACL index of world:anyone ALL */
#define ZK_FIELD_MAX (64u << 20)

uint32_t pd_adler32(uint32_t adler, const uint8_t *p, size_t len)
{
	uint32_t a = adler & 0xffff, b = adler >> 16;
	while (len > 0) {
		/* 5552 bytes keep b below 2^32 before the modulo */
		size_t n = len < 5552 ? len : 5552;
		len -= n;
		while (n-- > 0) {
			a += *p++;
			b += a;
		}
		a %= 65521u;
		b %= 65521u;
	}
	return b << 16 | a;
}

bool pd_zk_parse_name(const char *name, const char *kind, pd_zxid *zxid)
{
	return pd_parse_zxid_name(name, kind, false, zxid);
}

/* --- snapshot --- */

struct zk_load {
	struct pd_node *node;
	struct pd_jr jr;
	struct pd_map64 acls; /* ZooKeeper index + 2 -> our index + 1 */
	uint64_t now_ms;
	char *errmsg;
	size_t errmsg_size;
};

static int zk_fail(struct zk_load *l, int rc, const char *what)
{
	snprintf(l->errmsg, l->errmsg_size, "%s (%zu bytes from the end)", what, pd_jr_remaining(&l->jr));
	return rc;
}

/* The canonical bytes of world:anyone with perms. */
static int zk_world_acl(struct pd_node *node, int32_t perms, uint32_t *out)
{
	uint8_t b[4 + 4 + 4 + 5 + 4 + 6];
	pd_put_be32(b, 1);
	pd_put_be32(b + 4, (uint32_t)perms);
	pd_put_be32(b + 8, 5);
	memcpy(b + 12, "world", 5);
	pd_put_be32(b + 17, 6);
	memcpy(b + 21, "anyone", 6);
	return pd_acl_intern(&node->acls, b, sizeof(b), out);
}

static int zk_load_acls(struct zk_load *l)
{
	int32_t i, n = pd_jr_int(&l->jr);
	uint32_t idx;
	if (l->jr.err != 0 || n < 0)
		return zk_fail(l, PD_EPROTO, "bad ACL cache size");
	if (zk_world_acl(l->node, PD_PERM_ALL, &idx) != 0 ||
	    pd_map64_put(&l->acls, (uint64_t)(ZK_OPEN_ACL + 2), (void *)(uintptr_t)((uint64_t)idx + 1)) != 0)
		return zk_fail(l, PD_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		int64_t zk_index = pd_jr_long(&l->jr);
		const uint8_t *start = l->jr.p;
		bool is_null;
		int32_t j, count = pd_jr_vector_len(&l->jr, &is_null);
		for (j = 0; j < count && l->jr.err == 0; j++) {
			struct pd_span scheme, id;
			(void)pd_jr_int(&l->jr);
			scheme = pd_jr_buffer(&l->jr);
			id = pd_jr_buffer(&l->jr);
			if (scheme.is_null || id.is_null)
				l->jr.err = PD_EPROTO;
		}
		if (l->jr.err != 0 || is_null || count < 0 || zk_index < 0 || zk_index > (int64_t)1 << 40)
			return zk_fail(l, PD_EPROTO, "a damaged ACL cache entry");
		if (pd_map64_get(&l->acls, (uint64_t)zk_index + 2) != NULL)
			return zk_fail(l, PD_EPROTO, "an ACL cache index listed twice");
		if (pd_acl_intern(&l->node->acls, start, (uint32_t)(l->jr.p - start), &idx) != 0 ||
		    pd_map64_put(&l->acls, (uint64_t)zk_index + 2, (void *)(uintptr_t)((uint64_t)idx + 1)) != 0)
			return zk_fail(l, PD_ENOMEM, "out of memory");
	}
	return 0;
}

/* One node; *end is set when the "/" end marker was read instead. */
static int zk_load_node(struct zk_load *l, bool *end)
{
	struct pd_node *node = l->node;
	struct pd_jr *jr = &l->jr;
	struct pd_span path = pd_jr_buffer(jr), data, name;
	struct pd_tmeta m;
	int64_t acl_zk, pzxid;
	int32_t cversion;
	uint32_t parent, idx;
	void *acl;
	int rc;
	if (jr->err != 0 || path.is_null)
		return zk_fail(l, PD_EPROTO, "truncated node list");
	if (path.len == 1 && path.ptr[0] == '/') {
		*end = true;
		return 0;
	}
	data = pd_jr_buffer(jr);
	acl_zk = pd_jr_long(jr);
	m.czxid = pd_jr_long(jr);
	m.mzxid = pd_jr_long(jr);
	m.ctime = pd_jr_long(jr);
	m.mtime = pd_jr_long(jr);
	m.version = pd_jr_int(jr);
	cversion = pd_jr_int(jr);
	m.aversion = pd_jr_int(jr);
	m.owner = pd_jr_long(jr);
	pzxid = pd_jr_long(jr);
	if (jr->err != 0)
		return zk_fail(l, PD_EPROTO, "truncated node");
	acl = pd_map64_get(&l->acls, (uint64_t)acl_zk + 2);
	if (acl_zk < ZK_OPEN_ACL || acl == NULL)
		return zk_fail(l, PD_EPROTO, "a node with an ACL index the cache does not have");
	m.acl = (uint32_t)((uintptr_t)acl - 1);
	if (m.mzxid < m.czxid)
		m.mzxid = m.czxid; /* never in a consistent tree; keep the block encodable */
	if (path.len == 0) {
		parent = PD_NODE_NONE; /* the root */
		name = path;
	} else {
		size_t base;
		if (pd_path_validate((const char *)path.ptr, path.len) != 0)
			return zk_fail(l, PD_EPROTO, "a node with an invalid path");
		base = pd_path_basename_off((const char *)path.ptr, path.len);
		parent = pd_tree_lookup(&node->tree, (const char *)path.ptr, base > 1 ? base - 1 : 1);
		if (parent == PD_NODE_NONE)
			return zk_fail(l, PD_EPROTO, "a node before its parent");
		if (pd_owner_is_session(pd_tree_owner(&node->tree, parent)))
			return zk_fail(l, PD_EPROTO, "a child of an ephemeral node");
		name.ptr = path.ptr + base;
		name.len = path.len - (uint32_t)base;
		name.is_null = false;
		if (pd_tree_child(&node->tree, parent, (const char *)name.ptr, name.len) != PD_NODE_NONE &&
		    parent >= 4)
			return zk_fail(l, PD_EPROTO, "a node listed twice");
	}
	pd_acl_ref(&node->acls, m.acl);
	rc = pd_tree_restore(&node->tree, parent, (const char *)name.ptr, name.len, data, &m, pzxid, cversion, path.len,
			     &idx);
	if (rc != 0) {
		pd_acl_unref(&node->acls, m.acl);
		return zk_fail(l, rc, rc == PD_ENOMEM ? "out of memory" : "a node that cannot be");
	}
	if (pd_owner_is_session(m.owner)) {
		/* The snapshot is fuzzy: an ephemeral node may outlive its session
		 * in it; the log's closeSession removes both. */
		struct pd_session *s = pd_session_get(&node->sessions, m.owner);
		if (s == NULL && pd_session_add(&node->sessions, m.owner, node->cfg.session_timeout_ms_max, l->now_ms,
						&s) != 0)
			return zk_fail(l, PD_ENOMEM, "out of memory");
		if (pd_session_add_ephemeral(&node->sessions, &node->tree, s, idx) != 0)
			return zk_fail(l, PD_ENOMEM, "out of memory");
	}
	return 0;
}

static int zk_load_snapshot(struct zk_load *l, const uint8_t *p, size_t len, pd_zxid zxid)
{
	struct pd_jr *jr = &l->jr;
	int32_t i, sessions;
	bool end = false;
	int rc;
	pd_jr_init(jr, p, len, ZK_FIELD_MAX);
	if ((uint32_t)pd_jr_int(jr) != ZK_SNAP_MAGIC || pd_jr_int(jr) != 2 || (pd_jr_long(jr), jr->err != 0))
		return zk_fail(l, PD_EPROTO, "not a ZooKeeper snapshot (magic ZKSN, version 2)");
	sessions = pd_jr_int(jr);
	if (jr->err != 0 || sessions < 0)
		return zk_fail(l, PD_EPROTO, "bad session count");
	for (i = 0; i < sessions; i++) {
		int64_t id = pd_jr_long(jr);
		int32_t timeout = pd_jr_int(jr);
		struct pd_session *s;
		if (jr->err != 0 || id == 0 || timeout < 0)
			return zk_fail(l, PD_EPROTO, "a damaged session entry");
		if (pd_session_add(&l->node->sessions, id, timeout, l->now_ms, &s) != 0)
			return zk_fail(l, PD_ENOMEM, "out of memory");
	}
	rc = zk_load_acls(l);
	while (rc == 0 && !end)
		rc = zk_load_node(l, &end);
	if (rc != 0)
		return rc;
	{
		size_t sealed = len - pd_jr_remaining(jr);
		int64_t sum = pd_jr_long(jr);
		struct pd_span slash = pd_jr_buffer(jr);
		if (jr->err != 0 || slash.len != 1 || slash.ptr[0] != '/')
			return zk_fail(l, PD_EPROTO, "no seal after the nodes");
		if ((uint64_t)sum != pd_adler32(1, p, sealed))
			return zk_fail(l, PD_EPROTO, "Adler-32 mismatch");
	}
	node_loaded(l->node, zxid);
	return 0;
}

int pd_zk_snapshot_load(struct pd_node *node, const uint8_t *p, size_t len, pd_zxid zxid, uint64_t now_ms,
			char *errmsg, size_t errmsg_size)
{
	struct zk_load l;
	int rc;
	PD_ASSERT(node->conn_count == 0 && node->pending.count == 0);
	memset(&l, 0, sizeof(l));
	l.node = node;
	l.now_ms = now_ms;
	l.errmsg = errmsg;
	l.errmsg_size = errmsg_size;
	pd_map64_init(&l.acls, &node->io_mem);
	rc = zk_load_snapshot(&l, p, len, zxid);
	node_release_acl_map(node, &l.acls); /* the loader's own references */
	return rc;
}

/* --- log --- */

int pd_zk_log_replay(struct pd_node *node, const uint8_t *p, size_t len, uint64_t now_ms, uint64_t *applied,
		     char *errmsg, size_t errmsg_size)
{
	size_t off = 16;
	*applied = 0;
	if (len < 16 || pd_be32(p) != ZK_LOG_MAGIC || pd_be32(p + 4) != 2) {
		snprintf(errmsg, errmsg_size, "not a ZooKeeper transaction log (magic ZKLG, version 2)");
		return PD_EPROTO;
	}
	for (;;) {
		uint64_t sum;
		uint32_t n;
		size_t body;
		pd_zxid zxid, last = node->last_zxid;
		int rc;
		if (len - off < 12)
			return 0; /* the end, or a torn header */
		sum = pd_be64(p + off);
		n = pd_be32(p + off + 8);
		if (sum == 0 && n == 0)
			return 0; /* preallocated zeros */
		if (n > ZK_FIELD_MAX || len - off - 12 < (size_t)n + 1 || p[off + 12 + n] != 'B')
			return 0; /* a torn last record: ZooKeeper stops there too */
		if (sum != pd_adler32(1, p + off + 12, n)) {
			snprintf(errmsg, errmsg_size, "record at offset %zu: Adler-32 mismatch", off);
			return PD_EPROTO;
		}
		/* the record without its digest trailer, if it has one */
		body = apply_txn_record_len(p + off + 12, n);
		if (body == 0 || n < 20) {
			snprintf(errmsg, errmsg_size, "record at offset %zu: a transaction paddock cannot read", off);
			return PD_EPROTO;
		}
		zxid = pd_be64(p + off + 12 + 12);
		if (zxid > last + 1 && last != 0) {
			snprintf(errmsg, errmsg_size, "record at offset %zu is zxid 0x%llx after 0x%llx: transactions are missing",
				 off, (unsigned long long)zxid, (unsigned long long)last);
			return PD_EPROTO;
		}
		if (zxid > last) {
			rc = pd_node_replay(node, p + off + 12, body, now_ms, (int64_t)pd_be64(p + off + 12 + 20));
			if (rc != 0) {
				snprintf(errmsg, errmsg_size, "record at offset %zu (zxid 0x%llx) cannot be applied", off,
					 (unsigned long long)zxid);
				return rc;
			}
			(*applied)++;
		}
		off += 12 + (size_t)n + 1;
	}
}
