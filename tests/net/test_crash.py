"""kill -9 at random points while clients write as fast as they can: after every restart each
acknowledged write is there, and nothing unacknowledged shows up half-applied.

Three writer connections pipeline requests (a window of 32 each) and record every reply:
  - create /w/R-T-N with data "R-T-N"          (acknowledged => present, data intact)
  - multi create /m/R-T-N-a and /m/R-T-N-b     (both or neither, whatever the acknowledgement)
  - setData /c/T with version V-1, data "V"    (data always equals the version: no torn update;
                                                version >= the highest acknowledged one)
The server is killed with SIGKILL after a seeded random delay, PD_CRASH_ROUNDS times (default
20, seed PD_CRASH_SEED), and restarted on the same directories; the zxid it reports never goes
below the highest zxid any reply carried.  snapCount is small, so kills also land while a
snapshot is being written, and restarts recover from snapshot + log."""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zkwire as zw  # noqa: E402

WINDOW = 32



class Writer(threading.Thread):
    def __init__(self, port, round_no, tid, version):
        super().__init__(daemon=True)
        self.port, self.round_no, self.tid = port, round_no, tid
        self.version = version  # the version of /c/T this writer last saw acknowledged
        self.acked_creates, self.acked_multis = [], []
        self.max_zxid = 0
        self.error = None

    def run(self):
        try:
            c = zw.Conn("127.0.0.1", self.port, timeout=5.0)
            c.connect(timeout_ms=30000)
        except Exception:  # the server was killed before we got in
            return
        inflight = []  # (xid, kind, payload) in order
        n = 0
        next_version = self.version
        try:
            while True:
                while len(inflight) < WINDOW:
                    n += 1
                    name = "%d-%d-%d" % (self.round_no, self.tid, n)
                    kind = n % 3
                    if kind == 0:
                        xid = c.submit(zw.OP["create"], zw.enc_create("/w/" + name, name.encode(),
                                                                        zw.OPEN_ACL, 0))
                        inflight.append((xid, "create", name))
                    elif kind == 1:
                        ops = [("create", "/m/%s-a" % name, b"", zw.OPEN_ACL, 0),
                               ("create", "/m/%s-b" % name, b"", zw.OPEN_ACL, 0)]
                        xid = c.submit(zw.OP["multi"], zw.enc_multi(ops))
                        inflight.append((xid, "multi", name))
                    else:
                        body = zw.W().string("/c/%d" % self.tid).buffer(
                            str(next_version + 1).encode()).int(next_version).bytes()
                        xid = c.submit(zw.OP["setData"], body)
                        inflight.append((xid, "set", next_version + 1))
                        next_version += 1
                xid, kind, payload = inflight.pop(0)
                rep = c.read_reply(zw.OP["multi"] if kind == "multi" else None)
                if rep.xid != xid:
                    self.error = "reply xid %d, expected %d" % (rep.xid, xid)
                    return
                if kind == "multi" and rep.err == 0 and any(res.err != 0 for res in rep.value):
                    self.error = "multi %s failed: %r" % (payload, rep.value)
                    return
                if rep.err != 0:
                    self.error = "%s %s failed with %d" % (kind, payload, rep.err)
                    return
                self.max_zxid = max(self.max_zxid, rep.zxid)
                if kind == "create":
                    self.acked_creates.append(payload)
                elif kind == "multi":
                    self.acked_multis.append(payload)
                else:
                    self.version = payload
        except Exception:  # killed: everything in flight is unacknowledged
            return


class CrashTest(unittest.TestCase):
    def test_kill9_loses_nothing_acknowledged(self):
        seed = int(os.environ.get("PD_CRASH_SEED", "20261126"))
        rounds = int(os.environ.get("PD_CRASH_ROUNDS", "20"))
        rng = random.Random(seed)
        # snapshots every ~1000-2000 txns: kills land during snapshots too, and
        # restarts recover from a snapshot plus the log after it
        srv = harness.PaddockServer(keep_dir=True, tick_ms=500, extra={"snapCount": "2000"})
        try:
            srv.start()
            c = zw.Conn("127.0.0.1", srv.port)
            c.connect()
            for p in ("/w", "/m", "/c", "/c/0", "/c/1", "/c/2"):
                self.assertEqual(c.create(p, b"0" if p.startswith("/c/") else b"").err, 0)
            c.close_session()
            versions = [0, 0, 0]
            creates, multis = [], []
            max_zxid = 0
            total = 0
            for r in range(rounds):
                writers = [Writer(srv.port, r, t, versions[t]) for t in range(3)]
                for w in writers:
                    w.start()
                time.sleep(rng.uniform(0.05, 0.6))
                srv.kill()  # SIGKILL, mid-stream
                for w in writers:
                    w.join(timeout=30)
                    self.assertFalse(w.is_alive())
                    self.assertIsNone(w.error, "round %d (seed %d)" % (r, seed))
                    creates += w.acked_creates
                    multis += w.acked_multis
                    versions[w.tid] = w.version
                    max_zxid = max(max_zxid, w.max_zxid)
                    total += len(w.acked_creates) + len(w.acked_multis)
                srv.start()
                self.assertGreaterEqual(harness.srvr_zxid(srv.port), max_zxid, "zxid went back (seed %d)" % seed)
                self.check(srv.port, creates, multis, versions, "round %d, seed %d" % (r, seed))
            # every round wrote something, or the test proved little
            self.assertGreater(total, rounds * 10)
            self.assertRegex(srv.log(), r"recovered zxid 0x[0-9a-f]+ in \d+ ms: snapshot 0x[1-9a-f]")
            print("%d rounds, %d acknowledged creates and multis, final zxid 0x%x" %
                  (rounds, total, harness.srvr_zxid(srv.port)))
        finally:
            srv.keep_dir = False
            srv.stop()

    def check(self, port, creates, multis, versions, where):
        c = zw.Conn("127.0.0.1", port)
        c.connect()
        present = set(c.get_children("/w").value)
        for name in creates:
            self.assertIn(name, present, "acknowledged create /w/%s lost (%s)" % (name, where))
        for name in creates[-50:]:
            self.assertEqual(c.get_data("/w/" + name).value[0], name.encode(), where)
        kids = set(c.get_children("/m").value)
        for k in kids:  # atomic: both halves or neither
            other = k[:-1] + ("b" if k.endswith("a") else "a")
            self.assertIn(other, kids, "half a multi: /m/%s without /m/%s (%s)" % (k, other, where))
        for name in multis:
            self.assertIn(name + "-a", kids, "acknowledged multi %s lost (%s)" % (name, where))
        for t in range(3):
            rep = c.get_data("/c/%d" % t)
            data, stat = rep.value
            self.assertEqual(data, str(stat.version).encode(), "torn setData on /c/%d (%s)" % (t, where))
            self.assertGreaterEqual(stat.version, versions[t], "acknowledged setData lost (%s)" % where)
            versions[t] = stat.version  # unacknowledged but durable updates count from now on
        c.close_session()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
