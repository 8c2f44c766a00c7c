/*
 * server_int.h: state shared by node.c, request.c, prep.c, apply.c and
 * admin.c: the node, its connections, and the helpers that append replies
 * and notifications to the effect list.
 *
 * Ownership: a pd_node owns its memory accounting, ACL table, tree, session
 * table, watch table and connection table.  A connection belongs to the
 * node from PD_EV_CONN_OPEN until the core emits PD_FX_CLOSE for it or the
 * driver reports PD_EV_CONN_CLOSED.
 */
#ifndef PD_SERVER_INT_H
#define PD_SERVER_INT_H

#include "marks.h"
#include "observe.h"
#include "acl.h"
#include "pd.h"
#include "prng.h"
#include "proto.h"
#include "sasl.h"
#include "session.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"

enum conn_state {
	CONN_NEW = 0, /* waiting for ConnectRequest or a four-letter word */
	CONN_READY,   /* session attached */
	CONN_FOURLW,  /* answered a four-letter word; the driver closes it */
	CONN_CLOSING, /* closed by the core, but PD_FX_CLOSE could not be recorded
		       * yet (the I/O allocator failed); retried at the next step */
	CONN_CONNECTING, /* its createSession waits for the log */
};

struct latency_stats {
	uint64_t min_ms;
	uint64_t max_ms;
	uint64_t sum_ms;
	uint64_t count;
};

struct pd_conn {
	uint32_t id;
	uint8_t plane;           /* enum pd_plane */
	bool outbound;           /* a peer connection this node dialed */
	bool hello_done;         /* an election connection's hello is read (or sent) */
	uint64_t peer_sid;       /* a peer connection's server */
	enum conn_state state;
	uint64_t serial;         /* never reused, unlike id */
	uint32_t pending_writes; /* prepared, not yet applied */
	bool held;               /* a read waits behind pending_writes */
	bool closing_session;    /* sent closeSession: the rest is ignored */
	struct pd_buf in;
	int64_t session_id;
	struct pd_auth_set auth;
	char ip[48];
	uint16_t port;
	bool has_read_only;
	struct pd_sasl sasl;
	uint64_t opened_ms;
	int64_t established_wall_ms;
	/* statistics for cons/stat */
	uint64_t packets_received;
	uint64_t packets_sent;
	int32_t last_op;
	int64_t last_cxid;
	int64_t last_zxid;
	int64_t last_response_wall_ms;
	uint64_t last_latency_ms;
	struct latency_stats latency;
};

/* PD_BUGGIFY (STYLE §3 lesson 14): chaos the simulator turns on with
 * cfg.buggify_seed.  Each site is activated or not once per node from that
 * seed, and an active site fires on 5% of its passes.  Sites only take paths
 * that are legal anyway (an early timer, a snapshot now, a reaper pass now),
 * so that rare code runs often under the simulator. */
enum pd_buggify_site {
	PD_BUGGIFY_EARLY_TIMER = 0,
	PD_BUGGIFY_SNAPSHOT_NOW,
	PD_BUGGIFY_REAP_NOW,
	PD_BUGGIFY_SITES,
};
#define PD_BUGGIFY(node, site) node_buggify((node), (site))

struct prep_rec;
struct node_ens;
struct prep_touch;
struct prep_undo;

/* prep.c's FIFO of record touches, a ring in zxid order. */
struct prep_overlay_q {
	struct prep_touch *items;
	uint32_t head;
	uint32_t count;
	uint32_t cap;
};

/* What a prepared transaction waits for: the log to be durable up to its
 * zxid.  Then it is applied and, if a connection asked for it, answered. */
enum pend_kind {
	PEND_WRITE = 1, /* a client write: reply to conn */
	PEND_CONNECT,   /* createSession: ConnectResponse to conn */
	PEND_EXPIRE,    /* closeSession by expiry: close the session's connection */
	PEND_SERVER,    /* the server's own write (container/TTL reaping), or a
			 * txn a learner applies for another server's client */
	PEND_SYNC,      /* a learner's forwarded sync (zab.c only) */
};

