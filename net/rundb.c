/*
 * rundb.c: records a simulator run into the SQLite database of reports/schema.sql
 * (`paddock sim ... --db FILE`): the run, its figures and its checks, in one transaction.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "pd.h"
#include "rundb.h"
#include "schema_sql.h"

static int rundb_exec(sqlite3 *db, const char *sql, char *errmsg, size_t errmsg_size)
{
	char *e = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "%s", e != NULL ? e : sqlite3_errmsg(db));
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

/* One timeline entry into the prepared events insert. */
static int rundb_event(sqlite3_stmt *st, int64_t run_id, uint64_t at_us, int32_t server, const char *kind,
		       const char *detail)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)at_us);
	if (server > 0)
		sqlite3_bind_int(st, 3, server);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static const char *rundb_outcome(int exit_code)
{
	switch (exit_code) {
	case 0:
		return "pass";
	case 128:
		return "liveness";
	case 129:
		return "violation";
	default:
		return "crash";
	}
}

/* Opens the database at path, creates the tables if needed and begins a
 * write transaction; NULL with errmsg on failure. */
static sqlite3 *rundb_begin(const char *path, char *errmsg, size_t errmsg_size)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "cannot open %s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000); /* parallel runs may share one database */
	if (rundb_exec(db, pd_schema_sql, errmsg, errmsg_size) != 0 ||
	    rundb_exec(db, "BEGIN IMMEDIATE", errmsg, errmsg_size) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Ends what rundb_begin began: commits when ok (else the error is SQLite's
 * own), finalizes st and closes.  0, or -1 with errmsg. */
static int rundb_end(sqlite3 *db, sqlite3_stmt *st, bool ok, const char *path, char *errmsg, size_t errmsg_size)
{
	int rc = -1;
	if (!ok)
		snprintf(errmsg, errmsg_size, "%s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (ok && rundb_exec(db, "COMMIT", errmsg, errmsg_size) == 0)
		rc = 0;
	sqlite3_close(db);
	return rc;
}

int rundb_record_sim(const char *path, const struct sim_options *o, const struct sim_result *r, uint64_t wall_ms,
		     const char *replay, char *errmsg, size_t errmsg_size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char params[512], started[32], digest[24];
	time_t now = time(NULL);
	struct tm tm;
	int64_t run_id;
	size_t i;
	const struct {
		const char *name;
		uint64_t value;
	} figures[] = {
		{"events", r->events},
		{"ops_ok", r->ops_ok},
		{"ops_failed", r->ops_failed},
		{"acked_writes", r->acked_writes},
		{"history_ops", r->history_ops},
		{"crashes", r->crashes},
		{"reconnects", r->reconnects},
		{"sessions", r->sessions},
		{"expired", r->expired},
		{"partitions", r->partitions},
		{"peer_partitions", r->peer_partitions},
		{"elections", r->elections},
		{"reloads", r->reloads},
		{"wipes", r->wipes},
		{"snapshots", r->snapshots},
		{"log_failures", r->log_failures},
		{"digests_compared", r->digests_compared},
		{"leader", r->leader},
	};
	gmtime_r(&now, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(digest, sizeof(digest), "0x%016" PRIx64, r->digest);
	snprintf(params, sizeof(params),
		 "{\"ensemble\":%s,\"servers\":%u,\"observers\":%u,\"clients\":%u,\"seconds\":%" PRIu64
		 ",\"liveness_seconds\":%" PRIu64 ",\"faults\":%s,\"buggify\":%s,\"bugs\":%u}",
		 o->ensemble ? "true" : "false", o->servers, o->observers, o->clients, o->duration_ms / 1000,
		 o->liveness_ms / 1000, o->faults ? "true" : "false", o->buggify ? "true" : "false", o->bugs);
	if ((db = rundb_begin(path, errmsg, errmsg_size)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, "
			       "exit_code, message, digest, virtual_ms, wall_ms, replay) "
			       "VALUES (?, 'sim', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(st, 1, started, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)o->seed);
	sqlite3_bind_text(st, 3, pd_build_commit(), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, params, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, rundb_outcome(r->exit_code), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, r->exit_code);
	if (r->exit_code != 0)
		sqlite3_bind_text(st, 7, r->violation, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->virtual_ms);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)wall_ms);
	sqlite3_bind_text(st, 11, replay, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	run_id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "INSERT INTO run_figures (run_id, name, value) VALUES (?, ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, figures[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, (double)figures[i].value);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* the simulator's checkers, in two classes: safety (every checker that
	 * exits 129, or a core assertion) and liveness (exit 128) */
	if (sqlite3_prepare_v2(db, "INSERT INTO checks (run_id, name, held, step, message) VALUES (?, ?, ?, NULL, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < 2; i++) {
		bool held = i == 0 ? (r->exit_code != 129 && r->exit_code != 127) : r->exit_code != 128;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, i == 0 ? "safety" : "liveness", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, held);
		if (!held)
			sqlite3_bind_text(st, 4, r->violation, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 4);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* the timeline, if the run kept one */
	if (sqlite3_prepare_v2(db, "INSERT INTO events (run_id, at_us, server, kind, detail) VALUES (?, ?, ?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < r->timeline_count; i++)
		if (rundb_event(st, run_id, r->timeline[i].at_us, r->timeline[i].server, r->timeline[i].kind,
				r->timeline[i].detail) != 0)
			goto sqlerr;
	return rundb_end(db, st, true, path, errmsg, errmsg_size);
sqlerr:
	return rundb_end(db, st, false, path, errmsg, errmsg_size);
}

static const char *rundb_scenario_outcome(int code)
{
	switch (code) {
	case PDL_OK:
		return "pass";
	case PDL_FAILED:
		return "failed";
	case PDL_VIOLATION:
		return "violation";
	case PDL_UNSUPPORTED:
		return "unsupported";
	default:
		return "script";
	}
}

/* Binds and steps a prepared statement's values given as a format:
 * i int64, d double, t text (NULL binds NULL). */
static int rundb_row(sqlite3_stmt *st, const char *fmt, ...)
{
	va_list ap;
	int k;
	sqlite3_reset(st);
	va_start(ap, fmt);
	for (k = 0; fmt[k] != '\0'; k++) {
		if (fmt[k] == 'i') {
			sqlite3_bind_int64(st, k + 1, va_arg(ap, sqlite3_int64));
		} else if (fmt[k] == 'd') {
			sqlite3_bind_double(st, k + 1, va_arg(ap, double));
		} else {
			const char *t = va_arg(ap, const char *);
			if (t != NULL)
				sqlite3_bind_text(st, k + 1, t, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, k + 1);
		}
	}
	va_end(ap);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int rundb_record_scenario(const char *path, const char *kind, uint64_t seed, const struct pdl_outcome *o,
			  uint64_t wall_ms, const char *replay, char *errmsg, size_t errmsg_size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char params[256], started[32], digest[24];
	time_t now = time(NULL);
	struct tm tm;
	int64_t run_id;
	size_t i;
	gmtime_r(&now, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(digest, sizeof(digest), "0x%016" PRIx64, o->digest);
	snprintf(params, sizeof(params),
		 "{\"servers\":%u,\"observers\":%u,\"tick_ms\":%u,\"init_limit\":%u,\"sync_limit\":%u,\"snap_count\":%u}",
		 o->config.servers, o->config.observers, o->config.tick_ms, o->config.init_limit, o->config.sync_limit,
		 o->config.snap_count);
	if ((db = rundb_begin(path, errmsg, errmsg_size)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, "
			       "exit_code, message, digest, virtual_ms, wall_ms, replay) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK ||
	    rundb_row(st, "tttitttittiit", started, kind, o->name, (sqlite3_int64)seed, pd_build_commit(), params,
		      rundb_scenario_outcome(o->code), (sqlite3_int64)o->code, o->code != PDL_OK ? o->message : NULL,
		      digest, (sqlite3_int64)(o->virtual_us / 1000), (sqlite3_int64)wall_ms, replay) != 0)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	run_id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO run_figures (run_id, name, value) VALUES (?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < o->figures_count; i++)
		if (rundb_row(st, "itd", (sqlite3_int64)run_id, o->figures[i].name, o->figures[i].value) != 0)
			goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO checks (run_id, name, held, step, message) VALUES (?, ?, ?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < o->checks_count; i++)
		if (rundb_row(st, "itiss", (sqlite3_int64)run_id, o->checks[i].name, (sqlite3_int64)o->checks[i].held,
			      o->checks[i].step, o->checks[i].message[0] != '\0' ? o->checks[i].message : NULL) != 0)
			goto sqlerr;
	/* a run that failed outside any expect (a violation, a script error) */
	if (o->code != PDL_OK && o->code != PDL_FAILED &&
	    rundb_row(st, "itiss", (sqlite3_int64)run_id, o->code == PDL_VIOLATION ? "safety" : "script",
		      (sqlite3_int64)0, o->step, o->message) != 0)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO events (run_id, at_us, server, kind, detail) VALUES (?, ?, ?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < o->timeline_count; i++)
		if (rundb_event(st, run_id, o->timeline[i].at_us, o->timeline[i].server, o->timeline[i].kind,
				o->timeline[i].detail) != 0)
			goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO operations (run_id, client, op, path, called_us, returned_us, err, zxid) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < o->ops_count; i++) {
		const struct pdl_op *op = &o->ops[i];
		int k;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, op->client);
		sqlite3_bind_text(st, 3, op->op, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, op->path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)op->called_us);
		for (k = 6; k <= 8; k++)
			sqlite3_bind_null(st, k);
		if (op->returned_us != UINT64_MAX) {
			sqlite3_bind_int64(st, 6, (sqlite3_int64)op->returned_us);
			sqlite3_bind_int64(st, 7, op->err);
			sqlite3_bind_int64(st, 8, op->zxid);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO throughput (run_id, at_ms, ok, failed) VALUES (?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; i < o->buckets_count; i++)
		if (rundb_row(st, "iiii", (sqlite3_int64)run_id, (sqlite3_int64)o->buckets[i].at_ms,
			      (sqlite3_int64)o->buckets[i].ok, (sqlite3_int64)o->buckets[i].failed) != 0)
			goto sqlerr;
	return rundb_end(db, st, true, path, errmsg, errmsg_size);
sqlerr:
	return rundb_end(db, st, false, path, errmsg, errmsg_size);
}

/* A database kept open across many runs (paddock fuzz): inserts go in
 * batches of one transaction each. */
struct rundb {
	sqlite3 *db;
	sqlite3_stmt *run, *figure, *check;
	unsigned pending;
};

struct rundb *rundb_open(const char *path, char *errmsg, size_t errmsg_size)
{
	struct rundb *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(errmsg, errmsg_size, "out of memory");
		return NULL;
	}
	if (sqlite3_open(path, &r->db) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "cannot open %s: %s", path, r->db != NULL ? sqlite3_errmsg(r->db) : "?");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 10000);
	if (rundb_exec(r->db, pd_schema_sql, errmsg, errmsg_size) != 0)
		goto fail;
	if (sqlite3_prepare_v2(r->db,
			       "INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, "
			       "exit_code, message, digest, virtual_ms, wall_ms, replay) "
			       "VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'fuzz', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &r->run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT INTO run_figures (run_id, name, value) VALUES (?, ?, ?)", -1, &r->figure,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT INTO checks (run_id, name, held, step, message) VALUES (?, ?, ?, NULL, ?)",
			       -1, &r->check, NULL) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "%s: %s", path, sqlite3_errmsg(r->db));
		goto fail;
	}
	return r;
fail:
	rundb_close(r, NULL, 0);
	return NULL;
}

int rundb_add_fuzz(struct rundb *r, const char *workload, uint64_t seed, const char *params, const char *outcome,
		   int exit_code, const char *message, const char *digest, uint64_t virtual_ms, uint64_t wall_ms,
		   uint64_t events, uint64_t marks, const char *replay, char *errmsg, size_t errmsg_size)
{
	int64_t run_id;
	int k;
	if (r->pending == 0 && rundb_exec(r->db, "BEGIN IMMEDIATE", errmsg, errmsg_size) != 0)
		return -1;
	if (rundb_row(r->run, "titttittiit", workload, (sqlite3_int64)seed, pd_build_commit(), params, outcome,
		      (sqlite3_int64)exit_code, message, digest, (sqlite3_int64)virtual_ms, (sqlite3_int64)wall_ms,
		      replay) != 0)
		goto sqlerr;
	run_id = sqlite3_last_insert_rowid(r->db);
	if (rundb_row(r->figure, "itd", (sqlite3_int64)run_id, "events", (double)events) != 0 ||
	    rundb_row(r->figure, "itd", (sqlite3_int64)run_id, "marks_hit", (double)marks) != 0)
		goto sqlerr;
	for (k = 0; k < 2; k++) {
		bool held = k == 0 ? (exit_code != 129 && exit_code != 127) : exit_code != 128;
		if (rundb_row(r->check, "itit", (sqlite3_int64)run_id, k == 0 ? "safety" : "liveness",
			      (sqlite3_int64)held, held ? NULL : message) != 0)
			goto sqlerr;
	}
	if (++r->pending >= 256) {
		r->pending = 0;
		return rundb_exec(r->db, "COMMIT", errmsg, errmsg_size);
	}
	return 0;
sqlerr:
	snprintf(errmsg, errmsg_size, "%s", sqlite3_errmsg(r->db));
	return -1;
}

int rundb_add_shrunk(struct rundb *r, const char *workload, uint64_t seed, const struct rundb_shrunk *sh, char *errmsg,
		     size_t errmsg_size)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (r->pending == 0 && rundb_exec(r->db, "BEGIN IMMEDIATE", errmsg, errmsg_size) != 0)
		return -1;
	r->pending++;
	if (sqlite3_prepare_v2(r->db,
			       "INSERT OR REPLACE INTO shrunk (run_id, replay, parameters, message, tries, moves_kept, "
			       "moves_total, scenario) SELECT max(id), ?, ?, ?, ?, ?, ?, ? FROM runs "
			       "WHERE kind = 'fuzz' AND scenario = ? AND seed = ? HAVING max(id) IS NOT NULL",
			       -1, &st, NULL) != SQLITE_OK ||
	    rundb_row(st, "tttiiitti", sh->replay, sh->params, sh->message, (sqlite3_int64)sh->tries,
		      (sqlite3_int64)sh->moves_kept, (sqlite3_int64)sh->moves_total, sh->scenario, workload,
		      (sqlite3_int64)seed) != 0)
		snprintf(errmsg, errmsg_size, "%s", sqlite3_errmsg(r->db));
	else if (sqlite3_changes(r->db) != 1)
		snprintf(errmsg, errmsg_size, "no %s run of seed %" PRIu64 " to attach the shrunk one to", workload, seed);
	else
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int rundb_close(struct rundb *r, char *errmsg, size_t errmsg_size)
{
	int rc = 0;
	if (r == NULL)
		return 0;
	if (r->pending > 0 && errmsg != NULL)
		rc = rundb_exec(r->db, "COMMIT", errmsg, errmsg_size);
	sqlite3_finalize(r->run);
	sqlite3_finalize(r->figure);
	sqlite3_finalize(r->check);
	if (r->db != NULL)
		sqlite3_close(r->db);
	free(r);
	return rc;
}
