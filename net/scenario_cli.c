/*
 * scenario_cli.c: `paddock sim SCENARIO.lua [--seed N | --seeds A..B] [--db FILE]`
 * runs a scenario in the simulator on each seed; `paddock run SCENARIO.lua
 * [--seed N] [--db FILE]` runs it against real `paddock server` processes
 * on 127.0.0.1.  Each run prints one line (pass, or the failure with its
 * step, seed and replay command) and goes to the database with --db.
 * Exit code: 0 when every run passed, else the first failure's (1 an
 * expectation failed, 2 a script error, 3 the world cannot do a verb,
 * 129 a checker of the world found a violation).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assert.h"
#include "net.h"
#include "rundb.h"
#include "scenario.h"

int scenario_cli(int argc, char **argv, bool real);

static char scenario_banner[1024];

static void scenario_assert_hook(const char *expr, const char *file, int line)
{
	fprintf(stderr, "%s: assertion failed: %s at %s:%d\n", scenario_banner, expr, file, line);
	fflush(stderr);
	_exit(127);
}

static int scenario_usage(void)
{
	fprintf(stderr, "usage: paddock sim SCENARIO.lua [--seed N | --seeds A..B] [--db FILE] [--quiet]\n"
			"       paddock run SCENARIO.lua [--seed N] [--db FILE]\n");
	return 2;
}

int scenario_cli(int argc, char **argv, bool real)
{
	const char *script = argv[2], *db = NULL;
	uint64_t first = 1, last = 1, seed, passed = 0, failed = 0;
	bool quiet = false;
	int i, rc = 0;
	for (i = 3; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--quiet") == 0) {
			quiet = true;
			continue;
		}
		if (v == NULL)
			return scenario_usage();
		if (strcmp(argv[i], "--seed") == 0) {
			first = last = strtoull(v, NULL, 0);
		} else if (strcmp(argv[i], "--seeds") == 0) {
			const char *dots = strstr(v, "..");
			if (dots == NULL)
				return scenario_usage();
			first = strtoull(v, NULL, 0);
			last = strtoull(dots + 2, NULL, 0);
			if (last < first)
				return scenario_usage();
		} else if (strcmp(argv[i], "--db") == 0) {
			db = v;
		} else {
			return scenario_usage();
		}
		i++;
	}
	if (access(script, R_OK) != 0) {
		fprintf(stderr, "paddock: cannot read the scenario %s\n", script);
		return 2;
	}
	pd_assert_set_hook(scenario_assert_hook);
	for (seed = first; seed <= last; seed++) {
		struct pdl_outcome o;
		char replay[512];
		uint64_t t0 = net_now_ms(), wall;
		int code;
		snprintf(replay, sizeof(replay), "paddock %s %s --seed %" PRIu64, real ? "run" : "sim", script, seed);
		snprintf(scenario_banner, sizeof(scenario_banner), "%s seed %" PRIu64 " (replay: %s)", script, seed, replay);
		code = pdl_run(real ? &pdw_real_ops : &pdw_sim_ops, script, seed, replay, &o);
		wall = net_now_ms() - t0;
		if (code == PDL_OK) {
			passed++;
			if (!quiet)
				printf("%s seed %" PRIu64 ": pass (virtual %" PRIu64 " ms, wall %" PRIu64 " ms, digest 0x%016" PRIx64
				       ")\n",
				       o.name, seed, o.virtual_us / 1000, wall, o.digest);
		} else {
			failed++;
			printf("%s\n", o.message);
			if (rc == 0)
				rc = code;
		}
		fflush(stdout);
		if (db != NULL) {
			char errmsg[512];
			if (rundb_record_scenario(db, real ? "real" : "scenario", seed, &o, wall, replay, errmsg,
						  sizeof(errmsg)) != 0) {
				fprintf(stderr, "recording the run: %s\n", errmsg);
				pdl_outcome_free(&o);
				return 2;
			}
		}
		pdl_outcome_free(&o);
	}
	if (last > first)
		printf("%s: %" PRIu64 " seeds (%" PRIu64 "..%" PRIu64 "): %" PRIu64 " passed, %" PRIu64 " failed\n", script,
		       last - first + 1, first, last, passed, failed);
	return rc;
}
