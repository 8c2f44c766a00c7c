/* proto.c: decode client packets and encode replies; see proto.h. */
#include "proto.h"

#include <string.h>

#include "assert.h"
#include "err.h"

int pd_proto_decode_connect(const uint8_t *p, size_t len, uint32_t field_bytes_max,
			    struct pd_connect_req *out)
{
	struct pd_jr jr;
	memset(out, 0, sizeof(*out));
	pd_jr_init(&jr, p, len, field_bytes_max);
	out->protocol_version = pd_jr_int(&jr);
	out->last_zxid_seen = pd_jr_long(&jr);
	out->timeout_ms = pd_jr_int(&jr);
	out->session_id = pd_jr_long(&jr);
	out->passwd = pd_jr_buffer(&jr);
	if (jr.err != 0)
		return PD_EPROTO;
	if (pd_jr_remaining(&jr) >= 1) {
		out->has_read_only = true;
		out->read_only = pd_jr_bool(&jr);
	}
	return 0;
}

static void jr_vec(struct pd_jr *jr, struct pd_vec *v, bool strings_only)
{
	bool is_null;
	int32_t i;
	memset(v, 0, sizeof(*v));
	v->count = pd_jr_vector_len(jr, &is_null);
	v->is_null = is_null;
	v->ptr = jr->p;
	for (i = 0; i < v->count && jr->err == 0; i++) {
		if (!strings_only)
			(void)pd_jr_int(jr); /* perms */
		(void)pd_jr_buffer(jr);
		if (!strings_only)
			(void)pd_jr_buffer(jr);
	}
	v->len = (size_t)(jr->p - v->ptr);
}

bool pd_proto_op_known(int32_t type)
{
	switch (type) {
	case PD_OP_CREATE:
	case PD_OP_DELETE:
	case PD_OP_EXISTS:
	case PD_OP_GETDATA:
	case PD_OP_SETDATA:
	case PD_OP_GETACL:
	case PD_OP_SETACL:
	case PD_OP_GETCHILDREN:
	case PD_OP_SYNC:
	case PD_OP_PING:
	case PD_OP_GETCHILDREN2:
	case PD_OP_CHECK:
	case PD_OP_MULTI:
	case PD_OP_CREATE2:
	case PD_OP_RECONFIG:
	case PD_OP_CHECKWATCHES:
	case PD_OP_REMOVEWATCHES:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
	case PD_OP_MULTIREAD:
	case PD_OP_AUTH:
	case PD_OP_SETWATCHES:
	case PD_OP_SASL:
	case PD_OP_GETEPHEMERALS:
	case PD_OP_GETALLCHILDRENNUMBER:
	case PD_OP_SETWATCHES2:
	case PD_OP_ADDWATCH:
	case PD_OP_WHOAMI:
	case PD_OP_CLOSESESSION:
		return true;
	default:
		return false;
	}
}

bool pd_proto_op_is_write(int32_t type)
{
	switch (type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
	case PD_OP_DELETE:
	case PD_OP_SETDATA:
	case PD_OP_SETACL:
	case PD_OP_MULTI:
	case PD_OP_RECONFIG:
	case PD_OP_CHECK:
	case PD_OP_CLOSESESSION:
		return true;
	default:
		return false;
	}
}

