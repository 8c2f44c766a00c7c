#!/usr/bin/python3
"""Real-process ensembles (issue 5): paddock members on 127.0.0.1, each started from a zoo.cfg
with server.N lines and a dataDir/myid file as an operator writes them, used by unmodified
kazoo clients.

  - a lone member of three is not serving (four-letter words answered as ZooKeeper 3.8 does);
  - three members elect a leader, report Mode leader/follower in srvr, mntr and `paddock
    status`, persist their epochs, and serve kazoo clients on every member (a client sees
    its own writes in order on a follower; all see everything after sync);
  - the founding master-election story with the two masters on different members;
  - kill -9 of the leader under write load: a new leader, no acknowledged write lost,
    the writer's client reconnects and goes on (the failover time is printed);
  - the old leader comes back and is caught up by DIFF; a member that missed more txns than
    the leader's committed log holds is caught up by SNAP; a member holding a txn of the old
    epoch that never committed is truncated (TRUNC) and the txn is gone everywhere;
  - a member whose disk was replaced by an empty one does not vote as if it were new: with it
    and a member that missed a committed write no leader is elected, and the write survives;
  - five members (one of them an observer) serve kazoo clients on every member and fail
    over.

Free ports, temporary directories, every process stopped by PID, also on failure."""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import KazooException, NoNodeError  # noqa: E402
from kazoo.handlers.threading import KazooTimeoutError  # noqa: E402


def mntr(port):
    out = {}
    for line in harness.four_letter(port, "mntr").splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def zxid_of(port):
    return harness.srvr_zxid(port)


def epoch_file(member, name):
    with open(os.path.join(member.data_dir, "paddock", name)) as f:
        return int(f.read())


def client(hosts, timeout=4.0):
    z = KazooClient(hosts=hosts, timeout=timeout)
    z.start(timeout=30)
    return z


