/*
 * peer.c: the node's ensemble part (issue 5, in progress).  Built so far:
 * the election plane.  A node configured with server.N lines runs fast
 * leader election (fle.h) over election-port connections: it dials the
 * peers it must tell something (PD_FX_CONNECT), sends ZooKeeper's hello on
 * the connections it dials, reads the hello on those it accepts, and keeps
 * one connection per pair as ZooKeeper does (the larger sid keeps the one
 * it dialed: a smaller sid's connection is closed and dialed back).  Each
 * notification is framed by an i32 length.  A notification for a peer with
 * no connection waits, the newest replacing the older one, until one is up.
 *
 * Then discovery on the quorum plane (zab-and-server.md §3.2): a follower
 * (or observer) dials its leader's quorum port and sends FOLLOWERINFO
 * (OBSERVERINFO) with its acceptedEpoch; the leader, once a quorum of
 * voters (itself included) has reported, picks the new epoch E above every
 * acceptedEpoch it heard, persists acceptedEpoch := E (PD_FX_EPOCH_WRITE)
 * and only then sends LEADERINFO(E); a learner persists acceptedEpoch := E
 * before it answers ACKEPOCH with its last zxid and currentEpoch (an epoch
 * it had accepted already is answered with -1, which does not count); the
 * leader refuses a learner more recent than itself and, with a quorum of
 * valid acks, persists currentEpoch := E: the epoch is established.
 * Failure detection both ways (§3.6): the leader pings every half tick,
 * learners answer; the leader gives up if it is not established within
 * initLimit ticks or if the voters heard from within syncLimit ticks and
 * itself stop being a quorum; a learner gives up if it cannot reach its
 * leader (5 dials), hears nothing for initLimit ticks before the first
 * ping or syncLimit after, or its link closes.  Giving up is a new round
 * of election.
 *
 * Not yet: synchronisation (DIFF/TRUNC/SNAP, NEWLEADER, UPTODATE) and
 * broadcast.  An ensemble member serves no clients; only the simulator and
 * tests turn ensembles on (cfg.ensemble_preview).
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ens.h"
#include "jute.h"

#define PEER_DIAL_TRIES 5

int peer_init(struct pd_node *node, char *errmsg, size_t errmsg_size)
{
	const struct pd_config *cfg = &node->cfg;
	uint64_t voters[PD_FLE_PEERS_MAX], observers[PD_FLE_PEERS_MAX];
	uint32_t nv = 0, no = 0;
	struct node_ens *e;
	bool me = false;
	int i;
	node->ens = NULL;
	if (pd_config_is_standalone(cfg))
		return 0;
	if (cfg->server_count > (int)PD_FLE_PEERS_MAX) {
		snprintf(errmsg, errmsg_size, "at most %u servers in an ensemble", PD_FLE_PEERS_MAX);
		return PD_ECONFIG;
	}
	e = pd_mem_zalloc(&node->mem, sizeof(*e));
	if (e == NULL) {
		snprintf(errmsg, errmsg_size, "out of memory");
		return PD_ENOMEM;
	}
	for (i = 0; i < cfg->server_count; i++) {
		const struct pd_config_server *s = &cfg->servers[i];
		if (s->observer)
			observers[no++] = (uint64_t)s->sid;
		else
			voters[nv++] = (uint64_t)s->sid;
		if (s->sid == cfg->my_id) {
			me = true;
			snprintf(e->my_addr, sizeof(e->my_addr), "%s:%d", s->host, s->election_port);
		} else {
			e->links[e->link_count++].sid = (uint64_t)s->sid;
		}
	}
	if (!me || pd_fle_init(&e->fle, (uint64_t)cfg->my_id, voters, nv, observers, no) != 0) {
		snprintf(errmsg, errmsg_size, me ? "an ensemble needs at least one voter"
					       : "myid %lld is not one of the server.N lines", (long long)cfg->my_id);
		pd_mem_free(&node->mem, e, sizeof(*e));
		return PD_ECONFIG;
	}
	e->role = PD_PEER_LOOKING;
	e->last_proposal_size = e->max_proposal_size = e->min_proposal_size = -1;
	node->ens = e;
	return 0;
}

void peer_destroy(struct pd_node *node)
{
	if (node->ens != NULL)
		zab_free(node);
	if (node->ens != NULL)
		pd_mem_free(&node->mem, node->ens, sizeof(*node->ens));
	node->ens = NULL;
}

void pd_node_set_epochs(struct pd_node *node, uint64_t accepted, uint64_t current)
{
	if (node->ens == NULL)
		return;
	node->ens->epochs[PD_EPOCH_ACCEPTED] = accepted;
	node->ens->epochs[PD_EPOCH_CURRENT] = current;
}

/* The zxid this member votes with: -1 while its empty data directory is
 * not evidence (zab-and-server.md §7.5, ZK-2325). */
