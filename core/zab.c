/*
 * zab.c: synchronisation and broadcast (zab-and-server.md §3.3-§3.5), the
 * part of the ensemble that comes after discovery (peer.c).
 *
 * Leader.  Once its epoch is established (currentEpoch durable after a
 * quorum of ACKEPOCHs) it syncs every learner that sent ACKEPOCH, choosing
 * DIFF, TRUNC or SNAP with pd_sync_plan over its committed log (the last
 * commit_log_count committed txns, kept in memory):
 *   - DIFF: PROPOSAL+COMMIT for every committed txn after the learner's
 *     last zxid, PROPOSAL for every outstanding one, then NEWLEADER; from
 *     then on the learner gets every proposal and commit;
 *   - TRUNC and SNAP: the learner must rebuild its state from disk
 *     (ZooKeeper reloads its database after both), so the leader sends the
 *     TRUNC, or the snapshot in SNAP packets of at most 128 KiB ended by an
 *     empty one, and that is all: the learner persists it, its driver
 *     rebuilds the node (PD_FX_RELOAD), and it comes back through election
 *     and discovery to an (empty) DIFF.
 * When a quorum (itself included) has acked NEWLEADER the leader serves:
 * UPTODATE goes to every learner that acked, and to later ones when they
 * ack.  A write is prepared and logged as in a standalone server; its
 * PROPOSAL goes to the followers; the leader's own durable log counts as
 * its ACK; acks are cumulative (a follower logs in order); a proposal
 * commits, in zxid order, when the voters that acked it form a quorum.
 * Then it is applied, COMMIT goes to followers and INFORM (with the txn) to
 * observers.
 *
 * Learner.  DIFF starts the history; PROPOSAL is logged (PD_FX_LOG_APPEND);
 * COMMIT (INFORM for an observer) lets it be applied, whether or not it is
 * durable here yet (a quorum has it).  NEWLEADER writes currentEpoch; once
 * that and every logged txn are durable the learner ACKs NEWLEADER, and
 * from then on ACKs, cumulatively, what becomes durable.  UPTODATE: it
 * serves clients.  Writes, createSession, closeSession and sync of its
 * clients are forwarded as REQUEST and answered when their txn (or SYNC)
 * comes back, matched in order by session and cxid.  Its PING replies
 * carry the sessions its clients touched, because only the leader expires
 * sessions.
 */
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "ens.h"
#include "err.h"
#include "jute.h"
#include "log.h"
#include "snap.h"
#include "sync.h"

#define ZAB_SNAP_CHUNK (128u * 1024u)
#define ZAB_CLOG_MAX 500u /* ZooKeeper's commitLogCount */

/* --- the committed log --- */

static void zab_clog_push(struct pd_node *node, pd_zxid zxid, uint8_t *txn, size_t len)
{
	struct node_ens *e = node->ens;
	struct zab_clog *c;
	if (e->clog_count == ZAB_CLOG_MAX) {
		c = &e->clog[e->clog_head];
		pd_mem_free(&node->io_mem, c->txn, c->len);
		e->clog_head = (e->clog_head + 1) % e->clog_cap;
		e->clog_count--;
	}
	if (pd_ring_reserve(&node->io_mem, (void **)&e->clog, &e->clog_head, e->clog_count, &e->clog_cap,
			    sizeof(*e->clog)) != 0) {
		pd_mem_free(&node->io_mem, txn, len);
		return; /* the log is shorter: a learner further back gets SNAP */
	}
	if (e->clog_count > 0 && e->clog[(e->clog_head + e->clog_count - 1) % e->clog_cap].zxid >= zxid) {
		pd_mem_free(&node->io_mem, txn, len);
		return;
	}
	c = &e->clog[(e->clog_head + e->clog_count) % e->clog_cap];
	c->zxid = zxid;
	c->txn = txn;
	c->len = len;
	e->clog_count++;
}

static struct zab_clog *zab_clog_at(struct node_ens *e, uint32_t i)
{
	return &e->clog[(e->clog_head + i) % e->clog_cap];
}

void zab_replayed(struct pd_node *node, const uint8_t *txn, size_t len, pd_zxid zxid)
{
	uint8_t *copy;
	if (node->ens == NULL)
		return;
	copy = pd_mem_alloc(&node->io_mem, len);
	if (copy == NULL)
		return;
	memcpy(copy, txn, len);
	zab_clog_push(node, zxid, copy, len);
}

