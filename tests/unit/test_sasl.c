/*
 * test_sasl.c: the DIGEST-MD5 server against clients the test plays itself.
 *
 * The test computes client responses with its own RFC 2831 arithmetic over
 * OpenSSL's MD5, so a server that hashes the wrong fields fails here.  Three
 * golden transcripts were recorded from unmodified clients (the JDK 17
 * DIGEST-MD5 client configured as ZooKeeper's, and pure-sasl 0.5.1 as kazoo
 * 2.8 drives it); they pin the server to what those clients send and check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "sasl.h"

#define REALM "zk-sasl-md5"
#define DIGEST_URI "zookeeper/zk-sasl-md5"

/* ---- fixture ---- */

struct fixture {
	struct pd_config cfg;
	struct pd_mem mem;
	struct pd_prng prng;
	struct pd_sasl sasl;
	struct pd_buf out;
};

static void *fx_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void fx_free(void *ctx, void *ptr, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(ptr);
}

static void add_user(struct pd_config *cfg, const char *name, const char *password)
{
	struct pd_sasl_user *u = &cfg->sasl_users[cfg->sasl_user_count++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->password, sizeof(u->password), "%s", password);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct pd_allocator allocator = {fx_alloc, fx_free, NULL};
	assert_non_null(fx);
	pd_mem_init(&fx->mem, allocator, 0);
	pd_prng_seed(&fx->prng, 42);
	add_user(&fx->cfg, "alice", "alice-pw");
	add_user(&fx->cfg, "bob", "s3cret");
	add_user(&fx->cfg, "j\xc3\xbcrgen", "p\xc3\xa4sswo\xcc\x88rd-unused");
	add_user(&fx->cfg, "j\xc3\xbcrgen", "p\xc3\xa4ssw\xc3\xb6rd"); /* the later entry wins */
	add_user(&fx->cfg, "svc/host@EXAMPLE.COM", "krb-pw");
	add_user(&fx->cfg, "u@", "empty-realm-pw");
	add_user(&fx->cfg, "a@b@c", "bad-name-pw");
	add_user(&fx->cfg, "", "empty-name-pw"); /* from a JAAS line user_="..." */
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pd_buf_free(&fx->mem, &fx->out);
	assert_int_equal(fx->mem.used_bytes, 0);
	free(fx);
	return 0;
}

/* Runs one server step on a C string token, clearing the previous output. */
static int step(struct fixture *fx, const char *token, size_t len)
{
	fx->out.len = 0;
	return pd_sasl_step(&fx->sasl, &fx->cfg, &fx->prng, (const uint8_t *)token, len, &fx->mem,
			    &fx->out);
}

static int step_str(struct fixture *fx, const char *token)
{
	return step(fx, token, strlen(token));
}

static bool out_is(const struct fixture *fx, const char *expected)
{
	size_t n = strlen(expected);
	return fx->out.len == n && memcmp(fx->out.data, expected, n) == 0;
}

/* Sends the empty first token and returns the nonce from the challenge. */
static const char *challenge(struct fixture *fx)
{
	assert_int_equal(step(fx, "", 0), 0);
	assert_int_equal(fx->sasl.state, PD_SASL_CHALLENGED);
	return fx->sasl.nonce;
}

/* Starts an exchange in CHALLENGED with a fixed nonce, as if the challenge
 * carrying it had been sent; the golden transcripts need this. */
static void challenged_with(struct fixture *fx, const char *nonce)
{
	char copy[sizeof(fx->sasl.nonce)];
	snprintf(copy, sizeof(copy), "%s", nonce); /* nonce may be fx->sasl.nonce */
	memset(&fx->sasl, 0, sizeof(fx->sasl));
	fx->sasl.state = PD_SASL_CHALLENGED;
	memcpy(fx->sasl.nonce, copy, sizeof(copy));
}

static void reset(struct fixture *fx)
{
	memset(&fx->sasl, 0, sizeof(fx->sasl));
	fx->out.len = 0;
}

/* ---- the client side, computed by the test ---- */