struct pend {
	pd_zxid zxid;
	enum pend_kind kind;
	uint32_t conn;
	uint64_t conn_serial; /* the incarnation of conn that asked */
	int32_t xid;
	int32_t req_type;
	int32_t timeout_ms; /* PEND_CONNECT */
	uint64_t start_ms;
	uint8_t *txn;
	size_t txn_len;
};

struct pend_queue {
	struct pend *items;
	uint32_t head;
	uint32_t count;
	uint32_t cap;
};

/* Counts a pass over a coverage mark (marks.h). */
#define PD_MARK(node, m) ((node)->marks[(m)]++)

struct pd_node {
	uint32_t marks[PD_MARK_COUNT]; /* coverage marks passed (marks.h) */
	struct pd_config cfg;
	struct pd_mem mem;    /* budgeted: tree, ACLs, sessions, watches, connections */
	struct pd_mem io_mem; /* unbudgeted: effects and input buffers, so that a full
			       * budget still lets the node answer with an error */
	struct pd_prng prng;
	struct pd_acl_table acls;
	struct pd_tree tree;
	struct pd_session_table sessions;
	struct pd_watch_table watches;
	struct pd_conn **conns;
	uint32_t conns_cap;
	uint32_t conn_count;
	pd_zxid last_zxid;
	uint64_t now_ms;
	int64_t wall_ms;
	uint64_t start_ms;
	struct pd_effects *fx;
	struct pd_buf txn;     /* the transaction being prepared */
	struct pd_buf scratch; /* ACL canonicalisation */
	struct pd_buf path_buf;  /* node_path's result */
	struct pd_buf final_buf; /* prep: the final path of a create */
	struct pd_txn_result *results;
	uint32_t results_cap;
	uint32_t result_count;
	pd_apply_observer apply_observer; /* observe.h: the simulator's checkers; NULL in production */
	void *apply_observer_ctx;
	bool replaying;                   /* pd_node_replay: applying the node's own log as it starts */
	bool catching_up;                 /* node_apply_all_pending: the tree catching up with the log */
	struct pd_map64 overlay; /* prep's pending change records, by path hash */
	struct prep_overlay_q overlay_q;
	struct prep_undo *undo; /* the transaction being prepared: saved records */
	uint32_t undo_count;
	uint32_t undo_cap;
	pd_zxid prep_zxid;  /* the transaction being prepared, 0 between */
	pd_zxid next_zxid;  /* the newest zxid given to a transaction */
	pd_zxid durable_zxid; /* the log is durable up to here */
	struct pend_queue pending; /* prepared, logged, waiting for durability */
	uint64_t conn_serial; /* incarnation counter for connections */
	/* snapshot trigger (zab-and-server.md §7.4) */
	uint64_t snap_txns;        /* txns applied since the last snapshot request */
	uint64_t snap_bytes;       /* their log bytes */
	uint64_t snap_txns_due;    /* snapCount/2 + random [0, snapCount/2) */
	uint64_t snap_bytes_due;   /* the same for snapSizeLimitInKb */
	uint64_t snapshots_requested;
	bool snap_wanted;          /* one is due but waits for the log to be durable up to the tree */
	/* PD_BUGGIFY: its own generator, so turning it on changes nothing else */
	struct pd_prng buggify_prng;
	uint32_t buggify_active; /* bit per enum pd_buggify_site */
	uint64_t buggify_fired;
	/* connections whose input waits for their writes, by id (an entry may
	 * be stale: its connection gone or no longer held; it is dropped when
	 * seen).  If the list could not grow, every connection is scanned. */
	uint32_t *held;
	uint32_t held_count;
	uint32_t held_cap;
	bool held_overflow;
	bool log_failed;      /* between PD_EV_LOG_FAILED and PD_EV_LOG_OK */
	struct node_ens *ens; /* the ensemble part (peer.c); NULL when standalone */
	uint64_t writes_refused; /* answered NOTREADONLY while the log was failing */
	uint64_t timer_at_ms;
	bool timer_pending;     /* a PD_FX_TIMER is out and its tick has not come */
	bool close_pending; /* some connection is CONN_CLOSING */
	uint64_t next_container_check_ms;
	int64_t trace_mask;
	/* statistics */
	uint64_t packets_received;
	uint64_t packets_sent;
	struct latency_stats latency;
	uint64_t auth_failed_count;
	uint64_t connections_accepted;
	uint64_t connections_rejected;
	uint64_t sessions_expired;
	uint64_t bytes_received;
	uint64_t commit_count;
	int64_t last_response_size;
	int64_t min_response_size;
	int64_t max_response_size;
};

