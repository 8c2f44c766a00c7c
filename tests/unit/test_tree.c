/* test_tree.c: the znode tree (core/tree.h) and its stat semantics (wire-protocol.md §6). */
#include "test_util.h"

#include "acl.h"
#include "err.h"
#include "prng.h"
#include "tree.h"

struct tfix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_acl_table acls;
	struct pd_tree t;
};

static void tfix_init(struct tfix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	assert_int_equal(pd_acl_table_init(&f->acls, &f->mem), 0);
	assert_int_equal(pd_tree_init(&f->t, &f->mem, &f->acls), 0);
}

static void tfix_done(struct tfix *f)
{
	pd_tree_free(&f->t);
	pd_acl_table_free(&f->acls);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

static uint32_t lookup(const struct tfix *f, const char *path)
{
	return pd_tree_lookup(&f->t, path, strlen(path));
}

static struct pd_span span_of(const char *s)
{
	struct pd_span sp;
	sp.ptr = (const uint8_t *)s;
	sp.len = s != NULL ? (uint32_t)strlen(s) : 0;
	sp.is_null = s == NULL;
	return sp;
}

/* Creates path (its parent must exist) as a txn would: parent C + 1. */
static uint32_t mk(struct tfix *f, const char *path, const char *data, int64_t owner, pd_zxid zxid, int64_t time_ms)
{
	const char *slash = strrchr(path, '/');
	char parent_path[512];
	uint32_t parent, idx = PD_NODE_NONE;
	size_t plen;
	assert_non_null(slash);
	plen = slash == path ? 1 : (size_t)(slash - path);
	memcpy(parent_path, path, plen);
	parent_path[plen] = '\0';
	parent = lookup(f, parent_path);
	assert_int_not_equal(parent, PD_NODE_NONE);
	pd_acl_ref(&f->acls, PD_ACL_OPEN);
	assert_int_equal(pd_tree_create(&f->t, parent, slash + 1, strlen(slash + 1), span_of(data), PD_ACL_OPEN, owner,
					zxid, time_ms, pd_tree_node(&f->t, parent)->cversion_creates + 1, strlen(path),
					&idx),
			 0);
	assert_int_not_equal(idx, PD_NODE_NONE);
	return idx;
}

static void rm(struct tfix *f, const char *path, pd_zxid zxid)
{
	uint32_t idx = lookup(f, path);
	assert_int_not_equal(idx, PD_NODE_NONE);
	pd_tree_delete(&f->t, idx, zxid, strlen(path));
	assert_int_equal(lookup(f, path), PD_NODE_NONE);
}

static struct pd_stat stat_of(const struct tfix *f, const char *path)
{
	struct pd_stat st;
	uint32_t idx = lookup(f, path);
	assert_int_not_equal(idx, PD_NODE_NONE);
	pd_tree_stat(&f->t, idx, &st);
	return st;
}

/* --- built-in nodes --- */

static void test_builtin_nodes(void **state)
{
	struct tfix f;
	struct pd_stat st;
	const char *paths[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"};
	size_t i;
	(void)state;
	tfix_init(&f);
	assert_int_equal(f.t.node_count, 4);
	assert_int_equal(lookup(&f, "/"), PD_NODE_ROOT);
	for (i = 0; i < PD_ARRAY_LEN(paths); i++) {
		uint32_t idx = lookup(&f, paths[i]);
		struct pd_span d;
		assert_int_not_equal(idx, PD_NODE_NONE);
		d = pd_tree_data(&f.t, idx);
		assert_false(d.is_null); /* empty, not null */
		assert_int_equal(d.len, 0);
		pd_tree_stat(&f.t, idx, &st);
		assert_true(st.czxid == 0 && st.mzxid == 0 && st.ctime == 0 && st.mtime == 0);
		assert_int_equal(st.version, 0);
		assert_true(st.ephemeral_owner == 0);
		assert_int_equal(st.data_length, 0);
		assert_true(st.pzxid == 0);
	}
	/* / has one child that was never counted as a create: 2*0 - 1 */
	st = stat_of(&f, "/");
	assert_int_equal(st.num_children, 1);
	assert_int_equal(st.cversion, -1);
	assert_int_equal(st.aversion, 0);
	/* /zookeeper: numChildren 2, cversion -2 (wire) */
	st = stat_of(&f, "/zookeeper");
	assert_int_equal(st.num_children, 2);
	assert_int_equal(st.cversion, -2);
	assert_int_equal(st.aversion, 0);
	/* /zookeeper/quota: all zeros */
	st = stat_of(&f, "/zookeeper/quota");
	assert_int_equal(st.num_children, 0);
	assert_int_equal(st.cversion, 0);
	assert_int_equal(st.aversion, 0);
	/* /zookeeper/config: aversion -1, world:anyone READ */
	st = stat_of(&f, "/zookeeper/config");
	assert_int_equal(st.aversion, -1);
	assert_int_equal(st.cversion, 0);
	assert_int_equal(pd_tree_acl(&f.t, lookup(&f, "/zookeeper/config")), PD_ACL_READ_ONLY_WORLD);
	assert_int_equal(pd_tree_acl(&f.t, lookup(&f, "/zookeeper")), PD_ACL_OPEN);
	assert_int_equal(pd_tree_acl(&f.t, PD_NODE_ROOT), PD_ACL_OPEN);
	/* approximate data size counts the built-in paths: 1 + 10 + 16 + 17 */
	assert_int_equal(f.t.data_size_approx, 44);
	assert_int_equal(pd_tree_descendants(&f.t, PD_NODE_ROOT), 3);
	tfix_done(&f);
}

/* --- create / set / delete and the stat --- */

static void test_create_stat(void **state)
{
	struct tfix f;
	struct pd_stat st;
	uint32_t idx;
	struct pd_span d;
	(void)state;
	tfix_init(&f);
	idx = mk(&f, "/a", "xy", 0, 5, 1000);
	assert_int_equal(lookup(&f, "/a"), idx);
	assert_int_equal(pd_tree_node(&f.t, idx)->parent, PD_NODE_ROOT);
	d = pd_tree_data(&f.t, idx);
	assert_int_equal(d.len, 2);
	assert_memory_equal(d.ptr, "xy", 2);
	pd_tree_stat(&f.t, idx, &st);
	assert_true(st.czxid == 5 && st.mzxid == 5 && st.pzxid == 5);
	assert_true(st.ctime == 1000 && st.mtime == 1000);
	assert_int_equal(st.version, 0);
	assert_int_equal(st.cversion, 0);
	assert_int_equal(st.aversion, 0);
	assert_true(st.ephemeral_owner == 0);
	assert_int_equal(st.data_length, 2);
	assert_int_equal(st.num_children, 0);
	/* the parent: one more child, C = 1, pzxid raised to the create's zxid */
	st = stat_of(&f, "/");
	assert_int_equal(st.num_children, 2);
	assert_int_equal(st.cversion, 0); /* 2*1 - 2 */
	assert_true(st.pzxid == 5);
	assert_true(st.mzxid == 0); /* child changes do not touch mzxid */
	assert_int_equal(f.t.node_count, 5);
	assert_int_equal(f.t.data_size_approx, 44 + 2 + 2);
	tfix_done(&f);
}

static void test_cversion_is_two_c_minus_children(void **state)
{
	struct tfix f;
	(void)state;
	tfix_init(&f);
	mk(&f, "/p3", NULL, 0, 1, 1);
	/* wire-protocol.md §6 example */
	mk(&f, "/p3/a", "", 0, 2, 2);
	assert_int_equal(stat_of(&f, "/p3").cversion, 1);
	rm(&f, "/p3/a", 3);
	assert_int_equal(stat_of(&f, "/p3").cversion, 2);
	assert_int_equal(pd_tree_node(&f.t, lookup(&f, "/p3"))->cversion_creates, 1); /* the next sequence number */
	mk(&f, "/p3/s-0000000001", "", 0, 4, 4);
	assert_int_equal(stat_of(&f, "/p3").cversion, 3);
	mk(&f, "/p3/b", "", 0, 5, 5);
	mk(&f, "/p3/c", "", 0, 6, 6);
	assert_int_equal(stat_of(&f, "/p3").num_children, 3);
	assert_int_equal(stat_of(&f, "/p3").cversion, 5); /* 3 creates... 4 creates + 1 delete */
	rm(&f, "/p3/b", 7);
	rm(&f, "/p3/c", 8);
	assert_int_equal(stat_of(&f, "/p3").cversion, 7);
	assert_int_equal(stat_of(&f, "/p3").num_children, 1);
	tfix_done(&f);
}

static void test_pzxid_only_raised(void **state)
{
	struct tfix f;
	uint32_t p;
	(void)state;
	tfix_init(&f);
	mk(&f, "/p", NULL, 0, 10, 1);
	mk(&f, "/p/a", NULL, 0, 20, 1);
	mk(&f, "/p/b", NULL, 0, 21, 1);
	assert_true(stat_of(&f, "/p").pzxid == 21);
	rm(&f, "/p/a", 30);
	assert_true(stat_of(&f, "/p").pzxid == 30);
	/* a replayed (older) delete never lowers pzxid */
	rm(&f, "/p/b", 25);
	assert_true(stat_of(&f, "/p").pzxid == 30);
	/* a replayed create with an older C does not lower C either */
	p = lookup(&f, "/p");
	pd_acl_ref(&f.acls, PD_ACL_OPEN);
	{
		uint32_t idx;
		assert_int_equal(pd_tree_create(&f.t, p, "old", 3, span_of(""), PD_ACL_OPEN, 0, 15, 1, 1, 6, &idx), 0);
	}
	assert_int_equal(pd_tree_node(&f.t, p)->cversion_creates, 2);
	assert_true(stat_of(&f, "/p").pzxid == 30);
	assert_true(stat_of(&f, "/p/old").czxid == 15);
	/* a newer C is taken as given (the txn carries the final value) */
	pd_acl_ref(&f.acls, PD_ACL_OPEN);
	{
		uint32_t idx;
		assert_int_equal(pd_tree_create(&f.t, p, "new", 3, span_of(""), PD_ACL_OPEN, 0, 40, 1, 9, 6, &idx), 0);
	}
	assert_int_equal(pd_tree_node(&f.t, p)->cversion_creates, 9);
	assert_int_equal(stat_of(&f, "/p").cversion, 16); /* 2*9 - 2 */
	assert_true(stat_of(&f, "/p").pzxid == 40);
	tfix_done(&f);
}

static void test_set_data_null_and_empty(void **state)
{
	struct tfix f;
	uint32_t idx;
	struct pd_stat st;
	struct pd_span d;
	(void)state;
	tfix_init(&f);
	idx = mk(&f, "/d", "hello", 0, 3, 100);
	assert_int_equal(pd_tree_set_data(&f.t, idx, span_of("world!"), 1, 7, 200), 0);
	pd_tree_stat(&f.t, idx, &st);
	assert_true(st.czxid == 3 && st.ctime == 100); /* unchanged */
	assert_true(st.mzxid == 7 && st.mtime == 200);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.data_length, 6);
	assert_true(st.pzxid == 3); /* setData does not touch pzxid */
	assert_int_equal(f.t.data_size_approx, 44 + 2 + 6);
	/* null and empty are different values */
	assert_int_equal(pd_tree_set_data(&f.t, idx, span_of(NULL), 2, 8, 300), 0);
	d = pd_tree_data(&f.t, idx);
	assert_true(d.is_null);
	pd_tree_stat(&f.t, idx, &st);
	assert_int_equal(st.data_length, 0);
	assert_int_equal(st.version, 2);
	assert_int_equal(pd_tree_set_data(&f.t, idx, span_of(""), 3, 9, 400), 0);
	d = pd_tree_data(&f.t, idx);
	assert_false(d.is_null);
	assert_int_equal(d.len, 0);
	/* the name survives every data change */
	d = pd_tree_name(&f.t, idx);
	assert_int_equal(d.len, 1);
	assert_int_equal(d.ptr[0], 'd');
	assert_int_equal(lookup(&f, "/d"), idx);
	/* large data, so the blob header needs multi-byte varints */
	{
		static char big[70000];
		struct pd_span s;
		memset(big, 'q', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(pd_tree_set_data(&f.t, idx, span_of(big), 4, 10, 500), 0);
		s = pd_tree_data(&f.t, idx);
		assert_int_equal(s.len, sizeof(big) - 1);
		assert_int_equal(s.ptr[s.len - 1], 'q');
		assert_int_equal(pd_tree_name(&f.t, idx).len, 1);
	}
	rm(&f, "/d", 11);
	assert_int_equal(f.t.data_size_approx, 44);
	tfix_done(&f);
}

static void test_owner_visibility(void **state)
{
	struct tfix f;
	int64_t sess = 0x0100000dbe780020LL;
	int64_t ttl_owner = PD_OWNER_TTL_MASK | 5000;
	(void)state;
	tfix_init(&f);
	mk(&f, "/e", NULL, sess, 2, 1);
	mk(&f, "/c", NULL, PD_OWNER_CONTAINER, 3, 1);
	mk(&f, "/t", NULL, ttl_owner, 4, 1);
	assert_true(stat_of(&f, "/e").ephemeral_owner == sess);
	/* containers and TTL nodes show ephemeralOwner 0 (wire) */
	assert_true(stat_of(&f, "/c").ephemeral_owner == 0);
	assert_true(stat_of(&f, "/t").ephemeral_owner == 0);
	assert_true(pd_owner_is_session(sess));
	assert_false(pd_owner_is_session(0));
	assert_false(pd_owner_is_session(PD_OWNER_CONTAINER));
	assert_false(pd_owner_is_session(ttl_owner));
	assert_true(pd_owner_ttl(ttl_owner) == 5000);
	/* the reaper's list holds exactly the container and the TTL node */
	assert_int_equal(f.t.reapable_count, 2);
	rm(&f, "/c", 5);
	assert_int_equal(f.t.reapable_count, 1);
	assert_int_equal(f.t.reapable[0], lookup(&f, "/t"));
	assert_int_equal(pd_tree_aux(&f.t, lookup(&f, "/t")), 0);
	rm(&f, "/t", 6);
	assert_int_equal(f.t.reapable_count, 0);
	tfix_done(&f);
}

/* --- lookups and paths --- */

static void test_lookup_malformed_paths(void **state)
{
	struct tfix f;
	(void)state;
	tfix_init(&f);
	mk(&f, "/a", NULL, 0, 2, 1);
	mk(&f, "/a/b", NULL, 0, 3, 1);
	assert_int_not_equal(lookup(&f, "/a/b"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/a//b"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/a/"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/a/b/"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "//a"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "//"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, ""), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "a"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "a/b"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/b"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/a/bc"), PD_NODE_NONE);
	assert_int_equal(lookup(&f, "/ab"), PD_NODE_NONE);
	/* same name under different parents */
	mk(&f, "/b", NULL, 0, 4, 1);
	mk(&f, "/b/b", NULL, 0, 5, 1);
	assert_int_not_equal(lookup(&f, "/b/b"), lookup(&f, "/a/b"));
	assert_int_equal(pd_tree_child(&f.t, lookup(&f, "/a"), "b", 1), lookup(&f, "/a/b"));
	assert_int_equal(pd_tree_child(&f.t, lookup(&f, "/a"), "c", 1), PD_NODE_NONE);
	tfix_done(&f);
}

static void test_path_reconstruction(void **state)
{
	struct tfix f;
	char out[64];
	uint32_t idx;
	(void)state;
	tfix_init(&f);
	mk(&f, "/alpha", NULL, 0, 2, 1);
	mk(&f, "/alpha/beta", NULL, 0, 3, 1);
	idx = mk(&f, "/alpha/beta/gamma", "g", 0, 4, 1);
	assert_int_equal(pd_tree_path(&f.t, idx, out, sizeof(out)), 17);
	assert_string_equal(out, "/alpha/beta/gamma");
	/* exactly big enough needs room for the NUL */
	assert_int_equal(pd_tree_path(&f.t, idx, out, 18), 17);
	assert_string_equal(out, "/alpha/beta/gamma");
	assert_int_equal(pd_tree_path(&f.t, idx, out, 17), 0);
	assert_int_equal(pd_tree_path(&f.t, PD_NODE_ROOT, out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	assert_int_equal(pd_tree_path(&f.t, lookup(&f, "/zookeeper/config"), out, sizeof(out)), 17);
	assert_string_equal(out, "/zookeeper/config");
	{
		struct pd_span nm = pd_tree_name(&f.t, idx);
		assert_int_equal(nm.len, 5);
		assert_memory_equal(nm.ptr, "gamma", 5);
	}
	tfix_done(&f);
}

static void test_descendants(void **state)
{
	struct tfix f;
	(void)state;
	tfix_init(&f);
	mk(&f, "/a", NULL, 0, 2, 1);
	mk(&f, "/a/b", NULL, 0, 3, 1);
	mk(&f, "/a/b/c", NULL, 0, 4, 1);
	mk(&f, "/a/b/c/d", NULL, 0, 5, 1);
	mk(&f, "/a/e", NULL, 0, 6, 1);
	mk(&f, "/a/f", NULL, 0, 7, 1);
	mk(&f, "/a/f/g", NULL, 0, 8, 1);
	mk(&f, "/h", NULL, 0, 9, 1);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/a")), 6);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/a/b")), 2);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/a/e")), 0);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/a/f")), 1);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/h")), 0);
	/* for /, every znode except the root, including the built-ins */
	assert_int_equal(pd_tree_descendants(&f.t, PD_NODE_ROOT), 3 + 8);
	rm(&f, "/a/b/c/d", 10);
	assert_int_equal(pd_tree_descendants(&f.t, lookup(&f, "/a")), 5);
	tfix_done(&f);
}

