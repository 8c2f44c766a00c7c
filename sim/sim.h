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
 * The world runs standalone servers (each its own ensemble until ZAB
 * lands) and clients built on client/zkc, under a fault schedule (the
 * nemesis): server crashes with torn unsynced writes and restarts, client
 * partitions (both ways or one way), whole servers cut off from their
 * clients, clogged links, lossy spells, connection resets, disks
 * that fill up or fail (writes refused, then resumed), client processes
 * that stall (past their session timeout, now and then), and
 * clock skew.
 * When the fault phase ends every fault heals and a liveness phase checks
 * that every client gets writes through again.  Checkers run after every
 * step and at the end (linearizability of the shared znodes' histories).
 */
#ifndef PD_SIM_H
#define PD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_world;

#define SIM_MOVES_MAX 512 /* nemesis moves a shrink can leave out */

struct sim_options {
	uint64_t seed;
	uint32_t servers;        /* standalone servers (each its own ensemble for now) */
	uint32_t clients;        /* simulated clients, spread over the servers */
	uint64_t duration_ms;    /* virtual time with faults */
	uint64_t liveness_ms;    /* then healed: every client must get a write through */
	bool faults;             /* crashes, torn writes, resets, clock skew */
	uint32_t latency_us_max; /* one-way network latency, uniform in [20 us, max] */
	uint32_t fsync_us_max;   /* fsync latency, uniform in [50 us, max] */
	uint32_t snap_count;     /* the servers' snapCount */
	bool buggify;            /* turn on the core's PD_BUGGIFY sites (from the seed) */
	uint32_t observers;      /* of the ensemble's servers, the last ones observe */
	bool ensemble;           /* the servers form one ensemble (issue 5 in progress:
				  * the election only; no clients are served yet) */
	uint32_t bugs;           /* SIM_BUG_*: planted driver bugs, to show the checkers fire */
	bool timeline;           /* keep the run's faults, recoveries and role changes in result.timeline */
	bool scripted;           /* a scenario drives the world (sim/script.c): no random clients, no
				  * fault schedule, no calm; the scenario makes clients and faults */
	uint32_t tick_ms;        /* the servers' tickTime (0: 2000) */
	/* Swarm testing (paddock fuzz): the fault classes on in this run
	 * (SIM_FAULT_*; 0 = the classic mix, every class) and the mean gap
	 * between two nemesis moves (0: 1.1 s). */
	uint32_t swarm;
	uint32_t nemesis_gap_ms;
	/* Liveness as zab-and-server.md's L1 (election fuzzing): after the calm
	 * a quorum of voters follows one serving leader; a straggler that
	 * backed off (FLE's notification interval grows to 60 s, as
	 * ZooKeeper's) may still be looking, and clients are not asked to
	 * write.  Otherwise every server must have joined and every client
	 * written. */
	bool liveness_quorum;
	/* Shrinking (paddock fuzz --shrink): the swarm nemesis's moves (its
	 * faults, crashes included, numbered from 0 in the order they come)
	 * left out of the run, one bit each.  Each move draws from its own
	 * stream, split off the world's, so leaving one out changes nothing
	 * else that the seed draws. */
	uint64_t drop_moves[SIM_MOVES_MAX / 64];
};

#define SIM_FAULT_CRASH 0x1u     /* servers crash (and restart), unsynced writes kept, lost or torn */
#define SIM_FAULT_WIPE 0x2u      /* once, a crashed server's disk comes back empty */
#define SIM_FAULT_PEER_CUT 0x4u  /* two servers cut both ways */
#define SIM_FAULT_ONE_WAY 0x8u   /* two servers cut one way */
#define SIM_FAULT_ISOLATE 0x10u  /* one server cut off from every other */
#define SIM_FAULT_BRIDGE 0x20u   /* two halves that only one server (the bridge) reaches both */
#define SIM_FAULT_FLAP 0x40u     /* a cut between two servers that comes and goes, fast */
#define SIM_FAULT_LOSS 0x80u     /* lossy, duplicating, reordering links; lossy spells; latency spikes */
#define SIM_FAULT_SKEW 0x100u    /* clock offsets and drift; forward jumps */
#define SIM_FAULT_DISK 0x200u    /* full or failing disks */
#define SIM_FAULT_CLIENT 0x400u  /* client links cut, clogged, reset; client processes stall */
#define SIM_FAULT_CLOG 0x800u    /* a server hears no peer for a while, then all at once */
#define SIM_FAULT_ALL 0xfffu

/* Bugs a test can plant in the world (never in a normal run) to prove that
 * each checker can fail. */
#define SIM_BUG_ACK_BEFORE_SYNC 0x1u /* report the log durable before the sync */
#define SIM_BUG_LOSE_SYNCED 0x2u     /* a crash also loses the last synced batch */
#define SIM_BUG_REORDER 0x4u         /* server-to-client bytes ignore FIFO order */
#define SIM_BUG_STALE_READS 0x8u     /* a read returns the first value ever written to its znode */
#define SIM_BUG_SEQ_TWICE 0x10u      /* a sequential create is reported with its number twice */
#define SIM_BUG_LOSE_WATCH_EVENTS 0x20u /* clients never get watch events */
#define SIM_BUG_TRIM_PAST_SNAPSHOT 0x40u /* the log is trimmed 20 txns past the newest snapshot */
#define SIM_BUG_NO_HEAL 0x80u        /* partitions never heal */
#define SIM_BUG_KEEP_FAILED_WRITES 0x100u /* a failed log keeps the records it did not sync */
#define SIM_BUG_HIDE_LOG_FAILURE 0x200u   /* a failed log is not reported to the core */
#define SIM_BUG_LOSE_EPOCHS 0x400u        /* a restarted server finds no epoch files */
#define SIM_BUG_LOSE_EPOCHS_QUIETLY 0x800u /* the same, and the epoch checker forgets them too */
#define SIM_BUG_TRUST_WIPED 0x1000u /* a server whose disk was wiped votes as a legitimately empty one */
#define SIM_BUG_TRIP_ASSERTION 0x4000u /* at the calm, one seed in three trips a core assertion */
#define SIM_BUG_DIE 0x8000u            /* at the calm, one seed in five kills its process (SIGSEGV) */
#define SIM_BUG_SAME_START_CLOCK 0x2000u /* every start of a server reads the same wall clock (so its
					   * session ids repeat) */