static void md5_hex(const void *data, size_t len, char hex[33])
{
	uint8_t digest[16];
	unsigned int n = 0, i;
	assert_int_equal(EVP_Digest(data, len, digest, &n, EVP_md5(), NULL), 1);
	assert_int_equal(n, 16);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

enum {
	OMIT_USERNAME = 1 << 0,
	OMIT_REALM = 1 << 1,
	OMIT_NONCE = 1 << 2,
	OMIT_CNONCE = 1 << 3,
	OMIT_DIGEST_URI = 1 << 4,
	OMIT_RESPONSE = 1 << 5,
	OMIT_QOP = 1 << 6,
};

/* What a client knows and sends.  NULL realm, qop or authzid are hashed as
 * "" / "auth" / absent; omit drops directives from the token only. */
struct client {
	const char *username;
	const char *password;
	const char *realm;
	const char *nonce;
	const char *cnonce;
	const char *digest_uri;
	const char *qop;
	const char *authzid;
	unsigned omit;
};

static struct client client_default(const char *nonce)
{
	struct client c = {
		.username = "bob",
		.password = "s3cret",
		.realm = REALM,
		.nonce = nonce,
		.cnonce = "OA6MHXh6VqTrRk",
		.digest_uri = DIGEST_URI,
		.qop = "auth",
		.authzid = NULL,
		.omit = 0,
	};
	return c;
}

/* response-value = HEX(H(HEX(H(A1)) ":" nonce ":00000001:" cnonce ":" qop
 * ":" HEX(H(A2)))) with A1 = H(user:realm:pw) ":" nonce ":" cnonce
 * [":" authzid] and A2 = method ":" digest-uri. */
static void client_hash(const struct client *c, const char *method, char hex[33])
{
	char buf[2048], ha1[33], ha2[33];
	uint8_t inner[16];
	unsigned int n = 0;
	int len;

	len = snprintf(buf, sizeof(buf), "%s:%s", method, c->digest_uri);
	md5_hex(buf, (size_t)len, ha2);
	len = snprintf(buf, sizeof(buf), "%s:%s:%s", c->username, c->realm ? c->realm : "",
		       c->password);
	assert_int_equal(EVP_Digest(buf, (size_t)len, inner, &n, EVP_md5(), NULL), 1);
	memcpy(buf, inner, 16);
	len = 16 + snprintf(buf + 16, sizeof(buf) - 16, ":%s:%s%s%s", c->nonce, c->cnonce,
			    c->authzid ? ":" : "", c->authzid ? c->authzid : "");
	md5_hex(buf, (size_t)len, ha1);
	len = snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:%s:%s", ha1, c->nonce, c->cnonce,
		       c->qop ? c->qop : "auth", ha2);
	md5_hex(buf, (size_t)len, hex);
}

/* A digest-response in pure-sasl's directive order, so that "response" (or
 * authzid) ends the token. */
static void client_token(const struct client *c, char *buf, size_t cap)
{
	char response[33];
	size_t len = 0;
	client_hash(c, "AUTHENTICATE", response);
#define PUT(...) (len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__))
	if (c->qop && !(c->omit & OMIT_QOP))
		PUT("qop=%s,", c->qop);
	if (c->realm && !(c->omit & OMIT_REALM))
		PUT("realm=\"%s\",", c->realm);
	if (!(c->omit & OMIT_USERNAME))
		PUT("username=\"%s\",", c->username);
	if (!(c->omit & OMIT_NONCE))
		PUT("nonce=\"%s\",", c->nonce);
	if (!(c->omit & OMIT_CNONCE))
		PUT("cnonce=\"%s\",", c->cnonce);
	PUT("nc=00000001,");
	if (!(c->omit & OMIT_DIGEST_URI))
		PUT("digest-uri=\"%s\",", c->digest_uri);
	if (c->authzid)
		PUT("authzid=\"%s\",", c->authzid);
	if (!(c->omit & OMIT_RESPONSE))
		PUT("response=%s", response);
#undef PUT
	assert_true(len < cap);
	if (len > 0 && buf[len - 1] == ',')
		buf[--len] = '\0';
}

