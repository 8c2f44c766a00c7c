/* tree.c: lookups, create, delete, set data and stat upkeep; see tree.h. */
#include "tree.h"

#include <string.h>

#include "assert.h"
#include "err.h"
#include "varint.h"

/* --- the node block ---
 * u8 flags (bit 0: an owner follows the ACL), varint czxid, varint
 * mzxid - czxid, zigzag ctime, zigzag mtime - ctime, zigzag version,
 * zigzag aversion, varint ACL index, [zigzag owner], varint name length,
 * varint data length + 1 (0 = null data), name, data. */

#define TREE_BLOB_HAS_OWNER 1u
#define TREE_INIT_NODES 4u /* /, /zookeeper, /zookeeper/quota, /zookeeper/config: indices 0-3 */
#define TREE_BLOB_HEADER_MAX (1 + 10 * 9)

struct tree_blob {
	struct pd_tmeta meta;
	uint32_t name_len;
	uint32_t data_len_plus1;
	size_t header;
};

static void tree_blob_parse(const uint8_t *blob, struct tree_blob *b)
{
	uint64_t v;
	size_t n = 1;
	uint8_t flags = blob[0];
	n += pd_varint_get(blob + n, &v);
	b->meta.czxid = (int64_t)v;
	n += pd_varint_get(blob + n, &v);
	b->meta.mzxid = b->meta.czxid + (int64_t)v;
	n += pd_varint_get(blob + n, &v);
	b->meta.ctime = pd_unzz(v);
	n += pd_varint_get(blob + n, &v);
	b->meta.mtime = b->meta.ctime + pd_unzz(v);
	n += pd_varint_get(blob + n, &v);
	b->meta.version = (int32_t)pd_unzz(v);
	n += pd_varint_get(blob + n, &v);
	b->meta.aversion = (int32_t)pd_unzz(v);
	n += pd_varint_get(blob + n, &v);
	b->meta.acl = (uint32_t)v;
	b->meta.owner = 0;
	if (flags & TREE_BLOB_HAS_OWNER) {
		n += pd_varint_get(blob + n, &v);
		b->meta.owner = pd_unzz(v);
	}
	n += pd_varint_get(blob + n, &v);
	b->name_len = (uint32_t)v;
	n += pd_varint_get(blob + n, &v);
	b->data_len_plus1 = (uint32_t)v;
	b->header = n;
}

static size_t tree_blob_size(const struct tree_blob *b)
{
	return b->header + b->name_len + (b->data_len_plus1 == 0 ? 0 : b->data_len_plus1 - 1);
}

static uint8_t *tree_blob_make(struct pd_tree *t, const struct pd_tmeta *m, const char *name, size_t name_len,
			       struct pd_span data)
{
	uint8_t hdr[TREE_BLOB_HEADER_MAX];
	size_t h = 1, total;
	uint8_t *blob;
	PD_ASSERT(m->mzxid >= m->czxid);
	hdr[0] = m->owner != 0 ? TREE_BLOB_HAS_OWNER : 0;
	h += pd_varint_put(hdr + h, (uint64_t)m->czxid);
	h += pd_varint_put(hdr + h, (uint64_t)(m->mzxid - m->czxid));
	h += pd_varint_put(hdr + h, pd_zz(m->ctime));
	h += pd_varint_put(hdr + h, pd_zz(m->mtime - m->ctime));
	h += pd_varint_put(hdr + h, pd_zz(m->version));
	h += pd_varint_put(hdr + h, pd_zz(m->aversion));
	h += pd_varint_put(hdr + h, m->acl);
	if (m->owner != 0)
		h += pd_varint_put(hdr + h, pd_zz(m->owner));
	h += pd_varint_put(hdr + h, (uint64_t)name_len);
	h += pd_varint_put(hdr + h, data.is_null ? 0 : (uint64_t)data.len + 1);
	total = h + name_len + (data.is_null ? 0 : data.len);
	blob = pd_slab_alloc(&t->slab, total);
	if (blob == NULL)
		return NULL;
	memcpy(blob, hdr, h);
	if (name_len > 0)
		memcpy(blob + h, name, name_len);
	if (!data.is_null && data.len > 0)
		memcpy(blob + h + name_len, data.ptr, data.len);
	t->blob_bytes += total;
	return blob;
}

