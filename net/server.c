/*
 * server.c: the epoll loop that drives one pd_node over real sockets.
 *
 * Connection ids given to the core are file descriptors: unique among open
 * connections, and a descriptor is only reused after the core has been told
 * (or has told us) that its connection is gone.  Output is buffered per
 * connection and written once per loop turn; a connection whose unsent
 * output exceeds the configured limit is dropped rather than letting one
 * slow client grow the server without bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include "disk.h"
#include "err.h"
#include "net.h"
#include "snapshot.h"

#define SERVER_READ_BYTES (256 * 1024)
#define SERVER_EVENTS_MAX 256

struct server_conn {
	bool open;
	bool connecting;     /* a dial in progress (EPOLLOUT tells) */
	uint8_t plane;       /* enum pd_plane */
	uint64_t peer_sid;   /* the server a dial went to */
	bool closing;        /* flush, then close */
	bool want_write;     /* EPOLLOUT registered */
	bool dirty;          /* on the flush list */
	uint8_t *out;
	size_t out_len;
	size_t out_off;
	size_t out_cap;
};

struct server {
	struct pd_config cfg;
	struct disk disk;
	struct pd_node *node;
	struct pd_effects fx;
	int epfd;
	int listen_fd;
	int timer_fd;
	int signal_fd;
	struct server_conn *conns;
	uint32_t conns_cap;
	int *dirty;
	uint32_t dirty_count;
	uint32_t dirty_cap;
	uint8_t *rbuf;
	bool stop;
	int exit_code;
	struct snapper snap;
	bool snap_due;
	uint64_t next_purge_ms; /* 0: no purging */
	uint64_t log_failed_ms; /* when appends started failing, 0 if they work */
	uint64_t next_probe_ms;
	char listen_desc[160];
	int peer_fd[3];          /* [PD_PLANE_ELECTION], [PD_PLANE_QUORUM] listeners (ensemble) */
	struct pd_event deferred[128]; /* events produced while effects run, stepped after */
	uint32_t deferred_count;
	struct pd_node_stats role_seen; /* the role last logged (ensemble) */
	/* a PD_FX_RELOAD seen while effects ran: done once they are */
	bool reload_due;
	pd_zxid reload_zxid;
	uint64_t reload_leader;
	uint8_t *reload_snap;
	size_t reload_snap_len;
	bool recovered_nothing; /* no snapshot and no log at start */
};

static struct server_conn *server_conn(struct server *s, int fd)
{
	if (fd < 0)
		return NULL;
	if ((uint32_t)fd >= s->conns_cap) {
		uint32_t cap = s->conns_cap == 0 ? 1024 : s->conns_cap;
		struct server_conn *fresh;
		while (cap <= (uint32_t)fd)
			cap *= 2;
		fresh = realloc(s->conns, cap * sizeof(*fresh));
		if (fresh == NULL)
			return NULL;
		memset(fresh + s->conns_cap, 0, (cap - s->conns_cap) * sizeof(*fresh));
		s->conns = fresh;
		s->conns_cap = cap;
	}
	return &s->conns[fd];
}

static void server_event_base(struct pd_event *ev, enum pd_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->now_ms = net_now_ms();
	ev->wall_ms = net_wall_ms();
}

static void server_effects(struct server *s);
static void server_log_role(struct server *s);

static void server_step(struct server *s, const struct pd_event *ev)
{
	int rc = pd_step(s->node, ev, &s->fx);
	if (rc != 0 && ev->type == PD_EV_CONN_DATA)
		net_log("WARN", "connection %u: %s", ev->conn, pd_strerror(rc));
	if (s->cfg.server_count > 1)
		server_log_role(s);
	server_effects(s);
}

