/*
 * bench_common.c: connection, cleanup and /proc helpers for the benchmark tools.
 */
#include "bench_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bc_quiet_client_log(bool silent)
{
	static FILE *devnull;
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if (silent) {
		if (devnull == NULL)
			devnull = fopen("/dev/null", "w");
		if (devnull != NULL)
			zoo_set_log_stream(devnull);
	}
}

struct conn_state {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool connected;
	bool expired;
};

static void conn_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct conn_state *cs = ctx;
	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT || cs == NULL)
		return;
	pthread_mutex_lock(&cs->mu);
	if (state == ZOO_CONNECTED_STATE)
		cs->connected = true;
	else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
		cs->expired = true;
	pthread_cond_broadcast(&cs->cv);
	pthread_mutex_unlock(&cs->mu);
}

zhandle_t *bc_connect(const char *hosts, int session_timeout_ms, int wait_ms)
{
	struct conn_state *cs = calloc(1, sizeof(*cs));
	zhandle_t *zh;
	struct timespec deadline;
	bool ok;

	if (cs == NULL)
		return NULL;
	pthread_mutex_init(&cs->mu, NULL);
	pthread_cond_init(&cs->cv, NULL);
	zh = zookeeper_init(hosts, conn_watcher, session_timeout_ms, NULL, cs, 0);
	if (zh == NULL) {
		fprintf(stderr, "zookeeper_init(%s): %s\n", hosts, strerror(errno));
		free(cs);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cs->mu);
	while (!cs->connected && !cs->expired) {
		if (pthread_cond_timedwait(&cs->cv, &cs->mu, &deadline) == ETIMEDOUT)
			break;
	}
	ok = cs->connected;
	pthread_mutex_unlock(&cs->mu);
	if (!ok) {
		fprintf(stderr, "could not connect to %s within %d ms\n", hosts, wait_ms);
		bc_close(zh);
		return NULL;
	}
	return zh;
}

void bc_close(zhandle_t *zh)
{
	struct conn_state *cs;
	if (zh == NULL)
		return;
	cs = (struct conn_state *)zoo_get_context(zh);
	zookeeper_close(zh);
	if (cs != NULL) {
		pthread_mutex_destroy(&cs->mu);
		pthread_cond_destroy(&cs->cv);
		free(cs);
	}
}

bool bc_expired(zhandle_t *zh)
{
	struct conn_state *cs = (struct conn_state *)zoo_get_context(zh);
	bool e;
	if (cs == NULL)
		return false;
	pthread_mutex_lock(&cs->mu);
	e = cs->expired;
	pthread_mutex_unlock(&cs->mu);
	return e;
}

int bc_ensure_node(zhandle_t *zh, const char *path)
{
	char buf[1024];
	size_t len = strlen(path), i;
	int rc;
	if (len == 0 || len >= sizeof(buf))
		return ZBADARGUMENTS;
	memcpy(buf, path, len + 1);
	/* Ancestors first, then the node itself. */
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		rc = zoo_create(zh, buf, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
		buf[i] = path[i];
		if (rc != ZOK && rc != ZNODEEXISTS) {
			fprintf(stderr, "create %.*s: %s\n", (int)i, path, zerror(rc));
			return rc;
		}
	}
	return 0;
}

bool bc_rc_is_connection_error(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZSESSIONEXPIRED || rc == ZCLOSING || rc == ZOPERATIONTIMEOUT ||
	       rc == ZINVALIDSTATE || rc == ZSESSIONMOVED;
}

/* ---- recursive delete with a pipeline of asynchronous deletes ---- */

struct del_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
	int first_error;
	char **notempty; /* children that still have children: recursed into afterwards */
	size_t n_notempty, cap_notempty;
};

struct del_req {
	struct del_pipe *p;
	char path[];
};

