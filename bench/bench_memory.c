/*
 * bench_memory: bytes of server RSS per znode.
 *
 * Creates --znodes znodes (default 1,000,000) of --value-size bytes (default
 * 100) through the real C client (libzookeeper_mt), pipelined with the async
 * API: first --parents parents PREFIX/p-0000 ... (default 1000), then the
 * remaining znodes as children PREFIX/p-XXXX/n-0000000123, spread round robin
 * over the parents.  Every one of the --znodes znodes carries a value of
 * --value-size bytes.  It reads VmRSS of the server process (--pid) from
 * /proc/PID/status before and after and reports
 *     (RSS_after - RSS_before) / znodes
 * as bytes per znode.
 *
 * With --jvm (Apache ZooKeeper), it additionally runs `jcmd PID GC.run` (a
 * full GC) and reads RSS again, and reads the Java heap's used bytes after a
 * full GC from `jcmd PID GC.heap_info`, before and after; all figures are
 * printed, each under its own name.
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

#define MEM_PATH_MAX 512

struct mclient;

struct mslot {
	struct mclient *c;
	char path[MEM_PATH_MAX];
};

struct mclient {
	zhandle_t *zh;
	_Atomic uint64_t next;
	uint64_t limit;
	_Atomic int inflight;
	_Atomic uint64_t ok, errors;
	_Atomic int first_error;
	struct mslot *slots;
};

static struct {
	const char *prefix;
	uint64_t parents;
	const char *value;
	int value_len;
	bool children; /* phase: false = parents, true = children */
} g;

static void missue(struct mslot *s);

static void mdone(int rc, const char *value, const void *data)
{
	struct mslot *s = (struct mslot *)data;
	struct mclient *c = s->c;
	(void)value;
	if (rc == ZOK) {
		atomic_fetch_add(&c->ok, 1);
	} else {
		int zero = 0;
		atomic_fetch_add(&c->errors, 1);
		atomic_compare_exchange_strong(&c->first_error, &zero, rc);
		if (bc_rc_is_connection_error(rc)) {
			atomic_fetch_sub(&c->inflight, 1);
			return;
		}
	}
	missue(s);
}

static void missue(struct mslot *s)
{
	struct mclient *c = s->c;
	uint64_t idx = atomic_fetch_add(&c->next, 1);
	int rc;
	if (idx >= c->limit) {
		atomic_fetch_sub(&c->inflight, 1);
		return;
	}
	if (!g.children)
		snprintf(s->path, sizeof(s->path), "%s/p-%04" PRIu64, g.prefix, idx);
	else
		snprintf(s->path, sizeof(s->path), "%s/p-%04" PRIu64 "/n-%010" PRIu64, g.prefix, idx % g.parents,
			 idx);
	rc = zoo_acreate(c->zh, s->path, g.value, g.value_len, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, mdone, s);
	if (rc != ZOK) {
		int zero = 0;
		atomic_fetch_add(&c->errors, 1);
		atomic_compare_exchange_strong(&c->first_error, &zero, rc);
		atomic_fetch_sub(&c->inflight, 1);
	}
}

static void sleep_s(double s)
{
	struct timespec ts;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Creates indexes [0, total) of the current phase, split over the clients. */
static int create_range(struct mclient *cl, int n, int outstanding, uint64_t total, uint64_t *ok, uint64_t *errors)
{
	int i, k, busy, first = 0;
	uint64_t per = total / (uint64_t)n, lo = 0;
	for (i = 0; i < n; i++) {
		uint64_t cnt = per + ((uint64_t)i < total % (uint64_t)n);
		atomic_store(&cl[i].next, lo);
		cl[i].limit = lo + cnt;
		lo += cnt;
		atomic_store(&cl[i].ok, 0);
		atomic_store(&cl[i].errors, 0);
		atomic_store(&cl[i].first_error, 0);
		atomic_store(&cl[i].inflight, 0);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < outstanding; k++) {
			atomic_fetch_add(&cl[i].inflight, 1);
			missue(&cl[i].slots[k]);
		}
	}
	do {
		sleep_s(0.002);
		busy = 0;
		for (i = 0; i < n; i++)
			busy += atomic_load(&cl[i].inflight);
	} while (busy > 0);
	*ok = *errors = 0;
	for (i = 0; i < n; i++) {
		*ok += atomic_load(&cl[i].ok);
		*errors += atomic_load(&cl[i].errors);
		if (first == 0)
			first = atomic_load(&cl[i].first_error);
	}
	return first;
}

/* Runs `jcmd PID ARGS`; returns its output (malloc'd) or NULL. */
static char *jcmd(pid_t pid, const char *args)
{
	char cmd[256];
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	FILE *p;
	int st;
	if (out == NULL)
		return NULL;
	snprintf(cmd, sizeof(cmd), "jcmd %ld %s 2>&1", (long)pid, args);
	p = popen(cmd, "r");
	if (p == NULL) {
		free(out);
		return NULL;
	}
	for (;;) {
		size_t r;
		if (cap - len < 1024) {
			char *n = realloc(out, cap * 2);
			if (n == NULL)
				break;
			out = n;
			cap *= 2;
		}
		r = fread(out + len, 1, cap - len - 1, p);
		if (r == 0)
			break;
		len += r;
	}
	out[len] = '\0';
	st = pclose(p);
	if (st != 0) {
		fprintf(stderr, "%s failed:\n%s\n", cmd, out);
		free(out);
		return NULL;
	}
	return out;
}

