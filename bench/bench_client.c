/*
 * bench_client: a load generator on the real Apache ZooKeeper C client
 * (libzookeeper_mt).  N clients, each its own session, each keeps K
 * asynchronous requests in flight (zoo_acreate / zoo_aset / zoo_aget with
 * completion callbacks; a completion submits the next request).  Latency is
 * measured per request on the monotonic clock, from just before the
 * zoo_a* call to the start of its completion callback.
 *
 * Output: one machine-readable line starting with "RESULT " (key=value
 * pairs) and one human-readable line.
 *
 * Layout of the nodes it uses (all removed again unless --no-cleanup):
 *   PREFIX                       created if missing, removed if empty at the end
 *   PREFIX/rPID-TIME             one per run
 *   PREFIX/rPID-TIME/cI          one per client
 *   PREFIX/rPID-TIME/cI/n-SEQ    created by --op create (SEQ 10 digits)
 *   PREFIX/rPID-TIME/cI/k-KEY    --keys nodes per client for set/get/mixed
 */
#include "bench_common.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum bench_op {
	OP_CREATE,
	OP_SET,
	OP_GET,
	OP_MIXED,
	OP_PREP_KEYS, /* creates the k-* nodes for set/get/mixed */
	OP_DELETE_N,  /* cleanup of the n-* nodes */
	OP_DELETE_K,  /* cleanup of the k-* nodes */
};

static const char *const op_names[] = {"create", "set", "get", "mixed", "prepare", "delete", "delete"};

#define BENCH_PATH_MAX 512

struct client;

struct slot {
	struct client *c;
	uint64_t t0;
	unsigned rng;
	char path[BENCH_PATH_MAX];
};

struct client {
	int id;
	zhandle_t *zh;
	char base[BENCH_PATH_MAX - 32];
	_Atomic uint64_t next; /* next sequence number to issue in this phase */
	uint64_t limit;        /* issue sequence numbers below this */
	uint64_t created_hi;   /* n-* nodes with SEQ below this may exist */
	_Atomic int inflight;
	_Atomic uint64_t last_done_ns;
	_Atomic uint64_t ok;
	_Atomic uint64_t errors;
	_Atomic int first_error;
	uint64_t *lat; /* latencies in ns, only touched by the completion thread */
	size_t nlat, caplat;
	bool lat_oom;
	struct slot *slots;
};

/* State of the phase being run; written by the main thread before requests are issued. */
static struct {
	enum bench_op op;
	bool record;
	_Atomic bool stop;
	const char *value;
	int value_len;
	uint64_t keys;
	int read_pct;
} g;

static void issue(struct slot *s);

static void retire(struct client *c)
{
	atomic_fetch_sub(&c->inflight, 1);
}

static bool rc_is_ok(enum bench_op op, int rc)
{
	if (rc == ZOK)
		return true;
	if ((op == OP_DELETE_N || op == OP_DELETE_K) && rc == ZNONODE)
		return true;
	return op == OP_PREP_KEYS && rc == ZNODEEXISTS;
}

static void record(struct slot *s, int rc)
{
	uint64_t t1 = bc_now_ns();
	struct client *c = s->c;

	atomic_store(&c->last_done_ns, t1);
	if (!rc_is_ok(g.op, rc)) {
		int zero = 0;
		atomic_fetch_add(&c->errors, 1);
		atomic_compare_exchange_strong(&c->first_error, &zero, rc);
		if (bc_rc_is_connection_error(rc)) {
			if (rc == ZSESSIONEXPIRED || rc == ZCLOSING || bc_expired(c->zh)) {
				retire(c);
				return;
			}
			/* Connection loss: back off a little instead of spinning. */
			usleep(10000);
		}
		issue(s);
		return;
	}
	atomic_fetch_add(&c->ok, 1);
	if (g.record && !c->lat_oom) {
		if (c->nlat == c->caplat) {
			size_t cap = c->caplat ? c->caplat * 2 : 65536;
			uint64_t *n = realloc(c->lat, cap * sizeof(*n));
			if (n == NULL) {
				c->lat_oom = true;
				goto next;
			}
			c->lat = n;
			c->caplat = cap;
		}
		c->lat[c->nlat++] = t1 - s->t0;
	}
next:
	issue(s);
}

static void string_done(int rc, const char *value, const void *data)
{
	(void)value;
	record((struct slot *)data, rc);
}

static void stat_done(int rc, const struct Stat *stat, const void *data)
{
	(void)stat;
	record((struct slot *)data, rc);
}

