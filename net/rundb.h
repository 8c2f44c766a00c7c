/* rundb.h: run records in SQLite (reports/schema.sql). */
#ifndef PD_NET_RUNDB_H
#define PD_NET_RUNDB_H

#include <stdint.h>

#include "scenario.h"
#include "sim.h"

/* Records one simulator run (its figures, and whether its safety and
 * liveness checks held) into the database at path, creating the tables if
 * needed.  replay: the command that replays the run.  0, or -1 with errmsg. */
int rundb_record_sim(const char *path, const struct sim_options *o, const struct sim_result *r, uint64_t wall_ms,
		     const char *replay, char *errmsg, size_t errmsg_size);

/* Records one scenario run (kind "scenario" in the simulator, "real"
 * against processes): its outcome, figures, checks, timeline, client
 * operations and throughput.  0, or -1 with errmsg. */
int rundb_record_scenario(const char *path, const char *kind, uint64_t seed, const struct pdl_outcome *o,
			  uint64_t wall_ms, const char *replay, char *errmsg, size_t errmsg_size);

/* A database open across many runs (paddock fuzz): runs of kind "fuzz",
 * committed in batches; rundb_close commits the rest. */
struct rundb;
struct rundb *rundb_open(const char *path, char *errmsg, size_t errmsg_size);
int rundb_add_fuzz(struct rundb *r, const char *workload, uint64_t seed, const char *params, const char *outcome,
		   int exit_code, const char *message, const char *digest, uint64_t virtual_ms, uint64_t wall_ms,
		   uint64_t events, uint64_t marks, const char *replay, char *errmsg, size_t errmsg_size);
/* A failure shrunk (paddock fuzz): attached to the newest fuzz run of
 * that workload and seed (reports/schema.sql, table shrunk). */
struct rundb_shrunk {
	const char *replay, *params, *message, *scenario;
	int tries, moves_kept, moves_total;
};
int rundb_add_shrunk(struct rundb *r, const char *workload, uint64_t seed, const struct rundb_shrunk *sh, char *errmsg,
		     size_t errmsg_size);
int rundb_close(struct rundb *r, char *errmsg, size_t errmsg_size);

#endif