static void tree_blob_free(struct pd_tree *t, uint8_t *blob)
{
	struct tree_blob b;
	size_t size;
	tree_blob_parse(blob, &b);
	size = tree_blob_size(&b);
	t->blob_bytes -= size;
	pd_slab_free(&t->slab, blob, size);
}

struct pd_span pd_tree_name(const struct pd_tree *t, uint32_t idx)
{
	const struct pd_tnode *n = pd_tree_node(t, idx);
	struct tree_blob b;
	struct pd_span s;
	tree_blob_parse(n->blob, &b);
	s.ptr = n->blob + b.header;
	s.len = b.name_len;
	s.is_null = false;
	return s;
}

struct pd_span pd_tree_data(const struct pd_tree *t, uint32_t idx)
{
	const struct pd_tnode *n = pd_tree_node(t, idx);
	struct tree_blob b;
	struct pd_span s = {NULL, 0, true};
	tree_blob_parse(n->blob, &b);
	if (b.data_len_plus1 == 0)
		return s;
	s.ptr = n->blob + b.header + b.name_len;
	s.len = b.data_len_plus1 - 1;
	s.is_null = false;
	return s;
}

void pd_tree_meta(const struct pd_tree *t, uint32_t idx, struct pd_tmeta *out)
{
	struct tree_blob b;
	tree_blob_parse(pd_tree_node(t, idx)->blob, &b);
	*out = b.meta;
}

uint32_t pd_tree_acl(const struct pd_tree *t, uint32_t idx)
{
	struct pd_tmeta m;
	pd_tree_meta(t, idx, &m);
	return m.acl;
}

int64_t pd_tree_owner(const struct pd_tree *t, uint32_t idx)
{
	const uint8_t *blob = pd_tree_node(t, idx)->blob;
	struct pd_tmeta m;
	if ((blob[0] & TREE_BLOB_HAS_OWNER) == 0)
		return 0;
	pd_tree_meta(t, idx, &m);
	return m.owner;
}

uint32_t pd_tree_aux(const struct pd_tree *t, uint32_t idx)
{
	void *v = pd_map64_get(&t->aux, idx);
	PD_ASSERT(v != NULL);
	return (uint32_t)((uintptr_t)v - 1);
}

int pd_tree_set_aux(struct pd_tree *t, uint32_t idx, uint32_t aux)
{
	return pd_map64_put(&t->aux, idx, (void *)((uintptr_t)aux + 1));
}

/* Rebuilds idx's block with new meta and data (name kept). */
static int tree_blob_replace(struct pd_tree *t, uint32_t idx, const struct pd_tmeta *m, struct pd_span data)
{
	struct pd_tnode *n = pd_tree_node(t, idx);
	struct pd_span name = pd_tree_name(t, idx);
	uint8_t *blob = tree_blob_make(t, m, (const char *)name.ptr, name.len, data);
	if (blob == NULL)
		return PD_ENOMEM;
	tree_blob_free(t, n->blob);
	n->blob = blob;
	return 0;
}

/* --- (parent, name) index --- */

static uint32_t tree_hash(uint32_t parent, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ULL);
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (uint32_t)h;
}

static uint32_t tree_node_hash(const struct pd_tree *t, uint32_t idx)
{
	struct pd_span name = pd_tree_name(t, idx);
	return tree_hash(pd_tree_node(t, idx)->parent, (const char *)name.ptr, name.len);
}

static int tree_index_grow(struct pd_tree *t)
{
	uint32_t cap = t->index_cap == 0 ? 1024 : t->index_cap * 2;
	uint32_t *idx = pd_mem_zalloc(t->mem, (size_t)cap * sizeof(uint32_t));
	uint32_t i;
	if (idx == NULL)
		return PD_ENOMEM;
	for (i = 0; i < t->index_cap; i++) {
		uint32_t node = t->index[i], pos;
		if (node == 0)
			continue;
		pos = tree_node_hash(t, node - 1) & (cap - 1);
		while (idx[pos] != 0)
			pos = (pos + 1) & (cap - 1);
		idx[pos] = node;
	}
	pd_mem_free(t->mem, t->index, (size_t)t->index_cap * sizeof(uint32_t));
	t->index = idx;
	t->index_cap = cap;
	return 0;
}

