/*
 * admin.c: four-letter-word answers (wire-protocol.md §12) rendered from
 * the node's state.  The core decides which word a connection sent and
 * whether it is whitelisted; the driver asks for the text with
 * pd_admin_render, passing the host facts only it knows (struct pd_env).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"
#include "err.h"
#include "server_int.h"

static void admin_printf(struct pd_node *node, struct pd_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void admin_printf(struct pd_node *node, struct pd_buf *out, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || pd_buf_reserve(&node->io_mem, out, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)out->data + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

/* Java's Double.toString for the values we print: at least one decimal. */
static void admin_double(char *out, size_t size, double v)
{
	char tmp[64];
	size_t n;
	snprintf(tmp, sizeof(tmp), "%.4f", v);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0' && n >= 2 && tmp[n - 2] != '.')
		tmp[--n] = '\0';
	snprintf(out, size, "%s", tmp);
}

/* Client connections (an ensemble member's peer links are not shown, as
 * ZooKeeper's four-letter words do not show them). */
static uint32_t admin_client_conns(const struct pd_node *node)
{
	uint32_t i, n = 0;
	for (i = 0; i < node->conns_cap; i++)
		if (node->conns[i] != NULL && node->conns[i]->plane == PD_PLANE_CLIENT)
			n++;
	return n;
}

static const char *admin_mode(const struct pd_node *node)
{
	struct pd_node_stats st;
	pd_node_get_stats(node, &st);
	switch (st.role) {
	case 1:
		return "follower";
	case 2:
		return "leader";
	case 3:
		return "observer";
	default:
		return "standalone";
	}
}

static void admin_latency(const struct latency_stats *ls, uint64_t *min, double *avg, uint64_t *max)
{
	*min = ls->count == 0 ? 0 : ls->min_ms;
	*max = ls->max_ms;
	*avg = ls->count == 0 ? 0.0 : (double)ls->sum_ms / (double)ls->count;
}

static void admin_conn_brief(struct pd_node *node, struct pd_buf *out, const struct pd_conn *c)
{
	admin_printf(node, out, " /%s:%u[%d](queued=0,recved=%llu,sent=%llu", c->ip, c->port,
		     c->state == CONN_READY ? 1 : 0, (unsigned long long)c->packets_received,
		     (unsigned long long)c->packets_sent);
}

static void admin_conn_full(struct pd_node *node, struct pd_buf *out, const struct pd_conn *c)
{
	struct pd_session *s;
	uint64_t min, max;
	double avg;
	admin_conn_brief(node, out, c);
	s = c->session_id != 0 ? pd_session_get(&node->sessions, c->session_id) : NULL;
	if (s != NULL) {
		admin_latency(&c->latency, &min, &avg, &max);
		admin_printf(node, out, ",sid=0x%llx,lop=%s,est=%lld,to=%d", (unsigned long long)s->id,
			     pd_proto_op_abbrev(c->last_op), (long long)c->established_wall_ms, s->timeout_ms);
		if (c->last_cxid >= 0)
			admin_printf(node, out, ",lcxid=0x%llx", (unsigned long long)c->last_cxid);
		admin_printf(node, out, ",lzxid=0x%llx,lresp=%lld,llat=%llu,minlat=%llu,avglat=%llu,maxlat=%llu",
			     (unsigned long long)c->last_zxid, (long long)c->last_response_wall_ms,
			     (unsigned long long)c->last_latency_ms, (unsigned long long)min,
			     (unsigned long long)avg, (unsigned long long)max);
	}
	admin_printf(node, out, ")\n");
}

static void admin_server_lines(struct pd_node *node, struct pd_buf *out)
{
	uint64_t min, max;
	double avg;
	char avg_s[32];
	admin_latency(&node->latency, &min, &avg, &max);
	admin_double(avg_s, sizeof(avg_s), avg);
	admin_printf(node, out, "Latency min/avg/max: %llu/%s/%llu\n", (unsigned long long)min, avg_s,
		     (unsigned long long)max);
	admin_printf(node, out, "Received: %llu\n", (unsigned long long)node->packets_received);
	admin_printf(node, out, "Sent: %llu\n", (unsigned long long)node->packets_sent);
	admin_printf(node, out, "Connections: %u\n", admin_client_conns(node));
	admin_printf(node, out, "Outstanding: %u\n", node->pending.count);
	admin_printf(node, out, "Zxid: 0x%llx\n", (unsigned long long)node->last_zxid);
	admin_printf(node, out, "Mode: %s\n", admin_mode(node));
	admin_printf(node, out, "Node count: %u\n", node->tree.node_count + 1);
}

