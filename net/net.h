/*
 * net.h: the production world (DESIGN §3).  One thread runs an epoll loop
 * that owns the core: it turns sockets, a timerfd and signals into
 * pd_events and executes the effects pd_step returns.  Nothing here makes
 * a protocol decision.
 */
#ifndef PD_NET_H
#define PD_NET_H

#include <stdint.h>

#include "pd.h"

/* Loads zoo.cfg (and dataDir/myid, and the JAAS file if named) into cfg. */
int net_load_config(const char *path, struct pd_config *cfg, char *errmsg, size_t errmsg_size);
/* Runs a server until SIGTERM or SIGINT; returns the process exit code. */
int net_server_run(const char *config_path);
/* `paddock import`: ZooKeeper data into the empty dataDir of zoo.cfg; returns the exit code. */
int net_import(const char *zk_data_dir, const char *config_path, const char *zk_log_dir);
/* `paddock shell -server h:p[,h:p] [cmd]`: a zkCli-like shell; returns the exit code. */
int net_shell(int argc, char **argv);
/* `paddock status zoo.cfg`: prints the Mode line; returns the exit code. */
int net_status(const char *config_path);

/* The malloc-backed allocator the worlds hand the core. */
struct pd_allocator net_allocator(void);
/* A whole file mapped read-only (*len 0 maps nothing); NULL with errno. */
const uint8_t *net_map_file(const char *path, size_t *len);
void net_unmap_file(const uint8_t *p, size_t len);

uint64_t net_now_ms(void);
int64_t net_wall_ms(void);
void net_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
