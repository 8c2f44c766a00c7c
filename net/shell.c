/*
 * shell.c: `paddock shell -server host:port[,host:port...] [command]`, a
 * zkCli-like shell on the sans-I/O client (client/zkc.h) over blocking
 * sockets.  Commands: create [-s] [-e] [-c] path [data], ls path, get path,
 * set path data, delete path, deleteall path, stat path, sync path,
 * addWatch [-m PERSISTENT|PERSISTENT_RECURSIVE] path, quit.
 * With a command on its command line it runs that one and exits; otherwise
 * it reads commands from standard input, one per line.  Output follows
 * zkCli's wording ("Created /a", "Node does not exist: /a", "[a, b]");
 * children are listed in sorted order.  Watch events print as zkCli prints
 * them.  Exit code: 0, or 1 if the last command failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "zkc.h"

#define SHELL_HOSTS_MAX 16
#define SHELL_WAIT_MS 15000

struct shell {
	struct zkc *c;
	char host[SHELL_HOSTS_MAX][64];
	uint16_t port[SHELL_HOSTS_MAX];
	uint32_t hosts;
	int fd;
};

static uint32_t shell_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t shell_be64(const uint8_t *p)
{
	return (uint64_t)shell_be32(p) << 32 | shell_be32(p + 4);
}

static int shell_parse_hosts(struct shell *sh, const char *spec)
{
	const char *p = spec;
	while (*p != '\0' && sh->hosts < SHELL_HOSTS_MAX) {
		const char *end = strchr(p, ','), *colon;
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char one[96];
		if (n == 0 || n >= sizeof(one))
			return -1;
		memcpy(one, p, n);
		one[n] = '\0';
		colon = strrchr(one, ':');
		if (colon == NULL || (size_t)(colon - one) >= sizeof(sh->host[0]))
			return -1;
		memcpy(sh->host[sh->hosts], one, (size_t)(colon - one));
		sh->host[sh->hosts][colon - one] = '\0';
		sh->port[sh->hosts] = (uint16_t)atoi(colon + 1);
		sh->hosts++;
		p = end != NULL ? end + 1 : p + n;
	}
	return sh->hosts > 0 ? 0 : -1;
}

static void shell_drop(struct shell *sh)
{
	if (sh->fd >= 0)
		close(sh->fd);
	sh->fd = -1;
	zkc_on_closed(sh->c, net_now_ms());
}

static void shell_connect(struct shell *sh, uint32_t server)
{
	struct sockaddr_in a;
	int one = 1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(sh->port[server]);
	sh->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sh->fd < 0 || inet_pton(AF_INET, strcmp(sh->host[server], "localhost") == 0 ? "127.0.0.1" : sh->host[server],
				    &a.sin_addr) != 1 ||
	    connect(sh->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		shell_drop(sh);
		usleep(100000); /* then the next server */
		return;
	}
	setsockopt(sh->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	zkc_on_connected(sh->c, net_now_ms());
}

static void shell_print_events(struct shell *sh)
{
	static const char *const types[] = {"None", "NodeCreated", "NodeDeleted", "NodeDataChanged",
					    "NodeChildrenChanged"};
	struct zkc_event e;
	while (zkc_next_event(sh->c, &e)) {
		if (e.state == ZKC_ERR_SESSIONEXPIRED) {
			printf("WATCHER::\n\nWatchedEvent state:Expired type:None path:null\n");
			continue;
		}
		printf("WATCHER::\n\nWatchedEvent state:SyncConnected type:%s path:%s\n",
		       e.type >= 0 && e.type <= 4 ? types[e.type] : "None", e.path);
	}
}

/* Drives the client until the result for xid arrives. */
static int shell_wait(struct shell *sh, int32_t xid, struct zkc_result *out)
{
	uint64_t deadline = net_now_ms() + SHELL_WAIT_MS;
	while (net_now_ms() < deadline) {
		struct zkc_result r;
		uint32_t server;
		size_t len;
		const uint8_t *p;
		while (zkc_next_result(sh->c, &r)) {
			if (r.xid == xid) {
				*out = r; /* valid until the next zkc_next_result */
				shell_print_events(sh);
				return 0;
			}
		}
		shell_print_events(sh);
		if (zkc_state(sh->c) == ZKC_EXPIRED)
			return -1;
		if (zkc_want_connect(sh->c, &server)) {
			shell_connect(sh, server);
			continue;
		}
		p = zkc_output(sh->c, &len);
		if (len > 0 && sh->fd >= 0) {
			ssize_t n = send(sh->fd, p, len, MSG_NOSIGNAL);
			if (n > 0)
				zkc_output_done(sh->c, (size_t)n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN)
				shell_drop(sh);
			continue;
		}
		if (sh->fd >= 0) {
			struct pollfd pfd = {sh->fd, POLLIN, 0};
			if (poll(&pfd, 1, 200) > 0) {
				uint8_t buf[65536];
				ssize_t n = recv(sh->fd, buf, sizeof(buf), 0);
				if (n > 0) {
					if (zkc_on_data(sh->c, buf, (size_t)n, net_now_ms()) != 0)
						shell_drop(sh);
				} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
					shell_drop(sh);
				}
			}
		}
		if (zkc_on_tick(sh->c, net_now_ms()))
			shell_drop(sh); /* the server went quiet: the next one */
	}
	return -1;
}