void zab_free(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	for (i = 0; i < e->clog_count; i++)
		pd_mem_free(&node->io_mem, zab_clog_at(e, i)->txn, zab_clog_at(e, i)->len);
	pd_mem_free(&node->io_mem, e->clog, (size_t)e->clog_cap * sizeof(*e->clog));
	for (i = 0; i < e->fwd_count; i++) {
		struct zab_fwd *f = &e->fwd[(e->fwd_head + i) % e->fwd_cap];
		pd_mem_free(&node->io_mem, f->path, f->path_len);
	}
	pd_mem_free(&node->io_mem, e->fwd, (size_t)e->fwd_cap * sizeof(*e->fwd));
	pd_mem_free(&node->io_mem, e->syncs, (size_t)e->sync_cap * sizeof(*e->syncs));
	pd_buf_free(&node->io_mem, &e->snap);
}

/* --- what the node asks --- */

bool zab_learner(const struct pd_node *node)
{
	const struct node_ens *e = node->ens;
	return e != NULL && e->role != PD_PEER_LEADING;
}

bool zab_serving(const struct pd_node *node)
{
	const struct node_ens *e = node->ens;
	if (e == NULL)
		return true;
	if (e->halted)
		return false;
	if (e->role == PD_PEER_LEADING)
		return e->serving;
	return (e->role == PD_PEER_FOLLOWING || e->role == PD_PEER_OBSERVING) && e->lsync == LSYNC_UPTODATE &&
	       e->lconn != 0;
}

bool zab_expires(const struct pd_node *node)
{
	const struct node_ens *e = node->ens;
	return e == NULL || (e->role == PD_PEER_LEADING && e->serving && !e->halted);
}

/* The voters' acks: the newest zxid a quorum has durably logged. */
static pd_zxid zab_quorum_acked(const struct pd_node *node)
{
	const struct node_ens *e = node->ens;
	pd_zxid v[PD_FLE_PEERS_MAX + 1];
	uint32_t n = 0, i, q = peer_voter_quorum(e);
	v[n++] = node->durable_zxid;
	for (i = 0; i < e->learner_count; i++) {
		const struct peer_learner *l = &e->learners[i];
		if (l->forwarding && !l->observer)
			v[n++] = l->acked_zxid;
	}
	if (n < q)
		return 0;
	/* the q-th largest */
	for (i = 0; i < q; i++) {
		uint32_t j, best = i;
		for (j = i + 1; j < n; j++)
			if (v[j] > v[best])
				best = j;
		pd_zxid t = v[i];
		v[i] = v[best];
		v[best] = t;
	}
	return v[q - 1];
}

pd_zxid zab_apply_limit(const struct pd_node *node)
{
	const struct node_ens *e = node->ens;
	if (e == NULL)
		return node->durable_zxid;
	if (e->halted)
		return 0;
	if (e->role == PD_PEER_LEADING)
		return e->serving ? zab_quorum_acked(node) : 0;
	return e->commit_zxid;
}

/* --- leader: proposals and commits --- */

void zab_proposed(struct pd_node *node, pd_zxid zxid, const uint8_t *txn, size_t len)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	if (e == NULL || e->role != PD_PEER_LEADING)
		return;
	e->proposals++;
	e->last_proposal_size = (int64_t)len;
	if (e->max_proposal_size < (int64_t)len)
		e->max_proposal_size = (int64_t)len;
	if (e->min_proposal_size <= 0 || e->min_proposal_size > (int64_t)len)
		e->min_proposal_size = (int64_t)len;
	for (i = 0; i < e->learner_count; i++) {
		const struct peer_learner *l = &e->learners[i];
		if (l->forwarding && !l->observer)
			peer_send_qp(node, l->conn - 1, PD_QP_PROPOSAL, zxid, txn, (int32_t)len);
	}
}

static void zab_send_sync(struct pd_node *node, uint32_t conn, pd_zxid zxid)
{
	peer_send_qp(node, conn, PD_QP_SYNC, zxid, NULL, -1);
}

static void zab_syncs_due(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	while (e->sync_count > 0 && e->syncs[e->sync_head].zxid <= node->last_zxid) {
		struct zab_sync_wait *w = &e->syncs[e->sync_head];
		struct pd_conn *c = node_conn(node, w->conn - 1);
		if (c != NULL && c->serial == w->serial)
			zab_send_sync(node, c->id, node->last_zxid);
		e->sync_head = (e->sync_head + 1) % e->sync_cap;
		e->sync_count--;
	}
}