/* Forgets a descriptor on our side only. */
static void server_fd_close(struct server *s, int fd)
{
	struct server_conn *c = &s->conns[fd];
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

/* The peer went away or we dropped it: tell the core, then close. */
static void server_drop(struct server *s, int fd)
{
	struct pd_event ev;
	struct server_conn *c = &s->conns[fd];
	if (!c->open)
		return;
	c->open = false;
	server_event_base(&ev, PD_EV_CONN_CLOSED);
	ev.conn = (uint32_t)fd;
	server_fd_close(s, fd);
	server_step(s, &ev);
}

static void server_mark_dirty(struct server *s, int fd)
{
	struct server_conn *c = &s->conns[fd];
	if (c->dirty)
		return;
	if (s->dirty_count == s->dirty_cap) {
		uint32_t cap = s->dirty_cap == 0 ? 256 : s->dirty_cap * 2;
		int *fresh = realloc(s->dirty, cap * sizeof(int));
		if (fresh == NULL)
			return;
		s->dirty = fresh;
		s->dirty_cap = cap;
	}
	s->dirty[s->dirty_count++] = fd;
	c->dirty = true;
}

static int server_queue(struct server *s, int fd, const uint8_t *p, size_t len)
{
	struct server_conn *c = &s->conns[fd];
	if (c->out_off > 0 && c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap == 0 ? 16384 : c->out_cap;
		uint8_t *fresh;
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		if (c->out_len + len > s->cfg.outbuf_bytes_max)
			return -1;
		if (cap != c->out_cap) {
			fresh = realloc(c->out, cap);
			if (fresh == NULL)
				return -1;
			c->out = fresh;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	server_mark_dirty(s, fd);
	return 0;
}

static void server_defer(struct server *s, const struct pd_event *ev)
{
	if (s->deferred_count < PD_ARRAY_LEN(s->deferred))
		s->deferred[s->deferred_count++] = *ev;
	else
		net_log("WARN", "too many deferred events; one dropped (a peer dial will be retried)");
}

static const struct pd_config_server *server_peer(const struct server *s, uint64_t sid)
{
	int i;
	for (i = 0; i < s->cfg.server_count; i++)
		if ((uint64_t)s->cfg.servers[i].sid == sid)
			return &s->cfg.servers[i];
	return NULL;
}

static int server_resolve(const char *host, struct in_addr *out)
{
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	return inet_pton(AF_INET, host, out) == 1 ? 0 : -1;
}

/* PD_FX_CONNECT: a non-blocking dial; EPOLLOUT says how it went. */
static void server_dial(struct server *s, enum pd_plane plane, uint64_t sid)
{
	const struct pd_config_server *p = server_peer(s, sid);
	struct sockaddr_in sin;
	struct epoll_event ee;
	struct server_conn *c;
	struct pd_event ev;
	int fd = -1, one = 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (p == NULL || server_resolve(p->host, &sin.sin_addr) != 0)
		goto failed;
	sin.sin_port = htons((uint16_t)(plane == PD_PLANE_ELECTION ? p->election_port : p->quorum_port));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (c = server_conn(s, fd)) == NULL)
		goto failed;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno != EINPROGRESS)
		goto failed;
	memset(c, 0, sizeof(*c));
	c->connecting = true;
	c->plane = (uint8_t)plane;
	c->peer_sid = sid;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLOUT;
	ee.data.fd = fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
		memset(c, 0, sizeof(*c));
		goto failed;
	}
	return;
failed:
	if (fd >= 0)
		close(fd);
	server_event_base(&ev, PD_EV_CONNECT_FAILED);
	ev.plane = plane;
	ev.peer_sid = sid;
	server_defer(s, &ev);
}

/* A dial finished: the core hears of the connection, or of the failure. */
static void server_dial_done(struct server *s, int fd)
{
	struct server_conn *c = &s->conns[fd];
	struct epoll_event ee;
	struct pd_event ev;
	int err = 0;
	socklen_t len = sizeof(err);
	c->connecting = false;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		uint8_t plane = c->plane;
		uint64_t sid = c->peer_sid;
		server_fd_close(s, fd);
		server_event_base(&ev, PD_EV_CONNECT_FAILED);
		ev.plane = (enum pd_plane)plane;
		ev.peer_sid = sid;
		server_step(s, &ev);
		return;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.fd = fd;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ee);
	c->open = true;
	server_event_base(&ev, PD_EV_CONN_OPEN);
	ev.conn = (uint32_t)fd;
	ev.plane = (enum pd_plane)c->plane;
	ev.outbound = true;
	ev.peer_sid = c->peer_sid;
	server_step(s, &ev);
}

/* PD_FX_EPOCH_WRITE: acceptedEpoch or currentEpoch replaced atomically (tmp
 * file, fsync, rename, directory fsync), as text like ZooKeeper's files.
 * A failure stops the server: an epoch it cannot keep must not be used. */
static void server_write_epoch(struct server *s, enum pd_epoch_file which, uint64_t value)
{
	const char *name = which == PD_EPOCH_CURRENT ? "currentEpoch" : "acceptedEpoch";
	char path[PD_CONFIG_PATH_MAX + 32], tmp[PD_CONFIG_PATH_MAX + 40], text[32];
	struct pd_event ev;
	int fd, n, dfd;
	snprintf(path, sizeof(path), "%s/%s", s->disk.snap_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		net_log("ERROR", "writing %s: %s; stopping", path, strerror(errno));
		s->stop = true;
		s->exit_code = 1;
		return;
	}
	dfd = open(s->disk.snap_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		net_log("ERROR", "syncing %s: %s; stopping", s->disk.snap_dir, strerror(errno));
		s->stop = true;
		s->exit_code = 1;
		if (dfd >= 0)
			close(dfd);
		return;
	}
	close(dfd);
	server_event_base(&ev, PD_EV_EPOCH_DURABLE);
	ev.which = which;
	ev.value = value;
	server_defer(s, &ev);
}