static void data_done(int rc, const char *value, int value_len, const struct Stat *stat, const void *data)
{
	(void)value;
	(void)value_len;
	(void)stat;
	record((struct slot *)data, rc);
}

static void void_done(int rc, const void *data)
{
	record((struct slot *)data, rc);
}

/* Issues the next request of the phase on this slot, or retires the slot. */
static void issue(struct slot *s)
{
	struct client *c = s->c;
	enum bench_op op = g.op;
	uint64_t idx;
	int rc;

	if (atomic_load(&g.stop)) {
		retire(c);
		return;
	}
	idx = atomic_fetch_add(&c->next, 1);
	if (idx >= c->limit) {
		retire(c);
		return;
	}
	if (op == OP_MIXED)
		op = (int)(rand_r(&s->rng) % 100) < g.read_pct ? OP_GET : OP_SET;
	if (op == OP_CREATE || op == OP_DELETE_N)
		snprintf(s->path, sizeof(s->path), "%s/n-%010" PRIu64, c->base, idx);
	else
		snprintf(s->path, sizeof(s->path), "%s/k-%06" PRIu64, c->base, idx % g.keys);
	s->t0 = bc_now_ns();
	switch (op) {
	case OP_CREATE:
	case OP_PREP_KEYS:
		rc = zoo_acreate(c->zh, s->path, g.value, g.value_len, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
				 string_done, s);
		break;
	case OP_SET:
		rc = zoo_aset(c->zh, s->path, g.value, g.value_len, -1, stat_done, s);
		break;
	case OP_GET:
		rc = zoo_aget(c->zh, s->path, 0, data_done, s);
		break;
	case OP_DELETE_N:
	case OP_DELETE_K:
		rc = zoo_adelete(c->zh, s->path, -1, void_done, s);
		break;
	default:
		rc = ZBADARGUMENTS;
		break;
	}
	if (rc != ZOK) {
		int zero = 0;
		atomic_fetch_add(&c->errors, 1);
		atomic_compare_exchange_strong(&c->first_error, &zero, rc);
		retire(c);
	}
}

