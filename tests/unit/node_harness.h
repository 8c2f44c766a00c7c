/*
 * node_harness.h: drives a whole pd_node through its public step API (core/pd.h)
 * for the node-level tests: a malloc-backed counting allocator, helpers that feed
 * PD_EV_CONN_OPEN / PD_EV_CONN_DATA / PD_EV_TICK events, and helpers that read
 * the effects back (bytes sent to a connection, closes, four-letter words).
 * Every helper resets the effect list before stepping, so the effects seen are
 * exactly those of the last event.
 */
#ifndef PD_NODE_HARNESS_H
#define PD_NODE_HARNESS_H

#include "test_util.h"

#include "jute.h"
#include "pd.h"

struct nh {
	struct tu_alloc alloc;
	struct pd_config cfg;
	struct pd_node *node;
	struct pd_effects fx;
	uint64_t now_ms;
	int64_t wall_ms;
	int last_rc;
	bool hold_durable; /* false: every logged record is durable at once */
	struct tb_log *log; /* if set, every PD_FX_LOG_APPEND record is copied here */
};

/* The log records a node emitted (record framing of core/log.h). */
struct tb_log {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Node from zoo.cfg text (dataDir is added); node_wall_ms seeds session ids. */
void nh_init(struct nh *h, const char *cfg_text, int64_t node_wall_ms);
/* Destroys the node and checks that every byte went back to the allocator. */
void nh_destroy(struct nh *h);
/* Destroys the node, if any, without checks (teardown after a failed test). */
void nh_abandon(struct nh *h);

void nh_open(struct nh *h, uint32_t conn, const char *ip);
void nh_data(struct nh *h, uint32_t conn, const void *p, size_t len);
void nh_tick(struct nh *h, uint64_t now_ms);
void nh_conn_closed(struct nh *h, uint32_t conn);
/* PD_EV_LOG_DURABLE up to zxid (for tests that set hold_durable). */
void nh_durable(struct nh *h, pd_zxid zxid);
/* PD_EV_LOG_FAILED or PD_EV_LOG_OK. */
void nh_log_event(struct nh *h, enum pd_event_type type);

/* Concatenation of every PD_FX_SEND to conn in the last step. */
size_t nh_sent(const struct nh *h, uint32_t conn, uint8_t *out, size_t cap);
/* Number of effects of a type for conn in the last step. */
int nh_count(const struct nh *h, enum pd_effect_type type, uint32_t conn);
/* True if conn got PD_FX_CLOSE in the last step, after all its sends. */
bool nh_closed(const struct nh *h, uint32_t conn);

/* Splits a byte stream into frames; returns the count (asserts it is exact). */
struct nh_frame {
	const uint8_t *p; /* the frame, length prefix included */
	size_t len;
};
size_t nh_frames(const uint8_t *p, size_t len, struct nh_frame *out, size_t max);
int32_t nh_frame_xid(struct nh_frame f);
int64_t nh_frame_zxid(struct nh_frame f);
int32_t nh_frame_err(struct nh_frame f);

/* The frames sent to conn in the last step. */
struct nh_reply {
	uint8_t bytes[1 << 16];
	size_t len;
	struct nh_frame frames[64];
	size_t count;
};
void nh_replies(const struct nh *h, uint32_t conn, struct nh_reply *r);

/* ConnectRequest frame. */
void nh_connect_frame(struct tb *t, int64_t last_zxid, int32_t timeout_ms, int64_t session_id,
		      const uint8_t *passwd, bool read_only_byte);
/* Opens conn and establishes a new session; returns its id, fills passwd. */
int64_t nh_connect(struct nh *h, uint32_t conn, int32_t timeout_ms, uint8_t passwd[16]);

/* A request frame: header + body bytes. */
void nh_request_frame(struct tb *t, int32_t xid, int32_t type, const struct tb *body);
/* Sends one request and returns the frames conn got back. */
void nh_call(struct nh *h, uint32_t conn, int32_t xid, int32_t type, const struct tb *body, struct nh_reply *r);

/* Body builders. */
void nh_body_create(struct tb *t, const char *path, const void *data, size_t data_len, int32_t flags);
void nh_body_path_watch(struct tb *t, const char *path, bool watch);
void nh_body_path_int(struct tb *t, const char *path, int32_t v);
void nh_body_set_data(struct tb *t, const char *path, const void *data, size_t len, int32_t version);

#endif