static void expect_rspauth(const struct fixture *fx, const struct client *c)
{
	char hex[33], expected[64];
	client_hash(c, "", hex);
	snprintf(expected, sizeof(expected), "rspauth=%s", hex);
	assert_true(out_is(fx, expected));
}

/* Runs a fresh exchange with client c (its nonce taken from the challenge). */
static int exchange(struct fixture *fx, struct client c)
{
	char token[4096];
	reset(fx);
	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	return step_str(fx, token);
}

static void expect_failed(struct fixture *fx, int rc)
{
	assert_int_equal(rc, PD_EAUTHFAILED);
	assert_int_equal(fx->sasl.state, PD_SASL_FAILED);
	assert_int_equal(fx->out.len, 0);
}

/* ---- the challenge ---- */

static void test_sasl_challenge_has_zookeeper_fields(void **state)
{
	struct fixture *fx = *state;
	const char *prefix = "realm=\"zk-sasl-md5\",nonce=\"";
	const char *suffix = "\",charset=utf-8,algorithm=md5-sess";
	const char *nonce = challenge(fx);
	size_t i, p = strlen(prefix), s = strlen(suffix);

	assert_int_equal(strlen(nonce), 40);
	for (i = 0; i < 40; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789+/", nonce[i]));
	assert_int_equal(fx->out.len, p + 40 + s);
	assert_memory_equal(fx->out.data, prefix, p);
	assert_memory_equal(fx->out.data + p, nonce, 40);
	assert_memory_equal(fx->out.data + p + 40, suffix, s);
}

static void test_sasl_nonce_is_fresh_per_exchange(void **state)
{
	struct fixture *fx = *state;
	char first[64];
	snprintf(first, sizeof(first), "%s", challenge(fx));
	reset(fx);
	assert_string_not_equal(first, challenge(fx));
}

static void test_sasl_initial_token_is_ignored(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(step_str(fx, "username=\"bob\",garbage\"\\"), 0);
	assert_int_equal(fx->sasl.state, PD_SASL_CHALLENGED);
	assert_true(fx->out.len > 0 && fx->out.data[0] == 'r');
}

static void test_sasl_challenge_out_of_memory_keeps_start(void **state)
{
	struct fixture *fx = *state;
	fx->mem.fail_countdown = 1;
	assert_int_equal(step(fx, "", 0), PD_ENOMEM);
	assert_int_equal(fx->sasl.state, PD_SASL_START);
	fx->out.err = 0; /* the buffer's error is sticky; the caller clears it */
	challenge(fx);
}

/* ---- successful exchanges ---- */

static void test_sasl_exchange_succeeds_and_rspauth_matches(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096];

	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	assert_int_equal(step_str(fx, token), 0);
	assert_int_equal(fx->sasl.state, PD_SASL_DONE);
	assert_string_equal(fx->sasl.authzid, "bob");
	expect_rspauth(fx, &c);
}

static void test_sasl_exchange_with_authzid_hashes_it(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096], response[33], *at;

	c.authzid = "bob";
	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	assert_int_equal(step_str(fx, token), 0);
	expect_rspauth(fx, &c);

	/* The same token with the authzid left out of the hash must fail. */
	challenged_with(fx, c.nonce);
	c.authzid = NULL;
	client_hash(&c, "AUTHENTICATE", response);
	at = strstr(token, "response=");
	assert_non_null(at);
	memcpy(at + 9, response, 32);
	expect_failed(fx, step_str(fx, token));
}

static void test_sasl_identity_is_username_not_authzid(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	c.authzid = "mallory";
	assert_int_equal(exchange(fx, c), 0);
	assert_string_equal(fx->sasl.authzid, "bob");
}

