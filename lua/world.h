/*
 * world.h: what a scenario (lua/scenario.c) needs of a world, so the same
 * script runs in the simulator (sim/script.c: virtual time, every fault)
 * and against real `paddock server` processes (net/realworld.c: the verbs
 * that make sense there).  Servers are numbered from 1, as in zoo.cfg;
 * clients from 0, in the order client_new made them.
 *
 * Clients are client/zkc state machines the world drives over its own
 * transport: the scenario calls zkc_* on client_zkc(), then client_flush();
 * results and watch events are taken with zkc_next_result/zkc_next_event.
 */
#ifndef PD_LUA_WORLD_H
#define PD_LUA_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zkc;

/* What a scenario declares of its ensemble. */
struct pdw_config {
	uint32_t servers;        /* 1..7 */
	uint32_t observers;      /* of those, the last ones observe */
	uint32_t tick_ms;        /* tickTime (2000 in zoo.cfg's sample; scenarios often use less) */
	uint32_t init_limit;
	uint32_t sync_limit;
	uint32_t snap_count;
	uint64_t seed;
};

enum pdw_role {
	PDW_DOWN = 0,     /* the process is not running */
	PDW_LOOKING = 1,  /* electing */
	PDW_FOLLOWING = 2,
	PDW_LEADING = 3,
	PDW_OBSERVING = 4,
};

struct pdw_server_state {
	enum pdw_role role;
	bool serving;       /* it answers clients (synced with an established leader) */
	uint64_t leader;    /* the sid it follows (or itself when leading), 0 = none */
	uint64_t epoch;
	uint64_t zxid;      /* the last zxid it applied */
	uint64_t election_round;
};

enum pdw_fault_kind {
	PDW_CRASH = 1,      /* the process dies; unsynced writes are kept, dropped or torn (sim) */
	PDW_TORN_WRITE,     /* the process dies while writing: the unsynced tail is torn (sim) */
	PDW_RESTART,        /* it starts again on its disk */
	PDW_PARTITION,      /* the servers in different groups cannot reach each other */
	PDW_ISOLATE,        /* one server cut off from every other server and every client */
	PDW_HEAL,           /* every partition, isolation and clog ends */
	PDW_SKEW,           /* a server's wall clock jumps by ms (either way); its monotonic
			     * clock, which never goes back, leaps forward when ms > 0 */
	PDW_CLOG,           /* a server hears nothing (peers and clients) for ms, then all at once */
	PDW_DISK_FULL,      /* a server's disk refuses writes for ms */
	PDW_WIPE,           /* a down server's disk is replaced by an empty one (sim) */
};

#define PDW_REFUSED (-1)
#define PDW_UNSUPPORTED (-2)
#define PDW_STOPPED (-3)

struct pdw_fault {
	enum pdw_fault_kind kind;
	uint32_t server;                     /* 1-based */
	int64_t ms;                          /* SKEW, CLOG, DISK_FULL */
	uint32_t group_of[8];                /* PARTITION: group of each server (index sid-1), 0 = none */
};

struct pdw_note {
	uint64_t at_us;
	int32_t server;   /* 1-based, 0 when not about one server */
	char kind[16];    /* crash, restart, role, cut, heal, step, measure, ... */
	char detail[64];
};

struct pdw_ops {
	const char *name;                     /* "sim" | "real" */
	/* Makes a world of cfg's ensemble, started; NULL with why on failure. */
	void *(*open)(const struct pdw_config *cfg, char *why, size_t why_size);
	/* Final checks (sim: states at equal zxids agree); 0, or -1 with why. */
	int (*finish)(void *w, char *why, size_t why_size);
	void (*close)(void *w);
	uint64_t (*now_us)(void *w);          /* virtual (sim) or since open (real) */
	/* Runs the world for us microseconds: events (sim) or sockets and
	 * clients (real).  0, or -1 when a checker of the world found a
	 * violation (why says what); the world is then stopped. */
	int (*advance)(void *w, uint64_t us, char *why, size_t why_size);
	void (*server_state)(void *w, uint32_t server, struct pdw_server_state *out);
	/* 0; PDW_REFUSED (why) when the request makes no sense (no such
	 * server, wiping a running one); PDW_UNSUPPORTED (why) when this world
	 * cannot do it (real processes: partitions); PDW_STOPPED (why) when a
	 * checker of the world found a violation meanwhile. */
	int (*fault)(void *w, const struct pdw_fault *f, char *why, size_t why_size);
	/* A new client session; server 0 = the whole ensemble (it starts on a
	 * drawn one and moves on when its server goes), else only that server.
	 * Returns its index, or -1. */
	int (*client_new)(void *w, uint32_t server, int32_t timeout_ms);
	struct zkc *(*client_zkc)(void *w, int client);
	void (*client_flush)(void *w, int client);    /* sends what zkc queued */
	/* The client process dies: its transport goes without a closeSession,
	 * nothing more is sent; the server expires the session later. */
	void (*client_kill)(void *w, int client);
	/* The client process stalls for ms: it hears and says nothing. */
	void (*client_pause)(void *w, int client, uint64_t ms);
	uint32_t (*client_server)(void *w, int client); /* the server it is connected to, 1-based; 0 = none */
	uint64_t (*random)(void *w, uint64_t lo, uint64_t hi); /* uniform in [lo, hi]: the world's PRNG */
	/* The timeline: a fault, a step, a measurement. server 0 = none. */
	void (*note)(void *w, uint32_t server, const char *kind, const char *detail);
	/* Everything noted so far, the world's own entries (crashes, role
	 * changes, reloads, ...) with the scenario's, in time order. */
	const struct pdw_note *(*timeline)(void *w, size_t *count);
	/* The run's trace digest (sim: same seed, same digest); NULL or 0 when
	 * the world has none. */
	uint64_t (*digest)(void *w);
};

extern const struct pdw_ops pdw_sim_ops;  /* sim/script.c */
extern const struct pdw_ops pdw_real_ops; /* net/realworld.c */

#endif