/* Reads an epoch file: its value, or fallback when it does not exist. */
static int server_read_epoch(const struct server *s, const char *name, uint64_t fallback, uint64_t *out)
{
	char path[PD_CONFIG_PATH_MAX + 32], text[32];
	ssize_t n;
	int fd;
	snprintf(path, sizeof(path), "%s/%s", s->disk.snap_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*out = fallback;
		return errno == ENOENT ? 0 : -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	*out = strtoull(text, NULL, 10);
	return 0;
}

/* Ensemble: a line whenever the role, the leader or the epoch changes. */
static bool server_epoch_file_exists(const struct server *s, const char *name)
{
	char path[PD_CONFIG_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", s->disk.snap_dir, name);
	return access(path, F_OK) == 0;
}

/* Reads the epoch files and hands them to the node. */
static int server_epochs(struct server *s)
{
	uint64_t z_epoch = PD_ZXID_EPOCH(pd_node_last_zxid(s->node)), accepted, current;
	if (s->cfg.server_count <= 1)
		return 0;
	if (server_read_epoch(s, "currentEpoch", z_epoch, &current) != 0 ||
	    server_read_epoch(s, "acceptedEpoch", current, &accepted) != 0) {
		net_log("ERROR", "cannot read the epoch files in %s", s->disk.snap_dir);
		return -1;
	}
	if (current > accepted) {
		net_log("ERROR", "currentEpoch %llu is above acceptedEpoch %llu in %s; refusing to start",
			(unsigned long long)current, (unsigned long long)accepted, s->disk.snap_dir);
		return -1;
	}
	pd_node_set_epochs(s->node, accepted, current);
	return 0;
}

static void server_log_role(struct server *s)
{
	static const char *const names[] = {"LOOKING", "FOLLOWING", "LEADING", "OBSERVING"};
	struct pd_node_stats st;
	pd_node_get_stats(s->node, &st);
	if (st.role < 0 || (st.role == s->role_seen.role && st.leader == s->role_seen.leader &&
			    st.established == s->role_seen.established && st.epoch == s->role_seen.epoch &&
			    st.serving == s->role_seen.serving))
		return;
	s->role_seen = st;
	net_log("INFO", "role %s leader %llu epoch %llu %s%s (acceptedEpoch %llu, currentEpoch %llu, zxid 0x%llx)",
		names[st.role & 3], (unsigned long long)st.leader, (unsigned long long)st.epoch,
		st.established ? "established" : "not established", st.serving ? ", serving" : "",
		(unsigned long long)st.accepted_epoch, (unsigned long long)st.current_epoch,
		(unsigned long long)st.last_zxid);
}

static void server_env(struct server *s, struct pd_env *env, struct utsname *uts, char *host, size_t host_size,
		       char *cwd, size_t cwd_size)
{
	struct rlimit rl;
	struct passwd *pw = getpwuid(getuid());
	DIR *d;
	memset(env, 0, sizeof(*env));
	if (uname(uts) == 0) {
		env->os_name = uts->sysname;
		env->os_arch = uts->machine;
		env->os_version = uts->release;
	}
	if (gethostname(host, host_size) == 0)
		env->host_name = host;
	if (getcwd(cwd, cwd_size) != NULL)
		env->user_dir = cwd;
	if (pw != NULL) {
		env->user_name = pw->pw_name;
		env->user_home = pw->pw_dir;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		env->max_fd_count = rl.rlim_cur;
	d = opendir("/proc/self/fd");
	if (d != NULL) {
		while (readdir(d) != NULL)
			env->open_fd_count++;
		closedir(d);
		env->open_fd_count = env->open_fd_count > 3 ? env->open_fd_count - 3 : 0;
	}
	{
		long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
		if (pages > 0 && psz > 0)
			env->mem_total_bytes = (uint64_t)pages * (uint64_t)psz;
		if (avail > 0 && psz > 0)
			env->mem_free_bytes = (uint64_t)avail * (uint64_t)psz;
	}
	env->client_port_listen = s->listen_desc;
}

static void server_fourlw(struct server *s, const struct pd_effect *e)
{
	struct pd_env env;
	struct utsname uts;
	char host[256] = "", cwd[1024] = "";
	struct pd_buf out = {0};
	server_env(s, &env, &uts, host, sizeof(host), cwd, sizeof(cwd));
	if (pd_admin_render(s->node, e->word, e->stmk_mask, &env, &out) == 0 && out.len > 0)
		(void)server_queue(s, (int)e->conn, out.data, out.len);
	pd_buf_free(pd_node_io_mem(s->node), &out);
}

static void server_arm_timer(struct server *s, uint64_t at_ms)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (at_ms == 0)
		at_ms = 1;
	its.it_value.tv_sec = (time_t)(at_ms / 1000);
	its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000L;
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int server_epochs(struct server *s);

/* PD_FX_RELOAD: the leader told this learner to drop its state (TRUNC, or
 * SNAP with the bytes to keep).  Every connection goes, the log thread
 * stops, the disk is changed durably, and the node is rebuilt from it as
 * at a start, then goes back to that leader (pd_node_follow): what
 * ZooKeeper's learner does when it reloads its database. */
static void server_reload(struct server *s)
{
	char errmsg[1024] = "", log_dir[sizeof(s->disk.dir)], snap_dir[sizeof(s->disk.snap_dir)];
	struct disk_recovery info;
	struct pd_event ev;
	uint32_t i;
	int rc;
	s->reload_due = false;
	s->deferred_count = 0;
	for (i = 0; i < s->conns_cap; i++)
		if (s->conns[i].open || s->conns[i].closing || s->conns[i].connecting)
			server_fd_close(s, (int)i);
	s->dirty_count = 0;
	snapper_wait(&s->snap);
	snprintf(log_dir, sizeof(log_dir), "%s", s->disk.dir);
	snprintf(snap_dir, sizeof(snap_dir), "%s", s->disk.snap_dir);
	if (s->disk.event_fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->disk.event_fd, NULL);
	disk_close(&s->disk);
	pd_effects_free(s->node, &s->fx);
	pd_node_destroy(s->node);
	s->node = NULL;
	if (s->reload_snap_len > 0)
		rc = snapshot_install(snap_dir, s->reload_zxid, s->reload_snap, s->reload_snap_len, errmsg, sizeof(errmsg));
	else
		rc = disk_truncate_after(log_dir, snap_dir, s->reload_zxid, errmsg, sizeof(errmsg));
	net_log("INFO", "the leader %llu sent %s 0x%llx: %s; reloading from disk", (unsigned long long)s->reload_leader,
		s->reload_snap_len > 0 ? "a snapshot at" : "TRUNC to", (unsigned long long)s->reload_zxid,
		s->reload_snap_len > 0 ? "kept as the newest snapshot" : "later records removed");
	free(s->reload_snap);
	s->reload_snap = NULL;
	s->reload_snap_len = 0;
	if (rc != 0 || disk_recover(&s->disk, &s->cfg, net_allocator(), &s->node, &info, errmsg, sizeof(errmsg)) != 0 ||
	    server_epochs(s) != 0 || disk_start(&s->disk, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "reloading after the leader's %s failed: %s; stopping",
			s->reload_zxid != 0 ? "sync" : "request", errmsg[0] != '\0' ? errmsg : "see above");
		s->stop = true;
		s->exit_code = 1;
		return;
	}
	{
		struct epoll_event ee;
		memset(&ee, 0, sizeof(ee));
		ee.events = EPOLLIN;
		ee.data.fd = s->disk.event_fd;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->disk.event_fd, &ee);
	}
	net_log("INFO", "reloaded at zxid 0x%" PRIx64 " (snapshot 0x%" PRIx64 " + %" PRIu64 " log records)",
		(uint64_t)info.zxid, (uint64_t)info.snapshot_zxid, info.replayed);
	if (s->reload_leader != 0)
		pd_node_follow(s->node, s->reload_leader);
	server_event_base(&ev, PD_EV_TICK);
	server_step(s, &ev);
}

static void server_effects(struct server *s)
{
	uint32_t i;
	int overflow[64], answered[64];
	uint32_t overflow_count = 0, answered_count = 0;
	for (i = 0; i < s->fx.count; i++) {
		const struct pd_effect *e = &s->fx.items[i];
		struct server_conn *c = e->type == PD_FX_TIMER ? NULL : server_conn(s, (int)e->conn);
		switch (e->type) {
		case PD_FX_SEND:
			if (c == NULL || !c->open)
				break;
			if (server_queue(s, (int)e->conn, pd_effect_bytes(&s->fx, e), e->len) != 0 &&
			    overflow_count < PD_ARRAY_LEN(overflow))
				overflow[overflow_count++] = (int)e->conn;
			break;
		case PD_FX_FOURLW:
			if (c != NULL && c->open) {
				server_fourlw(s, e);
				c->open = false;
				c->closing = true;
				server_mark_dirty(s, (int)e->conn);
				if (answered_count < PD_ARRAY_LEN(answered))
					answered[answered_count++] = (int)e->conn;
			}
			break;
		case PD_FX_CLOSE:
			if (c != NULL && c->open) {
				/* The core has forgotten it; flush, then close. */
				c->open = false;
				c->closing = true;
				server_mark_dirty(s, (int)e->conn);
			}
			break;
		case PD_FX_TIMER:
			server_arm_timer(s, e->at_ms);
			break;
		case PD_FX_CONNECT:
			server_dial(s, e->plane, e->peer);
			break;
		case PD_FX_EPOCH_WRITE:
			server_write_epoch(s, e->which, e->value);
			break;
		case PD_FX_SNAPSHOT:
			s->snap_due = true; /* forked once the loop turn is done */
			break;
		case PD_FX_RELOAD:
			s->reload_due = true;
			s->reload_zxid = e->zxid;
			s->reload_leader = e->peer;
			free(s->reload_snap);
			s->reload_snap = NULL;
			s->reload_snap_len = 0;
			if (e->len > 0) {
				s->reload_snap = malloc(e->len);
				if (s->reload_snap == NULL) {
					net_log("ERROR", "out of memory keeping the snapshot the leader sent; stopping");
					s->stop = true;
					s->exit_code = 1;
					break;
				}
				memcpy(s->reload_snap, pd_effect_bytes(&s->fx, e), e->len);
				s->reload_snap_len = e->len;
			}
			break;
		case PD_FX_LOG_APPEND:
			/* Without the record its write can never be answered; stop
			 * rather than leave clients waiting forever. */
			if (disk_append(&s->disk, pd_effect_bytes(&s->fx, e), e->len, e->zxid) != 0) {
				net_log("ERROR", "out of memory queueing the log record of zxid 0x%llx; stopping",
					(unsigned long long)e->zxid);
				s->stop = true;
				s->exit_code = 1;
			}
			break;
		}
	}
	pd_effects_reset(&s->fx);
	if (s->reload_due && !s->stop) {
		server_reload(s);
		return;
	}
	while (s->deferred_count > 0) {
		struct pd_event ev = s->deferred[0];
		memmove(s->deferred, s->deferred + 1, --s->deferred_count * sizeof(s->deferred[0]));
		server_step(s, &ev);
	}
	for (i = 0; i < answered_count; i++) {
		struct pd_event ev;
		server_event_base(&ev, PD_EV_CONN_CLOSED);
		ev.conn = (uint32_t)answered[i];
		server_step(s, &ev);
	}
	for (i = 0; i < overflow_count; i++) {
		net_log("WARN", "connection %d: output exceeds %u bytes; dropping the client", overflow[i],
			s->cfg.outbuf_bytes_max);
		server_drop(s, overflow[i]);
	}
}

/* Between loop turns, with the node between steps: snapshots and purging. */
static void server_housekeeping(struct server *s)
{
	if (s->snap_due) {
		s->snap_due = false;
		if (snapper_start(&s->snap, s->node) == 0)
			disk_request_roll(&s->disk); /* older log files can go once it is written */
	}
	if (s->log_failed_ms != 0 && net_now_ms() >= s->next_probe_ms) {
		disk_probe(&s->disk); /* skipped while the thread is busy */
		s->next_probe_ms = net_now_ms() + 1000;
	}
	if (s->next_purge_ms != 0 && net_now_ms() >= s->next_purge_ms) {
		(void)snapper_purge(&s->snap);
		s->next_purge_ms = net_now_ms() + (uint64_t)s->cfg.purge_interval_hours * 3600u * 1000u;
	}
}

/* The I/O thread finished a batch: the core may answer what it covers. */
static void server_log_done(struct server *s)
{
	pd_zxid durable;
	int err;
	bool probe;
	struct pd_event ev;
	if (disk_completed(&s->disk, &durable, &err, &probe) != 0) {
		if (probe)
			return; /* still failing: the next probe is a second away */
		/* Never retry and pretend: the file is cut back to its durable
		 * end, the records that were not synced are dropped (their
		 * clients are told NOTREADONLY) and writes are refused until a
		 * probe shows that the log directory takes appends again. */
		net_log("ERROR", "writing or syncing the transaction log in %s failed: %s; refusing writes "
			"(reads go on) until it can be written again; every answered write is on disk",
			s->disk.dir, strerror(err));
		s->log_failed_ms = net_now_ms();
		server_event_base(&ev, PD_EV_LOG_FAILED);
		server_step(s, &ev);
		return;
	}
	if (probe) {
		net_log("INFO", "the transaction log in %s takes writes again after %" PRIu64 " ms; accepting writes",
			s->disk.dir, net_now_ms() - s->log_failed_ms);
		s->log_failed_ms = 0;
		server_event_base(&ev, PD_EV_LOG_OK);
		server_step(s, &ev);
		return;
	}
	if (durable == 0)
		return;
	server_event_base(&ev, PD_EV_LOG_DURABLE);
	ev.zxid = durable;
	server_step(s, &ev);
}

static void server_want_write(struct server *s, int fd, bool on)
{
	struct server_conn *c = &s->conns[fd];
	struct epoll_event ev;
	if (c->want_write == on)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.fd = fd;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev);
	c->want_write = on;
}

/* Writes what is queued for fd.  Returns false if fd was closed. */
static bool server_flush_one(struct server *s, int fd)
{
	struct server_conn *c = &s->conns[fd];
	while (c->out_off < c->out_len) {
		ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			server_want_write(s, fd, true);
			return true;
		}
		/* The peer is gone. */
		if (c->closing) {
			server_fd_close(s, fd);
			return false;
		}
		server_drop(s, fd);
		return false;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > (1u << 20)) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	server_want_write(s, fd, false);
	if (c->closing) {
		shutdown(fd, SHUT_WR);
		server_fd_close(s, fd);
		return false;
	}
	return true;
}

