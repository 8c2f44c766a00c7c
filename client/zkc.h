/*
 * zkc.h: a sans-I/O ZooKeeper client (issue 4, item 5): bytes in, bytes
 * out, time as an argument; no sockets, no clock, no allocation behind the
 * caller's back beyond its own buffers.  The simulator, the Lua bindings,
 * `paddock shell` and the benchmark drive the same state machine over
 * their own transports.
 *
 * What it does: the handshake (new session, or re-attach with session id,
 * password and the highest zxid seen), requests with xids matched to their
 * replies, pings when idle, one-shot watches kept on the client side and
 * re-registered with setWatches after a reconnect, failing the requests in
 * flight with CONNECTIONLOSS when the transport goes, trying the next
 * server, and reporting an expired session.
 *
 * Driving it: after zkc_want_connect says which server, open a transport
 * and call zkc_on_connected; feed received bytes to zkc_on_data; send what
 * zkc_output holds (then zkc_output_done); call zkc_on_closed when the
 * transport goes and zkc_on_tick now and then.  Results and watch events
 * come out of zkc_next_result / zkc_next_event.
 */
#ifndef PD_ZKC_H
#define PD_ZKC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum zkc_state {
	ZKC_CONNECTING = 1, /* wants or has a transport; handshake not done */
	ZKC_CONNECTED,
	ZKC_EXPIRED,        /* the server said the session is gone: make a new client */
	ZKC_CLOSED,         /* closeSession answered */
};

#define ZKC_ERR_CONNECTIONLOSS (-4)
#define ZKC_ERR_SESSIONEXPIRED (-112)

struct zkc_result {
	int32_t xid;
	int32_t op;
	int32_t err;
	int64_t zxid;
	const uint8_t *body; /* the reply after its header; valid until the next call */
	size_t body_len;
};

struct zkc_event {
	int32_t type;  /* 1 created, 2 deleted, 3 data changed, 4 children changed */
	int32_t state; /* 3 connected */
	char path[512];
};

struct zkc;

struct zkc *zkc_new(uint32_t server_count, int32_t session_timeout_ms, uint64_t now_ms);
void zkc_free(struct zkc *c);

enum zkc_state zkc_state(const struct zkc *c);
int64_t zkc_session_id(const struct zkc *c);
/* True if the client wants a transport now; *server says to which. */
bool zkc_want_connect(const struct zkc *c, uint32_t *server);

void zkc_on_connected(struct zkc *c, uint64_t now_ms);
/* Returns 0, or -1 if the bytes make no sense (the transport should close). */
int zkc_on_data(struct zkc *c, const uint8_t *p, size_t len, uint64_t now_ms);
void zkc_on_closed(struct zkc *c, uint64_t now_ms);
/* Pings when the session has been quiet.  Returns true when the transport
 * has heard nothing for too long (the handshake for the session timeout
 * over the number of servers, a session for two thirds of its timeout):
 * the caller closes it and calls zkc_on_closed, as ZooKeeper's client does. */
bool zkc_on_tick(struct zkc *c, uint64_t now_ms);

const uint8_t *zkc_output(const struct zkc *c, size_t *len);
void zkc_output_done(struct zkc *c, size_t n);

/* Requests; each returns its xid.  Paths are NUL-terminated. */
/* flags: 0 persistent, 1 ephemeral, 2 sequential, 3 both, 4 container
 * (sent as createContainer; the result's body starts with the path too). */
int32_t zkc_create(struct zkc *c, const char *path, const void *data, size_t len, int32_t flags);
int32_t zkc_delete(struct zkc *c, const char *path, int32_t version);
int32_t zkc_exists(struct zkc *c, const char *path, bool watch);
int32_t zkc_get_data(struct zkc *c, const char *path, bool watch);
int32_t zkc_set_data(struct zkc *c, const char *path, const void *data, size_t len, int32_t version);
int32_t zkc_get_children(struct zkc *c, const char *path, bool watch);
int32_t zkc_sync(struct zkc *c, const char *path);
/* addWatch: a persistent watch on path (ZKC_WATCH_PERSISTENT) or on path
 * and everything below it (ZKC_WATCH_PERSISTENT_RECURSIVE); it fires for
 * every change until the session ends and is re-registered (setWatches2)
 * after a reconnect. */
#define ZKC_WATCH_PERSISTENT 0
#define ZKC_WATCH_PERSISTENT_RECURSIVE 1
int32_t zkc_add_watch(struct zkc *c, const char *path, int32_t mode);
int32_t zkc_close_session(struct zkc *c);
/* multi: body is the encoded MultiRequest (each op's header and record,
 * then the closing header); the result's body is the MultiResponse. */
int32_t zkc_multi(struct zkc *c, const void *body, size_t len);

bool zkc_next_result(struct zkc *c, struct zkc_result *out);
bool zkc_next_event(struct zkc *c, struct zkc_event *out);

#endif
