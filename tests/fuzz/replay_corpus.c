/*
 * replay_corpus.c: feeds every file of a corpus directory to one pd_node
 * through fuzz_drive (exactly as the libFuzzer target does) and checks, on
 * top of the driver's invariants, the per-file expectations listed in an
 * optional manifest (tests/fuzz/expect.txt, written by make_corpus.py).
 *
 *   fuzz_replay_corpus CORPUS_DIR [EXPECT_FILE] [-v]
 *
 * Manifest lines: "<file name> <token>...", '#' starts a comment.  Tokens:
 *   closed / open    the core closed the connection while the data was fed, or not
 *   noreply          nothing was sent to the connection while the data was fed
 *   answered         something was sent to it (a reply, a ConnectResponse, text)
 *   4lw              it was answered as a four-letter word (or telnet interrupt)
 *   session          its ConnectRequest got a valid session
 *   rejected         its ConnectRequest got the invalid-session answer
 *   replies=N        N reply frames (not counting notifications / ConnectResponse)
 *   errs=A,B,...     the err field of each reply, in order ("errs=" for none)
 *   notifications=N  N watch notifications
 *
 * Each file is first tried in a forked copy of the process: a file that crashes
 * the core (or breaks a fatal invariant) is reported and skipped, so one bug
 * does not hide the rest of the corpus.  The whole corpus is replayed twice; memory in use after the second pass must
 * not exceed the first (capacity grows once, leaks grow every pass), and at the
 * end every byte the core allocated must have been returned.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_drive.h"

struct expect {
	char name[256];
	char tokens[1024];
};

static struct expect *expects;
static size_t expect_count;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_expects(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1400];
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#');
		char name[256], rest[1024];
		int n;
		if (hash != NULL)
			*hash = '\0';
		rest[0] = '\0';
		n = sscanf(line, "%255s %1023[^\n]", name, rest);
		if (n < 1)
			continue;
		expects = realloc(expects, (expect_count + 1) * sizeof(*expects));
		if (expects == NULL)
			exit(2);
		snprintf(expects[expect_count].name, sizeof(expects[0].name), "%s", name);
		snprintf(expects[expect_count].tokens, sizeof(expects[0].tokens), "%s", rest);
		expect_count++;
	}
	fclose(f);
}

static const char *find_expect(const char *name)
{
	size_t i;
	for (i = 0; i < expect_count; i++)
		if (strcmp(expects[i].name, name) == 0)
			return expects[i].tokens;
	return NULL;
}

static void describe(const struct fd_outcome *o, char *out, size_t size)
{
	size_t n;
	uint32_t i;
	n = (size_t)snprintf(out, size, "%s %s%s%s%s replies=%u notifications=%u errs=",
			     o->closed_in_feed ? "closed" : "open", o->bytes_out ? "answered" : "noreply",
			     o->fourlw ? " 4lw" : "", o->connect_valid ? " session" : "",
			     o->connect_rejected ? " rejected" : "", o->replies, o->notifications);
	for (i = 0; i < o->errs_count && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%d", i ? "," : "", o->errs[i]);
}

/* Returns the number of unmet expectations. */
static int check_expect(const char *name, const char *tokens, const struct fd_outcome *o)
{
	char buf[1024], got[1200];
	char *tok, *save = NULL;
	int bad = 0;
	snprintf(buf, sizeof(buf), "%s", tokens);
	describe(o, got, sizeof(got));
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		bool ok;
		if (strcmp(tok, "closed") == 0)
			ok = o->closed_in_feed;
		else if (strcmp(tok, "open") == 0)
			ok = !o->closed_in_feed;
		else if (strcmp(tok, "noreply") == 0)
			ok = o->bytes_out == 0;
		else if (strcmp(tok, "answered") == 0)
			ok = o->bytes_out > 0;
		else if (strcmp(tok, "4lw") == 0)
			ok = o->fourlw;
		else if (strcmp(tok, "session") == 0)
			ok = o->connect_valid;
		else if (strcmp(tok, "rejected") == 0)
			ok = o->connect_rejected;
		else if (strncmp(tok, "replies=", 8) == 0)
			ok = o->replies == (uint32_t)strtoul(tok + 8, NULL, 10);
		else if (strncmp(tok, "notifications=", 14) == 0)
			ok = o->notifications == (uint32_t)strtoul(tok + 14, NULL, 10);
		else if (strncmp(tok, "errs=", 5) == 0) {
			char want[512], have[512];
			size_t n = 0;
			uint32_t i;
			snprintf(want, sizeof(want), "%s", tok + 5);
			have[0] = '\0';
			for (i = 0; i < o->errs_count && n < sizeof(have); i++)
				n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%d", i ? "," : "", o->errs[i]);
			ok = strcmp(want, have) == 0;
		} else {
			fprintf(stderr, "%s: unknown expectation token '%s'\n", name, tok);
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "FAIL %s: expected '%s'; got: %s\n", name, tok, got);
			bad++;
		}
	}
	return bad;
}

