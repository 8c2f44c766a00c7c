/*
 * disk.c: the transaction log on real files (interim form, until the
 * durability issue adds group commit with fsync, preallocation and
 * snapshots).
 *
 * Files live in dataLogDir/paddock/ and are named log.<first zxid, 16 hex
 * digits>; records are core/log.h's.  On start every file is replayed in
 * order into the node.  A torn or corrupt record at the end of the newest
 * file is cut off (and reported); anywhere else it stops the start, since
 * transactions after it would be lost silently.  Records are written with
 * write() once per loop turn, before that turn's replies are sent; they are
 * not fsync'd, so they survive a crash of the process but not of the
 * machine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	d->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		net_log("ERROR", "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	d->file_bytes = 0;
	(void)disk_fsync_dir(d->dir);
	return 0;
}

int disk_open_and_replay(struct disk *d, const char *data_log_dir, struct pd_node *node, char *errmsg,
			 size_t errmsg_size)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, cap = 0, i;
	uint64_t replayed = 0;
	int rc = 0;
	memset(d, 0, sizeof(*d));
	d->fd = -1;
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
		size_t len = 0, off = 0;
		char *buf;
		bool last = i + 1 == count;
		snprintf(path, sizeof(path), "%s/%s", d->dir, names[i]);
		buf = disk_slurp(path, &len);
		if (buf == NULL) {
			snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
			rc = -1;
			break;
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
				replayed++;
				off += used;
				continue;
			}
			if (st == PD_LOG_END && off == len)
				break;
			if (!last) {
				snprintf(errmsg, errmsg_size, "%s: %s record at offset %zu of %zu before the newest log file; "
					 "refusing to start rather than lose the transactions after it",
					 path, st == PD_LOG_TORN ? "torn" : st == PD_LOG_CORRUPT ? "corrupt" : "garbage", off, len);
				rc = -1;
				break;
			}
			net_log("WARN", "%s: %s tail at offset %zu (%zu bytes) cut off", path,
				st == PD_LOG_TORN ? "torn" : st == PD_LOG_CORRUPT ? "corrupt" : "zero-filled", off, len - off);
			if (truncate(path, (off_t)off) != 0) {
				snprintf(errmsg, errmsg_size, "cannot truncate %s: %s", path, strerror(errno));
				rc = -1;
			}
			len = off;
			break;
		}
		free(buf);
		if (rc == 0 && last) {
			d->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			d->file_bytes = len;
			if (d->fd < 0) {
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

int disk_append(struct disk *d, const uint8_t *rec, size_t len, pd_zxid zxid)
{
	if (d->fd < 0 || d->file_bytes >= DISK_ROLL_BYTES) {
		if (disk_open_new(d, zxid) != 0)
			return -1;
	}
	if (d->pending_len + len > d->pending_cap) {
		size_t cap = d->pending_cap == 0 ? 65536 : d->pending_cap;
		uint8_t *fresh;
		while (cap < d->pending_len + len)
			cap *= 2;
		fresh = realloc(d->pending, cap);
		if (fresh == NULL)
			return -1;
		d->pending = fresh;
		d->pending_cap = cap;
	}
	memcpy(d->pending + d->pending_len, rec, len);
	d->pending_len += len;
	return 0;
}

int disk_flush(struct disk *d)
{
	size_t off = 0;
	while (off < d->pending_len) {
		ssize_t n = write(d->fd, d->pending + off, d->pending_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			net_log("ERROR", "writing the transaction log: %s", strerror(errno));
			d->pending_len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	d->file_bytes += d->pending_len;
	d->pending_len = 0;
	return 0;
}

void disk_close(struct disk *d)
{
	if (d->fd >= 0) {
		(void)disk_flush(d);
		(void)fsync(d->fd);
		close(d->fd);
	}
	free(d->pending);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}
