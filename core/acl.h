/*
 * acl.h: ACL lists, connection identities and permission checks
 * (wire-protocol.md §8).
 *
 * ACL lists are interned: each distinct list is stored once, jute-encoded
 * exactly as it goes on the wire, with a reference count, and znodes hold a
 * 32-bit index (ZooKeeper's ReferenceCountedACLCache plays the same role).
 * A connection's identities (ip, digest, sasl, super) are a small set of
 * (scheme, id) strings owned by the connection.
 */
#ifndef PD_ACL_H
#define PD_ACL_H

#include "mem.h"
#include "proto.h"

#define PD_ACL_OPEN 0u /* the index of world:anyone ALL, always present */
#define PD_ACL_READ_ONLY_WORLD 1u /* world:anyone READ (/zookeeper/config) */
#define PD_ACL_NONE UINT32_MAX

struct pd_acl_slot {
	uint8_t *bytes; /* jute vector<ACL>, NULL if the slot is free */
	uint32_t len;
	uint32_t refcount;
	uint32_t hash;
	int32_t world_perms; /* union of perms granted to world:anyone */
	uint32_t next_free;
};

struct pd_acl_table {
	struct pd_mem *mem;
	struct pd_acl_slot *slots;
	uint32_t slot_count;
	uint32_t slot_cap;
	uint32_t free_head;
	uint32_t *index; /* open addressing: slot number + 1, 0 = empty */
	uint32_t index_cap;
	uint32_t live_count;
};

/* One identity held by a connection. */
struct pd_auth_id {
	char scheme[16];
	char *id; /* owned */
	uint32_t id_len;
};

struct pd_auth_set {
	struct pd_auth_id *ids;
	uint32_t count;
	uint32_t cap;
	bool super;
};

int pd_acl_table_init(struct pd_acl_table *t, struct pd_mem *mem);
void pd_acl_table_free(struct pd_acl_table *t);
/* Interns the canonical encoded list and takes a reference; *out gets the index. */
int pd_acl_intern(struct pd_acl_table *t, const uint8_t *bytes, uint32_t len, uint32_t *out);
void pd_acl_ref(struct pd_acl_table *t, uint32_t index);
void pd_acl_unref(struct pd_acl_table *t, uint32_t index);
const struct pd_acl_slot *pd_acl_get(const struct pd_acl_table *t, uint32_t index);

/* Validates a request's ACL vector against the caller's ids (§8.3) and
 * writes the canonical encoding (duplicates removed, auth expanded) to out.
 * Returns 0 or PD_EINVALIDACL. */
int pd_acl_canonicalize(struct pd_mem *mem, const struct pd_vec *acl, const struct pd_auth_set *ids,
			struct pd_buf *out);
/* True if ids grant perm under the list at index (§8.4). */
bool pd_acl_allows(const struct pd_acl_table *t, uint32_t index, int32_t perm,
		   const struct pd_auth_set *ids);
/* Appends the list for a getACL reply, masking digest ids when mask is set. */
void pd_acl_write_reply(const struct pd_acl_table *t, uint32_t index, bool mask, struct pd_jw *jw);

/* Identity sets. */
int pd_auth_add(struct pd_mem *mem, struct pd_auth_set *set, const char *scheme, const char *id,
		size_t id_len);
bool pd_auth_has_scheme(const struct pd_auth_set *set, const char *scheme);
void pd_auth_free(struct pd_mem *mem, struct pd_auth_set *set);

/* digest id for "user:password" bytes: "user:" + base64(sha1(bytes)).  out
 * must hold at least user_len + 30 bytes; returns the length. */
size_t pd_acl_digest_id(const uint8_t *auth, size_t len, char *out, size_t out_size);
/* Standard base64 with padding; returns the output length. */
size_t pd_base64_encode(const uint8_t *in, size_t len, char *out);
/* Parses dotted IPv4 "a.b.c.d" with optional "/bits"; false if invalid. */
bool pd_acl_parse_ipv4(const char *s, size_t len, uint32_t *addr, int *bits);

#endif
