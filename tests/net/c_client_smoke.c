/*
 * c_client_smoke: the ZooKeeper C client (libzookeeper-mt) against a server.
 *
 *   c_client_smoke HOST:PORT BASE [--reconnect]
 *
 * Does create (persistent, ephemeral, sequential, ephemeral-sequential) / ls
 * (get_children, get_children2) / get / set / delete with versions and error
 * codes, exists, a data and a child watch, multi (commit and rollback), sync,
 * getACL/setACL, digest auth with a second handle as the unauthorised party, and
 * removeWatches.  Every check prints "ok: ..." or "FAIL: ..." and the first
 * failure exits with status 1.
 *
 * With --reconnect it then sets a data watch on BASE/rc, prints
 * "READY-FOR-CUT", and waits for a line on stdin.  Meanwhile the driver cuts the
 * TCP connection (through a proxy), changes BASE/rc and lets the client back in.
 * The client must reconnect to the same session, re-register the watch with
 * SetWatches, and receive the NodeDataChanged event.
 *
 * Leaves BASE with the children "kept" and "rc" (when --reconnect) and closes the
 * session cleanly; ephemeral nodes are therefore gone afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef THREADED
#define THREADED /* the synchronous API of libzookeeper_mt */
#endif
#include <zookeeper/zookeeper.h>

#define WAIT_S 15

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected_count;  /* number of ZOO_CONNECTED_STATE session events seen */
static int connected_now;
static int disconnected_count;

struct watch_box {
    int fired;
    int type;
    char path[512];
};

struct completion_box {
    int done;
    int rc;
    char value[512];
};

static zhandle_t *zh_main;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ok: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static void expect_rc(int got, int want, const char *what)
{
    if (got != want)
        fail("%s: rc %d (%s), expected %d (%s)", what, got, zerror(got), want, zerror(want));
    ok("%s -> %s", what, zerror(got));
}

static const char *type_name(int type)
{
    if (type == ZOO_CREATED_EVENT) return "CREATED";
    if (type == ZOO_DELETED_EVENT) return "DELETED";
    if (type == ZOO_CHANGED_EVENT) return "CHANGED";
    if (type == ZOO_CHILD_EVENT) return "CHILD";
    if (type == ZOO_SESSION_EVENT) return "SESSION";
    if (type == ZOO_NOTWATCHING_EVENT) return "NOTWATCHING";
    return "?";
}

static void deadline_in(struct timespec *ts, int seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += seconds;
}

static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    (void)ctx;
    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&mu);
    if (state == ZOO_CONNECTED_STATE) {
        connected_count++;
        connected_now = 1;
    } else {
        if (connected_now)
            disconnected_count++;
        connected_now = 0;
        if (state == ZOO_EXPIRED_SESSION_STATE)
            printf("info: session expired event\n");
        else if (state == ZOO_AUTH_FAILED_STATE)
            printf("info: auth failed event\n");
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void box_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct watch_box *box = ctx;
    (void)zh;
    (void)state;
    if (type == ZOO_SESSION_EVENT)
        return; /* connection state changes are also delivered to watchers */
    pthread_mutex_lock(&mu);
    box->fired++;
    box->type = type;
    snprintf(box->path, sizeof box->path, "%s", path ? path : "");
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_watch(struct watch_box *box, int type, const char *path, const char *what, int seconds)
{
    struct timespec ts;
    deadline_in(&ts, seconds);
    pthread_mutex_lock(&mu);
    while (box->fired == 0) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            break;
    }
    int fired = box->fired, got_type = box->type;
    char got_path[512];
    snprintf(got_path, sizeof got_path, "%s", box->path);
    pthread_mutex_unlock(&mu);
    if (fired == 0)
        fail("%s: no watch event within %ds", what, seconds);
    if (got_type != type || strcmp(got_path, path) != 0)
        fail("%s: got %s %s, expected %s %s", what, type_name(got_type), got_path, type_name(type), path);
    ok("%s: %s %s", what, type_name(got_type), got_path);
}

