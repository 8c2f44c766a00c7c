/* config.c: zoo.cfg, myid and JAAS text to a validated configuration; see config.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const struct {
	const char *word;
	uint32_t bit;
} config_words[] = {
	{"ruok", PD_4LW_RUOK}, {"srvr", PD_4LW_SRVR}, {"stat", PD_4LW_STAT}, {"mntr", PD_4LW_MNTR},
	{"conf", PD_4LW_CONF}, {"cons", PD_4LW_CONS}, {"envi", PD_4LW_ENVI}, {"wchs", PD_4LW_WCHS},
	{"dump", PD_4LW_DUMP}, {"isro", PD_4LW_ISRO}, {"wchc", PD_4LW_WCHC}, {"wchp", PD_4LW_WCHP},
	{"dirs", PD_4LW_DIRS}, {"crst", PD_4LW_CRST}, {"srst", PD_4LW_SRST}, {"gtmk", PD_4LW_GTMK},
	{"stmk", PD_4LW_STMK}, {"hash", PD_4LW_HASH},
};

uint32_t pd_config_fourlw_bit(const char word[4])
{
	size_t i;
	for (i = 0; i < sizeof(config_words) / sizeof(config_words[0]); i++)
		if (memcmp(config_words[i].word, word, 4) == 0)
			return config_words[i].bit;
	return 0;
}

void pd_config_defaults(struct pd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tick_ms = 3000;
	cfg->force_sync = true;
	cfg->snap_count = 100000;
	cfg->snap_size_limit_bytes = 4194304LL * 1024;
	cfg->purge_snap_retain_count = 3;
	cfg->purge_interval_hours = 0;
	cfg->prealloc_bytes = 64LL << 20;
	cfg->init_limit = 10;
	cfg->sync_limit = 5;
	cfg->session_timeout_ms_min = -1;
	cfg->session_timeout_ms_max = -1;
	cfg->client_port = 2181;
	cfg->max_client_cnxns = 60;
	cfg->packet_bytes_max = 0xfffff;
	cfg->fourlw_whitelist = PD_4LW_SRVR;
	cfg->standalone_enabled = true;
	cfg->container_check_interval_ms = 60000;
	cfg->container_max_per_minute = 10000;
	cfg->container_max_never_used_ms = 0;
	cfg->outbuf_bytes_max = 64u << 20;
}

static void config_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r'))
		(*len)--;
}

static bool config_key_is(const char *key, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len == n && memcmp(key, name, n) == 0)
		return true;
	/* ZooKeeper's system-property spelling of the same key */
	return len == n + 10 && memcmp(key, "zookeeper.", 10) == 0 && memcmp(key + 10, name, n) == 0;
}

static int config_int64(const char *v, int64_t *out)
{
	char *end;
	long long x;
	if (*v == '\0')
		return -1;
	x = strtoll(v, &end, 10);
	if (*end != '\0')
		return -1;
	*out = x;
	return 0;
}

static int config_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int config_copy(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -1;
	strcpy(dst, v);
	return 0;
}

static int config_whitelist(struct pd_config *cfg, const char *v)
{
	uint32_t bits = PD_4LW_SRVR;
	const char *p = v;
	while (*p != '\0') {
		const char *start;
		size_t n;
		while (*p == ' ' || *p == ',')
			p++;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ')
			p++;
		n = (size_t)(p - start);
		if (n == 0)
			continue;
		if (n == 1 && start[0] == '*') {
			bits = PD_4LW_ALL;
		} else if (n == 4) {
			bits |= pd_config_fourlw_bit(start);
		}
		/* unknown words are ignored, as ZooKeeper does */
	}
	cfg->fourlw_whitelist = bits;
	return 0;
}