/* "Thu Nov 26 09:14:07 UTC 2026" from ms since the epoch (UTC). */
static void admin_date(char *out, size_t size, int64_t ms)
{
	static const char *days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t secs = ms / 1000, z, era, doe, yoe, y, doy, mp, d, m, day = secs / 86400;
	int64_t rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		day--;
	}
	/* civil-from-days (Howard Hinnant's algorithm) */
	z = day + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	snprintf(out, size, "%s %s %02lld %02lld:%02lld:%02lld UTC %lld", days[((day % 7) + 7) % 7], months[m - 1],
		 (long long)d, (long long)(rem / 3600), (long long)(rem / 60 % 60), (long long)(rem % 60),
		 (long long)y);
}

static void admin_mntr(struct pd_node *node, const struct pd_env *env, struct pd_buf *out)
{
	uint64_t min, max;
	double avg;
	char avg_s[32];
	admin_latency(&node->latency, &min, &avg, &max);
	admin_double(avg_s, sizeof(avg_s), avg);
	admin_printf(node, out, "zk_version\t%s, built by paddock %s\n", PD_VERSION_STRING, PD_GIT_COMMIT);
	admin_printf(node, out, "zk_server_state\t%s\n", admin_mode(node));
	admin_printf(node, out, "zk_avg_latency\t%s\n", avg_s);
	admin_printf(node, out, "zk_max_latency\t%llu\n", (unsigned long long)max);
	admin_printf(node, out, "zk_min_latency\t%llu\n", (unsigned long long)min);
	admin_printf(node, out, "zk_packets_received\t%llu\n", (unsigned long long)node->packets_received);
	admin_printf(node, out, "zk_packets_sent\t%llu\n", (unsigned long long)node->packets_sent);
	admin_printf(node, out, "zk_num_alive_connections\t%u\n", admin_client_conns(node));
	admin_printf(node, out, "zk_outstanding_requests\t%u\n", node->pending.count);
	admin_printf(node, out, "zk_znode_count\t%u\n", node->tree.node_count + 1);
	admin_printf(node, out, "zk_watch_count\t%llu\n",
		     (unsigned long long)(node->watches.count_data + node->watches.count_child));
	admin_printf(node, out, "zk_ephemerals_count\t%llu\n", (unsigned long long)node->sessions.ephemeral_total);
	admin_printf(node, out, "zk_approximate_data_size\t%llu\n", (unsigned long long)node->tree.data_size_approx);
	admin_printf(node, out, "zk_open_file_descriptor_count\t%llu\n", (unsigned long long)env->open_fd_count);
	admin_printf(node, out, "zk_max_file_descriptor_count\t%llu\n", (unsigned long long)env->max_fd_count);
	admin_printf(node, out, "zk_global_sessions\t%u\n", node->sessions.by_id.count);
	admin_printf(node, out, "zk_local_sessions\t0\n");
	admin_printf(node, out, "zk_uptime\t%llu\n", (unsigned long long)(node->now_ms - node->start_ms));
	admin_printf(node, out, "zk_connection_drop_probability\t0.0\n");
	admin_printf(node, out, "zk_last_client_response_size\t%lld\n", (long long)node->last_response_size);
	admin_printf(node, out, "zk_max_client_response_size\t%lld\n", (long long)node->max_response_size);
	admin_printf(node, out, "zk_min_client_response_size\t%lld\n", (long long)node->min_response_size);
	admin_printf(node, out, "zk_outstanding_tls_handshake\t0\n");
	admin_printf(node, out, "zk_auth_failed_count\t%llu\n", (unsigned long long)node->auth_failed_count);
	admin_printf(node, out, "zk_non_mtls_remote_conn_count\t0\n");
	admin_printf(node, out, "zk_non_mtls_local_conn_count\t0\n");
	admin_printf(node, out, "zk_watch_bytes\t%llu\n", (unsigned long long)node->watches.path_bytes);
	admin_printf(node, out, "zk_bytes_received_count\t%llu\n", (unsigned long long)node->bytes_received);
	admin_printf(node, out, "zk_connection_request_count\t%llu\n", (unsigned long long)node->connections_accepted);
	admin_printf(node, out, "zk_connection_rejected\t%llu\n", (unsigned long long)node->connections_rejected);
	admin_printf(node, out, "zk_sessionless_connections_expired\t0\n");
	admin_printf(node, out, "zk_stale_sessions_expired\t%llu\n", (unsigned long long)node->sessions_expired);
	admin_printf(node, out, "zk_commit_count\t%llu\n", (unsigned long long)node->commit_count);
	admin_printf(node, out, "zk_paddock_memory_used_bytes\t%llu\n", (unsigned long long)node->mem.used_bytes);
	admin_printf(node, out, "zk_paddock_memory_budget_bytes\t%llu\n", (unsigned long long)node->mem.budget_bytes);
	{
		struct pd_node_stats st;
		pd_node_get_stats(node, &st);
		if (st.role >= 0) {
			static const char *const states[] = {"looking", "following", "leading", "observing"};
			admin_printf(node, out, "zk_peer_state\t%s - %s\n", states[st.role & 3],
				     st.serving ? "broadcast" : st.role == 0 ? "election" : "synchronization");
			admin_printf(node, out, "zk_quorum_size\t%llu\n", (unsigned long long)st.quorum_size);
		}
		if (st.role == 2) {
			/* the leader-only keys of ZooKeeper 3.8 */
			admin_printf(node, out, "zk_learners\t%llu\n", (unsigned long long)st.learners);
			admin_printf(node, out, "zk_synced_followers\t%llu\n", (unsigned long long)st.synced_followers);
			admin_printf(node, out, "zk_synced_non_voting_followers\t0\n");
			admin_printf(node, out, "zk_synced_observers\t%llu\n", (unsigned long long)st.synced_observers);
			admin_printf(node, out, "zk_pending_syncs\t%llu\n", (unsigned long long)st.pending_syncs);
			admin_printf(node, out, "zk_last_proposal_size\t%lld\n", (long long)st.last_proposal_size);
			admin_printf(node, out, "zk_max_proposal_size\t%lld\n", (long long)st.max_proposal_size);
			admin_printf(node, out, "zk_min_proposal_size\t%lld\n", (long long)st.min_proposal_size);
			/* how learners were brought up to date (paddock's own keys) */
			admin_printf(node, out, "zk_paddock_syncs_diff\t%llu\n", (unsigned long long)st.syncs_diff);
			admin_printf(node, out, "zk_paddock_syncs_trunc\t%llu\n", (unsigned long long)st.syncs_trunc);
			admin_printf(node, out, "zk_paddock_syncs_snap\t%llu\n", (unsigned long long)st.syncs_snap);
		}
	}
}