static void test_sasl_identity_follows_kerberos_name_rules(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);

	/* A realm no rule maps: the authzid when sent, else the username. */
	c.username = "svc/host@EXAMPLE.COM";
	c.password = "krb-pw";
	assert_int_equal(exchange(fx, c), 0);
	assert_string_equal(fx->sasl.authzid, "svc/host@EXAMPLE.COM");
	c.authzid = "other";
	assert_int_equal(exchange(fx, c), 0);
	assert_string_equal(fx->sasl.authzid, "other");

	/* An empty realm matches the DEFAULT rule: the name is kept. */
	c = client_default(NULL);
	c.username = "u@";
	c.password = "empty-realm-pw";
	c.authzid = "other";
	assert_int_equal(exchange(fx, c), 0);
	assert_string_equal(fx->sasl.authzid, "u@");

	/* A malformed Kerberos name fails even with the right password. */
	c = client_default(NULL);
	c.username = "a@b@c";
	c.password = "bad-name-pw";
	expect_failed(fx, exchange(fx, c));
}

static void test_sasl_parser_accepts_lws_case_escapes_and_unknowns(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096], response[33];

	c.nonce = challenge(fx);
	c.digest_uri = "ZooKeeper/ZK-SASL-MD5"; /* matched ignoring case, hashed as sent */
	client_hash(&c, "AUTHENTICATE", response);
	snprintf(token, sizeof(token),
		 " ,, USERNAME = \"b\\o\\b\"\r\n ,Realm=\tzk-sasl-md5 nonce=\"%s\",,"
		 "cnonce=OA6MHXh6VqTrRk, nc=00000001,x-unknown=\"a,b\\\"c\",x-unknown=1,"
		 "digest-uri=\"ZooKeeper/ZK-SASL-MD5\",maxbuf=+65536,charset=utf-8,"
		 "cipher=rc4,nonce-count=+1,response=\"%s\" , ",
		 c.nonce, response);
	assert_int_equal(step_str(fx, token), 0);
	assert_int_equal(fx->sasl.state, PD_SASL_DONE);
	expect_rspauth(fx, &c);
}

/* ---- golden transcripts from unmodified clients ---- */

/* pure-sasl 0.5.1 as kazoo 2.8 runs it: empty first token, no authzid, no
 * charset, qop first, response last; it verified this rspauth. */
static void test_sasl_golden_puresasl(void **state)
{
	struct fixture *fx = *state;
	challenged_with(fx, "Wnb5Tvf6WLPSLEhPlj1cR5Z5LJVJ0/HWQHKAHnM4");
	assert_int_equal(
		step_str(fx, "qop=auth,realm=\"zk-sasl-md5\",username=\"bob\","
			     "nonce=\"Wnb5Tvf6WLPSLEhPlj1cR5Z5LJVJ0/HWQHKAHnM4\","
			     "cnonce=\"718324985484451\",nc=00000001,"
			     "digest-uri=\"zookeeper/zk-sasl-md5\","
			     "response=075d28d5e6de9982e0a575b0d1d0a780"),
		0);
	assert_true(out_is(fx, "rspauth=aa098c7b4536a6f43bc4392759bdc3b7"));
	assert_string_equal(fx->sasl.authzid, "bob");
}

/* The JDK 17 client configured as ZooKeeper's SecurityUtils does (authzid =
 * username): charset, maxbuf and authzid present; it verified this rspauth. */
static void test_sasl_golden_java(void **state)
{
	struct fixture *fx = *state;
	challenged_with(fx, "YKAZ9uxOqQD5+1LRhZthQBdbgDDIC+khTEzu7aLc");
	assert_int_equal(
		step_str(fx, "charset=utf-8,username=\"bob\",realm=\"zk-sasl-md5\","
			     "nonce=\"YKAZ9uxOqQD5+1LRhZthQBdbgDDIC+khTEzu7aLc\",nc=00000001,"
			     "cnonce=\"sXapBS0hf0g6vlqgHBrqHRHoussjcblTlX7F7lvG\","
			     "digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,"
			     "response=5c6c0e53517533ca559d396f4b89d666,qop=auth,authzid=\"bob\""),
		0);
	assert_true(out_is(fx, "rspauth=c2976e55a4ad1f9ae592f5ef8165fb99"));
	assert_string_equal(fx->sasl.authzid, "bob");
}

