/*
 * sasl.c: the server side of DIGEST-MD5 (RFC 2831) as Apache ZooKeeper 3.8
 * runs it; see sasl.h.
 *
 * ZooKeeper does not implement DIGEST-MD5 itself: it creates the JDK's
 * DigestMD5Server with protocol "zookeeper", server name "zk-sasl-md5" and
 * no properties, and hands it a callback handler that looks passwords up in
 * the JAAS Server section.  Everything a client can observe therefore comes
 * from the JDK mechanism with its defaults, and this file reproduces it:
 *
 *   - the first token, whatever it holds, is answered with
 *     realm="zk-sasl-md5",nonce="<40 base64 chars>",charset=utf-8,
 *     algorithm=md5-sess (no qop directive: the server was given no qop
 *     property, and RFC 2831 makes "auth" the default);
 *   - any token longer than 4096 bytes is refused;
 *   - the digest-response is parsed with the JDK's directive grammar
 *     (quoted strings with backslash escapes, unquoted tokens, LWS and
 *     commas; a known directive given twice is an error, unknown ones are
 *     ignored) and checked: charset absent or "utf-8", maxbuf a Java int,
 *     a non-empty username, realm exactly "zk-sasl-md5", our nonce, a cnonce,
 *     qop absent or "auth", digest-uri equal to "zookeeper/zk-sasl-md5"
 *     ignoring ASCII case, and a response equal to the one we compute;
 *   - the answer is rspauth=<32 lowercase hex>, computed with A2 = ":" uri;
 *   - the identity is the authentication id (the username), not the
 *     authzid: ZooKeeper's callback handler canonicalises the username
 *     with Kerberos naming rules (see sasl_identity for the cases).
 *
 * The hashes use md5-sess with the JDK's encoding rule: username, realm and
 * password are hashed as ISO-8859-1 when every character fits in it, else as
 * UTF-8.  The nonce count is always 00000001 (no subsequent authentication).
 * Parsing never reads past the token, and every bad input is PD_EAUTHFAILED.
 */
#include "sasl.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "assert.h"
#include "err.h"

#define SASL_REALM "zk-sasl-md5"
#define SASL_DIGEST_URI "zookeeper/zk-sasl-md5"
#define SASL_QOP "auth"
#define SASL_NONCE_COUNT "00000001"
/* The JDK's MAX_RESPONSE_LENGTH: longer client tokens are refused. */
#define SASL_TOKEN_BYTES_MAX 4096
/* The JDK draws 30 random bytes and base64-encodes them to 40 characters. */
#define SASL_NONCE_RAW_BYTES 30
#define SASL_NONCE_CHARS (SASL_NONCE_RAW_BYTES / 3 * 4)
#define SASL_MD5_BYTES 16
#define SASL_HEX_CHARS (2 * SASL_MD5_BYTES)
/* Room for any hash input: cnonce and authzid together fit in one token. */
#define SASL_CAT_BYTES_MAX (SASL_TOKEN_BYTES_MAX + 256)

_Static_assert(SASL_NONCE_RAW_BYTES % 3 == 0, "nonce must encode without padding");
_Static_assert(SASL_NONCE_CHARS < sizeof(((struct pd_sasl *)0)->nonce), "nonce must fit");

/* The digest-response directives the JDK server knows.  Its table names the
 * nonce count "nonce-count", so the "nc" that clients actually send is an
 * unknown directive and ignored; the nonce count is still verified, because
 * the expected response is computed with 00000001 and a client that hashed
 * any other count fails the comparison. */
enum sasl_key {
	SASL_KEY_USERNAME,
	SASL_KEY_REALM,
	SASL_KEY_NONCE,
	SASL_KEY_CNONCE,
	SASL_KEY_NONCE_COUNT,
	SASL_KEY_QOP,
	SASL_KEY_DIGEST_URI,
	SASL_KEY_RESPONSE,
	SASL_KEY_MAXBUF,
	SASL_KEY_CHARSET,
	SASL_KEY_CIPHER,
	SASL_KEY_AUTHZID,
	SASL_KEY_AUTH_PARAM,
	SASL_KEY_COUNT,
};

