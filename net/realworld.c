/*
 * realworld.c: the real world of a scenario (lua/world.h, pdw_real_ops): an
 * ensemble of `paddock server` processes on 127.0.0.1, each started from its
 * own zoo.cfg and dataDir under a fresh temporary directory, and the
 * scenario's clients (client/zkc) driven over non-blocking TCP sockets
 * while advance() runs.
 *
 * What it knows of a server it learns as an operator would: whether its
 * process runs (waitpid), what the four-letter word `srvr` says (Mode,
 * Zxid; "not currently serving" while it elects or syncs), and the newest
 * "role ... leader N epoch E" line in its log (srvr names neither the
 * leader nor the epoch).  Answers are kept 100 ms so that a scenario
 * polling every 10 ms does not flood the servers.
 *
 * Faults: a crash is SIGKILL (a torn write is one too: a real disk cannot
 * tear on demand); a restart runs the same zoo.cfg on the same dataDir; a
 * wipe empties a stopped server's dataDir (myid stays).  Partitions,
 * isolation and clogs need a network this process controls.  Network
 * namespaces can be made here (`unshare -rn true` succeeds), but the
 * machine has no packet filter tool (nft, iptables) and no netem, and the
 * runner's own client sockets could not reach servers inside them without a
 * forwarder anyway.  So the world is its own network instead: a relay thread
 * listens on one port per ordered pair of servers and plane (quorum,
 * election), and each server's zoo.cfg names those relay ports as its
 * peers' addresses (its own line keeps its real ports).  A cut pair is one
 * the relay stops forwarding (its connections go silent, as in a real
 * partition, and new ones are not accepted); a clogged server's inbound
 * bytes wait in the kernel until the clog ends.  One difference the relay
 * makes: a dial to a peer that is down connects (to the relay) and is
 * then closed, where it would be refused.  Clients connect straight
 * to the servers' client ports; isolating a server closes them and refuses
 * new ones, clogging it holds what they send.  PADDOCK_REAL_DIRECT=1 turns
 * the relay off (peers then dial each other directly, and these verbs
 * report that they are not possible).  Skewed clocks and full disks are
 * not possible against real processes here.
 *
 * Every signal goes to a PID this file forked, and close() waits for each;
 * servers also get SIGKILL should the runner die (PR_SET_PDEATHSIG).
 * PADDOCK_BIN names the paddock binary (default: /proc/self/exe, as the
 * runner is paddock itself); it is opened once, so a rebuild during a run
 * changes nothing for the restarts; PADDOCK_REAL_KEEP=1 leaves the temporary
 * directory (configurations, data, server.log files) for a post-mortem.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lua/world.h"
#include "prng.h"
#include "zkc.h"

#define REAL_SERVERS_MAX 7
#define REAL_CLIENTS_MAX 256                   /* as many as a scenario may make */
#define REAL_LISTENERS_MAX (REAL_SERVERS_MAX * (REAL_SERVERS_MAX - 1) * 2)
#define REAL_PATH_BYTES 512
#define REAL_SETTLE_US (30 * 1000000ULL)       /* an ensemble must form within this */
#define REAL_STOP_US (5 * 1000000ULL)          /* SIGTERM, then SIGKILL after this */
#define REAL_STATE_CACHE_US 100000ULL          /* how long a srvr answer stands */
#define REAL_WATCH_US 200000ULL                /* advance() looks at the roles this often */
#define REAL_SRVR_TIMEOUT_MS 500
#define REAL_SLICE_MS 10                       /* the longest poll inside advance() */
#define REAL_RETRY_US 50000ULL                 /* a client dials again after a lost transport */
#define REAL_DIAL_TIMEOUT_US (2 * 1000000ULL)
#define REAL_RELAY_BYTES 65536                 /* buffered per direction of a relayed connection */
#define REAL_RELAY_IDLE_MS 200

_Static_assert(REAL_SERVERS_MAX < 8, "pdw_fault.group_of holds 8 servers");

enum real_plane { REAL_QUORUM = 0, REAL_ELECTION = 1 };

struct real_server {
	uint32_t sid;
	bool observer;
	uint16_t client_port;
	uint16_t quorum_port;
	uint16_t election_port;
	char dir[REAL_PATH_BYTES];     /* zoo.cfg, server.log and data/ */
	pid_t pid;                     /* 0: not running */
	off_t log_start;               /* server.log's size when pid started */
	struct pdw_server_state state; /* from the last srvr answer */
	uint64_t polled_us;            /* when state was read */
	bool polled;
	int noted_role;                /* -1: nothing noted since it started */
	bool noted_serving;
	uint64_t noted_epoch;
};

struct real_client {
	struct zkc *zkc;
	uint32_t pinned;          /* 1-based server, 0 = the whole ensemble */
	uint32_t first;           /* the 0-based server zkc's index 0 stands for */
	int fd;                   /* -1: no transport */
	uint32_t server;          /* 1-based server of fd */
	bool dialing;             /* connect(2) in progress */
	bool killed;
	uint64_t dial_us;
	uint64_t retry_us;        /* no dial before this */
	uint64_t paused_until_us;
};

/* One direction of a relayed connection: bytes read and not yet written. */
struct real_relay_pipe {
	size_t len;
	uint8_t data[REAL_RELAY_BYTES];
};

/* A connection server `from` dialed to server `to`, relayed: fd[0] is the
 * accepted side, fd[1] the dial to the real port; pipe[0] carries from's
 * bytes to `to`, pipe[1] the answers. */
struct real_relay_link {
	int fd[2];
	uint8_t from;
	uint8_t to;
	bool dialing;
	bool dead;
	struct real_relay_pipe pipe[2];
};

struct real_relay_listener {
	int fd;
	uint16_t port;
	uint8_t from;
	uint8_t to;
	uint8_t plane;
};

struct real_relay {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	int wake_fd;
	/* under lock: what the scenario asked for */
	bool stop;
	bool cut[REAL_SERVERS_MAX][REAL_SERVERS_MAX];
	uint64_t clog_until_us[REAL_SERVERS_MAX];
	/* the thread's own (set up before it starts, closed after it ends) */
	struct real_relay_listener listeners[REAL_LISTENERS_MAX];
	uint32_t listener_count;
	struct real_relay_link **links;
	size_t link_count;
	size_t link_cap;
};

struct real_world {
	struct pdw_config cfg;
	struct timespec opened;
	char root[REAL_PATH_BYTES - 64]; /* room for /sN/data/myid below it */
	bool root_made;
	bool keep;
	char bin[PATH_MAX];
	int bin_fd;      /* the binary, opened once: every start runs the same one */
	struct real_server servers[REAL_SERVERS_MAX];
	struct real_client *clients;
	size_t client_count;
	size_t client_cap;
	struct pd_prng prng;
	struct pdw_note *notes;
	size_t note_count;
	size_t note_cap;
	bool relayed;
	struct real_relay relay;
	/* the main thread's copy of the network faults */
	bool cut[REAL_SERVERS_MAX][REAL_SERVERS_MAX];
	bool isolated[REAL_SERVERS_MAX];
	uint64_t clog_until_us[REAL_SERVERS_MAX];
	uint64_t watched_us;
	char failure[256]; /* a server exited by itself: the world is stopped */
};