static pd_zxid peer_vote_zxid(const struct pd_node *node)
{
	return node->ens->distrust ? -1 : node->last_zxid;
}

void pd_node_set_empty(struct pd_node *node)
{
	if (node->ens != NULL)
		node->ens->empty_born = true;
}

static struct peer_link *peer_link(struct node_ens *e, uint64_t sid)
{
	uint32_t i;
	for (i = 0; i < e->link_count; i++)
		if (e->links[i].sid == sid)
			return &e->links[i];
	return NULL;
}

static void peer_dial(struct pd_node *node, enum pd_plane plane, uint64_t sid)
{
	struct pd_effect fx;
	memset(&fx, 0, sizeof(fx));
	fx.type = PD_FX_CONNECT;
	fx.plane = plane;
	fx.peer = sid;
	(void)node_fx_push(node, &fx);
}

static void peer_dial_election(struct pd_node *node, struct peer_link *l)
{
	if (l->dialing || l->conn != 0)
		return;
	peer_dial(node, PD_PLANE_ELECTION, l->sid);
	l->dialing = true;
}

/* Raw bytes on a connection (the hello, quorum packets: no frame). */
static void peer_send_raw(struct pd_node *node, uint32_t conn, const void *p, size_t n)
{
	struct pd_jw jw = {&node->io_mem, &node->fx->bytes};
	struct pd_effect fx;
	size_t start = node->fx->bytes.len;
	pd_jw_bytes(&jw, p, n);
	memset(&fx, 0, sizeof(fx));
	fx.type = PD_FX_SEND;
	fx.conn = conn;
	fx.offset = start;
	fx.len = n;
	if (node_fx_push(node, &fx) != 0)
		node->fx->bytes.err = PD_ENOMEM;
}

void peer_send_qp(struct pd_node *node, uint32_t conn, int32_t type, pd_zxid zxid, const void *data, int32_t len)
{
	struct pd_buf b = {0};
	if (pd_qp_encode(&node->io_mem, &b, type, zxid, data, len) == 0)
		peer_send_raw(node, conn, b.data, b.len);
	pd_buf_free(&node->io_mem, &b);
}

static void peer_write_vote(struct pd_node *node, struct pd_conn *conn, const struct pd_vote *v)
{
	uint8_t b[64];
	size_t start, n = pd_fle_encode(v, NULL, 0, b, sizeof(b));
	struct pd_jw jw = node_frame_begin(node, &start);
	pd_jw_bytes(&jw, b, n);
	node_frame_end(node, conn, start);
}

static void peer_send_vote(struct pd_node *node, uint64_t to, const struct pd_vote *v)
{
	struct peer_link *l = peer_link(node->ens, to);
	struct pd_conn *conn;
	if (l == NULL)
		return;
	conn = l->conn != 0 ? node_conn(node, l->conn - 1) : NULL;
	if (conn != NULL) {
		peer_write_vote(node, conn, v);
		return;
	}
	l->pending = *v; /* the newest replaces what waited */
	l->have_pending = true;
	peer_dial_election(node, l);
}

void peer_write_epoch(struct pd_node *node, enum pd_epoch_file which, uint64_t value)
{
	struct node_ens *e = node->ens;
	struct pd_effect fx;
	memset(&fx, 0, sizeof(fx));
	fx.type = PD_FX_EPOCH_WRITE;
	fx.which = which;
	fx.value = value;
	if (node_fx_push(node, &fx) == 0) {
		e->writing_serial[which] = e->role_serial;
		e->writing_value[which] = value;
	}
}

static void peer_close_quorum(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	for (i = 0; i < e->learner_count; i++) {
		struct pd_conn *c = node_conn(node, e->learners[i].conn - 1);
		if (c != NULL)
			node_conn_close(node, c);
	}
	e->learner_count = 0;
	if (e->lconn != 0) {
		struct pd_conn *c = node_conn(node, e->lconn - 1);
		if (c != NULL)
			node_conn_close(node, c);
	}
	e->lconn = 0;
}

static void peer_after_fle(struct pd_node *node);

