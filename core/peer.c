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
 * Not yet: discovery, synchronisation and broadcast.  Until they land the
 * elected role is taken at once (no epoch is established) and the node
 * serves no clients in an ensemble; only the simulator and tests turn
 * ensembles on (cfg.ensemble_preview).
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fle.h"
#include "jute.h"
#include "server_int.h"

#define PEER_FRAME_MAX (512u * 1024u)

struct peer_link {
	uint64_t sid;
	uint32_t conn;       /* the election connection's id + 1; 0: none */
	bool dialing;
	bool have_pending;   /* a notification waits for a connection */
	struct pd_vote pending;
};

struct node_ens {
	struct pd_fle fle;
	struct peer_link links[PD_FLE_PEERS_MAX];
	uint32_t link_count;
	bool started;
	int role;
	uint64_t leader;
	uint64_t elections;
	char my_addr[160];
};

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
	node->ens = e;
	return 0;
}

void peer_destroy(struct pd_node *node)
{
	if (node->ens != NULL)
		pd_mem_free(&node->mem, node->ens, sizeof(*node->ens));
	node->ens = NULL;
}

static struct peer_link *peer_link(struct node_ens *e, uint64_t sid)
{
	uint32_t i;
	for (i = 0; i < e->link_count; i++)
		if (e->links[i].sid == sid)
			return &e->links[i];
	return NULL;
}

static void peer_dial(struct pd_node *node, struct peer_link *l)
{
	struct pd_effect fx;
	if (l->dialing || l->conn != 0)
		return;
	memset(&fx, 0, sizeof(fx));
	fx.type = PD_FX_CONNECT;
	fx.plane = PD_PLANE_ELECTION;
	fx.peer = l->sid;
	if (node_fx_push(node, &fx) == 0)
		l->dialing = true;
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
	peer_dial(node, l);
}

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
	if (pd_fle_decision(&e->fle, &st, &leader)) {
		/* discovery and sync come next; until then the role is taken at once */
		e->role = (int)st;
		e->leader = leader;
		e->elections++;
		pd_fle_settle(&e->fle, st, leader, e->fle.prop.zxid, e->fle.prop.peer_epoch);
	}
}

void peer_start(struct pd_node *node)
{
	struct node_ens *e = node->ens;
	pd_zxid z;
	if (e == NULL || e->started)
		return;
	e->started = true;
	z = node->last_zxid;
	/* currentEpoch is not persisted yet: the epoch of the last zxid stands in */
	pd_fle_look(&e->fle, node->now_ms, PD_ZXID_EPOCH(z), z);
	peer_after_fle(node);
}

/* Binds an election connection to its peer's link, replacing another. */
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

int peer_conn_open(struct pd_node *node, struct pd_conn *conn, const struct pd_event *ev)
{
	struct node_ens *e = node->ens;
	struct peer_link *l;
	conn->plane = (uint8_t)ev->plane;
	conn->outbound = ev->outbound;
	conn->peer_sid = ev->outbound ? ev->peer_sid : 0;
	if (e == NULL || ev->plane != PD_PLANE_ELECTION) {
		node_conn_close(node, conn); /* the quorum plane is not served yet */
		return 0;
	}
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
		size_t start, n = pd_fle_hello_encode((uint64_t)node->cfg.my_id, e->my_addr, b, sizeof(b));
		struct pd_jw jw = {&node->io_mem, &node->fx->bytes};
		struct pd_effect fx;
		start = node->fx->bytes.len;
		pd_jw_bytes(&jw, b, n);
		memset(&fx, 0, sizeof(fx));
		fx.type = PD_FX_SEND;
		fx.conn = conn->id;
		fx.offset = start;
		fx.len = n;
		if (node_fx_push(node, &fx) != 0)
			return PD_ENOMEM;
	}
	conn->hello_done = true;
	/* one connection per pair: the larger sid keeps the one it dialed;
	 * a smaller one's is closed by the peer, which dials back */
	if ((uint64_t)node->cfg.my_id > ev->peer_sid)
		peer_bind(node, l, conn);
	return 0;
}

void peer_conn_data(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len)
{
	struct node_ens *e = node->ens;
	size_t off = 0;
	if (pd_buf_append(&node->io_mem, &conn->in, p, len) != 0) {
		node_conn_close(node, conn);
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
			peer_dial(node, l);
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
		pd_fle_receive(&e->fle, node->now_ms, conn->peer_sid, &v);
		peer_after_fle(node);
	}
	pd_buf_consume(&conn->in, off);
}

void peer_conn_closed(struct pd_node *node, struct pd_conn *conn)
{
	struct peer_link *l;
	if (node->ens == NULL || conn->peer_sid == 0)
		return;
	l = peer_link(node->ens, conn->peer_sid);
	if (l != NULL && l->conn == conn->id + 1)
		l->conn = 0;
}

void peer_connect_failed(struct pd_node *node, const struct pd_event *ev)
{
	struct peer_link *l = node->ens != NULL ? peer_link(node->ens, ev->peer_sid) : NULL;
	if (l != NULL)
		l->dialing = false; /* the next notification dials again */
}

void peer_tick(struct pd_node *node)
{
	if (node->ens == NULL || !node->ens->started)
		return;
	pd_fle_tick(&node->ens->fle, node->now_ms);
	peer_after_fle(node);
}

uint64_t peer_deadline(const struct pd_node *node)
{
	return node->ens != NULL ? pd_fle_deadline(&node->ens->fle) : 0;
}

bool peer_serving(const struct pd_node *node)
{
	return node->ens == NULL; /* an ensemble serves once ZAB establishes it (not yet) */
}

void peer_stats(const struct pd_node *node, struct pd_node_stats *out)
{
	const struct node_ens *e = node->ens;
	out->role = e != NULL ? e->role : -1;
	out->leader = e != NULL ? e->leader : 0;
	out->election_round = e != NULL ? e->fle.round : 0;
	out->elections = e != NULL ? e->elections : 0;
}
