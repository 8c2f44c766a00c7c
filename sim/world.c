/*
 * world.c: the simulated world: scheduler, network, disks, clocks, the
 * driver of each server's core, crashes and restarts, and the checkers that
 * run after every step.  See sim.h.
 *
 * Scheduler: a binary heap of events ordered by (virtual time in us, then
 * the sequence number the event got when scheduled), so ties resolve in the
 * order of scheduling and a run depends on nothing but the seed.  Every
 * event and every effect of every step is folded into a 64-bit digest.
 *
 * Network: a client connection is two FIFO byte streams.  Each send is
 * delivered after a drawn latency, never before the previous delivery in
 * the same direction, split into one to three pieces (so the core frames
 * partial reads and pipelined requests as it does over TCP).  A close is
 * delivered after the data before it.
 *
 * Disk: per server, the durable image of its log and the appended bytes
 * not yet synced.  A sync covers what was pending when it started and
 * completes after a drawn latency (group commit, as net/disk.c does); only
 * then does the core hear PD_EV_LOG_DURABLE.  A crash keeps, drops or tears
 * (keeps a random prefix of) what was not synced; the restarted server
 * replays the durable image with core/log.h's verdicts, cutting a torn tail.
 *
 * Snapshots: when the core asks, the node as it is between two steps is
 * encoded (as net/'s forked child does) and becomes durable after a drawn
 * delay; a crash before that loses it.  The two newest are kept, and the
 * log before the older one is dropped.  A restart loads the newest
 * snapshot that loads, then the log after it.
 *
 * Clocks: each server sees now_ms = virtual ms * (1 + drift) + offset, and
 * wall time likewise, so timeouts and expiry face skew.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "err.h"
#include "log.h"
#include "observe.h"
#include "proto.h"
#include "quorum.h"
#include "snap.h"
#include "world.h"

#define SIM_WALL_BASE_MS 1700000000000LL

/* --- small helpers --- */

