/*
 * sasl.h: the server side of SASL DIGEST-MD5 (RFC 2831) for ZooKeeper's
 * sasl packets (opcode 102, wire-protocol.md §8.6).
 *
 * Users and passwords come from the JAAS file's Server section
 * (user_NAME="password"), as Apache ZooKeeper's DigestLoginModule reads
 * them.  The exchange: the client sends an empty token, the server answers
 * with a challenge (realm "zk-sasl-md5", a nonce from the node's PRNG,
 * charset=utf-8, algorithm=md5-sess and, as the JDK server ZooKeeper uses,
 * no qop); the client sends its
 * digest-response; the server checks it and answers rspauth=...; the
 * connection then holds the identity sasl:<authorization id>.
 * Hashes come from OpenSSL's libcrypto (MD5).
 */
#ifndef PD_SASL_H
#define PD_SASL_H

#include "config.h"
#include "mem.h"
#include "prng.h"

enum pd_sasl_state {
	PD_SASL_START = 0,      /* nothing received yet */
	PD_SASL_CHALLENGED,     /* challenge sent, waiting for the response */
	PD_SASL_DONE,           /* authenticated */
	PD_SASL_FAILED,
};

struct pd_sasl {
	enum pd_sasl_state state;
	char nonce[64];
	char authzid[128]; /* set when DONE */
};

/* Processes one client token.  On success writes the server's token (which
 * may be empty) to out and returns 0; when the exchange completes
 * sasl->state becomes PD_SASL_DONE and sasl->authzid names the identity.
 * Returns PD_EAUTHFAILED on a bad user, password or malformed response. */
int pd_sasl_step(struct pd_sasl *sasl, const struct pd_config *cfg, struct pd_prng *prng,
		 const uint8_t *in, size_t in_len, struct pd_mem *mem, struct pd_buf *out);

#endif