static void void_done(int rc, const void *data)
{
    struct completion_box *box = (struct completion_box *)data;
    pthread_mutex_lock(&mu);
    box->rc = rc;
    box->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void string_done(int rc, const char *value, const void *data)
{
    struct completion_box *box = (struct completion_box *)data;
    pthread_mutex_lock(&mu);
    box->rc = rc;
    snprintf(box->value, sizeof box->value, "%s", value ? value : "");
    box->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int wait_completion(struct completion_box *box, const char *what)
{
    struct timespec ts;
    deadline_in(&ts, WAIT_S);
    pthread_mutex_lock(&mu);
    while (!box->done) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            break;
    }
    int done = box->done, rc = box->rc;
    pthread_mutex_unlock(&mu);
    if (!done)
        fail("%s: no completion within %ds", what, WAIT_S);
    return rc;
}

static zhandle_t *connect_handle(const char *hosts, int expected_connections)
{
    zhandle_t *zh = zookeeper_init(hosts, global_watcher, 10000, NULL, NULL, 0);
    if (zh == NULL)
        fail("zookeeper_init(%s): %s", hosts, strerror(errno));
    struct timespec ts;
    deadline_in(&ts, WAIT_S);
    pthread_mutex_lock(&mu);
    while (connected_count < expected_connections) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            break;
    }
    int n = connected_count;
    pthread_mutex_unlock(&mu);
    if (n < expected_connections)
        fail("no connection to %s within %ds", hosts, WAIT_S);
    ok("connected to %s, session 0x%llx, timeout %d ms", hosts,
       (unsigned long long)zoo_client_id(zh)->client_id, zoo_recv_timeout(zh));
    return zh;
}

static int has_child(const struct String_vector *v, const char *name)
{
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->data[i], name) == 0)
            return 1;
    return 0;
}