uint32_t pd_tree_child(const struct pd_tree *t, uint32_t parent, const char *name, size_t len)
{
	uint32_t mask = t->index_cap - 1;
	uint32_t pos = tree_hash(parent, name, len) & mask;
	for (;;) {
		uint32_t node = t->index[pos];
		const struct pd_tnode *n;
		if (node == 0)
			return PD_NODE_NONE;
		n = pd_tree_node(t, node - 1);
		if (n->parent == parent) {
			struct pd_span nm = pd_tree_name(t, node - 1);
			if (nm.len == len && memcmp(nm.ptr, name, len) == 0)
				return node - 1;
		}
		pos = (pos + 1) & mask;
	}
}

static void tree_index_insert(struct pd_tree *t, uint32_t idx, uint32_t hash)
{
	uint32_t mask = t->index_cap - 1;
	uint32_t pos = hash & mask;
	while (t->index[pos] != 0)
		pos = (pos + 1) & mask;
	t->index[pos] = idx + 1;
}

static void tree_index_remove(struct pd_tree *t, uint32_t idx)
{
	uint32_t mask = t->index_cap - 1;
	uint32_t pos = tree_node_hash(t, idx) & mask;
	uint32_t hole, next;
	while (t->index[pos] != idx + 1) {
		PD_ASSERT(t->index[pos] != 0);
		pos = (pos + 1) & mask;
	}
	hole = pos;
	next = (pos + 1) & mask;
	while (t->index[next] != 0) {
		uint32_t home = tree_node_hash(t, t->index[next] - 1) & mask;
		bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
		if (movable) {
			t->index[hole] = t->index[next];
			hole = next;
		}
		next = (next + 1) & mask;
	}
	t->index[hole] = 0;
}

uint32_t pd_tree_lookup(const struct pd_tree *t, const char *path, size_t len)
{
	uint32_t cur = PD_NODE_ROOT;
	size_t i = 1, start;
	if (len == 0 || path[0] != '/')
		return PD_NODE_NONE;
	if (len == 1)
		return PD_NODE_ROOT;
	while (i <= len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i == start)
			return PD_NODE_NONE; /* empty component: "//" or trailing '/' */
		cur = pd_tree_child(t, cur, path + start, i - start);
		if (cur == PD_NODE_NONE)
			return PD_NODE_NONE;
		i++;
	}
	return cur;
}

/* --- slots --- */

static int tree_slot_alloc(struct pd_tree *t, uint32_t *out)
{
	uint32_t idx;
	if (t->free_head != PD_NODE_NONE) {
		idx = t->free_head;
		t->free_head = pd_tree_node(t, idx)->next_sibling;
		*out = idx;
		return 0;
	}
	if (t->node_slots == UINT32_MAX - 1)
		return PD_EFULL;
	if ((t->node_slots >> PD_TREE_CHUNK_SHIFT) == t->chunk_count) {
		struct pd_tnode *chunk;
		if (t->chunk_count == t->chunk_cap) {
			uint32_t cap = t->chunk_cap == 0 ? 16 : t->chunk_cap * 2;
			struct pd_tnode **fresh = pd_mem_realloc(t->mem, t->chunks,
				t->chunk_cap * sizeof(*t->chunks), cap * sizeof(*t->chunks));
			if (fresh == NULL)
				return PD_ENOMEM;
			t->chunks = fresh;
			t->chunk_cap = cap;
		}
		chunk = pd_mem_alloc(t->mem, PD_TREE_CHUNK_NODES * sizeof(struct pd_tnode));
		if (chunk == NULL)
			return PD_ENOMEM;
		t->chunks[t->chunk_count++] = chunk;
	}
	*out = t->node_slots++;
	return 0;
}

static void tree_slot_free(struct pd_tree *t, uint32_t idx)
{
	struct pd_tnode *n = pd_tree_node(t, idx);
	memset(n, 0, sizeof(*n));
	n->next_sibling = t->free_head;
	t->free_head = idx;
}