/* Matches an applied txn with the learner's forwarded request it answers. */
static void zab_match(struct pd_node *node, struct pend *p)
{
	struct node_ens *e = node->ens;
	struct zab_fwd *f;
	int64_t client;
	int32_t cxid, type;
	if (e->fwd_count == 0 || p->txn_len < 24)
		return;
	f = &e->fwd[e->fwd_head];
	if (f->kind == PEND_SYNC)
		return;
	client = (int64_t)pd_be64(p->txn);
	cxid = (int32_t)pd_be32(p->txn + 8);
	type = (int32_t)pd_be32(p->txn + 28);
	(void)type;
	if (client != f->session || cxid != f->cxid)
		return; /* (a createSession is forwarded with cxid 0, as its txn has) */
	p->kind = f->kind;
	p->conn = f->conn;
	p->conn_serial = f->conn_serial;
	p->xid = f->cxid;
	p->req_type = f->type;
	p->timeout_ms = f->timeout_ms;
	p->start_ms = f->start_ms;
	pd_mem_free(&node->io_mem, f->path, f->path_len);
	e->fwd_head = (e->fwd_head + 1) % e->fwd_cap;
	e->fwd_count--;
}

void zab_before_apply(struct pd_node *node, struct pend *p)
{
	if (node->ens != NULL && node->ens->role != PD_PEER_LEADING)
		zab_match(node, p);
}

bool zab_applied(struct pd_node *node, const struct pend *p)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	if (e == NULL)
		return false;
	if (e->role == PD_PEER_LEADING && e->serving && !e->halted) {
		for (i = 0; i < e->learner_count; i++) {
			const struct peer_learner *l = &e->learners[i];
			if (!l->forwarding)
				continue;
			if (l->observer)
				peer_send_qp(node, l->conn - 1, PD_QP_INFORM, p->zxid, p->txn, (int32_t)p->txn_len);
			else
				peer_send_qp(node, l->conn - 1, PD_QP_COMMIT, p->zxid, NULL, -1);
		}
		e->commits_sent++;
		zab_syncs_due(node);
	}
	zab_clog_push(node, p->zxid, p->txn, p->txn_len);
	return true; /* the committed log owns the bytes now */
}

/* --- leader: synchronising a learner --- */

static void zab_send_snap(struct pd_node *node, struct peer_learner *l)
{
	struct pd_snap_writer w;
	struct pd_buf piece;
	int rc;
	memset(&piece, 0, sizeof(piece));
	pd_snap_writer_init(&w, node);
	do {
		piece.len = 0;
		piece.err = 0;
		rc = pd_snap_writer_next(&w, &piece, ZAB_SNAP_CHUNK);
		if (rc < 0)
			break;
		peer_send_qp(node, l->conn - 1, PD_QP_SNAP, node->last_zxid, piece.data, (int32_t)piece.len);
	} while (rc == 1);
	pd_snap_writer_free(&w);
	pd_buf_free(&node->io_mem, &piece);
	if (rc < 0) {
		peer_learner_drop(node, l, true); /* out of memory: it tries again */
		return;
	}
	peer_send_qp(node, l->conn - 1, PD_QP_SNAP, node->last_zxid, NULL, -1); /* the end */
}

