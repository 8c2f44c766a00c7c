/* main.c: the paddock binary: `paddock server zoo.cfg`, `paddock status zoo.cfg`,
 * `paddock import ZK_DATADIR zoo.cfg`. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assert.h"
#include "net.h"
#include "report.h"
#include "rundb.h"
#include "sim.h"

/* A broken invariant in the core: say where, then stop (core dump if enabled). */
static void main_assert_hook(const char *expr, const char *file, int line)
{
	net_log("FATAL", "assertion failed: %s at %s:%d", expr, file, line);
	abort();
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: paddock server ZOO_CFG     run a server (standalone when zoo.cfg names one server)\n"
		   "       paddock status ZOO_CFG     print the server's Mode line, like zkServer.sh status\n"
		   "       paddock import ZK_DATADIR ZOO_CFG [ZK_DATALOGDIR]\n"
		   "                                  migrate an Apache ZooKeeper 3.x data directory (its version-2/\n"
		   "                                  snapshot.* and log.* files) into the empty dataDir of ZOO_CFG\n"
		   "       paddock sim [--seed N] [--seconds S] [--servers K] [--clients M] [--snap-count C]\n"
		   "                   [--liveness-seconds L] [--no-faults] [--buggify] [--ensemble]\n"
		   "                   [--observers O] [--db FILE]\n"
		   "                                  run a simulated world (virtual time) from a seed: S seconds\n"
		   "                                  of faults, then L healed (every client must write); prints\n"
		   "                                  seed=... first and digest=... last; exit 0 clean, 127 crash\n"
		   "                                  or assertion, 128 lost liveness, 129 correctness violation;\n"
		   "                                  --ensemble: an ensemble of K servers (3 by default), the last\n"
		   "                                  O of them observing; --db records the run in SQLite\n"
		   "                                  (reports/schema.sql)\n"
		   "       paddock sim SCENARIO.lua [--seed N | --seeds A..B] [--db FILE] [--quiet]\n"
		   "                                  run a Lua scenario (docs/scenarios.md) in the simulator on\n"
		   "                                  each seed; exit 0 when every seed passed\n"
		   "       paddock run SCENARIO.lua [--seed N] [--db FILE]\n"
		   "                                  run a scenario against real `paddock server` processes on\n"
		   "                                  127.0.0.1 (the verbs that make sense there)\n"
		   "       paddock fuzz election|writes [--seeds A..B] [--time BUDGET] [--jobs N] [--db FILE]\n"
		   "                    [--stop-on-failure] [--quiet] | --replay SEED\n"
		   "                                  swarm fuzzing: each seed draws its own world and faults\n"
		   "       paddock shell [-server HOST:PORT[,HOST:PORT...]] [COMMAND ARGS]\n"
		   "                                  a zkCli-like shell (create [-s] [-e] [-c], ls, get, set, delete,\n"
		   "                                  deleteall, stat, sync, addWatch);\n"
		   "                                  commands from stdin without COMMAND\n"
		   "       paddock report DB -o DIR   build an HTML report and a Markdown summary from run records\n"
		   "       paddock version            print the version\n");
}

static const char *main_seed_banner;

/* In the simulator an assertion names the seed that reproduces it. */
static void main_sim_assert_hook(const char *expr, const char *file, int line)
{
	fprintf(stderr, "%s: assertion failed: %s at %s:%d\n", main_seed_banner, expr, file, line);
	fflush(stderr);
	_exit(127);
}

int scenario_cli(int argc, char **argv, bool real); /* scenario_cli.c */
int fuzz_cli(int argc, char **argv);                 /* fuzz_cli.c */

