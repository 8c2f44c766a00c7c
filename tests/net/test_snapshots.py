"""Snapshots and recovery of a real paddock process: snapshots are taken every snapCount
transactions by a forked child, recovery starts from the newest one that loads (an older one
when it is damaged) plus the log after it, sessions and their ephemerals survive a restart and
expire by their timeout when their clients stay away, the zxid never goes back (a client that
has seen more is refused), and autopurge keeps snapRetainCount snapshots and the logs they
need."""
import glob
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zkwire as zw  # noqa: E402




class SnapshotTest(unittest.TestCase):
    def start(self, **extra):
        cfg = {"snapCount": "100", "preAllocSize": "1024"}
        cfg.update(extra)
        self.srv = harness.PaddockServer(keep_dir=True, tick_ms=500, extra=cfg).start()
        self.snap_dir = os.path.join(self.srv.data_dir, "paddock")

    def tearDown(self):
        self.srv.keep_dir = False
        self.srv.stop()

    def restart(self):
        self.srv.kill()
        self.srv.start()

    def snapshots(self):
        return sorted(glob.glob(os.path.join(self.snap_dir, "snapshot.*")))

    def fill(self, prefix, n, conn=None):
        c = conn or zw.Conn("127.0.0.1", self.srv.port)
        if conn is None:
            c.connect()
        for i in range(n):
            self.assertEqual(c.create("/%s%d" % (prefix, i), b"%d" % i).err, 0)
        if conn is None:
            c.close_session()

    def check_present(self, prefix, n):
        c = zw.Conn("127.0.0.1", self.srv.port)
        c.connect()
        kids = set(c.get_children("/").value)
        for i in range(n):
            self.assertIn("%s%d" % (prefix, i), kids)
        self.assertEqual(c.get_data("/%s%d" % (prefix, n - 1)).value[0], b"%d" % (n - 1))
        c.close_session()

    def test_snapshots_taken_and_used_on_restart(self):
        self.start()
        self.fill("a", 450)
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) >= 3), self.srv.log())
        self.restart()
        log = self.srv.log()
        m = re.findall(r"recovered zxid 0x([0-9a-f]+) in \d+ ms: snapshot 0x([0-9a-f]+) \+ (\d+) log record", log)
        self.assertTrue(m, log)
        zxid, label, replayed = int(m[-1][0], 16), int(m[-1][1], 16), int(m[-1][2])
        self.assertGreater(label, 0)
        self.assertEqual(label + replayed, zxid)  # the log after the label, nothing before it
        self.check_present("a", 450)

    def test_damaged_newest_snapshot_falls_back_to_an_older_one(self):
        self.start()
        self.fill("b", 450)
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) >= 3), self.srv.log())
        self.srv.kill()
        newest = self.snapshots()[-1]
        with open(newest, "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0x10
            f.seek(0)
            f.write(data)
        self.srv.start()
        log = self.srv.log()
        self.assertIn("cannot use snapshot 0x%s" % newest.rsplit(".", 1)[1].lstrip("0"), log)
        self.assertIn("after skipping damaged snapshots", log)
        self.check_present("b", 450)

    def test_torn_snapshot_is_ignored(self):
        self.start()
        self.fill("c", 250)
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) >= 2), self.srv.log())
        self.srv.kill()
        newest = self.snapshots()[-1]
        size = os.path.getsize(newest)
        os.truncate(newest, size // 3)  # a copy cut short
        with open(os.path.join(self.snap_dir, "snapshot.00000000000fffff.tmp"), "wb") as f:
            f.write(b"half")  # what an interrupted writer leaves
        self.srv.start()
        self.assertIn("cannot use snapshot", self.srv.log())
        self.assertFalse(os.path.exists(os.path.join(self.snap_dir, "snapshot.00000000000fffff.tmp")))
        self.check_present("c", 250)

    def test_sessions_and_ephemerals_survive_and_expire(self):
        self.start()
        a = zw.Conn("127.0.0.1", self.srv.port)
        a.connect(timeout_ms=4000)
        b = zw.Conn("127.0.0.1", self.srv.port)
        b.connect(timeout_ms=4000)
        self.assertEqual(a.create("/eph-a", b"", flags=zw.EPHEMERAL).err, 0)
        self.assertEqual(b.create("/eph-b", b"", flags=zw.EPHEMERAL).err, 0)
        self.fill("d", 150, conn=a)  # past snapCount: the sessions go through a snapshot
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) >= 1), self.srv.log())
        sid_b, pw_b, zxid_b = b.session_id, b.passwd, b.last_zxid
        self.restart()
        # b comes back with its id and password: accepted, its node is there
        b2 = zw.Conn("127.0.0.1", self.srv.port)
        resp = b2.connect(timeout_ms=4000, session_id=sid_b, passwd=pw_b, last_zxid=zxid_b)
        self.assertEqual(resp.session_id, sid_b)
        self.assertEqual(b2.exists("/eph-b").value.ephemeralOwner, sid_b)
        # a never comes back: its ephemeral goes when its timeout runs out after the restart
        self.assertEqual(b2.exists("/eph-a").err, 0)
        self.assertTrue(harness.wait_until(lambda: b2.exists("/eph-a").err == zw.ERR["NONODE"], timeout=15),
                        "ephemeral of a session that never came back was not removed")
        self.assertEqual(b2.exists("/eph-b").err, 0)
        b2.close_session()

    def test_zxid_never_goes_back_and_a_client_ahead_is_refused(self):
        self.start()
        self.fill("e", 30)
        before = harness.srvr_zxid(self.srv.port)
        self.restart()
        self.assertEqual(harness.srvr_zxid(self.srv.port), before)
        c = zw.Conn("127.0.0.1", self.srv.port)
        c.send_frame(c.connect_request(last_zxid=before + 5))
        self.assertTrue(c.is_closed_by_peer())  # ZooKeeper closes such a connection
        ok = zw.Conn("127.0.0.1", self.srv.port)
        ok.connect(last_zxid=before)
        self.assertGreater(ok.create("/after", b"").zxid, before)
        ok.close_session()

    def test_autopurge_keeps_retain_count_snapshots_and_needed_logs(self):
        self.start(**{"autopurge.purgeInterval": "1", "autopurge.snapRetainCount": "3"})
        self.fill("f", 700)
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) >= 5), self.srv.log())
        self.restart()  # purges at start, after the start-up snapshot is taken
        self.fill("g", 5)
        self.assertTrue(harness.wait_until(lambda: len(self.snapshots()) <= 4), self.snapshots())
        self.assertLessEqual(len(self.snapshots()), 4)
        self.assertIn("purge: removed", self.srv.log())
        self.restart()  # what was kept is enough to recover
        self.check_present("f", 700)
        self.check_present("g", 5)


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
