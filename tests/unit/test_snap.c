/*
 * test_snap.c: the snapshot format (core/snap.h).
 *
 * A node is brought to a varied state through the step API (persistent,
 * ephemeral, sequential, container and TTL nodes, set data and ACLs,
 * deletes that leave child-creation counters behind, several sessions),
 * encoded in small pieces, loaded into a fresh node and compared field by
 * field with the original, through the tree itself.  Then the encoding is
 * damaged every way recovery must notice: every truncation, a flipped bit
 * at every byte, zero fill, a wrong checksum; each must be refused, and a
 * refused load must give back every byte it allocated.
 */
#include "node_harness.h"

#include "err.h"
#include "log.h"
#include "proto.h"
#include "server_int.h"
#include "snap.h"

static struct nh H;
static struct tb B;
static struct nh_reply R;

static int teardown(void **state)
{
	(void)state;
	nh_abandon(&H);
	return 0;
}

static int32_t create(uint32_t conn, const char *path, const char *data, int32_t flags)
{
	nh_body_create(&B, path, data, data != NULL ? strlen(data) : 0, flags);
	nh_call(&H, conn, 1, PD_OP_CREATE, &B, &R);
	return nh_frame_err(R.frames[R.count - 1]);
}

/* A node in a state that uses every field of the format. */
static struct tb_log LOG;

