/* util.c: clocks, logging, configuration loading, file mapping and the allocator
 * for the production world. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "net.h"

uint64_t net_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t net_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void net_log(const char *level, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s,%03ld [paddock] %-5s - ", when, ts.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Reads a whole small file; returns NULL with errno set on failure. */
static char *util_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		size_t got;
		if (n + 4096 > cap) {
			char *fresh;
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > (16u << 20)) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			fresh = realloc(buf, cap);
			if (fresh == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = fresh;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int net_load_config(const char *path, struct pd_config *cfg, char *errmsg, size_t errmsg_size)
{
	size_t len;
	char *text = util_slurp(path, &len);
	char sub[PD_CONFIG_PATH_MAX + 16];
	int rc;
	if (text == NULL) {
		snprintf(errmsg, errmsg_size, "cannot read %s: %s", path, strerror(errno));
		return PD_ECONFIG;
	}
	rc = pd_config_parse(cfg, text, len, errmsg, errmsg_size);
	free(text);
	if (rc != 0) {
		pd_errmsg_prefix(errmsg, errmsg_size, path);
		return rc;
	}
	if (cfg->data_dir[0] != '\0') {
		snprintf(sub, sizeof(sub), "%s/myid", cfg->data_dir);
		text = util_slurp(sub, &len);
		if (text != NULL) {
			rc = pd_config_parse_myid(cfg, text, len, errmsg, errmsg_size);
			free(text);
			if (rc != 0) {
				pd_errmsg_prefix(errmsg, errmsg_size, sub);
				return rc;
			}
		} else if (cfg->server_count > 1) {
			/* ZooKeeper's words for it */
			snprintf(errmsg, errmsg_size, "%s file is missing", sub);
			return PD_ECONFIG;
		}
	}
	if (cfg->jaas_path[0] != '\0') {
		text = util_slurp(cfg->jaas_path, &len);
		if (text == NULL) {
			snprintf(errmsg, errmsg_size, "cannot read JAAS file %s: %s", cfg->jaas_path, strerror(errno));
			return PD_ECONFIG;
		}
		rc = pd_config_parse_jaas(cfg, text, len, errmsg, errmsg_size);
		free(text);
		if (rc != 0) {
			pd_errmsg_prefix(errmsg, errmsg_size, cfg->jaas_path);
			return rc;
		}
	}
	rc = pd_config_finish(cfg, errmsg, errmsg_size);
	if (rc != 0)
		pd_errmsg_prefix(errmsg, errmsg_size, path);
	return rc;
}

static void *util_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void util_free(void *ctx, void *ptr, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(ptr);
}

struct pd_allocator net_allocator(void)
{
	struct pd_allocator a = {util_alloc, util_free, NULL};
	return a;
}

const uint8_t *net_map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	if (*len == 0) {
		close(fd);
		return (const uint8_t *)"";
	}
	p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, *len, MADV_SEQUENTIAL);
	return p;
}

void net_unmap_file(const uint8_t *p, size_t len)
{
	if (len > 0)
		munmap((void *)p, len);
}
