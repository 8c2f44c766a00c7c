/*
 * scenario.h: runs a Lua 5.4 scenario (scenarios/NAME.lua; docs/scenarios.md)
 * in a world (lua/world.h) and says what happened: which expectations held,
 * which failed and at which step, the figures it measured, the client
 * operations and the throughput over time.
 */
#ifndef PD_LUA_SCENARIO_H
#define PD_LUA_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "world.h"

#define PDL_OK 0          /* every expectation held */
#define PDL_FAILED 1      /* an expectation failed (message names the step) */
#define PDL_SCRIPT 2      /* the script is wrong (a Lua error, an unknown verb) */
#define PDL_UNSUPPORTED 3 /* the world cannot do what the script asks */
#define PDL_VIOLATION 129 /* a checker of the world found a violation */

struct pdl_check {
	char name[96];
	char step[96];
	int held;
	char message[256];
};

struct pdl_figure {
	char name[48];
	double value;
};

struct pdl_op {
	uint32_t client;
	char op[16];
	char path[96];
	uint64_t called_us;
	uint64_t returned_us; /* UINT64_MAX: no answer came */
	int32_t err;
	int64_t zxid;
};

struct pdl_bucket {
	uint64_t at_ms; /* 100 ms buckets of virtual time */
	uint64_t ok;
	uint64_t failed;
};

struct pdl_outcome {
	int code;               /* PDL_* */
	char message[1024];     /* what failed, with step, line, seed and replay command */
	char step[96];          /* the step running when it failed */
	char name[64];          /* the scenario's declared name */
	struct pdw_config config;
	uint64_t virtual_us;
	uint64_t digest;        /* the world's trace digest at the end (0: none) */
	struct pdl_check *checks;
	size_t checks_count;
	struct pdl_figure *figures;
	size_t figures_count;
	struct pdl_op *ops;
	size_t ops_count;
	struct pdl_bucket *buckets;
	size_t buckets_count;
	struct pdw_note *timeline; /* copied from the world before it closes */
	size_t timeline_count;
};

/* Runs script (a file) in a world of ops on seed; replay is the command
 * that reruns it (quoted in failure messages).  Returns out->code. */
int pdl_run(const struct pdw_ops *ops, const char *script, uint64_t seed, const char *replay, struct pdl_outcome *out);
void pdl_outcome_free(struct pdl_outcome *out);

#endif
