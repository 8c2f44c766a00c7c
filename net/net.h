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
/* `paddock status zoo.cfg`: prints the Mode line; returns the exit code. */
int net_status(const char *config_path);

uint64_t net_now_ms(void);
int64_t net_wall_ms(void);
void net_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
