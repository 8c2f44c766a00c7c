"""Issue 5 in progress: a 3-server paddock ensemble of real processes on 127.0.0.1, started
from zoo.cfg + myid files as an operator writes them (with paddock.ensemblePreview=true, since
the ensemble does not serve clients yet: its members answer four-letter words as a ZooKeeper
member that is not serving does).  The servers elect a leader over their election
ports, establish its epoch over the quorum ports (acceptedEpoch and currentEpoch persisted in
their files), and after a kill -9 of the leader the two others elect a new leader of a higher
epoch; the old leader comes back and follows it.  Free ports, temporary directories, and every
process stopped by PID, also on failure."""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROLE = re.compile(r"role (\w+) leader (\d+) epoch (\d+) (established|not established)")


class Member:
    def __init__(self, sid, root, lines):
        self.sid = sid
        self.dir = os.path.join(root, "s%d" % sid)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write("%d\n" % sid)
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        self.port = harness.free_port()
        with open(self.cfg, "w") as f:
            f.write("tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=%s\n4lw.commands.whitelist=*\n" % self.data)
            f.write("clientPort=%d\nclientPortAddress=127.0.0.1\npaddock.ensemblePreview=true\n" % self.port)
            f.write(lines)
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([harness.PADDOCK_BIN, "server", self.cfg], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=harness._die_with_parent)
        log.close()

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def role(self):
        """The last role line: (role, leader, epoch, established)."""
        found = ROLE.findall(self.log())
        if not found:
            return None
        r, leader, epoch, est = found[-1]
        return r, int(leader), int(epoch), est == "established"

    def epoch_file(self, name):
        try:
            with open(os.path.join(self.data, "paddock", name)) as f:
                return int(f.read())
        except FileNotFoundError:
            return None


class EnsembleElectionTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pd-ensemble-")
        lines = "".join("server.%d=127.0.0.1:%d:%d\n" % (i, harness.free_port(), harness.free_port()) for i in (1, 2, 3))
        self.members = [Member(i, self.root, lines) for i in (1, 2, 3)]

    def tearDown(self):
        for m in self.members:
            m.kill(signal.SIGTERM)
        bad = [m.log() for m in self.members if any(x in m.log() for x in ("Sanitizer", "runtime error:", "ssertion"))]
        shutil.rmtree(self.root, ignore_errors=True)
        self.assertEqual(bad, [])

    def wait_settled(self, members, timeout=30.0):
        """Waits until every member runs and follows one established leader of one epoch."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            roles = [m.role() for m in members]
            for m in members:
                self.assertIsNone(m.proc.poll(), "server %d exited:\n%s" % (m.sid, m.log()[-3000:]))
            if all(r is not None and r[3] for r in roles) and len({(r[1], r[2]) for r in roles}) == 1:
                leading = [m for m, r in zip(members, roles) if r[0] == "LEADING"]
                if len(leading) == 1 and leading[0].sid == roles[0][1]:
                    return leading[0], roles[0][2]
            time.sleep(0.1)
        self.fail("no settled ensemble within %.0f s: %s" % (timeout, [m.role() for m in members]))

    def test_elect_fail_over_and_rejoin(self):
        for m in self.members:
            m.start()
        leader, epoch = self.wait_settled(self.members)
        self.assertEqual(leader.sid, 3)  # equal (empty) histories: the highest sid
        self.assertEqual(epoch, 1)
        for m in self.members:  # every member promised the epoch, on disk
            self.assertEqual(m.epoch_file("acceptedEpoch"), 1)
        self.assertEqual(leader.epoch_file("currentEpoch"), 1)
        # not serving yet (no sync): four-letter words answered as ZooKeeper 3.8 answers
        # them on a member that is not serving, and no session
        for m in self.members:
            self.assertEqual(harness.four_letter(m.port, "ruok"), "imok")
            self.assertEqual(harness.four_letter(m.port, "srvr"),
                             "This ZooKeeper instance is not currently serving requests\n")
            self.assertEqual(harness.four_letter(m.port, "isro"), "null")
            self.assertTrue(harness.four_letter(m.port, "envi").startswith("Environment:"))
            # a session is refused: the connection closes without a ConnectResponse
            body = struct.pack(">iqiqi16s?", 0, 0, 30000, 0, 16, b"\0" * 16, False)
            with socket.create_connection(("127.0.0.1", m.port), timeout=5) as sock:
                sock.sendall(struct.pack(">i", len(body)) + body)
                self.assertEqual(sock.recv(100), b"")

        leader.kill()  # kill -9
        rest = [m for m in self.members if m is not leader]
        new_leader, new_epoch = self.wait_settled(rest)
        self.assertEqual(new_leader.sid, 2)
        self.assertGreater(new_epoch, epoch)
        for m in rest:
            self.assertEqual(m.epoch_file("acceptedEpoch"), new_epoch)

        leader.start()  # the old leader returns, reads its epoch files, and follows
        again, again_epoch = self.wait_settled(self.members)
        self.assertEqual((again.sid, again_epoch), (2, new_epoch))
        self.assertEqual(leader.role()[0], "FOLLOWING")
        self.assertEqual(leader.epoch_file("acceptedEpoch"), new_epoch)


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
