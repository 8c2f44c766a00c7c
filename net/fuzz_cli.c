/*
 * fuzz_cli.c: `paddock fuzz WORKLOAD` (issue 7): many simulator seeds, each
 * drawing its own world (swarm testing): which fault classes are on and how
 * often the nemesis moves, ensemble size 3/5/7, observers or not, tick,
 * latencies, fsync times, snapCount, clients, BUGGIFY.  Every run checks
 * the simulator's invariants all along and liveness after the calm.
 *
 *   paddock fuzz election|writes [--seeds A..B] [--time BUDGET] [--jobs N]
 *                [--db FILE] [--servers K] [--stop-on-failure] [--quiet]
 *   (--servers K: every world has K servers instead of a drawn 3, 5 or 7)
 *   paddock fuzz election --replay SEED      one seed again, its world and timeline printed
 *
 * Workloads: election (5 s of faults then 15 s healed, few clients; the
 * election and ZAB under partitions; liveness as zab-and-server.md's L1:
 * a quorum of voters follows one serving leader, since a straggler whose
 * notification interval grew (to 60 s at most, as ZooKeeper's) may take
 * that long to look again), writes (20 s of faults then 20 s healed,
 * 4..12 clients whose histories are checked; the same liveness).
 * A progress line goes to stderr (seeds/s, failures so far, ETA); each
 * failure prints its seed, what failed and its replay command.  Exit code:
 * 0 when every seed passed, 1 when one failed, 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assert.h"
#include "marks.h"
#include "net.h"
#include "prng.h"
#include "rundb.h"
#include "sim.h"

int fuzz_cli(int argc, char **argv);

#define FUZZ_JOBS_MAX 64

struct fuzz_world {
	struct sim_options o;
	char params[768]; /* the drawn world, as JSON */
};

/* The world of a seed: drawn from its own stream (not the world's), so
 * the same seed always gives the same world. */
static uint32_t fuzz_servers; /* --servers: every world of this size (0: drawn) */
/* --faults, --seconds, --clients: a drawn world with these replaced (what --shrink finds) */
static uint32_t fuzz_faults;
static uint64_t fuzz_fault_ms;
static int32_t fuzz_clients = -1;
static uint64_t fuzz_drop[SIM_MOVES_MAX / 64]; /* --drop: nemesis moves left out (what --shrink finds) */
static uint32_t fuzz_bugs; /* --bugs: SIM_BUG_* planted in every world (to show a failure shrink) */
static volatile sig_atomic_t fuzz_interrupted;

static void fuzz_on_sigint(int sig)
{
	(void)sig;
	fuzz_interrupted = 1;
}

/* The fault classes of a mask, by name. */
static void fuzz_classes(uint32_t mask, char *out, size_t size)
{
	static const char *const names[] = {"crash", "wipe", "peer_cut", "one_way", "isolate", "bridge",
					    "flap",  "loss", "skew",     "disk",    "client",  "clog"};
	size_t k, n = 0;
	out[0] = '\0';
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (mask & (1u << k))
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n > 0 ? "," : "", names[k]);
}

static void fuzz_draw(const char *workload, uint64_t seed, struct fuzz_world *fw)
{
	static const uint32_t ticks[] = {100, 200, 300};
	static const uint32_t write_ticks[] = {200, 500, 1000};
	static const uint32_t gaps[] = {200, 600, 1500, 3000};
	static const uint32_t lat[] = {300, 2000, 10000};
	static const uint32_t fsyncs[] = {200, 3000, 20000};
	static const uint32_t snaps[] = {50, 400, 5000};
	struct pd_prng r;
	struct sim_options *o = &fw->o;
	bool election = strcmp(workload, "election") == 0;
	char classes[160];
	pd_prng_seed(&r, seed ^ 0x5357524d53574152ULL);
	sim_options_default(o);
	o->seed = seed;
	o->ensemble = true;
	o->servers = election ? 3 + 2 * (uint32_t)pd_prng_below(&r, 3) : 3 + 2 * (uint32_t)pd_prng_below(&r, 2);
	if (fuzz_servers != 0)
		o->servers = fuzz_servers;
	o->observers = pd_prng_below(&r, 2) == 0 ? 0 : 1 + (uint32_t)pd_prng_below(&r, 2);
	if (o->observers >= o->servers)
		o->observers = o->servers - 1;
	o->clients = election ? (uint32_t)pd_prng_below(&r, 4) : 4 + (uint32_t)pd_prng_below(&r, 9);
	o->tick_ms = election ? ticks[pd_prng_below(&r, 3)] : write_ticks[pd_prng_below(&r, 3)];
	o->duration_ms = election ? 5000 : 20000;
	o->liveness_ms = election ? 15000 : 20000;
	o->liveness_quorum = true;
	o->buggify = pd_prng_below(&r, 2) == 0;
	o->swarm = (uint32_t)pd_prng_below(&r, SIM_FAULT_ALL + 1ull);
	if (o->swarm == 0)
		o->swarm = SIM_FAULT_ALL;
	o->nemesis_gap_ms = gaps[pd_prng_below(&r, 4)];
	if (fuzz_faults != 0)
		o->swarm = fuzz_faults;
	if (fuzz_fault_ms != 0)
		o->duration_ms = fuzz_fault_ms;
	if (fuzz_clients >= 0)
		o->clients = (uint32_t)fuzz_clients;
	o->bugs = fuzz_bugs;
	memcpy(o->drop_moves, fuzz_drop, sizeof(o->drop_moves));
	o->latency_us_max = lat[pd_prng_below(&r, 3)];
	o->fsync_us_max = fsyncs[pd_prng_below(&r, 3)];
	o->snap_count = snaps[pd_prng_below(&r, 3)];
	fuzz_classes(o->swarm, classes, sizeof(classes));
	snprintf(fw->params, sizeof(fw->params),
		 "{\"workload\":\"%s\",\"servers\":%u,\"observers\":%u,\"clients\":%u,\"tick_ms\":%u,\"seconds\":%" PRIu64
		 ",\"liveness_seconds\":%" PRIu64 ",\"buggify\":%s,\"faults\":\"0x%03x\",\"fault_classes\":\"%s\","
		 "\"nemesis_gap_ms\":%u,\"latency_us_max\":%u,\"fsync_us_max\":%u,\"snap_count\":%u}",
		 workload, o->servers, o->observers, o->clients, o->tick_ms, o->duration_ms / 1000, o->liveness_ms / 1000,
		 o->buggify ? "true" : "false", o->swarm, classes, o->nemesis_gap_ms, o->latency_us_max, o->fsync_us_max,
		 o->snap_count);
}