/* Gives the role up (or starts): a new round of election. */
void peer_look(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e->role != PD_PEER_LOOKING)
		e->lost++;
	zab_role_end(node);
	peer_close_quorum(node);
	e->role = PD_PEER_LOOKING;
	e->role_serial++;
	e->established = false;
	e->epoch = 0;
	e->epoch_decided = false;
	e->ldialing = false;
	e->epoch_acked = false;
	e->got_ping = false;
	pd_fle_look(&e->fle, node->now_ms, e->epochs[PD_EPOCH_CURRENT], peer_vote_zxid(node));
	peer_after_fle(node);
}

static void peer_learner_dial(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	e->ldialing = true;
	e->dial_tries++;
	peer_dial(node, PD_PLANE_QUORUM, e->leader);
}

static void peer_leader_decide_epoch(struct pd_node *node);

/* Sends what election produced, and takes its decision. */
static void peer_after_fle(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	enum pd_peer_state st;
	uint64_t leader;
	uint32_t i;
	for (i = 0; i < e->fle.out_count; i++)
		peer_send_vote(node, e->fle.out[i].to, &e->fle.out[i].vote);
	e->fle.out_count = 0;
	if (!pd_fle_decision(&e->fle, &st, &leader))
		return;
	e->role = (int)st;
	e->leader = leader;
	e->elections++;
	e->role_serial++;
	e->role_since_ms = node->now_ms;
	e->established = false;
	pd_fle_settle(&e->fle, st, leader, e->fle.prop.zxid, e->fle.prop.peer_epoch);
	PD_MARK(node, st == PD_PEER_LEADING	? PD_MARK_ELECTED_LEADER
		      : st == PD_PEER_FOLLOWING ? PD_MARK_ELECTED_FOLLOWER
						: PD_MARK_ELECTED_OBSERVER);
	if (st == PD_PEER_LEADING) {
		e->epoch_decided = false;
		e->epoch_candidate = e->epochs[PD_EPOCH_ACCEPTED] + 1;
		e->learner_count = 0;
		/* the only voter (beside observers) is a quorum by itself, as in
		 * ZooKeeper, where the leader counts itself among the connecting
		 * followers first */
		peer_leader_decide_epoch(node);
	} else {
		e->lconn = 0;
		e->dial_tries = 0;
		e->last_heard_ms = node->now_ms;
		peer_learner_dial(node);
	}
}

void pd_node_follow(struct pd_node *node, uint64_t leader)
{
	if (node->ens != NULL && peer_link(node->ens, leader) != NULL)
		node->ens->follow_hint = leader;
}

/* /zookeeper/config holds the membership, as ZooKeeper 3.8's does in an
 * ensemble: "server.N=host:quorum:election:participant" lines by sid, then
 * "version=0", version -1, mtime the start.  Each member writes it from its
 * own zoo.cfg at start (it is not replicated: every member's is the same). */
static void peer_config_node(struct pd_node *node)
{
	const struct pd_config *cfg = &node->cfg;
	char text[PD_FLE_PEERS_MAX * 200 + 16];
	size_t n = 0;
	int64_t last = 0;
	uint32_t idx = pd_tree_lookup(&node->tree, "/zookeeper/config", 17);
	int k;
	if (idx == PD_NODE_NONE)
		return;
	for (k = 0; k < cfg->server_count; k++) {
		const struct pd_config_server *best = NULL;
		int i;
		for (i = 0; i < cfg->server_count; i++)
			if (cfg->servers[i].sid > last && (best == NULL || cfg->servers[i].sid < best->sid))
				best = &cfg->servers[i];
		if (best == NULL)
			break;
		last = best->sid;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "server.%lld=%s:%d:%d:%s\n", (long long)best->sid,
				      best->host, best->quorum_port, best->election_port,
				      best->observer ? "observer" : "participant");
		if (n >= sizeof(text))
			return;
	}
	n += (size_t)snprintf(text + n, sizeof(text) - n, "version=0");
	if (n >= sizeof(text))
		return;
	(void)pd_tree_set_data(&node->tree, idx, (struct pd_span){(const uint8_t *)text, (uint32_t)n, false}, -1, 0,
			       node->wall_ms);
}

void peer_start(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e == NULL || e->started)
		return;
	e->started = true;
	peer_config_node(node);
	if (e->follow_hint != 0) {
		/* back from a reload: straight to the leader that asked for it */
		PD_MARK(node, PD_MARK_FOLLOW_AFTER_RELOAD);
		enum pd_peer_state st = e->fle.voter ? PD_PEER_FOLLOWING : PD_PEER_OBSERVING;
		e->fle.round = 1;
		e->role = (int)st;
		e->leader = e->follow_hint;
		e->role_serial++;
		e->role_since_ms = node->now_ms;
		pd_fle_settle(&e->fle, st, e->leader, node->last_zxid, e->epochs[PD_EPOCH_ACCEPTED]);
		e->lconn = 0;
		e->dial_tries = 0;
		e->last_heard_ms = node->now_ms;
		peer_learner_dial(node);
		return;
	}
	pd_fle_look(&e->fle, node->now_ms, e->epochs[PD_EPOCH_CURRENT], peer_vote_zxid(node));
	e->role_serial++;
	peer_after_fle(node);
}