static void build_state(void)
{
	static const char cfg[] = "tickTime=2000\nextendedTypesEnabled=true\n";
	int i;
	nh_init(&H, cfg, 0x174440);
	free(LOG.p);
	memset(&LOG, 0, sizeof(LOG));
	H.log = &LOG;
	nh_connect(&H, 1, 30000, NULL);
	nh_connect(&H, 2, 12000, NULL);
	assert_int_equal(create(1, "/app", "config v1", 0), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(create(1, "/app/s-", "", PD_MODE_PERSISTENT_SEQUENTIAL), 0);
	nh_body_path_int(&B, "/app/s-0000000002", -1);
	nh_call(&H, 1, 2, PD_OP_DELETE, &B, &R);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	nh_body_set_data(&B, "/app", "config v2", 9, 0);
	nh_call(&H, 1, 3, PD_OP_SETDATA, &B, &R);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(create(1, "/app/eph1", "e", PD_MODE_EPHEMERAL), 0);
	assert_int_equal(create(2, "/app/eph2", NULL, PD_MODE_EPHEMERAL_SEQUENTIAL), 0);
	nh_body_create(&B, "/box", "", 0, PD_MODE_CONTAINER);
	nh_call(&H, 1, 4, PD_OP_CREATECONTAINER, &B, &R);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	assert_int_equal(create(1, "/box/item", "", 0), 0);
	/* a deep path and an empty-data node */
	assert_int_equal(create(1, "/a", NULL, 0), 0);
	assert_int_equal(create(1, "/a/b", "", 0), 0);
	assert_int_equal(create(1, "/a/b/c", "deep", 0), 0);
	/* a second ACL list (world:anyone READ) on one node */
	{
		B.n = 0;
		tb_str(&B, "/a/b");
		tb_i32(&B, 1);
		tb_i32(&B, PD_PERM_READ);
		tb_str(&B, "world");
		tb_str(&B, "anyone");
		tb_i32(&B, 0);
		nh_call(&H, 1, 5, PD_OP_SETACL, &B, &R);
		assert_int_equal(nh_frame_err(R.frames[0]), 0);
	}
	/* a multi that succeeds and one that fails (an error txn), a TTL node,
	 * a delete of a missing node (another error txn) */
	B.n = 0;
	tb_multi_create(&B, "/m1", "", 0);
	tb_multi_create(&B, "/m1/x", "", 0);
	tb_multi_header(&B, -1, true, -1);
	nh_call(&H, 1, 7, PD_OP_MULTI, &B, &R);
	B.n = 0;
	tb_multi_create(&B, "/m2", "", 0);
	tb_multi_header(&B, PD_OP_CHECK, false, -1);
	tb_str(&B, "/none");
	tb_i32(&B, -1);
	tb_multi_header(&B, -1, true, -1);
	nh_call(&H, 1, 8, PD_OP_MULTI, &B, &R);
	nh_body_create(&B, "/ttl", "t", 1, PD_MODE_PERSISTENT_WITH_TTL);
	tb_i64(&B, 600000);
	nh_call(&H, 1, 9, PD_OP_CREATETTL, &B, &R);
	assert_int_equal(nh_frame_err(R.frames[0]), 0);
	nh_body_path_int(&B, "/none", -1);
	nh_call(&H, 1, 10, PD_OP_DELETE, &B, &R);
	assert_int_equal(nh_frame_err(R.frames[0]), PD_ENONODE);
	/* a third session that ends: createSession and closeSession txns */
	nh_connect(&H, 3, 30000, NULL);
	assert_int_equal(create(3, "/eph3", "", PD_MODE_EPHEMERAL), 0);
	nh_call(&H, 3, 11, PD_OP_CLOSESESSION, NULL, &R);
	/* data with every byte value */
	{
		char bytes[256];
		for (i = 0; i < 256; i++)
			bytes[i] = (char)i;
		nh_body_create(&B, "/bin", bytes, sizeof(bytes), 0);
		nh_call(&H, 1, 6, PD_OP_CREATE, &B, &R);
		assert_int_equal(nh_frame_err(R.frames[0]), 0);
	}
}

static void encode(struct pd_node *node, struct pd_buf *out, size_t chunk)
{
	struct pd_snap_writer w;
	struct pd_buf piece;
	int rc;
	memset(&piece, 0, sizeof(piece));
	pd_snap_writer_init(&w, node);
	do {
		piece.len = 0;
		rc = pd_snap_writer_next(&w, &piece, chunk);
		assert_true(rc == 0 || rc == 1);
		assert_int_equal(pd_buf_append(pd_node_io_mem(node), out, piece.data, piece.len), 0);
	} while (rc == 1);
	pd_snap_writer_free(&w);
	pd_buf_free(pd_node_io_mem(node), &piece);
}

static struct pd_node *fresh_node(struct tu_alloc *a)
{
	struct pd_node *node = NULL;
	char errmsg[256];
	assert_int_equal(pd_node_create(&H.cfg, tu_allocator(a), 5000, 0x200000, &node, errmsg, sizeof(errmsg)), 0);
	return node;
}

/* Every node of a, found in b with the same fields. */
static void assert_same_trees(struct pd_node *a, struct pd_node *b)
{
	uint32_t i;
	char path[512];
	uint64_t seen = 0;
	assert_int_equal(a->tree.node_count, b->tree.node_count);
	assert_int_equal(a->tree.data_size_approx, b->tree.data_size_approx);
	for (i = 0; i < a->tree.node_slots; i++) {
		const struct pd_tnode *na = pd_tree_node(&a->tree, i), *nb;
		struct pd_tmeta ma, mb;
		struct pd_span da, db;
		const struct pd_acl_slot *aa, *ab;
		size_t len;
		uint32_t j;
		if (na->blob == NULL)
			continue;
		len = pd_tree_path(&a->tree, i, path, sizeof(path));
		assert_true(len > 0);
		j = pd_tree_lookup(&b->tree, path, len);
		assert_int_not_equal(j, PD_NODE_NONE);
		nb = pd_tree_node(&b->tree, j);
		pd_tree_meta(&a->tree, i, &ma);
		pd_tree_meta(&b->tree, j, &mb);
		assert_int_equal(ma.czxid, mb.czxid);
		assert_int_equal(ma.mzxid, mb.mzxid);
		assert_int_equal(ma.ctime, mb.ctime);
		assert_int_equal(ma.mtime, mb.mtime);
		assert_int_equal(ma.version, mb.version);
		assert_int_equal(ma.aversion, mb.aversion);
		assert_int_equal(ma.owner, mb.owner);
		assert_int_equal(na->pzxid, nb->pzxid);
		assert_int_equal(na->num_children, nb->num_children);
		assert_int_equal(na->cversion_creates, nb->cversion_creates);
		da = pd_tree_data(&a->tree, i);
		db = pd_tree_data(&b->tree, j);
		assert_int_equal(da.is_null, db.is_null);
		assert_int_equal(da.len, db.len);
		if (da.len > 0)
			assert_memory_equal(da.ptr, db.ptr, da.len);
		aa = pd_acl_get(&a->acls, ma.acl);
		ab = pd_acl_get(&b->acls, mb.acl);
		assert_int_equal(aa->len, ab->len);
		assert_memory_equal(aa->bytes, ab->bytes, aa->len);
		seen++;
	}
	assert_int_equal(seen, a->tree.node_count);
}

static void test_round_trip_keeps_every_field(void **state)
{
	struct pd_buf snap;
	struct tu_alloc a2;
	struct pd_node *copy;
	char errmsg[256];
	uint32_t pos = 0;
	struct pd_session *s;
	size_t chunk;
	(void)state;
	build_state();
	for (chunk = 1; chunk <= 4096; chunk *= 8) {
		memset(&snap, 0, sizeof(snap));
		encode(H.node, &snap, chunk);
		copy = fresh_node(&a2);
		assert_int_equal(pd_snap_load(copy, snap.data, snap.len, 5000, errmsg, sizeof(errmsg)), 0);
		assert_true(copy->last_zxid == H.node->last_zxid);
		assert_same_trees(H.node, copy);
		/* sessions, their timeouts, passwords and ephemerals */
		assert_int_equal(copy->sessions.by_id.count, H.node->sessions.by_id.count);
		assert_int_equal(copy->sessions.ephemeral_total, H.node->sessions.ephemeral_total);
		pos = 0;
		while ((s = pd_map64_next(&H.node->sessions.by_id, &pos, NULL)) != NULL) {
			struct pd_session *c = pd_session_get(&copy->sessions, s->id);
			assert_non_null(c);
			assert_int_equal(c->timeout_ms, s->timeout_ms);
			assert_memory_equal(c->passwd, s->passwd, PD_SESSION_PASSWD_BYTES);
			assert_int_equal(c->ephemeral_count, s->ephemeral_count);
		}
		/* the encoding is a function of the state: the copy encodes the same bytes */
		{
			struct pd_buf again;
			memset(&again, 0, sizeof(again));
			encode(copy, &again, 4096);
			assert_int_equal(again.len, snap.len);
			assert_memory_equal(again.data, snap.data, snap.len);
			pd_buf_free(pd_node_io_mem(copy), &again);
		}
		pd_node_destroy(copy);
		assert_int_equal(a2.live_blocks, 0);
		pd_buf_free(pd_node_io_mem(H.node), &snap);
	}
	nh_destroy(&H);
}

static int load_copy(const uint8_t *p, size_t len)
{
	struct tu_alloc a2;
	struct pd_node *copy = fresh_node(&a2);
	char errmsg[256] = "";
	int rc = pd_snap_load(copy, p, len, 5000, errmsg, sizeof(errmsg));
	if (rc != 0)
		assert_true(errmsg[0] != '\0');
	pd_node_destroy(copy);
	assert_int_equal(a2.live_blocks, 0);
	assert_int_equal(a2.live_bytes, 0);
	return rc;
}

static void test_damage_is_always_refused(void **state)
{
	struct pd_buf snap;
	uint8_t *bad;
	size_t i, n;
	int bit;
	(void)state;
	build_state();
	memset(&snap, 0, sizeof(snap));
	encode(H.node, &snap, 4096);
	n = snap.len;
	bad = malloc(n);
	assert_non_null(bad);
	assert_int_equal(load_copy(snap.data, n), 0);
	/* every truncation */
	for (i = 0; i < n; i++)
		assert_int_not_equal(load_copy(snap.data, i), 0);
	/* a flipped bit in every byte (a different bit each time) */
	for (i = 0; i < n; i++) {
		memcpy(bad, snap.data, n);
		bit = (int)(i % 8);
		bad[i] ^= (uint8_t)(1u << bit);
		assert_int_not_equal(load_copy(bad, n), 0);
	}
	/* zero fill from every 16th byte to the end (a preallocated tail) */
	for (i = 0; i < n; i += 16) {
		memcpy(bad, snap.data, n);
		memset(bad + i, 0, n - i);
		assert_int_not_equal(load_copy(bad, n), 0);
	}
	/* a wrong checksum, a valid file with trailing bytes */
	memcpy(bad, snap.data, n);
	bad[n - 1] ^= 0x01;
	assert_int_equal(load_copy(bad, n), PD_EPROTO);
	{
		uint8_t *longer = malloc(n + 1);
		assert_non_null(longer);
		memcpy(longer, snap.data, n);
		longer[n] = 0;
		assert_int_equal(load_copy(longer, n + 1), PD_EPROTO);
		free(longer);
	}
	free(bad);
	pd_buf_free(pd_node_io_mem(H.node), &snap);
	nh_destroy(&H);
}

static void test_names_and_recovery_plan(void **state)
{
	pd_zxid z = 0;
	const pd_zxid logs[] = {0x1, 0x500, 0x900};
	(void)state;
	assert_true(pd_snap_parse_name("snapshot.00000000000004d2", "snapshot", &z));
	assert_true(z == 0x4d2);
	assert_true(pd_snap_parse_name("log.0000000100000001", "log", &z));
	assert_true(z == 0x100000001ULL);
	assert_false(pd_snap_parse_name("snapshot.4d2", "snapshot", &z));
	assert_false(pd_snap_parse_name("snapshot.00000000000004D2", "snapshot", &z));
	assert_false(pd_snap_parse_name("snapshot.00000000000004d2.tmp", "snapshot", &z));
	assert_false(pd_snap_parse_name("log.00000000000004d2", "snapshot", &z));
	/* no snapshot: every log from the first */
	assert_int_equal(pd_recovery_first_log(logs, 3, 0), 0);
	/* a snapshot in the middle of the second file */
	assert_int_equal(pd_recovery_first_log(logs, 3, 0x600), 1);
	/* label + 1 starts the third file exactly */
	assert_int_equal(pd_recovery_first_log(logs, 3, 0x8ff), 2);
	assert_int_equal(pd_recovery_first_log(logs, 3, 0x900), 2);
	/* a snapshot older than every remaining log: a gap */
	assert_int_equal(pd_recovery_first_log(logs + 1, 2, 0x100), SIZE_MAX);
	/* no logs at all */
	assert_int_equal(pd_recovery_first_log(logs, 0, 0x100), 0);
}

static void test_log_replay_rebuilds_the_same_state(void **state)
{
	struct tu_alloc a2;
	struct pd_node *copy;
	size_t off = 0;
	uint64_t records = 0;
	(void)state;
	build_state();
	copy = fresh_node(&a2);
	while (off < LOG.len) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used;
		assert_int_equal(pd_log_next(LOG.p + off, LOG.len - off, &txn, &txn_len, &used), PD_LOG_RECORD);
		/* every prefix of a txn is refused, never applied half */
		if (records % 7 == 0) {
			uint32_t cut;
			for (cut = 0; cut < txn_len; cut++)
				assert_int_equal(pd_node_replay(copy, txn, cut, 5000, 0x200000), PD_EPROTO);
		}
		assert_int_equal(pd_node_replay(copy, txn, txn_len, 5000, 0x200000), 0);
		/* a second replay of the same txn is skipped */
		assert_int_equal(pd_node_replay(copy, txn, txn_len, 5000, 0x200000), 0);
		off += used;
		records++;
	}
	assert_true(records == (uint64_t)H.node->last_zxid);
	assert_true(copy->last_zxid == H.node->last_zxid);
	assert_same_trees(H.node, copy);
	assert_int_equal(copy->sessions.by_id.count, H.node->sessions.by_id.count);
	pd_node_destroy(copy);
	assert_int_equal(a2.live_blocks, 0);
	free(LOG.p);
	memset(&LOG, 0, sizeof(LOG));
	nh_destroy(&H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_round_trip_keeps_every_field, teardown),
		cmocka_unit_test_teardown(test_damage_is_always_refused, teardown),
		cmocka_unit_test(test_names_and_recovery_plan),
		cmocka_unit_test_teardown(test_log_replay_rebuilds_the_same_state, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
