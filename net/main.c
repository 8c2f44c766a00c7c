/* main.c: the paddock binary: `paddock server zoo.cfg`, `paddock status zoo.cfg`,
 * `paddock import ZK_DATADIR zoo.cfg`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert.h"
#include "net.h"

/* A broken invariant in the core: say where, then stop (core dump if enabled). */
static void main_assert_hook(const char *expr, const char *file, int line)
{
	net_log("FATAL", "assertion failed: %s at %s:%d", expr, file, line);
	abort();
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: paddock server ZOO_CFG     run a server (standalone when zoo.cfg names one server)\n"
		   "       paddock status ZOO_CFG     print the server's Mode line, like zkServer.sh status\n"
		   "       paddock import ZK_DATADIR ZOO_CFG [ZK_DATALOGDIR]\n"
		   "                                  migrate an Apache ZooKeeper 3.x data directory (its version-2/\n"
		   "                                  snapshot.* and log.* files) into the empty dataDir of ZOO_CFG\n"
		   "       paddock version            print the version\n");
}

int main(int argc, char **argv)
{
	pd_assert_set_hook(main_assert_hook);
	if (argc == 2 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("paddock %s (ZooKeeper 3.8 client protocol)\n", PD_VERSION_STRING);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		main_usage(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return net_server_run(argv[2]);
	if (argc == 3 && strcmp(argv[1], "status") == 0)
		return net_status(argv[2]);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "import") == 0)
		return net_import(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	main_usage(stderr);
	return 2;
}
