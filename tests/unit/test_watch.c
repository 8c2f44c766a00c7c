/* test_watch.c: the watch registry (core/watch.h, wire-protocol.md §9). */
#include "test_util.h"

#include "err.h"
#include "proto.h"
#include "watch.h"

struct wfix {
	struct tu_alloc a;
	struct pd_mem mem;
	struct pd_watch_table w;
};

static void wfix_init(struct wfix *f)
{
	pd_mem_init(&f->mem, tu_allocator(&f->a), 0);
	pd_watch_init(&f->w, &f->mem);
}

static void wfix_done(struct wfix *f)
{
	pd_watch_free(&f->w);
	assert_int_equal(f->mem.used_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
}

static void add(struct wfix *f, uint32_t conn, const char *path, uint8_t kinds)
{
	assert_int_equal(pd_watch_add(&f->w, conn, path, strlen(path), kinds), 0);
}

/* Triggers and returns the fired connections as a string like "1,5" ("" for none). */
static const char *fire(struct wfix *f, const char *path, int event)
{
	static char out[256];
	size_t n = 0;
	uint32_t i;
	assert_int_equal(pd_watch_trigger(&f->w, path, strlen(path), event), 0);
	out[0] = '\0';
	for (i = 0; i < f->w.fire_count; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u", i ? "," : "", f->w.fire[i]);
	return out;
}

static void test_one_shot_data_watch(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 1, "/a", PD_WATCH_DATA);
	assert_int_equal(f.w.count_data, 1);
	/* a child change of /a is not a data event */
	assert_string_equal(fire(&f, "/a", PD_WEV_CHILDREN_CHANGED), "");
	assert_int_equal(f.w.count_data, 1);
	assert_string_equal(fire(&f, "/a", PD_WEV_DATA_CHANGED), "1");
	/* consumed: it fires once */
	assert_string_equal(fire(&f, "/a", PD_WEV_DATA_CHANGED), "");
	assert_int_equal(f.w.count_data, 0);
	assert_int_equal(f.w.by_hash.count, 0);
	assert_int_equal(f.w.path_bytes, 0);
	/* an exists-style watch on a missing node fires NodeCreated, then NodeDeleted needs a new one */
	add(&f, 1, "/b", PD_WATCH_DATA);
	assert_string_equal(fire(&f, "/b", PD_WEV_CREATED), "1");
	assert_string_equal(fire(&f, "/b", PD_WEV_DELETED), "");
	add(&f, 1, "/b", PD_WATCH_DATA);
	assert_string_equal(fire(&f, "/b", PD_WEV_DELETED), "1");
	/* other paths are not affected */
	add(&f, 1, "/c", PD_WATCH_DATA);
	assert_string_equal(fire(&f, "/cc", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/c/d", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/", PD_WEV_DATA_CHANGED), "");
	assert_int_equal(f.w.count_data, 1);
	wfix_done(&f);
}

static void test_one_shot_child_watch(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 2, "/p", PD_WATCH_CHILD);
	assert_string_equal(fire(&f, "/p", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/p", PD_WEV_CREATED), "");
	assert_int_equal(f.w.count_child, 1);
	assert_string_equal(fire(&f, "/p", PD_WEV_CHILDREN_CHANGED), "2");
	assert_string_equal(fire(&f, "/p", PD_WEV_CHILDREN_CHANGED), "");
	assert_int_equal(f.w.count_child, 0);
	/* a child watch also sees the node's own deletion */
	add(&f, 2, "/p", PD_WATCH_CHILD);
	assert_string_equal(fire(&f, "/p", PD_WEV_DELETED), "2");
	assert_int_equal(f.w.count_child, 0);
	wfix_done(&f);
}

static void test_delete_fires_once_per_connection(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 3, "/d", PD_WATCH_DATA);
	add(&f, 3, "/d", PD_WATCH_CHILD);
	add(&f, 3, "/d", PD_WATCH_DATA); /* twice the same kind: one registration */
	assert_int_equal(f.w.count_data, 1);
	assert_int_equal(f.w.count_child, 1);
	assert_string_equal(fire(&f, "/d", PD_WEV_DELETED), "3");
	assert_int_equal(f.w.count_data, 0);
	assert_int_equal(f.w.count_child, 0);
	assert_null(pd_watch_conn_first(&f.w, 3));
	wfix_done(&f);
}

static void test_fire_list_sorted_unique(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 9, "/s", PD_WATCH_DATA);
	add(&f, 2, "/s", PD_WATCH_DATA | PD_WATCH_PERSIST);
	add(&f, 5, "/s", PD_WATCH_PERSIST);
	add(&f, 2, "/", PD_WATCH_RECURSIVE);
	add(&f, 700, "/s", PD_WATCH_DATA);
	assert_string_equal(fire(&f, "/s", PD_WEV_DATA_CHANGED), "2,5,9,700");
	/* the one-shots are gone, the persistent ones stay */
	assert_string_equal(fire(&f, "/s", PD_WEV_DATA_CHANGED), "2,5");
	wfix_done(&f);
}