static void del_done(int rc, const void *data)
{
	struct del_req *r = (struct del_req *)data;
	struct del_pipe *p = r->p;

	pthread_mutex_lock(&p->mu);
	if (rc == ZNOTEMPTY) {
		if (p->n_notempty == p->cap_notempty) {
			size_t cap = p->cap_notempty ? p->cap_notempty * 2 : 64;
			char **n = realloc(p->notempty, cap * sizeof(*n));
			if (n != NULL) {
				p->notempty = n;
				p->cap_notempty = cap;
			}
		}
		char *copy = p->n_notempty < p->cap_notempty ? strdup(r->path) : NULL;
		if (copy != NULL)
			p->notempty[p->n_notempty++] = copy;
		else if (p->first_error == ZOK)
			p->first_error = ZSYSTEMERROR;
	} else if (rc != ZOK && rc != ZNONODE && p->first_error == ZOK) {
		p->first_error = rc;
	}
	p->inflight--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	free(r);
}

int bc_delete_tree(zhandle_t *zh, const char *path, int outstanding)
{
	struct String_vector kids = {0, NULL};
	struct del_pipe p;
	int rc, i, err;
	size_t k;

	if (outstanding < 1)
		outstanding = 1;
	rc = zoo_delete(zh, path, -1);
	if (rc == ZOK || rc == ZNONODE)
		return ZOK;
	if (rc != ZNOTEMPTY)
		return rc;
	rc = zoo_get_children(zh, path, 0, &kids);
	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;

	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.first_error = ZOK;
	for (i = 0; i < kids.count; i++) {
		size_t len = strlen(path) + 1 + strlen(kids.data[i]) + 1;
		struct del_req *r = malloc(sizeof(*r) + len);
		if (r == NULL) {
			rc = ZSYSTEMERROR;
			break;
		}
		r->p = &p;
		snprintf(r->path, len, "%s/%s", strcmp(path, "/") == 0 ? "" : path, kids.data[i]);
		pthread_mutex_lock(&p.mu);
		while (p.inflight >= outstanding)
			pthread_cond_wait(&p.cv, &p.mu);
		p.inflight++;
		pthread_mutex_unlock(&p.mu);
		rc = zoo_adelete(zh, r->path, -1, del_done, r);
		if (rc != ZOK) {
			pthread_mutex_lock(&p.mu);
			p.inflight--;
			pthread_mutex_unlock(&p.mu);
			free(r);
			break;
		}
	}
	pthread_mutex_lock(&p.mu);
	while (p.inflight > 0)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
	deallocate_String_vector(&kids);

	err = rc != ZOK ? rc : p.first_error;
	for (k = 0; k < p.n_notempty; k++) {
		if (err == ZOK)
			err = bc_delete_tree(zh, p.notempty[k], outstanding);
		free(p.notempty[k]);
	}
	free(p.notempty);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	if (err != ZOK)
		return err;
	rc = zoo_delete(zh, path, -1);
	return rc == ZNONODE ? ZOK : rc;
}

/* ---- /proc readers ---- */

long bc_rss_kb(pid_t pid)
{
	char fn[64], line[256];
	long kb = -1;
	FILE *f;
	snprintf(fn, sizeof(fn), "/proc/%ld/status", (long)pid);
	f = fopen(fn, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

double bc_proc_cpu_s(pid_t pid)
{
	char fn[64], buf[4096];
	unsigned long long ut = 0, st = 0;
	const char *p;
	size_t n;
	FILE *f;
	snprintf(fn, sizeof(fn), "/proc/%ld/stat", (long)pid);
	f = fopen(fn, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may contain spaces: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* After ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double bc_system_busy_s(void)
{
	unsigned long long v[10] = {0}, busy = 0;
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int n, i;
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is inside user. */
	n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	if (n < 4)
		return -1;
	for (i = 0; i < n && i < 8; i++)
		if (i != 3 && i != 4)
			busy += v[i];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

double bc_self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- option parsing ---- */

long long bc_parse_ll(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: expected an integer in [%lld, %lld], got '%s'\n", opt, lo, hi, s);
		exit(2);
	}
	return v;
}

double bc_parse_seconds(const char *opt, const char *s)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e6) {
		fprintf(stderr, "%s: expected a number of seconds, got '%s'\n", opt, s);
		exit(2);
	}
	return v;
}