static void zab_sync_learner(struct pd_node *node, struct peer_learner *l)
{
	struct node_ens *e = node->ens;
	struct pd_sync_plan plan;
	pd_zxid zs[ZAB_CLOG_MAX];
	uint32_t i, n = e->clog_count;
	uint32_t conn = l->conn - 1;
	for (i = 0; i < n; i++)
		zs[i] = zab_clog_at(e, i)->zxid;
	/* the log must end at the tree's state to speak for it */
	if (n > 0 && zs[n - 1] != node->last_zxid)
		n = 0;
	pd_sync_plan(l->last_zxid, node->last_zxid, zs, n, &plan);
	l->sync_sent = true;
	if (plan.kind == PD_SYNC_TRUNC) {
		e->syncs_trunc++;
		PD_MARK(node, PD_MARK_SYNC_TRUNC);
		peer_send_qp(node, conn, PD_QP_TRUNC, plan.trunc_to, NULL, -1);
		return; /* it rebuilds from its disk and comes back */
	}
	if (plan.kind == PD_SYNC_SNAP) {
		e->syncs_snap++;
		PD_MARK(node, PD_MARK_SYNC_SNAP);
		zab_send_snap(node, l);
		return;
	}
	e->syncs_diff++;
	PD_MARK(node, PD_MARK_SYNC_DIFF);
	peer_send_qp(node, conn, PD_QP_DIFF, node->last_zxid, NULL, -1);
	for (i = 0; i < e->clog_count; i++) {
		const struct zab_clog *c = zab_clog_at(e, i);
		if (c->zxid <= plan.from)
			continue;
		peer_send_qp(node, conn, PD_QP_PROPOSAL, c->zxid, c->txn, (int32_t)c->len);
		peer_send_qp(node, conn, PD_QP_COMMIT, c->zxid, NULL, -1);
	}
	/* what is proposed but not committed yet; its COMMIT follows later */
	if (!l->observer) {
		const struct pend_queue *q = &node->pending;
		for (i = 0; i < q->count; i++) {
			const struct pend *p = &q->items[(q->head + i) % q->cap];
			peer_send_qp(node, conn, PD_QP_PROPOSAL, p->zxid, p->txn, (int32_t)p->txn_len);
		}
	}
	peer_send_qp(node, conn, PD_QP_NEWLEADER, PD_ZXID_MAKE(e->epoch, 0), NULL, -1);
	l->forwarding = true;
	l->acked_zxid = 0;
}

void zab_leader_ackepoch(struct pd_node *node, struct peer_learner *l)
{
	struct node_ens *e = node->ens;
	if (e->established && !l->sync_sent)
		zab_sync_learner(node, l);
}

/* Every session gets a fresh timeout when a leader starts serving: the
 * previous leader's knowledge of their touches is gone (ZooKeeper does the
 * same when it loads its sessions). */
static void zab_touch_all(struct pd_node *node)
{
	uint32_t pos = 0;
	struct pd_session *s;
	while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL)
		pd_session_touch(&node->sessions, s, node->now_ms);
}

static void zab_maybe_serve(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i, n = 1;
	if (e->serving)
		return;
	for (i = 0; i < e->learner_count; i++) {
		const struct peer_learner *l = &e->learners[i];
		if (l->newleader_acked && !l->observer && pd_fle_is_voter(&e->fle, l->sid))
			n++;
	}
	if (n < peer_voter_quorum(e))
		return;
	PD_MARK(node, PD_MARK_LEADER_SERVING);
	e->serving = true;
	zab_touch_all(node);
	for (i = 0; i < e->learner_count; i++)
		if (e->learners[i].newleader_acked)
			peer_send_qp(node, e->learners[i].conn - 1, PD_QP_UPTODATE, 0, NULL, -1);
}

void zab_leader_established(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	e->empty_born = false; /* a quorum established my history */
	PD_ASSERT(node->pending.count == 0);
	node->next_zxid = PD_ZXID_MAKE(e->epoch, 0);
	for (i = 0; i < e->learner_count; i++)
		if (e->learners[i].ackepoch_seen && !e->learners[i].sync_sent)
			zab_sync_learner(node, &e->learners[i]);
	zab_maybe_serve(node);
}

