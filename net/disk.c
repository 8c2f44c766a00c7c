/*
 * disk.c: the transaction log on real files, with group commit.
 *
 * Files live in dataLogDir/paddock/ and are named log.<first zxid, 16 hex
 * digits>; records are core/log.h's.  The event loop never touches a log
 * file after start: it queues the records of its steps (disk_append) and,
 * at the end of each turn, hands everything queued to the I/O thread
 * (disk_kick) if that thread is idle.  The thread writes the batch at the
 * end of the current file, fdatasyncs it (unless forceSync=no) and posts
 * "durable up to zxid Z" on an eventfd; the loop turns that into
 * PD_EV_LOG_DURABLE, the only event that lets the core apply and answer
 * the writes it covers.  Whatever arrives while a batch is being synced
 * forms the next batch: one fdatasync covers every write of a turn or more
 * (group commit), and the loop keeps serving reads meanwhile.
 *
 * Files are preallocated (preAllocSize, 64 MiB by default, as ZooKeeper
 * does) so that fdatasync does not also have to commit a new file size; a
 * zero length field therefore marks the end of the data.  A new file is
 * started past 64 MiB of records, and the directory is fsync'd whenever a
 * file is created.
 *
 * On start (disk_recover) the newest snapshot in dataDir/paddock that
 * loads is the base (an older one if it is damaged, snap.h's recovery
 * plan picking the log files it needs), and the log records after its
 * label are replayed; with no usable snapshot the logs must start at zxid
 * 1.  A torn or corrupt record, or anything but zeros after the end, in the
 * newest file is cut off (and reported: those records were never
 * acknowledged, since nothing is answered before its batch is synced);
 * anywhere else it stops the start, since transactions after it would be
 * lost silently.  So does a gap in the zxids.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "err.h"
#include "jute.h"
#include "log.h"
#include "net.h"
#include "snap.h"
#include "txn.h"

#define DISK_ROLL_BYTES (64u << 20)

static int disk_cmp_zxid(const void *a, const void *b)
{
	pd_zxid x = *(const pd_zxid *)a, y = *(const pd_zxid *)b;
	return x < y ? -1 : x > y;
}

/* The zxids of the files named kind.<16 hex> in dir, ascending.  *out is
 * malloc'd.  Returns 0 or -1 with errno. */
static int disk_list(const char *dir, const char *kind, pd_zxid **out, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	*out = NULL;
	*count = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		pd_zxid z;
		if (!pd_snap_parse_name(de->d_name, kind, &z))
			continue;
		if (*count == cap) {
			pd_zxid *fresh;
			cap = cap == 0 ? 16 : cap * 2;
			fresh = realloc(*out, cap * sizeof(*fresh));
			if (fresh == NULL) {
				closedir(d);
				return -1;
			}
			*out = fresh;
		}
		(*out)[(*count)++] = z;
	}
	closedir(d);
	if (*count > 1)
		qsort(*out, *count, sizeof(**out), disk_cmp_zxid);
	return 0;
}

static int disk_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Counts one file creation, write or sync; says whether a test wants it
 * to fail (and with which errno). */
static int disk_fault(struct disk *d)
{
	d->io_ops++;
	if (d->fail_countdown != 0 && --d->fail_countdown == 0)
		return d->fail_errno != 0 ? d->fail_errno : EIO;
	return 0;
}

static int disk_open_new(struct disk *d, pd_zxid first)
{
	char path[PD_CONFIG_PATH_MAX + 64];
	if (d->fd >= 0)
		close(d->fd);
	snprintf(path, sizeof(path), "%s/log.%016" PRIx64, d->dir, (uint64_t)first);
	if ((errno = disk_fault(d)) != 0) {
		d->fd = -1;
		return errno;
	}
	/* A file of this name can only be left by an append that failed
	 * (nothing in it was durable): start it again. */
	d->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		int err = errno;
		net_log("ERROR", "cannot create %s: %s", path, strerror(err));
		return err;
	}
	d->file_bytes = 0;
	d->file_allocated = 0;
	if (disk_fsync_dir(d->dir) != 0) {
		int err = errno;
		net_log("ERROR", "cannot sync directory %s: %s", d->dir, strerror(err));
		return err;
	}
	return 0;
}