static const char *const sasl_key_names[SASL_KEY_COUNT] = {
	[SASL_KEY_USERNAME] = "username",
	[SASL_KEY_REALM] = "realm",
	[SASL_KEY_NONCE] = "nonce",
	[SASL_KEY_CNONCE] = "cnonce",
	[SASL_KEY_NONCE_COUNT] = "nonce-count",
	[SASL_KEY_QOP] = "qop",
	[SASL_KEY_DIGEST_URI] = "digest-uri",
	[SASL_KEY_RESPONSE] = "response",
	[SASL_KEY_MAXBUF] = "maxbuf",
	[SASL_KEY_CHARSET] = "charset",
	[SASL_KEY_CIPHER] = "cipher",
	[SASL_KEY_AUTHZID] = "authzid",
	[SASL_KEY_AUTH_PARAM] = "auth-param",
};

/* One directive's unescaped value; ptr points into the response scratch. */
struct sasl_value {
	const uint8_t *ptr;
	size_t len;
	bool present;
};

struct sasl_response {
	struct sasl_value values[SASL_KEY_COUNT];
	/* Unescaped values.  Each value byte consumes at least one token byte,
	 * so a token of at most SASL_TOKEN_BYTES_MAX always fits. */
	uint8_t scratch[SASL_TOKEN_BYTES_MAX];
	size_t scratch_len;
};

/* A bounded byte string that hash inputs are assembled in. */
struct sasl_cat {
	uint8_t bytes[SASL_CAT_BYTES_MAX];
	size_t len;
	bool overflow;
};

static void sasl_cat_put(struct sasl_cat *cat, const void *src, size_t len)
{
	if (cat->overflow || len > sizeof(cat->bytes) - cat->len) {
		cat->overflow = true;
		return;
	}
	if (len > 0)
		memcpy(cat->bytes + cat->len, src, len);
	cat->len += len;
}

static void sasl_cat_str(struct sasl_cat *cat, const char *s)
{
	sasl_cat_put(cat, s, strlen(s));
}

static void sasl_cat_value(struct sasl_cat *cat, const struct sasl_value *v)
{
	sasl_cat_put(cat, v->ptr, v->len);
}

static bool sasl_is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t sasl_skip_lws(const uint8_t *in, size_t len, size_t i)
{
	while (i < len && sasl_is_lws(in[i]))
		i++;
	return i;
}