static void server_flush(struct server *s)
{
	uint32_t i;
	/* The log records of this turn go to the I/O thread as one batch (or
	 * join the next one if it is still syncing). */
	disk_kick(&s->disk);
	/* server_flush_one may drop connections, which can queue more output;
	 * walk by index so appended entries are flushed too. */
	for (i = 0; i < s->dirty_count; i++) {
		int fd = s->dirty[i];
		struct server_conn *c = &s->conns[fd];
		if (!c->dirty)
			continue;
		c->dirty = false;
		if (c->open || c->closing)
			(void)server_flush_one(s, fd);
	}
	s->dirty_count = 0;
}

static void server_accept(struct server *s, int listen_fd, enum pd_plane plane)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct pd_event ev;
		struct epoll_event ee;
		struct server_conn *c;
		int one = 1;
		int fd = accept4(listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				net_log("WARN", "accept: %s", strerror(errno));
			return;
		}
		c = server_conn(s, fd);
		if (c == NULL) {
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(&ee, 0, sizeof(ee));
		ee.events = EPOLLIN;
		ee.data.fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
			close(fd);
			continue;
		}
		c->open = true;
		c->plane = (uint8_t)plane;
		server_event_base(&ev, PD_EV_CONN_OPEN);
		ev.conn = (uint32_t)fd;
		ev.plane = plane;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &sin->sin_addr, ev.peer_ip, sizeof(ev.peer_ip));
			ev.peer_port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
				inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ev.peer_ip, sizeof(ev.peer_ip));
			else
				inet_ntop(AF_INET6, &sin6->sin6_addr, ev.peer_ip, sizeof(ev.peer_ip));
			ev.peer_port = ntohs(sin6->sin6_port);
		}
		server_step(s, &ev);
	}
}