/* --- children list --- */

static void tree_link_child(struct pd_tree *t, uint32_t parent, uint32_t idx)
{
	struct pd_tnode *p = pd_tree_node(t, parent);
	struct pd_tnode *n = pd_tree_node(t, idx);
	n->next_sibling = PD_NODE_NONE;
	if (p->first_child == PD_NODE_NONE) {
		p->first_child = idx;
		n->prev_sibling = idx;
	} else {
		struct pd_tnode *first = pd_tree_node(t, p->first_child);
		uint32_t last = first->prev_sibling;
		pd_tree_node(t, last)->next_sibling = idx;
		n->prev_sibling = last;
		first->prev_sibling = idx;
	}
	p->num_children++;
}

static void tree_unlink_child(struct pd_tree *t, uint32_t idx)
{
	struct pd_tnode *n = pd_tree_node(t, idx);
	struct pd_tnode *p = pd_tree_node(t, n->parent);
	struct pd_tnode *first = pd_tree_node(t, p->first_child);
	if (p->first_child == idx) {
		p->first_child = n->next_sibling;
		if (n->next_sibling != PD_NODE_NONE)
			pd_tree_node(t, n->next_sibling)->prev_sibling = n->prev_sibling;
	} else {
		pd_tree_node(t, n->prev_sibling)->next_sibling = n->next_sibling;
		if (n->next_sibling != PD_NODE_NONE)
			pd_tree_node(t, n->next_sibling)->prev_sibling = n->prev_sibling;
		else
			first->prev_sibling = n->prev_sibling;
	}
	PD_ASSERT(p->num_children > 0);
	p->num_children--;
}

/* --- reap list (containers and TTL nodes) --- */

static int tree_reap_add(struct pd_tree *t, uint32_t idx)
{
	if (t->reapable_count == t->reapable_cap) {
		uint32_t cap = t->reapable_cap == 0 ? 16 : t->reapable_cap * 2;
		uint32_t *fresh = pd_mem_realloc(t->mem, t->reapable, t->reapable_cap * sizeof(uint32_t),
						 cap * sizeof(uint32_t));
		if (fresh == NULL)
			return PD_ENOMEM;
		t->reapable = fresh;
		t->reapable_cap = cap;
	}
	if (pd_tree_set_aux(t, idx, t->reapable_count) != 0)
		return PD_ENOMEM;
	t->reapable[t->reapable_count++] = idx;
	return 0;
}

static void tree_reap_remove(struct pd_tree *t, uint32_t idx)
{
	uint32_t pos = pd_tree_aux(t, idx);
	uint32_t last;
	PD_ASSERT(pos < t->reapable_count && t->reapable[pos] == idx);
	last = t->reapable[--t->reapable_count];
	t->reapable[pos] = last;
	pd_map64_del(&t->aux, idx);
	if (last != idx)
		(void)pd_tree_set_aux(t, last, pos); /* replaces an entry: no allocation */
}

/* --- public operations --- */

static int tree_create_meta(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len,
			    struct pd_span data, const struct pd_tmeta *meta, uint32_t *out);

static int tree_create_raw(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len,
			   struct pd_span data, uint32_t acl, int64_t owner, pd_zxid zxid,
			   int64_t time_ms, uint32_t *out)
{
	struct pd_tmeta m;
	memset(&m, 0, sizeof(m));
	m.czxid = m.mzxid = zxid;
	m.ctime = m.mtime = time_ms;
	m.owner = owner;
	m.acl = acl;
	return tree_create_meta(t, parent, name, name_len, data, &m, out);
}