/* The JDK hashes names and passwords as ISO-8859-1 when they fit in it. */
static void test_sasl_golden_java_latin1_credentials(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);

	challenged_with(fx, "YKAZ9uxOqQD5+1LRhZthQBdbgDDIC+khTEzu7aLc");
	assert_int_equal(
		step_str(fx, "charset=utf-8,username=\"j\xc3\xbcrgen\",realm=\"zk-sasl-md5\","
			     "nonce=\"YKAZ9uxOqQD5+1LRhZthQBdbgDDIC+khTEzu7aLc\",nc=00000001,"
			     "cnonce=\"l+w/T7+Gv4BYmROhrmVDZ9jWmb7bVT/dO8dH3sqF\","
			     "digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,"
			     "response=25d90966a61110c76d43d19c3c55539d,qop=auth,"
			     "authzid=\"j\xc3\xbcrgen\""),
		0);
	assert_true(out_is(fx, "rspauth=7001ed63acad479dbb75464da6638e35"));
	assert_string_equal(fx->sasl.authzid, "j\xc3\xbcrgen");

	/* Hashing the raw UTF-8 bytes instead is refused, as by ZooKeeper. */
	c.username = "j\xc3\xbcrgen";
	c.password = "p\xc3\xa4ssw\xc3\xb6rd";
	expect_failed(fx, exchange(fx, c));
}

/* ---- refusals ---- */

static void test_sasl_wrong_password_fails(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	c.password = "s3creT";
	expect_failed(fx, exchange(fx, c));
	c.password = "alice-pw"; /* another user's password */
	expect_failed(fx, exchange(fx, c));
}

static void test_sasl_unknown_user_fails(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	c.username = "mallory";
	expect_failed(fx, exchange(fx, c));
	c.username = "Bob";
	expect_failed(fx, exchange(fx, c));
	/* The JDK refuses an empty name before any lookup, even one configured. */
	c.username = "";
	c.password = "empty-name-pw";
	expect_failed(fx, exchange(fx, c));
}

static void test_sasl_nonce_mismatch_fails(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char nonce[64], token[4096];

	/* A response hashed over another nonce (an older challenge's). */
	snprintf(nonce, sizeof(nonce), "%s", challenge(fx));
	nonce[0] = nonce[0] == 'A' ? 'B' : 'A';
	c.nonce = nonce;
	client_token(&c, token, sizeof(token));
	expect_failed(fx, step_str(fx, token));

	/* A prefix of the right nonce. */
	reset(fx);
	snprintf(nonce, sizeof(nonce), "%s", challenge(fx));
	nonce[39] = '\0';
	client_token(&c, token, sizeof(token));
	expect_failed(fx, step_str(fx, token));
}

/* Each directive value ZooKeeper refuses, with a response that is otherwise
 * correct for the values sent. */
static void test_sasl_refused_directive_values_fail(void **state)
{
	struct fixture *fx = *state;
	struct client c;

	c = client_default(NULL);
	c.qop = "auth-int";
	expect_failed(fx, exchange(fx, c));
	c = client_default(NULL);
	c.qop = "auth-conf";
	expect_failed(fx, exchange(fx, c));
	c = client_default(NULL);
	c.realm = "ZK-SASL-MD5";
	expect_failed(fx, exchange(fx, c));
	c = client_default(NULL);
	c.realm = NULL; /* no realm: "" is not the server's */
	expect_failed(fx, exchange(fx, c));
	c = client_default(NULL);
	c.digest_uri = "zookeeper/localhost";
	expect_failed(fx, exchange(fx, c));
	c = client_default(NULL);
	c.digest_uri = "zookeeper/zk-sasl-md5/extra";
	expect_failed(fx, exchange(fx, c));

	/* The control: the defaults succeed. */
	c = client_default(NULL);
	assert_int_equal(exchange(fx, c), 0);
}

/* Adds one directive to a valid token (built without the directives in
 * omit) and expects refusal. */
