/*
 * snap.h: the snapshot format and the recovery plan (what goes to disk and
 * what to read back, not how: the driver owns files, fsync and fork).
 *
 * A snapshot is an exact image of the applied state at one zxid (the
 * label): the production driver encodes it in a forked child, whose memory
 * is a frozen copy of the node, so no transaction is half in it and replay
 * starts strictly after the label.  Big-endian fixed fields, LEB128 varints
 * (varint.h) elsewhere:
 *
 *   header   "PDSN", u32 version (1), u64 zxid, u64 sessions, u64 acls, u64 nodes
 *   sessions varint id (as u64), varint timeout_ms          (x sessions)
 *   acls     varint old index, varint length, jute vector<ACL> bytes  (x acls)
 *   nodes    depth-first pre-order, a parent before its children (x nodes):
 *            varint parent distance (ordinal - parent ordinal; 0 = the root),
 *            varint name length, name, varint data length + 1 (0 = null), data,
 *            varint czxid, varint mzxid - czxid, zigzag pzxid - czxid,
 *            zigzag ctime, zigzag mtime - ctime, zigzag version,
 *            zigzag aversion, zigzag child-creation counter,
 *            zigzag ephemeralOwner, varint acl (old index)
 *   trailer  "PDSE", u32 CRC-32C of every byte before it
 *
 * The file is named snapshot.<label, 16 hex digits>; a file without its
 * trailer or with a wrong checksum is not a snapshot, and recovery falls
 * back to an older one.
 */
#ifndef PD_SNAP_H
#define PD_SNAP_H

#include "mem.h"
#include "types.h"

struct pd_node;

#define PD_SNAP_VERSION 1u

/* Encodes a snapshot piece by piece.  The node must not change between
 * init and the last call (a forked child's copy, or a paused simulator). */
struct pd_snap_writer {
	struct pd_node *node;
	int phase;
	uint32_t pos;      /* map or table position in the current phase */
	uint32_t cur;      /* the next node to emit (depth-first) */
	uint64_t emitted;  /* nodes emitted so far: the next ordinal */
	uint64_t *stack;   /* ordinals of the ancestors of cur */
	uint32_t depth;
	uint32_t stack_cap;
	uint32_t crc;
	uint64_t nodes;
	pd_zxid zxid;
};

void pd_snap_writer_init(struct pd_snap_writer *w, struct pd_node *node);
/* Appends the next pieces to out until it holds at least chunk bytes or the
 * snapshot is complete.  Returns 1 if more follows, 0 when the trailer has
 * been written, PD_ENOMEM. */
int pd_snap_writer_next(struct pd_snap_writer *w, struct pd_buf *out, size_t chunk);
void pd_snap_writer_free(struct pd_snap_writer *w);

/* Loads a whole snapshot into a node that has served nothing yet.  On
 * failure (PD_EPROTO for bytes that are not a valid snapshot, PD_ENOMEM)
 * the node is unusable: destroy it and start again from an older file. */
int pd_snap_load(struct pd_node *node, const uint8_t *p, size_t len, uint64_t now_ms, char *errmsg,
		 size_t errmsg_size);

/* File names: "snapshot.<16 hex>" and "log.<16 hex>".  Returns true and
 * the zxid if name is one of kind ("snapshot" or "log"). */
bool pd_snap_parse_name(const char *name, const char *kind, pd_zxid *zxid);
/* kind.<hex zxid>: 16 lowercase hex digits if padded, else 1 to 16
 * (ZooKeeper's names). */
bool pd_parse_zxid_name(const char *name, const char *kind, bool padded, pd_zxid *zxid);

/* The recovery plan.  Given the start zxids of the log files, ascending,
 * and the label of a snapshot (0 for none), returns the index of the first
 * log file to replay (the newest one starting at or before label + 1), n if
 * no file is needed, or SIZE_MAX if the files cannot bring the snapshot
 * forward without a gap (the oldest log starts after label + 1). */
size_t pd_recovery_first_log(const pd_zxid *log_starts, size_t n, pd_zxid label);

#endif