static void test_many_children(void **state)
{
	struct tfix f;
	enum { N = 5000 };
	char p[64];
	uint32_t parent, child, count;
	int i;
	(void)state;
	tfix_init(&f);
	mk(&f, "/many", NULL, 0, 1, 1);
	for (i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/many/child-%d", i);
		mk(&f, p, NULL, 0, 2 + i, 1);
	}
	parent = lookup(&f, "/many");
	assert_int_equal(pd_tree_node(&f.t, parent)->num_children, N);
	assert_int_equal(stat_of(&f, "/many").cversion, N);
	for (i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/many/child-%d", i);
		assert_int_not_equal(lookup(&f, p), PD_NODE_NONE);
	}
	for (i = 0; i < N; i += 2) {
		snprintf(p, sizeof(p), "/many/child-%d", i);
		rm(&f, p, 100000 + i);
	}
	assert_int_equal(pd_tree_node(&f.t, parent)->num_children, N / 2);
	for (i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/many/child-%d", i);
		if (i % 2 == 0)
			assert_int_equal(lookup(&f, p), PD_NODE_NONE);
		else
			assert_int_not_equal(lookup(&f, p), PD_NODE_NONE);
	}
	/* the sibling list holds exactly the live children, in creation order */
	count = 0;
	for (child = pd_tree_node(&f.t, parent)->first_child; child != PD_NODE_NONE;
	     child = pd_tree_node(&f.t, child)->next_sibling) {
		struct pd_span nm = pd_tree_name(&f.t, child);
		char want[32];
		snprintf(want, sizeof(want), "child-%u", 2 * count + 1);
		assert_int_equal(nm.len, strlen(want));
		assert_memory_equal(nm.ptr, want, nm.len);
		assert_int_equal(pd_tree_node(&f.t, child)->parent, parent);
		count++;
	}
	assert_int_equal(count, N / 2);
	assert_int_equal(pd_tree_descendants(&f.t, parent), N / 2);
	assert_int_equal(stat_of(&f, "/many").cversion, N + N / 2);
	tfix_done(&f);
}