static void expect_extra_fails(struct fixture *fx, const char *extra, bool before, unsigned omit)
{
	struct client c = client_default(NULL);
	char token[4096], base[2048];
	c.omit = omit;
	reset(fx);
	c.nonce = challenge(fx);
	client_token(&c, base, sizeof(base));
	if (before)
		snprintf(token, sizeof(token), "%s,%s", extra, base);
	else
		snprintf(token, sizeof(token), "%s,%s", base, extra);
	expect_failed(fx, step_str(fx, token));
}

static void expect_suffix_fails(struct fixture *fx, const char *suffix, bool before)
{
	expect_extra_fails(fx, suffix, before, 0);
}

static void test_sasl_refused_optional_directives_fail(void **state)
{
	struct fixture *fx = *state;
	expect_suffix_fails(fx, "charset=UTF-8", false);
	expect_suffix_fails(fx, "charset=iso-8859-1", true);
	expect_suffix_fails(fx, "maxbuf=x", false);
	expect_suffix_fails(fx, "maxbuf=2147483648", false);
	expect_suffix_fails(fx, "maxbuf=", true);
	expect_suffix_fails(fx, "nonce-count=2", false);
	expect_suffix_fails(fx, "nonce-count=zz", false);
	/* Protection layers were not offered, even with a hash over "auth". */
	expect_extra_fails(fx, "qop=auth-int", true, OMIT_QOP);
	expect_extra_fails(fx, "qop=auth-conf", false, OMIT_QOP);
	expect_extra_fails(fx, "qop=AUTH", false, OMIT_QOP);
}

static void test_sasl_response_must_be_lowercase_hex(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096], *at, *p;

	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	at = strstr(token, "response=");
	assert_non_null(at);
	for (p = at + 9; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	expect_failed(fx, step_str(fx, token));
}

static void test_sasl_missing_directives_fail(void **state)
{
	struct fixture *fx = *state;
	static const unsigned omit[] = {
		OMIT_USERNAME, OMIT_REALM, OMIT_NONCE, OMIT_CNONCE, OMIT_DIGEST_URI, OMIT_RESPONSE,
	};
	struct client c;
	size_t i;
	for (i = 0; i < sizeof(omit) / sizeof(omit[0]); i++) {
		c = client_default(NULL);
		c.omit = omit[i];
		expect_failed(fx, exchange(fx, c));
	}
	/* qop alone may be left out: RFC 2831 makes "auth" the default. */
	c = client_default(NULL);
	c.omit = OMIT_QOP;
	assert_int_equal(exchange(fx, c), 0);
}

/* Every strict prefix of a valid token fails; the whole token succeeds. */
static void test_sasl_truncated_responses_fail(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096];
	size_t len, cut;

	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	len = strlen(token);
	for (cut = 0; cut < len; cut++) {
		challenged_with(fx, c.nonce);
		expect_failed(fx, step(fx, token, cut));
	}
	challenged_with(fx, c.nonce);
	assert_int_equal(step(fx, token, len), 0);
}

static void test_sasl_malformed_syntax_fails(void **state)
{
	struct fixture *fx = *state;
	/* Each breaks the grammar in a way the JDK parser also refuses; the
	 * rest of the token is valid, so only the defect can fail it. */
	expect_suffix_fails(fx, "x=\"unterminated", false);
	expect_suffix_fails(fx, "x=\"ends in escape\\", false);
	expect_suffix_fails(fx, "x=\"a\"b", true);
	expect_suffix_fails(fx, "=value", true);
	expect_suffix_fails(fx, "key value", true);
	expect_suffix_fails(fx, "key =", false);
	expect_suffix_fails(fx, "key,", true);
	expect_suffix_fails(fx, "username=\"bob\"", false);
	expect_suffix_fails(fx, "Realm=zk-sasl-md5", false);
	expect_suffix_fails(fx, "response=\"\"", true);
}

static void test_sasl_garbage_bytes_fail(void **state)
{
	struct fixture *fx = *state;
	struct pd_prng gen;
	uint8_t garbage[512];
	int i;

	pd_prng_seed(&gen, 7);
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)pd_prng_below(&gen, sizeof(garbage) + 1);
		pd_prng_bytes(&gen, garbage, len);
		if (i % 2 == 1) /* mostly printable, rich in separators */
			for (size_t k = 0; k < len; k++)
				garbage[k] = (uint8_t)"a=\",\\ \t\r\nresponse"[garbage[k] % 18];
		reset(fx);
		challenge(fx);
		expect_failed(fx, step(fx, (const char *)garbage, len));
	}
}