static void zab_leader_request(struct pd_node *node, struct peer_learner *l, const struct pd_qp *qp)
{
	struct node_ens *e = node->ens;
	struct pd_jr jr;
	struct pd_conn asker;
	int64_t session;
	int32_t cxid, type, nauth, i;
	PD_MARK(node, PD_MARK_FORWARDED);
	int rc = 0;
	if (!e->serving || !l->forwarding || qp->data.is_null) {
		peer_learner_drop(node, l, true);
		return;
	}
	pd_jr_init(&jr, qp->data.ptr, qp->data.len, PEER_FRAME_MAX);
	session = pd_jr_long(&jr);
	cxid = pd_jr_int(&jr);
	type = pd_jr_int(&jr);
	nauth = pd_jr_int(&jr);
	memset(&asker, 0, sizeof(asker));
	asker.id = PD_CONN_NONE;
	asker.session_id = session;
	for (i = 0; i < nauth && jr.err == 0 && rc == 0; i++) {
		struct pd_span scheme = pd_jr_buffer(&jr);
		struct pd_span id = pd_jr_buffer(&jr);
		char sch[16];
		if (jr.err != 0 || scheme.is_null || id.is_null || scheme.len >= sizeof(sch))
			break;
		memcpy(sch, scheme.ptr, scheme.len);
		sch[scheme.len] = '\0';
		if (strcmp(sch, "super") == 0)
			asker.auth.super = true;
		else
			rc = pd_auth_add(&node->mem, &asker.auth, sch, (const char *)id.ptr, id.len);
	}
	if (jr.err != 0 || i != nauth || nauth < 0) {
		pd_auth_free(&node->mem, &asker.auth);
		peer_learner_drop(node, l, true); /* malformed: that link only */
		return;
	}
	if (rc == 0) {
		if (type == PD_OP_SYNC) {
			if (node->pending.count == 0) {
				zab_send_sync(node, l->conn - 1, node->last_zxid);
			} else if (pd_ring_reserve(&node->io_mem, (void **)&e->syncs, &e->sync_head, e->sync_count,
						   &e->sync_cap, sizeof(*e->syncs)) == 0) {
				struct zab_sync_wait *w = &e->syncs[(e->sync_head + e->sync_count) % e->sync_cap];
				struct pd_conn *c = node_conn(node, l->conn - 1);
				w->conn = l->conn;
				w->serial = c != NULL ? c->serial : 0;
				w->zxid = node->next_zxid;
				e->sync_count++;
			} else {
				rc = PD_ENOMEM;
			}
		} else {
			rc = request_forwarded(node, &asker, session, cxid, type, jr.p, (size_t)(jr.end - jr.p));
		}
	}
	pd_auth_free(&node->mem, &asker.auth);
	if (rc != 0)
		peer_learner_drop(node, l, true); /* nothing may be lost silently: it reconnects */
}

void zab_leader_packet(struct pd_node *node, struct peer_learner *l, const struct pd_qp *qp)
{
	struct node_ens *e = node->ens;
	switch (qp->type) {
	case PD_QP_ACK:
		if (!l->forwarding)
			return;
		if (qp->zxid == PD_ZXID_MAKE(e->epoch, 0)) {
			if (l->newleader_acked)
				return;
			l->newleader_acked = true;
			if (e->serving)
				peer_send_qp(node, l->conn - 1, PD_QP_UPTODATE, 0, NULL, -1);
			else
				zab_maybe_serve(node);
			return;
		}
		if (l->observer || qp->zxid <= l->acked_zxid || PD_ZXID_EPOCH(qp->zxid) != e->epoch ||
		    qp->zxid > node->next_zxid)
			return;
		l->acked_zxid = qp->zxid;
		node_advance(node);
		return;
	case PD_QP_REQUEST:
		zab_leader_request(node, l, qp);
		return;
	case PD_QP_PING:
		/* the sessions its clients touched */
		if (!qp->data.is_null && e->serving) {
			struct pd_jr jr;
			pd_jr_init(&jr, qp->data.ptr, qp->data.len, PEER_FRAME_MAX);
			while (jr.p < jr.end && jr.err == 0) {
				int64_t id = pd_jr_long(&jr);
				struct pd_session *s;
				(void)pd_jr_int(&jr);
				if (jr.err != 0)
					break;
				s = pd_session_get(&node->sessions, id);
				if (s != NULL)
					pd_session_touch(&node->sessions, s, node->now_ms);
			}
		}
		return;
	default:
		return;
	}
}

/* --- learner --- */

static void zab_learner_acks(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (e->lconn == 0 || e->halted)
		return;
	if (e->lsync == LSYNC_NEWLEADER && !e->newleader_acked) {
		uint64_t epoch = PD_ZXID_EPOCH(e->newleader_zxid);
		/* the history first, then currentEpoch, then the ACK: an epoch
		 * file ahead of a log that a crash cut short would let this server
		 * win an election without txns a quorum committed (the bug
		 * ZooKeeper fixed as ZOOKEEPER-4643) */
		if (node->durable_zxid < node->next_zxid)
			return;
		if (e->epochs[PD_EPOCH_CURRENT] < epoch) {
			if (e->writing_serial[PD_EPOCH_CURRENT] != e->role_serial ||
			    e->writing_value[PD_EPOCH_CURRENT] != epoch)
				peer_write_epoch(node, PD_EPOCH_CURRENT, epoch);
			return;
		}
		e->newleader_acked = true;
		e->acked_zxid = 0;
		e->empty_born = false; /* synced by a leader: my data is evidence now */
		e->distrust = false;
		peer_send_qp(node, e->lconn - 1, PD_QP_ACK, e->newleader_zxid, NULL, -1);
	}
	if (!e->newleader_acked || e->role == PD_PEER_OBSERVING)
		return;
	if (node->durable_zxid > e->acked_zxid && PD_ZXID_EPOCH(node->durable_zxid) == e->epoch) {
		e->acked_zxid = node->durable_zxid;
		peer_send_qp(node, e->lconn - 1, PD_QP_ACK, node->durable_zxid, NULL, -1);
	}
}