/* 100 parents x 1000 children: index growth to 100k entries, then everything deleted, twice. */
static void create_all(struct tfix *f, int parents, int children, pd_zxid *zxid)
{
	char p[64];
	int i, j;
	for (i = 0; i < parents; i++) {
		snprintf(p, sizeof(p), "/p%d", i);
		mk(f, p, NULL, 0, ++*zxid, 1);
		for (j = 0; j < children; j++) {
			snprintf(p, sizeof(p), "/p%d/c%d", i, j);
			mk(f, p, "0123456789", 0, ++*zxid, 1);
		}
	}
}

static void delete_all(struct tfix *f, int parents, int children, pd_zxid *zxid)
{
	char p[64];
	int i, j;
	for (i = 0; i < parents; i++) {
		for (j = children - 1; j >= 0; j--) {
			snprintf(p, sizeof(p), "/p%d/c%d", i, j);
			rm(f, p, ++*zxid);
		}
		snprintf(p, sizeof(p), "/p%d", i);
		rm(f, p, ++*zxid);
	}
}

static void test_index_growth_and_memory_steady_state(void **state)
{
	struct tfix f;
	enum { P = 100, C = 1000 };
	pd_zxid zxid = 0;
	uint64_t blob_base, data_base, slab_base, used_full, used_empty;
	char p[64];
	int i, j;
	(void)state;
	tfix_init(&f);
	blob_base = f.t.blob_bytes;
	data_base = f.t.data_size_approx;
	slab_base = f.t.slab.bytes_in_use;
	create_all(&f, P, C, &zxid);
	assert_int_equal(f.t.node_count, 4 + P + P * C);
	assert_true(f.t.index_cap >= (f.t.node_count * 4) / 3);
	for (i = 0; i < P; i++)
		for (j = 0; j < C; j += 7) {
			uint32_t idx;
			char out[64];
			snprintf(p, sizeof(p), "/p%d/c%d", i, j);
			idx = lookup(&f, p);
			assert_int_not_equal(idx, PD_NODE_NONE);
			assert_int_equal(pd_tree_path(&f.t, idx, out, sizeof(out)), strlen(p));
			assert_string_equal(out, p);
		}
	assert_int_equal(pd_tree_descendants(&f.t, PD_NODE_ROOT), 3 + P + P * C);
	used_full = f.mem.used_bytes;
	delete_all(&f, P, C, &zxid);
	/* everything gone: counts and per-node bytes back to the baseline */
	assert_int_equal(f.t.node_count, 4);
	assert_int_equal(f.t.blob_bytes, blob_base);
	assert_int_equal(f.t.data_size_approx, data_base);
	assert_int_equal(pd_tree_node(&f.t, PD_NODE_ROOT)->num_children, 1);
	used_empty = f.mem.used_bytes;
	/* node blocks went back to the slab; its pages, the arena and the index
	 * are kept, so a second identical round reuses them (the zxids of the
	 * second round are larger, so a few blocks change size class: allow
	 * a page or two of slack) */
	assert_int_equal(f.t.slab.bytes_in_use, slab_base);
	assert_true(used_empty <= used_full);
	create_all(&f, P, C, &zxid);
	assert_true(f.mem.used_bytes <= used_full + 2 * PD_SLAB_PAGE_BYTES);
	delete_all(&f, P, C, &zxid);
	assert_int_equal(f.t.slab.bytes_in_use, slab_base);
	assert_int_equal(f.t.blob_bytes, blob_base);
	tfix_done(&f);
}

