/*
 * pd.h: the only header the worlds include.  The core is a step function
 * (DESIGN §2, STYLE lesson 1): a world feeds pd_step one event at a time and
 * drains the effects it appends; the core performs no I/O, reads no clock
 * and draws no randomness of its own.
 *
 * Ordering contract (what a driver may rely on and must respect):
 *  - Effects are executed in the order they were appended.  Bytes sent to
 *    one connection are written in order; PD_FX_CLOSE comes after every
 *    PD_FX_SEND of that connection and means "flush what is queued, then
 *    close".  After PD_FX_CLOSE the core has forgotten the connection: the
 *    driver must not report its closure, and may reuse its id.
 *  - A watch notification is always appended before the reply to the
 *    request that caused it, and before any later reply on that connection.
 *  - PD_FX_TIMER asks for a PD_EV_TICK at or after at_ms; a later TIMER
 *    effect replaces an earlier one.
 *  - A write (and createSession, and closeSession on expiry) is prepared
 *    into a transaction whose record goes out as PD_FX_LOG_APPEND, in zxid
 *    order; it is neither applied nor answered until the driver reports
 *    PD_EV_LOG_DURABLE with a zxid at or above it.  The driver appends the
 *    records to the log in order, makes them durable (fdatasync, batched as
 *    it likes) and then reports the newest durable zxid.  Later writes are
 *    validated against the pending ones, so a client may pipeline; reads of
 *    other connections run at once on the applied tree; a connection's own
 *    reads wait behind its pending writes.
 *  - If the log cannot take more (PD_EV_LOG_FAILED), every transaction not
 *    yet reported durable is dropped and its client told NOTREADONLY (a
 *    createSession's connection is closed); until PD_EV_LOG_OK the node
 *    answers writes with NOTREADONLY and serves reads.  The driver must have
 *    discarded every record it had not made durable, so that the zxids after
 *    the last durable one can be given out again.
 */
#ifndef PD_PD_H
#define PD_PD_H

#include "config.h"
#include "mem.h"
#include "types.h"

struct pd_node;
struct pd_stat;

enum pd_event_type {
	PD_EV_CONN_OPEN = 1, /* conn, peer_ip, peer_port */
	PD_EV_CONN_DATA,     /* conn, data, len */
	PD_EV_CONN_CLOSED,   /* conn: the peer went away or the driver dropped it */
	PD_EV_TICK,          /* time passed */
	PD_EV_LOG_DURABLE,   /* zxid: the log is durable up to zxid */
	PD_EV_LOG_FAILED,    /* appending to the log failed (disk full, I/O error):
			      * nothing logged after the last LOG_DURABLE will be;
			      * the node refuses writes until PD_EV_LOG_OK */
	PD_EV_LOG_OK,        /* the log accepts appends again */
	PD_EV_CONNECT_FAILED, /* plane, peer_sid: a PD_FX_CONNECT did not connect */
	PD_EV_EPOCH_DURABLE,  /* which, value: a PD_FX_EPOCH_WRITE is durable */
};

/* The two persisted epochs (zab-and-server.md §1.2). */
enum pd_epoch_file {
	PD_EPOCH_ACCEPTED = 0, /* acceptedEpoch */
	PD_EPOCH_CURRENT = 1,  /* currentEpoch */
};

/* Which port a connection came in on (or was dialed to). */
enum pd_plane {
	PD_PLANE_CLIENT = 0,
	PD_PLANE_ELECTION = 1, /* the election port (server.N's third field) */
	PD_PLANE_QUORUM = 2,   /* the quorum port (the second) */
};

struct pd_event {
	enum pd_event_type type;
	enum pd_plane plane;   /* CONN_OPEN, CONNECT_FAILED */
	uint64_t peer_sid;     /* CONN_OPEN with outbound, CONNECT_FAILED */
	bool outbound;         /* CONN_OPEN: the answer to a PD_FX_CONNECT */
	uint64_t now_ms; /* monotonic milliseconds: timers and session expiry */
	int64_t wall_ms; /* wall clock, ms since the Unix epoch: ctime, mtime, TTL */
	uint32_t conn;
	const uint8_t *data;
	size_t len;
	char peer_ip[48];
	uint16_t peer_port;
	pd_zxid zxid;
	enum pd_epoch_file which; /* EPOCH_DURABLE */
	uint64_t value;           /* EPOCH_DURABLE */
};