int pd_proto_decode_body(struct pd_jr *jr, struct pd_req *req)
{
	int i;
	switch (req->type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		req->path = pd_jr_buffer(jr);
		req->data = pd_jr_buffer(jr);
		jr_vec(jr, &req->acl, false);
		req->flags = pd_jr_int(jr);
		if (req->type == PD_OP_CREATETTL)
			req->ttl = pd_jr_long(jr);
		break;
	case PD_OP_DELETE:
	case PD_OP_CHECK:
		req->path = pd_jr_buffer(jr);
		req->version = pd_jr_int(jr);
		break;
	case PD_OP_EXISTS:
	case PD_OP_GETDATA:
	case PD_OP_GETCHILDREN:
	case PD_OP_GETCHILDREN2:
		req->path = pd_jr_buffer(jr);
		req->watch = pd_jr_bool(jr);
		break;
	case PD_OP_SETDATA:
		req->path = pd_jr_buffer(jr);
		req->data = pd_jr_buffer(jr);
		req->version = pd_jr_int(jr);
		break;
	case PD_OP_GETACL:
	case PD_OP_SYNC:
	case PD_OP_GETEPHEMERALS:
	case PD_OP_GETALLCHILDRENNUMBER:
		req->path = pd_jr_buffer(jr);
		break;
	case PD_OP_SETACL:
		req->path = pd_jr_buffer(jr);
		jr_vec(jr, &req->acl, false);
		req->version = pd_jr_int(jr);
		break;
	case PD_OP_RECONFIG:
		req->joining = pd_jr_buffer(jr);
		req->leaving = pd_jr_buffer(jr);
		req->new_members = pd_jr_buffer(jr);
		req->cur_config_id = pd_jr_long(jr);
		break;
	case PD_OP_CHECKWATCHES:
	case PD_OP_REMOVEWATCHES:
	case PD_OP_ADDWATCH:
		req->path = pd_jr_buffer(jr);
		req->mode = pd_jr_int(jr);
		break;
	case PD_OP_SETWATCHES:
	case PD_OP_SETWATCHES2:
		req->relative_zxid = pd_jr_long(jr);
		for (i = 0; i < (req->type == PD_OP_SETWATCHES ? 3 : 5); i++) {
			jr_vec(jr, &req->watches[i], true);
			if (req->watches[i].is_null)
				jr->err = PD_EPROTO;
		}
		break;
	case PD_OP_AUTH:
		req->auth_type = pd_jr_int(jr);
		req->scheme = pd_jr_buffer(jr);
		req->auth = pd_jr_buffer(jr);
		break;
	case PD_OP_SASL:
		req->data = pd_jr_buffer(jr);
		break;
	case PD_OP_MULTI:
	case PD_OP_MULTIREAD:
		req->multi_ptr = jr->p;
		req->multi_len = pd_jr_remaining(jr);
		break;
	case PD_OP_PING:
	case PD_OP_CLOSESESSION:
	case PD_OP_WHOAMI:
		break;
	default:
		return PD_EUNIMPLEMENTED;
	}
	return jr->err != 0 ? PD_EPROTO : 0;
}

void pd_vec_iter_init(struct pd_vec_iter *it, const struct pd_vec *v)
{
	pd_jr_init(&it->jr, v->ptr, v->len, UINT32_MAX);
	it->left = v->count;
}

bool pd_vec_next_acl(struct pd_vec_iter *it, struct pd_acl *out)
{
	if (it->left <= 0)
		return false;
	it->left--;
	out->perms = pd_jr_int(&it->jr);
	out->scheme = pd_jr_buffer(&it->jr);
	out->id = pd_jr_buffer(&it->jr);
	PD_ASSERT(it->jr.err == 0); /* the vector was validated when decoded */
	return true;
}

bool pd_vec_next_string(struct pd_vec_iter *it, struct pd_span *out)
{
	if (it->left <= 0)
		return false;
	it->left--;
	*out = pd_jr_buffer(&it->jr);
	PD_ASSERT(it->jr.err == 0);
	return true;
}

void pd_multi_iter_init(struct pd_multi_iter *it, const struct pd_req *multi, uint32_t field_bytes_max)
{
	pd_jr_init(&it->jr, multi->multi_ptr, multi->multi_len, field_bytes_max);
	it->done = false;
}

int pd_multi_next(struct pd_multi_iter *it, struct pd_req *op)
{
	int32_t type;
	bool done;
	int rc;
	if (it->done)
		return 0;
	type = pd_jr_int(&it->jr);
	done = pd_jr_bool(&it->jr);
	(void)pd_jr_int(&it->jr); /* err */
	if (it->jr.err != 0)
		return PD_EPROTO;
	if (done) {
		it->done = true;
		return 0;
	}
	memset(op, 0, sizeof(*op));
	op->type = type;
	switch (type) {
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
	case PD_OP_DELETE:
	case PD_OP_SETDATA:
	case PD_OP_CHECK:
	case PD_OP_GETCHILDREN:
	case PD_OP_GETDATA:
		break;
	default:
		return PD_EPROTO;
	}
	rc = pd_proto_decode_body(&it->jr, op);
	return rc != 0 ? PD_EPROTO : 1;
}