/* The outcome of a run.  exit codes as STYLE §3 lesson 4: 0 clean, 127 a
 * crash or core assertion, 128 lost liveness, 129 a correctness violation. */
/* One entry of a run's timeline (options.timeline): a fault, a recovery,
 * a role change, in virtual time. */
struct sim_note {
	uint64_t at_us;
	int32_t server;   /* 1-based, 0 when not about one server */
	uint32_t move;    /* 1 + the nemesis move that made it (swarm runs), 0 for none */
	char kind[16];    /* crash, restart, wipe, reload, role, cut, heal, clog, lossy, disk_full, pause, reset, calm */
	char detail[64];
};

struct sim_result {
	int exit_code;
	struct sim_note *timeline; /* options.timeline only; free with sim_result_free */
	size_t timeline_count;
	size_t timeline_cap;
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
	uint64_t partitions;   /* client links cut (one way or both), servers cut off */
	uint64_t clogs;
	uint64_t lossy_spells;
	uint64_t resets;       /* connections reset by the nemesis */
	uint64_t pauses;       /* client processes stalled */
	uint64_t disk_faults;  /* spells of a full or failing disk */
	uint64_t log_failures; /* syncs that failed (the core told PD_EV_LOG_FAILED) */
	uint64_t retransmits;  /* segments lost or held back by a partition, sent again */
	uint64_t duplicates;   /* segments that arrived twice (the second dropped) */
	uint64_t reordered;    /* segments that arrived ahead of a missing one */
	uint64_t sessions;     /* sessions the clients established */
	uint64_t expired;      /* sessions the clients found expired */
	uint64_t read_timeouts; /* transports a client gave up on (a quiet server) */
	uint64_t elections;    /* decisions the servers' elections took (ensemble) */
	uint64_t peer_partitions; /* server pairs cut (ensemble) */
	uint64_t leader;       /* the sid every server follows at the end (ensemble) */
	uint64_t reloads;      /* learners rebuilt from disk (TRUNC, SNAP, a failed log) */
	uint64_t wipes;        /* servers whose disk was replaced by an empty one (ensemble) */
	uint64_t digests_compared; /* pairs of servers at one zxid whose state digests were compared */
	uint64_t moves;        /* the swarm nemesis's moves, crashes included (left out ones too) */
	uint64_t applies_checked; /* applied ops checked on the way (I7, I8, I15, I17) */
	uint64_t marks_hit;    /* the core's coverage marks (marks.h) any server passed: bit m for mark m */
};

void sim_options_default(struct sim_options *o);
/* Runs one world to its end (or its first violation). */
void sim_run(const struct sim_options *o, struct sim_result *r);
/* Frees what a run allocated in r (the timeline). */
void sim_result_free(struct sim_result *r);

#endif