static void test_persistent_watch(void **state)
{
	struct wfix f;
	int i;
	(void)state;
	wfix_init(&f);
	add(&f, 1, "/p", PD_WATCH_PERSIST);
	assert_int_equal(f.w.count_persistent, 1);
	assert_int_equal(f.w.count_recursive, 0);
	for (i = 0; i < 3; i++) {
		assert_string_equal(fire(&f, "/p", PD_WEV_CREATED), "1");
		assert_string_equal(fire(&f, "/p", PD_WEV_DATA_CHANGED), "1");
		assert_string_equal(fire(&f, "/p", PD_WEV_CHILDREN_CHANGED), "1");
		assert_string_equal(fire(&f, "/p", PD_WEV_DELETED), "1");
	}
	/* not for descendants */
	assert_string_equal(fire(&f, "/p/c", PD_WEV_CREATED), "");
	assert_string_equal(fire(&f, "/p/c", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/p/c", PD_WEV_CHILDREN_CHANGED), "");
	assert_int_equal(f.w.count_persistent, 1);
	wfix_done(&f);
}

static void test_recursive_watch(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 4, "/r", PD_WATCH_RECURSIVE);
	assert_int_equal(f.w.count_recursive, 1);
	assert_int_equal(f.w.count_persistent, 1);
	assert_string_equal(fire(&f, "/r", PD_WEV_CREATED), "4");
	assert_string_equal(fire(&f, "/r", PD_WEV_DATA_CHANGED), "4");
	assert_string_equal(fire(&f, "/r/a", PD_WEV_CREATED), "4");
	assert_string_equal(fire(&f, "/r/a/b/c", PD_WEV_DATA_CHANGED), "4");
	assert_string_equal(fire(&f, "/r/a/b/c", PD_WEV_DELETED), "4");
	/* never NodeChildrenChanged, on the path or below (wire) */
	assert_string_equal(fire(&f, "/r", PD_WEV_CHILDREN_CHANGED), "");
	assert_string_equal(fire(&f, "/r/a", PD_WEV_CHILDREN_CHANGED), "");
	/* a sibling sharing the prefix is not a descendant */
	assert_string_equal(fire(&f, "/rr", PD_WEV_CREATED), "");
	assert_string_equal(fire(&f, "/rr/x", PD_WEV_CREATED), "");
	assert_string_equal(fire(&f, "/", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/r", PD_WEV_DELETED), "4");
	assert_int_equal(f.w.count_recursive, 1); /* still registered */
	/* recursive on / sees everything */
	add(&f, 6, "/", PD_WATCH_RECURSIVE);
	assert_string_equal(fire(&f, "/x/y/z", PD_WEV_CREATED), "6");
	assert_string_equal(fire(&f, "/r/q", PD_WEV_CREATED), "4,6");
	assert_string_equal(fire(&f, "/", PD_WEV_DATA_CHANGED), "6");
	assert_string_equal(fire(&f, "/", PD_WEV_CHILDREN_CHANGED), "");
	wfix_done(&f);
}

static void test_one_event_per_connection_per_trigger(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 1, "/a/b", PD_WATCH_DATA | PD_WATCH_PERSIST);
	add(&f, 1, "/a", PD_WATCH_RECURSIVE);
	add(&f, 1, "/", PD_WATCH_RECURSIVE);
	add(&f, 2, "/a", PD_WATCH_RECURSIVE);
	assert_string_equal(fire(&f, "/a/b", PD_WEV_DATA_CHANGED), "1,2");
	assert_int_equal(f.w.fire_count, 2);
	/* the one-shot was consumed, the persistent registration kept */
	assert_int_equal(pd_watch_remove(&f.w, 1, "/a/b", 4, PD_WATCH_DATA, true), 0);
	assert_int_equal(pd_watch_remove(&f.w, 1, "/a/b", 4, PD_WATCH_PERSIST, true), PD_WATCH_PERSIST);
	assert_string_equal(fire(&f, "/a/b", PD_WEV_DATA_CHANGED), "1,2");
	wfix_done(&f);
}

static void test_standard_and_persistent_are_independent(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	/* a later standard watch must not turn the persistent one into a one-shot
	 * (the 3.8 quirk in wire-protocol.md §9.4 is deliberately not copied) */
	add(&f, 1, "/i", PD_WATCH_PERSIST);
	add(&f, 1, "/i", PD_WATCH_DATA);
	assert_string_equal(fire(&f, "/i", PD_WEV_DATA_CHANGED), "1");
	assert_string_equal(fire(&f, "/i", PD_WEV_DATA_CHANGED), "1");
	assert_string_equal(fire(&f, "/i", PD_WEV_DATA_CHANGED), "1");
	assert_int_equal(pd_watch_remove(&f.w, 1, "/i", 2, PD_WATCH_DATA, true), 0);
	assert_int_equal(f.w.count_persistent, 1);
	/* and the persistent one still sees child changes */
	assert_string_equal(fire(&f, "/i", PD_WEV_CHILDREN_CHANGED), "1");
	wfix_done(&f);
}

static void test_remove_and_check(void **state)
{
	struct wfix f;
	(void)state;
	wfix_init(&f);
	add(&f, 1, "/w", PD_WATCH_DATA | PD_WATCH_CHILD);
	add(&f, 2, "/w", PD_WATCH_DATA);
	/* checkWatches: a dry run reports without removing */
	assert_int_equal(pd_watch_remove(&f.w, 1, "/w", 2, PD_WATCH_DATA, true), PD_WATCH_DATA);
	assert_int_equal(f.w.count_data, 2);
	/* nothing to remove: other kind, other connection, other path */
	assert_int_equal(pd_watch_remove(&f.w, 2, "/w", 2, PD_WATCH_CHILD, false), 0);
	assert_int_equal(pd_watch_remove(&f.w, 3, "/w", 2, PD_WATCH_DATA, false), 0);
	assert_int_equal(pd_watch_remove(&f.w, 1, "/x", 2, PD_WATCH_DATA, false), 0);
	/* removing data leaves conn 1's child watch */
	assert_int_equal(pd_watch_remove(&f.w, 1, "/w", 2, PD_WATCH_DATA, false), PD_WATCH_DATA);
	assert_int_equal(f.w.count_data, 1);
	assert_int_equal(f.w.count_child, 1);
	assert_string_equal(fire(&f, "/w", PD_WEV_DATA_CHANGED), "2");
	assert_string_equal(fire(&f, "/w", PD_WEV_CHILDREN_CHANGED), "1");
	/* "any" also removes persistent registrations */
	add(&f, 1, "/w", PD_WATCH_PERSIST | PD_WATCH_RECURSIVE | PD_WATCH_DATA);
	assert_int_equal(pd_watch_remove(&f.w, 1, "/w", 2,
					 PD_WATCH_DATA | PD_WATCH_CHILD | PD_WATCH_PERSIST | PD_WATCH_RECURSIVE, false),
			 PD_WATCH_PERSIST | PD_WATCH_RECURSIVE | PD_WATCH_DATA);
	assert_int_equal(f.w.count_persistent, 0);
	assert_int_equal(f.w.count_recursive, 0);
	assert_string_equal(fire(&f, "/w/x", PD_WEV_CREATED), "");
	assert_int_equal(f.w.by_hash.count, 0);
	wfix_done(&f);
}

static void test_drop_conn(void **state)
{
	struct wfix f;
	char p[32];
	int i;
	(void)state;
	wfix_init(&f);
	for (i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "/d/%d", i);
		add(&f, 7, p, PD_WATCH_DATA);
		add(&f, 8, p, PD_WATCH_CHILD);
	}
	add(&f, 7, "/", PD_WATCH_RECURSIVE);
	{
		int n = 0;
		struct pd_watcher *r;
		for (r = pd_watch_conn_first(&f.w, 7); r != NULL; r = r->conn_next)
			n++;
		assert_int_equal(n, 101);
	}
	pd_watch_drop_conn(&f.w, 7);
	assert_null(pd_watch_conn_first(&f.w, 7));
	assert_int_equal(f.w.count_data, 0);
	assert_int_equal(f.w.count_recursive, 0);
	assert_int_equal(f.w.count_child, 100);
	assert_string_equal(fire(&f, "/d/5", PD_WEV_DATA_CHANGED), "");
	assert_string_equal(fire(&f, "/d/5", PD_WEV_CHILDREN_CHANGED), "8");
	pd_watch_drop_conn(&f.w, 8);
	assert_int_equal(f.w.count_child, 0);
	assert_int_equal(f.w.by_hash.count, 0);
	assert_int_equal(f.w.path_bytes, 0);
	/* dropping an unknown connection is harmless */
	pd_watch_drop_conn(&f.w, 12345);
	wfix_done(&f);
}

static void test_many_paths_and_iteration(void **state)
{
	struct wfix f;
	enum { N = 2000 };
	char p[32];
	uint32_t pos = 0;
	struct pd_watch_path *chain = NULL, *wp;
	int i, paths = 0;
	uint64_t bytes = 0;
	(void)state;
	wfix_init(&f);
	for (i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/m/%d", i);
		add(&f, (uint32_t)(i % 3), p, PD_WATCH_DATA);
		add(&f, (uint32_t)(i % 3 + 1), p, PD_WATCH_DATA);
		bytes += strlen(p);
	}
	assert_int_equal(f.w.path_bytes, bytes);
	while ((wp = pd_watch_next_path(&f.w, &pos, &chain)) != NULL) {
		int watchers = 0;
		struct pd_watcher *r;
		for (r = wp->watchers; r != NULL; r = r->path_next)
			watchers++;
		assert_int_equal(watchers, 2);
		paths++;
	}
	assert_int_equal(paths, N);
	for (i = 0; i < N; i++) {
		char want[16];
		snprintf(p, sizeof(p), "/m/%d", i);
		snprintf(want, sizeof(want), "%d,%d", i % 3, i % 3 + 1);
		assert_string_equal(fire(&f, p, PD_WEV_DATA_CHANGED), want);
	}
	assert_int_equal(f.w.count_data, 0);
	assert_int_equal(f.w.by_hash.count, 0);
	wfix_done(&f);
}

static void test_out_of_memory_leaves_table_consistent(void **state)
{
	struct wfix f;
	int i, fails = 0;
	char p[32];
	(void)state;
	wfix_init(&f);
	/* fail each allocation of an add in turn */
	for (i = 1; i <= 6; i++) {
		int rc;
		snprintf(p, sizeof(p), "/oom/%d", i);
		f.mem.fail_countdown = (uint64_t)i;
		rc = pd_watch_add(&f.w, (uint32_t)i, p, strlen(p), PD_WATCH_DATA);
		f.mem.fail_countdown = 0;
		if (rc != 0) {
			assert_int_equal(rc, PD_ENOMEM);
			fails++;
			assert_string_equal(fire(&f, p, PD_WEV_DATA_CHANGED), "");
		} else {
			char want[8];
			snprintf(want, sizeof(want), "%d", i);
			assert_string_equal(fire(&f, p, PD_WEV_DATA_CHANGED), want);
		}
	}
	assert_true(fails > 0);
	assert_int_equal(f.w.count_data, 0);
	assert_int_equal(f.w.by_hash.count, 0);
	assert_int_equal(f.w.path_bytes, 0);
	wfix_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_shot_data_watch),
		cmocka_unit_test(test_one_shot_child_watch),
		cmocka_unit_test(test_delete_fires_once_per_connection),
		cmocka_unit_test(test_fire_list_sorted_unique),
		cmocka_unit_test(test_persistent_watch),
		cmocka_unit_test(test_recursive_watch),
		cmocka_unit_test(test_one_event_per_connection_per_trigger),
		cmocka_unit_test(test_standard_and_persistent_are_independent),
		cmocka_unit_test(test_remove_and_check),
		cmocka_unit_test(test_drop_conn),
		cmocka_unit_test(test_many_paths_and_iteration),
		cmocka_unit_test(test_out_of_memory_leaves_table_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
