/* sync.c: the learner sync decision of sync.h. */
#include "sync.h"

/* The index of the largest zxid <= z in log, or -1. */
static long sync_floor(const pd_zxid *log, size_t n, pd_zxid z)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (log[mid] <= z)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

void pd_sync_plan(pd_zxid peer, pd_zxid last, const pd_zxid *log, size_t n, struct pd_sync_plan *out)
{
	pd_zxid min_c = n > 0 ? log[0] : last, max_c = n > 0 ? log[n - 1] : last;
	bool epoch_start = PD_ZXID_COUNTER(peer) == 0;
	out->trunc_to = 0;
	out->from = peer;
	if (peer == last) {
		out->kind = PD_SYNC_DIFF;
		return;
	}
	if (peer > max_c && !epoch_start) {
		/* txns the leader never committed: cut them */
		out->kind = PD_SYNC_TRUNC;
		out->trunc_to = max_c;
		out->from = max_c;
		return;
	}
	if (peer >= min_c && peer <= max_c) {
		long at = sync_floor(log, n, peer);
		if (epoch_start || (at >= 0 && log[at] == peer)) {
			out->kind = PD_SYNC_DIFF;
			return;
		}
		if (at >= 0 && (size_t)at + 1 < n && PD_ZXID_EPOCH(log[at + 1]) == PD_ZXID_EPOCH(peer)) {
			out->kind = PD_SYNC_TRUNC;
			out->trunc_to = log[at];
			out->from = log[at];
			return;
		}
	}
	if (epoch_start && peer > max_c) {
		/* an epoch start past the log: nothing of it is missing but the log after */
		out->kind = PD_SYNC_DIFF;
		return;
	}
	out->kind = PD_SYNC_SNAP;
	out->from = last;
}