void zab_durable(struct pd_node *node)
{
	if (node->ens == NULL || node->ens->halted)
		return;
	if (node->ens->role == PD_PEER_LEADING)
		peer_leader_try_establish(node);
	else
		zab_learner_acks(node);
}

void zab_epoch_durable(struct pd_node *node, enum pd_epoch_file which, uint64_t value)
{
	(void)value;
	if (which == PD_EPOCH_CURRENT && node->ens->role != PD_PEER_LEADING)
		zab_learner_acks(node);
}

static void zab_reload(struct pd_node *node, pd_zxid zxid, const uint8_t *snap, size_t len)
{
	struct node_ens *e = node->ens;
	struct pd_effect fx;
	size_t off = node->fx->bytes.len;
	memset(&fx, 0, sizeof(fx));
	fx.type = PD_FX_RELOAD;
	fx.zxid = zxid;
	fx.peer = e->leader;
	if (len > 0) {
		struct pd_jw jw = {&node->io_mem, &node->fx->bytes};
		pd_jw_bytes(&jw, snap, len);
		fx.offset = off;
		fx.len = len;
	}
	if (node->fx->bytes.err != 0 || node_fx_push(node, &fx) != 0) {
		node->fx->bytes.err = 0;
		node->fx->bytes.len = off;
		peer_look(node); /* cannot ask now: try the whole thing again */
		return;
	}
	e->halted = true;
}

void zab_log_failed(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	if (!e->started || e->halted)
		return;
	if (node->last_zxid > node->durable_zxid) {
		/* the tree holds txns the failed log dropped: rebuild from the
		 * disk (nothing after the durable end), then elect */
		e->leader = 0;
		PD_MARK(node, PD_MARK_RELOAD_LOG_FAILED);
		zab_reload(node, node->durable_zxid, NULL, 0);
		return;
	}
	peer_look(node);
}

