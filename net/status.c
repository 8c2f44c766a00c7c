/* status.c: `paddock status zoo.cfg`, the zkServer.sh status of paddock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"

int net_status(const char *config_path)
{
	struct pd_config cfg;
	char errmsg[512] = "", buf[4096];
	const char *addr;
	struct sockaddr_in sin;
	struct timeval tv = {5, 0};
	size_t len = 0;
	int fd;
	char *mode;
	if (net_load_config(config_path, &cfg, errmsg, sizeof(errmsg)) != 0) {
		fprintf(stderr, "%s\n", errmsg);
		return 2;
	}
	addr = cfg.client_port_address;
	if (addr[0] == '\0' || strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "localhost") == 0)
		addr = "127.0.0.1";
	printf("Using config: %s\n", config_path);
	printf("Client port found: %d. Client address: %s. Client SSL: false.\n", cfg.client_port, addr);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)cfg.client_port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "clientPortAddress %s is not an IPv4 address\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || send(fd, "srvr", 4, MSG_NOSIGNAL) != 4) {
		close(fd);
		fprintf(stderr, "Error contacting service. It is probably not running.\n");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	mode = strstr(buf, "Mode: ");
	if (mode == NULL) {
		fprintf(stderr, "Error contacting service. It is probably not running.\n");
		return 1;
	}
	*strchrnul(mode, '\n') = '\0';
	printf("%s\n", mode);
	return 0;
}