/* A new node with every block field given; pzxid starts at czxid. */
static int tree_create_meta(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len,
			    struct pd_span data, const struct pd_tmeta *meta, uint32_t *out)
{
	uint32_t idx, hash;
	struct pd_tnode *n;
	int64_t owner = meta->owner;
	pd_zxid zxid = meta->czxid;
	int rc;
	if ((uint64_t)(t->node_count + 1) * 4 > (uint64_t)t->index_cap * 3) {
		rc = tree_index_grow(t);
		if (rc != 0)
			return rc;
	}
	rc = tree_slot_alloc(t, &idx);
	if (rc != 0)
		return rc;
	n = pd_tree_node(t, idx);
	memset(n, 0, sizeof(*n));
	n->blob = tree_blob_make(t, meta, name, name_len, data);
	if (n->blob == NULL) {
		tree_slot_free(t, idx);
		return PD_ENOMEM;
	}
	if (pd_owner_is_container(owner) || pd_owner_is_ttl(owner)) {
		rc = tree_reap_add(t, idx);
		if (rc != 0) {
			tree_blob_free(t, n->blob);
			tree_slot_free(t, idx);
			return rc;
		}
	}
	n->pzxid = zxid;
	n->parent = parent;
	n->first_child = PD_NODE_NONE;
	n->next_sibling = PD_NODE_NONE;
	n->prev_sibling = PD_NODE_NONE;
	if (parent != PD_NODE_NONE) {
		hash = tree_hash(parent, name, name_len);
		tree_index_insert(t, idx, hash);
		tree_link_child(t, parent, idx);
	}
	t->node_count++;
	*out = idx;
	return 0;
}

int pd_tree_init(struct pd_tree *t, struct pd_mem *mem, struct pd_acl_table *acls)
{
	struct pd_span empty = {(const uint8_t *)"", 0, false};
	uint32_t root, zk, idx;
	int rc;
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->acls = acls;
	t->free_head = PD_NODE_NONE;
	pd_slab_init(&t->slab, mem);
	pd_map64_init(&t->aux, mem);
	rc = tree_index_grow(t);
	if (rc == 0)
		rc = tree_create_raw(t, PD_NODE_NONE, "", 0, empty, PD_ACL_OPEN, 0, 0, 0, &root);
	if (rc == 0) {
		pd_acl_ref(acls, PD_ACL_OPEN);
		rc = tree_create_raw(t, root, "zookeeper", 9, empty, PD_ACL_OPEN, 0, 0, 0, &zk);
	}
	if (rc == 0) {
		pd_acl_ref(acls, PD_ACL_OPEN);
		rc = tree_create_raw(t, zk, "quota", 5, empty, PD_ACL_OPEN, 0, 0, 0, &idx);
	}
	if (rc == 0) {
		pd_acl_ref(acls, PD_ACL_READ_ONLY_WORLD);
		rc = tree_create_raw(t, zk, "config", 6, empty, PD_ACL_READ_ONLY_WORLD, 0, 0, 0, &idx);
		if (rc == 0) {
			struct pd_tmeta m;
			pd_tree_meta(t, idx, &m);
			m.aversion = -1; /* as ZooKeeper reports /zookeeper/config */
			rc = tree_blob_replace(t, idx, &m, empty);
		}
	}
	if (rc != 0) {
		pd_tree_free(t);
		return rc;
	}
	/* ZooKeeper's approximate data size counts the paths of the built-in
	 * nodes: "/" + "/zookeeper" + "/zookeeper/quota" + "/zookeeper/config". */
	t->data_size_approx = 1 + 10 + 16 + 17;
	return 0;
}

void pd_tree_free(struct pd_tree *t)
{
	uint32_t i;
	for (i = 0; i < t->node_slots; i++) {
		struct pd_tnode *n = pd_tree_node(t, i);
		if (n->blob != NULL) {
			pd_acl_unref(t->acls, pd_tree_acl(t, i));
			tree_blob_free(t, n->blob);
		}
	}
	pd_slab_destroy(&t->slab);
	pd_map64_free(&t->aux);
	for (i = 0; i < t->chunk_count; i++)
		pd_mem_free(t->mem, t->chunks[i], PD_TREE_CHUNK_NODES * sizeof(struct pd_tnode));
	pd_mem_free(t->mem, t->chunks, t->chunk_cap * sizeof(*t->chunks));
	pd_mem_free(t->mem, t->index, (size_t)t->index_cap * sizeof(uint32_t));
	pd_mem_free(t->mem, t->reapable, t->reapable_cap * sizeof(uint32_t));
	memset(t, 0, sizeof(*t));
}