void sim_bytes_add(struct sim_bytes *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void sim_bytes_cut(struct sim_bytes *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void sim_mix(struct sim_world *w, uint64_t v)
{
	w->digest ^= v;
	w->digest *= 0x100000001b3ULL;
	w->digest ^= w->digest >> 29;
}

static void sim_mix_bytes(struct sim_world *w, const uint8_t *p, size_t len)
{
	size_t i;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	sim_mix(w, h ^ len);
}

uint64_t sim_draw(struct sim_world *w, uint64_t lo, uint64_t hi)
{
	return lo + pd_prng_below(&w->prng, hi - lo + 1);
}

/* The run's timeline (options.timeline): outside the digest, so keeping
 * it changes nothing in the run. */
void sim_note(struct sim_world *w, uint32_t server, const char *kind, const char *fmt, ...)
{
	struct sim_result *r = w->res;
	struct sim_note *n;
	va_list ap;
	if (!w->opt.timeline)
		return;
	if (r->timeline_count == r->timeline_cap) {
		size_t cap = r->timeline_cap == 0 ? 256 : r->timeline_cap * 2;
		struct sim_note *fresh = realloc(r->timeline, cap * sizeof(*fresh));
		if (fresh == NULL)
			return;
		r->timeline = fresh;
		r->timeline_cap = cap;
	}
	n = &r->timeline[r->timeline_count++];
	n->at_us = w->now_us;
	n->server = (int32_t)server;
	n->move = w->move;
	snprintf(n->kind, sizeof(n->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
	va_end(ap);
}

void sim_result_free(struct sim_result *r)
{
	free(r->timeline);
	r->timeline = NULL;
	r->timeline_count = r->timeline_cap = 0;
}

void sim_violation(struct sim_world *w, int exit_code, const char *fmt, ...)
{
	va_list ap;
	if (w->res->exit_code != 0)
		return; /* the first one counts */
	w->res->exit_code = exit_code;
	va_start(ap, fmt);
	vsnprintf(w->res->violation, sizeof(w->res->violation), fmt, ap);
	va_end(ap);
	w->stop = true;
}

static void sim_server_step(struct sim_world *w, uint32_t server, struct pd_event *ev);

static void *sim_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void sim_free(void *ctx, void *ptr, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(ptr);
}

/* --- the scheduler --- */

static bool sim_before(const struct sim_event *x, const struct sim_event *y)
{
	return x->at_us < y->at_us || (x->at_us == y->at_us && x->seq < y->seq);
}

/* Queues an event (which owns its data). */
static void sim_push(struct sim_world *w, struct sim_event e)
{
	size_t i;
	if (e.at_us < w->now_us)
		e.at_us = w->now_us;
	e.seq = w->seq++;
	if (w->heap_len == w->heap_cap) {
		w->heap_cap = w->heap_cap == 0 ? 1024 : w->heap_cap * 2;
		w->heap = realloc(w->heap, w->heap_cap * sizeof(*w->heap));
		if (w->heap == NULL)
			abort();
	}
	i = w->heap_len++;
	while (i > 0 && sim_before(&e, &w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = e;
}

static uint8_t *sim_copy(const uint8_t *data, size_t len)
{
	uint8_t *p;
	if (len == 0)
		return NULL;
	p = malloc(len);
	if (p == NULL)
		abort();
	memcpy(p, data, len);
	return p;
}

void sim_schedule(struct sim_world *w, uint64_t at_us, enum sim_ev_type type, uint32_t a, uint32_t b, uint64_t gen,
		  const uint8_t *data, size_t len)
{
	struct sim_event e;
	memset(&e, 0, sizeof(e));
	e.at_us = at_us;
	e.type = type;
	e.a = a;
	e.b = b;
	e.gen = gen;
	e.data = sim_copy(data, len);
	e.len = len;
	sim_push(w, e);
}

static bool sim_pop(struct sim_world *w, struct sim_event *out)
{
	struct sim_event last;
	size_t i = 0;
	if (w->heap_len == 0)
		return false;
	*out = w->heap[0];
	last = w->heap[--w->heap_len];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->heap_len)
			break;
		if (c + 1 < w->heap_len && sim_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!sim_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->heap_len > 0)
		w->heap[i] = last;
	return true;
}

/* --- clocks --- */

static uint64_t sim_server_now_ms(const struct sim_world *w, const struct sim_server *s)
{
	int64_t ms = (int64_t)(w->now_us / 1000);
	ms += ms * s->drift_ppm / 1000000;
	return (uint64_t)(ms + s->offset_ms + 1000000);
}

/* The virtual time at which a server's clock reads at_ms (at least now). */
static uint64_t sim_server_deadline_us(const struct sim_world *w, const struct sim_server *s, uint64_t at_ms)
{
	int64_t local = (int64_t)at_ms - s->offset_ms - 1000000;
	int64_t virt_ms = local * 1000000 / (1000000 + s->drift_ppm) + 1;
	uint64_t at = virt_ms < 0 ? 0 : (uint64_t)virt_ms * 1000;
	return at < w->now_us ? w->now_us : at;
}

/* --- the network --- */

static struct sim_link *sim_link_of(struct sim_world *w, uint32_t client, uint32_t server)
{
	return &w->links[(size_t)client * SIM_SERVERS_MAX + server];
}

static struct sim_dir *sim_dir_of(struct sim_world *w, const struct sim_conn *c, bool to_server)
{
	struct sim_link *l = c->peer ? &w->peer_links[c->dialer][c->server] : sim_link_of(w, c->client, c->server);
	return to_server ? &l->up : &l->down;
}

/* Whether a fault class is on in this run (every class in the classic mix). */
static bool sim_on(const struct sim_world *w, uint32_t fault)
{
	return w->opt.faults && (w->opt.swarm == 0 || (w->opt.swarm & fault) != 0);
}

/* One way's latency: base, jitter, and now and then a spike (a busy
 * switch, a scheduler hiccup). */
static uint64_t sim_latency(struct sim_world *w, const struct sim_dir *d)
{
	uint64_t us = d->base_us + sim_draw(w, 0, d->jitter_us);
	if (sim_on(w, SIM_FAULT_LOSS) && !w->calm && sim_draw(w, 0, 1999) == 0)
		us += sim_draw(w, 5000, 50000);
	return us;
}

/* TCP's retransmission timeout, doubling from 200 ms up to 3.2 s. */
static uint64_t sim_rto(struct sim_world *w, uint32_t attempt)
{
	uint64_t base = 200000ULL << (attempt < 4 ? attempt : 4);
	return base + sim_draw(w, 0, base / 4);
}

static void sim_dir_init(struct sim_world *w, struct sim_dir *d)
{
	d->base_us = (uint32_t)sim_draw(w, 20, w->opt.latency_us_max / 2 + 20);
	d->jitter_us = (uint32_t)sim_draw(w, 0, w->opt.latency_us_max / 2);
	if (!sim_on(w, SIM_FAULT_LOSS))
		return;
	if (sim_draw(w, 0, 3) == 0)
		d->loss_pm = (uint16_t)sim_draw(w, 1, 30);
	if (sim_draw(w, 0, 3) == 0)
		d->dup_pm = (uint16_t)sim_draw(w, 1, 20);
	d->reorder = sim_draw(w, 0, 3) == 0;
}

static void sim_links_init(struct sim_world *w)
{
	uint32_t c, s;
	if (w->opt.ensemble)
		for (c = 0; c < w->opt.servers; c++)
			for (s = 0; s < w->opt.servers; s++) {
				sim_dir_init(w, &w->peer_links[c][s].up);
				sim_dir_init(w, &w->peer_links[c][s].down);
			}
	w->links = calloc((size_t)(w->opt.scripted ? SIM_CLIENTS_MAX : w->opt.clients > 0 ? w->opt.clients : 1) * SIM_SERVERS_MAX,
			  sizeof(*w->links));
	if (w->links == NULL)
		abort();
	for (c = 0; c < w->opt.clients; c++)
		for (s = 0; s < w->opt.servers; s++) {
			struct sim_link *l = sim_link_of(w, c, s);
			sim_dir_init(w, &l->up);
			sim_dir_init(w, &l->down);
		}
}

/* A new world connection, zeroed; returns its index (never reused). */
static uint32_t sim_conn_new(struct sim_world *w)
{
	if (w->conn_count == w->conn_cap) {
		w->conn_cap = w->conn_cap == 0 ? 256 : w->conn_cap * 2;
		w->conns = realloc(w->conns, w->conn_cap * sizeof(*w->conns));
		if (w->conns == NULL)
			abort();
	}
	memset(&w->conns[w->conn_count], 0, sizeof(*w->conns));
	return (uint32_t)w->conn_count++;
}

/* A fresh core connection id on a server, mapped to world conn index conn. */
static uint32_t sim_core_id(struct sim_server *s, uint32_t conn)
{
	uint32_t id = s->next_core_id++;
	if (id >= s->conn_of_core_cap) {
		uint32_t cap = s->conn_of_core_cap == 0 ? 64 : s->conn_of_core_cap * 2;
		while (cap <= id)
			cap *= 2;
		s->conn_of_core = realloc(s->conn_of_core, cap * sizeof(uint32_t));
		if (s->conn_of_core == NULL)
			abort();
		memset(s->conn_of_core + s->conn_of_core_cap, 0, (cap - s->conn_of_core_cap) * sizeof(uint32_t));
		s->conn_of_core_cap = cap;
	}
	s->conn_of_core[id] = conn + 1;
	return id;
}

uint32_t sim_connect(struct sim_world *w, uint32_t client, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	struct sim_link *l = sim_link_of(w, client, server);
	struct sim_conn *c;
	struct pd_event ev;
	uint32_t idx;
	idx = sim_conn_new(w);
	c = &w->conns[idx];
	c->client = client;
	c->server = server;
	c->gen = ++w->conn_gen;
	if (l->up.blocked > 0 || l->down.blocked > 0) {
		/* the handshake cannot get through: the connect times out */
		sim_schedule(w, w->now_us + sim_draw(w, 1000000, 3000000), SIM_EV_RESET_CLIENT, client, idx, c->gen, NULL,
			     0);
		return idx;
	}
	if (!s->up) {
		/* refused: the client hears it after a round trip */
		sim_schedule(w, w->now_us + sim_draw(w, 100, 1000), SIM_EV_RESET_CLIENT, client, idx, c->gen, NULL, 0);
		return idx;
	}
	c->open = true;
	c->server_gen = s->gen;
	c->core_id = sim_core_id(s, idx);
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.conn = c->core_id;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "10.0.%u.%u", client / 250, client % 250 + 1);
	ev.peer_port = (uint16_t)(30000 + client);
	sim_server_step(w, server, &ev);
	return idx;
}

/* Sends one segment along a stream: numbered, delayed by the link, lost
 * (and so retransmitted), duplicated or overtaken as the link draws. */
static void sim_segment(struct sim_world *w, uint32_t conn, bool to_server, const uint8_t *p, size_t n, bool fin)
{
	struct sim_conn *c = &w->conns[conn];
	const struct sim_dir *d = sim_dir_of(w, c, to_server);
	uint64_t *last = to_server ? &c->to_server_at : &c->to_client_at;
	uint64_t at = w->now_us + sim_latency(w, d);
	uint32_t dir = to_server ? 0 : 1, dest = to_server ? c->server : c->peer ? c->dialer : c->client;
	enum sim_ev_type type = to_server ? SIM_EV_TO_SERVER : SIM_EV_TO_CLIENT;
	bool reorder = d->reorder || (!to_server && (w->opt.bugs & SIM_BUG_REORDER));
	uint32_t loss = (uint32_t)d->loss_pm + d->burst_pm, attempt = 0;
	struct sim_event e;
	while (loss > 0 && sim_draw(w, 0, 999) < loss && attempt < 6) {
		at += sim_rto(w, attempt++);
		w->res->retransmits++;
	}
	if (!reorder && at < *last)
		at = *last; /* most links keep their segments in order */
	if (at > *last)
		*last = at;
	memset(&e, 0, sizeof(e));
	e.at_us = at;
	e.type = type;
	e.a = dest;
	e.b = conn;
	e.gen = c->gen;
	e.piece = c->sent[dir]++;
	e.fin = fin;
	e.len = n;
	if (d->dup_pm > 0 && sim_draw(w, 0, 999) < d->dup_pm) {
		struct sim_event twin = e;
		twin.at_us = at + sim_draw(w, 0, d->jitter_us + 1000);
		twin.data = sim_copy(p, n);
		sim_push(w, twin);
	}
	e.data = sim_copy(p, n);
	sim_push(w, e);
}

/* Bytes along a stream, cut into one to three segments (so the receiver
 * frames partial reads and pipelined requests as it does over TCP). */
static void sim_stream(struct sim_world *w, uint32_t conn, bool to_server, const uint8_t *p, size_t len)
{
	size_t off = 0;
	uint32_t pieces = (uint32_t)sim_draw(w, 1, 3);
	while (off < len) {
		size_t n = pieces <= 1 ? len - off : (size_t)sim_draw(w, 1, len - off);
		sim_segment(w, conn, to_server, p + off, n, false);
		off += n;
		if (pieces > 1)
			pieces--;
	}
}

void sim_client_send(struct sim_world *w, uint32_t conn, const uint8_t *p, size_t len)
{
	if (!w->conns[conn].open)
		return;
	sim_stream(w, conn, true, p, len);
}

/* Either side closes: the other side hears of it after the data in flight
 * (a FIN: the last segment of the direction). */
static void sim_close_towards(struct sim_world *w, uint32_t conn, bool to_server)
{
	sim_segment(w, conn, to_server, NULL, 0, true);
}

void sim_client_close(struct sim_world *w, uint32_t conn)
{
	struct sim_conn *c = &w->conns[conn];
	if (!c->open)
		return;
	c->open = false;
	sim_close_towards(w, conn, true);
}

/* A reset: both ends hear of it at once, and what was in flight is lost. */
static void sim_reset(struct sim_world *w, uint32_t conn)
{
	struct sim_conn *c = &w->conns[conn];
	if (!c->open)
		return;
	c->open = false;
	c->reset = true;
	w->res->resets++;
	sim_schedule(w, w->now_us + sim_draw(w, 20, 2000), SIM_EV_CLOSED_SERVER, c->server, conn, c->gen, NULL, 0);
	sim_schedule(w, w->now_us + sim_draw(w, 20, 2000), SIM_EV_RESET_CLIENT, c->client, conn, c->gen, NULL, 0);
}

void sim_record_ack(struct sim_world *w, uint32_t server, const char *path, pd_zxid zxid)
{
	struct sim_server *s = &w->servers[server];
	struct sim_acked *a;
	/* Durability before reply: what a client was told is written must be
	 * in the durable image already (in an ensemble: in a quorum's, which
	 * the final leader's state shows at the end). */
	if (!w->opt.ensemble && zxid > s->durable_zxid)
		sim_violation(w, 129, "server %u answered a write at zxid 0x%" PRIx64 " while its log is durable only up "
			      "to 0x%" PRIx64, server, (uint64_t)zxid, (uint64_t)s->durable_zxid);
	if (zxid > s->highest_acked)
		s->highest_acked = zxid;
	if (path == NULL)
		return;
	if (w->acked_count == w->acked_cap) {
		w->acked_cap = w->acked_cap == 0 ? 1024 : w->acked_cap * 2;
		w->acked = realloc(w->acked, w->acked_cap * sizeof(*w->acked));
		if (w->acked == NULL)
			abort();
	}
	a = &w->acked[w->acked_count++];
	a->server = server;
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->zxid = zxid;
}

size_t sim_history_add(struct sim_world *w, uint32_t server, uint32_t key, enum lin_kind kind, uint64_t value)
{
	struct sim_history *h = &w->hist[server][key];
	if (h->count == h->cap) {
		h->cap = h->cap == 0 ? 256 : h->cap * 2;
		h->ops = realloc(h->ops, h->cap * sizeof(*h->ops));
		if (h->ops == NULL)
			abort();
	}
	h->ops[h->count] = (struct lin_op){kind, w->now_us, LIN_NO_RETURN, value};
	return h->count++;
}

void sim_record_sequential(struct sim_world *w, uint32_t server, uint64_t number)
{
	if (w->seq_count == w->seq_cap) {
		w->seq_cap = w->seq_cap == 0 ? 1024 : w->seq_cap * 2;
		w->seq_names = realloc(w->seq_names, w->seq_cap * sizeof(uint64_t));
		if (w->seq_names == NULL)
			abort();
	}
	w->seq_names[w->seq_count++] = (uint64_t)server << 40 | number;
}

static int sim_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* No sequential number was acknowledged twice by one server. */
static void sim_check_sequential(struct sim_world *w)
{
	size_t i;
	if (w->seq_count > 1)
		qsort(w->seq_names, w->seq_count, sizeof(uint64_t), sim_cmp_u64);
	for (i = 1; i < w->seq_count; i++)
		if (w->seq_names[i] == w->seq_names[i - 1])
			sim_violation(w, 129, "server %u handed out the sequential number %llu twice",
				      (unsigned)(w->seq_names[i] >> 40),
				      (unsigned long long)(w->seq_names[i] & ((1ULL << 40) - 1)));
	w->res->sequential = w->seq_count;
}

/* No ephemeral znode outlives its session. */
static void sim_check_ephemerals(struct sim_world *w, uint32_t server)
{
	uint64_t orphans = pd_node_orphan_ephemerals(w->servers[server].node);
	if (orphans != 0)
		sim_violation(w, 129, "server %u has %llu ephemeral znodes whose session is gone", server,
			      (unsigned long long)orphans);
}

/* Every znode's history on every server must be linearizable. */
static void sim_check_histories(struct sim_world *w)
{
	uint32_t s, k;
	for (s = 0; s < w->opt.servers && !w->stop; s++) {
		for (k = 0; k < SIM_KEYS && !w->stop; k++) {
			struct sim_history *h = &w->hist[s][k];
			size_t i, n = 0;
			char why[400];
			bool gave_up;
			for (i = 0; i < h->count; i++) /* drop what did not happen */
				if (h->ops[i].kind != 0)
					h->ops[n++] = h->ops[i];
			w->res->history_ops += n;
			if (!lin_check(h->ops, n, 50000000, &gave_up, why, sizeof(why)))
				sim_violation(w, 129, "server %u: the history of /shared%u (%zu operations) is not "
					      "linearizable: %s", s, k, n, why);
			if (gave_up)
				w->res->lin_gave_up++;
		}
	}
}

/* --- servers --- */

static void sim_server_effects(struct sim_world *w, uint32_t server);

/* I1: at most one established leader per epoch, ever (a ghost record
 * outside the servers, kept across their crashes). */
static void sim_check_leader(struct sim_world *w, uint32_t server)
{
	struct pd_node_stats st;
	uint32_t *who;
	pd_node_get_stats(w->servers[server].node, &st);
	if (st.role != 2 || !st.established)
		return;
	who = &w->epoch_leader[st.epoch % (sizeof(w->epoch_leader) / sizeof(w->epoch_leader[0]))];
	if (*who == 0)
		*who = server + 1;
	else if (*who != server + 1)
		sim_violation(w, 129, "epoch %llu was established by two leaders: %u and %u", (unsigned long long)st.epoch,
			      *who, server + 1);
}

static void sim_server_step(struct sim_world *w, uint32_t server, struct pd_event *ev)
{
	struct sim_server *s = &w->servers[server];
	int rc;
	ev->now_ms = sim_server_now_ms(w, s);
	ev->wall_ms = SIM_WALL_BASE_MS + (int64_t)ev->now_ms + s->wall_offset_ms;
	sim_mix(w, ((uint64_t)ev->type << 32) ^ ev->conn ^ ((uint64_t)server << 56));
	if (ev->len > 0)
		sim_mix_bytes(w, ev->data, ev->len);
	rc = pd_step(s->node, ev, &s->fx);
	if (rc != 0)
		sim_violation(w, 127, "server %u: pd_step(event %d) returned %d (%s)", server, (int)ev->type, rc,
			      pd_strerror(rc));
	if (w->opt.ensemble) {
		sim_check_leader(w, server);
		if (w->opt.timeline) {
			struct pd_node_stats st;
			pd_node_get_stats(s->node, &st);
			if (st.role != s->noted_role || st.serving != s->noted_serving || st.epoch != s->noted_epoch) {
				static const char *const names[] = {"LOOKING", "FOLLOWING", "LEADING", "OBSERVING"};
				s->noted_role = st.role;
				s->noted_serving = st.serving;
				s->noted_epoch = st.epoch;
				sim_note(w, server + 1, "role", "%s leader %llu epoch %llu%s", names[st.role & 3],
					 (unsigned long long)st.leader, (unsigned long long)st.epoch,
					 st.serving ? " serving" : "");
			}
		}
	}
	sim_server_effects(w, server);
}

static void sim_start_sync(struct sim_world *w, struct sim_server *s, uint32_t server)
{
	if (s->syncing || s->pending.len == 0)
		return;
	s->syncing = true;
	s->sync_len = s->pending.len;
	s->sync_zxid = s->pending_zxid;
	sim_schedule(w, w->now_us + sim_draw(w, 50, w->opt.fsync_us_max), SIM_EV_FSYNC_DONE, server, 0, s->gen, NULL, 0);
}

/* Encodes the node as it is now; it becomes durable at SIM_EV_SNAP_DONE. */
static void sim_start_snapshot(struct sim_world *w, struct sim_server *s, uint32_t server)
{
	struct pd_snap_writer wr;
	struct pd_buf piece;
	int rc;
	memset(&piece, 0, sizeof(piece));
	s->snap_due = false;
	s->snap_pending.len = 0;
	pd_snap_writer_init(&wr, s->node);
	s->snap_pending_zxid = wr.zxid;
	do {
		piece.len = 0;
		rc = pd_snap_writer_next(&wr, &piece, 1u << 16);
		if (rc < 0) {
			sim_violation(w, 127, "server %u: snapshot encoding ran out of memory", server);
			break;
		}
		sim_bytes_add(&s->snap_pending, piece.data, piece.len);
	} while (rc == 1);
	pd_snap_writer_free(&wr);
	pd_buf_free(pd_node_io_mem(s->node), &piece);
	sim_mix_bytes(w, s->snap_pending.p, s->snap_pending.len);
	s->snap_writing = true;
	sim_schedule(w, w->now_us + sim_draw(w, 1000, 20000), SIM_EV_SNAP_DONE, server, 0, s->gen, NULL, 0);
}

/* The snapshot is durable: it becomes the newest; the log before the
 * older one kept is no longer needed. */
static void sim_snapshot_done(struct sim_world *w, struct sim_server *s)
{
	struct sim_bytes old = s->snap[1];
	size_t off = 0;
	pd_zxid upto;
	s->snap[1] = s->snap[0];
	s->snap_zxid[1] = s->snap_zxid[0];
	s->snap[0] = s->snap_pending;
	s->snap_zxid[0] = s->snap_pending_zxid;
	s->snap_pending = old;
	s->snap_pending.len = 0;
	s->snap_writing = false;
	w->res->snapshots++;
	if (s->snap[1].len == 0 && !(w->opt.bugs & SIM_BUG_TRIM_PAST_SNAPSHOT))
		return;
	upto = (w->opt.bugs & SIM_BUG_TRIM_PAST_SNAPSHOT) ? s->snap_zxid[0] + 20 : s->snap_zxid[1];
	for (;;) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used;
		if (pd_log_next(s->durable.p + off, s->durable.len - off, &txn, &txn_len, &used) != PD_LOG_RECORD ||
		    txn_len < 20 || (pd_zxid)pd_be64(txn + 12) > upto)
			break;
		off += used;
	}
	sim_bytes_cut(&s->durable, off);
}

/* Prefix agreement's ghost: one txn per zxid, whoever logs it; its slot,
 * or SIZE_MAX when no server ever logged zxid. */
static size_t sim_ghost_find(const struct sim_world *w, pd_zxid zxid)
{
	size_t at;
	if (w->ghost_cap == 0)
		return SIZE_MAX;
	at = (size_t)((uint64_t)zxid * 0x9e3779b97f4a7c15ULL) & (w->ghost_cap - 1);
	while (w->ghost_zxid[at] != 0 && w->ghost_zxid[at] != (uint64_t)zxid)
		at = (at + 1) & (w->ghost_cap - 1);
	return w->ghost_zxid[at] == 0 ? SIZE_MAX : at;
}

static void sim_ghost_txn(struct sim_world *w, uint32_t server, pd_zxid zxid, const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i, at;
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	if (w->ghost_count * 2 >= w->ghost_cap) {
		size_t cap = w->ghost_cap == 0 ? 4096 : w->ghost_cap * 2, k;
		uint64_t *z = calloc(cap, sizeof(uint64_t)), *hh = calloc(cap, sizeof(uint64_t));
		uint8_t *vv = calloc(cap, 1);
		if (z == NULL || hh == NULL || vv == NULL)
			abort();
		for (k = 0; k < w->ghost_cap; k++) {
			if (w->ghost_zxid[k] == 0)
				continue;
			at = (size_t)(w->ghost_zxid[k] * 0x9e3779b97f4a7c15ULL) & (cap - 1);
			while (z[at] != 0)
				at = (at + 1) & (cap - 1);
			z[at] = w->ghost_zxid[k];
			hh[at] = w->ghost_hash[k];
			vv[at] = w->ghost_voters[k];
		}
		free(w->ghost_zxid);
		free(w->ghost_hash);
		free(w->ghost_voters);
		w->ghost_zxid = z;
		w->ghost_hash = hh;
		w->ghost_voters = vv;
		w->ghost_cap = cap;
	}
	at = (size_t)((uint64_t)zxid * 0x9e3779b97f4a7c15ULL) & (w->ghost_cap - 1);
	while (w->ghost_zxid[at] != 0 && w->ghost_zxid[at] != (uint64_t)zxid)
		at = (at + 1) & (w->ghost_cap - 1);
	if (w->ghost_zxid[at] == 0) {
		w->ghost_zxid[at] = (uint64_t)zxid;
		w->ghost_hash[at] = h;
		w->ghost_count++;
		return;
	}
	if (w->ghost_hash[at] != h)
		sim_violation(w, 129, "server %u logged a txn at zxid 0x%" PRIx64 " that differs from the one another "
			      "server logged there (two histories)", server + 1, (uint64_t)zxid);
}

static uint32_t sim_voters(const struct sim_world *w)
{
	return w->opt.servers - (w->opt.observers < w->opt.servers ? w->opt.observers : 0);
}

static bool sim_ghost_committed(const struct sim_world *w, size_t at)
{
	return at != SIZE_MAX && 2 * (uint32_t)__builtin_popcount(w->ghost_voters[at]) > sim_voters(w);
}

/* A voter made these log records durable (the bytes of a synced batch):
 * once a quorum of voters has, the txn is committed, for good. */
static void sim_ghost_durable(struct sim_world *w, uint32_t server, const uint8_t *p, size_t len)
{
	size_t off = 0;
	if (!w->opt.ensemble || server >= sim_voters(w))
		return;
	while (off < len) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used, at;
		if (pd_log_next(p + off, len - off, &txn, &txn_len, &used) != PD_LOG_RECORD)
			break;
		if (txn_len >= 20 && (at = sim_ghost_find(w, (pd_zxid)pd_be64(txn + 12))) != SIZE_MAX)
			w->ghost_voters[at] |= (uint8_t)(1u << server);
		off += used;
	}
}

/* I17's ghost: a session id's entry (made when missing), or NULL out of memory. */
static struct sim_session_ghost *sim_session_ghost(struct sim_world *w, int64_t id)
{
	size_t at;
	if (w->sessions_ghost_count * 2 >= w->sessions_ghost_cap) {
		size_t cap = w->sessions_ghost_cap == 0 ? 256 : w->sessions_ghost_cap * 2, k;
		struct sim_session_ghost *fresh = calloc(cap, sizeof(*fresh));
		if (fresh == NULL)
			abort();
		for (k = 0; k < w->sessions_ghost_cap; k++) {
			if (w->sessions_ghost[k].id == 0)
				continue;
			at = (size_t)((uint64_t)w->sessions_ghost[k].id * 0x9e3779b97f4a7c15ULL) & (cap - 1);
			while (fresh[at].id != 0)
				at = (at + 1) & (cap - 1);
			fresh[at] = w->sessions_ghost[k];
		}
		free(w->sessions_ghost);
		w->sessions_ghost = fresh;
		w->sessions_ghost_cap = cap;
	}
	at = (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ULL) & (w->sessions_ghost_cap - 1);
	while (w->sessions_ghost[at].id != 0 && w->sessions_ghost[at].id != id)
		at = (at + 1) & (w->sessions_ghost_cap - 1);
	if (w->sessions_ghost[at].id == 0) {
		w->sessions_ghost[at].id = id;
		w->sessions_ghost_count++;
	}
	return &w->sessions_ghost[at];
}

/* I17: session ids are unique forever, and a closed (or expired) session
 * never becomes valid again; I13: nothing is created for a session after
 * its close. */
static void sim_check_session_op(struct sim_world *w, uint32_t server, const struct pd_applied *a)
{
	struct sim_session_ghost *g;
	/* only what is committed counts (a replay or a catch-up can apply a
	 * txn that a later leader cuts) */
	if (w->opt.ensemble && !sim_ghost_committed(w, sim_ghost_find(w, a->zxid)))
		return;
	if (a->session == 0 && a->path == NULL)
		return; /* (no session: 0 marks an empty slot of the ghost) */
	if (a->op == PD_OP_CREATESESSION && a->err == 0) {
		g = sim_session_ghost(w, a->session);
		if (g->created != 0 && g->created != a->zxid)
			sim_violation(w, 129, "server %u created session 0x%" PRIx64 " at zxid 0x%" PRIx64 ", an id "
				      "already created at 0x%" PRIx64, server + 1, (uint64_t)a->session, (uint64_t)a->zxid,
				      (uint64_t)g->created);
		else if (g->closed != 0 && a->zxid > g->closed)
			sim_violation(w, 129, "server %u: session 0x%" PRIx64 ", closed at zxid 0x%" PRIx64
				      ", became valid again at 0x%" PRIx64, server + 1, (uint64_t)a->session,
				      (uint64_t)g->closed, (uint64_t)a->zxid);
		g->created = a->zxid;
	} else if (a->op == PD_OP_CLOSESESSION) {
		g = sim_session_ghost(w, a->session);
		if (g->closed == 0 || a->zxid < g->closed)
			g->closed = a->zxid;
	} else if (a->err == 0 && a->exists && !a->existed && a->after.ephemeral_owner != 0) {
		g = sim_session_ghost(w, a->after.ephemeral_owner);
		if (g->closed != 0 && a->zxid > g->closed)
			sim_violation(w, 129, "server %u created the ephemeral %.*s for session 0x%" PRIx64 " at zxid 0x%"
				      PRIx64 ", after the session (created at 0x%" PRIx64 ") closed at 0x%" PRIx64, server + 1,
				      (int)a->path_len, a->path, (uint64_t)a->after.ephemeral_owner, (uint64_t)a->zxid,
				      (uint64_t)g->created, (uint64_t)g->closed);
	}
}

/* I15: a znode incarnation's version, cversion, aversion, mzxid and pzxid
 * never go back, and mzxid >= czxid; a new one is created at the txn's
 * zxid. */
static void sim_check_stat(struct sim_world *w, uint32_t server, const struct pd_applied *a, const char *what,
			   bool existed, const struct pd_stat *b, bool exists, const struct pd_stat *n)
{
	if (!exists)
		return;
	if (n->mzxid < n->czxid || (!existed && a->path == NULL))
		sim_violation(w, 129, "server %u: %s of %.*s has mzxid 0x%" PRIx64 " below its czxid 0x%" PRIx64,
			      server + 1, what, (int)a->path_len, a->path, (uint64_t)n->mzxid, (uint64_t)n->czxid);
	else if (existed && b->czxid == n->czxid &&
		 (n->version < b->version || n->cversion < b->cversion || n->aversion < b->aversion ||
		  n->mzxid < b->mzxid || n->pzxid < b->pzxid))
		sim_violation(w, 129, "server %u: at zxid 0x%" PRIx64 " the stat of %s %.*s went back (version %d->%d, "
			      "cversion %d->%d, aversion %d->%d, mzxid 0x%" PRIx64 "->0x%" PRIx64 ", pzxid 0x%" PRIx64
			      "->0x%" PRIx64 ")", server + 1, (uint64_t)a->zxid, what, (int)a->path_len, a->path,
			      b->version, n->version, b->cversion, n->cversion, b->aversion, n->aversion,
			      (uint64_t)b->mzxid, (uint64_t)n->mzxid, (uint64_t)b->pzxid, (uint64_t)n->pzxid);
}

/* I7: a txn applied (not replayed from the server's own log) is one the
 * server logged, and a quorum of voters made it durable (committed); I8:
 * applies follow the leaders' order: no gap inside an epoch, and no
 * committed txn passed over. */
static void sim_check_order(struct sim_world *w, uint32_t server, const struct pd_applied *a)
{
	struct sim_server *s = &w->servers[server];
	pd_zxid prev = s->applied_zxid;
	size_t k;
	if (a->zxid == prev)
		return; /* another op of the same multi */
	s->applied_zxid = a->zxid;
	if (!w->opt.ensemble || a->replay || a->catch_up || !a->serving)
		return; /* (a learner's sync applies before its leader has a quorum: checked as it serves) */
	for (k = 0; k < s->fx.count && a->zxid > s->appended_zxid; k++)
		if (s->fx.items[k].type == PD_FX_LOG_APPEND && s->fx.items[k].zxid == a->zxid)
			s->appended_zxid = a->zxid; /* logged in the step that applies it (effects follow the step) */
	if (a->zxid > s->appended_zxid) {
		sim_violation(w, 129, "server %u applied zxid 0x%" PRIx64 " beyond its log (0x%" PRIx64 ")", server + 1,
			      (uint64_t)a->zxid, (uint64_t)s->appended_zxid);
		return;
	}
	k = sim_ghost_find(w, a->zxid);
	if (!sim_ghost_committed(w, k)) {
		sim_violation(w, 129, "server %u applied zxid 0x%" PRIx64 ", which no quorum of the %u voters has made "
			      "durable (only the voters 0x%x)", server + 1, (uint64_t)a->zxid, sim_voters(w),
			      k == SIZE_MAX ? 0u : (unsigned)w->ghost_voters[k]);
		return;
	}
	if (prev != 0 && PD_ZXID_EPOCH(prev) == PD_ZXID_EPOCH(a->zxid)) {
		if (a->zxid != prev + 1)
			sim_violation(w, 129, "server %u applied zxid 0x%" PRIx64 " after 0x%" PRIx64 ": a gap in one "
				      "leader's order", server + 1, (uint64_t)a->zxid, (uint64_t)prev);
		return;
	}
	for (k = 0; k < w->ghost_cap; k++)
		if ((pd_zxid)w->ghost_zxid[k] > prev && (pd_zxid)w->ghost_zxid[k] < a->zxid && sim_ghost_committed(w, k)) {
			sim_violation(w, 129, "server %u applied zxid 0x%" PRIx64 " after 0x%" PRIx64 ", passing over the "
				      "committed 0x%" PRIx64, server + 1, (uint64_t)a->zxid, (uint64_t)prev,
				      (uint64_t)w->ghost_zxid[k]);
			return;
		}
}

/* The core applied an op (core/observe.h): the checks of each apply. */
static void sim_on_apply(void *ctx, const struct pd_applied *a)
{
	const struct sim_observed *o = ctx;
	struct sim_world *w = o->w;
	if (w->stop)
		return;
	w->res->applies_checked++;
	sim_check_order(w, o->server, a);
	sim_check_session_op(w, o->server, a);
	if (a->err == 0 && a->path != NULL) {
		sim_check_stat(w, o->server, a, "the znode", a->existed, &a->before, a->exists, &a->after);
		sim_check_stat(w, o->server, a, "the parent of", a->parent_existed, &a->parent_before, a->parent_exists,
			       &a->parent_after);
		if (a->exists && !a->existed && (a->after.czxid != a->zxid || a->after.mzxid != a->zxid))
			sim_violation(w, 129, "server %u created %.*s at zxid 0x%" PRIx64 " with czxid 0x%" PRIx64
				      " and mzxid 0x%" PRIx64, o->server + 1, (int)a->path_len, a->path, (uint64_t)a->zxid,
				      (uint64_t)a->after.czxid, (uint64_t)a->after.mzxid);
		else if (a->op == PD_OP_SETDATA && a->existed && a->exists &&
			 (a->after.version != a->before.version + 1 || a->after.mzxid != a->zxid))
			sim_violation(w, 129, "server %u set the data of %.*s at zxid 0x%" PRIx64 ": version %d->%d, "
				      "mzxid 0x%" PRIx64 "->0x%" PRIx64, o->server + 1, (int)a->path_len, a->path,
				      (uint64_t)a->zxid, a->before.version, a->after.version, (uint64_t)a->before.mzxid,
				      (uint64_t)a->after.mzxid);
	}
}

static void sim_server_reload(struct sim_world *w, uint32_t server);

/* Every server but one is up and serving (synced with a leader): losing
 * that one's disk is within what an ensemble tolerates.  (A wipe while
 * another member has never been synced would leave the data on fewer
 * disks than a quorum needs: nothing could be elected, safely.) */
static bool sim_others_serving(struct sim_world *w, uint32_t server)
{
	uint32_t i;
	for (i = 0; i < w->opt.servers; i++) {
		struct pd_node_stats st;
		if (i == server)
			continue;
		if (!w->servers[i].up)
			return false;
		pd_node_get_stats(w->servers[i].node, &st);
		if (!st.serving)
			return false;
	}
	return true;
}

/* I2: a promise is durable before it is made.  A leader sends LEADERINFO
 * for epoch e, and a learner answers it with ACKEPOCH, only once its own
 * acceptedEpoch e is durable (one quorum packet per send effect). */
static void sim_check_promise(struct sim_world *w, uint32_t server, struct sim_conn *c, const uint8_t *p, size_t n)
{
	struct pd_qp qp;
	uint64_t epoch;
	if (p == NULL || pd_qp_decode(p, n, UINT32_MAX, &qp) <= 0)
		return;
	if (qp.type == PD_QP_LEADERINFO)
		epoch = c->leaderinfo_epoch = PD_ZXID_EPOCH(qp.zxid);
	else if (qp.type == PD_QP_ACKEPOCH)
		epoch = c->leaderinfo_epoch;
	else
		return;
	if (w->servers[server].epochs[PD_EPOCH_ACCEPTED] < epoch)
		sim_violation(w, 129, "server %u sent %s for epoch %llu with only acceptedEpoch %llu durable", server + 1,
			      qp.type == PD_QP_LEADERINFO ? "LEADERINFO" : "ACKEPOCH", (unsigned long long)epoch,
			      (unsigned long long)w->servers[server].epochs[PD_EPOCH_ACCEPTED]);
}

static void sim_server_effects(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	uint32_t i;
	for (i = 0; i < s->fx.count; i++) {
		const struct pd_effect *e = &s->fx.items[i];
		const uint8_t *bytes = e->len > 0 ? pd_effect_bytes(&s->fx, e) : NULL;
		uint32_t conn = e->conn < s->conn_of_core_cap ? s->conn_of_core[e->conn] : 0;
		sim_mix(w, ((uint64_t)e->type << 40) ^ e->conn ^ e->len);
		if (bytes != NULL)
			sim_mix_bytes(w, bytes, e->len);
		switch (e->type) {
		case PD_FX_SEND:
			if (conn != 0 && w->conns[conn - 1].peer && w->conns[conn - 1].plane == PD_PLANE_QUORUM)
				sim_check_promise(w, server, &w->conns[conn - 1], bytes, e->len);
			/* toward the other end: the server dialed, or whoever dialed it */
			if (conn != 0 && w->conns[conn - 1].open)
				sim_stream(w, conn - 1, w->conns[conn - 1].peer && w->conns[conn - 1].dialer == server, bytes,
					   e->len);
			break;
		case PD_FX_CLOSE:
			if (conn != 0) {
				s->conn_of_core[e->conn] = 0;
				if (w->conns[conn - 1].open) {
					w->conns[conn - 1].open = false;
					sim_close_towards(w, conn - 1,
							  w->conns[conn - 1].peer && w->conns[conn - 1].dialer == server);
				}
			}
			break;
		case PD_FX_EPOCH_WRITE: {
			/* I2: epochs never go back, and currentEpoch <= acceptedEpoch */
			uint64_t at = w->now_us + sim_draw(w, 50, w->opt.fsync_us_max);
			struct sim_event d;
			if (e->which > PD_EPOCH_CURRENT || e->value < s->epoch_ghost[e->which] ||
			    (e->which == PD_EPOCH_CURRENT && e->value > s->epochs[PD_EPOCH_ACCEPTED])) {
				sim_violation(w, 129, "server %u wrote %s epoch %llu (accepted %llu, current %llu)", server + 1,
					      e->which == PD_EPOCH_CURRENT ? "current" : "accepted",
					      (unsigned long long)e->value, (unsigned long long)s->epoch_ghost[0],
					      (unsigned long long)s->epoch_ghost[1]);
				break;
			}
			if (at < s->epoch_write_at)
				at = s->epoch_write_at; /* one file after the other, in order */
			s->epoch_write_at = at;
			memset(&d, 0, sizeof(d));
			d.at_us = at;
			d.type = SIM_EV_EPOCH_DONE;
			d.a = server;
			d.b = (uint32_t)e->which;
			d.gen = s->gen;
			d.piece = (uint32_t)e->value;
			sim_push(w, d);
			break;
		}
		case PD_FX_CONNECT:
			/* the dial takes a round trip; it cannot run inside this step */
			if (e->peer >= 1 && e->peer <= w->opt.servers) {
				const struct sim_link *l = &w->peer_links[server][e->peer - 1];
				struct sim_event d;
				memset(&d, 0, sizeof(d));
				d.at_us = w->now_us + sim_latency(w, &l->up) + sim_latency(w, &l->down);
				d.type = SIM_EV_PEER_DIAL;
				d.a = server;
				d.b = (uint32_t)(e->peer - 1);
				d.gen = s->gen;
				d.piece = (uint32_t)e->plane;
				sim_push(w, d);
			}
			break;
		case PD_FX_FOURLW:
			sim_violation(w, 129, "server %u: a four-letter word from a simulated client", server);
			break;
		case PD_FX_TIMER:
			s->timer_gen++;
			sim_schedule(w, sim_server_deadline_us(w, s, e->at_ms), SIM_EV_TIMER, server, 0,
				     s->gen << 20 ^ s->timer_gen, NULL, 0);
			break;
		case PD_FX_RELOAD:
			s->reload_due = true;
			s->reload_zxid = e->zxid;
			s->reload_leader = e->peer;
			s->reload_snap.len = 0;
			if (e->len > 0)
				sim_bytes_add(&s->reload_snap, bytes, e->len);
			break;
		case PD_FX_LOG_APPEND:
			if (w->opt.ensemble && e->len > PD_LOG_RECORD_HEADER_BYTES)
				sim_ghost_txn(w, server, e->zxid, bytes + PD_LOG_RECORD_HEADER_BYTES,
					      e->len - PD_LOG_RECORD_HEADER_BYTES);
			if (s->log_failed) {
				sim_violation(w, 129, "server %u appended zxid 0x%" PRIx64 " to a log it was told had "
					      "failed", server, (uint64_t)e->zxid);
				break;
			}
			sim_bytes_add(&s->pending, bytes, e->len);
			s->pending_zxid = e->zxid;
			if (e->zxid > s->appended_zxid)
				s->appended_zxid = e->zxid;
			if (w->opt.bugs & SIM_BUG_ACK_BEFORE_SYNC)
				sim_schedule(w, w->now_us, SIM_EV_EARLY_DURABLE, server, 0, s->gen, NULL, 0);
			break;
		case PD_FX_SNAPSHOT:
			s->snap_due = true; /* taken once the step's effects are done */
			break;
		}
	}
	pd_effects_reset(&s->fx);
	if (s->reload_due) {
		sim_server_reload(w, server);
		return;
	}
	sim_start_sync(w, s, server);
	if (s->snap_due && !s->snap_writing)
		sim_start_snapshot(w, s, server);
}

static void sim_server_sync_done(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	if (w->now_us < s->disk_full_until_us) {
		/* the write or its sync failed: as net/disk.c does, the log is
		 * cut back to its durable end, every record not synced dropped,
		 * and the core told so; a probe every second finds out when the
		 * disk takes writes again */
		if (w->opt.bugs & SIM_BUG_KEEP_FAILED_WRITES)
			sim_bytes_add(&s->durable, s->pending.p, s->pending.len); /* planted: kept after all */
		s->pending.len = 0;
		s->syncing = false;
		s->log_failed = true;
		w->res->log_failures++;
		ev.type = PD_EV_LOG_FAILED;
		if (!(w->opt.bugs & SIM_BUG_HIDE_LOG_FAILURE)) /* planted: the core never hears */
			sim_server_step(w, server, &ev);
		sim_schedule(w, w->now_us + 1000000, SIM_EV_DISK_PROBE, server, 0, s->gen, NULL, 0);
		return;
	}
	sim_bytes_add(&s->durable, s->pending.p, s->sync_len);
	sim_ghost_durable(w, server, s->pending.p, s->sync_len);
	s->last_sync_len = s->sync_len;
	sim_bytes_cut(&s->pending, s->sync_len);
	s->durable_zxid = s->sync_zxid;
	s->syncing = false;
	ev.type = PD_EV_LOG_DURABLE;
	ev.zxid = s->sync_zxid;
	sim_server_step(w, server, &ev);
}

static void sim_check_acked(struct sim_world *w, uint32_t server, const struct sim_acked *a)
{
	struct pd_stat st;
	struct sim_server *s = &w->servers[server];
	if (a->server == server && pd_node_stat(s->node, a->path, strlen(a->path), &st) != 0)
		sim_violation(w, 129, "server %u lost the acknowledged create of %s (zxid 0x%" PRIx64 ")", server, a->path,
			      (uint64_t)a->zxid);
}

/* Builds a server's node from its durable log image (cutting a torn tail). */
static void sim_server_boot(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	struct pd_config cfg;
	char text[1024], errmsg[256];
	size_t off = 0;
	int n;
	struct pd_allocator al = {sim_alloc, sim_free, NULL};
	n = snprintf(text, sizeof(text), "tickTime=%u\ninitLimit=10\nsyncLimit=5\ndataDir=/sim/%u\nsnapCount=%u\n",
		     w->opt.tick_ms, server, w->opt.snap_count);
	if (w->opt.ensemble) {
		uint32_t k;
		for (k = 0; k < w->opt.servers && n < (int)sizeof(text) - 64; k++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "server.%u=10.0.255.%u:2888:3888%s\n", k + 1, k + 1,
				      k + w->opt.observers >= w->opt.servers ? ":observer" : "");
	}
	if (pd_config_parse(&cfg, text, (size_t)n, errmsg, sizeof(errmsg)) != 0) {
		sim_violation(w, 127, "config: %s", errmsg);
		return;
	}
	if (w->opt.ensemble)
		cfg.my_id = server + 1;
	cfg.ensemble_preview = w->opt.ensemble;
	if (pd_config_finish(&cfg, errmsg, sizeof(errmsg)) != 0) {
		sim_violation(w, 127, "config: %s", errmsg);
		return;
	}
	cfg.prng_seed = pd_prng_next(&w->prng) | 1;
	if (w->opt.buggify)
		cfg.buggify_seed = pd_prng_next(&w->prng) | 1;
	s->gen++;
	s->next_core_id = 1;
	/* the wall clock as the process starts (session ids are drawn from it:
	 * the same clock at every start would hand out the same ids again) */
	if (pd_node_create(&cfg, al, sim_server_now_ms(w, s),
			   SIM_WALL_BASE_MS + ((w->opt.bugs & SIM_BUG_SAME_START_CLOCK)
						       ? 0
						       : (int64_t)sim_server_now_ms(w, s) + s->wall_offset_ms),
			   &s->node, errmsg, sizeof(errmsg)) != 0) {
		sim_violation(w, 127, "server %u: %s", server, errmsg);
		return;
	}
	w->observed[server].w = w;
	w->observed[server].server = server;
	pd_node_observe_applies(s->node, sim_on_apply, &w->observed[server]);
	s->applied_zxid = 0;
	/* the newest snapshot that loads (each is whole: written before it
	 * became durable), then the log after it */
	{
		int k;
		for (k = 0; k < 2 && s->snap[k].len > 0; k++) {
			if (pd_snap_load(s->node, s->snap[k].p, s->snap[k].len, sim_server_now_ms(w, s), errmsg,
					 sizeof(errmsg)) == 0) {
				w->res->snapshot_boots++;
				break;
			}
			sim_violation(w, 129, "server %u: its snapshot 0x%" PRIx64 " does not load: %s", server,
				      (uint64_t)s->snap_zxid[k], errmsg);
			return;
		}
	}
	for (;;) {
		const uint8_t *txn;
		uint32_t txn_len;
		size_t used;
		enum pd_log_status st = pd_log_next(s->durable.p + off, s->durable.len - off, &txn, &txn_len, &used);
		if (st != PD_LOG_RECORD) {
			/* a torn or zero tail (what a crash left) is cut, as net/disk.c does */
			s->durable.len = off;
			break;
		}
		if (txn_len >= 20 && (pd_zxid)pd_be64(txn + 12) > pd_node_last_zxid(s->node) + 1 &&
		    !(w->opt.ensemble && PD_ZXID_COUNTER(pd_be64(txn + 12)) == 1 &&
		      PD_ZXID_EPOCH(pd_be64(txn + 12)) > PD_ZXID_EPOCH(pd_node_last_zxid(s->node)))) {
			/* (an ensemble's history moves to a new epoch at counter 1) */
			/* net/disk.c refuses to start here; in the world it is lost data */
			sim_violation(w, 129, "server %u: its log jumps from zxid 0x%" PRIx64 " to 0x%" PRIx64
				      " after its snapshot", server, (uint64_t)pd_node_last_zxid(s->node),
				      (uint64_t)pd_be64(txn + 12));
			return;
		}
		if (pd_node_replay(s->node, txn, txn_len, sim_server_now_ms(w, s), SIM_WALL_BASE_MS) != 0) {
			sim_violation(w, 129, "server %u: log record at %zu does not replay", server, off);
			return;
		}
		off += used;
	}
	s->durable_zxid = pd_node_last_zxid(s->node);
	s->applied_zxid = s->appended_zxid = s->durable_zxid;
	s->up = true;
	/* the acknowledged writes are back: every one acknowledged since the
	 * previous restart, and 256 drawn from the older ones (all of them are
	 * checked at the end of the run) */
	if (!w->opt.ensemble) {
		size_t i;
		for (i = s->acked_checked; i < w->acked_count; i++)
			sim_check_acked(w, server, &w->acked[i]);
		for (i = 0; i < 256 && s->acked_checked > 0; i++)
			sim_check_acked(w, server, &w->acked[sim_draw(w, 0, s->acked_checked - 1)]);
		s->acked_checked = w->acked_count;
		sim_check_ephemerals(w, server);
		if (s->durable_zxid < s->highest_acked)
			sim_violation(w, 129, "server %u came back at zxid 0x%" PRIx64 " below an acknowledged 0x%" PRIx64,
				      server, (uint64_t)s->durable_zxid, (uint64_t)s->highest_acked);
	}
	if (w->opt.bugs & (SIM_BUG_LOSE_EPOCHS | SIM_BUG_LOSE_EPOCHS_QUIETLY))
		s->epochs[PD_EPOCH_ACCEPTED] = s->epochs[PD_EPOCH_CURRENT] = 0; /* planted */
	if (w->opt.bugs & SIM_BUG_LOSE_EPOCHS_QUIETLY)
		s->epoch_ghost[PD_EPOCH_ACCEPTED] = s->epoch_ghost[PD_EPOCH_CURRENT] = 0; /* only I1 can see it now */
	pd_node_set_epochs(s->node, s->epochs[PD_EPOCH_ACCEPTED], s->epochs[PD_EPOCH_CURRENT]);
	if (w->opt.ensemble && s->durable.len == 0 && s->snap[0].len == 0 && s->epochs[PD_EPOCH_ACCEPTED] == 0 &&
	    !(s->wiped && (w->opt.bugs & SIM_BUG_TRUST_WIPED)))
		pd_node_set_empty(s->node); /* a fresh disk, or a wiped one (planted: trusted) */
	if (s->reload_leader != 0) {
		pd_node_follow(s->node, s->reload_leader);
		s->reload_leader = 0;
	}
	{
		struct pd_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_TICK;
		sim_server_step(w, server, &ev);
	}
}

/* Figures a node keeps, gathered before it goes. */
static void sim_collect(struct sim_world *w, struct sim_server *s)
{
	struct pd_node_stats st;
	w->res->marks_hit |= pd_node_marks_hit(s->node);
	pd_node_get_stats(s->node, &st);
	w->res->buggify_fired += st.buggify_fired;
	w->res->elections += st.elections;
}

/* The process is gone: its node, and every connection it had. */
static void sim_server_down(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	size_t i;
	s->pending.len = 0;
	s->syncing = false;
	s->log_failed = false;
	s->snap_writing = false; /* the snapshot being written is lost */
	s->snap_due = false;
	s->up = false;
	sim_collect(w, s);
	pd_effects_free(s->node, &s->fx);
	pd_node_destroy(s->node);
	s->node = NULL;
	memset(s->conn_of_core, 0, s->conn_of_core_cap * sizeof(uint32_t));
	for (i = 0; i < w->conn_count; i++) {
		struct sim_conn *c = &w->conns[i];
		if (c->open && (c->server == server || (c->peer && c->dialer == server))) {
			c->open = false;
			sim_close_towards(w, (uint32_t)i, c->peer && c->dialer == server);
		}
	}
}

/* how: 0 the unsynced writes survive, 1 they are lost, 2 torn at a drawn
 * byte; -1 draws one of the three. */
static void sim_server_crash_how(struct sim_world *w, uint32_t server, int how)
{
	struct sim_server *s = &w->servers[server];
	if (!s->up)
		return;
	w->res->crashes++;
	sim_note(w, server + 1, how == 2 ? "torn_write" : "crash", "%s",
		 how == 2 ? "the process dies writing: the unsynced tail is torn" : "the process dies");
	if ((w->opt.bugs & SIM_BUG_LOSE_SYNCED) && s->last_sync_len <= s->durable.len)
		s->durable.len -= s->last_sync_len; /* planted: synced data lost */
	/* what was not synced: kept, dropped, or torn */
	if (how < 0)
		how = (int)sim_draw(w, 0, 2);
	if (how == 0)
		sim_bytes_add(&s->durable, s->pending.p, s->pending.len);
	else if (how == 2 && s->pending.len > 0)
		sim_bytes_add(&s->durable, s->pending.p, (size_t)sim_draw(w, 0, s->pending.len));
	sim_server_down(w, server);
	s->reload_leader = 0;
	if (!w->opt.scripted) /* a scenario restarts it itself */
		sim_schedule(w, w->now_us + sim_draw(w, 50000, 500000), SIM_EV_RESTART, server, 0, 0, NULL, 0);
}

static void sim_server_crash(struct sim_world *w, uint32_t server)
{
	sim_server_crash_how(w, server, -1);
}

/* The disk is replaced by an empty one (epoch files included). */
static void sim_server_wipe(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	s->durable.len = 0;
	s->snap[0].len = s->snap[1].len = 0;
	s->snap_zxid[0] = s->snap_zxid[1] = 0;
	s->epochs[PD_EPOCH_ACCEPTED] = s->epochs[PD_EPOCH_CURRENT] = 0;
	s->epoch_ghost[PD_EPOCH_ACCEPTED] = s->epoch_ghost[PD_EPOCH_CURRENT] = 0;
	s->wiped = true;
	w->res->wipes++;
	sim_note(w, server + 1, "wipe", "its disk is replaced by an empty one");
}

/* A learner told to drop its state (PD_FX_RELOAD): what it wrote is kept
 * (a reload is no crash), the snapshot it got becomes the newest, or the
 * log loses what follows the truncation point; then it starts again from
 * its disk at once, as ZooKeeper's learner reloads its database. */
static void sim_server_reload(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	s->reload_due = false;
	s->reloads++;
	w->res->reloads++;
	sim_note(w, server + 1, "reload", "%s to 0x%" PRIx64, s->reload_snap.len > 0 ? "snapshot" : "truncate",
		 (uint64_t)s->reload_zxid);
	sim_bytes_add(&s->durable, s->pending.p, s->pending.len);
	sim_ghost_durable(w, server, s->pending.p, s->pending.len);
	s->pending.len = 0;
	if (s->reload_snap.len > 0) {
		/* (a snapshot holds its leader's history, not every txn below its
		 * zxid: the ghost counts it for none) */
		struct sim_bytes old = s->snap[1];
		s->snap[1] = s->snap[0];
		s->snap_zxid[1] = s->snap_zxid[0];
		s->snap[0] = s->reload_snap;
		s->snap_zxid[0] = s->reload_zxid;
		s->reload_snap = old;
		s->reload_snap.len = 0;
	} else {
		size_t off = 0;
		int k;
		for (;;) {
			const uint8_t *txn;
			uint32_t txn_len;
			size_t used;
			if (pd_log_next(s->durable.p + off, s->durable.len - off, &txn, &txn_len, &used) != PD_LOG_RECORD ||
			    txn_len < 20 || (pd_zxid)pd_be64(txn + 12) > s->reload_zxid)
				break;
			off += used;
		}
		s->durable.len = off;
		for (k = 1; k >= 0; k--) {
			if (s->snap[k].len > 0 && s->snap_zxid[k] > s->reload_zxid) {
				s->snap[k].len = 0;
				if (k == 0) {
					struct sim_bytes t = s->snap[0];
					s->snap[0] = s->snap[1];
					s->snap_zxid[0] = s->snap_zxid[1];
					s->snap[1] = t;
					s->snap_zxid[1] = 0;
				}
			}
		}
	}
	sim_server_down(w, server);
	sim_server_boot(w, server); /* it goes back to s->reload_leader */
}

/* --- the run --- */

/* The server's end of a stream is closed (a FIN in order, or a reset). */
static void sim_deliver_close_server(struct sim_world *w, uint32_t conn)
{
	struct sim_conn *c = &w->conns[conn];
	struct sim_server *s = &w->servers[c->server];
	struct pd_event ev;
	if (!s->up || c->server_gen != s->gen || s->conn_of_core[c->core_id] != conn + 1)
		return;
	s->conn_of_core[c->core_id] = 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_CLOSED;
	ev.conn = c->core_id;
	sim_server_step(w, c->server, &ev);
}

/* --- the nemesis: the fault schedule of a run --- */

#define SIM_ALL_CLIENTS UINT32_MAX
#define SIM_HEAL_UP 0x1u      /* unblock client -> server */
#define SIM_HEAL_DOWN 0x2u    /* unblock server -> client */
#define SIM_HEAL_LOSS 0x4u    /* end a lossy spell */
#define SIM_PEER_PAIR 0x100u  /* the heal of a cut between two servers: a and b are servers */

/* Applies (sign +1) or lifts (-1) a partition of the client's link. */
static void sim_block(struct sim_world *w, uint32_t client, uint32_t server, uint64_t how, int sign)
{
	uint32_t lo = client == SIM_ALL_CLIENTS ? 0 : client, hi = client == SIM_ALL_CLIENTS ? w->opt.clients : client + 1;
	uint32_t k;
	for (k = lo; k < hi; k++) {
		struct sim_link *l = sim_link_of(w, k, server);
		if (how & SIM_HEAL_UP)
			l->up.blocked = sign > 0 ? l->up.blocked + 1 : l->up.blocked - (l->up.blocked > 0);
		if (how & SIM_HEAL_DOWN)
			l->down.blocked = sign > 0 ? l->down.blocked + 1 : l->down.blocked - (l->down.blocked > 0);
		if (how & SIM_HEAL_LOSS) {
			uint16_t pm = sign > 0 ? (uint16_t)sim_draw(w, 100, 400) : 0;
			l->up.burst_pm = pm;
			l->down.burst_pm = pm;
		}
	}
}

static void sim_peer_block(struct sim_world *w, uint32_t a, uint32_t b, uint64_t how, int sign);

static void sim_heal(struct sim_world *w, uint32_t client, uint32_t server, uint64_t how)
{
	if ((w->opt.bugs & SIM_BUG_NO_HEAL) && (how & (SIM_HEAL_UP | SIM_HEAL_DOWN)))
		return; /* planted: the partition stays */
	if (how & SIM_PEER_PAIR)
		sim_peer_block(w, client, server, how, -1);
	else
		sim_block(w, client, server, how, -1);
}

/* Applies (+1) or lifts (-1) a cut between two servers, in the ways asked
 * (SIM_HEAL_UP: a -> b, SIM_HEAL_DOWN: b -> a), over both dialing directions. */
static void sim_peer_block(struct sim_world *w, uint32_t a, uint32_t b, uint64_t how, int sign)
{
	struct sim_dir *ab[2] = {&w->peer_links[a][b].up, &w->peer_links[b][a].down};
	struct sim_dir *ba[2] = {&w->peer_links[a][b].down, &w->peer_links[b][a].up};
	int k;
	for (k = 0; k < 2; k++) {
		if (how & SIM_HEAL_UP)
			ab[k]->blocked = sign > 0 ? ab[k]->blocked + 1 : ab[k]->blocked - (ab[k]->blocked > 0);
		if (how & SIM_HEAL_DOWN)
			ba[k]->blocked = sign > 0 ? ba[k]->blocked + 1 : ba[k]->blocked - (ba[k]->blocked > 0);
	}
}

/* Between servers: cut a pair (both ways or one way) or cut one server
 * off from every other (a leader's isolation, when it is the leader). */
static void sim_nemesis_peers(struct sim_world *w)
{
	uint32_t a = (uint32_t)sim_draw(w, 0, w->opt.servers - 1), b = (uint32_t)sim_draw(w, 0, w->opt.servers - 1), k;
	uint64_t move = sim_draw(w, 0, 3), how;
	uint64_t until = w->now_us + sim_draw(w, 100000, 15000000);
	if (move == 3) {
		for (k = 0; k < w->opt.servers; k++)
			if (k != a) {
				sim_peer_block(w, a, k, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
				sim_schedule(w, until, SIM_EV_HEAL, a, k, SIM_PEER_PAIR | SIM_HEAL_UP | SIM_HEAL_DOWN, NULL, 0);
			}
		w->res->peer_partitions++;
		sim_note(w, a + 1, "isolate", "from every other server for %llu ms", (unsigned long long)((until - w->now_us) / 1000));
		return;
	}
	if (a == b)
		return;
	how = move == 0 ? SIM_HEAL_UP | SIM_HEAL_DOWN : move == 1 ? SIM_HEAL_UP : SIM_HEAL_DOWN;
	sim_peer_block(w, a, b, how, +1);
	sim_schedule(w, until, SIM_EV_HEAL, a, b, SIM_PEER_PAIR | how, NULL, 0);
	w->res->peer_partitions++;
	sim_note(w, a + 1, "cut", "from server %u (%s) for %llu ms", b + 1,
		 how == (SIM_HEAL_UP | SIM_HEAL_DOWN) ? "both ways" : "one way",
		 (unsigned long long)((until - w->now_us) / 1000));
}

/* One move: cut a client off (both ways or one way), cut a server off
 * from all its clients, clog a link, start a lossy spell, or reset a
 * connection; each fault heals after a drawn while. */
static void sim_nemesis_move(struct sim_world *w, uint64_t move, uint32_t client);

/* The server's disk fills up (or fails) for a while; it ends before the calm. */
static void sim_disk_fault(struct sim_world *w, uint32_t server)
{
	struct sim_server *s = &w->servers[server];
	uint64_t until = w->now_us + sim_draw(w, 100000, 4000000);
	if (until > w->opt.duration_ms * 1000)
		until = w->opt.duration_ms * 1000;
	if (until > s->disk_full_until_us)
		s->disk_full_until_us = until;
	w->res->disk_faults++;
	sim_note(w, server + 1, "disk_full", "for %llu ms", (unsigned long long)((until - w->now_us) / 1000));
}

static void sim_nemesis(struct sim_world *w)
{
	uint64_t move = sim_draw(w, 0, 11);
	uint32_t client;
	(void)sim_draw(w, 0, w->opt.servers - 1); /* a server once drawn here (the draws stay as they were) */
	client = w->opt.clients > 0 ? (uint32_t)sim_draw(w, 0, w->opt.clients - 1) : 0;
	if (w->opt.ensemble && (w->opt.clients == 0 || sim_draw(w, 0, 1) == 0)) {
		sim_nemesis_peers(w);
		return;
	}
	sim_nemesis_move(w, move, client);
}

/* Move 0..11 of the classic mix on a client's link or server. */
static void sim_nemesis_move(struct sim_world *w, uint64_t move, uint32_t client)
{
	uint32_t server;
	if (w->opt.clients == 0)
		return;
	server = w->clients[client].server;
	if (move < 3) {
		/* both ways, or only one: a client that can send but not hear,
		 * or hear but not send; up to past the session timeout */
		uint64_t how = move == 0 ? SIM_HEAL_UP | SIM_HEAL_DOWN : move == 1 ? SIM_HEAL_UP : SIM_HEAL_DOWN;
		sim_block(w, client, server, how, +1);
		w->res->partitions++;
		sim_note(w, server + 1, "cut", "client %u (%s)", client, how == (SIM_HEAL_UP | SIM_HEAL_DOWN) ? "both ways" : "one way");
		sim_schedule(w, w->now_us + sim_draw(w, 100000, 14000000), SIM_EV_HEAL, client, server, how, NULL, 0);
	} else if (move == 3) {
		sim_block(w, SIM_ALL_CLIENTS, server, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
		w->res->partitions++;
		sim_note(w, server + 1, "cut", "every client");
		sim_schedule(w, w->now_us + sim_draw(w, 100000, 12000000), SIM_EV_HEAL, SIM_ALL_CLIENTS, server,
			     SIM_HEAL_UP | SIM_HEAL_DOWN, NULL, 0);
	} else if (move < 6) {
		struct sim_link *l = sim_link_of(w, client, server);
		struct sim_dir *d = sim_draw(w, 0, 1) == 0 ? &l->up : &l->down;
		uint64_t until = w->now_us + sim_draw(w, 10000, 3000000);
		if (until > d->clog_until_us)
			d->clog_until_us = until;
		w->res->clogs++;
		sim_note(w, server + 1, "clog", "client %u", client);
	} else if (move < 8) {
		sim_block(w, client, server, SIM_HEAL_LOSS, +1);
		w->res->lossy_spells++;
		sim_note(w, server + 1, "lossy", "client %u", client);
		sim_schedule(w, w->now_us + sim_draw(w, 500000, 5000000), SIM_EV_HEAL, client, server, SIM_HEAL_LOSS,
			     NULL, 0);
	} else if (move == 11) {
		sim_disk_fault(w, server);
	} else if (move == 10) {
		/* the client process stalls: it hears nothing and says nothing,
		 * sometimes past its session timeout; it resumes before the calm */
		uint64_t until = w->now_us + sim_draw(w, 500000, 16000000);
		if (until > w->opt.duration_ms * 1000)
			until = w->opt.duration_ms * 1000;
		if (until > w->clients[client].paused_until_us)
			w->clients[client].paused_until_us = until;
		w->res->pauses++;
		sim_note(w, 0, "pause", "client %u for %llu ms", client, (unsigned long long)((until - w->now_us) / 1000));
	} else if (w->clients[client].conn != 0) {
		sim_reset(w, w->clients[client].conn - 1);
	}
}

/* A swarm nemesis move begins: it takes its number and a stream of its
 * own, split off the nemesis's (not the world's: what the servers and
 * clients do must not move the schedule), so whether it runs or is left
 * out (options.drop_moves) every other move stays as it was.  false: left
 * out. */
static bool sim_move_begin(struct sim_world *w)
{
	uint64_t k = w->res->moves++, sub = pd_prng_next(&w->nemesis);
	if (k < SIM_MOVES_MAX && ((w->opt.drop_moves[k / 64] >> (k % 64)) & 1))
		return false;
	w->move_saved = w->prng;
	pd_prng_seed(&w->prng, sub);
	w->move = (uint32_t)k + 1;
	return true;
}

static void sim_move_end(struct sim_world *w)
{
	w->prng = w->move_saved;
	w->move = 0;
}

/* Swarm testing: one move of a fault class that is on in this run. */
static void sim_nemesis_swarm(struct sim_world *w)
{
	static const uint32_t classes[] = {SIM_FAULT_PEER_CUT, SIM_FAULT_ONE_WAY, SIM_FAULT_ISOLATE, SIM_FAULT_BRIDGE,
					   SIM_FAULT_FLAP,     SIM_FAULT_LOSS,    SIM_FAULT_SKEW,    SIM_FAULT_DISK,
					   SIM_FAULT_CLIENT,   SIM_FAULT_CLOG};
	uint32_t on[sizeof(classes) / sizeof(classes[0])], n = 0, k, a, b;
	uint64_t until;
	for (k = 0; k < sizeof(classes) / sizeof(classes[0]); k++)
		if (sim_on(w, classes[k]) && (w->opt.ensemble || classes[k] == SIM_FAULT_LOSS ||
					       classes[k] == SIM_FAULT_SKEW || classes[k] == SIM_FAULT_DISK ||
					       classes[k] == SIM_FAULT_CLIENT))
			on[n++] = classes[k];
	if (n == 0)
		return;
	k = on[sim_draw(w, 0, n - 1)];
	a = (uint32_t)sim_draw(w, 0, w->opt.servers - 1);
	b = (uint32_t)sim_draw(w, 0, w->opt.servers - 1);
	until = w->now_us + sim_draw(w, 100000, 8000000);
	switch (k) {
	case SIM_FAULT_PEER_CUT:
	case SIM_FAULT_ONE_WAY: {
		uint64_t how = k == SIM_FAULT_PEER_CUT ? SIM_HEAL_UP | SIM_HEAL_DOWN
						       : sim_draw(w, 0, 1) == 0 ? SIM_HEAL_UP : SIM_HEAL_DOWN;
		if (a == b)
			return;
		sim_peer_block(w, a, b, how, +1);
		sim_schedule(w, until, SIM_EV_HEAL, a, b, SIM_PEER_PAIR | how, NULL, 0);
		w->res->peer_partitions++;
		sim_note(w, a + 1, "cut", "from server %u (%s) for %llu ms", b + 1,
			 k == SIM_FAULT_PEER_CUT ? "both ways" : "one way", (unsigned long long)((until - w->now_us) / 1000));
		break;
	}
	case SIM_FAULT_ISOLATE:
		for (b = 0; b < w->opt.servers; b++)
			if (b != a) {
				sim_peer_block(w, a, b, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
				sim_schedule(w, until, SIM_EV_HEAL, a, b, SIM_PEER_PAIR | SIM_HEAL_UP | SIM_HEAL_DOWN, NULL, 0);
			}
		w->res->peer_partitions++;
		sim_note(w, a + 1, "isolate", "from every other server for %llu ms",
			 (unsigned long long)((until - w->now_us) / 1000));
		break;
	case SIM_FAULT_BRIDGE: {
		/* halves drawn at random; server a is the bridge */
		uint64_t side = sim_draw(w, 0, (1ull << w->opt.servers) - 1);
		uint32_t x, y;
		for (x = 0; x < w->opt.servers; x++)
			for (y = x + 1; y < w->opt.servers; y++)
				if (x != a && y != a && ((side >> x) & 1) != ((side >> y) & 1)) {
					sim_peer_block(w, x, y, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
					sim_schedule(w, until, SIM_EV_HEAL, x, y, SIM_PEER_PAIR | SIM_HEAL_UP | SIM_HEAL_DOWN,
						     NULL, 0);
				}
		w->res->peer_partitions++;
		sim_note(w, a + 1, "bridge", "halves 0x%llx for %llu ms", (unsigned long long)side,
			 (unsigned long long)((until - w->now_us) / 1000));
		break;
	}
	case SIM_FAULT_FLAP: {
		/* a cut that comes and goes: up to 8 short spells */
		uint64_t t = w->now_us;
		uint32_t spells = (uint32_t)sim_draw(w, 2, 8), i;
		if (a == b)
			return;
		for (i = 0; i < spells; i++) {
			t += sim_draw(w, 20000, 600000);
			sim_schedule(w, t, SIM_EV_FLAP, a, b, 1, NULL, 0);
			t += sim_draw(w, 20000, 600000);
			sim_schedule(w, t, SIM_EV_HEAL, a, b, SIM_PEER_PAIR | SIM_HEAL_UP | SIM_HEAL_DOWN, NULL, 0);
		}
		w->res->peer_partitions++;
		sim_note(w, a + 1, "flap", "with server %u, %u spells", b + 1, spells);
		break;
	}
	case SIM_FAULT_CLOG: {
		uint64_t us = sim_draw(w, 50000, 3000000);
		sim_world_clog(w, a, us);
		sim_note(w, a + 1, "clog", "hears no one for %llu ms", (unsigned long long)(us / 1000));
		break;
	}
	case SIM_FAULT_SKEW: {
		/* the monotonic clock leaps forward (a suspended VM resumes) */
		int64_t ms = (int64_t)sim_draw(w, 100, 6000);
		w->servers[a].offset_ms += ms;
		w->servers[a].wall_offset_ms += ms;
		sim_note(w, a + 1, "skew", "its clock leaps %lld ms", (long long)ms);
		break;
	}
	default: /* LOSS, DISK, CLIENT: the classic mix's moves of those kinds */
		if (k == SIM_FAULT_DISK) {
			sim_disk_fault(w, a);
			return;
		}
		if (w->opt.clients == 0)
			return;
		{
			static const uint8_t client_moves[] = {0, 1, 2, 3, 4, 5, 8, 9, 10};
			uint32_t c = (uint32_t)sim_draw(w, 0, w->opt.clients - 1);
			uint64_t move = k == SIM_FAULT_LOSS ? sim_draw(w, 6, 7)
							    : client_moves[sim_draw(w, 0, sizeof(client_moves) - 1)];
			sim_nemesis_move(w, move, c);
		}
		break;
	}
}

/* The fault phase is over: every partition, clog and lossy spell heals,
 * crashed servers come back (their restarts are already due), and no new
 * fault starts.  From here on every client must get writes through. */
static void sim_calm(struct sim_world *w)
{
	uint32_t c, s;
	w->calm = true;
	w->calm_us = w->now_us;
	for (c = 0; c < w->opt.servers; c++)
		for (s = 0; s < w->opt.servers; s++) {
			struct sim_link *l = &w->peer_links[c][s];
			if (!(w->opt.bugs & SIM_BUG_NO_HEAL)) {
				l->up.blocked = 0;
				l->down.blocked = 0;
			}
			/* lossy links heal too: a link that loses one segment in
			 * thirty keeps losing two in a row now and then, and two
			 * retransmissions (200 + 400 ms) outlast a syncLimit of
			 * 5 ticks of 100 ms: no quorum is stable on it (L1) */
			l->up.loss_pm = 0;
			l->down.loss_pm = 0;
		}
	for (c = 0; c < w->opt.clients; c++) {
		for (s = 0; s < w->opt.servers; s++) {
			struct sim_link *l = sim_link_of(w, c, s);
			if (!(w->opt.bugs & SIM_BUG_NO_HEAL)) {
				l->up.blocked = 0;
				l->down.blocked = 0;
			}
			l->up.clog_until_us = 0;
			l->down.clog_until_us = 0;
			l->up.loss_pm = 0;
			l->down.loss_pm = 0;
			l->up.burst_pm = 0;
			l->down.burst_pm = 0;
		}
		w->clients[c].last_write_us = 0;
	}
}

/* Election liveness (ensemble): once the faults healed, every server has
 * decided, all follow one leader, and that leader, up, leads. */
static void sim_check_election(struct sim_world *w)
{
	uint32_t i, leading = 0;
	uint64_t leader = 0;
	for (i = 0; i < w->opt.servers && !w->stop; i++) {
		struct pd_node_stats st;
		if (!w->servers[i].up) {
			sim_violation(w, 128, "server %u is still down after the calm", i + 1);
			return;
		}
		pd_node_get_stats(w->servers[i].node, &st);
		if (st.role == 0) {
			sim_violation(w, 128, "server %u is still LOOKING (round %llu) %llu ms after every fault healed", i + 1,
				      (unsigned long long)st.election_round,
				      (unsigned long long)((w->now_us - w->calm_us) / 1000));
			return;
		}
		if (leader == 0)
			leader = st.leader;
		if (st.leader != leader) {
			sim_violation(w, 128, "servers follow different leaders after the calm: %llu and %llu",
				      (unsigned long long)leader, (unsigned long long)st.leader);
			return;
		}
		if (st.role == 2)
			leading++;
		if ((st.role == 3) != (i + w->opt.observers >= w->opt.servers)) {
			sim_violation(w, 128, "server %u is in role %d, but it %s an observer", i + 1, st.role,
				      i + w->opt.observers >= w->opt.servers ? "is" : "is not");
			return;
		}
		if (!st.established) {
			sim_violation(w, 128, "server %u follows %llu but has not joined its epoch %llu ms after the calm",
				      i + 1, (unsigned long long)st.leader,
				      (unsigned long long)((w->now_us - w->calm_us) / 1000));
			return;
		}
	}
	if (!w->stop && leading != 1)
		sim_violation(w, 128, "%u servers lead after the calm (leader %llu)", leading, (unsigned long long)leader);
	w->res->leader = leader;
}

/* L1: after the calm, a quorum of voters follows one leader, which leads
 * its established epoch and serves. */
static void sim_check_quorum_live(struct sim_world *w)
{
	uint64_t count[SIM_SERVERS_MAX + 1] = {0}, best = 0;
	uint32_t i, voters = w->opt.servers - w->opt.observers;
	for (i = 0; i < w->opt.servers; i++) {
		struct pd_node_stats st;
		if (!w->servers[i].up || i >= voters)
			continue;
		pd_node_get_stats(w->servers[i].node, &st);
		if ((st.role == 1 || st.role == 2) && st.serving && st.leader >= 1 && st.leader <= w->opt.servers)
			count[st.leader]++;
	}
	for (i = 1; i <= w->opt.servers; i++)
		if (count[i] > count[best])
			best = i;
	if (best == 0 || 2 * count[best] <= voters) {
		sim_violation(w, 128, "no quorum of the %u voters follows one serving leader %llu ms after every fault "
			      "healed (best: %llu behind server %llu)", voters,
			      (unsigned long long)((w->now_us - w->calm_us) / 1000), (unsigned long long)count[best],
			      (unsigned long long)best);
		return;
	}
	w->res->leader = best;
}

/* Equal states at equal zxids: after the calm, the servers that applied
 * the same zxid have the same digest (pd_node_digest). */
static void sim_check_digests(struct sim_world *w)
{
	uint64_t digest[SIM_SERVERS_MAX];
	pd_zxid at[SIM_SERVERS_MAX];
	uint32_t i, j;
	for (i = 0; i < w->opt.servers && !w->stop; i++) {
		struct sim_server *s = &w->servers[i];
		at[i] = 0;
		if (!s->up)
			continue;
		at[i] = pd_node_last_zxid(s->node);
		digest[i] = pd_node_digest(s->node);
		for (j = 0; j < i; j++)
			if (at[j] != 0 && at[j] == at[i]) {
				if (digest[j] != digest[i])
					sim_violation(w, 129, "servers %u and %u are both at zxid 0x%" PRIx64
						      " with different states", j + 1, i + 1, (uint64_t)at[i]);
				w->res->digests_compared++;
			}
	}
}

/* Liveness: after the faults healed, every client got a write answered. */
static void sim_check_liveness(struct sim_world *w)
{
	uint32_t c;
	if (getenv("SIM_DEBUG") != NULL) {
		for (c = 0; c < w->opt.servers; c++) {
			struct pd_node_stats st;
			if (!w->servers[c].up) {
				fprintf(stderr, "server %u down\n", c + 1);
				continue;
			}
			pd_node_get_stats(w->servers[c].node, &st);
			fprintf(stderr, "server %u halted %d role %d leader %llu est %d serving %d learners %llu/%llu epoch %llu acc %llu cur %llu zxid 0x%llx logged 0x%llx durable 0x%llx round %llu\n",
				c + 1, (int)st.reloads_asked, st.role, (unsigned long long)st.leader, st.established, st.serving,
				(unsigned long long)st.synced_learners, (unsigned long long)st.learners, (unsigned long long)st.epoch,
				(unsigned long long)st.accepted_epoch, (unsigned long long)st.current_epoch,
				(unsigned long long)st.last_zxid, (unsigned long long)st.logged_zxid,
				(unsigned long long)st.durable_zxid, (unsigned long long)st.election_round);
		}
	}
	for (c = 0; c < w->opt.clients && !w->stop; c++) {
		const struct sim_client *k = &w->clients[c];
		if (k->last_write_us <= w->calm_us)
			sim_violation(w, 128, "client %u got no write through in the %llu ms after every fault healed "
				      "(connection %s, session 0x%llx)", c,
				      (unsigned long long)((w->now_us - w->calm_us) / 1000),
				      k->conn != 0 ? "open" : "none",
				      (unsigned long long)(k->zk != NULL ? zkc_session_id(k->zk) : 0));
	}
}

/* A segment handed to its receiver, in order. */
static void sim_deliver(struct sim_world *w, const struct sim_event *e)
{
	struct sim_conn *c = &w->conns[e->b];
	if (e->type == SIM_EV_TO_SERVER) {
		struct sim_server *s = &w->servers[c->server];
		struct pd_event ev;
		if (e->fin) {
			sim_deliver_close_server(w, e->b);
			return;
		}
		if (!s->up || c->server_gen != s->gen || s->conn_of_core[c->core_id] != e->b + 1)
			return; /* the connection (or the process) is gone */
		memset(&ev, 0, sizeof(ev));
		ev.type = PD_EV_CONN_DATA;
		ev.conn = c->core_id;
		ev.data = e->data;
		ev.len = e->len;
		sim_server_step(w, c->server, &ev);
		return;
	}
	if (c->peer) {
		/* toward the server that dialed */
		struct sim_server *d = &w->servers[c->dialer];
		struct pd_event ev;
		if (!d->up || c->dialer_gen != d->gen || c->dialer_core_id >= d->conn_of_core_cap ||
		    d->conn_of_core[c->dialer_core_id] != e->b + 1)
			return;
		memset(&ev, 0, sizeof(ev));
		ev.conn = c->dialer_core_id;
		if (e->fin) {
			d->conn_of_core[c->dialer_core_id] = 0;
			ev.type = PD_EV_CONN_CLOSED;
		} else {
			ev.type = PD_EV_CONN_DATA;
			ev.data = e->data;
			ev.len = e->len;
		}
		sim_server_step(w, c->dialer, &ev);
		return;
	}
	if (w->clients[c->client].conn != e->b + 1)
		return;
	if (e->fin) {
		c->open = false;
		sim_client_reset(w, &w->clients[c->client]);
	} else {
		sim_client_data(w, &w->clients[c->client], e->data, e->len);
	}
}

/* A segment reaches the far end of its link: held back by a partition or
 * a clog (sent again later), dropped as a duplicate, kept until the ones
 * before it arrive, or handed over with whatever it was holding up. */
static void sim_arrive(struct sim_world *w, struct sim_event *e)
{
	uint32_t conn = e->b;
	bool to_server = e->type == SIM_EV_TO_SERVER;
	uint32_t dir = to_server ? 0 : 1;
	struct sim_conn *c = &w->conns[conn];
	struct sim_dir *d;
	bool bug = !to_server && (w->opt.bugs & SIM_BUG_REORDER);
	if (c->gen != e->gen || c->reset)
		return;
	d = sim_dir_of(w, c, to_server);
	if (d->blocked > 0 || d->clog_until_us > w->now_us) {
		struct sim_event again = *e;
		if (d->blocked > 0) {
			again.at_us = w->now_us + sim_rto(w, e->attempt);
			again.attempt = e->attempt + 1;
			w->res->retransmits++;
		} else {
			again.at_us = d->clog_until_us + sim_latency(w, d);
		}
		e->data = NULL; /* the retry owns it now */
		sim_push(w, again);
		return;
	}
	if (bug) { /* planted: whatever arrives is handed over as it comes */
		sim_deliver(w, e);
		return;
	}
	if (e->piece < c->delivered[dir]) {
		w->res->duplicates++;
		return;
	}
	if (e->piece > c->delivered[dir]) {
		size_t i;
		for (i = 0; i < c->stash_len[dir]; i++)
			if (c->stash[dir][i].piece == e->piece) {
				w->res->duplicates++;
				return;
			}
		if (c->stash_len[dir] == c->stash_cap[dir]) {
			c->stash_cap[dir] = c->stash_cap[dir] == 0 ? 8 : c->stash_cap[dir] * 2;
			c->stash[dir] = realloc(c->stash[dir], c->stash_cap[dir] * sizeof(struct sim_event));
			if (c->stash[dir] == NULL)
				abort();
		}
		c->stash[dir][c->stash_len[dir]++] = *e;
		e->data = NULL;
		w->res->reordered++;
		return;
	}
	c->delivered[dir]++;
	sim_deliver(w, e);
	while (!w->stop) {
		struct sim_event next;
		size_t i;
		c = &w->conns[conn]; /* the array may have moved */
		for (i = 0; i < c->stash_len[dir]; i++)
			if (c->stash[dir][i].piece == c->delivered[dir])
				break;
		if (i == c->stash_len[dir])
			break;
		next = c->stash[dir][i];
		c->stash[dir][i] = c->stash[dir][--c->stash_len[dir]];
		c->delivered[dir]++;
		sim_deliver(w, &next);
		free(next.data);
	}
}

/* A server's dial reaches the other server: both ends open, or the dialer
 * hears it failed (refused at once if the server is down, after a connect
 * timeout if a partition swallows the handshake). */

static void sim_peer_dial(struct sim_world *w, const struct sim_event *e)
{
	struct sim_server *d = &w->servers[e->a], *t = &w->servers[e->b];
	const struct sim_link *l = &w->peer_links[e->a][e->b];
	struct sim_conn *c;
	struct pd_event ev;
	uint32_t idx;
	if (!d->up || e->gen != d->gen)
		return;
	if (!t->up || l->up.blocked > 0 || l->down.blocked > 0) {
		struct sim_event f = *e;
		f.at_us = w->now_us + (t->up ? sim_draw(w, 1000000, 3000000) : sim_draw(w, 100, 1000));
		f.type = SIM_EV_PEER_FAIL;
		f.data = NULL;
		f.len = 0;
		sim_push(w, f);
		return;
	}
	idx = sim_conn_new(w);
	c = &w->conns[idx];
	c->peer = true;
	c->plane = (uint8_t)e->piece;
	c->open = true;
	c->dialer = e->a;
	c->server = e->b;
	c->gen = ++w->conn_gen;
	c->server_gen = t->gen;
	c->dialer_gen = d->gen;
	c->core_id = sim_core_id(t, idx);
	c->dialer_core_id = sim_core_id(d, idx);
	memset(&ev, 0, sizeof(ev));
	ev.type = PD_EV_CONN_OPEN;
	ev.plane = (enum pd_plane)e->piece;
	ev.conn = c->core_id;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "10.0.255.%u", e->a + 1);
	sim_server_step(w, e->b, &ev);
	ev.conn = w->conns[idx].dialer_core_id;
	ev.outbound = true;
	ev.peer_sid = e->b + 1;
	snprintf(ev.peer_ip, sizeof(ev.peer_ip), "10.0.255.%u", e->b + 1);
	sim_server_step(w, e->a, &ev);
}

static void sim_dispatch(struct sim_world *w, struct sim_event *e)
{
	struct sim_server *s = e->type == SIM_EV_TO_SERVER || e->type == SIM_EV_CLOSED_SERVER || e->type == SIM_EV_TIMER ||
				       e->type == SIM_EV_FSYNC_DONE || e->type == SIM_EV_CRASH ||
				       e->type == SIM_EV_RESTART || e->type == SIM_EV_EARLY_DURABLE ||
				       e->type == SIM_EV_SNAP_DONE || e->type == SIM_EV_DISK_PROBE ||
				       e->type == SIM_EV_PEER_DIAL || e->type == SIM_EV_PEER_FAIL ||
				       e->type == SIM_EV_EPOCH_DONE
			       ? &w->servers[e->a]
			       : NULL;
	struct sim_conn *c = e->type == SIM_EV_TO_SERVER || e->type == SIM_EV_TO_CLIENT ||
				     e->type == SIM_EV_RESET_CLIENT || e->type == SIM_EV_CLOSED_SERVER
			     ? &w->conns[e->b]
			     : NULL;
	struct pd_event ev;
	memset(&ev, 0, sizeof(ev));
	sim_mix(w, e->at_us ^ ((uint64_t)e->type << 48) ^ ((uint64_t)e->a << 32) ^ e->b);
	if ((e->type == SIM_EV_TO_CLIENT || e->type == SIM_EV_RESET_CLIENT || e->type == SIM_EV_CLIENT_WAKE) &&
	    !(e->type == SIM_EV_TO_CLIENT && w->conns[e->b].peer) && w->clients[e->a].paused_until_us > w->now_us) {
		/* a stalled client: its events wait, in order, until it resumes */
		struct sim_event later = *e;
		later.at_us = w->clients[e->a].paused_until_us;
		e->data = NULL;
		sim_push(w, later);
		return;
	}
	switch (e->type) {
	case SIM_EV_TO_SERVER:
	case SIM_EV_TO_CLIENT:
		sim_arrive(w, e);
		break;
	case SIM_EV_CLOSED_SERVER:
		if (c->gen == e->gen)
			sim_deliver_close_server(w, e->b);
		break;
	case SIM_EV_RESET_CLIENT:
		if (w->clients[e->a].conn == e->b + 1) {
			w->conns[e->b].open = false;
			sim_client_reset(w, &w->clients[e->a]);
		}
		break;
	case SIM_EV_TIMER:
		if (!s->up || e->gen != (s->gen << 20 ^ s->timer_gen))
			return;
		ev.type = PD_EV_TICK;
		sim_server_step(w, e->a, &ev);
		break;
	case SIM_EV_FSYNC_DONE:
		if (s->up && e->gen == s->gen)
			sim_server_sync_done(w, e->a);
		break;
	case SIM_EV_SNAP_DONE:
		if (s->up && e->gen == s->gen && s->snap_writing)
			sim_snapshot_done(w, s);
		break;
	case SIM_EV_EARLY_DURABLE:
		if (s->up && e->gen == s->gen) {
			ev.type = PD_EV_LOG_DURABLE;
			ev.zxid = s->pending_zxid;
			sim_server_step(w, e->a, &ev);
		}
		break;
	case SIM_EV_CLIENT_WAKE:
		if (e->gen == w->clients[e->a].wake_gen)
			sim_client_wake(w, &w->clients[e->a]);
		break;
	case SIM_EV_CRASH:
		if (w->calm)
			break;
		if (w->opt.swarm != 0 && !sim_move_begin(w)) {
			/* left out by a shrink */
		} else if (w->opt.ensemble && w->wipe_at_us != 0 && w->now_us >= w->wipe_at_us && s->up &&
			   sim_others_serving(w, e->a)) {
			/* once per run: the disk is replaced, empty (epoch files
			 * included); the others still hold what it had acked */
			w->wipe_at_us = 0;
			sim_server_crash(w, e->a);
			sim_server_wipe(w, e->a);
		} else {
			sim_server_crash(w, e->a);
		}
		if (w->move != 0)
			sim_move_end(w);
		if (sim_on(w, SIM_FAULT_CRASH)) /* the next crash of this server */
			sim_schedule(w, w->now_us + (w->opt.swarm != 0 ? 2000000 + pd_prng_below(&w->nemesis, w->crash_gap_us - 1999999)
								     : sim_draw(w, 2000000, w->crash_gap_us)),
				     SIM_EV_CRASH, e->a, 0, 0, NULL, 0);
		break;
	case SIM_EV_RESTART:
		if (!s->up) {
			sim_note(w, e->a + 1, "restart", "%s", "from its disk");
			sim_server_boot(w, e->a);
		}
		break;
	case SIM_EV_NEMESIS:
		if (!w->calm) {
			if (w->opt.swarm != 0) {
				uint64_t gap = (uint64_t)(w->opt.nemesis_gap_ms > 0 ? w->opt.nemesis_gap_ms : 1100) * 1000;
				if (sim_move_begin(w)) {
					sim_nemesis_swarm(w);
					sim_move_end(w);
				}
				sim_schedule(w, w->now_us + gap / 5 + pd_prng_below(&w->nemesis, gap * 8 / 5 + 1),
					     SIM_EV_NEMESIS, 0, 0, 0, NULL, 0);
			} else {
				sim_nemesis(w);
				sim_schedule(w, w->now_us + sim_draw(w, 200000, 2000000), SIM_EV_NEMESIS, 0, 0, 0, NULL, 0);
			}
		}
		break;
	case SIM_EV_HEAL:
		sim_heal(w, e->a, e->b, e->gen);
		break;
	case SIM_EV_FLAP:
		if (!w->calm)
			sim_peer_block(w, e->a, e->b, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
		break;
	case SIM_EV_CALM:
		sim_note(w, 0, "calm", "every fault heals");
		if ((w->opt.bugs & SIM_BUG_TRIP_ASSERTION) && w->opt.seed % 3 == 0)
			pd_assert_fail("planted (SIM_BUG_TRIP_ASSERTION)", __FILE__, __LINE__);
		if ((w->opt.bugs & SIM_BUG_DIE) && w->opt.seed % 5 == 0)
			raise(SIGSEGV); /* planted: a crash the core's assertions do not see */
		sim_calm(w);
		break;
	case SIM_EV_PEER_DIAL:
		sim_peer_dial(w, e);
		break;
	case SIM_EV_EPOCH_DONE:
		if (s->up && e->gen == s->gen) {
			s->epochs[e->b] = e->piece;
			if (e->piece > s->epoch_ghost[e->b])
				s->epoch_ghost[e->b] = e->piece;
			ev.type = PD_EV_EPOCH_DURABLE;
			ev.which = (enum pd_epoch_file)e->b;
			ev.value = e->piece;
			sim_server_step(w, e->a, &ev);
		}
		break;
	case SIM_EV_PEER_FAIL:
		if (s->up && e->gen == s->gen) {
			ev.type = PD_EV_CONNECT_FAILED;
			ev.plane = (enum pd_plane)e->piece;
			ev.peer_sid = e->b + 1;
			sim_server_step(w, e->a, &ev);
		}
		break;
	case SIM_EV_DISK_PROBE:
		if (!s->up || e->gen != s->gen || !s->log_failed)
			break;
		if (w->now_us < s->disk_full_until_us) {
			sim_schedule(w, w->now_us + 1000000, SIM_EV_DISK_PROBE, e->a, 0, s->gen, NULL, 0);
			break;
		}
		s->log_failed = false;
		ev.type = PD_EV_LOG_OK;
		sim_server_step(w, e->a, &ev);
		break;
	}
}

void sim_options_default(struct sim_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->servers = 1;
	o->clients = 8;
	o->duration_ms = 20000;
	o->liveness_ms = 12000;
	o->faults = true;
	o->latency_us_max = 2000;
	o->fsync_us_max = 3000;
	o->snap_count = 400;
}

/* Sets a world up: servers booted, clients made (a scripted world starts
 * with none: the scenario makes them), the fault schedule drawn. */
static void sim_world_setup(struct sim_world *w, const struct sim_options *opt, struct sim_result *r)
{
	uint32_t i;
	memset(r, 0, sizeof(*r));
	memset(w, 0, sizeof(*w));
	w->opt = *opt;
	if (w->opt.servers == 0 || w->opt.servers > SIM_SERVERS_MAX)
		w->opt.servers = 1;
	if (w->opt.clients > SIM_CLIENTS_MAX)
		w->opt.clients = SIM_CLIENTS_MAX;
	if (w->opt.scripted) {
		w->opt.faults = false; /* the scenario is the fault schedule */
		w->opt.clients = 0;
	}
	if (!w->opt.ensemble || w->opt.observers >= w->opt.servers)
		w->opt.observers = w->opt.ensemble ? w->opt.servers - 1 : 0;
	if (w->opt.latency_us_max < 20)
		w->opt.latency_us_max = 20;
	if (w->opt.fsync_us_max < 50)
		w->opt.fsync_us_max = 50;
	if (w->opt.tick_ms == 0)
		w->opt.tick_ms = 2000;
	w->res = r;
	w->digest = 0xcbf29ce484222325ULL ^ opt->seed;
	pd_prng_seed(&w->prng, opt->seed);
	pd_prng_seed(&w->nemesis, opt->seed ^ 0x4e454d45534953ULL);
	/* swarm: half the seeds crash servers often, half seldom (so that
	 * sessions can outlive a stall and expire between restarts) */
	w->crash_gap_us = sim_draw(w, 0, 1) == 0 ? 8000000 : 25000000;
	/* ensemble: half the seeds replace one server's disk with an empty one, once */
	/* (a swarm run wipes only where a majority of voters keeps the data:
	 * with fewer than three voters a lost disk is a lost history) */
	if (w->opt.ensemble && sim_on(w, SIM_FAULT_WIPE) && sim_on(w, SIM_FAULT_CRASH) &&
	    (w->opt.swarm == 0 || w->opt.servers - w->opt.observers >= 3) && sim_draw(w, 0, 1) == 0)
		w->wipe_at_us = sim_draw(w, 2000000, w->opt.duration_ms * 1000 / 2);
	for (i = 0; i < w->opt.servers && !w->stop; i++) {
		struct sim_server *s = &w->servers[i];
		if (sim_on(w, SIM_FAULT_SKEW)) {
			s->offset_ms = (int64_t)sim_draw(w, 0, 4000) - 2000;
			s->drift_ppm = (int32_t)sim_draw(w, 0, 2000) - 1000;
		}
		if (sim_on(w, SIM_FAULT_CRASH))
			sim_schedule(w, sim_draw(w, 1000000, w->crash_gap_us - 2000000), SIM_EV_CRASH, i, 0, 0, NULL, 0);
		sim_server_boot(w, i);
	}
	w->clients = calloc(w->opt.scripted ? SIM_CLIENTS_MAX : w->opt.clients > 0 ? w->opt.clients : 1,
			    sizeof(*w->clients));
	if (w->clients == NULL)
		abort();
	sim_links_init(w);
	for (i = 0; i < w->opt.clients; i++)
		sim_client_init(w, &w->clients[i], i);
	if (w->opt.faults)
		sim_schedule(w, sim_draw(w, 200000, 2000000), SIM_EV_NEMESIS, 0, 0, 0, NULL, 0);
	if (!w->opt.scripted)
		sim_schedule(w, w->opt.duration_ms * 1000, SIM_EV_CALM, 0, 0, 0, NULL, 0);
}

bool sim_world_advance(struct sim_world *w, uint64_t until_us)
{
	struct sim_event e;
	while (!w->stop && w->heap_len > 0 && w->heap[0].at_us <= until_us && sim_pop(w, &e)) {
		w->now_us = e.at_us;
		w->res->events++;
		sim_dispatch(w, &e);
		free(e.data);
		if (w->attention) { /* the scenario looks before time goes on */
			w->attention = false;
			return !w->stop;
		}
	}
	if (!w->stop && until_us > w->now_us)
		w->now_us = until_us;
	return !w->stop;
}

/* The end of a run: the liveness checks (after the calm), then every
 * acknowledged write, ephemeral, sequential name and history. */
static void sim_world_finish(struct sim_world *w)
{
	uint32_t i;
	if (!w->stop && w->opt.liveness_ms > 0) {
		w->now_us = (w->opt.duration_ms + w->opt.liveness_ms) * 1000;
		if (w->opt.ensemble && w->opt.liveness_quorum) {
			sim_check_quorum_live(w);
		} else {
			sim_check_liveness(w);
			if (w->opt.ensemble)
				sim_check_election(w);
		}
		if (w->opt.ensemble)
			sim_check_digests(w);
	}
	/* at the end, every acknowledged write on every server that is up
	 * (in an ensemble: on the leader, which has applied every commit) */
	for (i = 0; i < w->acked_count && !w->stop; i++) {
		uint32_t at = w->acked[i].server;
		if (w->opt.ensemble) {
			if (w->res->leader == 0 || !w->servers[w->res->leader - 1].up)
				break;
			at = (uint32_t)w->res->leader - 1;
			w->acked[i].server = at;
		}
		if (w->servers[at].up)
			sim_check_acked(w, at, &w->acked[i]);
	}
	for (i = 0; i < w->opt.servers && !w->stop; i++)
		if (w->servers[i].up)
			sim_check_ephemerals(w, i);
	if (!w->stop)
		sim_check_sequential(w);
	if (!w->stop)
		sim_check_histories(w);
}

/* Tears a world down: every byte back. */
static void sim_world_teardown(struct sim_world *w)
{
	struct sim_event e;
	uint32_t i;
	w->res->virtual_ms = w->now_us / 1000;
	w->res->acked_writes = w->acked_count;
	w->res->digest = w->digest;
	while (sim_pop(w, &e))
		free(e.data);
	for (i = 0; i < w->opt.servers; i++) {
		struct sim_server *s = &w->servers[i];
		if (s->node != NULL) {
			sim_collect(w, s);
			pd_effects_free(s->node, &s->fx);
			pd_node_destroy(s->node);
		}
		free(s->durable.p);
		free(s->pending.p);
		free(s->snap[0].p);
		free(s->snap[1].p);
		free(s->snap_pending.p);
		free(s->reload_snap.p);
		free(s->conn_of_core);
	}
	for (i = 0; i < w->opt.clients; i++)
		sim_client_free(&w->clients[i]);
	free(w->clients);
	free(w->links);
	for (i = 0; i < w->conn_count; i++) {
		uint32_t d;
		size_t k;
		for (d = 0; d < 2; d++) {
			for (k = 0; k < w->conns[i].stash_len[d]; k++)
				free(w->conns[i].stash[d][k].data);
			free(w->conns[i].stash[d]);
		}
	}
	free(w->conns);
	free(w->ghost_zxid);
	free(w->ghost_hash);
	free(w->ghost_voters);
	free(w->sessions_ghost);
	free(w->acked);
	free(w->heap);
	free(w->seq_names);
	{
		uint32_t k;
		for (i = 0; i < SIM_SERVERS_MAX; i++)
			for (k = 0; k < SIM_KEYS; k++)
				free(w->hist[i][k].ops);
	}
}

void sim_run(const struct sim_options *opt, struct sim_result *r)
{
	struct sim_world *w = malloc(sizeof(*w));
	if (w == NULL)
		abort();
	sim_world_setup(w, opt, r);
	sim_world_advance(w, (w->opt.duration_ms + w->opt.liveness_ms) * 1000);
	sim_world_finish(w);
	sim_world_teardown(w);
	free(w);
}

struct sim_world *sim_world_open(const struct sim_options *opt, struct sim_result *r)
{
	struct sim_world *w = malloc(sizeof(*w));
	if (w == NULL)
		abort();
	sim_world_setup(w, opt, r);
	return w;
}

void sim_world_close(struct sim_world *w)
{
	sim_world_teardown(w);
	free(w);
}

/* --- the scenario's verbs (sim/script.c) --- */

void sim_world_crash(struct sim_world *w, uint32_t server, bool torn)
{
	sim_server_crash_how(w, server, torn ? 2 : -1);
}

void sim_world_restart(struct sim_world *w, uint32_t server)
{
	if (w->servers[server].up)
		return;
	sim_note(w, server + 1, "restart", "%s", "from its disk");
	sim_server_boot(w, server);
}

void sim_world_wipe(struct sim_world *w, uint32_t server)
{
	if (!w->servers[server].up)
		sim_server_wipe(w, server);
}

void sim_world_cut(struct sim_world *w, uint32_t a, uint32_t b)
{
	sim_peer_block(w, a, b, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
	w->res->peer_partitions++;
}

void sim_world_cut_clients(struct sim_world *w, uint32_t server)
{
	if (w->opt.clients > 0)
		sim_block(w, SIM_ALL_CLIENTS, server, SIM_HEAL_UP | SIM_HEAL_DOWN, +1);
	w->res->partitions++;
}

/* Every cut and clog ends (the calm without its liveness phase). */
void sim_world_heal_all(struct sim_world *w)
{
	uint32_t c, s;
	for (c = 0; c < w->opt.servers; c++)
		for (s = 0; s < w->opt.servers; s++) {
			w->peer_links[c][s].up.blocked = 0;
			w->peer_links[c][s].down.blocked = 0;
			w->peer_links[c][s].up.clog_until_us = 0;
			w->peer_links[c][s].down.clog_until_us = 0;
		}
	for (c = 0; c < w->opt.clients; c++)
		for (s = 0; s < w->opt.servers; s++) {
			struct sim_link *l = sim_link_of(w, c, s);
			l->up.blocked = 0;
			l->down.blocked = 0;
			l->up.clog_until_us = 0;
			l->down.clog_until_us = 0;
		}
}

/* Nothing reaches the server, from peers or clients, until then; what
 * was held back arrives at once. */
void sim_world_clog(struct sim_world *w, uint32_t server, uint64_t us)
{
	uint64_t until = w->now_us + us;
	uint32_t k;
	for (k = 0; k < w->opt.servers; k++) {
		if (k == server)
			continue;
		if (w->peer_links[k][server].up.clog_until_us < until)
			w->peer_links[k][server].up.clog_until_us = until;
		if (w->peer_links[server][k].down.clog_until_us < until)
			w->peer_links[server][k].down.clog_until_us = until;
	}
	for (k = 0; k < w->opt.clients; k++) {
		struct sim_link *l = sim_link_of(w, k, server);
		if (l->up.clog_until_us < until)
			l->up.clog_until_us = until;
	}
	w->res->clogs++;
}

void sim_world_check_digests(struct sim_world *w)
{
	sim_check_digests(w);
}

void sim_dir_setup(struct sim_world *w, struct sim_link *l)
{
	sim_dir_init(w, &l->up);
	sim_dir_init(w, &l->down);
}

struct sim_link *sim_world_link(struct sim_world *w, uint32_t client, uint32_t server)
{
	return sim_link_of(w, client, server);
}
