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
 * On start every file is replayed in order into the node.  A torn or
 * corrupt record, or anything but zeros after the end, in the newest file
 * is cut off (and reported: those records were never acknowledged, since
 * nothing is answered before its batch is synced); anywhere else it stops
 * the start, since transactions after it would be lost silently.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "err.h"
#include "jute.h"
#include "log.h"
#include "net.h"
#include "txn.h"

#define DISK_ROLL_BYTES (64u << 20)

static int disk_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool disk_is_log_name(const char *name)
{
	size_t i;
	if (strncmp(name, "log.", 4) != 0 || strlen(name) != 20)
		return false;
	for (i = 4; i < 20; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

static char *disk_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
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

static int disk_open_new(struct disk *d, pd_zxid first)
{
	char path[PD_CONFIG_PATH_MAX + 64];
	if (d->fd >= 0)
		close(d->fd);
	snprintf(path, sizeof(path), "%s/log.%016" PRIx64, d->dir, (uint64_t)first);
	d->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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

static bool disk_all_zero(const char *p, size_t len)
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

/* Replays one file; *end receives the end of its records.  Returns 0,
 * 1 if the file does not end cleanly (*st says how), -1 with errmsg. */
static int disk_replay_file(const char *path, struct pd_node *node, size_t *end, size_t *size,
			    enum pd_log_status *bad, uint64_t *replayed, char *errmsg, size_t errmsg_size)
{
	size_t len = 0, off = 0;
	char *buf = disk_slurp(path, &len);
	int rc = 0;
	if (buf == NULL) {
		snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used;
		enum pd_log_status st = pd_log_next((const uint8_t *)buf + off, len - off, &txn, &txn_len, &used);
		if (st == PD_LOG_RECORD) {
			if (pd_node_replay(node, txn, txn_len, net_now_ms(), net_wall_ms()) != 0) {
				snprintf(errmsg, errmsg_size, "%s: record at offset %zu is not a transaction", path, off);
				rc = -1;
				break;
			}
			(*replayed)++;
			off += used;
			continue;
		}
		if (st == PD_LOG_END && disk_all_zero(buf + off, len - off))
			break; /* the end, maybe followed by preallocated zeros */
		*bad = st;
		rc = 1;
		break;
	}
	free(buf);
	*end = off;
	*size = len;
	return rc;
}

int disk_open_and_replay(struct disk *d, const char *data_log_dir, bool force_sync, struct pd_node *node,
			 char *errmsg, size_t errmsg_size)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, cap = 0, i;
	uint64_t replayed = 0;
	int rc = 0;
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->event_fd = -1;
	d->force_sync = force_sync;
	snprintf(d->dir, sizeof(d->dir), "%s/paddock", data_log_dir);
	if (mkdir(d->dir, 0755) != 0 && errno != EEXIST) {
		snprintf(errmsg, errmsg_size, "cannot create %s: %s", d->dir, strerror(errno));
		return -1;
	}
	dir = opendir(d->dir);
	if (dir == NULL) {
		snprintf(errmsg, errmsg_size, "cannot open %s: %s", d->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!disk_is_log_name(de->d_name))
			continue;
		if (count == cap) {
			char **fresh;
			cap = cap == 0 ? 16 : cap * 2;
			fresh = realloc(names, cap * sizeof(char *));
			if (fresh == NULL)
				break;
			names = fresh;
		}
		names[count++] = strdup(de->d_name);
	}
	closedir(dir);
	if (count > 1)
		qsort(names, count, sizeof(char *), disk_cmp_names);
	for (i = 0; i < count && rc == 0; i++) {
		char path[PD_CONFIG_PATH_MAX + 64];
		size_t end = 0, size = 0;
		enum pd_log_status bad = PD_LOG_END;
		bool last = i + 1 == count;
		int r;
		snprintf(path, sizeof(path), "%s/%s", d->dir, names[i]);
		r = disk_replay_file(path, node, &end, &size, &bad, &replayed, errmsg, errmsg_size);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 1 && !last) {
			snprintf(errmsg, errmsg_size, "%s: %s record at offset %zu of %zu before the newest log file; "
				 "refusing to start rather than lose the transactions after it",
				 path, disk_status_name(bad), end, size);
			rc = -1;
			break;
		}
		if (r == 1) {
			net_log("WARN", "%s: %s at offset %zu (%zu bytes up to the end of the file) cut off; "
				"those records were never acknowledged", path, disk_status_name(bad), end, size - end);
			if (truncate(path, (off_t)end) != 0) {
				snprintf(errmsg, errmsg_size, "cannot truncate %s: %s", path, strerror(errno));
				rc = -1;
				break;
			}
			size = end;
		}
		if (last) {
			d->fd = open(path, O_WRONLY | O_CLOEXEC);
			d->file_bytes = end;
			d->file_allocated = size;
			if (d->fd < 0 || (r == 1 && fdatasync(d->fd) != 0)) {
				snprintf(errmsg, errmsg_size, "cannot open %s: %s", path, strerror(errno));
				rc = -1;
			}
		}
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (rc == 0 && count > 0)
		net_log("INFO", "replayed %" PRIu64 " transactions from %zu log file(s) in %s; zxid 0x%" PRIx64,
			replayed, count, d->dir, (uint64_t)pd_node_last_zxid(node));
	return rc;
}

/* --- the I/O thread --- */

#define DISK_PREALLOC_BYTES (64u << 20)
#define DISK_SLOW_SYNC_NS 1000000000ull

static uint64_t disk_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Writes and syncs one batch.  Returns 0 or an errno. */
static int disk_write_batch(struct disk *d, const struct disk_buf *b)
{
	size_t off = 0;
	uint64_t t0;
	if (d->fd < 0 || d->file_bytes >= DISK_ROLL_BYTES) {
		int err = disk_open_new(d, b->first_zxid);
		if (err != 0)
			return err;
	}
	/* Grow the file ahead of the data in big zero-filled steps, so that a
	 * sync rarely has a size change to commit.  Where the space is not
	 * there (or fallocate is not supported), write without it: the write
	 * itself says whether the records fit. */
	if (d->file_bytes + b->len > d->file_allocated) {
		uint64_t want = d->file_bytes + b->len + DISK_PREALLOC_BYTES;
		want -= want % DISK_PREALLOC_BYTES;
		if (fallocate(d->fd, 0, (off_t)d->file_allocated, (off_t)(want - d->file_allocated)) == 0)
			d->file_allocated = want;
	}
	while (off < b->len) {
		ssize_t n = pwrite(d->fd, b->data + off, b->len - off, (off_t)(d->file_bytes + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		off += (size_t)n;
	}
	if (d->file_bytes + b->len > d->file_allocated)
		d->file_allocated = d->file_bytes + b->len;
	t0 = disk_mono_ns();
	if (d->force_sync && fdatasync(d->fd) != 0)
		return errno;
	t0 = disk_mono_ns() - t0;
	if (t0 > d->sync_ns_max)
		d->sync_ns_max = t0;
	if (t0 > DISK_SLOW_SYNC_NS)
		net_log("WARN", "fdatasync of the transaction log took %" PRIu64 " ms", t0 / 1000000u);
	d->file_bytes += b->len;
	return 0;
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
		err = disk_write_batch(d, &d->batch);
		pthread_mutex_lock(&d->lock);
		d->batch_ready = false;
		d->done = true;
		d->done_err = err;
		d->done_zxid = d->batch.last_zxid;
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
	d->busy = true;
	d->batches++;
}

int disk_completed(struct disk *d, pd_zxid *durable, int *err)
{
	uint64_t n;
	bool done;
	*durable = 0;
	*err = 0;
	while (read(d->event_fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&d->lock);
	done = d->done;
	d->done = false;
	*durable = d->done_zxid;
	*err = d->done_err;
	pthread_mutex_unlock(&d->lock);
	if (!done)
		return 0;
	d->busy = false;
	if (*err != 0)
		return -1;
	return 0;
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