uint32_t peer_voter_quorum(const struct node_ens *e)
{
	return e->fle.voter_count / 2 + 1;
}

/* --- leader side --- */

struct peer_learner *peer_learner_of(struct node_ens *e, uint32_t conn_id)
{
	uint32_t i;
	for (i = 0; i < e->learner_count; i++)
		if (e->learners[i].conn == conn_id + 1)
			return &e->learners[i];
	return NULL;
}

void peer_learner_drop(struct pd_node *node, struct peer_learner *l, bool close)
{
	struct node_ens *e = node->ens;
	if (close) {
		struct pd_conn *c = node_conn(node, l->conn - 1);
		if (c != NULL)
			node_conn_close(node, c);
	}
	*l = e->learners[--e->learner_count];
}

static void peer_send_leaderinfo(struct pd_node *node, const struct peer_learner *l)
{
	uint8_t v[4];
	pd_put_be32(v, PD_QP_PROTOCOL_VERSION);
	peer_send_qp(node, l->conn - 1, PD_QP_LEADERINFO, PD_ZXID_MAKE(node->ens->epoch, 0), v, 4);
}

/* Voters (me included) for which pred holds form a quorum. */
static bool peer_leader_quorum(const struct node_ens *e, bool acked)
{
	uint32_t i, n = 1; /* me */
	for (i = 0; i < e->learner_count; i++) {
		const struct peer_learner *l = &e->learners[i];
		if (l->sid != 0 && !l->observer && pd_fle_is_voter(&e->fle, l->sid) && (!acked || l->acked))
			n++;
	}
	return n >= peer_voter_quorum(e);
}

/* A quorum acked the epoch: currentEpoch := E, once the leader's own
 * history is durable (an epoch file ahead of its log could let a crash
 * lose committed txns, ZOOKEEPER-4643). */
void peer_leader_try_establish(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e->role != PD_PEER_LEADING || e->established || !e->epoch_decided ||
	    e->writing_serial[PD_EPOCH_CURRENT] == e->role_serial || node->durable_zxid < node->next_zxid ||
	    !peer_leader_quorum(e, true))
		return;
	peer_write_epoch(node, PD_EPOCH_CURRENT, e->epoch);
}

/* The new epoch is decided once a quorum (the leader included) has said
 * which epochs it accepted; it is promised before it is told. */
static void peer_leader_decide_epoch(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e->epoch_decided || !peer_leader_quorum(e, false))
		return;
	e->epoch_decided = true;
	e->epoch = e->epoch_candidate;
	peer_write_epoch(node, PD_EPOCH_ACCEPTED, e->epoch);
}