static void test_small_churn_returns_to_baseline(void **state)
{
	struct tfix f;
	uint64_t base, after_first = 0;
	char p[32];
	int round, i;
	(void)state;
	tfix_init(&f);
	base = f.t.slab.bytes_in_use;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 50; i++) {
			snprintf(p, sizeof(p), "/n%d", i);
			mk(&f, p, i % 2 ? NULL : "payload", i % 3 == 0 ? 0x0100000000000001LL : 0, 100 * round + i, 1);
		}
		assert_true(f.t.slab.bytes_in_use > base);
		if (round == 0)
			after_first = f.mem.used_bytes;
		/* later rounds reuse the blocks, slots and map entries of the first */
		assert_int_equal(f.mem.used_bytes, after_first);
		for (i = 0; i < 50; i++) {
			snprintf(p, sizeof(p), "/n%d", i);
			rm(&f, p, 100 * round + 50 + i);
		}
		assert_int_equal(f.t.slab.bytes_in_use, base);
		assert_int_equal(f.t.node_count, 4);
	}
	tfix_done(&f);
}

static void test_index_churn_against_reference(void **state)
{
	struct tfix f;
	enum { PARENTS = 8, NAMES = 3000, OPS = 60000 };
	static uint32_t ref[PARENTS][NAMES]; /* node index, or PD_NODE_NONE */
	struct pd_prng prng;
	uint32_t parent_idx[PARENTS];
	char p[64];
	int i, k, live = 0;
	pd_zxid zxid = 10;
	(void)state;
	tfix_init(&f);
	pd_prng_seed(&prng, 42);
	for (i = 0; i < PARENTS; i++) {
		snprintf(p, sizeof(p), "/q%d", i);
		parent_idx[i] = mk(&f, p, NULL, 0, ++zxid, 1);
		for (k = 0; k < NAMES; k++)
			ref[i][k] = PD_NODE_NONE;
	}
	for (int op = 0; op < OPS; op++) {
		int pi = (int)pd_prng_below(&prng, PARENTS);
		int ki = (int)pd_prng_below(&prng, NAMES);
		snprintf(p, sizeof(p), "/q%d/%d", pi, ki);
		if (ref[pi][ki] == PD_NODE_NONE) {
			ref[pi][ki] = mk(&f, p, NULL, 0, ++zxid, 1);
			live++;
		} else {
			rm(&f, p, ++zxid);
			ref[pi][ki] = PD_NODE_NONE;
			live--;
		}
		if (op % 10000 == 9999) {
			for (i = 0; i < PARENTS; i++) {
				for (k = 0; k < NAMES; k++) {
					char name[16];
					int n = snprintf(name, sizeof(name), "%d", k);
					assert_int_equal(pd_tree_child(&f.t, parent_idx[i], name, (size_t)n), ref[i][k]);
				}
			}
			assert_int_equal(f.t.node_count, 4 + PARENTS + live);
		}
	}
	tfix_done(&f);
}

