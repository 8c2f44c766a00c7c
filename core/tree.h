/*
 * tree.h: the znode tree (ZooKeeper's DataTree role).
 *
 * Owns every znode: its stat, name, data and a reference to an interned ACL.
 * Nodes live in a chunked arena addressed by 32-bit indices; a node links to
 * its parent and siblings by index, and one open-addressing table maps
 * (parent index, name) to a node, so a znode costs a fixed record plus its
 * name and data, with no per-node path string (DESIGN §4, memory).
 *
 * The tree applies final values only: it never validates versions or ACLs;
 * prep.c does that before a transaction exists.  The child-creation counter
 * C is stored; the cversion clients see is 2*C - numChildren
 * (wire-protocol.md §6).  The index of the root is 0.
 */
#ifndef PD_TREE_H
#define PD_TREE_H

#include "acl.h"
#include "map.h"
#include "mem.h"
#include "proto.h"
#include "types.h"

#define PD_NODE_NONE UINT32_MAX
#define PD_NODE_ROOT 0u

#define PD_OWNER_CONTAINER ((int64_t)0x8000000000000000ULL)
#define PD_OWNER_TTL_MASK ((int64_t)0xff00000000000000ULL)

/*
 * A znode costs one 40-byte record plus one record block (and 4 to 8 bytes
 * of index).  The record holds what changes when children come and go; the
 * block, allocated from the tree's slab, holds what changes only with
 * setData or setACL, varint-encoded (czxid, mzxid-czxid, ctime,
 * mtime-ctime, version, aversion, ACL index, owner if any), then the name
 * and the data.  setData and setACL rewrite the block.
 */
struct pd_tnode {
	uint8_t *blob;
	int64_t pzxid;
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling;
	uint32_t prev_sibling; /* the first child's prev is the last child */
	uint32_t num_children;
	int32_t cversion_creates; /* C: successful child creates, never decremented */
};

/* The fields kept in a node's block. */
struct pd_tmeta {
	int64_t czxid;
	int64_t mzxid;
	int64_t ctime;
	int64_t mtime;
	int64_t owner; /* raw ephemeralOwner: session, container or TTL marker */
	int32_t version;
	int32_t aversion;
	uint32_t acl;
};

struct pd_tree {
	struct pd_mem *mem;
	struct pd_acl_table *acls;
	struct pd_slab slab; /* node blocks */
	struct pd_tnode **chunks;
	uint32_t chunk_count;
	uint32_t chunk_cap;
	uint32_t node_slots; /* slots handed out so far */
	uint32_t free_head;  /* free slot list through next_sibling */
	uint32_t node_count; /* live znodes */
	uint32_t *index;     /* (parent, name) -> node + 1; 0 = empty */
	uint32_t index_cap;
	uint64_t data_size_approx; /* sum of path lengths and data lengths, as ZooKeeper reports */
	uint64_t blob_bytes;
	/* aux values of owned nodes (position in the owner's ephemeral list or
	 * in the reap list), by node index */
	struct pd_map64 aux;
	/* containers and TTL nodes, for the reaper */
	uint32_t *reapable;
	uint32_t reapable_count;
	uint32_t reapable_cap;
};

#define PD_TREE_CHUNK_SHIFT 10
#define PD_TREE_CHUNK_NODES (1u << PD_TREE_CHUNK_SHIFT)

static inline struct pd_tnode *pd_tree_node(const struct pd_tree *t, uint32_t idx)
{
	return &t->chunks[idx >> PD_TREE_CHUNK_SHIFT][idx & (PD_TREE_CHUNK_NODES - 1)];
}

/* Creates /, /zookeeper, /zookeeper/quota and /zookeeper/config. */
int pd_tree_init(struct pd_tree *t, struct pd_mem *mem, struct pd_acl_table *acls);
void pd_tree_free(struct pd_tree *t);

uint32_t pd_tree_lookup(const struct pd_tree *t, const char *path, size_t len);
uint32_t pd_tree_child(const struct pd_tree *t, uint32_t parent, const char *name, size_t len);

struct pd_span pd_tree_name(const struct pd_tree *t, uint32_t idx);
struct pd_span pd_tree_data(const struct pd_tree *t, uint32_t idx);
void pd_tree_meta(const struct pd_tree *t, uint32_t idx, struct pd_tmeta *out);
uint32_t pd_tree_acl(const struct pd_tree *t, uint32_t idx);
int64_t pd_tree_owner(const struct pd_tree *t, uint32_t idx);
/* aux of a node that has an owner (ephemeral, container or TTL). */
uint32_t pd_tree_aux(const struct pd_tree *t, uint32_t idx);
int pd_tree_set_aux(struct pd_tree *t, uint32_t idx, uint32_t aux);
/* The stat a client sees. */
void pd_tree_stat(const struct pd_tree *t, uint32_t idx, struct pd_stat *out);
/* Length of the full path of idx. */
size_t pd_tree_path_len(const struct pd_tree *t, uint32_t idx);
/* Writes the full path of idx into out; returns its length or 0 if it does not fit. */
size_t pd_tree_path(const struct pd_tree *t, uint32_t idx, char *out, size_t size);
/* Number of descendants, not counting idx itself. */
uint64_t pd_tree_descendants(const struct pd_tree *t, uint32_t idx);

/* Creates a child of parent.  acl must already hold a reference for the
 * node.  parent_cversion is the parent's new C (carried in the txn). */
int pd_tree_create(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len,
		   struct pd_span data, uint32_t acl, int64_t owner, pd_zxid zxid, int64_t time_ms,
		   int32_t parent_cversion, size_t path_len, uint32_t *out);
/* Snapshot load: puts a node with exactly these fields under parent
 * (PD_NODE_NONE: the root), or overwrites one of the nodes pd_tree_init
 * made.  Children must come after their parent.  m->acl must already hold a
 * reference for the node.  Returns 0, PD_ENOMEM, or PD_EPROTO for fields
 * that cannot be (mzxid below czxid, a node restored twice). */
int pd_tree_restore(struct pd_tree *t, uint32_t parent, const char *name, size_t name_len, struct pd_span data,
		    const struct pd_tmeta *m, int64_t pzxid, int32_t cversion_creates, size_t path_len, uint32_t *out);
/* Makes room in the (parent, name) index for nodes znodes (snapshot load). */
int pd_tree_reserve(struct pd_tree *t, uint64_t nodes);
/* Deletes a leaf; drops its ACL reference. */
void pd_tree_delete(struct pd_tree *t, uint32_t idx, pd_zxid zxid, size_t path_len);
int pd_tree_set_data(struct pd_tree *t, uint32_t idx, struct pd_span data, int32_t version,
		     pd_zxid zxid, int64_t time_ms);
/* Replaces the ACL reference (acl already referenced for the node). */
int pd_tree_set_acl(struct pd_tree *t, uint32_t idx, uint32_t acl, int32_t aversion);

static inline bool pd_owner_is_container(int64_t owner)
{
	return owner == PD_OWNER_CONTAINER;
}

static inline bool pd_owner_is_ttl(int64_t owner)
{
	return (owner & PD_OWNER_TTL_MASK) == PD_OWNER_TTL_MASK;
}

static inline bool pd_owner_is_session(int64_t owner)
{
	return owner != 0 && !pd_owner_is_container(owner) && !pd_owner_is_ttl(owner);
}

static inline int64_t pd_owner_ttl(int64_t owner)
{
	return owner & 0xffffffffffLL;
}

#endif