static void peer_leader_packet(struct pd_node *node, struct pd_conn *conn, const struct pd_qp *qp)
{
	struct node_ens *e = node->ens;
	struct peer_learner *l = peer_learner_of(e, conn->id);
	if (l == NULL)
		return;
	l->last_heard_ms = node->now_ms;
	if (qp->type == PD_QP_FOLLOWERINFO || qp->type == PD_QP_OBSERVERINFO) {
		struct pd_learner_info li;
		uint32_t i;
		if (l->sid != 0 || pd_learner_info_decode(qp->data, &li) != 0 || li.sid <= 0 ||
		    peer_link(e, (uint64_t)li.sid) == NULL) {
			peer_learner_drop(node, l, true);
			return;
		}
		/* a newer link from the same server replaces an older one */
		for (i = 0; i < e->learner_count; i++)
			if (&e->learners[i] != l && e->learners[i].sid == (uint64_t)li.sid) {
				uint32_t keep = l->conn;
				peer_learner_drop(node, &e->learners[i], true);
				l = peer_learner_of(e, keep - 1);
				break;
			}
		l->sid = (uint64_t)li.sid;
		l->observer = qp->type == PD_QP_OBSERVERINFO || !pd_fle_is_voter(&e->fle, l->sid);
		l->accepted = PD_ZXID_EPOCH(qp->zxid);
		if (!e->epoch_decided) {
			if (l->accepted + 1 > e->epoch_candidate && !l->observer) {
				e->epoch_candidate = l->accepted + 1;
				PD_MARK(node, PD_MARK_EPOCH_FROM_LEARNER);
			}
			peer_leader_decide_epoch(node);
		} else if (e->epochs[PD_EPOCH_ACCEPTED] == e->epoch) {
			peer_send_leaderinfo(node, l);
		}
		return;
	}
	if (qp->type == PD_QP_ACKEPOCH) {
		int32_t ce;
		if (l->sid == 0 || qp->data.is_null || qp->data.len != 4) {
			peer_learner_drop(node, l, true);
			return;
		}
		ce = (int32_t)pd_be32(qp->data.ptr);
		if (l->ackepoch_seen)
			return;
		l->ackepoch_seen = true;
		l->last_zxid = qp->zxid;
		if (ce == -1) {
			/* it had accepted this epoch already: not an ack (§3.2), but it is synced */
			zab_leader_ackepoch(node, l);
			return;
		}
		/* a learner more recent than me: I must not lead it */
		if ((uint64_t)(uint32_t)ce > e->epochs[PD_EPOCH_CURRENT] ||
		    ((uint64_t)(uint32_t)ce == e->epochs[PD_EPOCH_CURRENT] && qp->zxid > node->last_zxid)) {
			PD_MARK(node, PD_MARK_LEARNER_NEWER);
			peer_learner_drop(node, l, true);
			return;
		}
		l->acked = true;
		peer_leader_try_establish(node);
		zab_leader_ackepoch(node, l);
		return;
	}
	if (l->sid == 0) {
		peer_learner_drop(node, l, true); /* nothing before FOLLOWERINFO */
		return;
	}
	zab_leader_packet(node, l, qp);
}

static void peer_leader_tick(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i, synced = 1;
	if (node->log_failed) {
		peer_look(node); /* a leader without a log cannot lead */
		return;
	}
	if (!e->established || !e->serving) {
		if (node->now_ms - e->role_since_ms > peer_ticks_ms(node, node->cfg.init_limit)) {
			PD_MARK(node, PD_MARK_LEADER_INIT_LIMIT);
			peer_look(node); /* no quorum established (or synced) within initLimit */
		}
		return;
	}
	if (node->now_ms >= e->next_ping_ms) {
		for (i = 0; i < e->learner_count; i++)
			if (e->learners[i].sid != 0)
				peer_send_qp(node, e->learners[i].conn - 1, PD_QP_PING, node->last_zxid, NULL, -1);
		e->next_ping_ms = node->now_ms + (uint64_t)node->cfg.tick_ms / 2;
	}
	for (i = 0; i < e->learner_count; i++) {
		const struct peer_learner *l = &e->learners[i];
		if ((l->acked || l->newleader_acked) && !l->observer &&
		    node->now_ms - l->last_heard_ms <= peer_ticks_ms(node, node->cfg.sync_limit))
			synced++;
	}
	if (synced < peer_voter_quorum(e))
		peer_look(node); /* the quorum is gone: abdicate */
}

/* --- learner side --- */

static void peer_learner_packet(struct pd_node *node, struct pd_conn *conn, const struct pd_qp *qp)
{
	struct node_ens *e = node->ens;
	if (e->lconn != conn->id + 1)
		return;
	e->last_heard_ms = node->now_ms;
	if (qp->type == PD_QP_LEADERINFO) {
		uint64_t epoch = PD_ZXID_EPOCH(qp->zxid);
		if (epoch < e->epochs[PD_EPOCH_ACCEPTED]) {
			peer_look(node); /* a leader of an epoch I promised not to follow */
			return;
		}
		e->epoch = epoch;
		if (epoch == e->epochs[PD_EPOCH_ACCEPTED]) {
			uint8_t v[4];
			pd_put_be32(v, (uint32_t)-1);
			peer_send_qp(node, conn->id, PD_QP_ACKEPOCH, node->last_zxid, v, 4);
			e->epoch_acked = true;
			pd_fle_settle(&e->fle, (enum pd_peer_state)e->role, e->leader, e->fle.prop.zxid, epoch);
			return;
		}
		/* the promise is durable before it is made */
		peer_write_epoch(node, PD_EPOCH_ACCEPTED, epoch);
		return;
	}
	if (qp->type == PD_QP_PING) {
		e->got_ping = true;
		zab_learner_ping(node, conn->id, qp->zxid);
		return;
	}
	zab_learner_packet(node, conn, qp);
}