class EnsembleTest(unittest.TestCase):
    ens = None

    def tearDown(self):
        if self.ens is not None:
            self.ens.stop()
            self.ens = None
        self.assertEqual(harness._server_failures, [])

    def running(self):
        return [m for m in self.ens.members if m.proc is not None and m.proc.poll() is None]

    def test_three_members(self):
        self.ens = harness.PaddockEnsemble(tick_ms=200, extra={"maxClientCnxns": "0"})
        ens = self.ens
        # one member alone: not serving, as a ZooKeeper 3.8 member that is not
        lone = ens.members[0]
        lone.launch()
        def imok():
            try:
                return harness.four_letter(lone.port, "ruok") == "imok"
            except OSError:
                return False
        self.assertTrue(harness.wait_until(imok, 10))
        self.assertEqual(harness.four_letter(lone.port, "srvr"),
                         "This ZooKeeper instance is not currently serving requests\n")
        self.assertEqual(harness.four_letter(lone.port, "isro"), "null")
        for m in ens.members[1:]:
            m.launch()
        leader = ens.wait_settled(timeout=30)
        self.assertEqual(leader.sid, 3)  # equal (empty) histories: the highest sid
        modes = sorted(ens.mode(m) for m in ens.members)
        self.assertEqual(modes, ["follower", "follower", "leader"])
        for m in ens.members:
            out = subprocess.run([harness.PADDOCK_BIN, "status", os.path.join(m.dir, "zoo.cfg")],
                                 capture_output=True, text=True, timeout=10).stdout
            self.assertIn("Mode: %s" % ens.mode(m), out)
            self.assertEqual(epoch_file(m, "acceptedEpoch"), 1)
            self.assertEqual(epoch_file(m, "currentEpoch"), 1)
        lm = mntr(leader.port)
        self.assertEqual(lm["zk_server_state"], "leader")
        self.assertEqual(lm["zk_synced_followers"], "2")
        self.assertEqual(mntr(ens.members[0].port)["zk_server_state"], "follower")
        self.assertNotIn("zk_synced_followers", mntr(ens.members[0].port))

        # kazoo on every member: writes anywhere, own writes seen in order at once
        zs = [client(m.hosts) for m in ens.members]
        try:
            for i, z in enumerate(zs):
                for k in range(20):
                    z.create("/m%d-%02d" % (i, k), b"%d" % k)
                    self.assertEqual(z.get("/m%d-%02d" % (i, k))[0], b"%d" % k)
                z.set("/m%d-00" % i, b"again")
                self.assertEqual(z.get("/m%d-00" % i)[0], b"again")
            for z in zs:
                z.sync("/")
                self.assertEqual(len([c for c in z.get_children("/") if c.startswith("m")]), 60)

            # the founding story, masters on two different followers
            followers = [m for m in ens.members if ens.mode(m) == "follower"]
            a = client(followers[0].hosts)
            b = client(followers[1].hosts)
            watcher = zs[2]
            a.ensure_path("/election")
            pa = a.create("/election/master-", b"a", ephemeral=True, sequence=True)
            pb = b.create("/election/master-", b"b", ephemeral=True, sequence=True)
            self.assertLess(pa, pb)
            watcher.sync("/")
            self.assertEqual(min(watcher.get_children("/election")), pa.rsplit("/", 1)[1])
            a.stop()  # the active master dies: its node goes with its session
            a.close()
            self.assertTrue(harness.wait_until(lambda: b.get_children("/election") == [pb.rsplit("/", 1)[1]], 10))
            a = client(followers[0].hosts)
            pa2 = a.create("/election/master-", b"a", ephemeral=True, sequence=True)
            self.assertGreater(pa2, pb)  # it comes back as standby
            b.sync("/")
            self.assertEqual(min(b.get_children("/election")), pb.rsplit("/", 1)[1])
            a.stop()
            a.close()
            b.stop()
            b.close()
        finally:
            for z in zs:
                z.stop()
                z.close()

        # kill -9 of the leader under write load
        acked, errors, stop = [], [], threading.Event()
        first_after = {}
        killed_at = [None]

        def writer():
            z = KazooClient(hosts=",".join(m.hosts for m in ens.members), timeout=4.0)
            z.start(timeout=30)
            z.ensure_path("/load")
            i = 0
            while not stop.is_set():
                path = "/load/n-%05d" % i
                i += 1
                issued = time.time()
                try:
                    z.create(path, b"x")
                except KazooException as exc:
                    errors.append(repr(exc))
                    time.sleep(0.05)
                    continue
                except KazooTimeoutError as exc:
                    errors.append(repr(exc))
                    continue
                acked.append(path)
                # the failover ends with the first write issued after the kill and answered
                if killed_at[0] is not None and issued > killed_at[0] and "t" not in first_after:
                    first_after["t"] = time.time() - killed_at[0]
            z.stop()
            z.close()

        t = threading.Thread(target=writer)
        t.start()
        try:
            self.assertTrue(harness.wait_until(lambda: len(acked) >= 200, 30))
            old = ens.leader()
            old_epoch = epoch_file(old, "currentEpoch")
            killed_at[0] = time.time()
            old.kill()  # kill -9
            self.assertTrue(harness.wait_until(lambda: "t" in first_after, 60), errors[-5:])
            n = len(acked)
            self.assertTrue(harness.wait_until(lambda: len(acked) >= n + 100, 30))
        finally:
            stop.set()
            t.join(timeout=60)
        print("# failover: %.3f s from kill -9 of the leader to the next acknowledged write "
              "(%d writes acknowledged, %d failed during the failover)" % (first_after["t"], len(acked), len(errors)),
              file=sys.stderr)
        rest = self.running()
        new_leader = ens.wait_settled(rest, timeout=30)
        self.assertNotEqual(new_leader.sid, old.sid)
        self.assertGreater(epoch_file(new_leader, "currentEpoch"), old_epoch)
        for m in rest:
            z = client(m.hosts)
            z.sync("/")
            have = set("/load/" + c for c in z.get_children("/load"))
            z.stop()
            z.close()
            self.assertEqual([p for p in acked if p not in have], [], "member %d lost writes" % m.sid)

        # the old leader returns and is caught up by DIFF
        diffs = int(mntr(new_leader.port)["zk_paddock_syncs_diff"])
        old.launch()
        ens.wait_settled(timeout=30)
        self.assertEqual(ens.mode(old), "follower")
        self.assertGreater(int(mntr(new_leader.port)["zk_paddock_syncs_diff"]), diffs)
        z = client(old.hosts)
        z.sync("/")
        have = set("/load/" + c for c in z.get_children("/load"))
        self.assertEqual([p for p in acked if p not in have], [])
        z.stop()
        z.close()

        # a member that missed more than the committed log holds: SNAP
        lagger = [m for m in ens.members if m is not new_leader][0]
        lagger.kill(signal.SIGTERM)
        snaps = int(mntr(new_leader.port)["zk_paddock_syncs_snap"])
        z = client(new_leader.hosts)
        z.ensure_path("/bulk")
        for i in range(700):
            z.create_async("/bulk/b-%04d" % i, b"y")
        z.sync("/")
        self.assertEqual(len(z.get_children("/bulk")), 700)
        z.stop()
        z.close()
        lagger.launch()
        ens.wait_settled(timeout=30)
        self.assertGreater(int(mntr(new_leader.port)["zk_paddock_syncs_snap"]), snaps)
        z = client(lagger.hosts)
        z.sync("/")
        self.assertEqual(len(z.get_children("/bulk")), 700)
        z.stop()
        z.close()
        self.assertIn("a snapshot at", lagger.log())

    def test_truncate_uncommitted(self):
        """A leader logs a txn its (stopped, then killed) followers never read, and dies:
        after the others come back and move on to a new epoch, it is truncated (TRUNC) and
        the txn is gone everywhere."""
        self.ens = harness.PaddockEnsemble(tick_ms=500)
        ens = self.ens
        ens.start()
        leader = ens.leader()
        followers = [m for m in ens.members if m is not leader]
        z = client(leader.hosts, timeout=10.0)
        z.create("/committed", b"1")
        for f in followers:
            # stopped: their links stay up, so the leader keeps leading for syncLimit, but
            # what it sends waits unread in their sockets
            os.kill(f.proc.pid, signal.SIGSTOP)
        z.create_async("/uncommitted", b"2")  # logged by the leader alone, never committed
        time.sleep(0.5)
        leader.kill()  # kill -9
        for f in followers:
            f.kill()  # kill -9 (a stopped process dies too): the proposal dies unread
        z.stop()
        z.close()
        for f in followers:
            f.launch()
        ens.wait_settled(followers, timeout=30)  # epoch 2, without the txn
        leader.launch()
        new_leader = ens.wait_settled(timeout=30)
        self.assertNotEqual(new_leader.sid, leader.sid)
        stats = mntr(new_leader.port)
        self.assertEqual(stats["zk_paddock_syncs_trunc"], "1", leader.log())
        self.assertIn("TRUNC to", leader.log())
        for m in ens.members:
            c = client(m.hosts)
            c.sync("/")
            self.assertTrue(c.exists("/committed"))
            self.assertIsNone(c.exists("/uncommitted"), "member %d" % m.sid)
            c.stop()
            c.close()

    def test_wiped_member_does_not_vote(self):
        """A write committed by the leader and one follower; both die and the follower's disk is
        replaced by an empty one.  The wiped member and the member that missed the write must
        not elect a leader between them (the write would be lost); once the old leader is back
        the write is there on every member."""
        self.ens = harness.PaddockEnsemble(tick_ms=200)
        ens = self.ens
        leader = ens.start().leader()
        f1, f2 = [m for m in ens.members if m is not leader]
        f2.kill()  # kill -9: it misses what follows
        z = client(leader.hosts)
        z.create("/w", b"committed by the leader and f1")
        z.stop()
        z.close()
        leader.kill()
        f1.kill()
        shutil.rmtree(os.path.join(f1.data_dir, "paddock"))  # a new, empty disk (myid kept)
        f1.launch()
        f2.launch()
        self.assertTrue(harness.wait_until(lambda: "the data directory is empty" in f1.log(), 10))
        time.sleep(3)  # time enough to elect, were the wiped member allowed to vote
        self.assertEqual([ens.mode(m) for m in (f1, f2)], [None, None])
        leader.launch()
        ens.wait_settled(timeout=30)
        for m in ens.members:
            c = client(m.hosts)
            c.sync("/")
            self.assertEqual(c.get("/w")[0], b"committed by the leader and f1", "member %d" % m.sid)
            c.stop()
            c.close()

    def test_five_members_with_an_observer(self):
        self.ens = harness.PaddockEnsemble(tick_ms=200, size=5, observers=1)
        ens = self.ens
        leader = ens.start().leader()
        modes = sorted(ens.mode(m) for m in ens.members)
        self.assertEqual(modes, ["follower", "follower", "follower", "leader", "observer"])
        self.assertEqual(mntr(leader.port)["zk_synced_observers"], "1")
        zs = [client(m.hosts) for m in ens.members]
        try:
            for i, z in enumerate(zs):
                z.create("/five-%d" % i, b"%d" % i)
            for z in zs:
                z.sync("/")
                self.assertEqual(len([c for c in z.get_children("/") if c.startswith("five-")]), 5)
        finally:
            for z in zs:
                z.stop()
                z.close()
        leader.kill()
        rest = self.running()
        new_leader = ens.wait_settled(rest, timeout=30)
        self.assertNotEqual(new_leader.sid, leader.sid)
        z = client(",".join(m.hosts for m in rest))
        z.create("/after", b"1")
        z.stop()
        z.close()
        for m in rest:
            c = client(m.hosts)
            c.sync("/")
            self.assertEqual(len([x for x in c.get_children("/") if x.startswith("five-") or x == "after"]), 6)
            c.stop()
            c.close()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