void pd_tree_stat(const struct pd_tree *t, uint32_t idx, struct pd_stat *out)
{
	const struct pd_tnode *n = pd_tree_node(t, idx);
	struct pd_span data = pd_tree_data(t, idx);
	struct pd_tmeta m;
	pd_tree_meta(t, idx, &m);
	out->czxid = m.czxid;
	out->mzxid = m.mzxid;
	out->ctime = m.ctime;
	out->mtime = m.mtime;
	out->version = m.version;
	out->cversion = (int32_t)((uint32_t)n->cversion_creates * 2u - n->num_children);
	out->aversion = m.aversion;
	out->ephemeral_owner = pd_owner_is_session(m.owner) ? m.owner : 0;
	out->data_length = (int32_t)data.len;
	out->num_children = (int32_t)n->num_children;
	out->pzxid = n->pzxid;
}

size_t pd_tree_path_len(const struct pd_tree *t, uint32_t idx)
{
	size_t len = 0;
	uint32_t cur;
	if (idx == PD_NODE_ROOT)
		return 1;
	for (cur = idx; cur != PD_NODE_ROOT; cur = pd_tree_node(t, cur)->parent)
		len += 1 + pd_tree_name(t, cur).len;
	return len;
}

size_t pd_tree_path(const struct pd_tree *t, uint32_t idx, char *out, size_t size)
{
	size_t len = 0, pos;
	uint32_t cur;
	if (idx == PD_NODE_ROOT) {
		if (size < 2)
			return 0;
		out[0] = '/';
		out[1] = '\0';
		return 1;
	}
	for (cur = idx; cur != PD_NODE_ROOT; cur = pd_tree_node(t, cur)->parent)
		len += 1 + pd_tree_name(t, cur).len;
	if (len + 1 > size)
		return 0;
	pos = len;
	out[pos] = '\0';
	for (cur = idx; cur != PD_NODE_ROOT; cur = pd_tree_node(t, cur)->parent) {
		struct pd_span nm = pd_tree_name(t, cur);
		pos -= nm.len;
		memcpy(out + pos, nm.ptr, nm.len);
		out[--pos] = '/';
	}
	return len;
}

uint64_t pd_tree_descendants(const struct pd_tree *t, uint32_t idx)
{
	/* Iterative pre-order walk using the sibling and parent links. */
	uint64_t count = 0;
	uint32_t cur = pd_tree_node(t, idx)->first_child;
	while (cur != PD_NODE_NONE) {
		const struct pd_tnode *n = pd_tree_node(t, cur);
		count++;
		if (n->first_child != PD_NODE_NONE) {
			cur = n->first_child;
			continue;
		}
		while (cur != idx && pd_tree_node(t, cur)->next_sibling == PD_NODE_NONE)
			cur = pd_tree_node(t, cur)->parent;
		if (cur == idx)
			break;
		cur = pd_tree_node(t, cur)->next_sibling;
	}
	return count;
}

int pd_tree_create(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len,
		   struct pd_span data, uint32_t acl, int64_t owner, pd_zxid zxid, int64_t time_ms,
		   int32_t parent_cversion, size_t path_len, uint32_t *out)
{
	struct pd_tnode *p;
	int rc;
	PD_ASSERT(parent != PD_NODE_NONE);
	rc = tree_create_raw(t, parent, name, name_len, data, acl, owner, zxid, time_ms, out);
	if (rc != 0)
		return rc;
	p = pd_tree_node(t, parent);
	/* Raised, never lowered, so that replaying a txn twice is harmless;
	 * the comparison is modular because C wraps like ZooKeeper's int. */
	if ((int32_t)((uint32_t)parent_cversion - (uint32_t)p->cversion_creates) > 0)
		p->cversion_creates = parent_cversion;
	if (zxid > p->pzxid)
		p->pzxid = zxid;
	t->data_size_approx += path_len + (data.is_null ? 0 : data.len);
	return 0;
}