static int main_sim(int argc, char **argv)
{
	struct sim_options o;
	struct sim_result r;
	char banner[96];
	uint64_t t0, wall;
	const char *db = NULL;
	int i;
	sim_options_default(&o);
	for (i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--no-faults") == 0) {
			o.faults = false;
			continue;
		}
		if (strcmp(argv[i], "--buggify") == 0) {
			o.buggify = true;
			continue;
		}
		if (strcmp(argv[i], "--ensemble") == 0) {
			/* issue 5 in progress: the servers elect a leader; no clients yet */
			o.ensemble = true;
			o.servers = o.servers > 1 ? o.servers : 3;
			o.liveness_ms = 70000;
			continue;
		}
		if (v == NULL) {
			main_usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "--seed") == 0)
			o.seed = strtoull(v, NULL, 0);
		else if (strcmp(argv[i], "--seconds") == 0)
			o.duration_ms = strtoull(v, NULL, 10) * 1000;
		else if (strcmp(argv[i], "--liveness-seconds") == 0)
			o.liveness_ms = strtoull(v, NULL, 10) * 1000;
		else if (strcmp(argv[i], "--servers") == 0)
			o.servers = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--observers") == 0)
			o.observers = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--clients") == 0)
			o.clients = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--db") == 0)
			db = v;
		else if (strcmp(argv[i], "--bugs") == 0)
			o.bugs = (uint32_t)strtoul(v, NULL, 0); /* SIM_BUG_* (sim.h): show a checker fire */
		else if (strcmp(argv[i], "--snap-count") == 0)
			o.snap_count = (uint32_t)strtoul(v, NULL, 10);
		else {
			main_usage(stderr);
			return 2;
		}
		i++;
	}
	snprintf(banner, sizeof(banner), "seed=0x%016llx commit=%s", (unsigned long long)o.seed, pd_build_commit());
	main_seed_banner = banner;
	printf("%s\n", banner);
	fflush(stdout);
	pd_assert_set_hook(main_sim_assert_hook);
	o.timeline = db != NULL; /* the faults and role changes go to the database too */
	t0 = net_now_ms();
	sim_run(&o, &r);
	wall = net_now_ms() - t0;
	if (db != NULL) {
		char replay[1024], errmsg[512];
		int n = snprintf(replay, sizeof(replay), "paddock sim --seed %llu", (unsigned long long)o.seed);
		for (i = 2; i < argc && n < (int)sizeof(replay); i++) {
			if (strcmp(argv[i], "--seed") == 0 || strcmp(argv[i], "--db") == 0) {
				i++; /* the seed is written first; the database is not part of the run */
				continue;
			}
			n += snprintf(replay + n, sizeof(replay) - (size_t)n, " %s", argv[i]);
		}
		if (rundb_record_sim(db, &o, &r, wall, replay, errmsg, sizeof(errmsg)) != 0) {
			fprintf(stderr, "recording the run: %s\n", errmsg);
			sim_result_free(&r);
			return r.exit_code != 0 ? r.exit_code : 2;
		}
	}
	if (r.exit_code != 0)
		printf("%s: violation: %s\n", banner, r.violation);
	printf("virtual_ms=%llu events=%llu ops_ok=%llu ops_failed=%llu crashes=%llu reconnects=%llu acked_writes=%llu "
	       "linearizable_ops=%llu watch_events=%llu buggify_fired=%llu\n",
	       (unsigned long long)r.virtual_ms, (unsigned long long)r.events, (unsigned long long)r.ops_ok,
	       (unsigned long long)r.ops_failed, (unsigned long long)r.crashes, (unsigned long long)r.reconnects,
	       (unsigned long long)r.acked_writes, (unsigned long long)r.history_ops,
	       (unsigned long long)r.watch_events, (unsigned long long)r.buggify_fired);
	printf("sessions=%llu expired=%llu read_timeouts=%llu partitions=%llu clogs=%llu lossy_spells=%llu resets=%llu pauses=%llu "
	       "disk_faults=%llu log_failures=%llu "
	       "retransmits=%llu duplicates=%llu reordered=%llu snapshots=%llu snapshot_boots=%llu\n",
	       (unsigned long long)r.sessions, (unsigned long long)r.expired, (unsigned long long)r.read_timeouts,
	       (unsigned long long)r.partitions, (unsigned long long)r.clogs, (unsigned long long)r.lossy_spells,
	       (unsigned long long)r.resets, (unsigned long long)r.pauses, (unsigned long long)r.disk_faults,
	       (unsigned long long)r.log_failures, (unsigned long long)r.retransmits, (unsigned long long)r.duplicates,
	       (unsigned long long)r.reordered, (unsigned long long)r.snapshots, (unsigned long long)r.snapshot_boots);
	if (o.ensemble)
		printf("elections=%llu peer_partitions=%llu leader=%llu\n", (unsigned long long)r.elections,
		       (unsigned long long)r.peer_partitions, (unsigned long long)r.leader);
	printf("wall_ms=%llu speed=%.0fx events_per_s=%.0f\n", (unsigned long long)wall,
	       wall > 0 ? (double)r.virtual_ms / (double)wall : 0.0, wall > 0 ? (double)r.events * 1000.0 / (double)wall : 0.0);
	printf("digest=0x%016llx\n", (unsigned long long)r.digest);
	sim_result_free(&r);
	return r.exit_code;
}

int main(int argc, char **argv)
{
	pd_assert_set_hook(main_assert_hook);
	if (argc == 2 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("paddock %s (ZooKeeper 3.8 client protocol)\n", PD_VERSION_STRING);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		main_usage(stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "sim") == 0 && strlen(argv[2]) > 4 &&
	    strcmp(argv[2] + strlen(argv[2]) - 4, ".lua") == 0)
		return scenario_cli(argc, argv, false);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return scenario_cli(argc, argv, true);
	if (argc >= 3 && strcmp(argv[1], "fuzz") == 0)
		return fuzz_cli(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "sim") == 0)
		return main_sim(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return report_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "shell") == 0)
		return net_shell(argc, argv);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return net_server_run(argv[2]);
	if (argc == 3 && strcmp(argv[1], "status") == 0)
		return net_status(argv[2]);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "import") == 0)
		return net_import(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	main_usage(stderr);
	return 2;
}