static uint64_t real_now(const struct real_world *w)
{
	struct timespec t;
	int64_t ns;
	clock_gettime(CLOCK_MONOTONIC, &t);
	ns = (int64_t)(t.tv_sec - w->opened.tv_sec) * 1000000000 + (t.tv_nsec - w->opened.tv_nsec);
	return ns > 0 ? (uint64_t)ns / 1000 : 0;
}

static void real_sleep_ms(uint32_t ms)
{
	struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static void real_note(struct real_world *w, uint32_t server, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void real_note(struct real_world *w, uint32_t server, const char *kind, const char *fmt, ...)
{
	struct pdw_note *n;
	va_list ap;
	if (w->note_count == w->note_cap) {
		size_t cap = w->note_cap > 0 ? w->note_cap * 2 : 64;
		struct pdw_note *p = realloc(w->notes, cap * sizeof(*p));
		if (p == NULL)
			return; /* the timeline is a record, not a duty: lose the entry */
		w->notes = p;
		w->note_cap = cap;
	}
	n = &w->notes[w->note_count++];
	memset(n, 0, sizeof(*n));
	n->at_us = real_now(w);
	n->server = (int32_t)server;
	snprintf(n->kind, sizeof(n->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
	va_end(ap);
}

static bool real_clogged(const struct real_world *w, uint32_t server, uint64_t now)
{
	return now < w->clog_until_us[server - 1];
}

/* ---- files ---------------------------------------------------------------- */

static int real_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) != 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path, not following symbolic links. */
static int real_remove_tree(const char *path)
{
	return nftw(path, real_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int real_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int rc;
	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int real_write_myid(const struct real_server *s)
{
	char path[REAL_PATH_BYTES + 16], text[16];
	snprintf(path, sizeof(path), "%s/data/myid", s->dir);
	snprintf(text, sizeof(text), "%u\n", s->sid);
	return real_write_file(path, text);
}

/* The last lines of a server's log on stderr: why it died or did not form. */
static void real_log_tail(const struct real_server *s)
{
	char path[REAL_PATH_BYTES + 16], buf[2048];
	ssize_t n;
	off_t size;
	int fd;
	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	fprintf(stderr, "--- real world: the end of server %u's log (%s)\n%s%s", s->sid, path, buf,
		buf[n - 1] == '\n' ? "" : "\n");
}

/* ---- ports and configuration --------------------------------------------- */

/* A TCP socket bound to 127.0.0.1 on a port the kernel chose; listening
 * when listen_too.  The caller closes it. */
static int real_bind_any(uint16_t *port, bool listen_too)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (listen_too ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0 ||
	    (listen_too && listen(fd, 64) != 0)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void real_loopback(struct sockaddr_in *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A socket bound to 127.0.0.1:port, or -1. */
static int real_bind_port(uint16_t port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	real_loopback(&a, port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A free port below the kernel's ephemeral range: between our choosing it
 * and the server binding it, no bind(0) elsewhere (other tests pick ports
 * that way) and no outgoing connection can take it.  Drawn from a source
 * of its own (not the world's PRNG: two runs of one seed side by side must
 * not pick the same ports).  Falls back to bind(0).  The caller closes. */
static int real_bind_free(struct pd_prng *r, uint32_t ephemeral_low, uint16_t *port)
{
	uint32_t tries;
	for (tries = 0; ephemeral_low > 12000 && tries < 200; tries++) {
		uint16_t p = (uint16_t)(10000 + pd_prng_below(r, ephemeral_low - 10000));
		int fd = real_bind_port(p);
		if (fd >= 0) {
			*port = p;
			return fd;
		}
	}
	return real_bind_any(port, false);
}

/* Three free ports per server: they stay bound until all are chosen, so
 * no two are equal; the servers bind them a moment later. */
static int real_pick_ports(struct real_world *w, char *why, size_t why_size)
{
	int fds[REAL_SERVERS_MAX * 3];
	uint32_t i, n = 0, ephemeral_low = 32768, high;
	struct pd_prng r;
	struct timespec t;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	int rc = 0;
	if (f != NULL) {
		if (fscanf(f, "%u %u", &ephemeral_low, &high) != 2)
			ephemeral_low = 0; /* unknown: bind(0) */
		fclose(f);
	}
	clock_gettime(CLOCK_REALTIME, &t);
	pd_prng_seed(&r, (uint64_t)t.tv_nsec ^ (uint64_t)t.tv_sec << 20 ^ (uint64_t)getpid() << 40);
	for (i = 0; i < w->cfg.servers && rc == 0; i++) {
		struct real_server *s = &w->servers[i];
		uint16_t *ports[3] = {&s->client_port, &s->quorum_port, &s->election_port};
		uint32_t k;
		for (k = 0; k < 3; k++) {
			fds[n] = real_bind_free(&r, ephemeral_low, ports[k]);
			if (fds[n] < 0) {
				snprintf(why, why_size, "real world: no free port on 127.0.0.1: %s", strerror(errno));
				rc = -1;
				break;
			}
			n++;
		}
	}
	while (n > 0)
		close(fds[--n]);
	return rc;
}

static const struct real_relay_listener *real_relay_find(const struct real_world *w, uint32_t from, uint32_t to,
							 enum real_plane plane)
{
	uint32_t i;
	for (i = 0; i < w->relay.listener_count; i++) {
		const struct real_relay_listener *l = &w->relay.listeners[i];
		if (l->from == from && l->to == to && l->plane == plane)
			return l;
	}
	return NULL;
}

/* One relay listener per ordered pair of servers and plane. */
static int real_relay_listen(struct real_world *w, char *why, size_t why_size)
{
	uint32_t a, b, plane, n = w->cfg.servers;
	for (a = 0; a < n; a++)
		for (b = 0; b < n; b++)
			for (plane = 0; plane < 2 && a != b; plane++) {
				struct real_relay_listener *l = &w->relay.listeners[w->relay.listener_count];
				l->fd = real_bind_any(&l->port, true);
				if (l->fd < 0) {
					snprintf(why, why_size, "real world: no relay port on 127.0.0.1: %s",
						 strerror(errno));
					return -1;
				}
				l->from = (uint8_t)a;
				l->to = (uint8_t)b;
				l->plane = (uint8_t)plane;
				w->relay.listener_count++;
			}
	return 0;
}

/* zoo.cfg as an operator writes it, and dataDir/myid.  Server a's lines
 * for its peers name the relay ports that carry a's connections to them. */
static int real_write_config(struct real_world *w, uint32_t a)
{
	struct real_server *s = &w->servers[a];
	char path[REAL_PATH_BYTES + 16], text[4096];
	size_t len = 0;
	uint32_t b;
#define CFG(...) len += (size_t)snprintf(text + len, len < sizeof(text) ? sizeof(text) - len : 0, __VA_ARGS__)
	CFG("tickTime=%u\n", w->cfg.tick_ms > 0 ? w->cfg.tick_ms : 2000);
	CFG("initLimit=%u\n", w->cfg.init_limit > 0 ? w->cfg.init_limit : 10);
	CFG("syncLimit=%u\n", w->cfg.sync_limit > 0 ? w->cfg.sync_limit : 5);
	CFG("dataDir=%s/data\n", s->dir);
	CFG("clientPort=%u\n", s->client_port);
	CFG("clientPortAddress=127.0.0.1\n");
	CFG("4lw.commands.whitelist=*\n");
	if (w->cfg.snap_count > 0)
		CFG("snapCount=%u\n", w->cfg.snap_count);
	if (s->observer)
		CFG("peerType=observer\n");
	for (b = 0; b < w->cfg.servers && w->cfg.servers > 1; b++) {
		const struct real_server *p = &w->servers[b];
		uint16_t q = p->quorum_port, e = p->election_port;
		if (w->relayed && b != a) {
			q = real_relay_find(w, a, b, REAL_QUORUM)->port;
			e = real_relay_find(w, a, b, REAL_ELECTION)->port;
		}
		CFG("server.%u=127.0.0.1:%u:%u%s\n", p->sid, q, e, p->observer ? ":observer" : "");
	}
#undef CFG
	if (len >= sizeof(text))
		return -1;
	snprintf(path, sizeof(path), "%s/data", s->dir);
	if (mkdir(s->dir, 0700) != 0 || mkdir(path, 0700) != 0 || real_write_myid(s) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/zoo.cfg", s->dir);
	return real_write_file(path, text);
}

/* ---- processes ------------------------------------------------------------- */

static int real_server_start(struct real_world *w, struct real_server *s)
{
	static const char exec_failed[] = "real world: the paddock binary (PADDOCK_BIN) did not execute\n";
	char cfg[REAL_PATH_BYTES + 16], log[REAL_PATH_BYTES + 16], arg0[] = "paddock", arg1[] = "server";
	char *argv[] = {arg0, arg1, cfg, NULL};
	pid_t parent = getpid(), pid;
	int log_fd, null_fd;
	snprintf(cfg, sizeof(cfg), "%s/zoo.cfg", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->log_start = log_fd >= 0 ? lseek(log_fd, 0, SEEK_END) : 0;
	if (log_fd < 0 || null_fd < 0 || s->log_start < 0) {
		if (log_fd >= 0)
			close(log_fd);
		if (null_fd >= 0)
			close(null_fd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		/* the child: async-signal-safe calls only (the relay thread runs) */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 || chdir(s->dir) != 0 ||
		    dup2(w->bin_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
			_exit(126);
		close_range(4, ~0U, 0);
		fexecve(3, argv, environ);
		if (write(2, exec_failed, sizeof(exec_failed) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	close(log_fd);
	close(null_fd);
	if (pid < 0)
		return -1;
	s->pid = pid;
	s->polled = false;
	s->noted_role = -1;
	memset(&s->state, 0, sizeof(s->state));
	s->state.role = PDW_LOOKING;
	return 0;
}

/* How a process ended, for the timeline and failure messages. */
static void real_describe_exit(int status, char *out, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(out, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, size, "exit status %d", WEXITSTATUS(status));
}

/* Reaps servers that exited by themselves: a crash or an assertion in the
 * server is what a real world's checker can see, so the world stops. */
static void real_reap(struct real_world *w)
{
	uint32_t i;
	for (i = 0; i < w->cfg.servers; i++) {
		struct real_server *s = &w->servers[i];
		char how[48];
		int status;
		if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) != s->pid)
			continue;
		s->pid = 0;
		memset(&s->state, 0, sizeof(s->state));
		real_describe_exit(status, how, sizeof(how));
		real_note(w, s->sid, "exit", "the process ended by itself: %s", how);
		if (w->failure[0] == '\0')
			snprintf(w->failure, sizeof(w->failure),
				 "server %u exited by itself (%s); the end of its log is on stderr", s->sid, how);
		real_log_tail(s);
	}
}

static void real_server_kill(struct real_server *s)
{
	int status;
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	memset(&s->state, 0, sizeof(s->state));
}

/* SIGTERM to every server it started, SIGKILL to those still up after
 * REAL_STOP_US, and every one waited for. */
static void real_stop_all(struct real_world *w)
{
	uint64_t deadline;
	uint32_t i, left = 0;
	for (i = 0; i < w->cfg.servers; i++)
		if (w->servers[i].pid > 0 && kill(w->servers[i].pid, SIGTERM) == 0)
			left++;
	deadline = real_now(w) + REAL_STOP_US;
	while (left > 0 && real_now(w) < deadline) {
		left = 0;
		for (i = 0; i < w->cfg.servers; i++) {
			struct real_server *s = &w->servers[i];
			int status;
			if (s->pid <= 0)
				continue;
			if (waitpid(s->pid, &status, WNOHANG) == s->pid)
				s->pid = 0;
			else
				left++;
		}
		if (left > 0)
			real_sleep_ms(10);
	}
	for (i = 0; i < w->cfg.servers; i++)
		real_server_kill(&w->servers[i]);
}

/* ---- srvr ------------------------------------------------------------------- */

/* The answer to `srvr` on port, NUL-terminated; -1 if none came. */
static int real_srvr(const struct real_world *w, uint16_t port, char *out, size_t size)
{
	struct sockaddr_in a;
	struct pollfd pfd;
	uint64_t deadline = real_now(w) + REAL_SRVR_TIMEOUT_MS * 1000ULL;
	size_t len = 0;
	int err = 0, fd;
	socklen_t err_len = sizeof(err);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	real_loopback(&a, port);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (errno != EINPROGRESS)
			goto failed;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, REAL_SRVR_TIMEOUT_MS) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0)
			goto failed;
	}
	if (send(fd, "srvr", 4, MSG_NOSIGNAL) != 4)
		goto failed;
	while (len + 1 < size) {
		uint64_t now = real_now(w);
		ssize_t n;
		if (now >= deadline)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)((deadline - now + 999) / 1000)) <= 0)
			break;
		n = recv(fd, out + len, size - 1 - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* the server closes after its answer */
		len += (size_t)n;
	}
	close(fd);
	out[len] = '\0';
	return len > 0 ? (int)len : -1;
failed:
	close(fd);
	return -1;
}

static const char *const real_role_names[] = {"DOWN", "LOOKING", "FOLLOWING", "LEADING", "OBSERVING"};

/* What the server's newest "role ..." log line says (net/server.c logs one
 * whenever its role, leader, epoch or serving changes, from the same
 * pd_node_stats the simulator reads). */
struct real_log_role {
	bool found;
	enum pdw_role role;
	bool serving;
	uint64_t leader;
	uint64_t epoch;
	uint64_t zxid;
};

static void real_log_role(const struct real_server *s, struct real_log_role *out)
{
	static const char marker[] = "INFO  - role ";
	char path[REAL_PATH_BYTES + 16], buf[8192], name[16];
	const char *p, *last = NULL;
	off_t size, from;
	ssize_t n;
	int fd;
	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	from = size - (off_t)sizeof(buf) + 1 > s->log_start ? size - (off_t)sizeof(buf) + 1 : s->log_start;
	n = from < size ? pread(fd, buf, sizeof(buf) - 1, from) : 0;
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* the last complete line with the marker, of this process (past log_start) */
	for (p = strstr(buf, marker); p != NULL; p = strstr(p + 1, marker))
		if (strchr(p, '\n') != NULL)
			last = p;
	if (last == NULL ||
	    sscanf(last + sizeof(marker) - 1, "%15s leader %" SCNu64 " epoch %" SCNu64, name, &out->leader,
		   &out->epoch) != 3)
		return;
	out->found = true;
	out->role = strcmp(name, "LEADING") == 0     ? PDW_LEADING
		    : strcmp(name, "FOLLOWING") == 0 ? PDW_FOLLOWING
		    : strcmp(name, "OBSERVING") == 0 ? PDW_OBSERVING
						     : PDW_LOOKING;
	p = strchr(last, '\n');
	out->serving = memmem(last, (size_t)(p - last), ", serving", 9) != NULL;
	last = memmem(last, (size_t)(p - last), "zxid 0x", 7);
	if (last != NULL)
		out->zxid = strtoull(last + 7, NULL, 16);
}

/* Reads a server's state now: its process, `srvr` (the role and zxid of a
 * serving server), and its log (the leader and epoch, which srvr does not
 * say, and the role of one that does not serve: electing, or syncing with
 * the leader it found). */
static void real_server_poll(struct real_world *w, struct real_server *s)
{
	struct pdw_server_state *st = &s->state;
	struct real_log_role log;
	char buf[4096];
	const char *mode, *zxid;
	real_reap(w);
	s->polled_us = real_now(w);
	s->polled = true;
	if (s->pid <= 0) {
		memset(st, 0, sizeof(*st));
		return;
	}
	real_log_role(s, &log);
	if (real_srvr(w, s->client_port, buf, sizeof(buf)) < 0 || (mode = strstr(buf, "Mode: ")) == NULL) {
		/* not serving (or not listening yet); its zxid stays the last known */
		st->role = log.found ? log.role : PDW_LOOKING;
		st->serving = false;
		st->leader = log.found ? log.leader : 0;
		st->epoch = log.found ? log.epoch : 0;
		if (log.found && log.zxid != 0)
			st->zxid = log.zxid;
		goto noted;
	}
	mode += 6;
	st->role = strncmp(mode, "leader", 6) == 0 || strncmp(mode, "standalone", 10) == 0 ? PDW_LEADING
		   : strncmp(mode, "follower", 8) == 0				       ? PDW_FOLLOWING
		   : strncmp(mode, "observer", 8) == 0				       ? PDW_OBSERVING
										       : PDW_LOOKING;
	st->serving = st->role != PDW_LOOKING;
	zxid = strstr(buf, "Zxid: 0x");
	if (zxid != NULL)
		st->zxid = strtoull(zxid + 8, NULL, 16);
	if (log.found && log.role == st->role) {
		st->leader = log.leader;
		st->epoch = log.epoch;
	} else {
		/* standalone (no role lines), or the log lags: what srvr implies */
		st->leader = st->role == PDW_LEADING ? s->sid : 0;
		st->epoch = st->zxid >> 32;
	}
noted:
	if ((int)st->role != s->noted_role || st->serving != s->noted_serving || st->epoch != s->noted_epoch) {
		s->noted_role = (int)st->role;
		s->noted_serving = st->serving;
		s->noted_epoch = st->epoch;
		real_note(w, s->sid, "role", "%s leader %" PRIu64 " epoch %" PRIu64 "%s", real_role_names[st->role],
			  st->leader, st->epoch, st->serving ? " serving" : "");
	}
}

static void real_server_fresh(struct real_world *w, struct real_server *s)
{
	if (!s->polled || real_now(w) - s->polled_us >= REAL_STATE_CACHE_US)
		real_server_poll(w, s);
}

/* ---- the relay ------------------------------------------------------------- */

static void real_relay_kill_link(struct real_relay_link *l)
{
	if (l->fd[0] >= 0)
		close(l->fd[0]);
	if (l->fd[1] >= 0)
		close(l->fd[1]);
	l->fd[0] = l->fd[1] = -1;
	l->dead = true;
}

/* Writes what pipe holds to fd; false when fd is gone. */
static bool real_relay_write(int fd, struct real_relay_pipe *pipe)
{
	while (pipe->len > 0) {
		ssize_t n = send(fd, pipe->data, pipe->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		memmove(pipe->data, pipe->data + n, pipe->len - (size_t)n);
		pipe->len -= (size_t)n;
	}
	return true;
}

/* Reads what fd has into pipe (as much as fits); false at its end. */
static bool real_relay_read(int fd, struct real_relay_pipe *pipe)
{
	while (pipe->len < sizeof(pipe->data)) {
		ssize_t n = recv(fd, pipe->data + pipe->len, sizeof(pipe->data) - pipe->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (n == 0)
			return false;
		pipe->len += (size_t)n;
	}
	return true;
}

static void real_relay_accept(struct real_world *w, const struct real_relay_listener *lis)
{
	struct real_relay *r = &w->relay;
	for (;;) {
		const struct real_server *to = &w->servers[lis->to];
		struct real_relay_link *l;
		struct sockaddr_in a;
		int one = 1, in = accept4(lis->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), out;
		if (in < 0)
			return;
		out = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		l = out >= 0 ? calloc(1, sizeof(*l)) : NULL;
		if (l != NULL && r->link_count == r->link_cap) {
			size_t cap = r->link_cap > 0 ? r->link_cap * 2 : 32;
			struct real_relay_link **p = realloc(r->links, cap * sizeof(*p));
			if (p != NULL) {
				r->links = p;
				r->link_cap = cap;
			}
		}
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons(lis->plane == REAL_ELECTION ? to->election_port : to->quorum_port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (l == NULL || r->link_count == r->link_cap ||
		    (connect(out, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS)) {
			/* `to` is down (or memory is): the dialer sees its connection close */
			close(in);
			if (out >= 0)
				close(out);
			free(l);
			continue;
		}
		setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		l->fd[0] = in;
		l->fd[1] = out;
		l->from = lis->from;
		l->to = lis->to;
		l->dialing = true;
		r->links[r->link_count++] = l;
	}
}

/* What to wait for on a link's two sockets; 0 and 0 leave it alone. */
static void real_relay_events(const struct real_relay_link *l, bool cut, bool clog_to, bool clog_from,
			      short ev[2])
{
	ev[0] = ev[1] = 0;
	if (cut)
		return; /* silence both ways: nothing read, nothing written */
	if (l->dialing) {
		ev[1] = POLLOUT;
		return;
	}
	if (l->pipe[0].len < sizeof(l->pipe[0].data) && !clog_to)
		ev[0] |= POLLIN;
	if (l->pipe[0].len > 0)
		ev[1] |= POLLOUT;
	if (l->pipe[1].len < sizeof(l->pipe[1].data) && !clog_from)
		ev[1] |= POLLIN;
	if (l->pipe[1].len > 0)
		ev[0] |= POLLOUT;
}

/* One link after poll: finish the dial, move bytes both ways. */
static void real_relay_serve(struct real_relay_link *l, const short ev[2], const short rev[2])
{
	int k;
	if (l->dialing) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (rev[1] == 0)
			return;
		if (getsockopt(l->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			real_relay_kill_link(l);
			return;
		}
		l->dialing = false;
		return;
	}
	for (k = 0; k < 2; k++) {
		int other = 1 - k;
		if (rev[k] == 0)
			continue;
		if ((ev[k] & POLLIN) && (rev[k] & (POLLIN | POLLHUP | POLLERR))) {
			bool open = real_relay_read(l->fd[k], &l->pipe[k]);
			/* straight on; at its end what it said before still goes, then both close */
			if (!real_relay_write(l->fd[other], &l->pipe[k]) || !open) {
				real_relay_kill_link(l);
				return;
			}
		}
		if ((ev[k] & POLLOUT) && (rev[k] & (POLLOUT | POLLHUP | POLLERR)) &&
		    !real_relay_write(l->fd[k], &l->pipe[other])) {
			real_relay_kill_link(l);
			return;
		}
		if ((rev[k] & (POLLHUP | POLLERR)) && !(ev[k] & POLLIN)) {
			real_relay_kill_link(l);
			return;
		}
	}
}

static void *real_relay_main(void *arg)
{
	struct real_world *w = arg;
	struct real_relay *r = &w->relay;
	struct pollfd *pfds = NULL;
	short *evs = NULL;
	size_t cap = 0;
	for (;;) {
		bool cut[REAL_SERVERS_MAX][REAL_SERVERS_MAX], stop;
		uint64_t clog[REAL_SERVERS_MAX], now, wake_us = REAL_RELAY_IDLE_MS * 1000ULL;
		size_t i, n = 0, need = 1 + r->listener_count + 2 * r->link_count, kept;
		int timeout_ms;
		pthread_mutex_lock(&r->lock);
		stop = r->stop;
		memcpy(cut, r->cut, sizeof(cut));
		memcpy(clog, r->clog_until_us, sizeof(clog));
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		if (need > cap) {
			struct pollfd *p = realloc(pfds, need * sizeof(*p));
			short *e = p != NULL ? realloc(evs, need * sizeof(*e)) : NULL;
			if (p != NULL)
				pfds = p;
			if (e == NULL) {
				real_sleep_ms(10); /* no memory now: try again */
				continue;
			}
			evs = e;
			cap = need;
		}
		now = real_now(w);
		for (i = 0; i < REAL_SERVERS_MAX; i++)
			if (clog[i] > now && clog[i] - now < wake_us)
				wake_us = clog[i] - now;
		timeout_ms = (int)((wake_us + 999) / 1000);
		pfds[n].fd = r->wake_fd;
		pfds[n++].events = POLLIN;
		for (i = 0; i < r->link_count; i++) {
			struct real_relay_link *l = r->links[i];
			real_relay_events(l, cut[l->from][l->to], clog[l->to] > now, clog[l->from] > now, &evs[n]);
			pfds[n].fd = evs[n] != 0 ? l->fd[0] : -1;
			pfds[n].events = evs[n];
			pfds[n + 1].fd = evs[n + 1] != 0 ? l->fd[1] : -1;
			pfds[n + 1].events = evs[n + 1];
			n += 2;
		}
		for (i = 0; i < r->listener_count; i++) {
			const struct real_relay_listener *lis = &r->listeners[i];
			pfds[n].fd = cut[lis->from][lis->to] ? -1 : lis->fd;
			pfds[n++].events = POLLIN;
		}
		if (poll(pfds, (nfds_t)n, timeout_ms) <= 0)
			continue;
		if (pfds[0].revents != 0) {
			uint64_t count;
			if (read(r->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				real_sleep_ms(1);
		}
		/* the links first: the listeners may add to them */
		for (i = 0; i < r->link_count; i++) {
			short rev[2] = {pfds[1 + 2 * i].revents, pfds[2 + 2 * i].revents};
			real_relay_serve(r->links[i], &evs[1 + 2 * i], rev);
		}
		for (i = 0, kept = 0; i < r->link_count; i++) {
			if (r->links[i]->dead)
				free(r->links[i]);
			else
				r->links[kept++] = r->links[i];
		}
		n = 1 + 2 * r->link_count;
		r->link_count = kept;
		for (i = 0; i < r->listener_count; i++)
			if (pfds[n + i].revents & POLLIN)
				real_relay_accept(w, &r->listeners[i]);
	}
	free(pfds);
	free(evs);
	return NULL;
}

/* Hands the main thread's cuts and clogs to the relay thread. */
static void real_relay_update(struct real_world *w)
{
	struct real_relay *r = &w->relay;
	uint64_t one = 1;
	if (!r->started)
		return;
	pthread_mutex_lock(&r->lock);
	memcpy(r->cut, w->cut, sizeof(r->cut));
	memcpy(r->clog_until_us, w->clog_until_us, sizeof(r->clog_until_us));
	pthread_mutex_unlock(&r->lock);
	if (write(r->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return; /* it looks again within REAL_RELAY_IDLE_MS anyway */
}

static int real_relay_start(struct real_world *w, char *why, size_t why_size)
{
	struct real_relay *r = &w->relay;
	int rc;
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0) {
		snprintf(why, why_size, "real world: eventfd: %s", strerror(errno));
		return -1;
	}
	rc = pthread_create(&r->thread, NULL, real_relay_main, w);
	if (rc != 0) {
		snprintf(why, why_size, "real world: the relay thread: %s", strerror(rc));
		return -1;
	}
	r->started = true;
	return 0;
}

static void real_relay_stop(struct real_world *w)
{
	struct real_relay *r = &w->relay;
	uint32_t i;
	size_t k;
	if (r->started) {
		uint64_t one = 1;
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_mutex_unlock(&r->lock);
		if (write(r->wake_fd, &one, sizeof(one)) < 0)
			(void)0; /* it sees stop within REAL_RELAY_IDLE_MS */
		pthread_join(r->thread, NULL);
		r->started = false;
	}
	for (k = 0; k < r->link_count; k++) {
		real_relay_kill_link(r->links[k]);
		free(r->links[k]);
	}
	free(r->links);
	r->links = NULL;
	r->link_count = 0;
	for (i = 0; i < r->listener_count; i++)
		if (r->listeners[i].fd >= 0)
			close(r->listeners[i].fd);
	r->listener_count = 0;
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	r->wake_fd = -1;
}

/* ---- clients ---------------------------------------------------------------- */

static void real_client_lost(struct real_world *w, struct real_client *c)
{
	uint64_t now = real_now(w);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->server = 0;
	c->dialing = false;
	zkc_on_closed(c->zkc, now / 1000); /* what was in flight: CONNECTIONLOSS; then the next server */
	c->retry_us = now + REAL_RETRY_US;
}

/* Sends what zkc holds, as much as the socket takes. */
static void real_client_send(struct real_world *w, struct real_client *c)
{
	if (c->fd < 0 || c->dialing || c->killed || real_now(w) < c->paused_until_us ||
	    real_clogged(w, c->server, real_now(w)))
		return;
	for (;;) {
		size_t len;
		const uint8_t *p = zkc_output(c->zkc, &len);
		ssize_t n;
		if (len == 0)
			return;
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			zkc_output_done(c->zkc, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* the rest waits in zkc for POLLOUT */
		real_client_lost(w, c);
		return;
	}
}

static void real_client_connected(struct real_world *w, struct real_client *c)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->dialing = false;
	zkc_on_connected(c->zkc, real_now(w) / 1000);
	real_client_send(w, c);
}

/* zkc wants a transport to its index-th server. */
static void real_client_dial(struct real_world *w, struct real_client *c, uint32_t index)
{
	uint32_t server = c->pinned > 0 ? c->pinned : (c->first + index) % w->cfg.servers + 1;
	const struct real_server *s = &w->servers[server - 1];
	uint64_t now = real_now(w);
	struct sockaddr_in a;
	if (real_clogged(w, server, now)) {
		c->retry_us = w->clog_until_us[server - 1]; /* it hears no SYN until then */
		return;
	}
	c->server = server;
	c->dial_us = now;
	c->fd = w->isolated[server - 1] ? -1 : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		real_client_lost(w, c);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(s->client_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		real_client_connected(w, c);
	} else if (errno == EINPROGRESS) {
		c->dialing = true;
	} else {
		real_client_lost(w, c);
	}
}

static bool real_client_active(const struct real_client *c, uint64_t now)
{
	return !c->killed && now >= c->paused_until_us;
}

/* Before poll: dial, time out, ping, send. */
static void real_client_step(struct real_world *w, struct real_client *c)
{
	uint64_t now = real_now(w);
	uint32_t index;
	if (!real_client_active(c, now))
		return;
	if (c->fd >= 0 && c->dialing && now - c->dial_us >= REAL_DIAL_TIMEOUT_US)
		real_client_lost(w, c);
	if (c->fd >= 0 && !c->dialing) {
		if (zkc_on_tick(c->zkc, now / 1000))
			real_client_lost(w, c); /* its server went quiet: the next one */
		else
			real_client_send(w, c);
	}
	if (c->fd < 0 && now >= c->retry_us && zkc_want_connect(c->zkc, &index))
		real_client_dial(w, c, index);
}

static short real_client_events(const struct real_world *w, const struct real_client *c, uint64_t now)
{
	size_t len;
	if (c->dialing)
		return POLLOUT;
	zkc_output(c->zkc, &len);
	return (short)(POLLIN | (len > 0 && !real_clogged(w, c->server, now) ? POLLOUT : 0));
}

/* After poll: finish a dial, read, write. */
static void real_client_serve(struct real_world *w, struct real_client *c, short revents)
{
	if (c->dialing) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
			real_client_lost(w, c);
		else
			real_client_connected(w, c);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		uint8_t buf[65536];
		int turns;
		for (turns = 0; turns < 16; turns++) {
			ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0 || zkc_on_data(c->zkc, buf, (size_t)n, real_now(w) / 1000) != 0) {
				real_client_lost(w, c);
				return;
			}
		}
	}
	real_client_send(w, c);
}

/* Drives every client for up to timeout_ms of real time. */
static void real_clients_poll(struct real_world *w, int timeout_ms)
{
	struct pollfd pfds[REAL_CLIENTS_MAX];
	size_t index[REAL_CLIENTS_MAX], i, n = 0;
	uint64_t now = real_now(w);
	for (i = 0; i < w->client_count; i++) {
		struct real_client *c = &w->clients[i];
		if (c->fd < 0 || !real_client_active(c, now))
			continue;
		pfds[n].fd = c->fd;
		pfds[n].events = real_client_events(w, c, now);
		pfds[n].revents = 0;
		index[n++] = i;
	}
	if (n == 0) {
		real_sleep_ms((uint32_t)timeout_ms);
		return;
	}
	if (poll(pfds, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (i = 0; i < n; i++)
		if (pfds[i].revents != 0 && w->clients[index[i]].fd == pfds[i].fd)
			real_client_serve(w, &w->clients[index[i]], pfds[i].revents);
}

/* ---- the world's verbs ------------------------------------------------------ */

static void real_close(void *p);

/* fd moved to a number >= low (close-on-exec), so that a child's dup2 onto
 * 0..3 cannot overwrite it. */
static int real_fd_above(int fd, int low)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, low);
	close(fd);
	return moved;
}

static bool real_formed(struct real_world *w, char *how, size_t how_size)
{
	uint32_t i, leaders = 0, others = 0;
	size_t len = 0;
	for (i = 0; i < w->cfg.servers; i++) {
		const struct pdw_server_state *st = &w->servers[i].state;
		real_server_poll(w, &w->servers[i]);
		leaders += st->role == PDW_LEADING && st->serving;
		others += st->serving && (st->role == PDW_FOLLOWING || st->role == PDW_OBSERVING);
		if (len < how_size)
			len += (size_t)snprintf(how + len, how_size - len, "%s%u %s", i > 0 ? ", " : "",
						w->servers[i].sid, real_role_names[st->role]);
	}
	return leaders == 1 && leaders + others == w->cfg.servers;
}

static void *real_open(const struct pdw_config *cfg, char *why, size_t why_size)
{
	struct real_world *w;
	const char *bin = getenv("PADDOCK_BIN"), *tmp = getenv("TMPDIR"), *direct = getenv("PADDOCK_REAL_DIRECT");
	const char *keep = getenv("PADDOCK_REAL_KEEP");
	char how[256] = "";
	uint32_t i;
	if (cfg->servers < 1 || cfg->servers > REAL_SERVERS_MAX || cfg->observers >= cfg->servers) {
		snprintf(why, why_size, "an ensemble has 1 to %d servers, at least one of them voting (not %u with %u "
			 "observing)", REAL_SERVERS_MAX, cfg->servers, cfg->observers);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(why, why_size, "real world: out of memory");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->opened);
	w->cfg = *cfg;
	w->keep = keep != NULL && strcmp(keep, "1") == 0;
	w->relayed = cfg->servers > 1 && (direct == NULL || strcmp(direct, "1") != 0);
	w->relay.wake_fd = -1;
	w->bin_fd = -1;
	pthread_mutex_init(&w->relay.lock, NULL);
	pd_prng_seed(&w->prng, cfg->seed);
	for (i = 0; i < cfg->servers; i++) {
		w->servers[i].sid = i + 1;
		w->servers[i].observer = i >= cfg->servers - cfg->observers;
		w->servers[i].noted_role = -1;
	}
	/* the runner's own binary unless told otherwise; held open so that a
	 * rebuild during the run does not change (or break) what restarts run */
	if (bin != NULL && bin[0] != '\0') {
		snprintf(w->bin, sizeof(w->bin), "%s", bin);
	} else {
		ssize_t n = readlink("/proc/self/exe", w->bin, sizeof(w->bin) - 1);
		w->bin[n > 0 ? n : 0] = '\0';
		bin = "/proc/self/exe";
	}
	if (access(bin, X_OK) != 0 || (w->bin_fd = open(bin, O_PATH | O_CLOEXEC)) < 0 ||
	    (w->bin_fd < 10 && (w->bin_fd = real_fd_above(w->bin_fd, 10)) < 0)) {
		snprintf(why, why_size, "real world: cannot run the paddock binary '%s' (PADDOCK_BIN): %s", w->bin,
			 strerror(errno));
		goto failed;
	}
	if ((size_t)snprintf(w->root, sizeof(w->root), "%s/pd-real-XXXXXX",
			     tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp") >= sizeof(w->root))
		errno = ENAMETOOLONG;
	else if (mkdtemp(w->root) != NULL)
		w->root_made = true;
	if (!w->root_made) {
		snprintf(why, why_size, "real world: mkdtemp %s: %s", w->root, strerror(errno));
		goto failed;
	}
	if (real_pick_ports(w, why, why_size) != 0 || (w->relayed && real_relay_listen(w, why, why_size) != 0))
		goto failed;
	for (i = 0; i < cfg->servers; i++) {
		snprintf(w->servers[i].dir, sizeof(w->servers[i].dir), "%s/s%u", w->root, i + 1);
		if (real_write_config(w, i) != 0) {
			snprintf(why, why_size, "real world: writing %s: %s", w->servers[i].dir, strerror(errno));
			goto failed;
		}
	}
	if (w->relayed && real_relay_start(w, why, why_size) != 0)
		goto failed;
	for (i = 0; i < cfg->servers; i++)
		if (real_server_start(w, &w->servers[i]) != 0) {
			snprintf(why, why_size, "real world: starting server %u: %s", i + 1, strerror(errno));
			goto failed;
		}
	real_note(w, 0, "start", "%u servers%s", cfg->servers, w->relayed ? ", peers relayed" : "");
	while (!real_formed(w, how, sizeof(how))) {
		if (w->failure[0] != '\0') {
			snprintf(why, why_size, "real world: %s", w->failure);
			goto failed;
		}
		if (real_now(w) >= REAL_SETTLE_US) {
			snprintf(why, why_size, "real world: no leader with every other server serving within %llu s (%s)",
				 REAL_SETTLE_US / 1000000ULL, how);
			for (i = 0; i < cfg->servers; i++)
				real_log_tail(&w->servers[i]);
			goto failed;
		}
		real_sleep_ms(50);
	}
	real_note(w, 0, "formed", "%s", how);
	w->watched_us = real_now(w);
	return w;
failed:
	real_close(w);
	return NULL;
}

static int real_finish(void *p, char *why, size_t why_size)
{
	struct real_world *w = p;
	real_reap(w);
	if (w->failure[0] == '\0')
		return 0;
	snprintf(why, why_size, "%s", w->failure);
	return -1;
}

static void real_close(void *p)
{
	struct real_world *w = p;
	size_t i;
	if (w == NULL)
		return;
	real_stop_all(w);
	real_relay_stop(w);
	for (i = 0; i < w->client_count; i++) {
		if (w->clients[i].fd >= 0)
			close(w->clients[i].fd);
		zkc_free(w->clients[i].zkc);
	}
	free(w->clients);
	if (w->root_made && !w->keep && real_remove_tree(w->root) != 0)
		fprintf(stderr, "real world: could not remove %s: %s\n", w->root, strerror(errno));
	if (w->root_made && w->keep)
		fprintf(stderr, "real world: kept %s (PADDOCK_REAL_KEEP)\n", w->root);
	pthread_mutex_destroy(&w->relay.lock);
	if (w->bin_fd >= 0)
		close(w->bin_fd);
	free(w->notes);
	free(w);
}

static uint64_t real_now_us(void *p)
{
	return real_now(p);
}

static int real_advance(void *p, uint64_t us, char *why, size_t why_size)
{
	struct real_world *w = p;
	uint64_t deadline = real_now(w) + us;
	for (;;) {
		uint64_t now;
		size_t i;
		real_reap(w);
		if (w->failure[0] != '\0') {
			snprintf(why, why_size, "%s", w->failure);
			return -1;
		}
		if (real_now(w) - w->watched_us >= REAL_WATCH_US) {
			/* the timeline learns of role changes the scenario did not ask about */
			for (i = 0; i < w->cfg.servers; i++)
				real_server_fresh(w, &w->servers[i]);
			w->watched_us = real_now(w);
		}
		for (i = 0; i < w->client_count; i++)
			real_client_step(w, &w->clients[i]);
		now = real_now(w);
		if (now >= deadline && us > 0)
			return 0;
		real_clients_poll(w, now >= deadline ? 0
				  : (int)((deadline - now + 999) / 1000 < REAL_SLICE_MS
					  ? (deadline - now + 999) / 1000 : REAL_SLICE_MS));
		if (us == 0)
			return 0;
	}
}

static void real_server_state(void *p, uint32_t server, struct pdw_server_state *out)
{
	struct real_world *w = p;
	uint32_t i;
	memset(out, 0, sizeof(*out));
	if (server < 1 || server > w->cfg.servers)
		return;
	real_server_fresh(w, &w->servers[server - 1]);
	*out = w->servers[server - 1].state;
	if (out->role == PDW_LEADING) {
		out->leader = server;
	} else if (out->leader == 0 && (out->role == PDW_FOLLOWING || out->role == PDW_OBSERVING)) {
		/* its log did not name the leader: the server that says it leads, if one does */
		for (i = 0; i < w->cfg.servers; i++)
			if (w->servers[i].pid > 0 && w->servers[i].state.role == PDW_LEADING)
				out->leader = w->servers[i].sid;
	}
}

static void real_cut(struct real_world *w, uint32_t a, uint32_t b)
{
	w->cut[a][b] = true;
	w->cut[b][a] = true;
}

static int real_unsupported(const char *verb, const char *reason, char *why, size_t why_size)
{
	snprintf(why, why_size, "%s is not possible against real processes here (%s)", verb, reason);
	return PDW_UNSUPPORTED;
}

static int real_fault_do(struct real_world *w, const struct pdw_fault *f, char *why, size_t why_size);

/* 0, or PDW_REFUSED / PDW_UNSUPPORTED (lua/world.h); PDW_STOPPED when a
 * server has exited by itself meanwhile. */
static int real_fault(void *p, const struct pdw_fault *f, char *why, size_t why_size)
{
	struct real_world *w = p;
	int rc;
	real_reap(w);
	rc = real_fault_do(w, f, why, why_size);
	if (rc == 0 && w->failure[0] != '\0') {
		snprintf(why, why_size, "%s", w->failure);
		return PDW_STOPPED;
	}
	return rc;
}

static int real_fault_do(struct real_world *w, const struct pdw_fault *f, char *why, size_t why_size)
{
	uint32_t n = w->cfg.servers, a, b;
	struct real_server *s = f->server >= 1 && f->server <= n ? &w->servers[f->server - 1] : NULL;
	const char *no_relay = "the peer relay is off (PADDOCK_REAL_DIRECT)";
	bool peers_cut = w->relayed || n == 1; /* a lone server has no peers to cut */
	size_t i;
	if (f->kind != PDW_HEAL && f->kind != PDW_PARTITION && s == NULL) {
		snprintf(why, why_size, "there is no server %u (the ensemble has %u)", f->server, n);
		return PDW_REFUSED;
	}
	switch (f->kind) {
	case PDW_CRASH:
	case PDW_TORN_WRITE:
		if (s->pid <= 0)
			return 0; /* as in the simulator: a down server stays down */
		real_server_kill(s);
		s->polled = false;
		real_note(w, s->sid, f->kind == PDW_TORN_WRITE ? "torn_write" : "crash", "%s",
			  f->kind == PDW_TORN_WRITE ? "real: as a crash (SIGKILL)" : "the process dies (SIGKILL)");
		return 0;
	case PDW_RESTART:
		if (s->pid > 0)
			return 0;
		if (real_server_start(w, s) != 0) {
			snprintf(why, why_size, "real world: restarting server %u: %s", s->sid, strerror(errno));
			return PDW_UNSUPPORTED; /* the machine cannot, now: not the script's mistake */
		}
		real_note(w, s->sid, "restart", "from its disk");
		return 0;
	case PDW_WIPE: {
		char data[REAL_PATH_BYTES + 8];
		if (s->pid > 0) {
			snprintf(why, why_size, "server %u is running: crash it before wiping its disk", s->sid);
			return PDW_REFUSED;
		}
		snprintf(data, sizeof(data), "%s/data", s->dir);
		if (real_remove_tree(data) != 0 || mkdir(data, 0700) != 0 || real_write_myid(s) != 0) {
			snprintf(why, why_size, "real world: wiping %s: %s", data, strerror(errno));
			return PDW_UNSUPPORTED;
		}
		real_note(w, s->sid, "wipe", "its dataDir is emptied (myid stays)");
		return 0;
	}
	case PDW_PARTITION:
		if (!peers_cut)
			return real_unsupported("partition", no_relay, why, why_size);
		for (a = 0; a < n; a++)
			for (b = a + 1; b < n; b++)
				if (f->group_of[a] != 0 && f->group_of[b] != 0 && f->group_of[a] != f->group_of[b])
					real_cut(w, a, b);
		real_relay_update(w);
		real_note(w, 0, "partition", "servers cut into groups (relay)");
		return 0;
	case PDW_ISOLATE:
		if (!peers_cut)
			return real_unsupported("isolate", no_relay, why, why_size);
		for (a = 0; a < n; a++)
			if (a != f->server - 1)
				real_cut(w, f->server - 1, a);
		w->isolated[f->server - 1] = true;
		real_relay_update(w);
		for (i = 0; i < w->client_count; i++)
			if (!w->clients[i].killed && w->clients[i].fd >= 0 && w->clients[i].server == f->server)
				real_client_lost(w, &w->clients[i]);
		real_note(w, f->server, "isolate", "from every server and client");
		return 0;
	case PDW_HEAL:
		memset(w->cut, 0, sizeof(w->cut));
		memset(w->isolated, 0, sizeof(w->isolated));
		memset(w->clog_until_us, 0, sizeof(w->clog_until_us));
		real_relay_update(w);
		real_note(w, 0, "heal", "every cut and clog ends");
		for (i = 0; i < w->client_count; i++)
			real_client_send(w, &w->clients[i]);
		return 0;
	case PDW_CLOG:
		if (!peers_cut)
			return real_unsupported("clog", no_relay, why, why_size);
		w->clog_until_us[f->server - 1] = real_now(w) + (uint64_t)(f->ms > 0 ? f->ms : 0) * 1000;
		real_relay_update(w);
		real_note(w, f->server, "clog", "hears nothing for %" PRId64 " ms", f->ms);
		return 0;
	case PDW_SKEW:
		return real_unsupported("skew", "a server's clock is the host's", why, why_size);
	case PDW_DISK_FULL:
		return real_unsupported("disk_full", "no fault-injecting file system under dataDir", why, why_size);
	}
	snprintf(why, why_size, "unknown fault %d", (int)f->kind);
	return PDW_UNSUPPORTED;
}

static int real_client_new(void *p, uint32_t server, int32_t timeout_ms)
{
	struct real_world *w = p;
	struct real_client *c;
	if (server > w->cfg.servers || w->client_count >= REAL_CLIENTS_MAX)
		return -1;
	if (w->client_count == w->client_cap) {
		size_t cap = w->client_cap > 0 ? w->client_cap * 2 : 16;
		struct real_client *q = realloc(w->clients, cap * sizeof(*q));
		if (q == NULL)
			return -1;
		w->clients = q;
		w->client_cap = cap;
	}
	c = &w->clients[w->client_count];
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->pinned = server;
	/* the whole ensemble in order, from a drawn server on (ZooKeeper shuffles its list) */
	c->first = server > 0 ? 0 : (uint32_t)pd_prng_below(&w->prng, w->cfg.servers);
	c->zkc = zkc_new(server > 0 ? 1 : w->cfg.servers, timeout_ms, real_now(w) / 1000);
	if (c->zkc == NULL)
		return -1;
	real_client_step(w, c);
	return (int)w->client_count++;
}

static struct real_client *real_client_at(struct real_world *w, int client)
{
	return client >= 0 && (size_t)client < w->client_count ? &w->clients[client] : NULL;
}

static struct zkc *real_client_zkc(void *p, int client)
{
	struct real_client *c = real_client_at(p, client);
	return c != NULL ? c->zkc : NULL;
}

static void real_client_flush(void *p, int client)
{
	struct real_client *c = real_client_at(p, client);
	if (c != NULL)
		real_client_send(p, c);
}

static void real_client_kill(void *p, int client)
{
	struct real_world *w = p;
	struct real_client *c = real_client_at(w, client);
	if (c == NULL || c->killed)
		return;
	if (c->fd >= 0)
		close(c->fd); /* no closeSession: the server expires it later */
	c->fd = -1;
	c->dialing = false;
	c->server = 0;
	c->killed = true;
	zkc_on_closed(c->zkc, real_now(w) / 1000);
	real_note(w, 0, "kill", "client %d's process dies", client);
}

static void real_client_pause(void *p, int client, uint64_t ms)
{
	struct real_world *w = p;
	struct real_client *c = real_client_at(w, client);
	uint64_t until = real_now(w) + ms * 1000;
	if (c == NULL)
		return;
	if (until > c->paused_until_us)
		c->paused_until_us = until;
	real_note(w, 0, "pause", "client %d for %" PRIu64 " ms", client, ms);
}

static uint32_t real_client_server(void *p, int client)
{
	struct real_client *c = real_client_at(p, client);
	return c != NULL && c->fd >= 0 && !c->dialing ? c->server : 0;
}

static uint64_t real_random(void *p, uint64_t lo, uint64_t hi)
{
	struct real_world *w = p;
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT64_MAX)
		return pd_prng_next(&w->prng);
	return lo + pd_prng_below(&w->prng, hi - lo + 1);
}

static void real_note_op(void *p, uint32_t server, const char *kind, const char *detail)
{
	real_note(p, server, kind, "%s", detail);
}

static const struct pdw_note *real_timeline(void *p, size_t *count)
{
	struct real_world *w = p;
	*count = w->note_count;
	return w->notes;
}

static uint64_t real_digest(void *p)
{
	(void)p;
	return 0; /* real runs are not reproducible: no trace digest */
}

const struct pdw_ops pdw_real_ops = {
	.name = "real",
	.open = real_open,
	.finish = real_finish,
	.close = real_close,
	.now_us = real_now_us,
	.advance = real_advance,
	.server_state = real_server_state,
	.fault = real_fault,
	.client_new = real_client_new,
	.client_zkc = real_client_zkc,
	.client_flush = real_client_flush,
	.client_kill = real_client_kill,
	.client_pause = real_client_pause,
	.client_server = real_client_server,
	.random = real_random,
	.note = real_note_op,
	.timeline = real_timeline,
	.digest = real_digest,
};