void pd_tree_delete(struct pd_tree *t, uint32_t idx, pd_zxid zxid, size_t path_len)
{
	struct pd_tnode *n = pd_tree_node(t, idx);
	struct pd_tnode *p;
	struct pd_span data = pd_tree_data(t, idx);
	struct pd_tmeta m;
	PD_ASSERT(idx != PD_NODE_ROOT);
	PD_ASSERT(n->num_children == 0);
	pd_tree_meta(t, idx, &m);
	t->data_size_approx -= path_len + (data.is_null ? 0 : data.len);
	if (pd_owner_is_container(m.owner) || pd_owner_is_ttl(m.owner))
		tree_reap_remove(t, idx);
	tree_index_remove(t, idx);
	tree_unlink_child(t, idx);
	p = pd_tree_node(t, n->parent);
	if (zxid > p->pzxid)
		p->pzxid = zxid;
	pd_acl_unref(t->acls, m.acl);
	tree_blob_free(t, n->blob);
	tree_slot_free(t, idx);
	t->node_count--;
}

int pd_tree_set_data(struct pd_tree *t, uint32_t idx, struct pd_span data, int32_t version,
		     pd_zxid zxid, int64_t time_ms)
{
	struct pd_span old = pd_tree_data(t, idx);
	uint64_t old_len = old.is_null ? 0 : old.len;
	struct pd_tmeta m;
	int rc;
	pd_tree_meta(t, idx, &m);
	m.version = version;
	if (zxid > m.mzxid)
		m.mzxid = zxid;
	m.mtime = time_ms;
	rc = tree_blob_replace(t, idx, &m, data);
	if (rc != 0)
		return rc;
	t->data_size_approx += (data.is_null ? 0 : data.len);
	t->data_size_approx -= old_len;
	return 0;
}

int pd_tree_set_acl(struct pd_tree *t, uint32_t idx, uint32_t acl, int32_t aversion)
{
	struct pd_tmeta m;
	uint32_t old;
	int rc;
	pd_tree_meta(t, idx, &m);
	old = m.acl;
	m.acl = acl;
	m.aversion = aversion;
	rc = tree_blob_replace(t, idx, &m, pd_tree_data(t, idx));
	if (rc != 0)
		return rc;
	pd_acl_unref(t->acls, old);
	return 0;
}

int pd_tree_restore(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len, struct pd_span data,
		    const struct pd_tmeta *m, int64_t pzxid, int32_t cversion_creates, size_t path_len, uint32_t *out)
{
	uint32_t idx;
	struct pd_tnode *n;
	int rc;
	if (m->mzxid < m->czxid)
		return PD_EPROTO;
	/* Only the nodes pd_tree_init made can exist already, and only their
	 * children need a lookup: the rest of the tree arrives parent first,
	 * each node once. */
	if (parent == PD_NODE_NONE)
		idx = PD_NODE_ROOT;
	else if (parent < TREE_INIT_NODES)
		idx = pd_tree_child(t, parent, name, name_len);
	else
		idx = PD_NODE_NONE;
	if (idx != PD_NODE_NONE) {
		/* the root and the /zookeeper nodes exist from pd_tree_init */
		struct pd_tmeta old;
		struct pd_span old_data = pd_tree_data(t, idx);
		pd_tree_meta(t, idx, &old);
		if (old.owner != 0 || m->owner != 0)
			return PD_EPROTO; /* only plain nodes are ever overwritten */
		rc = tree_blob_replace(t, idx, m, data);
		if (rc != 0)
			return rc;
		pd_acl_unref(t->acls, old.acl);
		t->data_size_approx += (data.is_null ? 0 : data.len);
		t->data_size_approx -= old_data.is_null ? 0 : old_data.len;
	} else {
		rc = tree_create_meta(t, parent, name, name_len, data, m, &idx);
		if (rc != 0)
			return rc;
		t->data_size_approx += path_len + (data.is_null ? 0 : data.len);
	}
	n = pd_tree_node(t, idx);
	n->pzxid = pzxid;
	n->cversion_creates = cversion_creates;
	*out = idx;
	return 0;
}

int pd_tree_reserve(struct pd_tree *t, uint64_t nodes)
{
	while ((uint64_t)nodes * 4 > (uint64_t)t->index_cap * 3) {
		int rc;
		if (t->index_cap >= (1u << 31))
			return PD_ENOMEM;
		rc = tree_index_grow(t);
		if (rc != 0)
			return rc;
	}
	return 0;
}