static void admin_dump(struct pd_node *node, struct pd_buf *out)
{
	uint32_t pos = 0, i;
	struct pd_session *s;
	char date[64];
	uint32_t with_eph = 0;
	admin_printf(node, out, "SessionTracker dump:\n");
	admin_printf(node, out, "Session Sets (%u)/(%u):\n", node->sessions.by_id.count, node->sessions.by_id.count);
	while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL) {
		/* expire_at is monotonic; show it as wall time */
		admin_date(date, sizeof(date), node->wall_ms + (int64_t)(s->expire_at_ms - node->now_ms));
		admin_printf(node, out, "1 expire at %s:\n\t0x%llx\n", date, (unsigned long long)s->id);
		if (s->ephemeral_count > 0)
			with_eph++;
	}
	admin_printf(node, out, "ephemeral nodes dump:\nSessions with Ephemerals (%u):\n", with_eph);
	pos = 0;
	while ((s = pd_map64_next(&node->sessions.by_id, &pos, NULL)) != NULL) {
		if (s->ephemeral_count == 0)
			continue;
		admin_printf(node, out, "0x%llx:\n", (unsigned long long)s->id);
		for (i = 0; i < s->ephemeral_count; i++) {
			size_t n;
			const char *path = node_path(node, s->ephemerals[i], &n);
			if (path != NULL) {
				pd_buf_append(&node->io_mem, out, "\t", 1);
				pd_buf_append(&node->io_mem, out, path, n);
				pd_buf_append(&node->io_mem, out, "\n", 1);
			}
		}
	}
	admin_printf(node, out, "Connections dump:\nConnections Sets (1)/(%u):\n", admin_client_conns(node));
	for (i = 0; i < node->conns_cap; i++) {
		const struct pd_conn *c = node->conns[i];
		if (c != NULL && c->plane == PD_PLANE_CLIENT)
			admin_printf(node, out, "\tip: /%s:%u sessionId: 0x%llx\n", c->ip, c->port,
				     (unsigned long long)c->session_id);
	}
}