/* server.N=host:quorumPort:electionPort[:participant|:observer][;clientAddr] */
static int config_server(struct pd_config *cfg, const char *key, size_t key_len, const char *v)
{
	struct pd_config_server *s;
	char buf[256], *parts[5];
	int n = 0;
	int64_t sid;
	char idbuf[32];
	char *semi, *tok, *save = NULL;
	if (key_len - 7 >= sizeof(idbuf))
		return -1;
	memcpy(idbuf, key + 7, key_len - 7);
	idbuf[key_len - 7] = '\0';
	if (config_int64(idbuf, &sid) != 0 || sid < 0)
		return -1;
	if (cfg->server_count >= PD_CONFIG_SERVERS_MAX)
		return -1;
	if (config_copy(buf, sizeof(buf), v) != 0)
		return -1;
	semi = strchr(buf, ';');
	if (semi != NULL)
		*semi = '\0';
	for (tok = strtok_r(buf, ":", &save); tok != NULL && n < 5; tok = strtok_r(NULL, ":", &save))
		parts[n++] = tok;
	if (n < 3)
		return -1;
	s = &cfg->servers[cfg->server_count++];
	memset(s, 0, sizeof(*s));
	s->sid = sid;
	if (config_copy(s->host, sizeof(s->host), parts[0]) != 0)
		return -1;
	s->quorum_port = atoi(parts[1]);
	s->election_port = atoi(parts[2]);
	if (n >= 4 && strcmp(parts[3], "observer") == 0)
		s->observer = true;
	if (s->quorum_port <= 0 || s->quorum_port > 65535 || s->election_port <= 0 ||
	    s->election_port > 65535)
		return -1;
	return 0;
}

static int config_apply(struct pd_config *cfg, const char *key, size_t key_len, const char *v)
{
	int64_t x;
	bool b;
#define KEY(name) config_key_is(key, key_len, name)
#define INT_KEY(name, field, lo, hi)                                                     \
	if (KEY(name)) {                                                                 \
		if (config_int64(v, &x) != 0 || x < (lo) || x > (hi))                    \
			return -1;                                                       \
		cfg->field = (__typeof__(cfg->field))x;                                  \
		return 0;                                                                \
	}
	INT_KEY("tickTime", tick_ms, 1, 1000000)
	INT_KEY("snapCount", snap_count, INT64_MIN, INT64_MAX)
	INT_KEY("autopurge.snapRetainCount", purge_snap_retain_count, INT32_MIN, INT32_MAX)
	INT_KEY("autopurge.purgeInterval", purge_interval_hours, INT32_MIN, INT32_MAX)
	if (KEY("snapSizeLimitInKb")) {
		if (config_int64(v, &x) != 0 || x > INT64_MAX / 1024)
			return -1;
		cfg->snap_size_limit_bytes = x <= 0 ? 0 : x * 1024; /* ZooKeeper: <= 0 turns it off */
		return 0;
	}
	if (KEY("preAllocSize")) {
		if (config_int64(v, &x) != 0 || x < 1 || x > (INT64_C(1) << 30))
			return -1;
		cfg->prealloc_bytes = x * 1024;
		return 0;
	}
	INT_KEY("initLimit", init_limit, 1, 1000000)
	INT_KEY("syncLimit", sync_limit, 1, 1000000)
	INT_KEY("minSessionTimeout", session_timeout_ms_min, -1, INT32_MAX)
	INT_KEY("maxSessionTimeout", session_timeout_ms_max, -1, INT32_MAX)
	INT_KEY("clientPort", client_port, 0, 65535)
	INT_KEY("maxClientCnxns", max_client_cnxns, 0, INT32_MAX)
	INT_KEY("jute.maxbuffer", packet_bytes_max, 1024, INT32_MAX)
	INT_KEY("znode.container.checkIntervalMs", container_check_interval_ms, 1, INT64_MAX)
	INT_KEY("znode.container.maxPerMinute", container_max_per_minute, 1, INT32_MAX)
	INT_KEY("znode.container.maxNeverUsedIntervalMs", container_max_never_used_ms, 0, INT64_MAX)
	if (KEY("paddock.memoryBudgetMB")) {
		if (config_int64(v, &x) != 0 || x < 0)
			return -1;
		cfg->memory_budget_bytes = (uint64_t)x << 20;
		return 0;
	}
	if (KEY("paddock.outputBufferMB")) {
		if (config_int64(v, &x) != 0 || x < 1 || x > 4095)
			return -1;
		cfg->outbuf_bytes_max = (uint32_t)x << 20;
		return 0;
	}
	if (KEY("clientPortAddress"))
		return config_copy(cfg->client_port_address, sizeof(cfg->client_port_address), v);
	if (KEY("dataDir"))
		return config_copy(cfg->data_dir, sizeof(cfg->data_dir), v);
	if (KEY("dataLogDir"))
		return config_copy(cfg->data_log_dir, sizeof(cfg->data_log_dir), v);
	if (KEY("4lw.commands.whitelist"))
		return config_whitelist(cfg, v);
	if (KEY("extendedTypesEnabled")) {
		if (config_bool(v, &b) != 0)
			return -1;
		cfg->extended_types = b;
		return 0;
	}
	if (KEY("reconfigEnabled")) {
		if (config_bool(v, &b) != 0)
			return -1;
		cfg->reconfig_enabled = b;
		return 0;
	}
	if (KEY("forceSync")) {
		/* ZooKeeper syncs unless the value is exactly "no". */
		cfg->force_sync = strcmp(v, "no") != 0;
		return 0;
	}
	if (KEY("paddock.ensemblePreview")) {
		/* accepted and ignored: it let ensembles start while issue 5 was
		 * in progress; they now always do */
		if (config_bool(v, &b) != 0)
			return -1;
		cfg->ensemble_preview = b;
		return 0;
	}
	if (KEY("standaloneEnabled")) {
		if (config_bool(v, &b) != 0)
			return -1;
		cfg->standalone_enabled = b;
		return 0;
	}
	if (KEY("DigestAuthenticationProvider.superDigest"))
		return config_copy(cfg->super_digest, sizeof(cfg->super_digest), v);
	if (config_key_is(key, key_len, "java.security.auth.login.config") ||
	    (key_len == 31 && memcmp(key, "java.security.auth.login.config", 31) == 0))
		return config_copy(cfg->jaas_path, sizeof(cfg->jaas_path), v);
	if (key_len > 7 && memcmp(key, "server.", 7) == 0)
		return config_server(cfg, key, key_len, v);
#undef INT_KEY
#undef KEY
	/* Every other key (dataDir-related tuning, autopurge.*, admin.*,
	 * forceSync, snapCount...) is accepted; ZooKeeper accepts unknown keys
	 * as system properties too. */
	return 0;
}

