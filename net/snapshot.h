/* snapshot.h: snapshots written by a forked child, and purging; see snapshot.c. */
#ifndef PD_NET_SNAPSHOT_H
#define PD_NET_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pd.h"

struct snapper {
	char dir[PD_CONFIG_PATH_MAX + 16]; /* dataDir/paddock */
	char log_dir[PD_CONFIG_PATH_MAX + 16];
	pid_t child; /* 0: none running */
	pd_zxid child_zxid;
	uint64_t child_started_ms;
	int retain; /* autopurge.snapRetainCount */
	uint64_t taken;
	uint64_t failed;
	uint64_t skipped; /* due while one was running */
	pd_zxid last_zxid; /* the newest snapshot written */
};

/* Writes the node as dir/snapshot.<its zxid> (a tmp file, fsync, rename,
 * directory fsync), in this process.  Returns 0, or -1 with errmsg. */
int snapshot_write(const char *dir, struct pd_node *node, pd_zxid *zxid, char *errmsg, size_t errmsg_size);
/* Writes bytes a leader sent (SNAP) as the snapshot labelled zxid: tmp
 * file, fsync, rename, directory fsync.  0, or -1 with errmsg. */
int snapshot_install(const char *dir, pd_zxid zxid, const uint8_t *p, size_t len, char *errmsg, size_t errmsg_size);

void snapper_init(struct snapper *sp, const char *snap_dir, const char *log_dir, int retain);
/* Forks a child that writes the node's current state as
 * snapshot.<zxid> (tmp file, fsync, rename, directory fsync).  Returns 0,
 * 1 if one is already running (skipped), -1 if fork failed. */
int snapper_start(struct snapper *sp, struct pd_node *node);
/* Reaps the child if it has finished (call on SIGCHLD). */
void snapper_reap(struct snapper *sp);
/* Keeps the newest retain snapshots and the log files they need; deletes
 * the rest.  Returns the number of files deleted. */
int snapper_purge(struct snapper *sp);
/* Waits for a running child (shutdown). */
void snapper_wait(struct snapper *sp);

#endif
