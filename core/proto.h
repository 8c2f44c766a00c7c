/*
 * proto.h: ZooKeeper 3.8 client records, opcodes and their codec
 * (wire-protocol.md §2, §5, §10).
 *
 * Decoding never copies: strings, buffers and vectors in a decoded request
 * are spans into the frame, valid while the frame is.  Vectors (ACL lists,
 * watch path lists) stay encoded and are walked with pd_vec iterators, so
 * decoding needs no allocation at all.  Encoders append to a pd_jw.
 */
#ifndef PD_PROTO_H
#define PD_PROTO_H

#include "jute.h"
#include "types.h"

enum pd_op {
	PD_OP_NOTIFICATION = 0,
	PD_OP_CREATE = 1,
	PD_OP_DELETE = 2,
	PD_OP_EXISTS = 3,
	PD_OP_GETDATA = 4,
	PD_OP_SETDATA = 5,
	PD_OP_GETACL = 6,
	PD_OP_SETACL = 7,
	PD_OP_GETCHILDREN = 8,
	PD_OP_SYNC = 9,
	PD_OP_PING = 11,
	PD_OP_GETCHILDREN2 = 12,
	PD_OP_CHECK = 13,
	PD_OP_MULTI = 14,
	PD_OP_CREATE2 = 15,
	PD_OP_RECONFIG = 16,
	PD_OP_CHECKWATCHES = 17,
	PD_OP_REMOVEWATCHES = 18,
	PD_OP_CREATECONTAINER = 19,
	PD_OP_DELETECONTAINER = 20,
	PD_OP_CREATETTL = 21,
	PD_OP_MULTIREAD = 22,
	PD_OP_AUTH = 100,
	PD_OP_SETWATCHES = 101,
	PD_OP_SASL = 102,
	PD_OP_GETEPHEMERALS = 103,
	PD_OP_GETALLCHILDRENNUMBER = 104,
	PD_OP_SETWATCHES2 = 105,
	PD_OP_ADDWATCH = 106,
	PD_OP_WHOAMI = 107,
	PD_OP_CREATESESSION = -10,
	PD_OP_CLOSESESSION = -11,
	PD_OP_ERROR = -1,
};

enum pd_xid {
	PD_XID_NOTIFICATION = -1,
	PD_XID_PING = -2,
	PD_XID_AUTH = -4,
	PD_XID_SETWATCHES = -8,
};

enum pd_perm {
	PD_PERM_READ = 1,
	PD_PERM_WRITE = 2,
	PD_PERM_CREATE = 4,
	PD_PERM_DELETE = 8,
	PD_PERM_ADMIN = 16,
	PD_PERM_ALL = 31,
};

enum pd_event_kind {
	PD_WEV_NONE = -1,
	PD_WEV_CREATED = 1,
	PD_WEV_DELETED = 2,
	PD_WEV_DATA_CHANGED = 3,
	PD_WEV_CHILDREN_CHANGED = 4,
};

#define PD_KEEPER_STATE_SYNC_CONNECTED 3

enum pd_create_mode {
	PD_MODE_PERSISTENT = 0,
	PD_MODE_EPHEMERAL = 1,
	PD_MODE_PERSISTENT_SEQUENTIAL = 2,
	PD_MODE_EPHEMERAL_SEQUENTIAL = 3,
	PD_MODE_CONTAINER = 4,
	PD_MODE_PERSISTENT_WITH_TTL = 5,
	PD_MODE_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

#define PD_STAT_BYTES 68
#define PD_REPLY_HEADER_BYTES 16
#define PD_TTL_MAX ((int64_t)0xffffffffffLL)

struct pd_stat {
	int64_t czxid;
	int64_t mzxid;
	int64_t ctime;
	int64_t mtime;
	int32_t version;
	int32_t cversion;
	int32_t aversion;
	int64_t ephemeral_owner;
	int32_t data_length;
	int32_t num_children;
	int64_t pzxid;
};

/* An encoded jute vector left in place; walk it with the iterators below. */
struct pd_vec {
	int32_t count;
	bool is_null;
	const uint8_t *ptr; /* first element */
	size_t len;         /* bytes of all elements */
};

struct pd_acl {
	int32_t perms;
	struct pd_span scheme;
	struct pd_span id;
};

struct pd_connect_req {
	int32_t protocol_version;
	int64_t last_zxid_seen;
	int32_t timeout_ms;
	int64_t session_id;
	struct pd_span passwd;
	bool has_read_only;
	bool read_only;
};

/* One decoded request body.  Which fields are meaningful depends on type. */
struct pd_req {
	int32_t xid;
	int32_t type;
	struct pd_span path;
	struct pd_span data;
	struct pd_vec acl;
	int32_t flags;
	int32_t version;
	int64_t ttl;
	bool watch;
	int32_t mode; /* addWatch mode, check/removeWatches watcher type */
	/* setWatches / setWatches2 */
	int64_t relative_zxid;
	struct pd_vec watches[5]; /* data, exist, child, persistent, recursive */
	/* auth */
	int32_t auth_type;
	struct pd_span scheme;
	struct pd_span auth;
	/* reconfig */
	struct pd_span joining, leaving, new_members;
	int64_t cur_config_id;
	/* multi and multiRead: the encoded ops, decoded with pd_multi_next */
	const uint8_t *multi_ptr;
	size_t multi_len;
};

/* Decodes a ConnectRequest payload. */
int pd_proto_decode_connect(const uint8_t *p, size_t len, uint32_t field_bytes_max,
			    struct pd_connect_req *out);
/* Decodes the body of a request of type req->type (header already read). */
int pd_proto_decode_body(struct pd_jr *jr, struct pd_req *req);
/* True if type is an opcode a client may send (wire-protocol.md §5). */
bool pd_proto_op_known(int32_t type);
/* True for ops that go through transaction preparation (consume a zxid). */
bool pd_proto_op_is_write(int32_t type);

/* Iterators over encoded vectors. */
struct pd_vec_iter {
	struct pd_jr jr;
	int32_t left;
};
void pd_vec_iter_init(struct pd_vec_iter *it, const struct pd_vec *v);
/* Next element; returns false at the end. */
bool pd_vec_next_acl(struct pd_vec_iter *it, struct pd_acl *out);
bool pd_vec_next_string(struct pd_vec_iter *it, struct pd_span *out);

/* Multi sub-operation iterator. */
struct pd_multi_iter {
	struct pd_jr jr;
	bool done;
};
void pd_multi_iter_init(struct pd_multi_iter *it, const struct pd_req *multi, uint32_t field_bytes_max);
/* Decodes the next sub-op into *op (type set from its MultiHeader).  Returns
 * 1 for an op, 0 at the terminator, or a negative code on malformed input. */
int pd_multi_next(struct pd_multi_iter *it, struct pd_req *op);

/* Encoders. */
void pd_jw_stat(struct pd_jw *jw, const struct pd_stat *st);
void pd_jw_reply_header(struct pd_jw *jw, int32_t xid, int64_t zxid, int32_t err);
void pd_jw_acl(struct pd_jw *jw, int32_t perms, const char *scheme, size_t scheme_len,
	       const char *id, size_t id_len);
void pd_jw_multi_header(struct pd_jw *jw, int32_t type, bool done, int32_t err);

/* Returns the short op code name used by "cons" (GETD, SETD...). */
const char *pd_proto_op_abbrev(int32_t type);

#endif