int pd_config_parse(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size)
{
	size_t pos = 0;
	int line_no = 0;
	pd_config_defaults(cfg);
	while (pos < len) {
		const char *line = text + pos, *key, *val, *eq;
		size_t line_len = 0, key_len, val_len;
		char vbuf[1024];
		while (pos + line_len < len && text[pos + line_len] != '\n')
			line_len++;
		pos += line_len + 1;
		line_no++;
		config_trim(&line, &line_len);
		if (line_len == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', line_len);
		if (eq == NULL) {
			snprintf(errmsg, errmsg_size, "line %d: expected key=value", line_no);
			return PD_ECONFIG;
		}
		key = line;
		key_len = (size_t)(eq - line);
		val = eq + 1;
		val_len = line_len - key_len - 1;
		config_trim(&key, &key_len);
		config_trim(&val, &val_len);
		if (val_len >= sizeof(vbuf)) {
			snprintf(errmsg, errmsg_size, "line %d: value too long", line_no);
			return PD_ECONFIG;
		}
		memcpy(vbuf, val, val_len);
		vbuf[val_len] = '\0';
		if (config_apply(cfg, key, key_len, vbuf) != 0) {
			snprintf(errmsg, errmsg_size, "line %d: invalid value for %.*s: '%s'", line_no,
				 (int)key_len, key, vbuf);
			return PD_ECONFIG;
		}
	}
	return 0;
}

int pd_config_parse_myid(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size)
{
	char buf[32];
	const char *p = text;
	size_t n = len;
	int64_t id;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	config_trim(&p, &n);
	if (n == 0 || n >= sizeof(buf)) {
		snprintf(errmsg, errmsg_size, "myid: expected a server id");
		return PD_ECONFIG;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (config_int64(buf, &id) != 0 || id < 0) {
		snprintf(errmsg, errmsg_size, "myid: '%s' is not a server id", buf);
		return PD_ECONFIG;
	}
	cfg->my_id = id;
	return 0;
}

/* Finds the body of the "Server" section: Server { ... }; */
static const char *config_jaas_section(const char *text, size_t len, size_t *body_len)
{
	size_t i = 0;
	while (i < len) {
		if ((i == 0 || text[i - 1] == '\n' || text[i - 1] == ' ' || text[i - 1] == '\t' ||
		     text[i - 1] == '}' || text[i - 1] == ';') &&
		    len - i >= 6 && memcmp(text + i, "Server", 6) == 0) {
			size_t j = i + 6;
			while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n'))
				j++;
			if (j < len && text[j] == '{') {
				size_t k = j + 1;
				while (k < len && text[k] != '}')
					k++;
				*body_len = k - (j + 1);
				return text + j + 1;
			}
		}
		i++;
	}
	return NULL;
}

int pd_config_parse_jaas(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size)
{
	size_t body_len, i = 0;
	const char *body = config_jaas_section(text, len, &body_len);
	if (body == NULL) {
		snprintf(errmsg, errmsg_size, "JAAS file has no Server section");
		return PD_ECONFIG;
	}
	cfg->sasl_user_count = 0;
	while (i + 5 < body_len) {
		if (memcmp(body + i, "user_", 5) == 0 && (i == 0 || body[i - 1] == ' ' || body[i - 1] == '\t' ||
							  body[i - 1] == '\n' || body[i - 1] == '\r')) {
			size_t ns = i + 5, ne = ns, vs, ve;
			struct pd_sasl_user *u;
			while (ne < body_len && body[ne] != '=' && body[ne] != ' ' && body[ne] != '\t')
				ne++;
			vs = ne;
			while (vs < body_len && body[vs] != '"')
				vs++;
			ve = vs + 1;
			while (ve < body_len && body[ve] != '"')
				ve++;
			if (vs >= body_len || ve >= body_len) {
				snprintf(errmsg, errmsg_size, "JAAS Server section: unterminated user_ entry");
				return PD_ECONFIG;
			}
			if (cfg->sasl_user_count >= PD_CONFIG_SASL_USERS_MAX || ne - ns >= sizeof(u->name) ||
			    ve - vs - 1 >= sizeof(u->password)) {
				snprintf(errmsg, errmsg_size, "JAAS Server section: too many or too long users");
				return PD_ECONFIG;
			}
			u = &cfg->sasl_users[cfg->sasl_user_count++];
			memcpy(u->name, body + ns, ne - ns);
			u->name[ne - ns] = '\0';
			memcpy(u->password, body + vs + 1, ve - vs - 1);
			u->password[ve - vs - 1] = '\0';
			i = ve + 1;
			continue;
		}
		i++;
	}
	return 0;
}

bool pd_config_is_standalone(const struct pd_config *cfg)
{
	int voters = 0, i;
	for (i = 0; i < cfg->server_count; i++)
		if (!cfg->servers[i].observer)
			voters++;
	return cfg->server_count == 0 || (voters == 1 && cfg->server_count == 1 && cfg->standalone_enabled);
}

int pd_config_finish(struct pd_config *cfg, char *errmsg, size_t errmsg_size)
{
	if (cfg->session_timeout_ms_min == -1)
		cfg->session_timeout_ms_min = cfg->tick_ms * 2;
	if (cfg->session_timeout_ms_max == -1)
		cfg->session_timeout_ms_max = cfg->tick_ms * 20;
	if (cfg->session_timeout_ms_min > cfg->session_timeout_ms_max) {
		snprintf(errmsg, errmsg_size, "minSessionTimeout (%d) must not be larger than maxSessionTimeout (%d)",
			 cfg->session_timeout_ms_min, cfg->session_timeout_ms_max);
		return PD_ECONFIG;
	}
	if (cfg->data_dir[0] == '\0') {
		snprintf(errmsg, errmsg_size, "dataDir is not set");
		return PD_ECONFIG;
	}
	if (cfg->data_log_dir[0] == '\0')
		strcpy(cfg->data_log_dir, cfg->data_dir);
	/* ZooKeeper's floors: snapCount at least 2, at least 3 snapshots kept,
	 * a negative purge interval means none. */
	if (cfg->snap_count < 2)
		cfg->snap_count = 2;
	if (cfg->purge_snap_retain_count < 3)
		cfg->purge_snap_retain_count = 3;
	if (cfg->purge_interval_hours < 0)
		cfg->purge_interval_hours = 0;
	if (cfg->super_digest[0] != '\0' && strchr(cfg->super_digest, ':') == NULL) {
		snprintf(errmsg, errmsg_size, "superDigest must look like user:base64hash");
		return PD_ECONFIG;
	}
	if (cfg->extended_types && cfg->my_id > 254) {
		snprintf(errmsg, errmsg_size, "server id %lld is above 254, which TTL nodes (extendedTypesEnabled) do not allow",
			 (long long)cfg->my_id);
		return PD_ECONFIG;
	}
	return 0;
}