static void test_delete_releases_acl_reference(void **state)
{
	struct tfix f;
	struct tb t = {.n = 0};
	uint32_t acl, idx;
	uint32_t live_before;
	(void)state;
	tfix_init(&f);
	live_before = f.acls.live_count;
	tb_i32(&t, 1);
	tb_i32(&t, 1);
	tb_str(&t, "digest");
	tb_str(&t, "u:h");
	assert_int_equal(pd_acl_intern(&f.acls, t.b, (uint32_t)t.n, &acl), 0); /* the node's reference */
	assert_int_equal(f.acls.live_count, live_before + 1);
	assert_int_equal(pd_tree_create(&f.t, PD_NODE_ROOT, "x", 1, span_of("1"), acl, 0, 2, 1, 1, 2, &idx), 0);
	assert_int_equal(pd_tree_acl(&f.t, idx), acl);
	/* setACL replaces the reference: the old list is dropped */
	pd_acl_ref(&f.acls, PD_ACL_READ_ONLY_WORLD);
	pd_tree_set_acl(&f.t, idx, PD_ACL_READ_ONLY_WORLD, 1);
	assert_int_equal(f.acls.live_count, live_before);
	assert_int_equal(stat_of(&f, "/x").aversion, 1);
	assert_int_equal(pd_acl_intern(&f.acls, t.b, (uint32_t)t.n, &acl), 0);
	pd_tree_set_acl(&f.t, idx, acl, 2);
	assert_int_equal(f.acls.live_count, live_before + 1);
	rm(&f, "/x", 3);
	assert_int_equal(f.acls.live_count, live_before);
	tfix_done(&f);
}