/* Runs one input in a forked copy of the node; false if that copy died. */
static bool survives(struct fd_ctx *ctx, const char *name, const uint8_t *data, size_t len)
{
	int status;
	pid_t pid;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return true; /* cannot isolate: run it in-process */
	if (pid == 0) {
		struct fd_outcome out;
		fd_run(ctx, data, len, &out);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return true;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFSIGNALED(status))
		fprintf(stderr, "FAIL %s: CRASH (signal %d) - see the report above; skipped from now on\n", name,
			WTERMSIG(status));
	else
		fprintf(stderr, "FAIL %s: CRASH (exit status %d) - see the report above; skipped from now on\n", name,
			WEXITSTATUS(status));
	return false;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n;
	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			buf = realloc(buf, cap);
			if (buf == NULL) {
				fclose(f);
				return NULL;
			}
		}
		n = fread(buf + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *dir_path = NULL, *expect_path = NULL;
	bool verbose = false;
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	bool *crashed, *failed;
	size_t count = 0, i;
	int pass, failures = 0, a;
	struct fd_ctx *ctx;
	struct fd_opts opts;
	uint64_t mem_pass[2] = {0, 0};
	unsigned unexpected = 0, with_expect = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-v") == 0)
			verbose = true;
		else if (dir_path == NULL)
			dir_path = argv[a];
		else
			expect_path = argv[a];
	}
	if (dir_path == NULL) {
		fprintf(stderr, "usage: %s CORPUS_DIR [EXPECT_FILE] [-v]\n", argv[0]);
		return 2;
	}
	if (expect_path != NULL)
		load_expects(expect_path);
	dir = opendir(dir_path);
	if (dir == NULL) {
		fprintf(stderr, "cannot open corpus directory %s\n", dir_path);
		return 2;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (count + 1) * sizeof(*names));
		if (names == NULL || (names[count] = strdup(de->d_name)) == NULL)
			return 2;
		count++;
	}
	closedir(dir);
	if (count == 0) {
		fprintf(stderr, "corpus directory %s is empty\n", dir_path);
		return 2;
	}
	qsort(names, count, sizeof(*names), cmp_str);
	crashed = calloc(count, sizeof(*crashed));
	failed = calloc(count, sizeof(*failed));
	if (crashed == NULL || failed == NULL)
		return 2;
	for (i = 0; i < expect_count; i++) {
		bool found = false;
		size_t j;
		for (j = 0; j < count && !found; j++)
			found = strcmp(names[j], expects[i].name) == 0;
		if (!found) {
			fprintf(stderr, "FAIL manifest names %s, which is not in the corpus\n", expects[i].name);
			failures++;
		}
	}

	memset(&opts, 0, sizeof(opts));
	opts.canary_every = 1;
	opts.leak_check = true;
	opts.soft_output = true;
	opts.verbose = verbose;
	ctx = fd_create(&opts);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < count; i++) {
			char path[4096];
			size_t len;
			uint8_t *data;
			struct fd_outcome out;
			const char *tokens;
			snprintf(path, sizeof(path), "%s/%s", dir_path, names[i]);
			data = read_file(path, &len);
			if (data == NULL) {
				fprintf(stderr, "cannot read %s\n", path);
				return 2;
			}
			if (crashed[i]) {
				free(data);
				continue;
			}
			fd_set_input_name(names[i]);
			if (pass == 0 && !survives(ctx, names[i], data, len)) {
				crashed[i] = true;
				failures++;
				free(data);
				continue;
			}
			fd_run(ctx, data, len, &out);
			/* Requirement: every input gets an answer or a close. */
			if (out.bytes_out == 0 && !out.closed_by_core && !out.fourlw &&
			    !(len > 0 && (data[0] & FD_F_PEER_CLOSE))) {
				fprintf(stderr, "FAIL %s: neither answered nor closed by the core\n", names[i]);
				failures++;
			}
			tokens = find_expect(names[i]);
			if (pass == 1 && failed[i]) {
				/* reported in the first pass already */
			} else if (out.violation[0] != '\0') {
				fprintf(stderr, "FAIL %s: %s\n", names[i], out.violation);
				failures++;
				failed[i] = true;
			} else if (tokens != NULL) {
				int bad = check_expect(names[i], tokens, &out);
				failures += bad;
				failed[i] = bad != 0;
			}
			if (tokens != NULL) {
				if (pass == 0)
					with_expect++;
			} else if (pass == 0) {
				unexpected++;
			}
			if (verbose && pass == 0) {
				char got[1200];
				describe(&out, got, sizeof(got));
				printf("%-48s %s\n", names[i], got);
			}
			free(data);
		}
		mem_pass[pass] = fd_mem_in_use(ctx);
	}
	fd_set_input_name("(teardown)");
	if (mem_pass[1] > mem_pass[0]) {
		fprintf(stderr, "FAIL memory after the second pass (%llu bytes) exceeds the first (%llu bytes)\n",
			(unsigned long long)mem_pass[1], (unsigned long long)mem_pass[0]);
		failures++;
	}
	fd_destroy(ctx);
	{
		size_t n_crashed = 0;
		for (i = 0; i < count; i++)
			n_crashed += crashed[i];
		printf("replayed %zu inputs x2 (%u with expectations, %u without, %zu crashed); core memory after each "
		       "pass: %llu, %llu bytes; all returned at teardown; %d failure(s)\n",
		       count, with_expect, unexpected, n_crashed, (unsigned long long)mem_pass[0],
		       (unsigned long long)mem_pass[1], failures);
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(crashed);
	free(failed);
	free(expects);
	return failures == 0 ? 0 : 1;
}
