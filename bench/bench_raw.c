/*
 * bench_raw.c: a capacity load generator that speaks the ZooKeeper client
 * protocol itself (jute frames over TCP, one epoll thread, deep pipelining),
 * so that on a small machine the server, not the load generator, is what
 * runs out of CPU.  bench_client (on the real C client, libzookeeper_mt)
 * stays the reference generator; this one answers "how much can the server
 * serve" when the C client's per-request cost would hide it.
 *
 *   bench_raw --hosts 127.0.0.1:2181 --op get|set|create --conns 8 --depth 128 \
 *             --duration 10 --warmup 3 --value-size 100 --keys 1000
 *
 * Prints "RESULT ..." (ops, ops_per_s, p50_us, p99_us, errors, cpu) like
 * bench_client.  Uses no paddock code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAW_OP_CREATE 1
#define RAW_OP_GETDATA 4
#define RAW_OP_SETDATA 5

struct raw_conn {
	int fd;
	int index;
	uint8_t *in;
	size_t in_len;
	size_t in_cap;
	uint8_t *out;
	size_t out_len;
	size_t out_cap;
	uint64_t *sent_ns; /* ring of submit times, replies come back in order */
	uint32_t ring_head;
	uint32_t ring_count;
	uint32_t depth;
	int32_t xid;
	uint64_t counter;
	bool want_out;
};