static bool sasl_ascii_equal_nocase(const uint8_t *a, size_t a_len, const char *b)
{
	size_t i, b_len = strlen(b);
	if (a_len != b_len)
		return false;
	for (i = 0; i < a_len; i++) {
		uint8_t x = a[i], y = (uint8_t)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool sasl_value_is(const struct sasl_value *v, const char *lit)
{
	size_t n = strlen(lit);
	return v->present && v->len == n && memcmp(v->ptr, lit, n) == 0;
}

/* Records a parsed directive.  Unknown keys are ignored and a known key
 * given twice is an error, as in the JDK (which also rejects a second realm
 * in a response). */
static int sasl_parse_store(struct sasl_response *resp, const uint8_t *key, size_t key_len,
			    size_t value_start)
{
	size_t k;
	PD_ASSERT(value_start <= resp->scratch_len);
	for (k = 0; k < SASL_KEY_COUNT; k++) {
		struct sasl_value *v = &resp->values[k];
		if (!sasl_ascii_equal_nocase(key, key_len, sasl_key_names[k]))
			continue;
		if (v->present)
			return PD_EAUTHFAILED;
		v->present = true;
		v->ptr = resp->scratch + value_start;
		v->len = resp->scratch_len - value_start;
		return 0;
	}
	return 0;
}

static void sasl_parse_put(struct sasl_response *resp, uint8_t c)
{
	PD_ASSERT(resp->scratch_len < sizeof(resp->scratch));
	resp->scratch[resp->scratch_len++] = c;
}

/* Splits a digest-response into directives with the JDK's grammar:
 *   key [LWS] "=" [LWS] ( quoted-string | token ), separated by "," or LWS,
 * where a quoted string takes "\" escapes and must be followed by a
 * separator, empty elements between commas are skipped, and a bare key at
 * the very end stands for an empty value. */
static int sasl_parse_directives(const uint8_t *in, size_t len, struct sasl_response *resp)
{
	const uint8_t *key = NULL;
	size_t key_len = 0, value_start = 0;
	bool in_key = true, in_quotes = false, expect_separator = false;
	size_t i = sasl_skip_lws(in, len, 0);
	int rc;

	PD_ASSERT(len <= sizeof(resp->scratch));
	while (i < len) {
		uint8_t c = in[i];
		if (in_key) {
			if (c == ',') {
				if (key_len != 0)
					return PD_EAUTHFAILED;
				i = sasl_skip_lws(in, len, i + 1);
			} else if (c == '=') {
				if (key_len == 0)
					return PD_EAUTHFAILED;
				in_key = false;
				value_start = resp->scratch_len;
				i = sasl_skip_lws(in, len, i + 1);
				if (i >= len)
					return PD_EAUTHFAILED; /* valueless directive */
				if (in[i] == '"') {
					in_quotes = true;
					i++;
				}
			} else if (sasl_is_lws(c)) {
				i = sasl_skip_lws(in, len, i + 1);
				if (i >= len || in[i] != '=')
					return PD_EAUTHFAILED;
			} else {
				if (key_len == 0)
					key = in + i;
				key_len++;
				i++;
			}
		} else if (in_quotes) {
			if (c == '\\') {
				i++;
				if (i >= len)
					return PD_EAUTHFAILED; /* escape at the end */
				sasl_parse_put(resp, in[i]);
				i++;
			} else if (c == '"') {
				i++;
				in_quotes = false;
				expect_separator = true;
			} else {
				sasl_parse_put(resp, c);
				i++;
			}
		} else if (sasl_is_lws(c) || c == ',') {
			rc = sasl_parse_store(resp, key, key_len, value_start);
			if (rc != 0)
				return rc;
			key = NULL;
			key_len = 0;
			in_key = true;
			expect_separator = false;
			i = sasl_skip_lws(in, len, i + 1);
		} else if (expect_separator) {
			return PD_EAUTHFAILED; /* bytes straight after a closing quote */
		} else {
			sasl_parse_put(resp, c);
			i++;
		}
	}
	if (in_quotes)
		return PD_EAUTHFAILED; /* unterminated quoted string */
	if (key_len > 0) {
		if (in_key)
			value_start = resp->scratch_len;
		return sasl_parse_store(resp, key, key_len, value_start);
	}
	return 0;
}

/* Parses an int the way Java's Integer.parseInt does for ASCII input: an
 * optional sign, at least one digit of the radix, within 32 bits. */
static bool sasl_parse_java_int(const struct sasl_value *v, int radix, int64_t *out)
{
	int64_t value = 0, limit = INT64_C(2147483647);
	bool negative = false;
	size_t i = 0;
	if (v->len > 0 && (v->ptr[0] == '+' || v->ptr[0] == '-')) {
		negative = v->ptr[0] == '-';
		limit = negative ? INT64_C(2147483648) : limit;
		i = 1;
	}
	if (i == v->len)
		return false;
	for (; i < v->len; i++) {
		uint8_t c = v->ptr[i];
		int digit;
		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (c >= 'a' && c <= 'z')
			digit = c - 'a' + 10;
		else if (c >= 'A' && c <= 'Z')
			digit = c - 'A' + 10;
		else
			return false;
		if (digit >= radix)
			return false;
		value = value * radix + digit;
		if (value > limit)
			return false;
	}
	*out = negative ? -value : value;
	return true;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as
 * Java decodes it; sets *latin1 when every code point is at most U+00FF. */
static bool sasl_utf8_check(const uint8_t *s, size_t len, bool *latin1)
{
	size_t i = 0;
	*latin1 = true;
	while (i < len) {
		uint8_t c = s[i];
		size_t n, k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0u) != 0x80u)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		if (cp >= 0xd800 && cp <= 0xdfff)
			return false;
		if (cp > 0xff)
			*latin1 = false;
		i += n + 1;
	}
	return true;
}

/* Appends a username, realm or password as the JDK hashes it: ISO-8859-1
 * when every character fits, otherwise the UTF-8 bytes unchanged. */
static void sasl_cat_latin1(struct sasl_cat *cat, const uint8_t *s, size_t len)
{
	bool latin1;
	size_t i = 0;
	if (!sasl_utf8_check(s, len, &latin1) || !latin1) {
		sasl_cat_put(cat, s, len);
		return;
	}
	while (i < len) {
		uint8_t c = s[i];
		if (c >= 0x80) {
			c = (uint8_t)(((c & 0x03u) << 6) | (s[i + 1] & 0x3fu));
			i++;
		}
		sasl_cat_put(cat, &c, 1);
		i++;
	}
}

static int sasl_md5(const struct sasl_cat *cat, uint8_t digest[SASL_MD5_BYTES])
{
	unsigned int digest_len = 0;
	if (cat->overflow)
		return PD_EAUTHFAILED;
	if (EVP_Digest(cat->bytes, cat->len, digest, &digest_len, EVP_md5(), NULL) != 1)
		return PD_EAUTHFAILED;
	PD_ASSERT(digest_len == SASL_MD5_BYTES);
	return 0;
}

static void sasl_hex(const uint8_t digest[SASL_MD5_BYTES], char hex[SASL_HEX_CHARS + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < SASL_MD5_BYTES; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[SASL_HEX_CHARS] = '\0';
}

/* The RFC 2831 response-value with md5-sess and qop=auth:
 *   HEX(KD(HEX(H(A1)), nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2))))
 *   A1 = H(user ":" realm ":" password) ":" nonce ":" cnonce [":" authzid]
 *   A2 = method ":" digest-uri
 * method is "AUTHENTICATE" for the client's response and "" for rspauth.
 * The digest-uri is the client's spelling, as the JDK hashes it. */
static int sasl_response_value(const struct sasl_response *resp, const struct pd_sasl_user *user,
			       const char *nonce, const char *method,
			       char hex[SASL_HEX_CHARS + 1])
{
	const struct sasl_value *v = resp->values;
	uint8_t digest[SASL_MD5_BYTES];
	char ha1[SASL_HEX_CHARS + 1], ha2[SASL_HEX_CHARS + 1];
	struct sasl_cat cat;
	int rc;

	cat.len = 0;
	cat.overflow = false;
	sasl_cat_str(&cat, method);
	sasl_cat_str(&cat, ":");
	sasl_cat_value(&cat, &v[SASL_KEY_DIGEST_URI]);
	rc = sasl_md5(&cat, digest);
	if (rc != 0)
		goto out;
	sasl_hex(digest, ha2);

	cat.len = 0;
	sasl_cat_latin1(&cat, v[SASL_KEY_USERNAME].ptr, v[SASL_KEY_USERNAME].len);
	sasl_cat_str(&cat, ":");
	sasl_cat_latin1(&cat, v[SASL_KEY_REALM].ptr, v[SASL_KEY_REALM].len);
	sasl_cat_str(&cat, ":");
	sasl_cat_latin1(&cat, (const uint8_t *)user->password, strlen(user->password));
	rc = sasl_md5(&cat, digest);
	if (rc != 0)
		goto out;

	cat.len = 0;
	sasl_cat_put(&cat, digest, sizeof(digest));
	sasl_cat_str(&cat, ":");
	sasl_cat_str(&cat, nonce);
	sasl_cat_str(&cat, ":");
	sasl_cat_value(&cat, &v[SASL_KEY_CNONCE]);
	if (v[SASL_KEY_AUTHZID].present) {
		sasl_cat_str(&cat, ":");
		sasl_cat_value(&cat, &v[SASL_KEY_AUTHZID]);
	}
	rc = sasl_md5(&cat, digest);
	if (rc != 0)
		goto out;
	sasl_hex(digest, ha1);

	cat.len = 0;
	sasl_cat_str(&cat, ha1);
	sasl_cat_str(&cat, ":");
	sasl_cat_str(&cat, nonce);
	sasl_cat_str(&cat, ":" SASL_NONCE_COUNT ":");
	sasl_cat_value(&cat, &v[SASL_KEY_CNONCE]);
	sasl_cat_str(&cat, ":" SASL_QOP ":");
	sasl_cat_str(&cat, ha2);
	rc = sasl_md5(&cat, digest);
	if (rc != 0)
		goto out;
	sasl_hex(digest, hex);
out:
	/* The password and the session key pass through these buffers. */
	OPENSSL_cleanse(&cat, sizeof(cat));
	OPENSSL_cleanse(digest, sizeof(digest));
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return rc;
}

/* Checks every directive except the response itself, in the JDK's order. */
static int sasl_check_directives(const struct sasl_response *resp, const char *nonce)
{
	const struct sasl_value *v = resp->values;
	int64_t n;

	if (v[SASL_KEY_CHARSET].present && !sasl_value_is(&v[SASL_KEY_CHARSET], "utf-8"))
		return PD_EAUTHFAILED;
	if (v[SASL_KEY_MAXBUF].present && !sasl_parse_java_int(&v[SASL_KEY_MAXBUF], 10, &n))
		return PD_EAUTHFAILED;
	/* The JDK's NameCallback refuses an empty default name. */
	if (!v[SASL_KEY_USERNAME].present || v[SASL_KEY_USERNAME].len == 0)
		return PD_EAUTHFAILED;
	/* A missing realm counts as "", which is not the server's realm. */
	if (!sasl_value_is(&v[SASL_KEY_REALM], SASL_REALM))
		return PD_EAUTHFAILED;
	if (!sasl_value_is(&v[SASL_KEY_NONCE], nonce))
		return PD_EAUTHFAILED;
	if (!v[SASL_KEY_CNONCE].present)
		return PD_EAUTHFAILED;
	if (v[SASL_KEY_NONCE_COUNT].present &&
	    (!sasl_parse_java_int(&v[SASL_KEY_NONCE_COUNT], 16, &n) || n != 1))
		return PD_EAUTHFAILED;
	/* Only "auth" was offered; auth-int and auth-conf are refused. */
	if (v[SASL_KEY_QOP].present && !sasl_value_is(&v[SASL_KEY_QOP], SASL_QOP))
		return PD_EAUTHFAILED;
	if (!v[SASL_KEY_DIGEST_URI].present ||
	    !sasl_ascii_equal_nocase(v[SASL_KEY_DIGEST_URI].ptr, v[SASL_KEY_DIGEST_URI].len,
				     SASL_DIGEST_URI))
		return PD_EAUTHFAILED;
	if (!v[SASL_KEY_RESPONSE].present)
		return PD_EAUTHFAILED;
	return 0;
}

/* The JAAS user with this name.  Java keeps the last of duplicate options,
 * so the search runs backwards. */
static const struct pd_sasl_user *sasl_find_user(const struct pd_config *cfg,
						 const struct sasl_value *username)
{
	int i;
	for (i = cfg->sasl_user_count - 1; i >= 0; i--) {
		const struct pd_sasl_user *u = &cfg->sasl_users[i];
		if (strlen(u->name) != username->len)
			continue;
		if (memcmp(u->name, username->ptr, username->len) == 0)
			return u;
	}
	return NULL;
}

/* The identity ZooKeeper grants, written NUL-terminated to out.  Its
 * callback handler ignores the authzid and canonicalises the username as a
 * Kerberos name (server/auth/KerberosName), with the default rules and no
 * Kerberos configuration (default realm ""):
 *   - no "@": the username itself;
 *   - "svc[/host]@realm" with an empty realm: the DEFAULT rule applies and
 *     rebuilds the username unchanged;
 *   - "svc[/host]@realm" with another realm: no rule applies, the handler
 *     leaves the callback alone, and the JDK grants the authzid if one was
 *     sent, else the username;
 *   - any other name with an "@" makes KerberosName throw, which fails the
 *     exchange. */
static int sasl_identity(const struct sasl_value *username, const struct sasl_value *authzid,
			 char *out, size_t out_size)
{
	const struct sasl_value *granted = username;
	const uint8_t *at = memchr(username->ptr, '@', username->len);
	bool latin1;

	if (at != NULL) {
		size_t at_index = (size_t)(at - username->ptr);
		size_t realm_len = username->len - at_index - 1;
		const uint8_t *realm = at + 1;
		const uint8_t *slash = memchr(username->ptr, '/', at_index);
		if (memchr(realm, '@', realm_len) != NULL || memchr(realm, '/', realm_len) != NULL)
			return PD_EAUTHFAILED;
		if (slash != NULL) {
			size_t host_len = at_index - (size_t)(slash - username->ptr) - 1;
			if (memchr(slash + 1, '/', host_len) != NULL)
				return PD_EAUTHFAILED;
		}
		if (realm_len > 0 && authzid->present)
			granted = authzid;
	}
	/* Java would decode bad UTF-8 into U+FFFD; such an identity is refused. */
	if (!sasl_utf8_check(granted->ptr, granted->len, &latin1))
		return PD_EAUTHFAILED;
	if (granted->len >= out_size || memchr(granted->ptr, '\0', granted->len) != NULL)
		return PD_EAUTHFAILED;
	memcpy(out, granted->ptr, granted->len);
	out[granted->len] = '\0';
	return 0;
}

/* Step one: any first token gets the challenge (the JDK ignores an initial
 * response, and ZooKeeper's clients send an empty one). */
static int sasl_step_challenge(struct pd_sasl *sasl, struct pd_prng *prng, struct pd_mem *mem,
			       struct pd_buf *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t raw[SASL_NONCE_RAW_BYTES];
	char challenge[sizeof(sasl->nonce) + 64];
	size_t i, j = 0;
	int n, rc;

	pd_prng_bytes(prng, raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i += 3) {
		uint32_t w = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
		sasl->nonce[j++] = b64[(w >> 18) & 0x3f];
		sasl->nonce[j++] = b64[(w >> 12) & 0x3f];
		sasl->nonce[j++] = b64[(w >> 6) & 0x3f];
		sasl->nonce[j++] = b64[w & 0x3f];
	}
	PD_ASSERT(j == SASL_NONCE_CHARS);
	sasl->nonce[j] = '\0';

	n = snprintf(challenge, sizeof(challenge),
		     "realm=\"" SASL_REALM "\",nonce=\"%s\",charset=utf-8,algorithm=md5-sess",
		     sasl->nonce);
	PD_ASSERT(n > 0 && (size_t)n < sizeof(challenge));
	rc = pd_buf_append(mem, out, challenge, (size_t)n);
	if (rc != 0)
		return rc; /* still START: a retry draws a fresh nonce */
	sasl->state = PD_SASL_CHALLENGED;
	return 0;
}

/* Step three: check the digest-response and answer rspauth. */
static int sasl_step_response(struct pd_sasl *sasl, const struct pd_config *cfg,
			      const uint8_t *in, size_t in_len, struct pd_mem *mem,
			      struct pd_buf *out)
{
	struct sasl_response resp;
	const struct pd_sasl_user *user;
	char expected[SASL_HEX_CHARS + 1], rspauth[sizeof("rspauth=") + SASL_HEX_CHARS];
	char authzid[sizeof(sasl->authzid)];
	int rc;

	memset(&resp, 0, sizeof(resp));
	rc = sasl_parse_directives(in, in_len, &resp);
	if (rc == 0)
		rc = sasl_check_directives(&resp, sasl->nonce);
	if (rc != 0)
		return rc;
	user = sasl_find_user(cfg, &resp.values[SASL_KEY_USERNAME]);
	if (user == NULL)
		return PD_EAUTHFAILED;
	rc = sasl_response_value(&resp, user, sasl->nonce, "AUTHENTICATE", expected);
	if (rc != 0)
		return rc;
	if (resp.values[SASL_KEY_RESPONSE].len != SASL_HEX_CHARS ||
	    CRYPTO_memcmp(resp.values[SASL_KEY_RESPONSE].ptr, expected, SASL_HEX_CHARS) != 0)
		return PD_EAUTHFAILED;
	rc = sasl_identity(&resp.values[SASL_KEY_USERNAME], &resp.values[SASL_KEY_AUTHZID], authzid,
			   sizeof(authzid));
	if (rc != 0)
		return rc;
	memcpy(rspauth, "rspauth=", 8);
	rc = sasl_response_value(&resp, user, sasl->nonce, "", rspauth + 8);
	if (rc != 0)
		return rc;
	rc = pd_buf_append(mem, out, rspauth, 8 + SASL_HEX_CHARS);
	if (rc != 0)
		return rc;
	memcpy(sasl->authzid, authzid, sizeof(authzid));
	sasl->state = PD_SASL_DONE;
	return 0;
}

int pd_sasl_step(struct pd_sasl *sasl, const struct pd_config *cfg, struct pd_prng *prng,
		 const uint8_t *in, size_t in_len, struct pd_mem *mem, struct pd_buf *out)
{
	int rc;

	PD_ASSERT(sasl != NULL);
	PD_ASSERT(cfg != NULL);
	PD_ASSERT(prng != NULL);
	PD_ASSERT(out != NULL);
	PD_ASSERT(in != NULL || in_len == 0);

	switch (sasl->state) {
	case PD_SASL_START:
		if (in_len > SASL_TOKEN_BYTES_MAX) {
			sasl->state = PD_SASL_FAILED;
			return PD_EAUTHFAILED;
		}
		return sasl_step_challenge(sasl, prng, mem, out);
	case PD_SASL_CHALLENGED:
		/* The JDK allows one attempt: any outcome ends the exchange. */
		sasl->state = PD_SASL_FAILED;
		if (in_len > SASL_TOKEN_BYTES_MAX)
			return PD_EAUTHFAILED;
		rc = sasl_step_response(sasl, cfg, in, in_len, mem, out);
		PD_ASSERT(rc != 0 || sasl->state == PD_SASL_DONE);
		return rc;
	case PD_SASL_DONE:
	case PD_SASL_FAILED:
		return PD_EAUTHFAILED;
	}
	PD_UNREACHABLE();
}