static void zab_learner_proposal(struct pd_node *node, const struct pd_qp *qp, bool committed)
{
	struct node_ens *e = node->ens;
	struct pend p;
	if (qp->data.is_null || qp->data.len < 32 || pd_be64(qp->data.ptr + 12) != (uint64_t)qp->zxid ||
	    !apply_txn_valid(qp->data.ptr, qp->data.len)) {
		peer_look(node); /* a leader that sends garbage is no leader */
		return;
	}
	if (node->log_failed) {
		peer_look(node); /* no log to keep it in: not a member until it is back */
		return;
	}
	if (qp->zxid <= node->next_zxid) {
		/* already logged (the history overlapped): only its commit matters */
		if (committed && qp->zxid > e->commit_zxid)
			e->commit_zxid = qp->zxid;
		return;
	}
	if (qp->zxid != node->next_zxid + 1 &&
	    !(PD_ZXID_COUNTER(qp->zxid) == 1 && PD_ZXID_EPOCH(qp->zxid) > PD_ZXID_EPOCH(node->next_zxid))) {
		peer_look(node); /* a hole in the history: sync again */
		return;
	}
	node->txn.len = 0;
	node->txn.err = 0;
	if (pd_buf_append(&node->io_mem, &node->txn, qp->data.ptr, qp->data.len) != 0) {
		peer_look(node);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.zxid = qp->zxid;
	p.kind = PEND_SERVER;
	p.conn = PD_CONN_NONE;
	p.start_ms = node->now_ms;
	if (node_log_txn(node, &p) != 0) {
		peer_look(node);
		return;
	}
	if (committed && qp->zxid > e->commit_zxid)
		e->commit_zxid = qp->zxid;
}

static void zab_learner_sync_reply(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	struct zab_fwd *f;
	struct pd_conn *conn;
	if (e->fwd_count == 0 || e->fwd[e->fwd_head].kind != PEND_SYNC)
		return; /* not one of ours (cannot happen with a sound leader) */
	f = &e->fwd[e->fwd_head];
	conn = node_conn(node, f->conn);
	if (conn != NULL && conn->serial == f->conn_serial) {
		size_t start;
		struct pd_jw jw = node_frame_begin(node, &start);
		PD_ASSERT(conn->pending_writes > 0);
		conn->pending_writes--;
		pd_jw_reply_header(&jw, f->cxid, node->last_zxid, 0);
		pd_jw_string(&jw, f->path != NULL ? f->path : "", f->path_len);
		node_frame_end(node, conn, start);
	}
	pd_mem_free(&node->io_mem, f->path, f->path_len);
	e->fwd_head = (e->fwd_head + 1) % e->fwd_cap;
	e->fwd_count--;
	node_resume_held_all(node);
}

void zab_learner_packet(struct pd_node *node, struct pd_conn *conn, const struct pd_qp *qp)
{
	struct node_ens *e = node->ens;
	(void)conn;
	if (e->halted)
		return;
	switch (qp->type) {
	case PD_QP_DIFF:
		if (e->lsync != LSYNC_DISCOVERY || !e->epoch_acked) {
			peer_look(node);
			return;
		}
		e->lsync = LSYNC_RECEIVING;
		return;
	case PD_QP_TRUNC:
		if (e->lsync != LSYNC_DISCOVERY || !e->epoch_acked) {
			peer_look(node);
			return;
		}
		PD_MARK(node, PD_MARK_RELOAD_TRUNC);
		zab_reload(node, qp->zxid, NULL, 0);
		return;
	case PD_QP_SNAP:
		if (e->lsync != LSYNC_DISCOVERY || !e->epoch_acked) {
			peer_look(node);
			return;
		}
		if (!qp->data.is_null) {
			if (e->snap.len == 0)
				e->snap_zxid = qp->zxid;
			if (pd_buf_append(&node->io_mem, &e->snap, qp->data.ptr, qp->data.len) != 0) {
				pd_buf_free(&node->io_mem, &e->snap);
				peer_look(node);
			}
			return;
		}
		PD_MARK(node, PD_MARK_RELOAD_SNAP);
		zab_reload(node, e->snap_zxid, e->snap.data, e->snap.len);
		pd_buf_free(&node->io_mem, &e->snap);
		return;
	case PD_QP_PROPOSAL:
		if (e->lsync == LSYNC_DISCOVERY) {
			peer_look(node);
			return;
		}
		zab_learner_proposal(node, qp, false);
		return;
	case PD_QP_INFORM:
		if (e->lsync == LSYNC_DISCOVERY) {
			peer_look(node);
			return;
		}
	{
		uint64_t serial = e->role_serial;
		zab_learner_proposal(node, qp, true);
		if (e->halted || e->role_serial != serial)
			return;
		node_advance(node);
		return;
	}
	case PD_QP_COMMIT:
		if (e->lsync == LSYNC_DISCOVERY || qp->zxid > node->next_zxid) {
			PD_MARK(node, PD_MARK_COMMIT_UNKNOWN);
			peer_look(node); /* a commit of something never proposed to me */
			return;
		}
		if (qp->zxid > e->commit_zxid)
			e->commit_zxid = qp->zxid;
		node_advance(node);
		return;
	case PD_QP_NEWLEADER:
		if (e->lsync != LSYNC_RECEIVING || PD_ZXID_EPOCH(qp->zxid) != e->epoch) {
			peer_look(node);
			return;
		}
		e->lsync = LSYNC_NEWLEADER;
		e->newleader_zxid = qp->zxid;
		zab_learner_acks(node);
		return;
	case PD_QP_UPTODATE:
		if (e->lsync != LSYNC_NEWLEADER || !e->newleader_acked) {
			peer_look(node);
			return;
		}
		e->lsync = LSYNC_UPTODATE;
		return;
	case PD_QP_SYNC:
		zab_learner_sync_reply(node);
		return;
	default:
		return;
	}
}

/* The learner's PING reply: the sessions touched since the last one. */
void zab_learner_ping(struct pd_node *node, uint32_t conn, pd_zxid zxid)
{
	struct pd_buf b = {0};
	struct pd_jw jw = {&node->io_mem, &b};
	uint32_t pos = 0;
	struct pd_session *s;
	while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL) {
		if (!s->touched)
			continue;
		s->touched = false;
		pd_jw_long(&jw, s->id);
		pd_jw_int(&jw, s->timeout_ms);
	}
	if (b.err == 0)
		peer_send_qp(node, conn, PD_QP_PING, zxid, b.len > 0 ? b.data : NULL, b.len > 0 ? (int32_t)b.len : -1);
	pd_buf_free(&node->io_mem, &b);
}