void pd_jw_stat(struct pd_jw *jw, const struct pd_stat *st)
{
	uint8_t b[PD_STAT_BYTES];
	pd_put_be64(b + 0, (uint64_t)st->czxid);
	pd_put_be64(b + 8, (uint64_t)st->mzxid);
	pd_put_be64(b + 16, (uint64_t)st->ctime);
	pd_put_be64(b + 24, (uint64_t)st->mtime);
	pd_put_be32(b + 32, (uint32_t)st->version);
	pd_put_be32(b + 36, (uint32_t)st->cversion);
	pd_put_be32(b + 40, (uint32_t)st->aversion);
	pd_put_be64(b + 44, (uint64_t)st->ephemeral_owner);
	pd_put_be32(b + 52, (uint32_t)st->data_length);
	pd_put_be32(b + 56, (uint32_t)st->num_children);
	pd_put_be64(b + 60, (uint64_t)st->pzxid);
	pd_jw_bytes(jw, b, sizeof(b));
}

void pd_jw_reply_header(struct pd_jw *jw, int32_t xid, int64_t zxid, int32_t err)
{
	uint8_t b[PD_REPLY_HEADER_BYTES];
	pd_put_be32(b, (uint32_t)xid);
	pd_put_be64(b + 4, (uint64_t)zxid);
	pd_put_be32(b + 12, (uint32_t)err);
	pd_jw_bytes(jw, b, sizeof(b));
}

void pd_jw_acl(struct pd_jw *jw, int32_t perms, const char *scheme, size_t scheme_len,
	       const char *id, size_t id_len)
{
	pd_jw_int(jw, perms);
	pd_jw_string(jw, scheme, scheme_len);
	pd_jw_string(jw, id, id_len);
}

void pd_jw_multi_header(struct pd_jw *jw, int32_t type, bool done, int32_t err)
{
	pd_jw_int(jw, type);
	pd_jw_bool(jw, done);
	pd_jw_int(jw, err);
}

const char *pd_proto_op_abbrev(int32_t type)
{
	switch (type) {
	case PD_OP_GETDATA:
		return "GETD";
	case PD_OP_SETDATA:
		return "SETD";
	case PD_OP_CREATE:
	case PD_OP_CREATE2:
	case PD_OP_CREATECONTAINER:
	case PD_OP_CREATETTL:
		return "CREA";
	case PD_OP_DELETE:
		return "DELE";
	case PD_OP_EXISTS:
		return "EXIS";
	case PD_OP_GETCHILDREN:
	case PD_OP_GETCHILDREN2:
		return "GETC";
	case PD_OP_GETACL:
		return "GETA";
	case PD_OP_SETACL:
		return "SETA";
	case PD_OP_SYNC:
		return "SYNC";
	case PD_OP_PING:
		return "PING";
	case PD_OP_CREATESESSION:
		return "SESS";
	case PD_OP_CLOSESESSION:
		return "CLOS";
	case PD_OP_MULTI:
		return "MULT";
	case PD_OP_MULTIREAD:
		return "MLTR";
	case PD_OP_SETWATCHES:
		return "SETW";
	case PD_OP_SETWATCHES2:
		return "STW2";
	case PD_OP_ADDWATCH:
		return "ADDW";
	case PD_OP_CHECKWATCHES:
		return "CHKW";
	case PD_OP_REMOVEWATCHES:
		return "REMW";
	case PD_OP_CHECK:
		return "CHEC";
	case PD_OP_RECONFIG:
		return "RECO";
	case PD_OP_GETEPHEMERALS:
		return "GETE";
	case PD_OP_GETALLCHILDRENNUMBER:
		return "GETACN";
	case PD_OP_WHOAMI:
		return "HOMI";
	default:
		return "NA";
	}
}