struct phase_result {
	uint64_t ok, errors;
	int first_error;
	double seconds;
	double client_cpu_s, server_cpu_s, system_busy_s;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int total_inflight(struct client *cl, int n)
{
	int i, t = 0;
	for (i = 0; i < n; i++)
		t += atomic_load(&cl[i].inflight);
	return t;
}

/*
 * Runs one phase: every client keeps `outstanding` requests of `op` in
 * flight until each has issued per_client[i] requests (count mode,
 * per_client != NULL) or `duration` seconds have passed.
 */
static void run_phase(struct client *cl, int n, int outstanding, enum bench_op op, const uint64_t *per_client,
		      double duration, bool rec, pid_t server_pid, struct phase_result *res)
{
	uint64_t t0, t_end = 0;
	int i, k;

	g.op = op;
	g.record = rec;
	atomic_store(&g.stop, false);
	for (i = 0; i < n; i++) {
		struct client *c = &cl[i];
		uint64_t start = 0;
		if (op == OP_CREATE)
			start = c->created_hi; /* names stay unique across warm-up and measured run */
		atomic_store(&c->next, start);
		if (op == OP_DELETE_N)
			c->limit = c->created_hi;
		else if (op == OP_PREP_KEYS || op == OP_DELETE_K)
			c->limit = g.keys;
		else
			c->limit = per_client != NULL ? start + per_client[i] : UINT64_MAX;
		atomic_store(&c->inflight, 0);
		atomic_store(&c->ok, 0);
		atomic_store(&c->errors, 0);
		atomic_store(&c->first_error, 0);
		atomic_store(&c->last_done_ns, 0);
		c->nlat = 0;
	}
	res->system_busy_s = bc_system_busy_s();
	res->client_cpu_s = bc_self_cpu_s();
	res->server_cpu_s = server_pid > 0 ? bc_proc_cpu_s(server_pid) : -1;
	t0 = bc_now_ns();
	for (i = 0; i < n; i++) {
		for (k = 0; k < outstanding; k++) {
			atomic_fetch_add(&cl[i].inflight, 1);
			issue(&cl[i].slots[k]);
		}
	}
	if (per_client == NULL && op != OP_PREP_KEYS && op != OP_DELETE_N && op != OP_DELETE_K) {
		uint64_t deadline = t0 + (uint64_t)(duration * 1e9);
		while (bc_now_ns() < deadline && total_inflight(cl, n) > 0)
			sleep_ms(1);
		atomic_store(&g.stop, true);
	}
	while (total_inflight(cl, n) > 0)
		sleep_ms(1);
	res->ok = res->errors = 0;
	res->first_error = 0;
	for (i = 0; i < n; i++) {
		struct client *c = &cl[i];
		uint64_t ld = atomic_load(&c->last_done_ns);
		if (ld > t_end)
			t_end = ld;
		res->ok += atomic_load(&c->ok);
		res->errors += atomic_load(&c->errors);
		if (res->first_error == 0)
			res->first_error = atomic_load(&c->first_error);
		if (op == OP_CREATE) {
			uint64_t nx = atomic_load(&c->next);
			c->created_hi = nx < c->limit ? nx : c->limit;
		}
	}
	if (t_end < t0)
		t_end = bc_now_ns();
	res->seconds = (double)(t_end - t0) / 1e9;
	res->client_cpu_s = bc_self_cpu_s() - res->client_cpu_s;
	if (res->system_busy_s >= 0) {
		double b = bc_system_busy_s();
		res->system_busy_s = b >= 0 ? b - res->system_busy_s : -1;
	}
	if (server_pid > 0 && res->server_cpu_s >= 0) {
		double s = bc_proc_cpu_s(server_pid);
		res->server_cpu_s = s >= 0 ? s - res->server_cpu_s : -1;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t rank;
	if (n == 0)
		return 0;
	rank = (size_t)(p * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1e3;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_client --hosts HOST:PORT [options]\n"
		"  --op create|set|get|mixed   workload (default get)\n"
		"  --clients N                 sessions, each its own zhandle (default 1)\n"
		"  --outstanding K             async requests in flight per client (default 1)\n"
		"  --duration S                measured seconds (default 10)\n"
		"  --count N                   measure exactly N requests in total instead of a duration\n"
		"  --warmup S                  unmeasured seconds of the same workload first (default 0)\n"
		"  --value-size B              bytes per value for create/set (default 100)\n"
		"  --keys N                    nodes per client that set/get/mixed use (default 1000)\n"
		"  --read-pct P                share of gets in --op mixed, the rest are sets (default 80)\n"
		"  --prefix PATH               parent of the benchmark's nodes (default /bench)\n"
		"  --label TEXT                copied into the RESULT line\n"
		"  --server-pid PID            also report the server's CPU seconds during the run\n"
		"  --session-timeout MS        session timeout asked for (default 30000)\n"
		"  --no-cleanup                leave the nodes behind\n"
		"  --cleanup                   only delete everything under --prefix, then exit\n"
		"  --per-client                also print ops/s, p50 and p99 of each client (on stderr)\n"
		"  --verbose                   keep the C client's WARN/INFO logging\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"hosts", required_argument, NULL, 'h'},
		{"op", required_argument, NULL, 'o'},
		{"clients", required_argument, NULL, 'c'},
		{"outstanding", required_argument, NULL, 'k'},
		{"duration", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{"value-size", required_argument, NULL, 'b'},
		{"keys", required_argument, NULL, 'K'},
		{"read-pct", required_argument, NULL, 'r'},
		{"prefix", required_argument, NULL, 'p'},
		{"label", required_argument, NULL, 'l'},
		{"server-pid", required_argument, NULL, 'P'},
		{"session-timeout", required_argument, NULL, 't'},
		{"no-cleanup", no_argument, NULL, 'N'},
		{"cleanup", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"per-client", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'H'},
		{NULL, 0, NULL, 0},
	};
	const char *hosts = NULL, *prefix = "/bench", *label = "";
	enum bench_op op = OP_GET;
	int clients = 1, outstanding = 1, value_size = 100, read_pct = 80, session_timeout = 30000;
	double duration = 10, warmup = 0;
	long long count = 0, keys = 1000;
	pid_t server_pid = 0;
	bool no_cleanup = false, cleanup_only = false, verbose = false, made_nodes = false;
	bool per_client_report = false;
	char run_path[BENCH_PATH_MAX - 64];
	struct client *cl;
	struct phase_result res, tmp;
	uint64_t *per_client = NULL, *all;
	size_t nall = 0;
	char *value;
	int i, k, ch, rc, status = 0, nalloc = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			hosts = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "create") == 0)
				op = OP_CREATE;
			else if (strcmp(optarg, "set") == 0)
				op = OP_SET;
			else if (strcmp(optarg, "get") == 0)
				op = OP_GET;
			else if (strcmp(optarg, "mixed") == 0)
				op = OP_MIXED;
			else {
				fprintf(stderr, "--op: expected create, set, get or mixed\n");
				return 2;
			}
			break;
		case 'c':
			clients = (int)bc_parse_ll("--clients", optarg, 1, 1024);
			break;
		case 'k':
			outstanding = (int)bc_parse_ll("--outstanding", optarg, 1, 100000);
			break;
		case 'd':
			duration = bc_parse_seconds("--duration", optarg);
			break;
		case 'n':
			count = bc_parse_ll("--count", optarg, 1, INT64_MAX);
			break;
		case 'w':
			warmup = bc_parse_seconds("--warmup", optarg);
			break;
		case 'b':
			value_size = (int)bc_parse_ll("--value-size", optarg, 0, 1000000);
			break;
		case 'K':
			keys = bc_parse_ll("--keys", optarg, 1, 100000000);
			break;
		case 'r':
			read_pct = (int)bc_parse_ll("--read-pct", optarg, 0, 100);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'P':
			server_pid = (pid_t)bc_parse_ll("--server-pid", optarg, 1, INT32_MAX);
			break;
		case 't':
			session_timeout = (int)bc_parse_ll("--session-timeout", optarg, 1000, 600000);
			break;
		case 'N':
			no_cleanup = true;
			break;
		case 'C':
			cleanup_only = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'I':
			per_client_report = true;
			break;
		case 'H':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || hosts == NULL) {
		usage(stderr);
		return 2;
	}
	if (prefix[0] != '/' || strlen(prefix) > 200 || (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/') ||
	    strcmp(prefix, "/") == 0 || strncmp(prefix, "/zookeeper", 10) == 0) {
		fprintf(stderr, "--prefix: expected an absolute path below / (not /zookeeper), at most 200 bytes\n");
		return 2;
	}
	if (!verbose)
		bc_quiet_client_log(false);

	if (cleanup_only) {
		zhandle_t *zh = bc_connect(hosts, session_timeout, 15000);
		if (zh == NULL)
			return 1;
		rc = bc_delete_tree(zh, prefix, 256);
		bc_close(zh);
		if (rc != ZOK) {
			fprintf(stderr, "cleanup of %s: %s\n", prefix, zerror(rc));
			return 1;
		}
		printf("deleted %s\n", prefix);
		return 0;
	}

	value = malloc((size_t)value_size + 1);
	cl = calloc((size_t)clients, sizeof(*cl));
	all = NULL;
	if (value == NULL || cl == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(value, 'v', (size_t)value_size);
	g.value = value;
	g.value_len = value_size;
	g.keys = (uint64_t)keys;
	g.read_pct = read_pct;

	snprintf(run_path, sizeof(run_path), "%s/r%ld-%lx", prefix, (long)getpid(), (unsigned long)time(NULL));
	for (i = 0; i < clients; i++) {
		struct client *c = &cl[i];
		c->id = i;
		snprintf(c->base, sizeof(c->base), "%s/c%d", run_path, i);
		c->slots = calloc((size_t)outstanding, sizeof(*c->slots));
		nalloc = i + 1;
		if (c->slots == NULL) {
			fprintf(stderr, "out of memory\n");
			status = 1;
			clients = i;
			goto out;
		}
		for (k = 0; k < outstanding; k++) {
			c->slots[k].c = c;
			c->slots[k].rng = (unsigned)(i * 7919 + k * 104729 + 1);
		}
		c->zh = bc_connect(hosts, session_timeout, 15000);
		if (c->zh == NULL) {
			status = 1;
			clients = i;
			goto out;
		}
	}
	made_nodes = true;
	if (bc_ensure_node(cl[0].zh, prefix) != 0 || bc_ensure_node(cl[0].zh, run_path) != 0) {
		status = 1;
		goto out;
	}
	for (i = 0; i < clients; i++) {
		if (bc_ensure_node(cl[0].zh, cl[i].base) != 0) {
			status = 1;
			goto out;
		}
	}
	if (op != OP_CREATE) {
		run_phase(cl, clients, outstanding, OP_PREP_KEYS, NULL, 0, false, 0, &tmp);
		if (tmp.errors > 0) {
			fprintf(stderr, "creating the %lld key nodes per client failed: %s\n", keys,
				zerror(tmp.first_error));
			status = 1;
			goto out;
		}
	}
	if (warmup > 0) {
		run_phase(cl, clients, outstanding, op, NULL, warmup, false, 0, &tmp);
		if (tmp.errors > 0)
			fprintf(stderr, "warm-up: %" PRIu64 " errors (first: %s)\n", tmp.errors,
				zerror(tmp.first_error));
	}
	if (count > 0) {
		per_client = calloc((size_t)clients, sizeof(*per_client));
		if (per_client == NULL) {
			status = 1;
			goto out;
		}
		for (i = 0; i < clients; i++)
			per_client[i] = (uint64_t)count / (uint64_t)clients + ((uint64_t)i < (uint64_t)count % (uint64_t)clients);
	}
	run_phase(cl, clients, outstanding, op, per_client, duration, true, server_pid, &res);

	for (i = 0; i < clients; i++)
		nall += cl[i].nlat;
	all = malloc((nall ? nall : 1) * sizeof(*all));
	if (all == NULL) {
		fprintf(stderr, "out of memory\n");
		status = 1;
		goto out;
	}
	nall = 0;
	for (i = 0; i < clients; i++) {
		if (cl[i].lat_oom)
			fprintf(stderr, "warning: client %d ran out of memory for latency samples\n", i);
		memcpy(all + nall, cl[i].lat, cl[i].nlat * sizeof(*all));
		nall += cl[i].nlat;
	}
	if (per_client_report) {
		for (i = 0; i < clients; i++) {
			struct client *c = &cl[i];
			qsort(c->lat, c->nlat, sizeof(*c->lat), cmp_u64);
			fprintf(stderr, "client %d: %zu ops = %.0f ops/s, p50 %.1f us, p99 %.1f us, max %.1f us\n", i,
				c->nlat, res.seconds > 0 ? (double)c->nlat / res.seconds : 0, pct_us(c->lat, c->nlat, 0.5),
				pct_us(c->lat, c->nlat, 0.99), pct_us(c->lat, c->nlat, 1.0));
		}
	}
	qsort(all, nall, sizeof(*all), cmp_u64);
	{
		double ops_s = res.seconds > 0 ? (double)res.ok / res.seconds : 0, sum = 0;
		size_t j;
		for (j = 0; j < nall; j++)
			sum += (double)all[j];
		printf("RESULT label=%s op=%s clients=%d outstanding=%d value_size=%d ops=%" PRIu64
		       " seconds=%.3f ops_per_s=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
		       " mean_us=%.1f errors=%" PRIu64 " client_cpu_s=%.2f server_cpu_s=%.2f system_busy_s=%.2f\n",
		       label[0] ? label : "-", op_names[op], clients, outstanding, value_size, res.ok, res.seconds,
		       ops_s, pct_us(all, nall, 0.50), pct_us(all, nall, 0.90), pct_us(all, nall, 0.99),
		       pct_us(all, nall, 0.999), nall ? (double)all[nall - 1] / 1e3 : 0,
		       nall ? sum / (double)nall / 1e3 : 0, res.errors, res.client_cpu_s, res.server_cpu_s, res.system_busy_s);
		printf("%s%s%s: %d client%s x %d outstanding, %d-byte values: %" PRIu64
		       " ops in %.2f s = %.0f ops/s; latency p50 %.3f ms, p99 %.3f ms; %" PRIu64 " errors%s%s\n",
		       label[0] ? label : "", label[0] ? " " : "", op_names[op], clients, clients == 1 ? "" : "s",
		       outstanding, value_size, res.ok, res.seconds, ops_s, pct_us(all, nall, 0.50) / 1e3,
		       pct_us(all, nall, 0.99) / 1e3, res.errors, res.errors ? " (first: " : "",
		       res.errors ? zerror(res.first_error) : "");
		if (res.errors)
			printf(")\n");
		fflush(stdout);
		if (res.errors > 0)
			status = 3;
	}

out:
	if (!no_cleanup && made_nodes) {
		if (op == OP_CREATE)
			run_phase(cl, clients, outstanding, OP_DELETE_N, NULL, 0, false, 0, &tmp);
		else
			run_phase(cl, clients, outstanding, OP_DELETE_K, NULL, 0, false, 0, &tmp);
		if (tmp.errors > 0)
			fprintf(stderr, "cleanup: %" PRIu64 " errors (first: %s)\n", tmp.errors,
				zerror(tmp.first_error));
		rc = bc_delete_tree(cl[0].zh, run_path, 256);
		if (rc != ZOK)
			fprintf(stderr, "cleanup of %s: %s\n", run_path, zerror(rc));
		rc = zoo_delete(cl[0].zh, prefix, -1);
		if (rc != ZOK && rc != ZNOTEMPTY && rc != ZNONODE)
			fprintf(stderr, "cleanup of %s: %s\n", prefix, zerror(rc));
	}
	for (i = 0; i < nalloc; i++) {
		bc_close(cl[i].zh);
		free(cl[i].slots);
		free(cl[i].lat);
	}
	free(cl);
	free(all);
	free(per_client);
	free(value);
	return status;
}
