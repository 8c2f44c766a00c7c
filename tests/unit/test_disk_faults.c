/*
 * test_disk_faults.c: "fail the Nth write or sync" over the real log code
 * (net/disk.c, its I/O thread, real files in a temporary directory) driven
 * by a real node, for every N until a run sees no failure at all.
 *
 * Each run: recover an empty directory, open a session, create WRITES
 * znodes one request at a time, moving records to the log thread and
 * durability (or failure) back to the node exactly as net/server.c does,
 * with the Nth file creation, write or fdatasync failing (EIO, or ENOSPC on
 * odd runs).  After a failure the node refuses writes; the test probes the
 * log as the server does and goes on once it takes writes again.  Then the
 * directory is recovered into a fresh node, which must hold every znode
 * whose create was answered OK, and none whose create was refused.
 */
#include "node_harness.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "net/disk.h"
#include "proto.h"
#include "server_int.h"

#define WRITES 24
#define BURST 3

struct run {
	struct tu_alloc alloc;
	struct pd_config cfg;
	struct disk disk;
	struct pd_node *node;
	struct pd_effects fx;
	bool failed;          /* between LOG_FAILED and LOG_OK */
	int32_t result[WRITES + 2]; /* by xid: 1 = no answer yet */
	uint64_t now_ms;
};

static struct run RUN;

static void run_config(struct run *r, const char *dir)
{
	char text[512], errmsg[256];
	int n = snprintf(text, sizeof(text), "dataDir=%s\npreAllocSize=4\ntickTime=2000\n", dir);
	assert_int_equal(pd_config_parse(&r->cfg, text, (size_t)n, errmsg, sizeof(errmsg)), 0);
	assert_int_equal(pd_config_finish(&r->cfg, errmsg, sizeof(errmsg)), 0);
}

/* Runs one event and everything it leads to: log records go to the log
 * thread, its answers come back as events, until nothing is in flight. */
static void run_wait(struct run *r);

/* Runs one event; its log records go to the log thread (or wait for it). */
static void run_step_nowait(struct run *r, struct pd_event *ev)
{
	uint32_t i;
	ev->now_ms = r->now_ms;
	ev->wall_ms = 1700000000000;
	pd_effects_reset(&r->fx);
	assert_int_equal(pd_step(r->node, ev, &r->fx), 0);
	for (i = 0; i < r->fx.count; i++) {
		const struct pd_effect *e = &r->fx.items[i];
		if (e->type == PD_FX_LOG_APPEND)
			assert_int_equal(disk_append(&r->disk, pd_effect_bytes(&r->fx, e), e->len, e->zxid), 0);
		if (e->type == PD_FX_SEND) {
			/* one SEND may carry several reply frames */
			const uint8_t *p = pd_effect_bytes(&r->fx, e);
			size_t off = 0;
			while (off + 20 <= e->len) {
				int32_t xid = (int32_t)pd_be32(p + off + 4);
				if (xid >= 1 && xid <= WRITES)
					r->result[xid] = (int32_t)pd_be32(p + off + 16);
				off += 4 + pd_be32(p + off);
			}
		}
	}
	disk_kick(&r->disk);
}

static void run_step(struct run *r, struct pd_event *ev)
{
	run_step_nowait(r, ev);
	run_wait(r);
}

/* Moves durability (or failure) back to the node until nothing is in flight. */
static void run_wait(struct run *r)
{
	while (r->disk.busy || r->disk.fill.len > 0) {
		struct pollfd pfd = {r->disk.event_fd, POLLIN, 0};
		struct pd_event next;
		pd_zxid durable;
		int err;
		bool probe;
		if (!r->disk.busy) {
			disk_kick(&r->disk);
			continue;
		}
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		memset(&next, 0, sizeof(next));
		if (disk_completed(&r->disk, &durable, &err, &probe) != 0) {
			if (probe)
				return;
			next.type = PD_EV_LOG_FAILED;
			r->failed = true;
		} else if (probe) {
			next.type = PD_EV_LOG_OK;
			r->failed = false;
		} else if (durable != 0) {
			next.type = PD_EV_LOG_DURABLE;
			next.zxid = durable;
		} else {
			continue;
		}
		run_step(r, &next);
	}
}

static void run_data(struct run *r, const struct tb *t, bool wait)
{
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_DATA;
	ev.conn = 1;
	ev.data = t->b;
	ev.len = t->n;
	run_step_nowait(r, &ev);
	if (wait)
		run_wait(r);
}

static void run_recover(struct run *r)
{
	struct disk_recovery info;
	char errmsg[1024] = "";
	int rc = disk_recover(&r->disk, &r->cfg, tu_allocator(&r->alloc), &r->node, &info, errmsg, sizeof(errmsg));
	if (rc != 0)
		fail_msg("recovery: %s", errmsg);
}

static void run_close(struct run *r)
{
	disk_close(&r->disk);
	pd_effects_free(r->node, &r->fx);
	pd_node_destroy(r->node);
	r->node = NULL;
	assert_int_equal(r->alloc.live_blocks, 0);
}