static int jvm_full_gc(pid_t pid)
{
	char *o = jcmd(pid, "GC.run");
	if (o == NULL)
		return -1;
	free(o);
	return 0;
}

/* Java heap used and committed (kB) from `jcmd PID GC.heap_info`: "... heap total NK, used NK ...". */
static int jvm_heap_kb(pid_t pid, long *used_kb, long *total_kb)
{
	char *o = jcmd(pid, "GC.heap_info"), *line, *save = NULL;
	int rc = -1;
	if (o == NULL)
		return -1;
	for (line = strtok_r(o, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *t = strstr(line, " total "), *u = strstr(line, " used ");
		if (strstr(line, "heap") != NULL && t != NULL && u != NULL) {
			*total_kb = strtol(t + 7, NULL, 10);
			*used_kb = strtol(u + 6, NULL, 10);
			rc = 0;
			break;
		}
	}
	if (rc != 0)
		fprintf(stderr, "could not parse jcmd GC.heap_info output\n");
	free(o);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_memory --hosts HOST:PORT --pid SERVER_PID [options]\n"
		"  --znodes N          znodes to create, parents included (default 1000000)\n"
		"  --parents P         parent znodes; the rest are their children (default 1000)\n"
		"  --value-size B      bytes of data in every znode (default 100)\n"
		"  --clients N         sessions creating in parallel (default 2)\n"
		"  --outstanding K     async creates in flight per session (default 256)\n"
		"  --prefix PATH       parent of all created znodes (default /mem)\n"
		"  --settle S          seconds to wait before each RSS reading (default 2)\n"
		"  --jvm               the server is a JVM: also full GC (jcmd GC.run) and heap figures\n"
		"  --label TEXT        copied into the RESULT line\n"
		"  --no-cleanup        leave the znodes (default: delete them at the end)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"hosts", required_argument, NULL, 'h'},   {"pid", required_argument, NULL, 'P'},
		{"znodes", required_argument, NULL, 'n'},  {"parents", required_argument, NULL, 'p'},
		{"value-size", required_argument, NULL, 'b'}, {"clients", required_argument, NULL, 'c'},
		{"outstanding", required_argument, NULL, 'k'}, {"prefix", required_argument, NULL, 'x'},
		{"settle", required_argument, NULL, 's'},  {"jvm", no_argument, NULL, 'j'},
		{"label", required_argument, NULL, 'l'},   {"no-cleanup", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'H'},          {NULL, 0, NULL, 0},
	};
	const char *hosts = NULL, *label = "-";
	pid_t pid = 0;
	long long znodes = 1000000, parents = 1000;
	int value_size = 100, clients = 2, outstanding = 256, ch, i, k, status = 0, rc;
	double settle = 2;
	bool jvm = false, no_cleanup = false, made_prefix = false;
	long rss0, rss1, rss2 = -1, heap0 = -1, heap1 = -1, tot0 = -1, tot1 = -1;
	uint64_t ok1, err1, ok2, err2, t0, t1;
	struct mclient *cl;
	char *value;

	g.prefix = "/mem";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			hosts = optarg;
			break;
		case 'P':
			pid = (pid_t)bc_parse_ll("--pid", optarg, 1, INT32_MAX);
			break;
		case 'n':
			znodes = bc_parse_ll("--znodes", optarg, 1, 1000000000);
			break;
		case 'p':
			parents = bc_parse_ll("--parents", optarg, 1, 10000);
			break;
		case 'b':
			value_size = (int)bc_parse_ll("--value-size", optarg, 0, 1000000);
			break;
		case 'c':
			clients = (int)bc_parse_ll("--clients", optarg, 1, 256);
			break;
		case 'k':
			outstanding = (int)bc_parse_ll("--outstanding", optarg, 1, 100000);
			break;
		case 'x':
			g.prefix = optarg;
			break;
		case 's':
			settle = bc_parse_seconds("--settle", optarg);
			break;
		case 'j':
			jvm = true;
			break;
		case 'l':
			label = optarg;
			break;
		case 'N':
			no_cleanup = true;
			break;
		case 'H':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || hosts == NULL || pid == 0) {
		usage(stderr);
		return 2;
	}
	if (parents > znodes) {
		fprintf(stderr, "--parents must not exceed --znodes\n");
		return 2;
	}
	if (g.prefix[0] != '/' || strlen(g.prefix) > 200 || strcmp(g.prefix, "/") == 0 ||
	    g.prefix[strlen(g.prefix) - 1] == '/' || strncmp(g.prefix, "/zookeeper", 10) == 0) {
		fprintf(stderr, "--prefix: expected an absolute path below / (not /zookeeper)\n");
		return 2;
	}
	if (bc_rss_kb(pid) < 0) {
		fprintf(stderr, "cannot read /proc/%ld/status\n", (long)pid);
		return 1;
	}
	bc_quiet_client_log(false);
	g.parents = (uint64_t)parents;
	value = malloc((size_t)value_size + 1);
	cl = calloc((size_t)clients, sizeof(*cl));
	if (value == NULL || cl == NULL)
		return 1;
	memset(value, 'v', (size_t)value_size);
	g.value = value;
	g.value_len = value_size;
	for (i = 0; i < clients; i++) {
		cl[i].slots = calloc((size_t)outstanding, sizeof(*cl[i].slots));
		if (cl[i].slots == NULL)
			return 1;
		for (k = 0; k < outstanding; k++)
			cl[i].slots[k].c = &cl[i];
		cl[i].zh = bc_connect(hosts, 30000, 15000);
		if (cl[i].zh == NULL) {
			status = 1;
			goto out;
		}
	}
	rc = zoo_exists(cl[0].zh, g.prefix, 0, NULL);
	if (rc != ZNONODE) {
		fprintf(stderr, "%s already exists (or exists failed: %s); remove it first\n", g.prefix, zerror(rc));
		status = 1;
		goto out;
	}
	if (bc_ensure_node(cl[0].zh, g.prefix) != 0) {
		status = 1;
		goto out;
	}
	made_prefix = true;

	/* before */
	if (jvm && (jvm_full_gc(pid) != 0)) {
		status = 1;
		goto out;
	}
	sleep_s(settle);
	rss0 = bc_rss_kb(pid);
	if (jvm && jvm_heap_kb(pid, &heap0, &tot0) != 0) {
		status = 1;
		goto out;
	}

	t0 = bc_now_ns();
	g.children = false;
	rc = create_range(cl, clients, outstanding, (uint64_t)parents, &ok1, &err1);
	if (err1 == 0) {
		g.children = true;
		rc = create_range(cl, clients, outstanding, (uint64_t)(znodes - parents), &ok2, &err2);
	} else {
		ok2 = err2 = 0;
	}
	t1 = bc_now_ns();
	if (err1 + err2 > 0 || ok1 + ok2 != (uint64_t)znodes) {
		fprintf(stderr, "creates: %" PRIu64 " ok, %" PRIu64 " failed (first: %s)\n", ok1 + ok2, err1 + err2,
			zerror(rc));
		status = 1;
		goto out;
	}

	/* after */
	sleep_s(settle);
	rss1 = bc_rss_kb(pid);
	if (jvm) {
		if (jvm_full_gc(pid) != 0) {
			status = 1;
			goto out;
		}
		sleep_s(settle);
		rss2 = bc_rss_kb(pid);
		if (jvm_heap_kb(pid, &heap1, &tot1) != 0) {
			status = 1;
			goto out;
		}
	}

	{
		double n = (double)znodes, secs = (double)(t1 - t0) / 1e9;
		printf("RESULT label=%s znodes=%lld parents=%lld value_size=%d create_seconds=%.2f creates_per_s=%.0f"
		       " rss_before_kb=%ld rss_after_kb=%ld rss_bytes_per_znode=%.1f",
		       label, znodes, parents, value_size, secs, n / secs, rss0, rss1,
		       (double)(rss1 - rss0) * 1024.0 / n);
		if (jvm)
			printf(" rss_after_gc_kb=%ld rss_gc_bytes_per_znode=%.1f heap_used_before_kb=%ld"
			       " heap_used_after_kb=%ld heap_bytes_per_znode=%.1f heap_committed_after_kb=%ld",
			       rss2, (double)(rss2 - rss0) * 1024.0 / n, heap0, heap1,
			       (double)(heap1 - heap0) * 1024.0 / n, tot1);
		printf("\n");
		printf("%s: %lld znodes of %d bytes (%lld parents) created in %.1f s (%.0f/s); RSS %ld -> %ld kB = "
		       "%.1f bytes/znode",
		       label, znodes, value_size, parents, secs, n / secs, rss0, rss1,
		       (double)(rss1 - rss0) * 1024.0 / n);
		if (jvm)
			printf("; after full GC: RSS %ld kB = %.1f bytes/znode, Java heap used %ld -> %ld kB = %.1f "
			       "bytes/znode",
			       rss2, (double)(rss2 - rss0) * 1024.0 / n, heap0, heap1,
			       (double)(heap1 - heap0) * 1024.0 / n);
		printf("\n");
		fflush(stdout);
	}

out:
	if (!no_cleanup && made_prefix) {
		rc = bc_delete_tree(cl[0].zh, g.prefix, outstanding);
		if (rc != ZOK)
			fprintf(stderr, "cleanup of %s: %s\n", g.prefix, zerror(rc));
	}
	for (i = 0; i < clients; i++) {
		bc_close(cl[i].zh);
		free(cl[i].slots);
	}
	free(cl);
	free(value);
	return status;
}