static void shell_error(int32_t err, const char *path)
{
	switch (err) {
	case -101:
		printf("Node does not exist: %s\n", path);
		break;
	case -110:
		printf("Node already exists: %s\n", path);
		break;
	case -111:
		printf("Node not empty: %s\n", path);
		break;
	case -103:
		printf("version No is not valid : %s\n", path);
		break;
	case -108:
		printf("Ephemerals cannot have children: %s\n", path);
		break;
	default:
		printf("KeeperErrorCode = %d for %s\n", err, path);
		break;
	}
}

static void shell_print_stat(const uint8_t *st)
{
	printf("cZxid = 0x%llx\n", (unsigned long long)shell_be64(st));
	printf("ctime = %lld\n", (long long)shell_be64(st + 16));
	printf("mZxid = 0x%llx\n", (unsigned long long)shell_be64(st + 8));
	printf("mtime = %lld\n", (long long)shell_be64(st + 24));
	printf("pZxid = 0x%llx\n", (unsigned long long)shell_be64(st + 60));
	printf("cversion = %d\n", (int32_t)shell_be32(st + 36));
	printf("dataVersion = %d\n", (int32_t)shell_be32(st + 32));
	printf("aclVersion = %d\n", (int32_t)shell_be32(st + 40));
	printf("ephemeralOwner = 0x%llx\n", (unsigned long long)shell_be64(st + 44));
	printf("dataLength = %d\n", (int32_t)shell_be32(st + 52));
	printf("numChildren = %d\n", (int32_t)shell_be32(st + 56));
}

static int shell_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The children of a getChildren2 reply, sorted; *count of them (malloc'd). */
static char **shell_children(const struct zkc_result *r, int32_t *count)
{
	uint32_t off = 4, i;
	char **names;
	*count = r->body_len >= 4 ? (int32_t)shell_be32(r->body) : 0;
	if (*count < 0)
		*count = 0;
	names = calloc((size_t)*count + 1, sizeof(char *));
	if (names == NULL)
		return NULL;
	for (i = 0; i < (uint32_t)*count && off + 4 <= r->body_len; i++) {
		uint32_t n = shell_be32(r->body + off);
		if (n > r->body_len - off - 4)
			break;
		names[i] = strndup((const char *)r->body + off + 4, n);
		off += 4 + n;
	}
	*count = (int32_t)i;
	qsort(names, (size_t)*count, sizeof(char *), shell_cmp);
	return names;
}

static void shell_free_names(char **names, int32_t count)
{
	int32_t i;
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static int shell_deleteall(struct shell *sh, const char *path)
{
	struct zkc_result r;
	char **names;
	int32_t count, i;
	int rc = 0;
	if (shell_wait(sh, zkc_get_children(sh->c, path, false), &r) != 0)
		return -1;
	if (r.err != 0) {
		shell_error(r.err, path);
		return -1;
	}
	names = shell_children(&r, &count);
	for (i = 0; names != NULL && i < count && rc == 0; i++) {
		char child[1024];
		snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") == 0 ? "" : path, names[i]);
		rc = shell_deleteall(sh, child);
	}
	shell_free_names(names, count);
	if (rc != 0 || strcmp(path, "/") == 0)
		return rc;
	if (shell_wait(sh, zkc_delete(sh->c, path, -1), &r) != 0)
		return -1;
	if (r.err != 0 && r.err != -101) {
		shell_error(r.err, path);
		return -1;
	}
	return 0;
}

/* Runs one command line; returns 0, -1 on failure, 1 for quit. */
static int shell_command(struct shell *sh, char *line)
{
	char *argv[8];
	int argc = 0, i, flags = 0;
	struct zkc_result r;
	char *save = NULL, *tok;
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && argc < 8; tok = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = tok;
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "quit") == 0)
		return 1;
	if (strcmp(argv[0], "create") == 0) {
		const char *path = NULL, *data = "";
		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "-e") == 0)
				flags |= 1;
			else if (strcmp(argv[i], "-s") == 0)
				flags |= 2;
			else if (strcmp(argv[i], "-c") == 0)
				flags |= 4;
			else if (path == NULL)
				path = argv[i];
			else
				data = argv[i];
		}
		if (path == NULL)
			goto usage;
		if ((flags & 4) && (flags & 3)) {
			printf("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n");
			return -1;
		}
		if (shell_wait(sh, zkc_create(sh->c, path, data, strlen(data), flags), &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, path);
			return -1;
		}
		printf("Created %.*s\n", r.body_len >= 4 ? (int)shell_be32(r.body) : 0, (const char *)r.body + 4);
		return 0;
	}
	if (argc < 2)
		goto usage;
	if (strcmp(argv[0], "ls") == 0 || strcmp(argv[0], "get") == 0 || strcmp(argv[0], "stat") == 0) {
		int32_t xid = strcmp(argv[0], "ls") == 0	  ? zkc_get_children(sh->c, argv[1], false)
			      : strcmp(argv[0], "get") == 0 ? zkc_get_data(sh->c, argv[1], false)
							    : zkc_exists(sh->c, argv[1], false);
		if (shell_wait(sh, xid, &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, argv[1]);
			return -1;
		}
		if (argv[0][0] == 'l') {
			int32_t count;
			char **names = shell_children(&r, &count);
			printf("[");
			for (i = 0; names != NULL && i < count; i++)
				printf("%s%s", i ? ", " : "", names[i]);
			printf("]\n");
			shell_free_names(names, count);
		} else if (argv[0][0] == 'g') {
			int32_t n = r.body_len >= 4 ? (int32_t)shell_be32(r.body) : -1;
			if (n < 0)
				printf("null\n");
			else
				printf("%.*s\n", n, (const char *)r.body + 4);
		} else if (r.body_len >= 68) {
			shell_print_stat(r.body);
		}
		return 0;
	}
	if (strcmp(argv[0], "set") == 0 && argc >= 3) {
		if (shell_wait(sh, zkc_set_data(sh->c, argv[1], argv[2], strlen(argv[2]), -1), &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, argv[1]);
			return -1;
		}
		return 0;
	}
	if (strcmp(argv[0], "delete") == 0) {
		if (shell_wait(sh, zkc_delete(sh->c, argv[1], -1), &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, argv[1]);
			return -1;
		}
		return 0;
	}
	if (strcmp(argv[0], "deleteall") == 0)
		return shell_deleteall(sh, argv[1]);
	if (strcmp(argv[0], "sync") == 0) {
		if (shell_wait(sh, zkc_sync(sh->c, argv[1]), &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, argv[1]);
			return -1;
		}
		printf("Sync is OK\n");
		return 0;
	}
	if (strcmp(argv[0], "addWatch") == 0) {
		/* addWatch [-m PERSISTENT|PERSISTENT_RECURSIVE] path; zkCli's default is recursive */
		int32_t mode = ZKC_WATCH_PERSISTENT_RECURSIVE;
		const char *path = argv[1];
		if (strcmp(argv[1], "-m") == 0) {
			if (argc < 4)
				goto usage;
			if (strcmp(argv[2], "PERSISTENT") == 0)
				mode = ZKC_WATCH_PERSISTENT;
			else if (strcmp(argv[2], "PERSISTENT_RECURSIVE") != 0) {
				printf("Unsupported mode: %s\n", argv[2]);
				return -1;
			}
			path = argv[3];
		}
		if (shell_wait(sh, zkc_add_watch(sh->c, path, mode), &r) != 0)
			goto lost;
		if (r.err != 0) {
			shell_error(r.err, path);
			return -1;
		}
		return 0;
	}