static void peer_learner_tick(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint64_t quiet = node->now_ms - e->last_heard_ms;
	if (e->lconn == 0 && !e->ldialing && node->now_ms >= e->next_dial_ms) {
		if (e->dial_tries >= PEER_DIAL_TRIES) {
			PD_MARK(node, PD_MARK_LEARNER_GAVE_UP);
			peer_look(node);
			return;
		}
		peer_learner_dial(node);
	}
	if (quiet > peer_ticks_ms(node, e->got_ping ? node->cfg.sync_limit : node->cfg.init_limit)) {
		PD_MARK(node, PD_MARK_LEARNER_GAVE_UP);
		peer_look(node); /* the leader went quiet */
	}
}

/* --- the planes --- */

static void peer_bind(struct pd_node *node, struct peer_link *l, struct pd_conn *conn)
{
	if (l->conn != 0 && l->conn != conn->id + 1) {
		struct pd_conn *old = node_conn(node, l->conn - 1);
		if (old != NULL) {
			old->peer_sid = 0; /* no longer the link's */
			node_conn_close(node, old);
		}
	}
	l->conn = conn->id + 1;
	if (l->have_pending) {
		l->have_pending = false;
		peer_write_vote(node, conn, &l->pending);
	}
}

static int peer_quorum_open(struct pd_node *node, struct pd_conn *conn, const struct pd_event *ev)
{
	struct node_ens *e = node->ens;
	if (!ev->outbound) {
		/* a learner: only a leader takes them */
		if (e->role != PD_PEER_LEADING || e->learner_count == PD_FLE_PEERS_MAX) {
			node_conn_close(node, conn);
			return 0;
		}
		memset(&e->learners[e->learner_count], 0, sizeof(e->learners[0]));
		e->learners[e->learner_count].conn = conn->id + 1;
		e->learners[e->learner_count].last_heard_ms = node->now_ms;
		e->learner_count++;
		return 0;
	}
	if ((e->role != PD_PEER_FOLLOWING && e->role != PD_PEER_OBSERVING) || ev->peer_sid != e->leader ||
	    e->lconn != 0 || !e->ldialing) {
		node_conn_close(node, conn); /* a dial for a role given up since */
		return 0;
	}
	e->ldialing = false;
	e->lconn = conn->id + 1;
	e->last_heard_ms = node->now_ms;
	{
		struct pd_learner_info li = {node->cfg.my_id, PD_QP_PROTOCOL_VERSION, -1};
		uint8_t b[20];
		size_t n = pd_learner_info_encode(&li, b);
		peer_send_qp(node, conn->id, e->role == PD_PEER_OBSERVING ? PD_QP_OBSERVERINFO : PD_QP_FOLLOWERINFO,
			     PD_ZXID_MAKE(e->epochs[PD_EPOCH_ACCEPTED], 0), b, (int32_t)n);
	}
	return 0;
}

int peer_conn_open(struct pd_node *node, struct pd_conn *conn, const struct pd_event *ev)
{
	struct node_ens *e = node->ens;
	struct peer_link *l;
	conn->plane = (uint8_t)ev->plane;
	conn->outbound = ev->outbound;
	conn->peer_sid = ev->outbound ? ev->peer_sid : 0;
	if (e == NULL) {
		node_conn_close(node, conn);
		return 0;
	}
	if (ev->plane == PD_PLANE_QUORUM)
		return peer_quorum_open(node, conn, ev);
	if (!ev->outbound)
		return 0; /* its hello says who it is */
	l = peer_link(e, ev->peer_sid);
	if (l == NULL) {
		node_conn_close(node, conn);
		return 0;
	}
	l->dialing = false;
	{
		uint8_t b[200];
		size_t n = pd_fle_hello_encode((uint64_t)node->cfg.my_id, e->my_addr, b, sizeof(b));
		peer_send_raw(node, conn->id, b, n);
	}
	conn->hello_done = true;
	/* one connection per pair: the larger sid keeps the one it dialed;
	 * a smaller one's is closed by the peer, which dials back */
	if ((uint64_t)node->cfg.my_id > ev->peer_sid)
		peer_bind(node, l, conn);
	return 0;
}

static void peer_quorum_data(struct pd_node *node, struct pd_conn *conn)
{
	struct node_ens *e = node->ens;
	uint32_t id = conn->id;
	size_t off = 0;
	for (;;) {
		struct pd_qp qp;
		long used = pd_qp_decode(conn->in.data + off, conn->in.len - off, PEER_FRAME_MAX, &qp);
		uint64_t serial = e->role_serial;
		if (used == 0)
			break;
		if (used < 0) {
			node_conn_close(node, conn); /* a malformed packet closes that link only */
			return;
		}
		off += (size_t)used;
		if (e->role == PD_PEER_LEADING)
			peer_leader_packet(node, conn, &qp);
		else
			peer_learner_packet(node, conn, &qp);
		if (e->role_serial != serial || node_conn(node, id) != conn)
			return; /* the role changed or the link went (conn may be freed): the rest is moot */
	}
	pd_buf_consume(&conn->in, off);
}