static void server_read(struct server *s, int fd)
{
	struct server_conn *c = &s->conns[fd];
	size_t total = 0;
	while (c->open && total < 4 * SERVER_READ_BYTES) {
		struct pd_event ev;
		ssize_t n = recv(fd, s->rbuf, SERVER_READ_BYTES, 0);
		if (n > 0) {
			server_event_base(&ev, PD_EV_CONN_DATA);
			ev.conn = (uint32_t)fd;
			ev.data = s->rbuf;
			ev.len = (size_t)n;
			total += (size_t)n;
			server_step(s, &ev);
			if ((size_t)n < SERVER_READ_BYTES)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		server_drop(s, fd);
		return;
	}
}

static int server_listen(struct server *s, char *errmsg, size_t errmsg_size)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	const char *addr = s->cfg.client_port_address;
	int one = 1, fd;
	bool v6 = false;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (addr[0] == '\0' || strcmp(addr, "0.0.0.0") == 0) {
		v6 = false;
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (strcmp(addr, "localhost") == 0) {
		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	} else if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		v6 = false;
	} else if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
		v6 = true;
	} else {
		snprintf(errmsg, errmsg_size, "clientPortAddress '%s' is not an IP address", addr);
		return -1;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errmsg, errmsg_size, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)s->cfg.client_port);
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0)
			goto err_bind;
	} else {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)s->cfg.client_port);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
			goto err_bind;
	}
	if (listen(fd, 1024) != 0) {
		snprintf(errmsg, errmsg_size, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(s->listen_desc, sizeof(s->listen_desc), "%s:%d", addr[0] != '\0' ? addr : "0.0.0.0",
		 s->cfg.client_port);
	s->listen_fd = fd;
	return 0;
err_bind:
	snprintf(errmsg, errmsg_size, "bind %s:%d: %s", addr[0] != '\0' ? addr : "0.0.0.0", s->cfg.client_port,
		 strerror(errno));
	close(fd);
	return -1;
}

/* The election and quorum ports of my own server.N line. */
static int server_listen_peer(struct server *s, enum pd_plane plane, char *errmsg, size_t errmsg_size)
{
	const struct pd_config_server *me = server_peer(s, (uint64_t)s->cfg.my_id);
	struct sockaddr_in sin;
	struct epoll_event ee;
	int one = 1, fd, port;
	if (me == NULL) {
		snprintf(errmsg, errmsg_size, "myid %lld has no server.N line", (long long)s->cfg.my_id);
		return -1;
	}
	port = plane == PD_PLANE_ELECTION ? me->election_port : me->quorum_port;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (server_resolve(me->host, &sin.sin_addr) != 0) {
		snprintf(errmsg, errmsg_size, "server.%lld: '%s' is not an IPv4 address", (long long)me->sid, me->host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errmsg, errmsg_size, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 64) != 0) {
		snprintf(errmsg, errmsg_size, "bind %s:%d (%s port): %s", me->host, port,
			 plane == PD_PLANE_ELECTION ? "election" : "quorum", strerror(errno));
		close(fd);
		return -1;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.fd = fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ee);
	s->peer_fd[plane] = fd;
	return 0;
}

static int server_mkdirs(const char *path)
{
	char buf[PD_CONFIG_PATH_MAX];
	size_t i;
	snprintf(buf, sizeof(buf), "%s", path);
	for (i = 1; buf[i] != '\0'; i++) {
		if (buf[i] == '/') {
			buf[i] = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return -1;
			buf[i] = '/';
		}
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int server_setup(struct server *s, const char *config_path)
{
	char errmsg[1024] = "";
	struct pd_allocator allocator = net_allocator();
	struct epoll_event ee;
	sigset_t mask;
	/* Signals arrive on the signalfd; block them before any thread starts
	 * (the log thread inherits this mask). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD); /* a snapshot child finished */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (net_load_config(config_path, &s->cfg, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "%s", errmsg);
		return 2;
	}
	if (server_mkdirs(s->cfg.data_dir) != 0 || server_mkdirs(s->cfg.data_log_dir) != 0) {
		net_log("ERROR", "cannot create data directory %s: %s", s->cfg.data_dir, strerror(errno));
		return 2;
	}
	/* The core draws SASL nonces from its PRNG: seed it from the kernel. */
	if (getrandom(&s->cfg.prng_seed, sizeof(s->cfg.prng_seed), 0) != (ssize_t)sizeof(s->cfg.prng_seed))
		s->cfg.prng_seed = (uint64_t)net_wall_ms() ^ ((uint64_t)getpid() << 32);
	s->rbuf = malloc(SERVER_READ_BYTES);
	if (s->rbuf == NULL)
		return 1;
	{
		struct disk_recovery info;
		uint64_t t0 = net_now_ms();
		if (disk_recover(&s->disk, &s->cfg, allocator, &s->node, &info, errmsg, sizeof(errmsg)) != 0) {
			net_log("ERROR", "recovery: %s", errmsg);
			return 2;
		}
		if (info.snapshot_zxid != 0 || info.log_files > 0)
			net_log("INFO", "recovered zxid 0x%" PRIx64 " in %" PRIu64 " ms: snapshot 0x%" PRIx64
				" + %" PRIu64 " log record(s)%s", (uint64_t)info.zxid, net_now_ms() - t0,
				(uint64_t)info.snapshot_zxid, info.replayed,
				info.bad_snapshots > 0 ? " (after skipping damaged snapshots)" : "");
		snapper_init(&s->snap, s->disk.snap_dir, s->disk.dir, s->cfg.purge_snap_retain_count);
		/* As ZooKeeper does after loading: a snapshot of what the logs added,
		 * so the next start does not replay them again. */
		s->snap_due = info.replayed > 0;
		s->recovered_nothing = info.snapshot_zxid == 0 && info.log_files == 0;
		if (s->cfg.purge_interval_hours > 0)
			s->next_purge_ms = net_now_ms(); /* at start, then every interval */
	}
	if (disk_start(&s->disk, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "%s", errmsg);
		return 1;
	}
	if (!s->cfg.force_sync)
		net_log("WARN", "forceSync=no: writes are answered before the log reaches the disk");
	if (server_listen(s, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "%s", errmsg);
		return 2;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->epfd < 0 || s->timer_fd < 0 || s->signal_fd < 0) {
		net_log("ERROR", "event loop setup: %s", strerror(errno));
		return 1;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.fd = s->listen_fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ee);
	ee.data.fd = s->timer_fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->timer_fd, &ee);
	ee.data.fd = s->signal_fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->signal_fd, &ee);
	ee.data.fd = s->disk.event_fd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->disk.event_fd, &ee);
	if (s->cfg.server_count > 1) {
		/* an ensemble member: its epochs, its ports */
		char path[PD_CONFIG_PATH_MAX + 64];
		if (server_epochs(s) != 0)
			return 2;
		snprintf(path, sizeof(path), "%s/initialize", s->cfg.data_dir);
		if (s->recovered_nothing && !server_epoch_file_exists(s, "acceptedEpoch") &&
		    !server_epoch_file_exists(s, "currentEpoch") && access(path, F_OK) != 0) {
			/* nothing at all: a fresh member, or a wiped disk (pd_node_set_empty) */
			pd_node_set_empty(s->node);
			net_log("INFO", "the data directory is empty: this member votes only while every member it "
				"hears is as empty (a new ensemble); otherwise it waits for a leader to sync it "
				"(create %s to trust it anyway)", path);
		}
		if (server_listen_peer(s, PD_PLANE_ELECTION, errmsg, sizeof(errmsg)) != 0 ||
		    server_listen_peer(s, PD_PLANE_QUORUM, errmsg, sizeof(errmsg)) != 0) {
			net_log("ERROR", "%s", errmsg);
			return 2;
		}
		net_log("INFO", "server %lld of an ensemble of %d: election port %d, quorum port %d",
			(long long)s->cfg.my_id, s->cfg.server_count, server_peer(s, (uint64_t)s->cfg.my_id)->election_port,
			server_peer(s, (uint64_t)s->cfg.my_id)->quorum_port);
	}
	return 0;
}

