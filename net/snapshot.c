/*
 * snapshot.c: snapshots without stalling the loop, and purging.
 *
 * When the core asks for a snapshot (PD_FX_SNAPSHOT) the loop forks.  The
 * child's memory is a copy-on-write image of the node exactly as it is
 * between two steps, so the snapshot is exact at the node's zxid (no fuzzy
 * mix of states, and replay starts strictly after the label).  The child
 * runs core/snap.c's encoder over that image, writes
 * dataDir/paddock/snapshot.<zxid>.tmp, fsyncs it, renames it into place,
 * fsyncs the directory and exits; the loop only pays for fork() (page
 * tables, a few milliseconds per GiB) and keeps serving.  A child that
 * fails leaves no snapshot.<zxid> behind (the .tmp is removed at the next
 * start).  Why not a fuzzy snapshot encoded in the loop: it would cost
 * the loop the encoding time, spread over steps, and need every replayed
 * txn to be idempotent against a state that already has part of it; the
 * fork gives an exact image for the price of fork().
 *
 * Purging (autopurge.purgeInterval hours, as ZooKeeper) keeps the newest
 * autopurge.snapRetainCount snapshots and every log file needed to replay
 * from the oldest of them (core/snap.h's recovery plan), and deletes the
 * rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net.h"
#include "snap.h"
#include "snapshot.h"

#define SNAPSHOT_CHUNK (1u << 20)

void snapper_init(struct snapper *sp, const char *snap_dir, const char *log_dir, int retain)
{
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->dir, sizeof(sp->dir), "%s", snap_dir);
	snprintf(sp->log_dir, sizeof(sp->log_dir), "%s", log_dir);
	sp->retain = retain;
}

static int snapshot_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A rename is durable once its directory is synced. */
static int snapshot_sync_dir(const char *dir, char *errmsg, size_t errmsg_size)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		snprintf(errmsg, errmsg_size, "syncing %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int snapshot_write(const char *dir, struct pd_node *node, pd_zxid *zxid, char *errmsg, size_t errmsg_size)
{
	struct pd_snap_writer w;
	struct pd_buf piece;
	char tmp[PD_CONFIG_PATH_MAX + 80], path[PD_CONFIG_PATH_MAX + 64];
	int fd, rc;
	memset(&piece, 0, sizeof(piece));
	pd_snap_writer_init(&w, node);
	*zxid = w.zxid;
	snprintf(path, sizeof(path), "%s/snapshot.%016" PRIx64, dir, (uint64_t)w.zxid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(errmsg, errmsg_size, "cannot create %s: %s", tmp, strerror(errno));
		pd_snap_writer_free(&w);
		return -1;
	}
	do {
		piece.len = 0;
		rc = pd_snap_writer_next(&w, &piece, SNAPSHOT_CHUNK);
		if (rc < 0 || snapshot_write_all(fd, piece.data, piece.len) != 0) {
			snprintf(errmsg, errmsg_size, "writing %s: %s", tmp, rc < 0 ? "out of memory" : strerror(errno));
			break;
		}
	} while (rc == 1);
	pd_snap_writer_free(&w);
	pd_buf_free(pd_node_io_mem(node), &piece);
	if (rc != 0 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		if (rc == 0)
			snprintf(errmsg, errmsg_size, "completing %s: %s", path, strerror(errno));
		if (rc != 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return snapshot_sync_dir(dir, errmsg, errmsg_size);
}

int snapshot_install(const char *dir, pd_zxid zxid, const uint8_t *p, size_t len, char *errmsg, size_t errmsg_size)
{
	char tmp[PD_CONFIG_PATH_MAX + 80], path[PD_CONFIG_PATH_MAX + 64];
	int fd;
	snprintf(path, sizeof(path), "%s/snapshot.%016" PRIx64, dir, (uint64_t)zxid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(errmsg, errmsg_size, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (snapshot_write_all(fd, p, len) != 0 || fsync(fd) != 0) {
		snprintf(errmsg, errmsg_size, "writing %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(errmsg, errmsg_size, "completing %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return snapshot_sync_dir(dir, errmsg, errmsg_size);
}

/* The child: never returns. */
static void snapshot_child(const char *dir, struct pd_node *node)
{
	char errmsg[PD_CONFIG_PATH_MAX + 200];
	pd_zxid zxid;
	if (snapshot_write(dir, node, &zxid, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "snapshot: %s", errmsg);
		_exit(1);
	}
	_exit(0);
}

int snapper_start(struct snapper *sp, struct pd_node *node)
{
	pid_t pid;
	if (sp->child != 0) {
		sp->skipped++;
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		net_log("WARN", "snapshot: fork failed: %s; will try at the next one due", strerror(errno));
		sp->failed++;
		return -1;
	}
	if (pid == 0) {
		/* The child inherits the loop's blocked signals; let SIGTERM end it. */
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		/* Drop the copies of every socket and file: a client whose
		 * connection the loop closes must see it closed now, not when
		 * the snapshot is done. */
		(void)close_range(3, ~0u, 0);
		snapshot_child(sp->dir, node);
	}
	sp->child = pid;
	sp->child_zxid = pd_node_last_zxid(node);
	sp->child_started_ms = net_now_ms();
	return 0;
}

void snapper_reap(struct snapper *sp)
{
	int status;
	pid_t r;
	if (sp->child == 0)
		return;
	r = waitpid(sp->child, &status, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return;
	if (r == sp->child && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		sp->taken++;
		sp->last_zxid = sp->child_zxid;
		net_log("INFO", "snapshot 0x%" PRIx64 " written in %" PRIu64 " ms", (uint64_t)sp->child_zxid,
			net_now_ms() - sp->child_started_ms);
	} else {
		sp->failed++;
		net_log("WARN", "snapshot 0x%" PRIx64 " failed (status 0x%x); the log still holds everything",
			(uint64_t)sp->child_zxid, r == sp->child ? (unsigned)status : 0u);
	}
	sp->child = 0;
}

void snapper_wait(struct snapper *sp)
{
	while (sp->child != 0) {
		int status;
		pid_t r = waitpid(sp->child, &status, 0);
		if (r < 0 && errno == EINTR)
			continue;
		sp->child = 0;
	}
}

static int snapshot_cmp(const void *a, const void *b)
{
	pd_zxid x = *(const pd_zxid *)a, y = *(const pd_zxid *)b;
	return x < y ? -1 : x > y;
}

static size_t snapshot_list(const char *dir, const char *kind, pd_zxid *out, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max)
		if (pd_snap_parse_name(de->d_name, kind, &out[n]))
			n++;
	closedir(d);
	qsort(out, n, sizeof(*out), snapshot_cmp);
	return n;
}

static int snapshot_unlink(const char *dir, const char *kind, pd_zxid z)
{
	char path[PD_CONFIG_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s.%016" PRIx64, dir, kind, (uint64_t)z);
	if (unlink(path) != 0) {
		net_log("WARN", "purge: cannot remove %s: %s", path, strerror(errno));
		return 0;
	}
	return 1;
}

#define SNAPSHOT_LIST_MAX 65536

int snapper_purge(struct snapper *sp)
{
	pd_zxid *snaps = malloc(SNAPSHOT_LIST_MAX * sizeof(pd_zxid)), *logs = malloc(SNAPSHOT_LIST_MAX * sizeof(pd_zxid));
	size_t ns, nl, i, first;
	int removed = 0;
	if (snaps == NULL || logs == NULL)
		goto out;
	ns = snapshot_list(sp->dir, "snapshot", snaps, SNAPSHOT_LIST_MAX);
	nl = snapshot_list(sp->log_dir, "log", logs, SNAPSHOT_LIST_MAX);
	if (ns <= (size_t)sp->retain)
		goto out;
	/* the oldest kept snapshot decides which log files are still needed */
	first = pd_recovery_first_log(logs, nl, snaps[ns - (size_t)sp->retain]);
	for (i = 0; i < ns - (size_t)sp->retain; i++)
		removed += snapshot_unlink(sp->dir, "snapshot", snaps[i]);
	for (i = 0; first != SIZE_MAX && i < first && i + 1 < nl; i++)
		removed += snapshot_unlink(sp->log_dir, "log", logs[i]);
	if (removed > 0)
		net_log("INFO", "purge: removed %d file(s); kept the newest %d snapshot(s) and the logs they need", removed,
			sp->retain);
out:
	free(snaps);
	free(logs);
	return removed;
}