/* One result line between a worker and the parent. */
struct fuzz_line {
	uint64_t seed;
	int code;
	uint64_t virtual_ms, wall_ms, events, digest, marks, moves;
	char message[512];
};

/* A core assertion inside a run ends that run, not the fuzzer: the hook
 * jumps back to fuzz_one, which reports the seed as a crash (exit 127)
 * with the assertion.  The abandoned world is not freed (its structures
 * may be half changed): a worker that caught one stops after reporting
 * it and the parent starts another in its place. */
static sigjmp_buf fuzz_jump;
static volatile sig_atomic_t fuzz_jump_armed;
static char fuzz_assertion[256];
static unsigned fuzz_assertions; /* caught in this process */

static void fuzz_assert_hook(const char *expr, const char *file, int line)
{
	snprintf(fuzz_assertion, sizeof(fuzz_assertion), "assertion failed: %s at %s:%d", expr, file, line);
	if (!fuzz_jump_armed) {
		fprintf(stderr, "paddock fuzz: %s\n", fuzz_assertion);
		_exit(127);
	}
	fuzz_jump_armed = 0;
	fuzz_assertions++;
	siglongjmp(fuzz_jump, 1);
}

static void fuzz_one(const char *workload, uint64_t seed, struct fuzz_line *out, bool timeline, struct sim_result *keep)
{
	static struct sim_result r; /* static: intact after the jump */
	struct fuzz_world fw;
	uint64_t t0 = net_now_ms();
	fuzz_draw(workload, seed, &fw);
	fw.o.timeline = timeline;
	if (sigsetjmp(fuzz_jump, 0) == 0) {
		fuzz_jump_armed = 1;
		sim_run(&fw.o, &r);
		fuzz_jump_armed = 0;
	} else {
		r.exit_code = 127;
		snprintf(r.violation, sizeof(r.violation), "%s", fuzz_assertion);
	}
	out->seed = seed;
	out->code = r.exit_code;
	out->virtual_ms = r.virtual_ms;
	out->wall_ms = net_now_ms() - t0;
	out->events = r.events;
	out->digest = r.digest;
	out->marks = r.marks_hit;
	out->moves = r.moves;
	snprintf(out->message, sizeof(out->message), "%s", r.exit_code != 0 ? r.violation : "");
	if (keep != NULL)
		*keep = r;
	else
		sim_result_free(&r);
}

static uint64_t fuzz_budget_ms(const char *v)
{
	char *end;
	double n = strtod(v, &end);
	if (end == v || n <= 0)
		return 0;
	if (*end == 'h')
		n *= 3600;
	else if (*end == 'm')
		n *= 60;
	else if (*end != 's' && *end != '\0')
		return 0;
	return (uint64_t)(n * 1000);
}

static int fuzz_usage(void)
{
	fprintf(stderr, "usage: paddock fuzz election|writes [--seeds A..B] [--time BUDGET] [--jobs N] [--db FILE]\n"
			"                    [--servers K] [--stop-on-failure] [--quiet]\n"
			"                    [--shrink-failures N]\n"
			"       paddock fuzz election|writes --replay SEED [--shrink] [--faults MASK] [--seconds S]\n"
			"                    [--clients C] [--servers K] [--drop MOVES]\n"
			"MOVES: nemesis moves left out, as 0-3,7\n"
			"BUDGET: 90s, 10m, 1h\n");
	return 2;
}

static int fuzz_replay(const char *workload, uint64_t seed)
{
	struct fuzz_world fw;
	struct fuzz_line line;
	struct sim_result r;
	char classes[160];
	size_t i;
	fuzz_draw(workload, seed, &fw);
	fuzz_classes(fw.o.swarm, classes, sizeof(classes));
	printf("seed %" PRIu64 " (%s): %s\nfaults on: %s\n", seed, pd_build_commit(), fw.params, classes);
	fuzz_one(workload, seed, &line, true, &r);
	for (i = 0; i < r.timeline_count; i++) {
		const struct sim_note *n = &r.timeline[i];
		char move[16] = "";
		if (n->move > 0)
			snprintf(move, sizeof(move), "#%u", n->move - 1);
		if (n->server > 0)
			printf("%10.3f s %5s  server %d  %-10s %s\n", (double)n->at_us / 1e6, move, n->server, n->kind,
			       n->detail);
		else
			printf("%10.3f s %5s            %-10s %s\n", (double)n->at_us / 1e6, move, n->kind, n->detail);
	}
	sim_result_free(&r);
	if (line.code != 0)
		printf("FAILED (exit %d): %s\n", line.code, line.message);
	else
		printf("passed\n");
	printf("virtual_ms=%" PRIu64 " events=%" PRIu64 " wall_ms=%" PRIu64 "\ndigest=0x%016" PRIx64 "\n",
	       line.virtual_ms, line.events, line.wall_ms, line.digest);
	return line.code;
}

