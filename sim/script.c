/*
 * script.c: the simulated world as a scenario sees it (lua/world.h): a
 * world of sim_options.scripted, advanced in steps of virtual time, with
 * the scenario's faults applied when it asks and its clients made on
 * demand.  The world's checkers (one leader per epoch, one txn per zxid,
 * acknowledged writes durable, zxids never going back) run all along, as
 * in a random run; a violation stops the world and fails the scenario.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"
#include "../lua/world.h"

struct sim_script {
	struct sim_world *w;
	struct sim_result res;
	struct pdw_note *notes; /* the timeline, as pdw_notes */
	size_t notes_cap;
};

static void *script_open(const struct pdw_config *cfg, char *why, size_t why_size)
{
	struct sim_script *sc = calloc(1, sizeof(*sc));
	struct sim_options o;
	if (sc == NULL)
		abort();
	if (cfg->servers == 0 || cfg->servers > 7) {
		snprintf(why, why_size, "an ensemble has 1 to 7 servers, not %u", cfg->servers);
		free(sc);
		return NULL;
	}
	sim_options_default(&o);
	o.seed = cfg->seed;
	o.servers = cfg->servers;
	o.ensemble = cfg->servers > 1;
	o.observers = cfg->observers;
	o.clients = 0;
	o.faults = false;
	o.scripted = true;
	o.timeline = true;
	o.liveness_ms = 0;
	o.tick_ms = cfg->tick_ms;
	if (cfg->snap_count > 0)
		o.snap_count = cfg->snap_count;
	sc->w = sim_world_open(&o, &sc->res);
	if (sc->w->stop) {
		snprintf(why, why_size, "%s", sc->res.violation);
		sim_world_close(sc->w);
		sim_result_free(&sc->res);
		free(sc);
		return NULL;
	}
	return sc;
}

static int script_stopped(struct sim_script *sc, char *why, size_t why_size)
{
	if (!sc->w->stop)
		return 0;
	snprintf(why, why_size, "%s", sc->res.violation);
	return -1;
}

static int script_finish(void *p, char *why, size_t why_size)
{
	struct sim_script *sc = p;
	if (!sc->w->stop)
		sim_world_check_digests(sc->w);
	return script_stopped(sc, why, why_size);
}

static void script_close(void *p)
{
	struct sim_script *sc = p;
	sim_world_close(sc->w);
	sim_result_free(&sc->res);
	free(sc->notes);
	free(sc);
}

static uint64_t script_now_us(void *p)
{
	return ((struct sim_script *)p)->w->now_us;
}

static int script_advance(void *p, uint64_t us, char *why, size_t why_size)
{
	struct sim_script *sc = p;
	sim_world_advance(sc->w, sc->w->now_us + us);
	return script_stopped(sc, why, why_size);
}

static void script_server_state(void *p, uint32_t server, struct pdw_server_state *out)
{
	struct sim_script *sc = p;
	struct pd_node_stats st;
	memset(out, 0, sizeof(*out));
	if (server < 1 || server > sc->w->opt.servers || !sc->w->servers[server - 1].up)
		return;
	pd_node_get_stats(sc->w->servers[server - 1].node, &st);
	out->role = st.role < 0 ? PDW_LEADING : st.role == 1 ? PDW_FOLLOWING : st.role == 2 ? PDW_LEADING
						: st.role == 3 ? PDW_OBSERVING : PDW_LOOKING;
	out->serving = st.serving;
	out->leader = st.role < 0 ? server : st.leader;
	out->epoch = st.epoch;
	out->zxid = st.last_zxid;
	out->election_round = st.election_round;
}

static int script_fault(void *p, const struct pdw_fault *f, char *why, size_t why_size)
{
	struct sim_script *sc = p;
	struct sim_world *w = sc->w;
	uint32_t n = w->opt.servers, a, b;
	if (f->kind != PDW_HEAL && f->kind != PDW_PARTITION && (f->server < 1 || f->server > n)) {
		snprintf(why, why_size, "there is no server %u (the ensemble has %u)", f->server, n);
		return PDW_REFUSED;
	}
	switch (f->kind) {
	case PDW_CRASH:
	case PDW_TORN_WRITE:
		sim_world_crash(w, f->server - 1, f->kind == PDW_TORN_WRITE);
		break;
	case PDW_RESTART:
		sim_world_restart(w, f->server - 1);
		break;
	case PDW_WIPE:
		if (w->servers[f->server - 1].up) {
			snprintf(why, why_size, "server %u is running: crash it before wiping its disk", f->server);
			return PDW_REFUSED;
		}
		sim_world_wipe(w, f->server - 1);
		break;
	case PDW_PARTITION:
		for (a = 0; a < n; a++)
			for (b = a + 1; b < n; b++)
				if (f->group_of[a] != 0 && f->group_of[b] != 0 && f->group_of[a] != f->group_of[b])
					sim_world_cut(w, a, b);
		sim_note(w, 0, "partition", "servers cut into groups");
		break;
	case PDW_ISOLATE:
		for (a = 0; a < n; a++)
			if (a != f->server - 1)
				sim_world_cut(w, f->server - 1, a);
		sim_world_cut_clients(w, f->server - 1);
		sim_note(w, f->server, "isolate", "from every server and client");
		break;
	case PDW_HEAL:
		sim_world_heal_all(w);
		sim_note(w, 0, "heal", "every cut and clog ends");
		break;
	case PDW_SKEW:
		/* the wall clock jumps either way (znode times); the monotonic
		 * clock never goes back, but leaps forward as after a suspended VM */
		w->servers[f->server - 1].wall_offset_ms += f->ms;
		if (f->ms > 0)
			w->servers[f->server - 1].offset_ms += f->ms;
		sim_note(w, f->server, "skew", "its clock jumps %+" PRId64 " ms", f->ms);
		break;
	case PDW_CLOG:
		sim_world_clog(w, f->server - 1, (uint64_t)(f->ms > 0 ? f->ms : 0) * 1000);
		sim_note(w, f->server, "clog", "hears nothing for %" PRId64 " ms", f->ms);
		break;
	case PDW_DISK_FULL:
		w->servers[f->server - 1].disk_full_until_us = w->now_us + (uint64_t)(f->ms > 0 ? f->ms : 0) * 1000;
		w->res->disk_faults++;
		sim_note(w, f->server, "disk_full", "for %" PRId64 " ms", f->ms);
		break;
	default:
		snprintf(why, why_size, "unknown fault %d", (int)f->kind);
		return PDW_UNSUPPORTED;
	}
	return script_stopped(sc, why, why_size) != 0 ? PDW_STOPPED : 0;
}

