/*
 * fuzz_drive.h: drives one long-lived pd_node with untrusted client bytes,
 * shared by the libFuzzer target (fuzz_request.c) and the corpus replay test
 * (replay_corpus.c), so both exercise the request decoder the same way.
 *
 * Input layout (every input, fuzzed or handcrafted):
 *
 *   byte 0  flags (FD_F_*)
 *   byte 1  chunking: 0 = all data in one PD_EV_CONN_DATA event;
 *           1..127 = fixed chunks of that many bytes;
 *           128..255 = pseudo-random chunk sizes in [1, (b & 127) + 1]
 *   byte 2  fault injection countdown (only with FD_F_FAULT): the Nth core
 *           allocation while the data is fed fails (bit 7 picks the I/O
 *           allocator instead of the budgeted one)
 *   byte 3.. the bytes the client sends on its connection
 *
 * For each input the driver opens a fresh connection, optionally performs a
 * valid ConnectRequest handshake first (FD_F_HANDSHAKE: then the bytes hit the
 * post-handshake request decoder, otherwise the ConnectRequest / four-letter
 * word decoder), feeds the bytes, then lets time pass until the core has
 * closed the connection and expired every session the input created, and
 * finally deletes every znode the input left behind (a "janitor" session
 * authenticated as super).  Invariants are checked throughout; a violation
 * prints a diagnosis and aborts (which libFuzzer records as a crash).
 *
 * Invariants checked for every input:
 *  - the core never asserts or crashes, and pd_step never fails unless an
 *    allocation failure was injected;
 *  - no output or close reaches another connection (canary, janitor), except
 *    when the input itself re-attaches to that connection's session with its
 *    id and password (then the old connection is legitimately dropped);
 *  - output to the fuzzed connection is well formed: frames of 16..0xFFFFF
 *    bytes, error replies exactly a 16-byte header with a known error code,
 *    replies in request order echoing the request's xid (-2 for any ping,
 *    wire-protocol.md 4.2), non-decreasing zxids, no null strings in
 *    notifications, and every complete request answered unless the core
 *    closed the connection;
 *  - the core closes every connection eventually (sessionless connections
 *    after their grace period, idle sessions on expiry);
 *  - afterwards, connection, session, znode, ephemeral and watch counts equal
 *    their baseline, and the canary znode's data and stat are unchanged;
 *  - with leak checking, feeding the same input again leaves memory no higher
 *    than the first run did (a leak grows every run; capacity growth does not).
 */
#ifndef PD_FUZZ_DRIVE_H
#define PD_FUZZ_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_HDR_BYTES 3

enum fd_flags {
	FD_F_HANDSHAKE = 0x01,  /* perform a valid ConnectRequest first */
	FD_F_PEER_CLOSE = 0x02, /* report PD_EV_CONN_CLOSED right after the data */
	FD_F_TICKS = 0x04,      /* a PD_EV_TICK (+250 ms) after every chunk */
	FD_F_AUTH = 0x08,       /* with FD_F_HANDSHAKE: also authenticate digest fuzz:fuzz */
	FD_F_FAULT = 0x10,      /* inject an allocation failure (byte 2); with byte 2 = 0,
				 * hold the input's log records back and fail the log
				 * after the feed (PD_EV_LOG_FAILED, then PD_EV_LOG_OK) */
	FD_F_OLD_CLIENT = 0x20, /* with FD_F_HANDSHAKE: ConnectRequest without readOnly */
	FD_F_SASL = 0x40,       /* with FD_F_HANDSHAKE: the driver obtains a DIGEST-MD5
				 * challenge, then sends the data as the SASL response
				 * token (one sasl request), each "@N" replaced by the
				 * server's nonce, which a fuzzer cannot guess */
	FD_F_REATTACH = 0x80,   /* without FD_F_HANDSHAKE: the data is preceded by a valid
				 * ConnectRequest re-attaching to the canary's session
				 * (the core must drop the canary's connection) */
};

struct fd_opts {
	unsigned canary_every; /* check the canary znode every N inputs (0 = 1) */
	bool leak_check;       /* run each input again and compare memory */
	bool soft_output;      /* a malformed answer is reported in fd_outcome.violation
				* instead of aborting (state invariants still abort) */
	bool verbose;
};

#define FD_ERRS_MAX 64

/* What happened to the fuzzed connection. */
struct fd_outcome {
	bool closed_in_feed;   /* the core closed it (PD_FX_CLOSE) while the data was fed */
	bool closed_by_core;   /* the core closed it at some point (feed or time passing) */
	bool fourlw;           /* PD_FX_FOURLW, or raw whitelist text */
	bool connect_valid;    /* without FD_F_HANDSHAKE: a ConnectResponse with a session */
	bool connect_rejected; /* without FD_F_HANDSHAKE: the invalid-session answer */
	bool enomem;           /* pd_step reported PD_ENOMEM (fault injection only) */
	bool hijack;           /* the input re-attached to the canary's or janitor's session */
	size_t bytes_out;      /* bytes sent to the connection while the data was fed */
	uint32_t requests;     /* complete request frames in the data (driver's parse) */
	uint32_t replies;      /* reply frames (not notifications, not ConnectResponse) */
	uint32_t notifications;
	int32_t errs[FD_ERRS_MAX]; /* err of each reply, in order */
	uint32_t errs_count;
	char violation[256]; /* with opts.soft_output: the first malformed-answer finding */
};

struct fd_ctx;

struct fd_ctx *fd_create(const struct fd_opts *opts);
/* Runs one input (layout above) and checks the invariants; aborts on a violation. */
void fd_run(struct fd_ctx *ctx, const uint8_t *data, size_t len, struct fd_outcome *out);
/* Memory in use by the core after the last input (both allocators). */
uint64_t fd_mem_in_use(const struct fd_ctx *ctx);
/* Closes the helper sessions, destroys the node, checks every byte came back. */
void fd_destroy(struct fd_ctx *ctx);
/* Names the current input in failure messages (e.g. the corpus file). */
void fd_set_input_name(const char *name);
_Noreturn void fd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