/* node.c: connections and output */
struct pd_conn *node_conn(struct pd_node *node, uint32_t id);
/* Starts a reply frame for conn; returns the writer.  *start receives the
 * frame offset to pass to node_frame_end. */
struct pd_jw node_frame_begin(struct pd_node *node, size_t *start);
void node_frame_end(struct pd_node *node, struct pd_conn *conn, size_t start);
/* A reply with no body. */
void node_reply_header(struct pd_node *node, struct pd_conn *conn, int32_t xid, int64_t zxid, int32_t err);
/* The full path of a znode, in a node-owned buffer valid until the next
 * call; NULL only if the I/O allocator fails. */
const char *node_path(struct pd_node *node, uint32_t idx, size_t *len);
/* Emits PD_FX_CLOSE and forgets the connection. */
void node_conn_close(struct pd_node *node, struct pd_conn *conn);
/* Fires the watches of path for event and appends a notification for each
 * watcher whose connection may READ under the ACL list acl (ZooKeeper 3.8.4
 * and Debian's 3.8.0, CVE-2024-23944: a watch whose owner lost read access
 * is consumed silently). */
void node_notify(struct pd_node *node, const char *path, size_t len, int event, uint32_t acl);
int node_fx_push(struct pd_node *node, const struct pd_effect *e);

/* request.c */
/* Handles one framed request of a READY connection.  Returns false if the
 * connection was closed. */
bool request_handle(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len);
/* Handles the ConnectRequest of a NEW connection. */
bool request_connect(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len);
/* Expires sessions and reaps containers as time passes. */
void request_tick(struct pd_node *node);

/* prep.c: turns a write into a transaction (always: failures become error
 * txns).  Writes the txn into node->txn.  Returns 0 or PD_ENOMEM. */
int prep_write(struct pd_node *node, struct pd_conn *conn, int64_t session_id, const struct pd_req *req,
	       pd_zxid zxid);
int prep_close_session(struct pd_node *node, int64_t session_id, int32_t cxid, pd_zxid zxid);
int prep_create_session(struct pd_node *node, int64_t session_id, int32_t timeout_ms, pd_zxid zxid);
/* A malformed write body still consumes a zxid as an error txn. */
int prep_error(struct pd_node *node, int64_t session_id, int32_t cxid, int32_t type, int32_t err, pd_zxid zxid);
/* Transaction scope: every prep_* call runs between prep_txn_begin(zxid)
 * and prep_txn_end; prep_txn_undo (inside the scope) removes what the
 * transaction did to the view. */
void prep_txn_begin(struct pd_node *node, pd_zxid zxid);
void prep_txn_undo(struct pd_node *node);
void prep_txn_end(struct pd_node *node);
/* The tree has applied zxid: drop the records it caught up with. */
void prep_applied(struct pd_node *node, pd_zxid zxid);
bool prep_overlay_empty(const struct pd_node *node);
void prep_overlay_clear(struct pd_node *node);
void prep_overlay_free(struct pd_node *node);

/* node.c: logs node->txn (PD_FX_LOG_APPEND) and queues it until the log is
 * durable up to its zxid (PD_EV_LOG_DURABLE), when request_finish applies
 * it and answers.  p describes the asker (zxid and txn are filled in).
 * Returns 0 or PD_ENOMEM (nothing logged or queued). */
int node_log_txn(struct pd_node *node, const struct pend *p);

/* request.c: applies one durable transaction and answers its asker. */
void request_finish(struct pd_node *node, const struct pend *p);
/* request.c: drops a transaction the log lost and tells its asker. */
void request_drop(struct pd_node *node, const struct pend *p);
/* node.c: true when an active PD_BUGGIFY site fires this time. */
bool node_buggify(struct pd_node *node, enum pd_buggify_site site);
/* node.c: after a snapshot or a ZooKeeper snapshot loaded, the node is at zxid. */
void node_loaded(struct pd_node *node, pd_zxid zxid);
/* node.c: drops the reference a loader took on each ACL in acl_map (values
 * are index + 1), and the map. */