enum pd_effect_type {
	PD_FX_SEND = 1, /* conn, bytes */
	PD_FX_CLOSE,    /* conn */
	PD_FX_FOURLW,   /* conn, word: render with pd_admin_render, send, close,
			 * then report PD_EV_CONN_CLOSED for conn */
	PD_FX_TIMER,    /* at_ms */
	PD_FX_LOG_APPEND, /* bytes: one log record (log.h) for the txn with zxid;
			   * answer with PD_EV_LOG_DURABLE once it is durable */
	PD_FX_EPOCH_WRITE, /* which, value: replace that epoch file (tmp, fsync,
			    * rename, directory fsync); answer PD_EV_EPOCH_DURABLE */
	PD_FX_CONNECT,    /* plane, peer: dial that server's port for the plane;
			   * answer with PD_EV_CONN_OPEN (outbound, peer_sid) or
			   * PD_EV_CONNECT_FAILED */
	PD_FX_RELOAD,     /* zxid, bytes, peer: a learner's leader told it to drop its state:
			   * with bytes, they are a snapshot (snap.h) labelled zxid to
			   * make durable as the newest; without, the log must lose
			   * every record after zxid (and every snapshot above it).
			   * Then the driver rebuilds the node from its disk, as at a
			   * restart (the core does nothing more; its connections are
			   * the driver's to close without reporting).  ZooKeeper's
			   * learner reloads its database after SNAP and TRUNC alike. */
	PD_FX_SNAPSHOT,   /* a snapshot is due (zxid: the node's when it asked).  The
			   * driver takes it between two steps: the node as it is
			   * then is the image, labelled with its zxid (snap.h).  It
			   * may skip it (one already running); nothing answers it. */
};

struct pd_effect {
	enum pd_effect_type type;
	uint32_t conn;
	enum pd_plane plane; /* CONNECT */
	uint64_t peer;       /* CONNECT: the server's sid */
	enum pd_epoch_file which; /* EPOCH_WRITE */
	uint64_t value;           /* EPOCH_WRITE */
	size_t offset; /* into effects->bytes */
	size_t len;
	uint64_t at_ms;
	pd_zxid zxid;
	char word[4];
	uint64_t stmk_mask;
};

struct pd_effects {
	struct pd_effect *items;
	uint32_t count;
	uint32_t cap;
	struct pd_buf bytes;
};

/* Facts about the host that only the driver knows, for four-letter words. */
struct pd_env {
	const char *host_name;
	const char *os_name;
	const char *os_arch;
	const char *os_version;
	const char *user_name;
	const char *user_home;
	const char *user_dir;
	uint64_t open_fd_count;
	uint64_t max_fd_count;
	uint64_t mem_total_bytes;
	uint64_t mem_free_bytes;
	uint64_t data_dir_bytes;
	uint64_t data_log_dir_bytes;
	const char *client_port_listen;
};

int pd_node_create(const struct pd_config *cfg, struct pd_allocator allocator, uint64_t now_ms,
		   int64_t wall_ms, struct pd_node **out, char *errmsg, size_t errmsg_size);
void pd_node_destroy(struct pd_node *node);

/* Feeds one event.  Returns 0, or PD_ENOMEM if the effects could not be
 * recorded (the driver should then drop the connection involved). */
int pd_step(struct pd_node *node, const struct pd_event *ev, struct pd_effects *fx);

const uint8_t *pd_effect_bytes(const struct pd_effects *fx, const struct pd_effect *e);
void pd_effects_reset(struct pd_effects *fx);
void pd_effects_free(struct pd_node *node, struct pd_effects *fx);

/* Recovery: applies one logged transaction (the bytes of a log record)
 * before the node serves clients.  A transaction at or below the node's
 * zxid is skipped.  Returns 0, or PD_EPROTO for bytes that are not a
 * transaction the node can apply after its current zxid. */
int pd_node_replay(struct pd_node *node, const uint8_t *txn, size_t len, uint64_t now_ms, int64_t wall_ms);
pd_zxid pd_node_last_zxid(const struct pd_node *node);

/* Renders a four-letter-word answer into out (ASCII, no frame). */
int pd_admin_render(struct pd_node *node, const char word[4], uint64_t stmk_mask,
		    const struct pd_env *env, struct pd_buf *out);