/* One run with the Nth I/O operation failing; returns the operations done. */
static uint64_t run_once(const char *dir, uint64_t fail_at, int fail_errno, int *acked, int *n_acked, int *refused,
			 int *n_refused)
{
	struct run *r = &RUN;
	static struct tb t, body;
	char errmsg[64];
	struct pd_event ev;
	uint64_t ops;
	int i, tries;
	memset(r, 0, sizeof(*r));
	run_config(r, dir);
	run_recover(r);
	r->disk.fail_countdown = fail_at;
	r->disk.fail_errno = fail_errno;
	assert_int_equal(disk_start(&r->disk, errmsg, sizeof(errmsg)), 0);
	r->now_ms = 1000;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.conn = 1;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "127.0.0.1");
	run_step(r, &ev);
	/* a session: retried over a failure, as a client would */
	for (tries = 0; tries < 20; tries++) {
		t.n = 0;
		nh_connect_frame(&t, 0, 30000, 0, NULL, true);
		run_data(r, &t, true);
		if (!r->failed)
			break;
		/* the connection was closed; probe until the log is back */
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_CONN_OPEN;
		ev.conn = 1;
		while (r->failed) {
			disk_probe(&r->disk);
			run_step(r, &(struct pd_event){.type = PD_EV_TICK});
		}
		run_step(r, &ev);
	}
	assert_false(r->failed);
	/* Pipelined like a busy client: a burst of BURST creates in one read,
	 * and the next burst arrives while the log thread syncs the first,
	 * so a failure finds records queued behind the failing batch. */
	for (i = 1; i <= WRITES; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/n%02d", i);
		r->result[i] = 1;
		nh_body_create(&body, path, "data", 4, 0);
		if ((i - 1) % BURST == 0)
			t.n = 0;
		nh_request_frame(&t, i, PD_OP_CREATE, &body);
		if (i % BURST != 0)
			continue;
		run_data(r, &t, i % (2 * BURST) == 0);
		/* after a failure, probe as the server does until writes resume */
		while (i % (2 * BURST) == 0 && r->failed) {
			disk_probe(&r->disk);
			run_step(r, &(struct pd_event){.type = PD_EV_TICK});
		}
	}
	run_wait(r);
	for (i = 1; i <= WRITES; i++) {
		assert_int_not_equal(r->result[i], 1); /* every write is answered */
		if (r->result[i] == 0) {
			acked[(*n_acked)++] = i;
		} else {
			assert_int_equal(r->result[i], PD_ENOTREADONLY);
			refused[(*n_refused)++] = i;
		}
	}
	ops = r->disk.io_ops;
	run_close(r);
	return ops;
}

static void check_recovered(const char *dir, const int *acked, int n_acked, const int *refused, int n_refused)
{
	struct run *r = &RUN;
	int i;
	memset(r, 0, sizeof(*r));
	run_config(r, dir);
	run_recover(r);
	for (i = 0; i < n_acked; i++) {
		char path[32];
		int len = snprintf(path, sizeof(path), "/n%02d", acked[i]);
		if (pd_tree_lookup(&r->node->tree, path, (size_t)len) == PD_NODE_NONE)
			fail_msg("acknowledged create %s lost", path);
	}
	for (i = 0; i < n_refused; i++) {
		char path[32];
		int len = snprintf(path, sizeof(path), "/n%02d", refused[i]);
		if (pd_tree_lookup(&r->node->tree, path, (size_t)len) != PD_NODE_NONE)
			fail_msg("refused create %s was applied", path);
	}
	run_close(r);
}

static char DIR_TMPL[] = "/tmp/pd-disk-faults-XXXXXX";
static char *DIR_MADE;

/* Removes the temporary directory, also after a failed assertion. */
static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (RUN.node != NULL) {
		disk_close(&RUN.disk);
		pd_effects_free(RUN.node, &RUN.fx);
		pd_node_destroy(RUN.node);
		RUN.node = NULL;
	}
	if (DIR_MADE != NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", DIR_MADE);
		if (system(cmd) != 0)
			return -1;
		DIR_MADE = NULL;
	}
	return 0;
}

static void test_fail_every_nth_write_or_sync(void **state)
{
	char *dir = DIR_MADE = mkdtemp(DIR_TMPL);
	uint64_t n, total = 0, runs = 0, refusals = 0;
	(void)state;
	assert_non_null(dir);
	for (n = 1;; n++) {
		int acked[WRITES], refused[WRITES];
		int n_acked = 0, n_refused = 0;
		char cmd[128];
		uint64_t ops;
		snprintf(cmd, sizeof(cmd), "rm -rf %s/paddock", dir);
		assert_int_equal(system(cmd), 0);
		ops = run_once(dir, n, n % 2 ? EIO : ENOSPC, acked, &n_acked, refused, &n_refused);
		check_recovered(dir, acked, n_acked, refused, n_refused);
		runs++;
		assert_true(n_acked + n_refused == WRITES);
		if (n_refused > 0)
			refusals++;
		if (n > ops) { /* the failure point lies past every operation: done */
			total = ops;
			assert_int_equal(n_refused, 0);
			break;
		}
	}
	/* every operation of a clean run (a session, then WRITES creates in
	 * bursts: at least a write and a sync per pair of bursts) was made to
	 * fail once, and failures did cost writes */
	printf("%" PRIu64 " runs over %" PRIu64 " log operations; %" PRIu64 " runs had writes refused\n", runs, total,
	       refusals);
	assert_true(total >= 2 * (1 + WRITES / (2 * BURST)));
	assert_true(runs == total + 1);
	assert_true(refusals > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fail_every_nth_write_or_sync, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