void node_release_acl_map(struct pd_node *node, struct pd_map64 *acl_map);
/* node.c: counts an applied txn towards the next snapshot and asks the
 * driver for one (PD_FX_SNAPSHOT) when it is due. */
void node_count_for_snapshot(struct pd_node *node, size_t txn_len);
/* node.c: a held connection's writes are all applied: go on reading. */
void node_conn_resume(struct pd_node *node, struct pd_conn *conn);

/* apply.c: applies the txn bytes; fills node->results (one per op; a
 * non-multi txn gives one result).  Returns the txn-level error (0 for a
 * multi, whose failure is in the results). */
int apply_txn(struct pd_node *node, const uint8_t *txn, size_t len, struct pd_txn_hdr *hdr);
/* True if bytes are one whole txn apply_txn can take (for bytes read back
 * from disk: apply_txn itself trusts what prep wrote). */
bool apply_txn_valid(const uint8_t *txn, size_t len);
/* Bytes of the header and record at txn (ZooKeeper may append a digest
 * after them), 0 if they do not parse. */
size_t apply_txn_record_len(const uint8_t *txn, size_t len);

/* peer.c: the ensemble's planes (issue 5, in progress: the election). */
int peer_init(struct pd_node *node, char *errmsg, size_t errmsg_size);
void peer_destroy(struct pd_node *node);
void peer_start(struct pd_node *node);
int peer_conn_open(struct pd_node *node, struct pd_conn *conn, const struct pd_event *ev);
void peer_conn_data(struct pd_node *node, struct pd_conn *conn, const uint8_t *p, size_t len);
void peer_conn_closed(struct pd_node *node, struct pd_conn *conn);
void peer_connect_failed(struct pd_node *node, const struct pd_event *ev);
void peer_epoch_durable(struct pd_node *node, enum pd_epoch_file which, uint64_t value);
void peer_tick(struct pd_node *node);
uint64_t peer_deadline(const struct pd_node *node);
bool peer_serving(const struct pd_node *node);
bool peer_halted(const struct pd_node *node);

/* node.c: applies what may be applied now (zab_apply_limit) and lets held
 * connections read on. */
void node_advance(struct pd_node *node);
/* node.c: applies every logged txn (a role ends: its log is its history). */
void node_apply_all_pending(struct pd_node *node);
void node_resume_held_all(struct pd_node *node);
/* request.c: the leader prepares and logs a learner's forwarded request
 * (asker carries its identities); 0, or PD_ENOMEM with nothing logged. */
int request_forwarded(struct pd_node *node, struct pd_conn *asker, int64_t session, int32_t cxid, int32_t type,
		      const uint8_t *body, size_t len);

/* zab.c: synchronisation and broadcast */
struct zab_fwd;
bool zab_learner(const struct pd_node *node);
bool zab_serving(const struct pd_node *node);
bool zab_expires(const struct pd_node *node);
pd_zxid zab_apply_limit(const struct pd_node *node);
void zab_proposed(struct pd_node *node, pd_zxid zxid, const uint8_t *txn, size_t len);
void zab_before_apply(struct pd_node *node, struct pend *p);
/* true if it kept p->txn */
bool zab_applied(struct pd_node *node, const struct pend *p);
void zab_durable(struct pd_node *node);
void zab_replayed(struct pd_node *node, const uint8_t *txn, size_t len, pd_zxid zxid);
void zab_log_failed(struct pd_node *node);
/* Closes every client connection (their outcome becomes unknown to them). */
void zab_drop_clients(struct pd_node *node);
void zab_learner_ping(struct pd_node *node, uint32_t conn, pd_zxid zxid);
int zab_forward(struct pd_node *node, struct pd_conn *conn, const struct zab_fwd *f, const uint8_t *body,
		size_t body_len);
void peer_stats(const struct pd_node *node, struct pd_node_stats *out);

#endif
