/*
 * config.h: zoo.cfg and myid text to a validated configuration.
 *
 * Pure text processing: the driver reads the files and hands their bytes in.
 * Keys are the ones ZooKeeper operators already write (DESIGN §1).  Keys
 * that ZooKeeper turns into system properties (an unknown key K becomes
 * "zookeeper.K") are accepted under both spellings.  A JAAS file, if named
 * by java.security.auth.login.config, is parsed by pd_config_parse_jaas.
 */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include "types.h"

#define PD_CONFIG_PATH_MAX 512
#define PD_CONFIG_SERVERS_MAX 16
#define PD_CONFIG_SASL_USERS_MAX 64

enum pd_fourlw {
	PD_4LW_RUOK = 1u << 0,
	PD_4LW_SRVR = 1u << 1,
	PD_4LW_STAT = 1u << 2,
	PD_4LW_MNTR = 1u << 3,
	PD_4LW_CONF = 1u << 4,
	PD_4LW_CONS = 1u << 5,
	PD_4LW_ENVI = 1u << 6,
	PD_4LW_WCHS = 1u << 7,
	PD_4LW_DUMP = 1u << 8,
	PD_4LW_ISRO = 1u << 9,
	PD_4LW_WCHC = 1u << 10,
	PD_4LW_WCHP = 1u << 11,
	PD_4LW_DIRS = 1u << 12,
	PD_4LW_CRST = 1u << 13,
	PD_4LW_SRST = 1u << 14,
	PD_4LW_GTMK = 1u << 15,
	PD_4LW_STMK = 1u << 16,
	PD_4LW_HASH = 1u << 17,
	PD_4LW_ALL = (1u << 18) - 1,
};

struct pd_sasl_user {
	char name[64];
	char password[128];
};

struct pd_config_server {
	int64_t sid;
	char host[128];
	int quorum_port;
	int election_port;
	bool observer;
};

struct pd_config {
	/* timing */
	int32_t tick_ms;
	int32_t init_limit;
	int32_t sync_limit;
	int32_t session_timeout_ms_min;
	int32_t session_timeout_ms_max;
	/* client port */
	char client_port_address[128];
	int client_port;
	int max_client_cnxns;
	uint32_t packet_bytes_max; /* jute.maxbuffer */
	uint32_t fourlw_whitelist;
	/* storage */
	char data_dir[PD_CONFIG_PATH_MAX];
	char data_log_dir[PD_CONFIG_PATH_MAX];
	int64_t snap_count;            /* snapCount: txns between snapshots (randomised, §7.4) */
	int64_t snap_size_limit_bytes; /* snapSizeLimitInKb: log bytes between snapshots, 0 = off */
	int32_t purge_snap_retain_count; /* autopurge.snapRetainCount (at least 3) */
	int32_t purge_interval_hours;  /* autopurge.purgeInterval, 0 = no purging */
	int64_t prealloc_bytes;        /* preAllocSize: log file growth step */
	/* features */
	bool extended_types;
	bool reconfig_enabled;
	bool standalone_enabled;
	char super_digest[256]; /* "super:BASE64", empty if unset */
	char jaas_path[PD_CONFIG_PATH_MAX];
	struct pd_sasl_user sasl_users[PD_CONFIG_SASL_USERS_MAX];
	int sasl_user_count;
	/* containers and TTL */
	int64_t container_check_interval_ms;
	int32_t container_max_per_minute;
	int64_t container_max_never_used_ms;
	/* ensemble */
	int64_t my_id;
	struct pd_config_server servers[PD_CONFIG_SERVERS_MAX];
	int server_count;
	/* paddock settings */
	uint64_t memory_budget_bytes; /* 0 = unlimited */
	uint32_t outbuf_bytes_max;    /* per-connection output limit before the client is dropped */
	/* set by the world, not by zoo.cfg */
	uint64_t prng_seed; /* 0: derived from the start time */
	bool force_sync;    /* forceSync: fdatasync the log before answering (default yes) */
	uint64_t buggify_seed; /* the simulator's chaos (PD_BUGGIFY); 0 = off, never set by net/ */
	bool ensemble_preview; /* paddock.ensemblePreview: ignored now (ensembles always run) */
};

/* Fills defaults (ZooKeeper's where it has them). */
void pd_config_defaults(struct pd_config *cfg);
/* Parses zoo.cfg text into cfg (defaults first).  On error returns
 * PD_ECONFIG with a line-numbered message in errmsg. */
int pd_config_parse(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size);
/* Parses the myid file text. */
int pd_config_parse_myid(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size);
/* Reads user_NAME="password" entries of the JAAS "Server" section. */
int pd_config_parse_jaas(struct pd_config *cfg, const char *text, size_t len, char *errmsg, size_t errmsg_size);
/* Resolves defaults that depend on other keys and checks consistency. */
int pd_config_finish(struct pd_config *cfg, char *errmsg, size_t errmsg_size);
/* True when the configuration describes a standalone server. */
bool pd_config_is_standalone(const struct pd_config *cfg);
/* Bit for a four-letter word, 0 if unknown. */
uint32_t pd_config_fourlw_bit(const char word[4]);

#endif