static bool disk_all_zero(const uint8_t *p, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static const char *disk_status_name(enum pd_log_status st)
{
	switch (st) {
	case PD_LOG_TORN:
		return "torn";
	case PD_LOG_CORRUPT:
		return "corrupt";
	default:
		return "garbage after the end";
	}
}

/* Replays one log file; *end receives the end of its records.  Records at
 * or below the node's zxid are skipped; one that does not follow it is a
 * gap.  Returns 0, 1 if the file does not end cleanly (*bad says how), -1
 * with errmsg. */
static int disk_replay_file(const char *path, bool newest, struct pd_node *node, size_t *end, size_t *size,
			    enum pd_log_status *bad, uint64_t *replayed, char *errmsg, size_t errmsg_size)
{
	size_t len = 0, off = 0;
	const uint8_t *buf = net_map_file(path, &len);
	int rc = 0;
	if (buf == NULL) {
		snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used;
		enum pd_log_status st = pd_log_next(buf + off, len - off, &txn, &txn_len, &used);
		if (st == PD_LOG_RECORD) {
			pd_zxid last = pd_node_last_zxid(node), zxid = txn_len >= 20 ? pd_be64(txn + 12) : 0;
			/* the next txn, or an ensemble's first of a newer epoch */
			bool follows = zxid == last + 1 || (zxid > last && PD_ZXID_COUNTER(zxid) == 1 &&
							     PD_ZXID_EPOCH(zxid) > PD_ZXID_EPOCH(last));
			if (zxid > last && !follows) {
				snprintf(errmsg, errmsg_size, "%s: the record at offset %zu is zxid 0x%" PRIx64
					 " but the state is at 0x%" PRIx64 ": transactions are missing",
					 path, off, (uint64_t)zxid, (uint64_t)last);
				rc = -1;
				break;
			}
			if (follows) {
				if (pd_node_replay(node, txn, txn_len, net_now_ms(), net_wall_ms()) != 0) {
					snprintf(errmsg, errmsg_size, "%s: record at offset %zu is not a transaction", path,
						 off);
					rc = -1;
					break;
				}
				(*replayed)++;
			}
			off += used;
			continue;
		}
		/* The end, followed by preallocated zeros.  Only the newest file
		 * can hold unsynced leftovers after it (a file is rolled only
		 * after everything in it was synced), so only its tail is read. */
		if (st == PD_LOG_END && (!newest || disk_all_zero(buf + off, len - off)))
			break;
		*bad = st;
		rc = 1;
		break;
	}
	net_unmap_file(buf, len);
	*end = off;
	*size = len;
	return rc;
}

/* Loads the snapshot labelled zxid into a fresh node.  Returns 0, or -1
 * with the reason in errmsg (and no node). */
static int disk_load_snapshot(const char *dir, pd_zxid zxid, const struct pd_config *cfg,
			      struct pd_allocator allocator, struct pd_node **out, char *errmsg, size_t errmsg_size)
{
	char path[PD_CONFIG_PATH_MAX + 64], why[256];
	size_t len = 0;
	const uint8_t *p;
	int rc;
	snprintf(path, sizeof(path), "%s/snapshot.%016" PRIx64, dir, (uint64_t)zxid);
	p = net_map_file(path, &len);
	if (p == NULL) {
		snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (pd_node_create(cfg, allocator, net_now_ms(), net_wall_ms(), out, why, sizeof(why)) != 0) {
		net_unmap_file(p, len);
		snprintf(errmsg, errmsg_size, "%s", why);
		return -1;
	}
	rc = pd_snap_load(*out, p, len, net_now_ms(), why, sizeof(why));
	net_unmap_file(p, len);
	if (rc != 0) {
		pd_node_destroy(*out);
		*out = NULL;
		snprintf(errmsg, errmsg_size, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* Replays log files from index first; opens the newest for appending. */
static int disk_replay_logs(struct disk *d, const pd_zxid *starts, size_t count, size_t first,
			    struct pd_node *node, uint64_t *replayed, char *errmsg, size_t errmsg_size)
{
	size_t i;
	for (i = first; i < count; i++) {
		char path[PD_CONFIG_PATH_MAX + 64];
		size_t end = 0, size = 0;
		enum pd_log_status bad = PD_LOG_END;
		bool last = i + 1 == count;
		int r;
		snprintf(path, sizeof(path), "%s/log.%016" PRIx64, d->dir, (uint64_t)starts[i]);
		r = disk_replay_file(path, last, node, &end, &size, &bad, replayed, errmsg, errmsg_size);
		if (r < 0)
			return -1;
		if (r == 1 && !last) {
			snprintf(errmsg, errmsg_size, "%s: %s record at offset %zu of %zu before the newest log file; "
				 "refusing to start rather than lose the transactions after it",
				 path, disk_status_name(bad), end, size);
			return -1;
		}
		if (r == 1) {
			net_log("WARN", "%s: %s at offset %zu (%zu bytes up to the end of the file) cut off; "
				"those records were never acknowledged", path, disk_status_name(bad), end, size - end);
			if (truncate(path, (off_t)end) != 0) {
				snprintf(errmsg, errmsg_size, "cannot truncate %s: %s", path, strerror(errno));
				return -1;
			}
			size = end;
		}
		if (last) {
			d->fd = open(path, O_WRONLY | O_CLOEXEC);
			d->file_bytes = end;
			d->file_allocated = size;
			if (d->fd < 0 || (r == 1 && fdatasync(d->fd) != 0)) {
				snprintf(errmsg, errmsg_size, "cannot open %s: %s", path, strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

static int disk_mkdir(const char *path, char *errmsg, size_t errmsg_size)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(errmsg, errmsg_size, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Snapshot files a crashed writer left half done. */
static void disk_remove_partial_snapshots(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, "snapshot.", 9) == 0 && n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0) {
			char path[PD_CONFIG_PATH_MAX + 300];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (unlink(path) == 0)
				net_log("INFO", "removed %s, left by an interrupted snapshot", path);
		}
	}
	closedir(d);
}

#define DISK_SNAPSHOT_TRIES 100

int disk_recover(struct disk *d, const struct pd_config *cfg, struct pd_allocator allocator, struct pd_node **out,
		 struct disk_recovery *info, char *errmsg, size_t errmsg_size)
{
	pd_zxid *logs = NULL, *snaps = NULL;
	size_t log_count = 0, snap_count = 0, i, tried = 0;
	struct pd_node *node = NULL;
	int rc = -1;
	memset(d, 0, sizeof(*d));
	memset(info, 0, sizeof(*info));
	d->fd = -1;
	d->event_fd = -1;
	d->force_sync = cfg->force_sync;
	d->prealloc_bytes = (uint64_t)cfg->prealloc_bytes;
	snprintf(d->dir, sizeof(d->dir), "%s/paddock", cfg->data_log_dir);
	snprintf(d->snap_dir, sizeof(d->snap_dir), "%s/paddock", cfg->data_dir);
	*out = NULL;
	if (disk_mkdir(d->dir, errmsg, errmsg_size) != 0 || disk_mkdir(d->snap_dir, errmsg, errmsg_size) != 0)
		return -1;
	disk_remove_partial_snapshots(d->snap_dir);
	if (disk_list(d->dir, "log", &logs, &log_count) != 0 || disk_list(d->snap_dir, "snapshot", &snaps, &snap_count) != 0) {
		snprintf(errmsg, errmsg_size, "cannot list %s or %s: %s", d->dir, d->snap_dir, strerror(errno));
		goto done;
	}
	/* The newest snapshot that loads, with the logs after it (snap.h). */
	for (i = snap_count; i > 0 && tried < DISK_SNAPSHOT_TRIES; i--) {
		pd_zxid label = snaps[i - 1];
		size_t first = pd_recovery_first_log(logs, log_count, label);
		char why[1024];
		tried++;
		if (first == SIZE_MAX) {
			net_log("WARN", "snapshot 0x%" PRIx64 " is older than every log file (the oldest starts at 0x%" PRIx64
				"); trying an older snapshot", (uint64_t)label, (uint64_t)logs[0]);
			continue;
		}
		if (disk_load_snapshot(d->snap_dir, label, cfg, allocator, &node, why, sizeof(why)) != 0) {
			net_log("WARN", "cannot use snapshot 0x%" PRIx64 ": %s; trying an older one", (uint64_t)label, why);
			info->bad_snapshots++;
			continue;
		}
		info->snapshot_zxid = label;
		if (disk_replay_logs(d, logs, log_count, first, node, &info->replayed, errmsg, errmsg_size) != 0)
			goto done;
		rc = 0;
		goto done;
	}
	/* No usable snapshot: the logs must hold the whole history. */
	/* (an ensemble's history starts at the first txn of an epoch, (e, 1)) */
	if (log_count > 0 && PD_ZXID_COUNTER(logs[0]) > 1) {
		snprintf(errmsg, errmsg_size, "no usable snapshot in %s (%zu found) and the oldest log file starts at zxid "
			 "0x%" PRIx64 ": the transactions before it are gone; refusing to start",
			 d->snap_dir, snap_count, (uint64_t)logs[0]);
		goto done;
	}
	if (pd_node_create(cfg, allocator, net_now_ms(), net_wall_ms(), &node, errmsg, errmsg_size) != 0)
		goto done;
	if (disk_replay_logs(d, logs, log_count, 0, node, &info->replayed, errmsg, errmsg_size) != 0)
		goto done;
	rc = 0;
done:
	if (rc == 0) {
		*out = node;
		info->log_files = log_count;
		info->zxid = pd_node_last_zxid(node);
	} else if (node != NULL) {
		pd_node_destroy(node);
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
	}
	free(logs);
	free(snaps);
	return rc;
}

/* --- the I/O thread --- */

#define DISK_SLOW_SYNC_NS 1000000000ull

static uint64_t disk_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Writes and syncs one batch.  Returns 0 or an errno. */
static int disk_write_batch_once(struct disk *d, const struct disk_buf *b)
{
	size_t off = 0;
	uint64_t t0;
	if (d->fd < 0 || d->file_bytes >= DISK_ROLL_BYTES || (b->roll && d->file_bytes > 0)) {
		int err = disk_open_new(d, b->first_zxid);
		if (err != 0)
			return err;
	}
	/* Grow the file ahead of the data in big zero-filled steps, so that a
	 * sync rarely has a size change to commit.  Where the space is not
	 * there (or fallocate is not supported), write without it: the write
	 * itself says whether the records fit. */
	if (d->file_bytes + b->len > d->file_allocated) {
		uint64_t want = d->file_bytes + b->len + d->prealloc_bytes;
		want -= want % d->prealloc_bytes;
		if (fallocate(d->fd, 0, (off_t)d->file_allocated, (off_t)(want - d->file_allocated)) == 0)
			d->file_allocated = want;
	}
	while (off < b->len) {
		ssize_t n;
		int injected = disk_fault(d);
		if (injected != 0) {
			/* a write that fails half way */
			(void)pwrite(d->fd, b->data + off, (b->len - off) / 2, (off_t)(d->file_bytes + off));
			return injected;
		}
		n = pwrite(d->fd, b->data + off, b->len - off, (off_t)(d->file_bytes + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		off += (size_t)n;
	}
	if (d->file_bytes + b->len > d->file_allocated)
		d->file_allocated = d->file_bytes + b->len;
	t0 = disk_mono_ns();
	if (d->force_sync) {
		int injected = disk_fault(d);
		if (injected != 0)
			return injected;
		if (fdatasync(d->fd) != 0)
			return errno;
	}
	t0 = disk_mono_ns() - t0;
	if (t0 > d->sync_ns_max)
		d->sync_ns_max = t0;
	if (t0 > DISK_SLOW_SYNC_NS)
		net_log("WARN", "fdatasync of the transaction log took %" PRIu64 " ms", t0 / 1000000u);
	d->file_bytes += b->len;
	return 0;
}

/* Writes, syncs and removes a scratch file: can the log directory take
 * appends again?  Returns 0 or an errno. */
static int disk_probe_space(struct disk *d)
{
	char path[PD_CONFIG_PATH_MAX + 32];
	static const uint8_t zeros[65536];
	int fd, err = 0;
	uint64_t off;
	snprintf(path, sizeof(path), "%s/.probe", d->dir);
	if ((err = disk_fault(d)) != 0)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	for (off = 0; off < (1u << 20) && err == 0; off += sizeof(zeros))
		if (pwrite(fd, zeros, sizeof(zeros), (off_t)off) != (ssize_t)sizeof(zeros))
			err = errno != 0 ? errno : ENOSPC;
	if (err == 0 && fdatasync(fd) != 0)
		err = errno;
	close(fd);
	unlink(path);
	return err;
}

/* A batch; after a failure the file is cut back to what was durable, so
 * that nothing half-written stays after it. */
static int disk_write_batch(struct disk *d, const struct disk_buf *b)
{
	int err = disk_write_batch_once(d, b);
	if (err != 0 && d->fd >= 0 && ftruncate(d->fd, (off_t)d->file_bytes) == 0) {
		d->file_allocated = d->file_bytes;
		(void)fdatasync(d->fd);
	}
	return err;
}

static void *disk_thread(void *arg)
{
	struct disk *d = arg;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		uint64_t one = 1;
		int err;
		while (!d->batch_ready && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (!d->batch_ready)
			break;
		pthread_mutex_unlock(&d->lock);
		err = d->batch.probe ? disk_probe_space(d) : disk_write_batch(d, &d->batch);
		pthread_mutex_lock(&d->lock);
		d->batch_ready = false;
		d->done = true;
		d->done_err = err;
		d->done_zxid = d->batch.probe ? 0 : d->batch.last_zxid;
		d->done_probe = d->batch.probe;
		pthread_mutex_unlock(&d->lock);
		while (write(d->event_fd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int disk_start(struct disk *d, char *errmsg, size_t errmsg_size)
{
	int rc;
	d->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->event_fd < 0) {
		snprintf(errmsg, errmsg_size, "eventfd: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	rc = pthread_create(&d->thread, NULL, disk_thread, d);
	if (rc != 0) {
		snprintf(errmsg, errmsg_size, "cannot start the log thread: %s", strerror(rc));
		return -1;
	}
	d->thread_started = true;
	return 0;
}

int disk_append(struct disk *d, const uint8_t *rec, size_t len, pd_zxid zxid)
{
	struct disk_buf *f = &d->fill;
	if (f->len + len > f->cap) {
		size_t cap = f->cap == 0 ? 65536 : f->cap;
		uint8_t *fresh;
		while (cap < f->len + len)
			cap *= 2;
		fresh = realloc(f->data, cap);
		if (fresh == NULL)
			return -1;
		f->data = fresh;
		f->cap = cap;
	}
	if (f->len == 0)
		f->first_zxid = zxid;
	f->last_zxid = zxid;
	memcpy(f->data + f->len, rec, len);
	f->len += len;
	d->records++;
	return 0;
}

void disk_request_roll(struct disk *d)
{
	d->fill.roll = true;
}

void disk_kick(struct disk *d)
{
	struct disk_buf spare;
	if (d->busy || d->fill.len == 0 || !d->thread_started)
		return;
	pthread_mutex_lock(&d->lock);
	spare = d->batch;
	d->batch = d->fill;
	d->batch_ready = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	d->fill = spare;
	d->fill.len = 0;
	d->fill.roll = false;
	d->fill.probe = false;
	d->busy = true;
	d->batches++;
}

void disk_probe(struct disk *d)
{
	if (d->busy || !d->thread_started)
		return;
	pthread_mutex_lock(&d->lock);
	d->batch.len = 0; /* the thread is idle: its buffer is free */
	d->batch.probe = true;
	d->batch.roll = false;
	d->batch_ready = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	d->busy = true;
}

int disk_completed(struct disk *d, pd_zxid *durable, int *err, bool *probe)
{
	uint64_t n;
	bool done;
	*durable = 0;
	*err = 0;
	*probe = false;
	while (read(d->event_fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&d->lock);
	done = d->done;
	d->done = false;
	*durable = d->done_zxid;
	*err = d->done_err;
	*probe = d->done_probe;
	pthread_mutex_unlock(&d->lock);
	if (!done)
		return 0;
	d->busy = false;
	if (*err != 0 && !*probe) {
		d->fill.len = 0; /* never to be durable: the core drops them too */
		d->failures++;
	}
	return *err != 0 ? -1 : 0;
}

int disk_truncate_after(const char *log_dir, const char *snap_dir, pd_zxid zxid, char *errmsg, size_t errmsg_size)
{
	pd_zxid *logs = NULL, *snaps = NULL;
	size_t log_count = 0, snap_count = 0, i;
	char path[PD_CONFIG_PATH_MAX + 64];
	int rc = -1;
	if (disk_list(log_dir, "log", &logs, &log_count) != 0 || disk_list(snap_dir, "snapshot", &snaps, &snap_count) != 0) {
		snprintf(errmsg, errmsg_size, "cannot list %s or %s: %s", log_dir, snap_dir, strerror(errno));
		goto done;
	}
	for (i = 0; i < snap_count; i++) {
		if (snaps[i] <= zxid)
			continue;
		snprintf(path, sizeof(path), "%s/snapshot.%016" PRIx64, snap_dir, (uint64_t)snaps[i]);
		if (unlink(path) != 0) {
			snprintf(errmsg, errmsg_size, "cannot remove %s: %s", path, strerror(errno));
			goto done;
		}
	}
	for (i = 0; i < log_count; i++) {
		size_t len = 0, off = 0;
		const uint8_t *buf;
		int fd;
		snprintf(path, sizeof(path), "%s/log.%016" PRIx64, log_dir, (uint64_t)logs[i]);
		if (logs[i] > zxid) {
			if (unlink(path) != 0) {
				snprintf(errmsg, errmsg_size, "cannot remove %s: %s", path, strerror(errno));
				goto done;
			}
			continue;
		}
		buf = net_map_file(path, &len);
		if (buf == NULL) {
			snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		for (;;) {
			const uint8_t *txn;
			uint32_t txn_len;
			size_t used;
			if (pd_log_next(buf + off, len - off, &txn, &txn_len, &used) != PD_LOG_RECORD || txn_len < 20 ||
			    (pd_zxid)pd_be64(txn + 12) > zxid)
				break;
			off += used;
		}
		net_unmap_file(buf, len);
		if (off == len)
			continue;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
			snprintf(errmsg, errmsg_size, "cannot truncate %s at %zu: %s", path, off, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto done;
		}
		close(fd);
	}
	if (disk_fsync_dir(log_dir) != 0 || disk_fsync_dir(snap_dir) != 0) {
		snprintf(errmsg, errmsg_size, "syncing %s or %s: %s", log_dir, snap_dir, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(logs);
	free(snaps);
	return rc;
}

void disk_close(struct disk *d)
{
	if (d->thread_started) {
		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->cond);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->event_fd >= 0)
		close(d->event_fd);
	free(d->fill.data);
	free(d->batch.data);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->event_fd = -1;
}
