/* quorum.c: the quorum port's packets of quorum.h. */
#include "quorum.h"

#include "err.h"
#include "jute.h"

static const char *const qp_names[] = {
	"?",	 "REQUEST",  "PROPOSAL",     "ACK",    "COMMIT",	"PING",	      "REVALIDATE",
	"SYNC",	 "INFORM",   "COMMITANDACTIVATE", "NEWLEADER", "FOLLOWERINFO", "UPTODATE", "DIFF",
	"TRUNC", "SNAP",     "OBSERVERINFO", "LEADERINFO", "ACKEPOCH", "INFORMANDACTIVATE",
};

const char *pd_qp_name(int32_t type)
{
	return type >= 1 && type <= PD_QP_INFORMANDACTIVATE ? qp_names[type] : "?";
}

/* A length-prefixed field at *off: true and its bounds if complete; *bad
 * if its length is impossible. */
static bool qp_field(const uint8_t *p, size_t len, size_t *off, uint32_t max, bool allow_null, bool *bad,
		     struct pd_span *out)
{
	int32_t n;
	if (len - *off < 4)
		return false;
	n = (int32_t)pd_be32(p + *off);
	if (n == -1 && allow_null) {
		*off += 4;
		if (out != NULL)
			*out = (struct pd_span){NULL, 0, true};
		return true;
	}
	if (n < 0 || (uint32_t)n > max) {
		*bad = true;
		return false;
	}
	if (len - *off - 4 < (size_t)n)
		return false;
	if (out != NULL)
		*out = (struct pd_span){p + *off + 4, (uint32_t)n, false};
	*off += 4 + (size_t)n;
	return true;
}

long pd_qp_decode(const uint8_t *p, size_t len, uint32_t data_max, struct pd_qp *out)
{
	size_t off = 12, auth_start;
	bool bad = false;
	int32_t count, i;
	if (len < 12)
		return 0;
	out->type = (int32_t)pd_be32(p);
	if (out->type < PD_QP_REQUEST || out->type > PD_QP_INFORMANDACTIVATE)
		return -1;
	out->zxid = (pd_zxid)pd_be64(p + 4);
	if (!qp_field(p, len, &off, data_max, true, &bad, &out->data))
		return bad ? -1 : 0;
	if (len - off < 4)
		return 0;
	count = (int32_t)pd_be32(p + off);
	if (count == -1)
		count = 0;
	if (count < 0 || count > 1024)
		return -1;
	off += 4;
	auth_start = off;
	for (i = 0; i < count; i++)
		if (!qp_field(p, len, &off, 4096, false, &bad, NULL) || !qp_field(p, len, &off, 4096, false, &bad, NULL))
			return bad ? -1 : 0;
	out->auth = (struct pd_span){p + auth_start, (uint32_t)(off - auth_start), false};
	out->auth_count = (uint32_t)count;
	return (long)off;
}

int pd_qp_encode(struct pd_mem *mem, struct pd_buf *buf, int32_t type, pd_zxid zxid, const void *data, int32_t len)
{
	struct pd_jw jw = {mem, buf};
	pd_jw_int(&jw, type);
	pd_jw_long(&jw, zxid);
	pd_jw_buffer(&jw, data, len);
	pd_jw_int(&jw, 0); /* authinfo: none */
	return buf->err;
}

size_t pd_learner_info_encode(const struct pd_learner_info *li, uint8_t out[20])
{
	pd_put_be64(out, (uint64_t)li->sid);
	pd_put_be32(out + 8, (uint32_t)li->protocol_version);
	pd_put_be64(out + 12, (uint64_t)li->config_version);
	return 20;
}

int pd_learner_info_decode(struct pd_span data, struct pd_learner_info *li)
{
	if (data.is_null || data.len < 8)
		return PD_EPROTO;
	li->sid = (int64_t)pd_be64(data.ptr);
	li->protocol_version = data.len >= 12 ? (int32_t)pd_be32(data.ptr + 8) : 0;
	li->config_version = data.len >= 20 ? (int64_t)pd_be64(data.ptr + 12) : -1;
	return 0;
}
