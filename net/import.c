/*
 * import.c: `paddock import ZK_DATADIR ZOO_CFG [ZK_DATALOGDIR]`: migrates an
 * Apache ZooKeeper 3.x data directory to paddock.
 *
 * Reads ZK_DATADIR/version-2/snapshot.* (the newest that loads; an older one
 * if it is damaged) and the log files after it from
 * ZK_DATALOGDIR/version-2/ (ZK_DATADIR's by default), as ZooKeeper itself
 * would at start (core/zkimport.c does the decoding), then writes the whole
 * state as one paddock snapshot into the dataDir named by ZOO_CFG.  The
 * ZooKeeper files are only read.  A paddock dataDir that already holds data
 * is refused: an import never mixes with existing state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"
#include "snap.h"
#include "snapshot.h"
#include "zkimport.h"

static int import_cmp(const void *a, const void *b)
{
	pd_zxid x = *(const pd_zxid *)a, y = *(const pd_zxid *)b;
	return x < y ? -1 : x > y;
}

/* Zxids of the ZooKeeper files of kind in dir, ascending; *compressed counts
 * snapshots written compressed (not read). */
static size_t import_list(const char *dir, const char *kind, pd_zxid *out, size_t max, size_t *compressed)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (pd_zk_parse_name(de->d_name, kind, &out[n]))
			n++;
		else if (compressed != NULL && strncmp(de->d_name, "snapshot.", 9) == 0 &&
			 (strstr(de->d_name, ".gz") != NULL || strstr(de->d_name, ".snappy") != NULL))
			(*compressed)++;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), import_cmp);
	return n;
}

/* True if dir holds paddock snapshots or log files. */
static bool import_has_data(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;
	pd_zxid z;
	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL && !found)
		found = pd_snap_parse_name(de->d_name, "snapshot", &z) || pd_snap_parse_name(de->d_name, "log", &z);
	closedir(d);
	return found;
}

#define IMPORT_FILES_MAX 100000

