/*
 * quorum.h: the quorum port's packets (zab-and-server.md §3.5).  Each is a
 * jute QuorumPacket written straight onto the stream with no extra
 * framing: type i32, zxid i64, data (i32 length, -1 = null, then bytes),
 * authinfo (i32 count, then scheme and id as i32-length strings each).
 * Also the small records carried in data: LearnerInfo (FOLLOWERINFO,
 * OBSERVERINFO), the LEADERINFO protocol version, and ACKEPOCH's epoch.
 */
#ifndef PD_QUORUM_H
#define PD_QUORUM_H

#include "mem.h"
#include "types.h"

enum pd_qp_type {
	PD_QP_REQUEST = 1,
	PD_QP_PROPOSAL = 2,
	PD_QP_ACK = 3,
	PD_QP_COMMIT = 4,
	PD_QP_PING = 5,
	PD_QP_REVALIDATE = 6,
	PD_QP_SYNC = 7,
	PD_QP_INFORM = 8,
	PD_QP_COMMITANDACTIVATE = 9,
	PD_QP_NEWLEADER = 10,
	PD_QP_FOLLOWERINFO = 11,
	PD_QP_UPTODATE = 12,
	PD_QP_DIFF = 13,
	PD_QP_TRUNC = 14,
	PD_QP_SNAP = 15,
	PD_QP_OBSERVERINFO = 16,
	PD_QP_LEADERINFO = 17,
	PD_QP_ACKEPOCH = 18,
	PD_QP_INFORMANDACTIVATE = 19,
};

#define PD_QP_PROTOCOL_VERSION 0x10000

struct pd_qp {
	int32_t type;
	pd_zxid zxid;
	struct pd_span data;   /* points into the input */
	struct pd_span auth;   /* the authinfo entries, still encoded */
	uint32_t auth_count;
};

/* Decodes the packet at the front of p.  Returns the bytes it took, 0 if
 * more bytes are needed, or -1 if it is malformed (an unknown type, a
 * negative length other than -1, a field longer than data_max). */
long pd_qp_decode(const uint8_t *p, size_t len, uint32_t data_max, struct pd_qp *out);
/* Appends a packet with no authinfo (data NULL with len -1 is a null
 * buffer); returns 0 or PD_ENOMEM. */
int pd_qp_encode(struct pd_mem *mem, struct pd_buf *buf, int32_t type, pd_zxid zxid, const void *data, int32_t len);

struct pd_learner_info {
	int64_t sid;
	int32_t protocol_version;
	int64_t config_version;
};

/* LearnerInfo: sid i64, protocolVersion i32, configVersion i64 (the two
 * last were added over time: a shorter record is read with defaults). */
size_t pd_learner_info_encode(const struct pd_learner_info *li, uint8_t out[20]);
int pd_learner_info_decode(struct pd_span data, struct pd_learner_info *li);
const char *pd_qp_name(int32_t type);

#endif