void peer_conn_data(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len)
{
	struct node_ens *e = node->ens;
	size_t off = 0;
	if (pd_buf_append(&node->io_mem, &conn->in, p, len) != 0) {
		node_conn_close(node, conn);
		return;
	}
	if (conn->plane == PD_PLANE_QUORUM) {
		peer_quorum_data(node, conn);
		return;
	}
	if (!conn->hello_done) {
		uint64_t sid = 0;
		long used = pd_fle_hello_decode(conn->in.data, conn->in.len, &sid);
		struct peer_link *l;
		if (used == 0)
			return;
		l = used > 0 ? peer_link(e, sid) : NULL;
		if (l == NULL) {
			node_conn_close(node, conn); /* malformed, or not one of ours */
			return;
		}
		off = (size_t)used;
		conn->hello_done = true;
		conn->peer_sid = sid;
		if (sid < (uint64_t)node->cfg.my_id) {
			/* ZooKeeper's rule: the larger sid dials */
			conn->peer_sid = 0;
			node_conn_close(node, conn);
			peer_dial_election(node, l);
			return;
		}
		peer_bind(node, l, conn);
	}
	while (conn->in.len - off >= 4) {
		uint32_t n = pd_be32(conn->in.data + off);
		struct pd_vote v;
		if (n < 28 || n > PEER_FRAME_MAX) {
			node_conn_close(node, conn);
			return;
		}
		if (conn->in.len - off - 4 < n)
			break;
		if (pd_fle_decode(conn->in.data + off + 4, n, &v) != 0) {
			node_conn_close(node, conn);
			return;
		}
		off += 4 + n;
		if (e->empty_born && !e->distrust && (v.zxid > 0 || v.peer_epoch > 0)) {
			/* I started with nothing, and somebody has a history: my
			 * emptiness may be a wiped disk, not a fresh ensemble, so it
			 * must not vote (a wiped voter could help elect a leader
			 * without txns it had acked).  I join an established
			 * leader and trust my data once it has synced me. */
			e->distrust = true;
			PD_MARK(node, PD_MARK_DISTRUST_EMPTY);
			if (e->role == PD_PEER_LOOKING)
				pd_fle_look(&e->fle, node->now_ms, e->epochs[PD_EPOCH_CURRENT], -1);
		}
		pd_fle_receive(&e->fle, node->now_ms, conn->peer_sid, &v);
		peer_after_fle(node);
	}
	pd_buf_consume(&conn->in, off);
}

void peer_conn_closed(struct pd_node *node, struct pd_conn *conn)
{
	struct node_ens *e = node->ens;
	if (e == NULL)
		return;
	if (conn->plane == PD_PLANE_QUORUM) {
		struct peer_learner *l = peer_learner_of(e, conn->id);
		if (l != NULL)
			peer_learner_drop(node, l, false);
		if (e->lconn == conn->id + 1) {
			e->lconn = 0;
			if (e->epoch == 0) {
				/* refused before it said anything (it was not leading
				 * yet): a failed dial, tried again */
				e->next_dial_ms = node->now_ms + 100;
				return;
			}
			peer_look(node); /* the link to my leader is gone */
		}
		return;
	}
	if (conn->peer_sid != 0) {
		struct peer_link *l = peer_link(e, conn->peer_sid);
		if (l != NULL && l->conn == conn->id + 1)
			l->conn = 0;
	}
}

void peer_connect_failed(struct pd_node *node, const struct pd_event *ev)
{
	struct node_ens *e = node->ens;
	struct peer_link *l;
	if (e == NULL)
		return;
	if (ev->plane == PD_PLANE_QUORUM) {
		if (e->ldialing && ev->peer_sid == e->leader) {
			e->ldialing = false;
			e->next_dial_ms = node->now_ms + 100; /* ZooKeeper's learner retries 100 ms apart */
		}
		return;
	}
	l = peer_link(e, ev->peer_sid);
	if (l != NULL)
		l->dialing = false; /* the next notification dials again */
}

