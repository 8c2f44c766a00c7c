/*
 * bench_common.h: helpers shared by the benchmark tools (bench_client,
 * bench_memory).  Everything here talks to a server through the real
 * Apache ZooKeeper C client (libzookeeper_mt); nothing links paddock code.
 */
#ifndef PD_BENCH_COMMON_H
#define PD_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zookeeper/zookeeper.h>

/* Monotonic clock in nanoseconds. */
uint64_t bc_now_ns(void);

/* Silences the C client's own logging down to errors (or entirely if quiet). */
void bc_quiet_client_log(bool silent);

/*
 * Opens a session and waits until it is connected.  Returns NULL (and prints
 * why on stderr) if the session is not connected within wait_ms.
 */
zhandle_t *bc_connect(const char *hosts, int session_timeout_ms, int wait_ms);

/* Closes a session opened by bc_connect. */
void bc_close(zhandle_t *zh);

/* True once the session watcher has seen the session expire. */
bool bc_expired(zhandle_t *zh);

/* Creates path and its ancestors (persistent, open ACL, no data) unless they exist.  0 on success. */
int bc_ensure_node(zhandle_t *zh, const char *path);

/*
 * Deletes path and everything below it, pipelining up to `outstanding`
 * asynchronous deletes.  A missing path is not an error.  Returns 0 on
 * success, otherwise the first ZooKeeper error seen.
 */
int bc_delete_tree(zhandle_t *zh, const char *path, int outstanding);

/* Resident set size of a process in kB (VmRSS in /proc/PID/status), -1 on error. */
long bc_rss_kb(pid_t pid);

/* User+system CPU seconds consumed so far by a process (/proc/PID/stat), -1 on error. */
double bc_proc_cpu_s(pid_t pid);

/* CPU seconds all CPUs together have spent busy so far (/proc/stat: not idle, not iowait), -1 on error. */
double bc_system_busy_s(void);

/* User+system CPU seconds consumed so far by this process. */
double bc_self_cpu_s(void);

/* Parses a non-negative integer option value or exits with a message. */
long long bc_parse_ll(const char *opt, const char *s, long long lo, long long hi);

/* Parses a non-negative decimal number (seconds) or exits with a message. */
double bc_parse_seconds(const char *opt, const char *s);

/* True if rc says the session is (temporarily or for good) unusable. */
bool bc_rc_is_connection_error(int rc);

#endif