/* Nemesis moves as a list ("0-3,7"): parsed into a bitmap (0, or -1 when
 * malformed) and written from one. */
static int fuzz_moves_parse(const char *v, uint64_t *bits)
{
	memset(bits, 0, SIM_MOVES_MAX / 8);
	while (*v != '\0') {
		char *end;
		unsigned long a = strtoul(v, &end, 10), b = a, k;
		if (end == v)
			return -1;
		if (*end == '-') {
			v = end + 1;
			b = strtoul(v, &end, 10);
			if (end == v)
				return -1;
		}
		if (a > b || b >= SIM_MOVES_MAX || (*end != ',' && *end != '\0'))
			return -1;
		for (k = a; k <= b; k++)
			bits[k / 64] |= 1ull << (k % 64);
		v = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static bool fuzz_moves_has(const uint64_t *bits, uint32_t k)
{
	return k < SIM_MOVES_MAX && ((bits[k / 64] >> (k % 64)) & 1);
}

static uint32_t fuzz_moves_format(const uint64_t *bits, char *out, size_t size)
{
	uint32_t k = 0, count = 0;
	size_t n = 0;
	out[0] = '\0';
	while (k < SIM_MOVES_MAX) {
		uint32_t j = k;
		if (!fuzz_moves_has(bits, k)) {
			k++;
			continue;
		}
		while (j + 1 < SIM_MOVES_MAX && fuzz_moves_has(bits, j + 1))
			j++;
		if (n < size)
			n += (size_t)(j > k ? snprintf(out + n, size - n, "%s%u-%u", n > 0 ? "," : "", k, j)
					    : snprintf(out + n, size - n, "%s%u", n > 0 ? "," : "", k));
		count += j - k + 1;
		k = j + 1;
	}
	return count;
}

#define FUZZ_CMD_MAX 3072

/* The replay command of a seed with the overrides in force. */
static void fuzz_replay_cmd(const char *workload, uint64_t seed, char *out, size_t size)
{
	char moves[2048];
	int n = snprintf(out, size, "paddock fuzz %s --replay %" PRIu64, workload, seed);
	if (fuzz_faults != 0 && n < (int)size)
		n += snprintf(out + n, size - (size_t)n, " --faults 0x%03x", fuzz_faults);
	if (fuzz_fault_ms != 0 && n < (int)size)
		n += snprintf(out + n, size - (size_t)n, " --seconds %.3f", (double)fuzz_fault_ms / 1000.0);
	if (fuzz_clients >= 0 && n < (int)size)
		n += snprintf(out + n, size - (size_t)n, " --clients %d", fuzz_clients);
	if (fuzz_servers != 0 && n < (int)size)
		n += snprintf(out + n, size - (size_t)n, " --servers %u", fuzz_servers);
	if (fuzz_moves_format(fuzz_drop, moves, sizeof(moves)) > 0 && n < (int)size)
		n += snprintf(out + n, size - (size_t)n, " --drop %s", moves);
	if (fuzz_bugs != 0 && n < (int)size)
		snprintf(out + n, size - (size_t)n, " --bugs 0x%x", fuzz_bugs);
}

/* read() until size bytes came, the end, or an error (a signal included:
 * EINTR is retried); what came. */
static ssize_t fuzz_read_full(int fd, void *buf, size_t size)
{
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Whether the seed still fails (with the overrides in force) the way it
 * did; run in a child process, so that a shrink of a failed assertion
 * leaves no abandoned worlds behind. */
static bool fuzz_still_fails(const char *workload, uint64_t seed, int code)
{
	struct fuzz_line line;
	int p[2], status;
	pid_t pid;
	ssize_t got;
	fflush(stdout);
	if (pipe(p) != 0) {
		fuzz_one(workload, seed, &line, false, NULL);
		return line.code == code;
	}
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		fuzz_one(workload, seed, &line, false, NULL);
		return line.code == code;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		close(p[0]);
		fuzz_one(workload, seed, &line, false, NULL);
		_exit(write(p[1], &line.code, sizeof(line.code)) == (ssize_t)sizeof(line.code) ? 0 : 1);
	}
	close(p[1]);
	got = fuzz_read_full(p[0], &line.code, sizeof(line.code));
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return got == (ssize_t)sizeof(line.code) && line.code == code;
}

/* One fault of a timeline as Lua (docs/scenarios.md), or a comment when
 * the scenario language has no such verb. */
static void fuzz_lua_fault(FILE *f, const struct sim_note *n)
{
	unsigned a, b, ms;
	unsigned long long mask;
	if (strcmp(n->kind, "crash") == 0 || strcmp(n->kind, "torn_write") == 0 || strcmp(n->kind, "restart") == 0 ||
	    strcmp(n->kind, "wipe") == 0) {
		fprintf(f, "%s(%d)\n", n->kind, n->server);
	} else if (strcmp(n->kind, "isolate") == 0 && sscanf(n->detail, "from every other server for %u ms", &ms) == 1) {
		fprintf(f, "partition({ %d }, others(%d)); after(%u, heal)\n", n->server, n->server, ms);
	} else if (strcmp(n->kind, "cut") == 0 &&
		   sscanf(n->detail, "from server %u (both ways) for %u ms", &b, &ms) == 2) {
		fprintf(f, "partition({ %d }, { %u }); after(%u, heal)\n", n->server, b, ms);
	} else if (strcmp(n->kind, "bridge") == 0 && sscanf(n->detail, "halves 0x%llx for %u ms", &mask, &ms) == 2) {
		fprintf(f, "partition(halves(0x%llx, %d, 0), halves(0x%llx, %d, 1)); after(%u, heal)\n", mask, n->server,
			mask, n->server, ms);
	} else if (strcmp(n->kind, "clog") == 0 && sscanf(n->detail, "hears no one for %u ms", &ms) == 1) {
		fprintf(f, "clog(%d, %u)\n", n->server, ms);
	} else if (strcmp(n->kind, "skew") == 0 && sscanf(n->detail, "its clock leaps %u ms", &ms) == 1) {
		fprintf(f, "skew(%d, %u)\n", n->server, ms);
	} else if (strcmp(n->kind, "disk_full") == 0 && sscanf(n->detail, "for %u ms", &ms) == 1) {
		fprintf(f, "disk_full(%d, %u)\n", n->server, ms);
	} else if (strcmp(n->kind, "flap") == 0 && sscanf(n->detail, "with server %u, %u spells", &b, &ms) == 2) {
		/* spells of 20..600 ms each way, drawn: here their mean */
		fprintf(f, "spawn(function() for _ = 1, %u do partition({ %d }, { %u }) sleep(310) heal() sleep(310) end end)\n",
			ms, n->server, b);
	} else if (strcmp(n->kind, "role") == 0 || strcmp(n->kind, "reload") == 0) {
		return;
	} else {
		(void)a;
		fprintf(f, "-- (no verb) %s%s%d: %s\n", n->kind, n->server > 0 ? " server " : "", n->server, n->detail);
	}
}

/* The shrunk run as a scenario for scenarios/regressions/: its ensemble,
 * a load like its clients, its faults at their times, then the heal and
 * the liveness it failed. */
static void fuzz_lua(FILE *f, const char *workload, uint64_t seed, const struct fuzz_world *fw,
		     const struct sim_result *r, const char *replay, const char *failure)
{
	uint64_t at = 0;
	size_t i;
	fprintf(f, "-- regression: %s seed %" PRIu64 ", shrunk by paddock fuzz --shrink (commit %s)\n", workload, seed,
		pd_build_commit());
	fprintf(f, "-- %s\n-- it failed: %s\n-- world: %s\n", replay, failure, fw->params);
	fprintf(f, "ensemble { servers = %u, observers = %u, tick = %u, snap_count = %u }\n", fw->o.servers,
		fw->o.observers, fw->o.tick_ms, fw->o.snap_count);
	if (fw->o.clients > 0)
		fprintf(f, "load { clients = %u }\n", fw->o.clients);
	fprintf(f, "local function others(s) local t = {} for i = 1, servers() do if i ~= s then t[#t + 1] = i end end "
		   "return t end\n"
		   "local function halves(mask, bridge, side) local t = {} for i = 1, servers() do "
		   "if i ~= bridge and ((mask >> (i - 1)) & 1) == side then t[#t + 1] = i end end return t end\n"
		   "local function after(ms, fn) spawn(function() sleep(ms) fn() end) end\n"
		   "step(\"the faults\")\n");
	for (i = 0; i < r->timeline_count; i++) {
		const struct sim_note *n = &r->timeline[i];
		if (strcmp(n->kind, "role") == 0 || strcmp(n->kind, "reload") == 0)
			continue;
		if (strcmp(n->kind, "calm") == 0)
			break;
		if (n->at_us / 1000 > at) {
			fprintf(f, "sleep(%" PRIu64 ")\n", n->at_us / 1000 - at);
			at = n->at_us / 1000;
		}
		fuzz_lua_fault(f, n);
	}
	if (fw->o.duration_ms > at)
		fprintf(f, "sleep(%" PRIu64 ")\n", fw->o.duration_ms - at);
	fprintf(f, "step(\"every fault heals\")\nheal()\n");
	fprintf(f, "for i = 1, servers() do if role(i) == \"down\" then restart(i) end end\n");
	fprintf(f, "eventually(function()\n"
		   "  local l, n, voters = leader(), 0, 0\n"
		   "  for i = 1, servers() do\n"
		   "    local s = state(i)\n"
		   "    if i <= servers() - %u then voters = voters + 1 end\n"
		   "    if i <= servers() - %u and s.serving and s.leader == l then n = n + 1 end\n"
		   "  end\n"
		   "  return l ~= nil and 2 * n > voters\n"
		   "end, %" PRIu64 ", \"a quorum of voters follows one serving leader\")\n",
		fw->o.observers, fw->o.observers, fw->o.liveness_ms);
}

/* What a shrink found: the smallest world and fault schedule that still
 * fail the way the seed did. */
struct fuzz_shrunk {
	int code, tries;
	uint32_t moves_kept, moves_total;
	char message[512];
	char replay[FUZZ_CMD_MAX];
	char params[768];
	char *scenario; /* the Lua scenario (malloc'd) */
};

/* The overrides a shrink changes, to put back after it. */
struct fuzz_overrides {
	uint32_t faults, servers;
	uint64_t fault_ms;
	int32_t clients;
	uint64_t drop[SIM_MOVES_MAX / 64];
};

static void fuzz_overrides_swap(struct fuzz_overrides *o, bool save)
{
	if (save) {
		o->faults = fuzz_faults;
		o->servers = fuzz_servers;
		o->fault_ms = fuzz_fault_ms;
		o->clients = fuzz_clients;
		memcpy(o->drop, fuzz_drop, sizeof(o->drop));
	} else {
		fuzz_faults = o->faults;
		fuzz_servers = o->servers;
		fuzz_fault_ms = o->fault_ms;
		fuzz_clients = o->clients;
		memcpy(fuzz_drop, o->drop, sizeof(fuzz_drop));
	}
}

#define FUZZ_SHRINK_TRIES 600

/* Fault classes turned off one by one, each for good when the seed still
 * fails the same way without it. */
static void fuzz_shrink_classes(const char *workload, uint64_t seed, struct fuzz_shrunk *out)
{
	uint32_t bit;
	for (bit = 1; bit <= SIM_FAULT_ALL && out->tries < FUZZ_SHRINK_TRIES; bit <<= 1) {
		if (!(fuzz_faults & bit) || fuzz_faults == bit)
			continue;
		fuzz_faults &= ~bit;
		out->tries++;
		if (!fuzz_still_fails(workload, seed, out->code))
			fuzz_faults |= bit;
	}
}

/* The world first, greedily: fault classes turned off one by one, the
 * fault phase halved, clients removed, servers down to three.  Then the
 * fault schedule: the nemesis's moves left out in halves, quarters, ...
 * down to single moves, each left out for good when the run still fails
 * the same way.  The overrides in force are where it starts, and they are
 * as they were when it returns.  0, or -1 when the seed passes. */
static int fuzz_shrink_seed(const char *workload, uint64_t seed, struct fuzz_shrunk *out)
{
	struct fuzz_overrides saved;
	struct fuzz_world fw;
	struct fuzz_line line;
	struct sim_result r;
	uint32_t n, chunk, start, k;
	size_t size = 0;
	FILE *f;
	memset(out, 0, sizeof(*out));
	fuzz_overrides_swap(&saved, true);
	fuzz_one(workload, seed, &line, false, NULL);
	out->tries = 1;
	if (line.code == 0)
		return -1;
	out->code = line.code;
	fuzz_draw(workload, seed, &fw);
	fuzz_faults = fw.o.swarm;
	fuzz_shrink_classes(workload, seed, out);
	fuzz_fault_ms = fw.o.duration_ms;
	while (fuzz_fault_ms > 500) {
		uint64_t keep = fuzz_fault_ms;
		fuzz_fault_ms /= 2;
		out->tries++;
		if (!fuzz_still_fails(workload, seed, out->code)) {
			fuzz_fault_ms = keep;
			break;
		}
	}
	for (fuzz_clients = 0; fuzz_clients < (int32_t)fw.o.clients; fuzz_clients++) {
		out->tries++;
		if (fuzz_still_fails(workload, seed, out->code))
			break;
	}
	if (fw.o.servers > 3 && fuzz_servers == 0) {
		fuzz_servers = 3;
		out->tries++;
		if (!fuzz_still_fails(workload, seed, out->code))
			fuzz_servers = 0;
	}
	fuzz_one(workload, seed, &line, false, NULL);
	out->tries++;
	n = line.moves < SIM_MOVES_MAX ? (uint32_t)line.moves : SIM_MOVES_MAX;
	out->moves_total = n;
	for (chunk = n > 1 ? n / 2 : 1; n > 0; chunk /= 2) {
		for (start = 0; start < n && out->tries < FUZZ_SHRINK_TRIES; start += chunk) {
			uint64_t before[SIM_MOVES_MAX / 64];
			bool any = false;
			memcpy(before, fuzz_drop, sizeof(before));
			for (k = start; k < start + chunk && k < n; k++)
				if (!fuzz_moves_has(fuzz_drop, k)) {
					fuzz_drop[k / 64] |= 1ull << (k % 64);
					any = true;
				}
			if (!any)
				continue;
			out->tries++;
			if (!fuzz_still_fails(workload, seed, out->code))
				memcpy(fuzz_drop, before, sizeof(before));
		}
		if (chunk <= 1)
			break;
	}
	fuzz_shrink_classes(workload, seed, out); /* with fewer moves, fewer classes may do */
	for (k = 0; k < n; k++)
		out->moves_kept += !fuzz_moves_has(fuzz_drop, k);
	fuzz_draw(workload, seed, &fw);
	fuzz_replay_cmd(workload, seed, out->replay, sizeof(out->replay));
	snprintf(out->params, sizeof(out->params), "%s", fw.params);
	fuzz_one(workload, seed, &line, true, &r);
	out->tries++;
	out->code = line.code;
	snprintf(out->message, sizeof(out->message), "%s", line.message);
	f = open_memstream(&out->scenario, &size);
	if (f != NULL) {
		fuzz_lua(f, workload, seed, &fw, &r, out->replay, line.message);
		fclose(f);
	}
	sim_result_free(&r);
	fuzz_overrides_swap(&saved, false);
	return 0;
}

/* --replay SEED --shrink: the shrunk world, its replay command and its
 * scenario. */
static int fuzz_shrink(const char *workload, uint64_t seed)
{
	struct fuzz_shrunk sh;
	if (fuzz_shrink_seed(workload, seed, &sh) != 0) {
		printf("seed %" PRIu64 " passes: nothing to shrink\n", seed);
		return 0;
	}
	printf("shrunk in %d runs: %s\n%u of %u nemesis moves kept\nstill fails (exit %d): %s\n", sh.tries, sh.params,
	       sh.moves_kept, sh.moves_total, sh.code, sh.message);
	printf("replay: %s\n\n-- scenario (scenarios/regressions/%s_%" PRIu64 ".lua):\n%s", sh.replay, workload, seed,
	       sh.scenario != NULL ? sh.scenario : "-- (out of memory)\n");
	free(sh.scenario);
	return sh.code;
}

/* The whole of --replay or --replay --shrink in a child process: a run
 * that trips an assertion abandons its world there, and the parent exits
 * clean.  The child's exit code. */
static int fuzz_cli_isolated(const char *workload, uint64_t seed, bool shrink)
{
	int status;
	pid_t pid;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return shrink ? fuzz_shrink(workload, seed) : fuzz_replay(workload, seed);
	if (pid == 0) {
		int rc = shrink ? fuzz_shrink(workload, seed) : fuzz_replay(workload, seed);
		fflush(stdout);
		_exit(rc);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

/* fuzz_shrink_seed in a child process, its findings sent back through a
 * pipe (the fixed part, then the scenario's length and bytes).  0, -1
 * when the seed passes, -2 when the child died (the seed kills its
 * process). */
static int fuzz_shrink_isolated(const char *workload, uint64_t seed, struct fuzz_shrunk *out)
{
	int p[2], status;
	pid_t pid;
	size_t len = 0;
	bool ok;
	memset(out, 0, sizeof(*out));
	fflush(stdout);
	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct fuzz_shrunk sh;
		signal(SIGINT, SIG_DFL); /* Ctrl-C ends the shrink; the parent keeps what it has */
		close(p[0]);
		if (fuzz_shrink_seed(workload, seed, &sh) != 0)
			_exit(1);
		len = sh.scenario != NULL ? strlen(sh.scenario) : 0;
		ok = write(p[1], &sh, sizeof(sh)) == (ssize_t)sizeof(sh) &&
		     write(p[1], &len, sizeof(len)) == (ssize_t)sizeof(len) &&
		     (len == 0 || write(p[1], sh.scenario, len) == (ssize_t)len);
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	ok = fuzz_read_full(p[0], out, sizeof(*out)) == (ssize_t)sizeof(*out) &&
	     fuzz_read_full(p[0], &len, sizeof(len)) == (ssize_t)sizeof(len);
	out->scenario = NULL;
	if (ok && len > 0) {
		out->scenario = malloc(len + 1);
		if (out->scenario != NULL && fuzz_read_full(p[0], out->scenario, len) == (ssize_t)len) {
			out->scenario[len] = '\0';
		} else {
			free(out->scenario);
			out->scenario = NULL;
			ok = false;
		}
	}
	close(p[0]);
	if (fuzz_interrupted != 0)
		kill(pid, SIGTERM); /* Ctrl-C: the shrink stops here */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ok && WIFSIGNALED(status))
		return -2;
	return ok ? 0 : -1;
}

/* A worker: seeds first+k, first+k+jobs, ... up to last (or the deadline),
 * each result written to fd as one binary record. */
#define FUZZ_WORKER_REPLACE 3 /* a worker's exit status: it caught an assertion, start another */

static void fuzz_worker(const char *workload, uint64_t start, uint64_t last, unsigned jobs, uint64_t deadline_ms, int fd)
{
	uint64_t seed;
	for (seed = start; seed <= last && seed >= start; seed += jobs) {
		struct fuzz_line line;
		if (deadline_ms != 0 && net_now_ms() >= deadline_ms)
			break;
		fuzz_one(workload, seed, &line, false, NULL);
		if (write(fd, &line, sizeof(line)) != (ssize_t)sizeof(line))
			break;
		if (fuzz_assertions > 0) {
			close(fd);
			_exit(FUZZ_WORKER_REPLACE);
		}
	}
	close(fd);
	_exit(0);
}

/* Starts the worker for seeds start, start+jobs, ... : its pipe's read end, or -1. */
static int fuzz_spawn(const char *workload, uint64_t start, uint64_t last, unsigned jobs, uint64_t deadline_ms,
		      pid_t *pid)
{
	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		return -1;
	}
	fflush(stdout);
	*pid = fork();
	if (*pid < 0) {
		perror("fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*pid == 0) {
		signal(SIGINT, SIG_DFL); /* Ctrl-C ends the workers; the parent records what they sent */
		close(p[0]);
		fuzz_worker(workload, start, last, jobs, deadline_ms, p[1]);
	}
	close(p[1]);
	return p[0];
}

static const char *fuzz_outcome(int code)
{
	return code == 0 ? "pass" : code == 128 ? "liveness" : code == 129 ? "violation" : "crash";
}

int fuzz_cli(int argc, char **argv)
{
	const char *workload = argv[2], *db = NULL;
	uint64_t first = 1, last = UINT64_MAX, budget_ms = 0, deadline = 0, t0, done = 0, failed = 0, next_print;
	uint64_t replay = 0, sim_ms = 0, marks = 0;
	unsigned jobs = 1, k, alive, shrink_max = 5, shrink_seeds = 0;
	uint64_t to_shrink[16];
	bool stop_on_failure = false, quiet = false, have_seeds = false, tty = isatty(2), shrink = false;
	int fds[FUZZ_JOBS_MAX];
	pid_t pids[FUZZ_JOBS_MAX];
	uint64_t next_seed[FUZZ_JOBS_MAX];
	bool stopping = false;
	struct rundb *rdb = NULL;
	char errmsg[512];
	int i, rc = 0;
	if (strcmp(workload, "election") != 0 && strcmp(workload, "writes") != 0)
		return fuzz_usage();
	pd_assert_set_hook(fuzz_assert_hook);
	for (i = 3; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--stop-on-failure") == 0) {
			stop_on_failure = true;
			continue;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			quiet = true;
			continue;
		}
		if (strcmp(argv[i], "--shrink") == 0) {
			shrink = true;
			continue;
		}
		if (v == NULL)
			return fuzz_usage();
		if (strcmp(argv[i], "--seeds") == 0) {
			const char *dots = strstr(v, "..");
			if (dots == NULL)
				return fuzz_usage();
			first = strtoull(v, NULL, 0);
			last = strtoull(dots + 2, NULL, 0);
			have_seeds = true;
			if (last < first)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--time") == 0) {
			budget_ms = fuzz_budget_ms(v);
			if (budget_ms == 0)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--jobs") == 0) {
			jobs = (unsigned)strtoul(v, NULL, 10);
			if (jobs < 1 || jobs > FUZZ_JOBS_MAX)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--db") == 0) {
			db = v;
		} else if (strcmp(argv[i], "--bugs") == 0) {
			fuzz_bugs = (uint32_t)strtoul(v, NULL, 0);
		} else if (strcmp(argv[i], "--faults") == 0) {
			fuzz_faults = (uint32_t)strtoul(v, NULL, 0) & SIM_FAULT_ALL;
			if (fuzz_faults == 0)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--seconds") == 0) {
			fuzz_fault_ms = (uint64_t)(strtod(v, NULL) * 1000);
			if (fuzz_fault_ms == 0)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--clients") == 0) {
			fuzz_clients = (int32_t)strtol(v, NULL, 10);
			if (fuzz_clients < 0 || fuzz_clients > 64)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--drop") == 0) {
			if (fuzz_moves_parse(v, fuzz_drop) != 0)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--shrink-failures") == 0) {
			shrink_max = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(argv[i], "--servers") == 0) {
			fuzz_servers = (uint32_t)strtoul(v, NULL, 10);
			if (fuzz_servers < 1 || fuzz_servers > 7)
				return fuzz_usage();
		} else if (strcmp(argv[i], "--replay") == 0) {
			replay = strtoull(v, NULL, 0);
			if (replay == 0)
				return fuzz_usage();
		} else {
			return fuzz_usage();
		}
		i++;
	}
	if (replay != 0)
		return fuzz_cli_isolated(workload, replay, shrink);
	if (shrink)
		return fuzz_usage(); /* --shrink needs --replay SEED */
	if (!have_seeds && budget_ms == 0)
		last = 1000; /* neither: a thousand seeds */
	if (db != NULL && (rdb = rundb_open(db, errmsg, sizeof(errmsg))) == NULL) {
		fprintf(stderr, "paddock fuzz: %s\n", errmsg);
		return 2;
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fuzz_on_sigint;
		sigaction(SIGINT, &sa, NULL);
	}
	t0 = net_now_ms();
	if (budget_ms != 0)
		deadline = t0 + budget_ms;
	fflush(stdout);
	for (k = 0; k < jobs; k++) {
		next_seed[k] = first + k;
		if ((fds[k] = fuzz_spawn(workload, next_seed[k], last, jobs, deadline, &pids[k])) < 0)
			return 2;
	}
	alive = jobs;
	next_print = t0 + 1000;
	while (alive > 0) {
		struct pollfd pf[FUZZ_JOBS_MAX];
		unsigned n = 0;
		for (k = 0; k < jobs; k++)
			if (fds[k] >= 0) {
				pf[n].fd = fds[k];
				pf[n].events = POLLIN;
				n++;
			}
		if (poll(pf, n, 500) < 0 && errno != EINTR)
			break;
		if (fuzz_interrupted == 1) {
			fuzz_interrupted = 2;
			for (k = 0; k < jobs; k++)
				if (pids[k] > 0)
					kill(pids[k], SIGTERM);
		}
		for (k = 0; k < n; k++) {
			struct fuzz_line line;
			ssize_t got;
			unsigned j;
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = fuzz_read_full(pf[k].fd, &line, sizeof(line));
			if (got != (ssize_t)sizeof(line)) {
				/* the worker is done, caught an assertion, or died */
				bool died = false;
				for (j = 0; j < jobs; j++)
					if (fds[j] == pf[k].fd) {
						int status = 0, sig;
						uint64_t lost = next_seed[j];
						bool going = fuzz_interrupted == 0 && !stopping;
						close(fds[j]);
						fds[j] = -1;
						waitpid(pids[j], &status, 0);
						pids[j] = 0;
						/* died of a signal (a crash in the run, not our SIGTERM): its
						 * seed fails as a crash, and the seeds after it go on */
						died = going && WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM &&
						       lost <= last && lost >= first;
						sig = died ? WTERMSIG(status) : 0;
						if (died) {
							memset(&line, 0, sizeof(line));
							line.seed = lost;
							line.code = 127;
							snprintf(line.message, sizeof(line.message), "the run died of signal %d (%s)",
								 sig, strsignal(sig));
							next_seed[j] = lost + jobs;
						}
						/* a worker that caught an assertion (or died): another goes on after it */
						if (going && (died || (WIFEXITED(status) && WEXITSTATUS(status) == FUZZ_WORKER_REPLACE)) &&
						    next_seed[j] <= last && next_seed[j] >= first &&
						    (fds[j] = fuzz_spawn(workload, next_seed[j], last, jobs, deadline, &pids[j])) >= 0)
							continue;
						alive--;
					}
				if (!died)
					continue;
			} else {
				for (j = 0; j < jobs; j++)
					if (fds[j] == pf[k].fd)
						next_seed[j] = line.seed + jobs;
			}
			done++;
			sim_ms += line.virtual_ms;
			marks |= line.marks;
			if (line.code != 0) {
				failed++;
				if (shrink_seeds < shrink_max && shrink_seeds < sizeof(to_shrink) / sizeof(to_shrink[0]))
					to_shrink[shrink_seeds++] = line.seed;
				if (rc == 0)
					rc = 1;
				char cmd[FUZZ_CMD_MAX];
				fuzz_replay_cmd(workload, line.seed, cmd, sizeof(cmd));
				printf("%sseed %" PRIu64 ": %s (exit %d): %s; replay: %s\n", tty ? "\r\033[K" : "", line.seed,
				       fuzz_outcome(line.code), line.code, line.message, cmd);
				fflush(stdout);
			}
			if (rdb != NULL) {
				struct fuzz_world fw;
				char replay_cmd[FUZZ_CMD_MAX], digest[24];
				fuzz_draw(workload, line.seed, &fw);
				fuzz_replay_cmd(workload, line.seed, replay_cmd, sizeof(replay_cmd));
				snprintf(digest, sizeof(digest), "0x%016" PRIx64, line.digest);
				if (rundb_add_fuzz(rdb, workload, line.seed, fw.params, fuzz_outcome(line.code), line.code,
						   line.code != 0 ? line.message : NULL, digest, line.virtual_ms, line.wall_ms,
						   line.events, line.marks, replay_cmd, errmsg, sizeof(errmsg)) != 0) {
					fprintf(stderr, "paddock fuzz: recording: %s\n", errmsg);
					rc = 2;
				}
			}
			if (line.code != 0 && stop_on_failure) {
				stopping = true;
				for (j = 0; j < jobs; j++)
					if (pids[j] > 0)
						kill(pids[j], SIGTERM);
			}
		}
		if (!quiet && net_now_ms() >= next_print) {
			uint64_t el = net_now_ms() - t0;
			double rate = el > 0 ? (double)done * 1000.0 / (double)el : 0;
			char eta[48] = "";
			if (last != UINT64_MAX && rate > 0) {
				uint64_t total = last - first + 1;
				snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(total > done ? total - done : 0) / rate);
			} else if (deadline != 0) {
				snprintf(eta, sizeof(eta), ", %.0f s left",
					 deadline > net_now_ms() ? (double)(deadline - net_now_ms()) / 1000.0 : 0.0);
			}
			fprintf(stderr, "%s[fuzz %s] %" PRIu64 " seeds, %.1f seeds/s, %.1f simulated s per s, %" PRIu64
					" failures%s%s",
				tty ? "\r\033[K" : "", workload, done, rate, el > 0 ? (double)sim_ms / (double)el : 0.0, failed,
				eta, tty ? "" : "\n");
			next_print = net_now_ms() + (tty ? 500 : 10000);
		}
	}
	for (k = 0; k < jobs; k++) {
		int status;
		if (pids[k] > 0)
			waitpid(pids[k], &status, 0);
	}
	/* the first failures shrunk, and recorded with their scenarios */
	for (k = 0; k < shrink_seeds && fuzz_interrupted == 0; k++) {
		struct fuzz_shrunk sh;
		int got = fuzz_shrink_isolated(workload, to_shrink[k], &sh);
		if (got != 0) {
			if (fuzz_interrupted != 0)
				break;
			if (got == -2) {
				printf("seed %" PRIu64 ": not shrunk (the shrinking process died with it)\n", to_shrink[k]);
				continue;
			}
			printf("seed %" PRIu64 ": passes when run again, not shrunk\n", to_shrink[k]);
			rc = 2;
			continue;
		}
		printf("seed %" PRIu64 " shrunk in %d runs (%u of %u nemesis moves kept; exit %d: %s): %s\n", to_shrink[k],
		       sh.tries, sh.moves_kept, sh.moves_total, sh.code, sh.message, sh.replay);
		if (rdb != NULL && sh.scenario != NULL) {
			struct rundb_shrunk rs = {sh.replay,      sh.params,         sh.message,        sh.scenario,
						  sh.tries,       (int)sh.moves_kept, (int)sh.moves_total};
			if (rundb_add_shrunk(rdb, workload, to_shrink[k], &rs, errmsg, sizeof(errmsg)) != 0) {
				fprintf(stderr, "paddock fuzz: recording: %s\n", errmsg);
				rc = 2;
			}
		}
		free(sh.scenario);
	}
	if (rdb != NULL && rundb_close(rdb, errmsg, sizeof(errmsg)) != 0) {
		fprintf(stderr, "paddock fuzz: recording: %s\n", errmsg);
		rc = 2;
	}
	{
		uint64_t el = net_now_ms() - t0;
		fprintf(stderr, "%s", tty ? "\r\033[K" : "");
		printf("fuzz %s: %" PRIu64 " seeds in %.1f s (%.1f seeds/s, %.1f simulated s per wall s, %u jobs): %" PRIu64
		       " failed\n",
		       workload, done, (double)el / 1000.0, el > 0 ? (double)done * 1000.0 / (double)el : 0.0,
		       el > 0 ? (double)sim_ms / (double)el : 0.0, jobs, failed);
		if (done > 0) {
			uint32_t m, missed = 0;
			printf("coverage marks never hit:");
			for (m = 0; m < PD_MARK_COUNT; m++)
				if (!(marks & (1ull << m))) {
					printf(" %s", pd_mark_names[m]);
					missed++;
				}
			printf("%s (%u of %u hit)\n", missed == 0 ? " none" : "", PD_MARK_COUNT - missed, PD_MARK_COUNT);
		}
	}
	return rc;
}