void peer_epoch_durable(struct pd_node *node, enum pd_epoch_file which, uint64_t value)
{
	struct node_ens *e = node->ens;
	bool mine;
	if (e == NULL || (which != PD_EPOCH_ACCEPTED && which != PD_EPOCH_CURRENT))
		return;
	if (value > e->epochs[which])
		e->epochs[which] = value;
	if (which == PD_EPOCH_ACCEPTED && value > 0 && !e->distrust) {
		/* My disk is no longer empty: it holds a promise, made to a
		 * leader whose votes showed no history (else I would distrust
		 * myself by now).  Still counting myself as empty, I would
		 * distrust myself on hearing that same epoch from others, and
		 * an ensemble whose first leader fell before it synced anyone
		 * would have every voter distrusting and none voting. */
		e->empty_born = false;
	}
	mine = e->writing_serial[which] == e->role_serial && e->writing_value[which] == value;
	if (e->writing_value[which] == value)
		e->writing_serial[which] = 0;
	if (!mine)
		return; /* asked for by a role given up since: durable, nothing more */
	if (e->role == PD_PEER_LEADING && which == PD_EPOCH_ACCEPTED) {
		uint32_t i;
		for (i = 0; i < e->learner_count; i++)
			if (e->learners[i].sid != 0)
				peer_send_leaderinfo(node, &e->learners[i]);
		peer_leader_try_establish(node); /* the only voter acks its own epoch */
	} else if (e->role == PD_PEER_LEADING && which == PD_EPOCH_CURRENT) {
		e->established = true;
		e->next_ping_ms = node->now_ms;
		pd_fle_settle(&e->fle, PD_PEER_LEADING, e->leader, node->last_zxid, value);
		zab_leader_established(node);
	} else if (which == PD_EPOCH_CURRENT) {
		zab_epoch_durable(node, which, value);
	} else if (e->role != PD_PEER_LEADING && which == PD_EPOCH_ACCEPTED && e->lconn != 0 && e->epoch == value) {
		uint8_t v[4];
		pd_put_be32(v, (uint32_t)e->epochs[PD_EPOCH_CURRENT]);
		peer_send_qp(node, e->lconn - 1, PD_QP_ACKEPOCH, node->last_zxid, v, 4);
		e->epoch_acked = true;
		pd_fle_settle(&e->fle, (enum pd_peer_state)e->role, e->leader, e->fle.prop.zxid, value);
	}
}

void peer_tick(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e == NULL || !e->started || e->halted)
		return;
	pd_fle_tick(&e->fle, node->now_ms);
	peer_after_fle(node);
	if (e->role == PD_PEER_LEADING)
		peer_leader_tick(node);
	else if (e->role == PD_PEER_FOLLOWING || e->role == PD_PEER_OBSERVING)
		peer_learner_tick(node);
}

uint64_t peer_deadline(const struct pd_node *node)
{
	return node->ens != NULL ? pd_fle_deadline(&node->ens->fle) : 0;
}

bool peer_halted(const struct pd_node *node)
{
	return node->ens != NULL && node->ens->halted;
}

bool peer_serving(const struct pd_node *node)
{
	return zab_serving(node);
}

void peer_stats(const struct pd_node *node, struct pd_node_stats *out)
{
	const struct node_ens *e = node->ens;
	out->role = e != NULL ? e->role : -1;
	out->serving = zab_serving(node);
	if (e == NULL)
		return;
	{
		uint32_t i;
		out->learners = e->learner_count;
		for (i = 0; i < e->learner_count; i++)
			if (e->learners[i].newleader_acked) {
				out->synced_learners++;
				if (e->learners[i].observer)
					out->synced_observers++;
				else
					out->synced_followers++;
			}
		out->pending_syncs = e->sync_count;
		out->last_proposal_size = e->last_proposal_size;
		out->max_proposal_size = e->max_proposal_size;
		out->min_proposal_size = e->min_proposal_size;
	}
	out->proposals = e->proposals;
	out->quorum_size = e->fle.voter_count;
	out->syncs_diff = e->syncs_diff;
	out->syncs_trunc = e->syncs_trunc;
	out->syncs_snap = e->syncs_snap;
	out->reloads_asked = e->halted ? 1 : 0;
	out->leader = e->leader;
	out->election_round = e->fle.round;
	out->elections = e->elections;
	out->established = e->role == PD_PEER_LEADING ? e->established
							: e->lconn != 0 && e->epoch_acked && e->got_ping;
	out->epoch = e->epoch;
	out->accepted_epoch = e->epochs[PD_EPOCH_ACCEPTED];
	out->current_epoch = e->epochs[PD_EPOCH_CURRENT];
	out->lost_leadership = e->lost;
}
