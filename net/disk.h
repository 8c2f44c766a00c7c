/* disk.h: the transaction log on real files, with group commit; see disk.c. */
#ifndef PD_NET_DISK_H
#define PD_NET_DISK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd.h"

/* Records appended by the loop, not yet handed to the I/O thread. */
struct disk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	pd_zxid first_zxid;
	pd_zxid last_zxid;
	bool roll;  /* start a new log file with this batch (a snapshot began) */
	bool probe; /* no records: check that the log directory takes writes again */
};

/* What recovery found, for the start-up log line and the tests. */
struct disk_recovery {
	pd_zxid snapshot_zxid; /* 0: no snapshot used */
	uint64_t bad_snapshots;
	uint64_t replayed;     /* log records applied after the snapshot */
	size_t log_files;
	pd_zxid zxid;
};

struct disk {
	char dir[PD_CONFIG_PATH_MAX + 16];      /* dataLogDir/paddock: log files */
	char snap_dir[PD_CONFIG_PATH_MAX + 16]; /* dataDir/paddock: snapshots */
	bool force_sync;
	uint64_t prealloc_bytes;
	/* owned by the I/O thread while it runs (the loop reads them only at
	 * start and after the thread stopped) */
	int fd;
	uint64_t file_bytes;     /* end of the records in the current file */
	uint64_t file_allocated; /* preallocated size of the current file */
	/* the loop's side */
	struct disk_buf fill;
	bool busy;    /* a batch is with the I/O thread */
	int event_fd; /* the I/O thread posts completions here */
	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started;
	bool stop;
	struct disk_buf batch; /* handed over, being written */
	bool batch_ready;
	bool done;             /* the batch is written (and synced) */
	int done_err;          /* errno of a failed write or sync, 0 if none */
	pd_zxid done_zxid;
	bool done_probe;
	/* figures */
	uint64_t batches;
	uint64_t records;
	uint64_t sync_ns_max;
	uint64_t failures; /* appends that failed */
	/* fault injection for tests: the Nth file creation, write or sync of
	 * the log thread fails with fail_errno (EIO if 0); 0 = never */
	uint64_t fail_countdown;
	int fail_errno;
	uint64_t io_ops; /* file creations, writes and syncs so far */
};

/* Recovery: builds the node from the newest snapshot that loads and the
 * log records after it (falling back to older snapshots), cuts a torn tail
 * of the newest log file, and opens that file for appending.  Returns 0
 * with *node, or -1 with errmsg. */
int disk_recover(struct disk *d, const struct pd_config *cfg, struct pd_allocator allocator, struct pd_node **node,
		 struct disk_recovery *info, char *errmsg, size_t errmsg_size);
/* Starts the I/O thread; completions arrive on d->event_fd. */
int disk_start(struct disk *d, char *errmsg, size_t errmsg_size);
/* Queues one record (the loop's side). */
int disk_append(struct disk *d, const uint8_t *rec, size_t len, pd_zxid zxid);
/* The next batch starts a new log file (called when a snapshot starts, so
 * that older files can be purged once it is durable). */
void disk_request_roll(struct disk *d);
/* Hands the queued records to the I/O thread if it is idle. */
void disk_kick(struct disk *d);
/* After event_fd became readable: the zxid now durable (0 if nothing new),
 * or -1 with *err set if writing or syncing failed (the file is cut back
 * to its durable end, and every queued record is dropped: the core drops
 * them too on PD_EV_LOG_FAILED).  *probe tells a probe's completion. */
int disk_completed(struct disk *d, pd_zxid *durable, int *err, bool *probe);
/* Asks the I/O thread to check that the log directory takes a write and a
 * sync again (after a failure); the answer comes like a batch's. */
void disk_probe(struct disk *d);
void disk_close(struct disk *d);
/* A learner's TRUNC: every log record after zxid and every snapshot above
 * it go, durably (the I/O thread must be stopped).  0, or -1 with errmsg. */
int disk_truncate_after(const char *log_dir, const char *snap_dir, pd_zxid zxid, char *errmsg, size_t errmsg_size);

#endif