/* wchc and wchp list data-watch registrations only, as ZooKeeper does. */
static void admin_wchp(struct pd_node *node, struct pd_buf *out)
{
	uint32_t pos = 0;
	struct pd_watch_path *chain = NULL, *wp;
	while ((wp = pd_watch_next_path(&node->watches, &pos, &chain)) != NULL) {
		struct pd_watcher *r;
		bool any = false;
		for (r = wp->watchers; r != NULL; r = r->path_next)
			if (r->kinds & PD_WATCH_DATA_TABLE)
				any = true;
		if (!any)
			continue;
		admin_printf(node, out, "%.*s\n", (int)wp->path_len, wp->path);
		for (r = wp->watchers; r != NULL; r = r->path_next) {
			const struct pd_conn *c = node_conn(node, r->conn);
			if ((r->kinds & PD_WATCH_DATA_TABLE) && c != NULL)
				admin_printf(node, out, "\t0x%llx\n", (unsigned long long)c->session_id);
		}
	}
	admin_printf(node, out, "\n");
}

static void admin_wchc(struct pd_node *node, struct pd_buf *out)
{
	uint32_t i;
	for (i = 0; i < node->conns_cap; i++) {
		const struct pd_conn *c = node->conns[i];
		struct pd_watcher *r;
		bool header = false;
		if (c == NULL)
			continue;
		for (r = pd_watch_conn_first(&node->watches, i); r != NULL; r = r->conn_next) {
			if (!(r->kinds & PD_WATCH_DATA_TABLE))
				continue;
			if (!header) {
				admin_printf(node, out, "0x%llx\n", (unsigned long long)c->session_id);
				header = true;
			}
			admin_printf(node, out, "\t%.*s\n", (int)r->wp->path_len, r->wp->path);
		}
	}
	admin_printf(node, out, "\n");
}

static void admin_wchs(struct pd_node *node, struct pd_buf *out)
{
	uint32_t pos = 0, i, conns = 0, paths = 0;
	uint64_t total = 0;
	struct pd_watch_path *chain = NULL, *wp;
	while ((wp = pd_watch_next_path(&node->watches, &pos, &chain)) != NULL) {
		struct pd_watcher *r;
		bool any = false;
		for (r = wp->watchers; r != NULL; r = r->path_next)
			if (r->kinds & PD_WATCH_DATA_TABLE) {
				any = true;
				total++;
			}
		if (any)
			paths++;
	}
	for (i = 0; i < node->conns_cap; i++) {
		struct pd_watcher *r;
		for (r = pd_watch_conn_first(&node->watches, i); r != NULL; r = r->conn_next)
			if (r->kinds & PD_WATCH_DATA_TABLE) {
				conns++;
				break;
			}
	}
	admin_printf(node, out, "%u connections watching %u paths\nTotal watches:%llu\n", conns, paths,
		     (unsigned long long)total);
}

