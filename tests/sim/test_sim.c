/*
 * test_sim.c: the simulated world (sim/sim.h).
 *
 *  - determinism: the same seed twice gives the same trace digest; other
 *    seeds give other digests (faults on: crashes, torn writes, resets,
 *    partitions, clogs, lossy links, clock skew);
 *  - every kind of network fault, and disks that fail, happen over 20 seeds;
 *  - every checker can fail: each bug planted in the world's driver makes
 *    some seed end with a correctness violation (exit code 129), the
 *    linearizability check of the znode histories included, and a
 *    partition that never heals ends in lost liveness (exit code 128);
 *  - 200 seeds with the core's PD_BUGGIFY sites on run clean (and replay);
 *  - SIM_SEEDS seeds (default 1000) of a standalone server with crashes,
 *    torn unsynced writes, client reconnects and clock skew run clean.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "sim.h"

static void run(uint64_t seed, uint32_t bugs, struct sim_result *r)
{
	struct sim_options o;
	sim_options_default(&o);
	o.seed = seed;
	o.bugs = bugs;
	sim_run(&o, r);
}

static void test_same_seed_same_trace(void **state)
{
	struct sim_result a, b, c;
	uint64_t seed;
	(void)state;
	for (seed = 1; seed <= 5; seed++) {
		run(seed, 0, &a);
		run(seed, 0, &b);
		run(seed + 1000, 0, &c);
		assert_int_equal(a.exit_code, 0);
		assert_true(a.digest == b.digest);
		assert_true(a.events == b.events);
		assert_true(a.digest != c.digest);
		/* the run did something: writes, crashes, reconnects */
		assert_true(a.acked_writes > 100);
		assert_true(a.crashes > 0);
		assert_true(a.reconnects > 0);
		assert_true(a.watch_events > 0);
		assert_true(a.history_ops > 100);
		assert_true(a.sequential > 0);
		/* and the network's faults happened, and the client saw them through */
		assert_true(a.partitions > 0);
		assert_true(a.retransmits > 0);
		assert_true(a.sessions >= 8);
	}
}

struct world_job {
	uint64_t seed;
	struct sim_result r;
};

static void *world_thread(void *arg)
{
	struct world_job *j = arg;
	run(j->seed, 0, &j->r);
	return NULL;
}

/* A world is a value: two of them run at the same time in one process and
 * each gives the digest it gives alone (nothing global is shared). */
static void test_two_worlds_at_once(void **state)
{
	struct world_job jobs[2] = {{11, {0}}, {12, {0}}};
	pthread_t t[2];
	struct sim_result alone;
	int i;
	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, world_thread, &jobs[i]), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		run(jobs[i].seed, 0, &alone);
		assert_int_equal(jobs[i].r.exit_code, 0);
		assert_true(jobs[i].r.digest == alone.digest);
		assert_true(jobs[i].r.events == alone.events);
	}
	assert_true(jobs[0].r.digest != jobs[1].r.digest);
}

/* Over a handful of seeds every kind of network fault shows up: clogs,
 * lossy spells, resets, duplicated and overtaken segments, read timeouts
 * and sessions that expired during a partition. */
static void test_network_faults_exercised(void **state)
{
	struct sim_result r;
	uint64_t seed, clogs = 0, lossy = 0, resets = 0, dups = 0, reordered = 0, timeouts = 0, expired = 0, pauses = 0;
	uint64_t log_failures = 0;
	(void)state;
	for (seed = 1; seed <= 20; seed++) {
		run(seed, 0, &r);
		assert_int_equal(r.exit_code, 0);
		clogs += r.clogs;
		lossy += r.lossy_spells;
		resets += r.resets;
		dups += r.duplicates;
		reordered += r.reordered;
		timeouts += r.read_timeouts;
		expired += r.expired;
		pauses += r.pauses;
		log_failures += r.log_failures;
	}
	assert_true(log_failures > 0);
	assert_true(pauses > 0);
	assert_true(clogs > 0);
	assert_true(lossy > 0);
	assert_true(resets > 0);
	assert_true(dups > 0);
	assert_true(reordered > 0);
	assert_true(timeouts > 0);
	assert_true(expired > 0);
}

