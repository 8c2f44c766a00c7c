"""paddock import: a real Apache ZooKeeper 3.8 (Debian's package, started by the test) takes a
seeded stream of writes (persistent, sequential, ephemeral, container and TTL nodes, setData,
setACL with digest and world ACLs, deletes, multis that succeed and fail) with snapCount small
enough that its data directory holds several snapshots and the log after the newest one.  The
test dumps the tree through the client protocol (data, every Stat field, ACLs), kills ZooKeeper,
runs `paddock import` on its data directory, starts paddock on the result and requires the same
dump.  A second import into the same dataDir is refused."""
import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zkwire as zw  # noqa: E402

SEED = int(os.environ.get("PD_IMPORT_SEED", "7"))


def dump(port):
    """path -> (data, stat, acls) for every znode, through a fresh session."""
    c = zw.Conn("127.0.0.1", port)
    c.connect()
    out, todo = {}, ["/"]
    while todo:
        path = todo.pop()
        data = c.get_data(path)
        acl = c.get_acl(path)
        kids = c.get_children(path)
        assert data.err == 0 and acl.err == 0 and kids.err == 0, (path, data.err, acl.err, kids.err)
        out[path] = (data.value[0], tuple(data.value[1]), tuple(sorted(acl.value[0])))
        todo += [(path.rstrip("/") + "/" + k) for k in kids.value]
    c.close_session()
    return out


def workload(port, rng):
    """Seeded writes; returns the session left open (its ephemerals stay)."""
    keep = zw.Conn("127.0.0.1", port)
    keep.connect(timeout_ms=30000)
    w = zw.Conn("127.0.0.1", port)
    w.connect(timeout_ms=30000)
    w.auth("digest", b"alice:secret")
    alice = [zw.ACL(zw.PERM_ALL, "digest", zw.digest_id("alice", "secret")), zw.ACL(zw.PERM_READ, "world", "anyone")]
    paths = ["/app"]
    assert w.create("/app", b"root").err == 0
    assert w.create_container("/box").err == 0
    assert w.create("/box/item", b"").err == 0
    assert w.create_ttl("/ttl", b"t", ttl=3600000).err == 0
    for i in range(400):
        op = rng.random()
        parent = rng.choice(paths)
        if op < 0.35:
            flags = rng.choice([zw.PERSISTENT, zw.PERSISTENT_SEQUENTIAL])
            r = w.create(parent + "/n%d-" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(40))),
                         acl=alice if rng.random() < 0.2 else zw.OPEN_ACL, flags=flags)
            if r.err == 0:
                paths.append(r.value)
        elif op < 0.45:
            keep.create(parent + "/e%d-" % i, b"eph", flags=zw.EPHEMERAL_SEQUENTIAL)
        elif op < 0.65:
            w.set_data(rng.choice(paths), b"v%d" % i)
        elif op < 0.72:
            w.set_acl(rng.choice(paths), rng.choice([alice, zw.OPEN_ACL, zw.READ_ACL + alice[:1]]))
        elif op < 0.85 and len(paths) > 1:
            p = rng.choice(paths[1:])
            if w.delete(p).err == 0:
                paths.remove(p)
        else:
            a, b = "/app/m%d" % i, "/app/m%d/x" % i
            ops = [("create", a, b"m", zw.OPEN_ACL, 0), ("create", b, b"", zw.OPEN_ACL, 0)]
            if rng.random() < 0.3:
                ops.append(("check", "/app", 12345))  # fails: the whole multi does nothing
            w.multi(ops)
    w.close_session()
    return keep


class ImportTest(unittest.TestCase):
    def test_import_matches_the_zookeeper_that_wrote_it(self):
        zk = harness.ZooKeeperServer(keep_dir=True, extra={"snapCount": "60", "extendedTypesEnabled": "true"})
        pd = harness.PaddockServer(keep_dir=True)
        try:
            zk.start()
            keep = workload(zk.port, random.Random(SEED))
            # ZooKeeper snapshots at a drawn count: if its newest snapshot happens to hold every
            # txn, one more write puts a record in the log after it (the next snapshot is at
            # least snapCount/2 txns away), so the import has both parts to read
            for _ in range(3):
                snaps = [int(f.split(".")[1], 16) for f in os.listdir(os.path.join(zk.data_dir, "version-2"))
                         if f.startswith("snapshot.")]
                if not snaps or max(snaps) < harness.srvr_zxid(zk.port):
                    break
                tail = zw.Conn("127.0.0.1", zk.port)
                tail.connect()
                tail.create("/import-tail-%d" % len(snaps), b"", zw.OPEN_ACL, 0)
                tail.close_session()
            want = dump(zk.port)
            zk.kill()  # as after a crash: snapshots plus the log after the newest
            files = os.listdir(os.path.join(zk.data_dir, "version-2"))
            self.assertGreaterEqual(len([f for f in files if f.startswith("snapshot.")]), 2, files)
            self.assertTrue([f for f in files if f.startswith("log.")], files)
            cfg = pd.write_config()
            r = subprocess.run([harness.PADDOCK_BIN, "import", zk.data_dir, cfg], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stderr, r"imported \d+ znodes and \d+ sessions at zxid 0x[0-9a-f]+ "
                                       r"\(ZooKeeper snapshot 0x[1-9a-f][0-9a-f]* \+ [1-9]\d* log records\)")
            pd.start()
            got = dump(pd.port)
            self.assertEqual(sorted(got), sorted(want))
            for path in sorted(want):
                self.assertEqual(got[path], want[path], path)
            # the session that held ephemerals came over too: its owner can still use it
            c = zw.Conn("127.0.0.1", pd.port)
            c.connect(session_id=keep.session_id, passwd=keep.passwd, last_zxid=keep.last_zxid)
            self.assertEqual(c.session_id, keep.session_id)
            c.close()
            # a second import would mix with existing data: refused
            pd.stop()
            r = subprocess.run([harness.PADDOCK_BIN, "import", zk.data_dir, cfg], capture_output=True, text=True,
                               timeout=120)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already holds paddock data", r.stderr)
        finally:
            zk.keep_dir = pd.keep_dir = False
            zk.stop()
            pd.stop()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