static void join(char *out, size_t n, const char *base, const char *leaf)
{
    snprintf(out, n, "%s/%s", base, leaf);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST:PORT BASE [--reconnect]\n", argv[0]);
        return 2;
    }
    const char *hosts = argv[1];
    const char *base = argv[2];
    int reconnect = argc > 3 && strcmp(argv[3], "--reconnect") == 0;
    zoo_set_debug_level(getenv("PD_TEST_DEBUG") ? ZOO_LOG_LEVEL_DEBUG : ZOO_LOG_LEVEL_ERROR);
    setvbuf(stdout, NULL, _IOLBF, 0);

    zhandle_t *zh = connect_handle(hosts, 1);
    zh_main = zh;
    const clientid_t *cid = zoo_client_id(zh);
    long long session = cid->client_id;

    char path[512], buf[1024], p2[512];
    int len, rc;
    struct Stat st;

    /* --- create ------------------------------------------------------------ */
    rc = zoo_create(zh, base, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path);
    expect_rc(rc, ZOK, "create BASE");
    if (strcmp(path, base) != 0)
        fail("create returned path %s, expected %s", path, base);
    expect_rc(zoo_create(zh, base, "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNODEEXISTS, "create BASE again");
    join(p2, sizeof p2, base, "missing/child");
    expect_rc(zoo_create(zh, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNONODE, "create under missing parent");

    join(p2, sizeof p2, base, "kept");
    expect_rc(zoo_create(zh, p2, "k", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "create BASE/kept");
    join(p2, sizeof p2, base, "eph");
    expect_rc(zoo_create(zh, p2, "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0), ZOK, "create ephemeral BASE/eph");
    join(p2, sizeof p2, base, "eph/child");
    expect_rc(zoo_create(zh, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZNOCHILDRENFOREPHEMERALS,
              "create child of ephemeral");
    join(p2, sizeof p2, base, "seq-");
    expect_rc(zoo_create(zh, p2, "s", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, path, sizeof path), ZOK,
              "create sequential BASE/seq-");
    join(p2, sizeof p2, base, "seq-0000000002");
    if (strcmp(path, p2) != 0)
        fail("sequential name %s, expected %s (third child of BASE)", path, p2);
    ok("sequential name %s", path);
    join(p2, sizeof p2, base, "eseq-");
    expect_rc(zoo_create(zh, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path), ZOK,
              "create ephemeral-sequential BASE/eseq-");
    join(p2, sizeof p2, base, "eseq-0000000003");
    if (strcmp(path, p2) != 0)
        fail("ephemeral-sequential name %s, expected %s", path, p2);
    ok("ephemeral-sequential name %s", path);

    struct Stat st2;
    join(p2, sizeof p2, base, "c2");
    expect_rc(zoo_create2(zh, p2, "abc", 3, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path, &st2), ZOK, "create2 BASE/c2");
    if (st2.dataLength != 3 || st2.version != 0 || st2.czxid != st2.mzxid)
        fail("create2 stat: dataLength %d version %d czxid %lld mzxid %lld", st2.dataLength, st2.version,
             (long long)st2.czxid, (long long)st2.mzxid);
    ok("create2 returned a stat (czxid 0x%llx)", (long long)st2.czxid);

    /* --- ls ------------------------------------------------------------------ */
    struct String_vector kids;
    expect_rc(zoo_get_children(zh, base, 0, &kids), ZOK, "get_children BASE");
    if (kids.count != 5 || !has_child(&kids, "kept") || !has_child(&kids, "eph") ||
        !has_child(&kids, "seq-0000000002") || !has_child(&kids, "eseq-0000000003") || !has_child(&kids, "c2"))
        fail("children of BASE: %d entries, expected kept eph seq-0000000002 eseq-0000000003 c2", kids.count);
    ok("children: 5 as expected");
    deallocate_String_vector(&kids);
    expect_rc(zoo_get_children2(zh, base, 0, &kids, &st), ZOK, "get_children2 BASE");
    if (st.numChildren != 5 || st.cversion != 5)
        fail("get_children2 stat numChildren %d cversion %d, expected 5 5", st.numChildren, st.cversion);
    ok("get_children2 stat numChildren 5 cversion 5");
    deallocate_String_vector(&kids);
    join(p2, sizeof p2, base, "nope");
    expect_rc(zoo_get_children(zh, p2, 0, &kids), ZNONODE, "get_children missing");

    /* --- get / set / exists -------------------------------------------------- */
    len = sizeof buf;
    expect_rc(zoo_get(zh, base, 0, buf, &len, &st), ZOK, "get BASE");
    if (len != 5 || memcmp(buf, "hello", 5) != 0 || st.version != 0 || st.dataLength != 5)
        fail("get BASE: len %d version %d", len, st.version);
    ok("get BASE = \"hello\", version 0");
    expect_rc(zoo_set(zh, base, "world", 5, 0), ZOK, "set BASE version 0");
    expect_rc(zoo_set(zh, base, "again", 5, 0), ZBADVERSION, "set BASE stale version 0");
    expect_rc(zoo_set2(zh, base, "world!", 6, 1, &st), ZOK, "set2 BASE version 1");
    if (st.version != 2 || st.dataLength != 6)
        fail("set2 stat version %d dataLength %d, expected 2 6", st.version, st.dataLength);
    ok("set2 stat version 2");
    len = sizeof buf;
    expect_rc(zoo_get(zh, base, 0, buf, &len, &st), ZOK, "get BASE after set");
    if (len != 6 || memcmp(buf, "world!", 6) != 0)
        fail("get BASE after set: %.*s", len, buf);
    ok("get BASE = \"world!\"");
    join(p2, sizeof p2, base, "c2");
    expect_rc(zoo_set(zh, p2, NULL, -1, -1), ZOK, "set BASE/c2 to null data");
    len = sizeof buf;
    expect_rc(zoo_get(zh, p2, 0, buf, &len, &st), ZOK, "get BASE/c2");
    if (len != -1 && len != 0)
        fail("null data read back with length %d", len);
    ok("null data reads back with length %d", len);
    join(p2, sizeof p2, base, "nope");
    expect_rc(zoo_exists(zh, p2, 0, &st), ZNONODE, "exists missing");
    join(p2, sizeof p2, base, "eph");
    expect_rc(zoo_exists(zh, p2, 0, &st), ZOK, "exists BASE/eph");
    if (st.ephemeralOwner != session)
        fail("ephemeralOwner 0x%llx, expected session 0x%llx", (long long)st.ephemeralOwner, session);
    ok("BASE/eph owned by our session");
    len = sizeof buf;
    expect_rc(zoo_get(zh, p2, 0, buf, &len, NULL), ZOK, "get with NULL stat");

    /* --- watches ------------------------------------------------------------- */
    struct watch_box wdata = {0}, wchild = {0}, wexist = {0};
    len = sizeof buf;
    expect_rc(zoo_wget(zh, base, box_watcher, &wdata, buf, &len, &st), ZOK, "wget BASE");
    expect_rc(zoo_wget_children(zh, base, box_watcher, &wchild, &kids), ZOK, "wget_children BASE");
    deallocate_String_vector(&kids);
    join(p2, sizeof p2, base, "later");
    expect_rc(zoo_wexists(zh, p2, box_watcher, &wexist, &st), ZNONODE, "wexists BASE/later");
    expect_rc(zoo_set(zh, base, "w", 1, -1), ZOK, "set BASE (triggers data watch)");
    wait_watch(&wdata, ZOO_CHANGED_EVENT, base, "data watch", WAIT_S);
    expect_rc(zoo_create(zh, p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "create BASE/later");
    wait_watch(&wexist, ZOO_CREATED_EVENT, p2, "exists watch", WAIT_S);
    wait_watch(&wchild, ZOO_CHILD_EVENT, base, "child watch", WAIT_S);
    expect_rc(zoo_delete(zh, p2, -1), ZOK, "delete BASE/later");

    /* --- delete ---------------------------------------------------------------- */
    join(p2, sizeof p2, base, "seq-0000000002");
    expect_rc(zoo_delete(zh, p2, 5), ZBADVERSION, "delete wrong version");
    expect_rc(zoo_delete(zh, p2, 0), ZOK, "delete version 0");
    expect_rc(zoo_delete(zh, p2, -1), ZNONODE, "delete again");
    expect_rc(zoo_delete(zh, base, -1), ZNOTEMPTY, "delete non-empty BASE");

    /* --- multi ----------------------------------------------------------------- */
    zoo_op_t ops[4];
    zoo_op_result_t results[4];
    char created[512], a_path[512], b_path[512], kept[512];
    join(a_path, sizeof a_path, base, "m-a");
    join(b_path, sizeof b_path, base, "m-b");
    join(kept, sizeof kept, base, "kept");
    struct Stat set_stat;
    zoo_create_op_init(&ops[0], a_path, "1", 1, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
    zoo_set_op_init(&ops[1], kept, "k2", 2, 0, &set_stat);
    zoo_check_op_init(&ops[2], kept, 1);
    zoo_create_op_init(&ops[3], b_path, "2", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    expect_rc(zoo_multi(zh, 4, ops, results), ZOK, "multi create+set+check+create");
    for (int i = 0; i < 4; i++)
        if (results[i].err != ZOK)
            fail("multi result %d: %s", i, zerror(results[i].err));
    if (strcmp(created, a_path) != 0 || set_stat.version != 1)
        fail("multi results: created %s, set version %d", created, set_stat.version);
    ok("multi results ok (created %s, set version 1)", created);
    zoo_create_op_init(&ops[0], b_path, "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    zoo_delete_op_init(&ops[1], a_path, -1);
    expect_rc(zoo_multi(zh, 2, ops, results), ZNODEEXISTS, "multi with an existing node");
    if (results[0].err != ZNODEEXISTS || results[1].err != ZRUNTIMEINCONSISTENCY)
        fail("failed multi results: %d %d, expected %d %d", results[0].err, results[1].err, ZNODEEXISTS,
             ZRUNTIMEINCONSISTENCY);
    ok("failed multi per-op results: NODEEXISTS, RUNTIMEINCONSISTENCY");
    zoo_delete_op_init(&ops[0], a_path, -1);
    zoo_check_op_init(&ops[1], kept, 7);
    expect_rc(zoo_multi(zh, 2, ops, results), ZBADVERSION, "multi with a failing check");
    if (results[0].err != ZOK || results[1].err != ZBADVERSION)
        fail("failed multi results: %d %d, expected %d %d", results[0].err, results[1].err, ZOK, ZBADVERSION);
    ok("rolled-back op reports ZOK, failing check reports BADVERSION");
    expect_rc(zoo_exists(zh, a_path, 0, &st), ZOK, "rolled-back delete left BASE/m-a");
    zoo_delete_op_init(&ops[0], a_path, -1);
    zoo_delete_op_init(&ops[1], b_path, -1);
    expect_rc(zoo_multi(zh, 2, ops, results), ZOK, "multi delete m-a m-b");

    /* --- sync ------------------------------------------------------------------ */
    struct completion_box sync_box = {0};
    expect_rc(zoo_async(zh, base, string_done, &sync_box), ZOK, "zoo_async (sync) submitted");
    rc = wait_completion(&sync_box, "sync");
    expect_rc(rc, ZOK, "sync completed");
    if (strcmp(sync_box.value, base) != 0)
        fail("sync returned path %s", sync_box.value);

    /* --- ACLs and auth ----------------------------------------------------------- */
    struct ACL_vector acl;
    expect_rc(zoo_get_acl(zh, base, &acl, &st), ZOK, "get_acl BASE");
    if (acl.count != 1 || acl.data[0].perms != ZOO_PERM_ALL || strcmp(acl.data[0].id.scheme, "world") != 0 ||
        strcmp(acl.data[0].id.id, "anyone") != 0)
        fail("BASE acl is not world:anyone:cdrwa");
    ok("BASE acl world:anyone perms %d, aversion %d", acl.data[0].perms, st.aversion);
    deallocate_ACL_vector(&acl);
    struct completion_box auth_box = {0};
    expect_rc(zoo_add_auth(zh, "digest", "smoke:pw", 8, void_done, &auth_box), ZOK, "add_auth submitted");
    expect_rc(wait_completion(&auth_box, "add_auth"), ZOK, "add_auth digest smoke:pw");
    char secret[512];
    join(secret, sizeof secret, base, "secret");
    expect_rc(zoo_create(zh, secret, "s", 1, &ZOO_CREATOR_ALL_ACL, 0, NULL, 0), ZOK, "create with CREATOR_ALL_ACL");
    expect_rc(zoo_get_acl(zh, secret, &acl, &st), ZOK, "get_acl secret");
    if (acl.count != 1 || strcmp(acl.data[0].id.scheme, "digest") != 0 ||
        strncmp(acl.data[0].id.id, "smoke:", 6) != 0)
        fail("secret acl %s:%s", acl.count ? acl.data[0].id.scheme : "-", acl.count ? acl.data[0].id.id : "-");
    ok("secret acl digest:%s", acl.data[0].id.id);
    deallocate_ACL_vector(&acl);

    zhandle_t *other = connect_handle(hosts, 2);
    len = sizeof buf;
    expect_rc(zoo_get(other, secret, 0, buf, &len, &st), ZNOAUTH, "unauthorised get");
    expect_rc(zoo_set(other, secret, "x", 1, -1), ZNOAUTH, "unauthorised set");
    expect_rc(zoo_exists(other, secret, 0, &st), ZOK, "unauthorised exists still works");
    struct ACL read_only_acl[] = {{ZOO_PERM_READ, {"world", "anyone"}}};
    struct ACL_vector ro = {1, read_only_acl};
    expect_rc(zoo_set_acl(zh, kept, 5, &ro), ZBADVERSION, "set_acl wrong aversion");
    expect_rc(zoo_set_acl(zh, kept, 0, &ro), ZOK, "set_acl read-only");
    expect_rc(zoo_set(other, kept, "x", 1, -1), ZNOAUTH, "set on read-only node");
    len = sizeof buf;
    expect_rc(zoo_get(other, kept, 0, buf, &len, &st), ZOK, "get on read-only node");
    if (st.aversion != 1)
        fail("aversion %d after set_acl, expected 1", st.aversion);
    ok("aversion 1 after set_acl");
    expect_rc(zoo_set_acl(zh, kept, 1, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH, "set_acl without ADMIN");
    expect_rc(zookeeper_close(other), ZOK, "close second handle");
    expect_rc(zoo_delete(zh, secret, -1), ZOK, "delete secret");

    /* --- removeWatches ----------------------------------------------------------- */
    struct watch_box wr = {0};
    len = sizeof buf;
    expect_rc(zoo_remove_watches(zh, kept, ZWATCHTYPE_DATA, box_watcher, &wr, 0), ZNOWATCHER,
              "remove_watches with no watch");
    expect_rc(zoo_wget(zh, kept, box_watcher, &wr, buf, &len, &st), ZOK, "wget BASE/kept");
    expect_rc(zoo_remove_watches(zh, kept, ZWATCHTYPE_DATA, box_watcher, &wr, 0), ZOK, "remove_watches data");

    /* --- reconnect with SetWatches ---------------------------------------------- */
    if (reconnect) {
        char rc_path[512];
        struct watch_box wrc = {0};
        join(rc_path, sizeof rc_path, base, "rc");
        expect_rc(zoo_create(zh, rc_path, "0", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK, "create BASE/rc");
        len = sizeof buf;
        expect_rc(zoo_wget(zh, rc_path, box_watcher, &wrc, buf, &len, &st), ZOK, "wget BASE/rc");
        pthread_mutex_lock(&mu);
        int before = connected_count, disc_before = disconnected_count;
        pthread_mutex_unlock(&mu);
        printf("READY-FOR-CUT\n");
        fflush(stdout);
        if (fgets(buf, sizeof buf, stdin) == NULL)
            fail("driver closed stdin");
        wait_watch(&wrc, ZOO_CHANGED_EVENT, rc_path, "watch re-registered after reconnect", 30);
        pthread_mutex_lock(&mu);
        int after = connected_count, disc_after = disconnected_count;
        pthread_mutex_unlock(&mu);
        if (disc_after <= disc_before || after <= before)
            fail("expected a disconnect and a reconnect (disconnects %d->%d, connects %d->%d)", disc_before,
                 disc_after, before, after);
        ok("reconnected (disconnects %d, connects %d)", disc_after - disc_before, after - before);
        if (zoo_client_id(zh)->client_id != session)
            fail("session changed across reconnect: 0x%llx", (long long)zoo_client_id(zh)->client_id);
        ok("same session 0x%llx after reconnect", session);
        join(p2, sizeof p2, base, "eph");
        expect_rc(zoo_exists(zh, p2, 0, &st), ZOK, "ephemeral still there");
        len = sizeof buf;
        expect_rc(zoo_get(zh, rc_path, 0, buf, &len, &st), ZOK, "get BASE/rc");
        if (len != 7 || memcmp(buf, "changed", 7) != 0)
            fail("BASE/rc = %.*s, expected changed", len, buf);
        ok("BASE/rc = \"changed\"");
    }

    expect_rc(zookeeper_close(zh), ZOK, "close session");
    printf("PASS c_client_smoke\n");
    return 0;
}