/* Some seed among the first 50 must catch the planted bug. */
static void expect_caught_as(uint32_t bug, int exit_code, const char *what)
{
	struct sim_result r;
	uint64_t seed;
	for (seed = 1; seed <= 50; seed++) {
		run(seed, bug, &r);
		if (r.exit_code == exit_code) {
			assert_non_null(strstr(r.violation, what));
			return;
		}
		assert_int_equal(r.exit_code, 0);
	}
	fail_msg("planted bug 0x%x never caught", bug);
}

static void expect_caught(uint32_t bug, const char *what)
{
	expect_caught_as(bug, 129, what);
}

static void test_checker_durability_before_reply(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_ACK_BEFORE_SYNC, "answered a write");
}

static void test_checker_acknowledged_writes_survive(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_LOSE_SYNCED, "server 0");
}

static void test_checker_replies_in_order(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_REORDER, "client");
}

static void test_checker_linearizability(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_STALE_READS, "is not linearizable");
}

static void test_checker_sequential_numbers(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_SEQ_TWICE, "sequential number");
}

static void test_checker_watch_before_new_data(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_LOSE_WATCH_EVENTS, "before its watch event");
}

static void test_checker_recovery_from_snapshots(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_TRIM_PAST_SNAPSHOT, "after its snapshot");
}

static void test_checker_failed_log_drops_unsynced(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_KEEP_FAILED_WRITES, "server 0");
}

static void test_checker_no_append_after_log_failure(void **state)
{
	(void)state;
	expect_caught(SIM_BUG_HIDE_LOG_FAILURE, "to a log it was told had failed");
}

static void test_checker_liveness(void **state)
{
	(void)state;
	expect_caught_as(SIM_BUG_NO_HEAL, 128, "after every fault healed");
}

static void ensemble_options(struct sim_options *o, uint32_t servers, uint64_t seed, bool faults)
{
	sim_options_default(o);
	o->seed = seed;
	o->ensemble = true;
	o->servers = servers;
	o->clients = 0;
	o->faults = faults;
	o->duration_ms = faults ? 20000 : 5000;
	o->liveness_ms = faults ? 70000 : 10000; /* FLE's resends back off up to 60 s */
}

/* Issue 5, first steps: ensembles of 3, 5 and 7 unmodified cores run fast
 * leader election over the world's server-to-server streams, then
 * discovery on the quorum plane (epochs persisted before use) and pings
 * with initLimit/syncLimit deadlines both ways.  Without faults every
 * server follows the highest sid and each decided once; with crashes and
 * partitions (pairs cut both ways or one way, servers cut off) no epoch is
 * established by two leaders, no epoch goes back, and once the faults heal
 * everyone follows one established leader. */
static void test_ensemble_elects_one_leader(void **state)
{
	struct sim_options o;
	struct sim_result r, again;
	uint32_t n;
	uint64_t seed, elections = 0, partitions = 0, crashes = 0;
	(void)state;
	for (n = 3; n <= 7; n += 2)
		for (seed = 1; seed <= 20; seed++) {
			ensemble_options(&o, n, seed, false);
			sim_run(&o, &r);
			if (r.exit_code != 0)
				fail_msg("%u servers, seed=%llu: exit %d: %s", n, (unsigned long long)seed, r.exit_code,
					 r.violation);
			assert_true(r.leader == n);
			assert_true(r.elections == n); /* each server decided once */
			if (seed == 1) {
				sim_run(&o, &again);
				assert_true(again.digest == r.digest);
			}
		}
	for (n = 3; n <= 7; n += 2)
		for (seed = 1; seed <= 200; seed++) {
			ensemble_options(&o, n, seed, true);
			sim_run(&o, &r);
			if (r.exit_code != 0)
				fail_msg("%u servers with faults, seed=%llu: exit %d: %s", n, (unsigned long long)seed,
					 r.exit_code, r.violation);
			elections += r.elections;
			partitions += r.peer_partitions;
			crashes += r.crashes;
		}
	/* 3 voters and 2 observers: the observers end OBSERVING the leader (the
	 * end check), never lead and never count */
	for (seed = 1; seed <= 100; seed++) {
		ensemble_options(&o, 5, seed, true);
		o.observers = 2;
		sim_run(&o, &r);
		if (r.exit_code != 0)
			fail_msg("3 voters, 2 observers, seed=%llu: exit %d: %s", (unsigned long long)seed, r.exit_code,
				 r.violation);
		assert_true(r.leader >= 1 && r.leader <= 3);
		elections += r.elections;
	}
	printf("700 ensemble seeds with faults clean: %llu elections, %llu server partitions, %llu crashes\n",
	       (unsigned long long)elections, (unsigned long long)partitions, (unsigned long long)crashes);
	assert_true(elections > 700 * 4);
}