static uint64_t raw_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double raw_self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void raw_die(const char *what)
{
	fprintf(stderr, "bench_raw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void raw_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t raw_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void raw_reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap == 0 ? 65536 : *cap * 2;
	*buf = realloc(*buf, *cap);
	if (*buf == NULL)
		raw_die("realloc");
}

static void raw_out_bytes(struct raw_conn *c, const void *p, size_t n)
{
	raw_reserve(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void raw_out32(struct raw_conn *c, uint32_t v)
{
	uint8_t b[4];
	raw_put32(b, v);
	raw_out_bytes(c, b, 4);
}

static void raw_out_str(struct raw_conn *c, const char *s, size_t n)
{
	raw_out32(c, (uint32_t)n);
	raw_out_bytes(c, s, n);
}

struct raw_opts {
	const char *host;
	int port;
	int op;
	int conns;
	int depth;
	double duration_s;
	double warmup_s;
	int value_size;
	int keys;
	const char *prefix;
	const char *label;
};

static char raw_value[1 << 20];

/* Appends one request frame for connection c. */
static void raw_request(const struct raw_opts *o, struct raw_conn *c, uint64_t now)
{
	char path[256];
	size_t start = c->out_len, plen;
	int32_t xid = ++c->xid;
	raw_out32(c, 0); /* length, patched */
	raw_out32(c, (uint32_t)xid);
	if (o->op == RAW_OP_CREATE) {
		plen = (size_t)snprintf(path, sizeof(path), "%s/c%d-%" PRIu64, o->prefix, c->index, c->counter++);
		raw_out32(c, RAW_OP_CREATE);
		raw_out_str(c, path, plen);
		raw_out_str(c, raw_value, (size_t)o->value_size);
		raw_out32(c, 1); /* one ACL: world:anyone ALL */
		raw_out32(c, 31);
		raw_out_str(c, "world", 5);
		raw_out_str(c, "anyone", 6);
		raw_out32(c, 0); /* persistent */
	} else {
		plen = (size_t)snprintf(path, sizeof(path), "%s/k%" PRIu64, o->prefix,
					(c->counter++ * 7919u + (uint64_t)c->index) % (uint64_t)o->keys);
		raw_out32(c, (uint32_t)o->op);
		raw_out_str(c, path, plen);
		if (o->op == RAW_OP_SETDATA) {
			raw_out_str(c, raw_value, (size_t)o->value_size);
			raw_out32(c, 0xffffffffu); /* any version */
		} else {
			uint8_t no_watch = 0;
			raw_out_bytes(c, &no_watch, 1);
		}
	}
	raw_put32(c->out + start, (uint32_t)(c->out_len - start - 4));
	c->sent_ns[(c->ring_head + c->ring_count) % c->depth] = now;
	c->ring_count++;
}

static int raw_connect_fd(const struct raw_opts *o)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0)
		raw_die("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &sin.sin_addr) != 1) {
		fprintf(stderr, "bench_raw: --hosts needs an IPv4 address\n");
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		raw_die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void raw_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			raw_die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* Reads one whole frame (blocking); returns its payload length in buf. */
static size_t raw_read_frame(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0, need = 4, len = 0;
	while (got < need) {
		ssize_t r = read(fd, buf + got, need - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			raw_die("read");
		got += (size_t)r;
		if (got == 4 && need == 4) {
			len = raw_get32(buf);
			if (len + 4 > cap) {
				fprintf(stderr, "bench_raw: frame too large\n");
				exit(1);
			}
			need = 4 + len;
		}
	}
	memmove(buf, buf + 4, len);
	return len;
}

static void raw_handshake(int fd)
{
	uint8_t req[49], resp[64];
	memset(req, 0, sizeof(req));
	raw_put32(req, 45);
	raw_put32(req + 4 + 12, 30000); /* timeout */
	raw_put32(req + 4 + 24, 16);   /* passwd length, 16 zero bytes follow */
	raw_write_all(fd, req, sizeof(req));
	if (raw_read_frame(fd, resp, sizeof(resp)) < 20 || raw_get32(resp + 4) == 0) {
		fprintf(stderr, "bench_raw: session refused\n");
		exit(1);
	}
}

/* Synchronous request on a blocking fd: returns the reply's err. */
static int32_t raw_sync_call(int fd, int32_t xid, int32_t op, const char *path, const char *data, size_t dlen)
{
	uint8_t buf[4096], resp[4096];
	size_t n = 4, plen = strlen(path);
	raw_put32(buf + n, (uint32_t)xid);
	raw_put32(buf + n + 4, (uint32_t)op);
	n += 8;
	raw_put32(buf + n, (uint32_t)plen);
	memcpy(buf + n + 4, path, plen);
	n += 4 + plen;
	if (op == RAW_OP_CREATE) {
		raw_put32(buf + n, (uint32_t)dlen);
		memcpy(buf + n + 4, data, dlen);
		n += 4 + dlen;
		raw_put32(buf + n, 1);
		raw_put32(buf + n + 4, 31);
		raw_put32(buf + n + 8, 5);
		memcpy(buf + n + 12, "world", 5);
		raw_put32(buf + n + 17, 6);
		memcpy(buf + n + 21, "anyone", 6);
		raw_put32(buf + n + 27, 0);
		n += 31;
	} else { /* delete */
		raw_put32(buf + n, 0xffffffffu);
		n += 4;
	}
	raw_put32(buf, (uint32_t)(n - 4));
	raw_write_all(fd, buf, n);
	raw_read_frame(fd, resp, sizeof(resp));
	return (int32_t)raw_get32(resp + 12);
}

static int raw_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void raw_usage(void)
{
	fprintf(stderr, "usage: bench_raw --hosts IPV4:PORT [--op get|set|create] [--conns N] [--depth K]\n"
			"                 [--duration S] [--warmup S] [--value-size B] [--keys N] [--prefix P] [--label T]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct raw_opts o = {"127.0.0.1", 2181, RAW_OP_GETDATA, 8, 128, 10, 3, 100, 1000, "/benchraw", "-"};
	struct raw_conn *conns;
	struct epoll_event ev, events[64];
	uint32_t *lat = NULL;
	size_t lat_count = 0, lat_cap = 0;
	uint64_t t0, t_measure, t_end, ops = 0, errors = 0;
	double cpu0 = 0;
	char host[128];
	int i, ep, setup_fd;
	bool measuring = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			raw_usage();
		if (strcmp(a, "--hosts") == 0) {
			const char *colon = strrchr(v, ':');
			if (colon == NULL || (size_t)(colon - v) >= sizeof(host))
				raw_usage();
			memcpy(host, v, (size_t)(colon - v));
			host[colon - v] = '\0';
			o.host = host;
			o.port = atoi(colon + 1);
		} else if (strcmp(a, "--op") == 0) {
			o.op = strcmp(v, "create") == 0 ? RAW_OP_CREATE : strcmp(v, "set") == 0 ? RAW_OP_SETDATA
				: strcmp(v, "get") == 0 ? RAW_OP_GETDATA : -1;
			if (o.op < 0)
				raw_usage();
		} else if (strcmp(a, "--conns") == 0) {
			o.conns = atoi(v);
		} else if (strcmp(a, "--depth") == 0) {
			o.depth = atoi(v);
		} else if (strcmp(a, "--duration") == 0) {
			o.duration_s = atof(v);
		} else if (strcmp(a, "--warmup") == 0) {
			o.warmup_s = atof(v);
		} else if (strcmp(a, "--value-size") == 0) {
			o.value_size = atoi(v);
		} else if (strcmp(a, "--keys") == 0) {
			o.keys = atoi(v);
		} else if (strcmp(a, "--prefix") == 0) {
			o.prefix = v;
		} else if (strcmp(a, "--label") == 0) {
			o.label = v;
		} else {
			raw_usage();
		}
		i++;
	}
	if (o.conns < 1 || o.conns > 1000 || o.depth < 1 || o.depth > 100000 || o.value_size < 0 ||
	    o.value_size > (1 << 19) || o.keys < 1 || o.duration_s <= 0)
		raw_usage();
	memset(raw_value, 'v', sizeof(raw_value));
	/* Set-up on one blocking connection: the parent and the keys. */
	setup_fd = raw_connect_fd(&o);
	raw_handshake(setup_fd);
	(void)raw_sync_call(setup_fd, 1, RAW_OP_CREATE, o.prefix, "", 0);
	if (o.op != RAW_OP_CREATE) {
		char path[256];
		for (i = 0; i < o.keys; i++) {
			snprintf(path, sizeof(path), "%s/k%d", o.prefix, i);
			(void)raw_sync_call(setup_fd, 2 + i, RAW_OP_CREATE, path, raw_value, (size_t)o.value_size);
		}
	}
	ep = epoll_create1(0);
	conns = calloc((size_t)o.conns, sizeof(*conns));
	if (ep < 0 || conns == NULL)
		raw_die("setup");
	t0 = raw_now_ns();
	for (i = 0; i < o.conns; i++) {
		struct raw_conn *c = &conns[i];
		int k;
		c->index = i;
		c->depth = (uint32_t)o.depth;
		c->sent_ns = calloc((size_t)o.depth, sizeof(uint64_t));
		c->fd = raw_connect_fd(&o);
		raw_handshake(c->fd);
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		for (k = 0; k < o.depth; k++)
			raw_request(&o, c, t0);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = c;
		c->want_out = true;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	t_measure = t0 + (uint64_t)(o.warmup_s * 1e9);
	t_end = t_measure + (uint64_t)(o.duration_s * 1e9);
	for (;;) {
		int n = epoll_wait(ep, events, 64, 100), e;
		uint64_t now = raw_now_ns();
		if (!measuring && now >= t_measure) {
			measuring = true;
			cpu0 = raw_self_cpu_s();
			t_measure = now;
		}
		if (now >= t_end)
			break;
		for (e = 0; e < n; e++) {
			struct raw_conn *c = events[e].data.ptr;
			if (events[e].events & EPOLLIN) {
				for (;;) {
					ssize_t r;
					raw_reserve(&c->in, &c->in_cap, c->in_len + 65536);
					r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
					if (r < 0 && errno == EINTR)
						continue;
					if (r < 0 && errno == EAGAIN)
						break;
					if (r <= 0) {
						fprintf(stderr, "bench_raw: connection %d closed by the server\n", c->index);
						exit(1);
					}
					c->in_len += (size_t)r;
				}
				{
					size_t off = 0;
					while (c->in_len - off >= 4) {
						uint32_t flen = raw_get32(c->in + off);
						int32_t xid, err;
						if (c->in_len - off - 4 < flen)
							break;
						xid = (int32_t)raw_get32(c->in + off + 4);
						err = (int32_t)raw_get32(c->in + off + 16);
						off += 4 + flen;
						if (xid < 0)
							continue; /* notification or ping */
						if (err != 0)
							errors++;
						if (c->ring_count > 0) {
							uint64_t sent = c->sent_ns[c->ring_head];
							c->ring_head = (c->ring_head + 1) % c->depth;
							c->ring_count--;
							if (measuring && sent >= t_measure) {
								if (lat_count == lat_cap) {
									lat_cap = lat_cap == 0 ? 1u << 20 : lat_cap * 2;
									lat = realloc(lat, lat_cap * sizeof(uint32_t));
									if (lat == NULL)
										raw_die("realloc");
								}
								lat[lat_count++] = (uint32_t)((now - sent) / 1000u);
								ops++;
							}
						}
						raw_request(&o, c, now);
					}
					memmove(c->in, c->in + off, c->in_len - off);
					c->in_len -= off;
				}
			}
			while (c->out_len > 0) {
				ssize_t w = write(c->fd, c->out, c->out_len);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0 && errno == EAGAIN)
					break;
				if (w <= 0)
					raw_die("write");
				memmove(c->out, c->out + w, c->out_len - (size_t)w);
				c->out_len -= (size_t)w;
			}
			if ((c->out_len > 0) != c->want_out) {
				c->want_out = c->out_len > 0;
				memset(&ev, 0, sizeof(ev));
				ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
	}
	{
		double secs = (double)(raw_now_ns() - t_measure) / 1e9;
		double cpu = raw_self_cpu_s() - cpu0;
		uint32_t p50 = 0, p99 = 0, p999 = 0;
		const char *opname = o.op == RAW_OP_CREATE ? "create" : o.op == RAW_OP_SETDATA ? "set" : "get";
		if (lat_count > 0) {
			qsort(lat, lat_count, sizeof(uint32_t), raw_cmp_u32);
			p50 = lat[lat_count / 2];
			p99 = lat[(size_t)((double)lat_count * 0.99)];
			p999 = lat[(size_t)((double)lat_count * 0.999)];
		}
		printf("RESULT label=%s op=%s conns=%d depth=%d value_size=%d ops=%" PRIu64 " seconds=%.3f ops_per_s=%.1f "
		       "p50_us=%u p99_us=%u p999_us=%u errors=%" PRIu64 " client_cpu_s=%.2f\n",
		       o.label, opname, o.conns, o.depth, o.value_size, ops, secs, (double)ops / secs, p50, p99, p999,
		       errors, cpu);
		printf("%s: %d conns x %d deep, %d-byte values: %" PRIu64 " ops in %.2f s = %.0f ops/s; latency p50 %.3f ms, "
		       "p99 %.3f ms; %" PRIu64 " errors\n",
		       opname, o.conns, o.depth, o.value_size, ops, secs, (double)ops / secs, p50 / 1000.0, p99 / 1000.0,
		       errors);
	}
	for (i = 0; i < o.conns; i++) {
		close(conns[i].fd);
		free(conns[i].in);
		free(conns[i].out);
		free(conns[i].sent_ns);
	}
	free(conns);
	free(lat);
	close(setup_fd);
	close(ep);
	return 0;
}