int zab_forward(struct pd_node *node, struct pd_conn *conn, const struct zab_fwd *f, const uint8_t *body,
		size_t body_len)
{
	struct node_ens *e = node->ens;
	struct pd_buf b = {0};
	struct pd_jw jw = {&node->io_mem, &b};
	struct zab_fwd *slot;
	uint32_t i;
	int rc;
	if (e == NULL || e->lconn == 0 || e->halted)
		return PD_ECLOSED;
	if (pd_ring_reserve(&node->io_mem, (void **)&e->fwd, &e->fwd_head, e->fwd_count, &e->fwd_cap,
			    sizeof(*e->fwd)) != 0)
		return PD_ENOMEM;
	pd_jw_long(&jw, f->session);
	pd_jw_int(&jw, f->cxid);
	pd_jw_int(&jw, f->type);
	pd_jw_int(&jw, (int32_t)(conn->auth.count + (conn->auth.super ? 1 : 0)));
	for (i = 0; i < conn->auth.count; i++) {
		pd_jw_string(&jw, conn->auth.ids[i].scheme, strlen(conn->auth.ids[i].scheme));
		pd_jw_buffer(&jw, conn->auth.ids[i].id, (int32_t)conn->auth.ids[i].id_len);
	}
	if (conn->auth.super) {
		pd_jw_string(&jw, "super", 5);
		pd_jw_buffer(&jw, "", 0);
	}
	pd_jw_bytes(&jw, body, body_len);
	rc = b.err;
	if (rc == 0) {
		slot = &e->fwd[(e->fwd_head + e->fwd_count) % e->fwd_cap];
		*slot = *f;
		slot->conn = conn->id;
		slot->conn_serial = conn->serial;
		slot->path = NULL;
		slot->path_len = 0;
		if (f->path != NULL && f->path_len > 0) {
			slot->path = pd_mem_alloc(&node->io_mem, f->path_len);
			if (slot->path == NULL)
				rc = PD_ENOMEM;
			else {
				memcpy(slot->path, f->path, f->path_len);
				slot->path_len = f->path_len;
			}
		}
	}
	if (rc == 0) {
		e->fwd_count++;
		peer_send_qp(node, e->lconn - 1, PD_QP_REQUEST, 0, b.data, (int32_t)b.len);
	}
	pd_buf_free(&node->io_mem, &b);
	return rc;
}

/* --- role changes --- */

void zab_drop_clients(struct pd_node *node)
{
	uint32_t i;
	for (i = 0; i < node->conns_cap; i++) {
		struct pd_conn *c = node->conns[i];
		if (c != NULL && c->plane == PD_PLANE_CLIENT && c->state != CONN_FOURLW)
			node_conn_close(node, c);
	}
}

void zab_role_end(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	uint32_t i;
	/* clients learn nothing more from this role: their connections go */
	for (i = 0; i < node->conns_cap; i++) {
		struct pd_conn *c = node->conns[i];
		if (c != NULL && c->plane == PD_PLANE_CLIENT && c->state != CONN_FOURLW)
			node_conn_close(node, c);
	}
	for (i = 0; i < e->fwd_count; i++) {
		struct zab_fwd *f = &e->fwd[(e->fwd_head + i) % e->fwd_cap];
		pd_mem_free(&node->io_mem, f->path, f->path_len);
	}
	e->fwd_count = 0;
	e->fwd_head = 0;
	e->sync_count = 0;
	e->sync_head = 0;
	pd_buf_free(&node->io_mem, &e->snap);
	/* what is logged is part of this server's history: the tree catches
	 * up with it before the server votes (ZOOKEEPER-2845); none of it is
	 * committed by this (and no COMMIT may go out for it) */
	e->serving = false;
	node_apply_all_pending(node);
	/* a leader that proposed nothing in its epoch leaves no (E, 0) behind */
	if (node->pending.count == 0 && node->next_zxid > node->last_zxid)
		node->next_zxid = node->last_zxid;
	if (node->durable_zxid > node->next_zxid)
		node->durable_zxid = node->next_zxid;
	e->serving = false;
	e->lsync = LSYNC_DISCOVERY;
	e->newleader_acked = false;
	e->newleader_zxid = 0;
	e->commit_zxid = 0;
	e->acked_zxid = 0;
}