/* Read-only figures for drivers, benchmarks and tests. */
struct pd_node_stats {
	pd_zxid last_zxid;
	pd_zxid logged_zxid;  /* the newest txn handed to the log */
	pd_zxid durable_zxid; /* the newest the log reported durable */
	uint64_t znode_count;
	uint64_t session_count;
	uint64_t ephemeral_count;
	uint64_t watch_count;
	uint64_t connection_count;
	uint64_t mem_used_bytes;      /* both allocators */
	uint64_t mem_used_bytes_peak; /* budgeted allocator */
	uint64_t mem_data_bytes;      /* budgeted allocator now */
	uint64_t tree_blob_bytes;
	uint64_t buggify_fired; /* PD_BUGGIFY sites that fired (simulator only) */
	/* ensemble (issue 5, in progress) */
	int role;               /* enum pd_peer_state; LOOKING until elected; -1 standalone */
	uint64_t leader;        /* the sid elected */
	uint64_t election_round;
	uint64_t elections;     /* decisions taken */
	bool established;       /* leader: its epoch is established; learner: acked it and hears the leader */
	uint64_t epoch;         /* the epoch established (or being joined) */
	uint64_t accepted_epoch;
	uint64_t current_epoch;
	uint64_t lost_leadership; /* times a role was given up (quorum lost, timeouts, closed links) */
	bool serving;           /* synced and serving clients (standalone: always) */
	uint64_t quorum_size;   /* the voting members */
	uint64_t learners;      /* leader: learners connected on the quorum port */
	uint64_t synced_learners; /* leader: learners that acked NEWLEADER */
	uint64_t synced_followers; /* leader: of those, voters */
	uint64_t synced_observers; /* leader: of those, observers */
	uint64_t pending_syncs;    /* leader: learners' syncs waiting for a commit */
	int64_t last_proposal_size, max_proposal_size, min_proposal_size; /* leader: bytes, -1 none yet */
	uint64_t proposals;     /* leader: proposals made */
	uint64_t syncs_diff, syncs_trunc, syncs_snap; /* leader: how learners were synced */
	uint64_t reloads_asked; /* learner: PD_FX_RELOAD asked (TRUNC or SNAP) */
};
/* The driver hands over the persisted epochs after recovery, before the
 * first step (0 and 0 when the files do not exist). */
void pd_node_set_epochs(struct pd_node *node, uint64_t accepted, uint64_t current);
/* After a PD_FX_RELOAD (peer: the leader that asked), before the first
 * step: the rebuilt node goes back to that leader without an election, as
 * ZooKeeper's learner stays with its leader through TRUNC and SNAP (if the
 * leader is gone, the learner's timeouts start an election). */
void pd_node_follow(struct pd_node *node, uint64_t leader);
/* After recovery, before the first step: this ensemble member's data
 * directory held nothing (no snapshot, no log, no epoch files, no
 * dataDir/initialize marker).  It takes part in electing a leader only
 * while every vote it hears is as empty as it (a fresh ensemble); once it
 * hears of a history it votes -1 and only joins an established leader,
 * until that leader has synced it (a wiped disk must not vote as a
 * legitimately empty one, ZK-2325). */
void pd_node_set_empty(struct pd_node *node);
void pd_node_get_stats(const struct pd_node *node, struct pd_node_stats *out);
/* The coverage marks (marks.h) this node passed: bit m set for mark m. */
uint64_t pd_node_marks_hit(const struct pd_node *node);
/* Read-only look at one znode for checkers and tests (the simulator's
 * invariants run outside the core): 0 with *out, or PD_ENONODE. */
int pd_node_stat(const struct pd_node *node, const char *path, size_t len, struct pd_stat *out);
/* A digest of the replicated state (every znode outside /zookeeper with
 * its data and stat, every session with its timeout), independent of
 * memory layout: two servers at one zxid must agree on it. */
uint64_t pd_node_digest(struct pd_node *node);
/* Ephemeral znodes whose session no longer exists (0 in a sound node; a
 * checker's question, O(znodes)). */
uint64_t pd_node_orphan_ephemerals(const struct pd_node *node);
/* The budgeted allocator (tree, sessions, watches, connections). */
struct pd_mem *pd_node_mem(struct pd_node *node);
/* The unbudgeted allocator for effects and I/O buffers; drivers allocate
 * four-letter-word output from it. */
struct pd_mem *pd_node_io_mem(struct pd_node *node);

#define PD_VERSION_STRING "3.8.0-paddock-0.1"
/* The git commit the core was built from. */
const char *pd_build_commit(void);

#endif
