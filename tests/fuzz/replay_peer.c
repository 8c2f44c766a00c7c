/*
 * replay_peer.c: runs every file of a corpus directory through fuzz_peer.c's
 * driver (the always-built half of the peer fuzz target: the normal and
 * sanitizer builds replay the seed corpus), or writes that seed corpus:
 *   replay_peer DIR               replay each file; exit 0 when all ran
 *   replay_peer --write-seeds DIR write the seed inputs, made with the core's
 *                                 own encoders (a hello and votes on the
 *                                 election port; a learner's handshake on
 *                                 the quorum port; the decoders' formats)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fle.h"
#include "fuzz_peer.h"
#include "quorum.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* A quorum packet with no authinfo: type, zxid, data buffer, authinfo count 0. */
static size_t qp(uint8_t *out, int32_t type, uint64_t zxid, const uint8_t *data, int32_t len)
{
	put32(out, (uint32_t)type);
	put64(out + 4, zxid);
	put32(out + 12, (uint32_t)len);
	if (len > 0)
		memcpy(out + 16, data, (size_t)len);
	put32(out + 16 + (len > 0 ? len : 0), 0);
	return 20 + (size_t)(len > 0 ? len : 0);
}

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, len, f) != len) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int write_seeds(const char *dir)
{
	uint8_t b[1024], li[20];
	size_t n;
	struct pd_vote v = {2, 0x100000005ULL, 1, 1, PD_PEER_LOOKING};
	struct pd_learner_info info = {2, PD_QP_PROTOCOL_VERSION, -1};
	int rc = 0;
	/* election port: hello from sid 2, then two framed votes */
	b[0] = 1;
	b[1] = 0;
	n = 2 + pd_fle_hello_encode(2, "10.0.0.2:3888", b + 2, sizeof(b) - 2);
	put32(b + n, 44);
	n += 4 + pd_fle_encode(&v, NULL, 0, b + n + 4, sizeof(b) - n - 4);
	v.state = PD_PEER_FOLLOWING;
	v.leader = 3;
	put32(b + n, 44);
	n += 4 + pd_fle_encode(&v, NULL, 0, b + n + 4, sizeof(b) - n - 4);
	rc |= write_file(dir, "election-hello-votes", b, n);
	b[1] = 64 | 7; /* the same in 8-byte chunks with ticks */
	rc |= write_file(dir, "election-chunked", b, n);
	/* quorum port of a leader: OBSERVERINFO, ACKEPOCH, ACK, PING */
	b[0] = 2;
	b[1] = 0;
	n = 2;
	pd_learner_info_encode(&info, li);
	n += qp(b + n, PD_QP_OBSERVERINFO, 0, li, 20);
	{
		uint8_t epoch[4];
		put32(epoch, 0);
		n += qp(b + n, PD_QP_ACKEPOCH, 0, epoch, 4);
	}
	n += qp(b + n, PD_QP_ACK, 0x100000000ULL, NULL, -1);
	n += qp(b + n, PD_QP_PING, 0, NULL, -1);
	rc |= write_file(dir, "quorum-learner", b, n);
	/* a looking member's quorum port */
	b[0] = 3;
	rc |= write_file(dir, "quorum-looking", b, n);
	/* the decoders alone */
	b[0] = 0;
	rc |= write_file(dir, "decoders-packets", b, n);
	b[0] = 0;
	b[1] = 0;
	n = 2 + pd_fle_encode(&v, "server.1=10.0.0.1:2888:3888\nversion=100000000", 45, b + 2, sizeof(b) - 2);
	rc |= write_file(dir, "decoders-vote-config", b, n);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *e;
	unsigned files = 0;
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: replay_peer DIR | replay_peer --write-seeds DIR\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (d == NULL) {
		perror(argv[1]);
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		uint8_t *buf;
		long len;
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		f = fopen(path, "rb");
		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			perror(path);
			closedir(d);
			return 2;
		}
		buf = malloc((size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			perror(path);
			closedir(d);
			return 2;
		}
		fclose(f);
		fp_run(buf, (size_t)len);
		free(buf);
		files++;
	}
	closedir(d);
	printf("replay_peer: %u inputs ran, every invariant held\n", files);
	return files > 0 ? 0 : 1;
}