static void test_slot_reuse(void **state)
{
	struct tfix f;
	uint32_t a, b;
	(void)state;
	tfix_init(&f);
	a = mk(&f, "/a", NULL, 0, 2, 1);
	rm(&f, "/a", 3);
	b = mk(&f, "/b", NULL, 0, 4, 1);
	assert_int_equal(a, b); /* the freed slot is handed out again */
	assert_true(stat_of(&f, "/b").czxid == 4);
	assert_int_equal(stat_of(&f, "/b").version, 0);
	assert_int_equal(f.t.node_slots, 5);
	tfix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_nodes),
		cmocka_unit_test(test_create_stat),
		cmocka_unit_test(test_cversion_is_two_c_minus_children),
		cmocka_unit_test(test_pzxid_only_raised),
		cmocka_unit_test(test_set_data_null_and_empty),
		cmocka_unit_test(test_owner_visibility),
		cmocka_unit_test(test_lookup_malformed_paths),
		cmocka_unit_test(test_path_reconstruction),
		cmocka_unit_test(test_descendants),
		cmocka_unit_test(test_many_children),
		cmocka_unit_test(test_index_growth_and_memory_steady_state),
		cmocka_unit_test(test_small_churn_returns_to_baseline),
		cmocka_unit_test(test_index_churn_against_reference),
		cmocka_unit_test(test_delete_releases_acl_reference),
		cmocka_unit_test(test_slot_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
