#!/usr/bin/python3
"""Real-client test: the Java zkCli.sh from Debian's zookeeper package.

1. one-shot invocations (`zkCli.sh -server 127.0.0.1:PORT create /zkcli hello`, `get`),
   cross-checked with kazoo;
2. one batch session fed on stdin, command by command: create (plain, -e, -s), ls,
   ls -s, get, get -s, set, set -v (stale), stat, delete (ok / missing / not empty),
   getAcl/setAcl, getAllChildrenNumber, sync; after the CLI quits its ephemeral node
   must be gone;
3. watches through a TCP proxy that the test cuts: get -w, ls -w, stat -w (exists) and
   addWatch (persistent recursive).  Changes made while the CLI is disconnected must
   be reported after it reconnects (the Java client re-registers watches with
   SetWatches/SetWatches2 and the server compares zxids), and the persistent watch must
   still work after the reconnect.

Server flavour from PD_TEST_SERVER: "paddock" (default) or "zookeeper".
Run: /usr/bin/python3 tests/net/test_zkcli.py
"""
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.security import Permissions  # noqa: E402

SERVER_KIND = os.environ.get("PD_TEST_SERVER", "paddock")
ZKCLI = os.environ.get("PD_ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
logging.basicConfig(level=logging.CRITICAL)


def cli_env():
    env = dict(os.environ)
    # keep the JVM small and its log quiet; zkEnv.sh reads these
    env.setdefault("CLIENT_JVMFLAGS", "-Xmx256m -Dzookeeper.root.logger=ERROR,CONSOLE")
    env.setdefault("ZOO_LOG_DIR", "/tmp")
    return env


class TcpProxy:
    """A 127.0.0.1 TCP proxy the test can cut: cut() closes every proxied connection and
    refuses new ones (accept + close) until resume()."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.paused = False
        self.closed = False
        self.conns = []
        self.lock = threading.Lock()
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.paused or self.closed:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    client.close()
                    continue
                self.accepted += 1
                self.conns.extend([client, upstream])
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.paused = True
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def resume(self):
        with self.lock:
            self.paused = False

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


class Cli:
    """An interactive zkCli.sh fed on stdin; output (stdout+stderr) read line by line."""

    def __init__(self, hosts):
        self.proc = subprocess.Popen([ZKCLI, "-server", hosts], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, env=cli_env(), start_new_session=True)
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def expect(self, *needles, timeout=15.0, ordered=True):
        """Consumes output until every needle was seen as a substring of a line
        (a needle starting with "^" must equal the whole line)."""

        def hit(needle, line):
            return line == needle[1:] if needle.startswith("^") else needle in line

        pending = list(needles)
        deadline = time.time() + timeout
        while pending:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                line = "<timeout>"
            if line is None:
                line = "<zkCli exited %s>" % self.proc.poll()
            self.seen.append(line)
            if line.startswith("<"):
                recent = [l for l in self.seen if l.strip() and l != "WATCHER::"][-25:]
                raise AssertionError("zkCli: still waiting for %r; recent output:\n%s"
                                     % (pending, "\n".join(recent)))
            if ordered:
                if hit(pending[0], line):
                    pending.pop(0)
            else:
                for n in pending:
                    if hit(n, line):
                        pending.remove(n)
                        break
        return True

    def run(self, cmd, *needles, timeout=15.0):
        self.send(cmd)
        if needles:
            self.expect(*needles, timeout=timeout)

    def drain(self, seconds=0.3):
        out = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            out.append(line)
        self.seen.extend(out)
        return out

    def quit(self):
        try:
            self.send("quit")
        except OSError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class ZkCliTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        if not os.access(ZKCLI, os.X_OK):
            raise unittest.SkipTest("%s not installed" % ZKCLI)
        cls.server = harness.server_class(SERVER_KIND)().start()
        print("# %s server on %s" % (SERVER_KIND, cls.server.hosts), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.zk = KazooClient(hosts=self.server.hosts, timeout=10.0)
        self.zk.start(timeout=15)
        self.clis = []
        self.proxy = None

    def tearDown(self):
        for cli in self.clis:
            cli.kill()
        if self.proxy:
            self.proxy.close()
        self.zk.stop()
        self.zk.close()

    def cli(self, hosts=None):
        c = Cli(hosts or self.server.hosts)
        self.clis.append(c)
        c.expect("SyncConnected type:None")
        return c

    def oneshot(self, *args):
        r = subprocess.run([ZKCLI, "-server", self.server.hosts] + list(args), capture_output=True,
                           text=True, timeout=60, env=cli_env())
        out = r.stdout + r.stderr
        print("# zkCli %s -> rc %d" % (" ".join(args), r.returncode), file=sys.stderr)
        return r.returncode, out

    def test_1_oneshot_commands(self):
        rc, out = self.oneshot("create", "/zkcli1", "hello")
        self.assertIn("Created /zkcli1", out)
        self.assertEqual(self.zk.get("/zkcli1")[0], b"hello", "kazoo sees what zkCli created")
        self.zk.set("/zkcli1", b"from-kazoo")
        rc, out = self.oneshot("get", "/zkcli1")
        self.assertIn("from-kazoo", out.splitlines(), "zkCli reads what kazoo wrote:\n" + out)
        rc, out = self.oneshot("delete", "/zkcli1")
        self.assertIsNone(self.zk.exists("/zkcli1"))

    def test_2_batch_session(self):
        self.zk.create("/zkcli", b"hello")
        c = self.cli()
        c.run("ls /zkcli", "^[]")
        c.run("create /zkcli/child1 c1", "Created /zkcli/child1")
        c.run("create -e /zkcli/eph e", "Created /zkcli/eph")
        c.run("create -s /zkcli/seq- s", "Created /zkcli/seq-0000000002")
        c.run("ls /zkcli", "^[child1, eph, seq-0000000002]")
        c.run("get /zkcli", "^hello")
        c.run("set /zkcli world")
        c.run("get -s /zkcli", "^world", "cZxid = 0x", "dataVersion = 1", "^ephemeralOwner = 0x0",
              "^dataLength = 5", "^numChildren = 3")
        c.run("set -v 0 /zkcli stale", "version No is not valid : /zkcli")
        sid = self.zk.exists("/zkcli/eph").ephemeralOwner
        self.assertNotEqual(sid, 0)
        c.run("stat /zkcli/eph", "^ephemeralOwner = 0x%x" % sid, "^dataLength = 1")
        c.run("delete /zkcli/child1")
        c.run("delete /zkcli/child1", "Node does not exist: /zkcli/child1")
        c.run("delete /zkcli", "Node not empty: /zkcli")
        c.run("ls -s /zkcli", "^[eph, seq-0000000002]", "^numChildren = 2")
        c.run("create /zkcli/eph x", "Node already exists: /zkcli/eph")
        c.run("getAcl /zkcli", "^'world,'anyone", "^: cdrwa")
        c.run("setAcl /zkcli world:anyone:r")
        c.run("getAcl /zkcli", "^'world,'anyone", "^: r")
        c.run("getAllChildrenNumber /zkcli", "^2")
        c.run("sync /zkcli", "Sync is OK")
        c.run("set /zkcli denied", "Insufficient permission : /zkcli")
        c.run("ls /", "zkcli")
        c.quit()
        self.assertEqual(c.proc.returncode is not None, True)
        self.assertIsNone(self.zk.exists("/zkcli/eph"), "the CLI's session ended: ephemeral gone")
        self.assertIsNone(self.zk.exists("/zkcli/child1"))
        data, st = self.zk.get("/zkcli")
        self.assertEqual((data, st.version), (b"world", 1))
        acl, _ = self.zk.get_acls("/zkcli")
        self.assertEqual([a.perms for a in acl], [Permissions.READ])
        self.assertEqual(self.zk.get_children("/zkcli"), ["seq-0000000002"])

    def test_3_watches_across_reconnect(self):
        zk = self.zk
        zk.create("/zkw", b"v0")
        zk.create("/zkp")
        self.proxy = TcpProxy(self.server.port)
        c = self.cli(self.proxy.hosts)
        c.run("get -w /zkw", "^v0")
        c.run("ls -w /zkw", "^[]")
        c.run("stat -w /zkmissing", "Node does not exist: /zkmissing")
        c.run("addWatch /zkp")                     # default mode: PERSISTENT_RECURSIVE
        c.run("ls /zkp", "^[]")
        zk.create("/zkp/a")
        c.expect("type:NodeCreated path:/zkp/a")
        zk.set("/zkp/a", b"x")
        c.expect("type:NodeDataChanged path:/zkp/a")

        self.proxy.cut()
        c.expect("state:Disconnected")
        zk.set("/zkw", b"v1")                      # all three one-shot watches trigger now
        zk.create("/zkw/k")
        zk.create("/zkmissing")
        time.sleep(0.5)
        self.proxy.resume()
        c.expect("type:NodeDataChanged path:/zkw", "type:NodeChildrenChanged path:/zkw",
                 "type:NodeCreated path:/zkmissing", ordered=False, timeout=20)
        settled = c.drain(1.5)
        self.assertFalse([l for l in settled if "state:Disconnected" in l],
                         "the CLI's connection must stay up after the reconnect (a bad reply to its "
                         "SetWatches/SetWatches2 request makes the Java client drop it): %r"
                         % [l for l in settled if l.strip() and l != "WATCHER::"])
        zk.create("/zkp/after")
        c.expect("type:NodeCreated path:/zkp/after")  # persistent watch re-registered
        zk.set("/zkw", b"v2")                       # one-shot watches are spent
        zk.create("/zkp/after/deep")
        c.expect("type:NodeCreated path:/zkp/after/deep")
        later = c.drain(0.5)
        self.assertFalse([l for l in later if "path:/zkw" in l],
                         "one-shot watch must not fire twice: %r" % later)
        self.assertGreaterEqual(self.proxy.accepted, 2, "the CLI really reconnected")
        c.run("removewatches /zkp", "type:PersistentWatchRemoved path:/zkp")
        zk.create("/zkp/gone")
        c.run("ls /zkp", "^[a, after, gone]")
        c.quit()
        self.assertFalse([l for l in c.seen if "path:/zkp/gone" in l], "removed watch stays removed")


install_signal_cleanup = harness.install_signal_cleanup


if __name__ == "__main__":
    print("# server flavour: %s" % SERVER_KIND, file=sys.stderr)
    install_signal_cleanup()
    prog = unittest.main(verbosity=2, exit=False, warnings="ignore")
    for srv in list(harness._live):
        srv.stop()
    sys.exit(0 if prog.result.wasSuccessful() else 1)
