/* disk.h: the transaction log on real files; see disk.c. */
#ifndef PD_NET_DISK_H
#define PD_NET_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "pd.h"

struct disk {
	char dir[PD_CONFIG_PATH_MAX + 16];
	int fd;
	uint64_t file_bytes;
	uint8_t *pending;
	size_t pending_len;
	size_t pending_cap;
};

/* Replays every log file into node, then opens the newest for appending. */
int disk_open_and_replay(struct disk *d, const char *data_log_dir, struct pd_node *node, char *errmsg,
			 size_t errmsg_size);
/* Queues one record (written by disk_flush). */
int disk_append(struct disk *d, const uint8_t *rec, size_t len, pd_zxid zxid);
/* Writes the queued records. */
int disk_flush(struct disk *d);
void disk_close(struct disk *d);

#endif
