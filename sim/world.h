/*
 * world.h: the simulated world's internals, shared by world.c (scheduler,
 * network, disks, clocks, server drivers, checkers) and client.c (the
 * simulated clients).  Not for use outside sim/.
 */
#ifndef PD_SIM_WORLD_H
#define PD_SIM_WORLD_H

#include "linear.h"
#include "pd.h"
#include "prng.h"
#include "sim.h"
#include "zkc.h"

#define SIM_SERVERS_MAX 8u
#define SIM_CLIENTS_MAX 256u
#define SIM_DEPTH_MAX 4u /* requests a client keeps in flight */
#define SIM_KEYS 4u      /* /shared0../shared3: the znodes whose histories are checked */

/* The history of one znode on one server, for the linearizability check;
 * an operation of kind 0 did not happen (a read never answered, an error). */
struct sim_history {
	struct lin_op *ops;
	size_t count;
	size_t cap;
};

enum sim_ev_type {
	SIM_EV_TO_SERVER = 1, /* a segment (bytes, or the FIN) reaches the server's end */
	SIM_EV_TO_CLIENT,     /* and the client's end */
	SIM_EV_RESET_CLIENT,  /* the client's end is reset or refused (no order: data in flight is lost) */
	SIM_EV_CLOSED_SERVER, /* the server's end is reset */
	SIM_EV_TIMER,         /* a server's PD_FX_TIMER deadline */
	SIM_EV_FSYNC_DONE,    /* a server's log sync completes */
	SIM_EV_CLIENT_WAKE,   /* a client's next action */
	SIM_EV_CRASH,         /* a server process dies */
	SIM_EV_RESTART,       /* and comes back on its disk */
	SIM_EV_EARLY_DURABLE, /* SIM_BUG_ACK_BEFORE_SYNC only */
	SIM_EV_SNAP_DONE,     /* a snapshot is written and synced */
	SIM_EV_NEMESIS,       /* the fault schedule's next move */
	SIM_EV_HEAL,          /* a partition, or a lossy spell, ends */
	SIM_EV_CALM,          /* the faults stop and heal; the liveness phase starts */
	SIM_EV_DISK_PROBE,    /* a server whose log failed tries its disk again */
	SIM_EV_PEER_DIAL,     /* a server's PD_FX_CONNECT reaches the other side (or not) */
	SIM_EV_PEER_FAIL,     /* and the dialer learns it failed */
	SIM_EV_EPOCH_DONE,    /* an epoch file write is durable */
	SIM_EV_FLAP,          /* a flapping cut between two servers comes back (swarm) */
};

struct sim_event {
	uint64_t at_us;
	uint64_t seq;
	enum sim_ev_type type;
	uint32_t a;   /* server or client index */
	uint32_t b;   /* connection index */
	uint64_t gen; /* incarnation the event belongs to (stale ones are dropped) */
	uint32_t piece;   /* a stream segment's number in its direction */
	uint32_t attempt; /* retransmissions so far */
	bool fin;         /* the segment closes its direction */
	uint8_t *data;
	size_t len;
};

/* One direction of a link between a client and a server: its latency
 * distribution and its faults.  A stream (TCP) over it never loses,
 * duplicates or reorders bytes: a lost segment comes again after a
 * retransmission timeout, a duplicate is dropped by its number, segments
 * that arrive out of order wait for the missing one, and a partition holds
 * everything back (retransmitting) until it heals or a side gives up. */
struct sim_dir {
	uint32_t base_us;   /* latency: base + uniform jitter, and rare spikes */
	uint32_t jitter_us;
	uint16_t loss_pm;   /* per mille of segments lost (retransmitted) */
	uint16_t burst_pm;  /* extra loss during a lossy spell */
	uint16_t dup_pm;    /* per mille of segments that arrive twice */
	bool reorder;       /* segments may overtake each other */
	uint32_t blocked;   /* partitions in force over this direction */
	uint64_t clog_until_us; /* nothing gets through before then */
};