static void test_sasl_oversized_tokens_fail(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	static char token[8192];
	size_t len;

	memset(token, ' ', 4097);
	expect_failed(fx, step(fx, token, 4097));

	/* A valid response padded with LWS past 4096 bytes. */
	reset(fx);
	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	len = strlen(token);
	memset(token + len, ' ', 4097 - len);
	expect_failed(fx, step(fx, token, 4097));

	/* Padded to exactly 4096 it is still accepted. */
	reset(fx);
	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	len = strlen(token);
	memset(token + len, ' ', 4096 - len);
	assert_int_equal(step(fx, token, 4096), 0);
}

/* ---- the state machine ---- */

static void test_sasl_one_attempt_per_exchange(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096];

	c.nonce = challenge(fx);
	c.password = "wrong";
	client_token(&c, token, sizeof(token));
	expect_failed(fx, step_str(fx, token));

	c.password = "s3cret";
	client_token(&c, token, sizeof(token));
	assert_int_equal(step_str(fx, token), PD_EAUTHFAILED);
	assert_int_equal(fx->sasl.state, PD_SASL_FAILED);
	assert_int_equal(step(fx, "", 0), PD_EAUTHFAILED);
}

static void test_sasl_done_rejects_further_tokens(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096];

	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	assert_int_equal(step_str(fx, token), 0);
	assert_int_equal(step_str(fx, token), PD_EAUTHFAILED);
	assert_int_equal(step(fx, "", 0), PD_EAUTHFAILED);
	assert_int_equal(fx->out.len, 0);
	assert_int_equal(fx->sasl.state, PD_SASL_DONE);
	assert_string_equal(fx->sasl.authzid, "bob");
}

static void test_sasl_rspauth_out_of_memory_fails(void **state)
{
	struct fixture *fx = *state;
	struct client c = client_default(NULL);
	char token[4096];

	c.nonce = challenge(fx);
	client_token(&c, token, sizeof(token));
	pd_buf_free(&fx->mem, &fx->out); /* force the next append to allocate */
	fx->mem.fail_countdown = 1;
	assert_int_equal(step_str(fx, token), PD_ENOMEM);
	assert_int_equal(fx->sasl.state, PD_SASL_FAILED);
	assert_string_equal(fx->sasl.authzid, "");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sasl_challenge_has_zookeeper_fields),
		T(test_sasl_nonce_is_fresh_per_exchange),
		T(test_sasl_initial_token_is_ignored),
		T(test_sasl_challenge_out_of_memory_keeps_start),
		T(test_sasl_exchange_succeeds_and_rspauth_matches),
		T(test_sasl_exchange_with_authzid_hashes_it),
		T(test_sasl_identity_is_username_not_authzid),
		T(test_sasl_identity_follows_kerberos_name_rules),
		T(test_sasl_parser_accepts_lws_case_escapes_and_unknowns),
		T(test_sasl_golden_puresasl),
		T(test_sasl_golden_java),
		T(test_sasl_golden_java_latin1_credentials),
		T(test_sasl_wrong_password_fails),
		T(test_sasl_unknown_user_fails),
		T(test_sasl_nonce_mismatch_fails),
		T(test_sasl_refused_directive_values_fail),
		T(test_sasl_refused_optional_directives_fail),
		T(test_sasl_response_must_be_lowercase_hex),
		T(test_sasl_missing_directives_fail),
		T(test_sasl_truncated_responses_fail),
		T(test_sasl_malformed_syntax_fails),
		T(test_sasl_garbage_bytes_fail),
		T(test_sasl_oversized_tokens_fail),
		T(test_sasl_one_attempt_per_exchange),
		T(test_sasl_done_rejects_further_tokens),
		T(test_sasl_rspauth_out_of_memory_fails),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
