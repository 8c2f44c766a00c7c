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
	SIM_EV_TO_SERVER = 1, /* bytes reach a server connection */
	SIM_EV_TO_CLIENT,     /* bytes reach a client */
	SIM_EV_RESET_CLIENT,  /* the client sees its connection closed */
	SIM_EV_CLOSED_SERVER, /* the server sees the client go away */
	SIM_EV_TIMER,         /* a server's PD_FX_TIMER deadline */
	SIM_EV_FSYNC_DONE,    /* a server's log sync completes */
	SIM_EV_CLIENT_WAKE,   /* a client's next action */
	SIM_EV_CRASH,         /* a server process dies */
	SIM_EV_RESTART,       /* and comes back on its disk */
	SIM_EV_EARLY_DURABLE, /* SIM_BUG_ACK_BEFORE_SYNC only */
	SIM_EV_SNAP_DONE,     /* a snapshot is written and synced */
};

struct sim_event {
	uint64_t at_us;
	uint64_t seq;
	enum sim_ev_type type;
	uint32_t a;   /* server or client index */
	uint32_t b;   /* connection index */
	uint64_t gen; /* incarnation the event belongs to (stale ones are dropped) */
	uint8_t *data;
	size_t len;
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
	uint64_t to_server_at; /* FIFO: the last delivery time in each direction */
	uint64_t to_client_at;
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
	uint64_t timer_gen;
	/* checks */
	pd_zxid highest_acked;   /* the highest zxid a client got a write answered with */
};

struct sim_pending_op {
	int32_t xid;
	int32_t type;
	char path[48];
	int32_t key;     /* SIM_KEYS index, -1 if not a shared znode */
	bool sequential; /* an ephemeral sequential create */
	bool watch;      /* a getData that sets a watch */
	size_t hist;     /* its entry in that history */
};

struct sim_client {
	uint32_t id;
	uint32_t server;
	uint32_t conn;      /* conn index + 1, 0 = none */
	bool connecting;
	bool ready;
	int64_t session_id;
	uint8_t passwd[16];
	int32_t timeout_ms;
	pd_zxid last_zxid;  /* highest zxid seen: never goes back */
	int32_t next_xid;
	uint64_t wake_gen;  /* only the newest scheduled wake-up counts */
	uint32_t created;   /* persistent creates acknowledged */
	struct sim_pending_op ops[SIM_DEPTH_MAX];
	bool watching[SIM_KEYS];          /* a data watch is registered on /sharedK */
	uint64_t watched_value[SIM_KEYS]; /* the value read when it was */
	uint32_t ops_head;
	uint32_t ops_count;
	struct sim_bytes in;
};

/* An acknowledged create that must survive every crash. */
struct sim_acked {
	uint32_t server;
	char path[48];
	pd_zxid zxid;
};

struct sim_world {
	struct sim_options opt;
	struct pd_prng prng;
	uint64_t now_us;
	uint64_t seq;
	struct sim_event *heap;
	size_t heap_len;
	size_t heap_cap;
	struct sim_server servers[SIM_SERVERS_MAX];
	struct sim_client *clients;
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
	bool stop;
};

/* world.c, used by client.c */
void sim_schedule(struct sim_world *w, uint64_t at_us, enum sim_ev_type type, uint32_t a, uint32_t b, uint64_t gen,
		  const uint8_t *data, size_t len);
uint64_t sim_draw(struct sim_world *w, uint64_t lo, uint64_t hi); /* uniform in [lo, hi] */
void sim_violation(struct sim_world *w, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Opens a stream from client to server; returns the conn index. */
uint32_t sim_connect(struct sim_world *w, uint32_t client, uint32_t server);
/* Client side: sends bytes, or closes its end. */
void sim_client_send(struct sim_world *w, uint32_t conn, const uint8_t *p, size_t len);
void sim_client_close(struct sim_world *w, uint32_t conn);
void sim_record_ack(struct sim_world *w, uint32_t server, const char *path, pd_zxid zxid);
/* An acknowledged sequential create's number (never handed out twice). */
void sim_record_sequential(struct sim_world *w, uint32_t server, uint64_t number);
/* Appends an operation to a history; returns its index. */
size_t sim_history_add(struct sim_world *w, uint32_t server, uint32_t key, enum lin_kind kind, uint64_t value);
void sim_bytes_add(struct sim_bytes *b, const void *p, size_t len);

/* client.c */
void sim_client_init(struct sim_world *w, struct sim_client *c, uint32_t id);
void sim_client_wake(struct sim_world *w, struct sim_client *c);
void sim_client_data(struct sim_world *w, struct sim_client *c, const uint8_t *p, size_t len);
void sim_client_reset(struct sim_world *w, struct sim_client *c);

#endif