/* A planted bug an ensemble checker must catch within 100 seeds of 5 servers. */
static void expect_ensemble_caught(uint32_t bug, const char *what)
{
	struct sim_options o;
	struct sim_result r;
	uint64_t seed;
	for (seed = 1; seed <= 100; seed++) {
		ensemble_options(&o, 5, seed, true);
		o.bugs = bug;
		sim_run(&o, &r);
		if (r.exit_code == 129) {
			assert_non_null(strstr(r.violation, what));
			return;
		}
	}
	fail_msg("planted bug 0x%x never caught", bug);
}

static void test_checker_epochs_never_go_back(void **state)
{
	(void)state;
	expect_ensemble_caught(SIM_BUG_LOSE_EPOCHS, "epoch");
}

static void test_checker_one_leader_per_epoch(void **state)
{
	(void)state;
	expect_ensemble_caught(SIM_BUG_LOSE_EPOCHS_QUIETLY, "established by two leaders");
}

/* The core's PD_BUGGIFY sites fire (seed-chosen), and the runs stay clean
 * and deterministic. */
static void test_buggify_seeds_run_clean(void **state)
{
	struct sim_options o;
	struct sim_result r, again;
	uint64_t seed, fired = 0;
	(void)state;
	for (seed = 1; seed <= 200; seed++) {
		sim_options_default(&o);
		o.seed = seed;
		o.buggify = true;
		sim_run(&o, &r);
		if (r.exit_code != 0)
			fail_msg("seed=%llu with buggify: exit %d: %s", (unsigned long long)seed, r.exit_code, r.violation);
		fired += r.buggify_fired;
		if (seed <= 3) {
			sim_run(&o, &again);
			assert_true(again.digest == r.digest);
		}
	}
	assert_true(fired > 100);
}

static void test_many_seeds_run_clean(void **state)
{
	const char *env = getenv("SIM_SEEDS");
	uint64_t seeds = env != NULL ? strtoull(env, NULL, 10) : 1000, seed, acked = 0, crashes = 0, history = 0, sequential = 0;
	uint64_t snapshots = 0, snapshot_boots = 0;
	struct sim_result r;
	(void)state;
	for (seed = 1; seed <= seeds; seed++) {
		run(seed, 0, &r);
		if (r.exit_code != 0)
			fail_msg("seed=%llu: exit %d: %s", (unsigned long long)seed, r.exit_code, r.violation);
		acked += r.acked_writes;
		crashes += r.crashes;
		history += r.history_ops;
		sequential += r.sequential;
		snapshots += r.snapshots;
		snapshot_boots += r.snapshot_boots;
		assert_int_equal(r.lin_gave_up, 0);
	}
	printf("%llu seeds clean: %llu acknowledged writes checked over %llu crashes; %llu operations in "
	       "linearizable histories; %llu sequential names, none reused; %llu snapshots, %llu restarts from one\n",
	       (unsigned long long)seeds, (unsigned long long)acked, (unsigned long long)crashes,
	       (unsigned long long)history, (unsigned long long)sequential, (unsigned long long)snapshots,
	       (unsigned long long)snapshot_boots);
	assert_true(snapshot_boots > seeds / 10); /* recovery from snapshots was exercised */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_trace),
		cmocka_unit_test(test_two_worlds_at_once),
		cmocka_unit_test(test_checker_durability_before_reply),
		cmocka_unit_test(test_checker_acknowledged_writes_survive),
		cmocka_unit_test(test_checker_replies_in_order),
		cmocka_unit_test(test_checker_linearizability),
		cmocka_unit_test(test_checker_sequential_numbers),
		cmocka_unit_test(test_checker_watch_before_new_data),
		cmocka_unit_test(test_checker_recovery_from_snapshots),
		cmocka_unit_test(test_checker_failed_log_drops_unsynced),
		cmocka_unit_test(test_checker_no_append_after_log_failure),
		cmocka_unit_test(test_checker_liveness),
		cmocka_unit_test(test_network_faults_exercised),
		cmocka_unit_test(test_ensemble_elects_one_leader),
		cmocka_unit_test(test_checker_epochs_never_go_back),
		cmocka_unit_test(test_checker_one_leader_per_epoch),
		cmocka_unit_test(test_buggify_seeds_run_clean),
		cmocka_unit_test(test_many_seeds_run_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