static int script_client_new(void *p, uint32_t server, int32_t timeout_ms)
{
	struct sim_script *sc = p;
	struct sim_world *w = sc->w;
	uint32_t id = w->opt.clients, k, first;
	if (id >= SIM_CLIENTS_MAX || server > w->opt.servers)
		return -1;
	first = server > 0 ? server - 1 : (uint32_t)sim_draw(w, 0, w->opt.servers - 1);
	for (k = 0; k < w->opt.servers; k++)
		sim_dir_setup(w, sim_world_link(w, id, k));
	w->opt.clients++;
	sim_client_init_scripted(w, &w->clients[id], id, first, server > 0, timeout_ms);
	return (int)id;
}

static struct zkc *script_client_zkc(void *p, int client)
{
	struct sim_script *sc = p;
	return sc->w->clients[client].zk;
}

static void script_client_flush(void *p, int client)
{
	struct sim_script *sc = p;
	sim_client_flush_out(sc->w, &sc->w->clients[client]);
}

static void script_client_kill(void *p, int client)
{
	struct sim_script *sc = p;
	sim_client_kill(sc->w, &sc->w->clients[client]);
	sim_note(sc->w, 0, "kill", "client %d's process dies", client);
}

static void script_client_pause(void *p, int client, uint64_t ms)
{
	struct sim_script *sc = p;
	uint64_t until = sc->w->now_us + ms * 1000;
	if (until > sc->w->clients[client].paused_until_us)
		sc->w->clients[client].paused_until_us = until;
	sc->w->res->pauses++;
	sim_note(sc->w, 0, "pause", "client %d for %" PRIu64 " ms", client, ms);
}

static uint32_t script_client_server(void *p, int client)
{
	struct sim_script *sc = p;
	const struct sim_client *c = &sc->w->clients[client];
	return c->conn != 0 && sc->w->conns[c->conn - 1].open ? c->server + 1 : 0;
}

static uint64_t script_random(void *p, uint64_t lo, uint64_t hi)
{
	struct sim_script *sc = p;
	return hi <= lo ? lo : sim_draw(sc->w, lo, hi);
}

static void script_note(void *p, uint32_t server, const char *kind, const char *detail)
{
	struct sim_script *sc = p;
	sim_note(sc->w, server, kind, "%s", detail);
}

static const struct pdw_note *script_timeline(void *p, size_t *count)
{
	struct sim_script *sc = p;
	size_t i, n = sc->res.timeline_count;
	if (n > sc->notes_cap) {
		sc->notes = realloc(sc->notes, n * sizeof(*sc->notes));
		if (sc->notes == NULL)
			abort();
		sc->notes_cap = n;
	}
	for (i = 0; i < n; i++) {
		const struct sim_note *s = &sc->res.timeline[i];
		struct pdw_note *d = &sc->notes[i];
		d->at_us = s->at_us;
		d->server = s->server;
		snprintf(d->kind, sizeof(d->kind), "%s", s->kind);
		snprintf(d->detail, sizeof(d->detail), "%s", s->detail);
	}
	*count = n;
	return sc->notes;
}

static uint64_t script_digest(void *p)
{
	return ((struct sim_script *)p)->w->digest;
}

const struct pdw_ops pdw_sim_ops = {
	.digest = script_digest,
	.name = "sim",
	.open = script_open,
	.finish = script_finish,
	.close = script_close,
	.now_us = script_now_us,
	.advance = script_advance,
	.server_state = script_server_state,
	.fault = script_fault,
	.client_new = script_client_new,
	.client_zkc = script_client_zkc,
	.client_flush = script_client_flush,
	.client_kill = script_client_kill,
	.client_pause = script_client_pause,
	.client_server = script_client_server,
	.random = script_random,
	.note = script_note,
	.timeline = script_timeline,
};