int pd_admin_render(struct pd_node *node, const char word[4], uint64_t stmk_mask, const struct pd_env *env,
		    struct pd_buf *out)
{
	uint32_t i;
	uint32_t bit = pd_config_fourlw_bit(word);
	if (!peer_serving(node) && bit != PD_4LW_RUOK && bit != PD_4LW_ENVI && bit != PD_4LW_GTMK &&
	    bit != PD_4LW_STMK) {
		/* an ensemble member that is not serving, as ZooKeeper 3.8 answers it */
		if (bit == PD_4LW_ISRO)
			admin_printf(node, out, "null");
		else
			admin_printf(node, out, "This ZooKeeper instance is not currently serving requests%s",
				     bit == PD_4LW_HASH ? "" : "\n");
		return out->err;
	}
	switch (bit) {
	case PD_4LW_RUOK:
		admin_printf(node, out, "imok");
		break;
	case PD_4LW_ISRO:
		admin_printf(node, out, "rw");
		break;
	case PD_4LW_SRVR:
		admin_printf(node, out, "Zookeeper version: %s, built by paddock %s\n", PD_VERSION_STRING, PD_GIT_COMMIT);
		admin_server_lines(node, out);
		break;
	case PD_4LW_STAT:
		admin_printf(node, out, "Zookeeper version: %s, built by paddock %s\n", PD_VERSION_STRING, PD_GIT_COMMIT);
		admin_printf(node, out, "Clients:\n");
		for (i = 0; i < node->conns_cap; i++)
			if (node->conns[i] != NULL && node->conns[i]->plane == PD_PLANE_CLIENT) {
				admin_conn_brief(node, out, node->conns[i]);
				admin_printf(node, out, ")\n");
			}
		admin_printf(node, out, "\n");
		admin_server_lines(node, out);
		break;
	case PD_4LW_CONS:
		for (i = 0; i < node->conns_cap; i++)
			if (node->conns[i] != NULL && node->conns[i]->plane == PD_PLANE_CLIENT)
				admin_conn_full(node, out, node->conns[i]);
		admin_printf(node, out, "\n");
		break;
	case PD_4LW_CONF:
		admin_printf(node, out, "clientPort=%d\n", node->cfg.client_port);
		admin_printf(node, out, "secureClientPort=-1\n");
		admin_printf(node, out, "dataDir=%s\n", node->cfg.data_dir);
		admin_printf(node, out, "dataDirSize=%llu\n", (unsigned long long)env->data_dir_bytes);
		admin_printf(node, out, "dataLogDir=%s\n", node->cfg.data_log_dir);
		admin_printf(node, out, "dataLogSize=%llu\n", (unsigned long long)env->data_log_dir_bytes);
		admin_printf(node, out, "tickTime=%d\n", node->cfg.tick_ms);
		admin_printf(node, out, "maxClientCnxns=%d\n", node->cfg.max_client_cnxns);
		admin_printf(node, out, "minSessionTimeout=%d\n", node->cfg.session_timeout_ms_min);
		admin_printf(node, out, "maxSessionTimeout=%d\n", node->cfg.session_timeout_ms_max);
		admin_printf(node, out, "clientPortListenBacklog=-1\n");
		admin_printf(node, out, "serverId=%lld\n", (long long)node->cfg.my_id);
		break;
	case PD_4LW_ENVI:
		admin_printf(node, out, "Environment:\n");
		admin_printf(node, out, "zookeeper.version=%s, built by paddock %s\n", PD_VERSION_STRING, PD_GIT_COMMIT);
		admin_printf(node, out, "host.name=%s\n", env->host_name != NULL ? env->host_name : "");
		admin_printf(node, out, "paddock.commit=%s\n", PD_GIT_COMMIT);
		admin_printf(node, out, "os.name=%s\n", env->os_name != NULL ? env->os_name : "");
		admin_printf(node, out, "os.arch=%s\n", env->os_arch != NULL ? env->os_arch : "");
		admin_printf(node, out, "os.version=%s\n", env->os_version != NULL ? env->os_version : "");
		admin_printf(node, out, "user.name=%s\n", env->user_name != NULL ? env->user_name : "");
		admin_printf(node, out, "user.home=%s\n", env->user_home != NULL ? env->user_home : "");
		admin_printf(node, out, "user.dir=%s\n", env->user_dir != NULL ? env->user_dir : "");
		admin_printf(node, out, "os.memory.free=%lluMB\n", (unsigned long long)(env->mem_free_bytes >> 20));
		admin_printf(node, out, "os.memory.max=%lluMB\n",
			     (unsigned long long)((node->mem.budget_bytes != 0 ? node->mem.budget_bytes
									    : env->mem_total_bytes) >> 20));
		admin_printf(node, out, "os.memory.total=%lluMB\n", (unsigned long long)(node->mem.used_bytes >> 20));
		break;
	case PD_4LW_MNTR:
		admin_mntr(node, env, out);
		break;
	case PD_4LW_WCHS:
		admin_wchs(node, out);
		break;
	case PD_4LW_WCHC:
		admin_wchc(node, out);
		break;
	case PD_4LW_WCHP:
		admin_wchp(node, out);
		break;
	case PD_4LW_DUMP:
		admin_dump(node, out);
		break;
	case PD_4LW_DIRS:
		admin_printf(node, out, "datadir_size: %llu\nlogdir_size: %llu\n",
			     (unsigned long long)env->data_dir_bytes, (unsigned long long)env->data_log_dir_bytes);
		break;
	case PD_4LW_CRST:
		for (i = 0; i < node->conns_cap; i++)
			if (node->conns[i] != NULL) {
				struct pd_conn *c = node->conns[i];
				c->packets_received = 0;
				c->packets_sent = 0;
				memset(&c->latency, 0, sizeof(c->latency));
				c->last_latency_ms = 0;
			}
		admin_printf(node, out, "Connection stats reset.\n");
		break;
	case PD_4LW_SRST:
		node->packets_received = 0;
		node->packets_sent = 0;
		memset(&node->latency, 0, sizeof(node->latency));
		admin_printf(node, out, "Server stats reset.\n");
		break;
	case PD_4LW_GTMK:
		admin_printf(node, out, "%lld", (long long)node->trace_mask);
		break;
	case PD_4LW_STMK:
		node->trace_mask = (int64_t)stmk_mask;
		admin_printf(node, out, "%lld", (long long)node->trace_mask);
		break;
	case PD_4LW_HASH:
		/* No digest history is kept yet. */
		break;
	default:
		return PD_EBADARGUMENTS;
	}
	return out->err;
}

const char *pd_build_commit(void)
{
	return PD_GIT_COMMIT;
}