static int import_run(const char *zk_data, const char *zk_logs, struct pd_config *cfg)
{
	char snap_dir[PD_CONFIG_PATH_MAX + 32], log_dir[PD_CONFIG_PATH_MAX + 32];
	char out_dir[PD_CONFIG_PATH_MAX + 16], out_log_dir[PD_CONFIG_PATH_MAX + 16];
	char errmsg[1024], path[PD_CONFIG_PATH_MAX + 64];
	pd_zxid *snaps = malloc(IMPORT_FILES_MAX * sizeof(pd_zxid)), *logs = malloc(IMPORT_FILES_MAX * sizeof(pd_zxid));
	size_t ns, nl, i, first = 0, compressed = 0;
	struct pd_allocator allocator = net_allocator();
	struct pd_node *node = NULL;
	pd_zxid label = 0, written;
	uint64_t replayed = 0;
	struct pd_node_stats st;
	int rc = 1;
	snprintf(snap_dir, sizeof(snap_dir), "%s/version-2", zk_data);
	snprintf(log_dir, sizeof(log_dir), "%s/version-2", zk_logs);
	snprintf(out_dir, sizeof(out_dir), "%s/paddock", cfg->data_dir);
	snprintf(out_log_dir, sizeof(out_log_dir), "%s/paddock", cfg->data_log_dir);
	if (snaps == NULL || logs == NULL)
		goto out;
	if (import_has_data(out_dir) || import_has_data(out_log_dir)) {
		net_log("ERROR", "import: %s already holds paddock data; import into an empty dataDir", out_dir);
		goto out;
	}
	ns = import_list(snap_dir, "snapshot", snaps, IMPORT_FILES_MAX, &compressed);
	nl = import_list(log_dir, "log", logs, IMPORT_FILES_MAX, NULL);
	if (ns == 0 && nl == 0) {
		net_log("ERROR", "import: no ZooKeeper snapshot.* or log.* files in %s or %s", snap_dir, log_dir);
		goto out;
	}
	if (compressed > 0)
		net_log("WARN", "import: %zu compressed snapshot(s) in %s are not read (set "
			"zookeeper.snapshot.compression.method=CHECKED, the default, to import them)", compressed, snap_dir);
	/* the newest snapshot that loads, as ZooKeeper itself would start */
	for (i = ns; i > 0; i--) {
		size_t len = 0;
		const uint8_t *p;
		label = snaps[i - 1];
		first = pd_recovery_first_log(logs, nl, label);
		if (first == SIZE_MAX) {
			net_log("WARN", "import: snapshot.%" PRIx64 " is older than every log file; trying an older one",
				(uint64_t)label);
			continue;
		}
		snprintf(path, sizeof(path), "%s/snapshot.%" PRIx64, snap_dir, (uint64_t)label);
		p = net_map_file(path, &len);
		if (p == NULL || pd_node_create(cfg, allocator, net_now_ms(), net_wall_ms(), &node, errmsg, sizeof(errmsg)) != 0) {
			net_log("ERROR", "import: cannot read %s: %s", path, p == NULL ? strerror(errno) : errmsg);
			if (p != NULL)
				net_unmap_file(p, len);
			goto out;
		}
		rc = pd_zk_snapshot_load(node, p, len, label, net_now_ms(), errmsg, sizeof(errmsg));
		net_unmap_file(p, len);
		if (rc == 0)
			break;
		net_log("WARN", "import: %s cannot be used: %s; trying an older snapshot", path, errmsg);
		pd_node_destroy(node);
		node = NULL;
		rc = 1;
	}
	if (node == NULL) {
		if (nl > 0 && logs[0] > 1) {
			net_log("ERROR", "import: no usable snapshot, and the oldest log file starts at zxid 0x%" PRIx64,
				(uint64_t)logs[0]);
			goto out;
		}
		label = 0;
		first = 0;
		if (pd_node_create(cfg, allocator, net_now_ms(), net_wall_ms(), &node, errmsg, sizeof(errmsg)) != 0) {
			net_log("ERROR", "import: %s", errmsg);
			goto out;
		}
	}
	for (i = first; i < nl; i++) {
		size_t len = 0;
		const uint8_t *p;
		uint64_t n = 0;
		snprintf(path, sizeof(path), "%s/log.%" PRIx64, log_dir, (uint64_t)logs[i]);
		p = net_map_file(path, &len);
		if (p == NULL) {
			net_log("ERROR", "import: cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		rc = pd_zk_log_replay(node, p, len, net_now_ms(), &n, errmsg, sizeof(errmsg));
		net_unmap_file(p, len);
		replayed += n;
		if (rc != 0) {
			net_log("ERROR", "import: %s: %s", path, errmsg);
			rc = 1;
			goto out;
		}
	}
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
		net_log("ERROR", "import: cannot create %s: %s", out_dir, strerror(errno));
		rc = 1;
		goto out;
	}
	if (snapshot_write(out_dir, node, &written, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "import: %s", errmsg);
		rc = 1;
		goto out;
	}
	pd_node_get_stats(node, &st);
	net_log("INFO", "imported %" PRIu64 " znodes and %" PRIu64 " sessions at zxid 0x%" PRIx64
		" (ZooKeeper snapshot 0x%" PRIx64 " + %" PRIu64 " log records) into %s/snapshot.%016" PRIx64,
		st.znode_count + 1, st.session_count, (uint64_t)written, (uint64_t)label, replayed, out_dir,
		(uint64_t)written);
	rc = 0;
out:
	if (node != NULL)
		pd_node_destroy(node);
	free(snaps);
	free(logs);
	return rc;
}

int net_import(const char *zk_data_dir, const char *config_path, const char *zk_log_dir)
{
	struct pd_config cfg;
	char errmsg[512];
	if (net_load_config(config_path, &cfg, errmsg, sizeof(errmsg)) != 0) {
		net_log("ERROR", "%s", errmsg);
		return 2;
	}
	if (mkdir(cfg.data_dir, 0755) != 0 && errno != EEXIST) {
		net_log("ERROR", "cannot create %s: %s", cfg.data_dir, strerror(errno));
		return 2;
	}
	/* ZooKeeper's data files hold TTL nodes only if it allowed them: so does the import. */
	cfg.extended_types = true;
	return import_run(zk_data_dir, zk_log_dir != NULL ? zk_log_dir : zk_data_dir, &cfg);
}
