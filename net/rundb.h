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

#endif
