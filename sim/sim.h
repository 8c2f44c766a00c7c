/*
 * sim.h: the simulated world (DESIGN §2, STYLE §3 lessons 3-6): the
 * unmodified core stepped by a discrete-event scheduler in virtual time,
 * with a seeded PRNG owned by the world, a network of TCP-like client
 * streams (latency, partial reads, resets), a disk per server that keeps a
 * durable image and the writes not yet synced (a crash keeps, drops or
 * tears them), and a clock per server with its own offset and drift.  A
 * world is a value: no globals, so two worlds can run side by side, and the
 * same seed gives the same run, bit for bit (the trace digest says so).
 *
 * First step (this file's scope today): standalone servers, simulated
 * clients that create, set, read and hold ephemerals and reconnect with
 * their sessions, crashes with torn unsynced writes and restarts, and the
 * checkers that apply to one standalone server.  The ensemble, the
 * sans-I/O client library, Lua and the linearizability checker come next.
 */
#ifndef PD_SIM_H
#define PD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_world;

struct sim_options {
	uint64_t seed;
	uint32_t servers;        /* standalone servers (each its own ensemble for now) */
	uint32_t clients;        /* simulated clients, spread over the servers */
	uint64_t duration_ms;    /* virtual time to run */
	bool faults;             /* crashes, torn writes, resets, clock skew */
	uint32_t latency_us_max; /* one-way network latency, uniform in [20 us, max] */
	uint32_t fsync_us_max;   /* fsync latency, uniform in [50 us, max] */
	uint32_t snap_count;     /* the servers' snapCount */
	bool buggify;            /* turn on the core's PD_BUGGIFY sites (from the seed) */
	uint32_t bugs;           /* SIM_BUG_*: planted driver bugs, to show the checkers fire */
};

/* Bugs a test can plant in the world (never in a normal run) to prove that
 * each checker can fail. */
#define SIM_BUG_ACK_BEFORE_SYNC 0x1u /* report the log durable before the sync */
#define SIM_BUG_LOSE_SYNCED 0x2u     /* a crash also loses the last synced batch */
#define SIM_BUG_REORDER 0x4u         /* server-to-client bytes ignore FIFO order */
#define SIM_BUG_STALE_READS 0x8u     /* a read returns the first value ever written to its znode */
#define SIM_BUG_SEQ_TWICE 0x10u      /* a sequential create is reported with its number twice */
#define SIM_BUG_LOSE_WATCH_EVENTS 0x20u /* clients never get watch events */
#define SIM_BUG_TRIM_PAST_SNAPSHOT 0x40u /* the log is trimmed 20 txns past the newest snapshot */

/* The outcome of a run.  exit codes as STYLE §3 lesson 4: 0 clean, 127 a
 * crash or core assertion, 128 lost liveness, 129 a correctness violation. */
struct sim_result {
	int exit_code;
	char violation[512];
	uint64_t digest;       /* of every event and effect, in order */
	uint64_t events;
	uint64_t virtual_ms;
	uint64_t ops_ok;       /* client operations answered */
	uint64_t ops_failed;   /* answered with an error */
	uint64_t crashes;
	uint64_t reconnects;
	uint64_t acked_writes; /* checked after every restart and at the end */
	uint64_t history_ops;  /* operations checked for linearizability */
	uint64_t sequential;   /* acknowledged sequential names, checked for reuse */
	uint64_t watch_events; /* watch events, each matched to one registration */
	uint64_t snapshots;    /* snapshots made durable */
	uint64_t snapshot_boots; /* restarts that started from a snapshot */
	uint64_t buggify_fired;  /* PD_BUGGIFY sites that fired */
	uint64_t lin_gave_up;  /* histories whose search hit its step bound */
};

void sim_options_default(struct sim_options *o);
/* Runs one world to its end (or its first violation). */
void sim_run(const struct sim_options *o, struct sim_result *r);

#endif