struct sim_link {
	struct sim_dir up;   /* client to server */
	struct sim_dir down; /* server to client */
};

struct sim_bytes {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* A client-server TCP stream. */
struct sim_conn {
	bool open;
	uint32_t server;
	uint32_t client;
	uint32_t core_id;     /* the id the server's core knows it by */
	uint64_t gen;         /* never reused */
	uint64_t server_gen;  /* the server incarnation it was opened on */
	uint64_t to_server_at; /* the last arrival time drawn in each direction */
	uint64_t to_client_at;
	bool reset;            /* reset: whatever is still in flight is lost */
	bool peer;             /* server to server: `dialer` dialed `server` */
	uint8_t plane;         /* peer: enum pd_plane */
	uint64_t leaderinfo_epoch; /* quorum plane: the epoch of the last LEADERINFO sent on it */
	uint32_t dialer;
	uint32_t dialer_core_id;
	uint64_t dialer_gen;
	uint32_t sent[2];      /* segments numbered so far: [0] to the server, [1] to the client */
	uint32_t delivered[2]; /* segments handed to the receiver, in order */
	struct sim_event *stash[2]; /* arrived ahead of a missing one */
	size_t stash_len[2];
	size_t stash_cap[2];
};

struct sim_server {
	struct pd_node *node;
	struct pd_effects fx;
	bool up;
	uint64_t gen;            /* incarnation */
	uint32_t next_core_id;
	uint32_t *conn_of_core;  /* core id -> conn index + 1 */
	uint32_t conn_of_core_cap;
	/* disk: the durable image of the log, and the writes not yet synced */
	struct sim_bytes durable;
	struct sim_bytes pending;
	pd_zxid pending_zxid;    /* the newest zxid in pending */
	bool syncing;
	uint64_t disk_full_until_us; /* writes fail (ENOSPC or EIO) until then */
	bool log_failed;         /* the core was told PD_EV_LOG_FAILED and not yet LOG_OK */
	size_t sync_len;         /* bytes of pending the sync in flight covers */
	pd_zxid sync_zxid;
	pd_zxid durable_zxid;    /* the newest zxid in durable */
	size_t last_sync_len;    /* bytes the last completed sync made durable */
	size_t acked_checked;    /* acknowledged writes checked at the last restart */
	/* snapshots: the two newest durable ones, and the one being written */
	struct sim_bytes snap[2];
	pd_zxid snap_zxid[2];
	struct sim_bytes snap_pending;
	pd_zxid snap_pending_zxid;
	bool snap_due;
	bool snap_writing;
	/* clock */
	int64_t offset_ms;
	int32_t drift_ppm;
	int64_t wall_offset_ms;  /* the wall clock's own jumps (a scenario's skew) */
	uint64_t timer_gen;
	/* the epoch files: durable values, and the last write's completion time */
	uint64_t epochs[2];
	uint64_t epoch_ghost[2]; /* the highest each file ever held (the checker's memory) */
	uint64_t epoch_write_at;
	/* checks */
	pd_zxid highest_acked;   /* the highest zxid a client got a write answered with */
	/* a PD_FX_RELOAD seen in the step being handled */
	bool reload_due;
	pd_zxid reload_zxid;
	uint64_t reload_leader;
	struct sim_bytes reload_snap;
	uint64_t reloads;
	bool wiped;              /* its disk was replaced by an empty one */
	pd_zxid applied_zxid;    /* the newest txn it applied (or loaded as it started) */
	pd_zxid appended_zxid;   /* the newest txn in its log: what it logged, or loaded as it started */
	int noted_role;          /* the timeline's last role, serving state and epoch */
	bool noted_serving;
	uint64_t noted_epoch;
};

struct sim_pending_op {
	int32_t xid;
	int32_t type;
	char path[48];
	int32_t key;     /* SIM_KEYS index, -1 if not a shared znode */
	bool sequential; /* an ephemeral sequential create */
	bool watch;      /* a getData that sets a watch */
	size_t hist;     /* its entry in that history */
	uint64_t call_us; /* when it was issued */
};

/* A simulated client: client/zkc's state machine driven over the world's
 * streams, with a workload and checks around it. */
struct sim_client {
	uint32_t id;
	uint32_t server;
	uint32_t hs;        /* whose histories its operations join: its server's, or the ensemble's (0) */
	uint32_t conn;      /* conn index + 1, 0 = none */
	struct zkc *zk;
	pd_zxid last_zxid;  /* highest zxid seen in a reply: never goes back */
	uint64_t wake_gen;  /* only the newest scheduled wake-up counts */
	uint64_t last_write_us; /* when a write was last answered OK (liveness) */
	uint64_t last_done_call_us; /* the issue time of the newest operation answered (ensemble reads) */
	uint64_t paused_until_us; /* a stalled process (a long GC pause, a stopped VM) */
	struct sim_pending_op ops[SIM_DEPTH_MAX];
	bool watching[SIM_KEYS];          /* a data watch is registered on /sharedK */
	uint64_t watched_value[SIM_KEYS]; /* the value read when it was */
	uint32_t ops_head;
	uint32_t ops_count;
	uint8_t hdr[4];     /* framing of the incoming bytes, so each frame's */
	uint32_t hdr_have;  /* result or event is checked in arrival order */
	uint32_t body_left;
	bool scripted;      /* a scenario's client: no workload; results stay in zk for the scenario */
	bool pinned;        /* scripted: stays with its one server */
	bool killed;        /* scripted: its process died */
};

/* An acknowledged create that must survive every crash. */
struct sim_acked {
	uint32_t server;
	char path[48];
	pd_zxid zxid;
};

struct sim_session_ghost {
	int64_t id;
	pd_zxid created, closed; /* 0: not (yet) */
};

struct sim_world {
	struct sim_options opt;
	struct pd_prng prng;
	struct pd_prng nemesis;    /* swarm runs: when the nemesis moves and each move's own stream,
				    * apart from the world's so that the runs' behaviour cannot move them */
	struct pd_prng move_saved; /* the world's stream while a nemesis move draws from its own */
	uint32_t move;             /* 1 + the nemesis move under way, 0 between moves */
	uint64_t now_us;
	uint64_t seq;
	struct sim_event *heap;
	size_t heap_len;
	size_t heap_cap;
	struct sim_server servers[SIM_SERVERS_MAX];
	struct sim_client *clients;
	struct sim_link *links; /* [client * SIM_SERVERS_MAX + server] */
	struct sim_link peer_links[SIM_SERVERS_MAX][SIM_SERVERS_MAX]; /* [dialer][target] */
	struct sim_conn *conns;
	size_t conn_count;
	size_t conn_cap;
	uint64_t conn_gen;
	struct sim_acked *acked;
	size_t acked_count;
	size_t acked_cap;
	struct sim_history hist[SIM_SERVERS_MAX][SIM_KEYS];
	uint64_t *seq_names;    /* server << 40 | sequence number of each acknowledged sequential create */
	size_t seq_count;
	size_t seq_cap;
	struct sim_result *res;
	uint64_t digest;
	uint64_t crash_gap_us; /* the longest time between two crashes of a server */
	/* ghost: zxid -> hash of the one txn ever logged under it (ensemble;
	 * open addressing, zxid 0 = empty) */
	uint64_t *ghost_zxid;
	uint64_t *ghost_hash;
	uint8_t *ghost_voters;  /* the voters that ever made it durable, a bit each: quorum = committed */
	size_t ghost_cap;
	size_t ghost_count;
	/* I17's ghost: every session id ever created, with where it was created and closed */
	struct sim_session_ghost *sessions_ghost;
	size_t sessions_ghost_cap;
	size_t sessions_ghost_count;
	struct sim_observed { /* what an apply observer (core/observe.h) is told it watches */
		struct sim_world *w;
		uint32_t server;
	} observed[SIM_SERVERS_MAX];
	uint32_t epoch_leader[4096]; /* ghost: the sid that established each epoch (ensemble), 0 = none */
	uint64_t wipe_at_us; /* ensemble: the first crash after this wipes the disk (0: none) */
	bool attention;   /* a scripted client got something: the scenario should look */
	bool calm;        /* the liveness phase: no new faults */
	uint64_t calm_us; /* when it began */
	bool stop;
};

/* world.c, used by client.c */
void sim_schedule(struct sim_world *w, uint64_t at_us, enum sim_ev_type type, uint32_t a, uint32_t b, uint64_t gen,
		  const uint8_t *data, size_t len);
uint64_t sim_draw(struct sim_world *w, uint64_t lo, uint64_t hi); /* uniform in [lo, hi] */
void sim_violation(struct sim_world *w, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds an entry to the run's timeline (options.timeline); server 1-based, 0 = none. */
void sim_note(struct sim_world *w, uint32_t server, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Opens a stream from client to server; returns the conn index. */
uint32_t sim_connect(struct sim_world *w, uint32_t client, uint32_t server);
/* Client side: sends bytes, or closes its end (after the bytes before). */
void sim_client_send(struct sim_world *w, uint32_t conn, const uint8_t *p, size_t len);
void sim_client_close(struct sim_world *w, uint32_t conn);
void sim_record_ack(struct sim_world *w, uint32_t server, const char *path, pd_zxid zxid);
/* An acknowledged sequential create's number (never handed out twice). */
void sim_record_sequential(struct sim_world *w, uint32_t server, uint64_t number);
/* Appends an operation to a history; returns its index. */
size_t sim_history_add(struct sim_world *w, uint32_t server, uint32_t key, enum lin_kind kind, uint64_t value);
void sim_bytes_add(struct sim_bytes *b, const void *p, size_t len);

/* Scripted worlds (sim/script.c): events up to until_us; false once a
 * checker stopped the world. */
struct sim_world *sim_world_open(const struct sim_options *opt, struct sim_result *r);
bool sim_world_advance(struct sim_world *w, uint64_t until_us);
void sim_world_close(struct sim_world *w);
/* The scenario's faults. */
void sim_world_crash(struct sim_world *w, uint32_t server, bool torn);
void sim_world_restart(struct sim_world *w, uint32_t server);
void sim_world_wipe(struct sim_world *w, uint32_t server);
void sim_world_cut(struct sim_world *w, uint32_t a, uint32_t b);  /* two servers, both ways */
void sim_world_cut_clients(struct sim_world *w, uint32_t server); /* a server from every client */
void sim_world_heal_all(struct sim_world *w);
void sim_world_clog(struct sim_world *w, uint32_t server, uint64_t us);
void sim_world_check_digests(struct sim_world *w);
void sim_dir_setup(struct sim_world *w, struct sim_link *l); /* a new client link's latencies */
struct sim_link *sim_world_link(struct sim_world *w, uint32_t client, uint32_t server);

/* client.c */
void sim_client_init_scripted(struct sim_world *w, struct sim_client *c, uint32_t id, uint32_t server, bool pinned,
			      int32_t timeout_ms);
void sim_client_flush_out(struct sim_world *w, struct sim_client *c);
void sim_client_kill(struct sim_world *w, struct sim_client *c);
void sim_client_init(struct sim_world *w, struct sim_client *c, uint32_t id);
void sim_client_wake(struct sim_world *w, struct sim_client *c);
void sim_client_data(struct sim_world *w, struct sim_client *c, const uint8_t *p, size_t len);
void sim_client_reset(struct sim_world *w, struct sim_client *c);
void sim_client_free(struct sim_client *c);

#endif