usage:
	printf("ZooKeeper -server host:port cmd args\n\tcreate [-s] [-e] [-c] path [data]\n\tls path\n\tget path\n"
	       "\tset path data\n\tdelete path\n\tdeleteall path\n\tstat path\n\tsync path\n"
	       "\taddWatch [-m mode] path\n\tquit\n");
	return -1;
lost:
	printf("KeeperErrorCode = ConnectionLoss\n");
	return -1;
}

int net_shell(int argc, char **argv)
{
	struct shell sh;
	const char *hosts = "127.0.0.1:2181";
	char line[4096];
	int i, rc = 0;
	memset(&sh, 0, sizeof(sh));
	sh.fd = -1;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-server") == 0 && i + 1 < argc)
			hosts = argv[++i];
		else
			break;
	}
	if (shell_parse_hosts(&sh, hosts) != 0) {
		fprintf(stderr, "paddock shell: bad -server list: %s\n", hosts);
		return 2;
	}
	sh.c = zkc_new(sh.hosts, 30000, net_now_ms());
	if (sh.c == NULL)
		return 1;
	if (i < argc) {
		/* one command from the command line */
		line[0] = '\0';
		for (; i < argc; i++) {
			strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
			strncat(line, " ", sizeof(line) - strlen(line) - 1);
		}
		rc = shell_command(&sh, line) < 0 ? 1 : 0;
	} else {
		while (fgets(line, sizeof(line), stdin) != NULL) {
			int r = shell_command(&sh, line);
			fflush(stdout);
			if (r == 1)
				break;
			rc = r < 0 ? 1 : 0;
		}
	}
	if (zkc_state(sh.c) == ZKC_CONNECTED) {
		struct zkc_result r;
		(void)shell_wait(&sh, zkc_close_session(sh.c), &r);
	}
	if (sh.fd >= 0)
		close(sh.fd);
	zkc_free(sh.c);
	fflush(stdout);
	return rc;
}