static void server_teardown(struct server *s)
{
	uint32_t i;
	for (i = 0; i < s->conns_cap; i++)
		if (s->conns[i].open || s->conns[i].closing || s->conns[i].connecting) {
			close((int)i);
			free(s->conns[i].out);
		}
	snapper_wait(&s->snap);
	disk_close(&s->disk);
	free(s->conns);
	free(s->dirty);
	free(s->rbuf);
	if (s->node != NULL) {
		pd_effects_free(s->node, &s->fx);
		pd_node_destroy(s->node);
	}
	if (s->listen_fd > 0)
		close(s->listen_fd);
	if (s->epfd > 0)
		close(s->epfd);
	if (s->timer_fd > 0)
		close(s->timer_fd);
	if (s->signal_fd > 0)
		close(s->signal_fd);
	if (s->peer_fd[PD_PLANE_ELECTION] > 0)
		close(s->peer_fd[PD_PLANE_ELECTION]);
	if (s->peer_fd[PD_PLANE_QUORUM] > 0)
		close(s->peer_fd[PD_PLANE_QUORUM]);
}

int net_server_run(const char *config_path)
{
	struct server s;
	struct epoll_event events[SERVER_EVENTS_MAX];
	struct pd_event ev;
	int rc;
	memset(&s, 0, sizeof(s));
	s.listen_fd = s.epfd = s.timer_fd = s.signal_fd = -1;
	s.disk.fd = -1;
	s.disk.event_fd = -1;
	rc = server_setup(&s, config_path);
	if (rc != 0) {
		server_teardown(&s);
		return rc;
	}
	net_log("INFO", "paddock %s (%s) serving clients on %s, dataDir %s, tickTime %d", PD_VERSION_STRING,
		s.cfg.server_count > 1 ? "ensemble member" : "standalone", s.listen_desc, s.cfg.data_dir, s.cfg.tick_ms);
	/* Let the core arm its first timer. */
	server_event_base(&ev, PD_EV_TICK);
	server_step(&s, &ev);
	while (!s.stop) {
		int n = epoll_wait(s.epfd, events, SERVER_EVENTS_MAX, -1), i;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			net_log("ERROR", "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			uint32_t what = events[i].events;
			if (fd == s.listen_fd) {
				server_accept(&s, s.listen_fd, PD_PLANE_CLIENT);
			} else if (fd == s.peer_fd[PD_PLANE_ELECTION] && fd > 0) {
				server_accept(&s, fd, PD_PLANE_ELECTION);
			} else if (fd == s.peer_fd[PD_PLANE_QUORUM] && fd > 0) {
				server_accept(&s, fd, PD_PLANE_QUORUM);
			} else if (fd == s.timer_fd) {
				uint64_t expirations;
				if (read(s.timer_fd, &expirations, sizeof(expirations)) > 0) {
					server_event_base(&ev, PD_EV_TICK);
					server_step(&s, &ev);
				}
			} else if (fd == s.disk.event_fd) {
				server_log_done(&s);
			} else if (fd == s.signal_fd) {
				struct signalfd_siginfo si;
				if (read(s.signal_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
					continue;
				if (si.ssi_signo == SIGCHLD) {
					snapper_reap(&s.snap);
					continue;
				}
				net_log("INFO", "signal %u received, shutting down", si.ssi_signo);
				s.stop = true;
			} else {
				struct server_conn *c = server_conn(&s, fd);
				if (c != NULL && c->connecting) {
					server_dial_done(&s, fd);
					continue;
				}
				if (c == NULL || (!c->open && !c->closing))
					continue;
				if (what & EPOLLOUT)
					(void)server_flush_one(&s, fd);
				c = &s.conns[fd];
				if (c->open && (what & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					server_read(&s, fd);
				else if (!c->open && c->closing && (what & (EPOLLHUP | EPOLLERR)))
					server_fd_close(&s, fd);
			}
		}
		server_flush(&s);
		server_housekeeping(&s);
	}
	server_teardown(&s);
	return s.exit_code;
}
