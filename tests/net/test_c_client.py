#!/usr/bin/python3
"""Real-client test: the ZooKeeper C client (libzookeeper-mt).

1. c_client_smoke (tests/net/c_client_smoke.c, built by CMake and passed as the first
   argument; when run standalone without an argument it is compiled into a temporary
   directory with cc) does create/ls/get/set/delete and more with asserts.  It talks
   through a TCP proxy that this driver cuts once, to check that the C client gets its
   session and its data watch back (SetWatches) after a reconnect.  Afterwards kazoo
   checks the tree the smoke program left behind (ephemerals gone after its clean close).
2. Debian's cli_mt (the C client's shell) fed on stdin: create / ls / get / set /
   delete, cross-checked with kazoo.

Server flavour from PD_TEST_SERVER: "paddock" (default) or "zookeeper".
Run: /usr/bin/python3 tests/net/test_c_client.py [path/to/c_client_smoke]
"""
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, HERE)
import harness  # noqa: E402
from test_zkcli import TcpProxy  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402

SERVER_KIND = os.environ.get("PD_TEST_SERVER", "paddock")
CLI_MT = os.environ.get("PD_CLI_MT", "/usr/lib/zookeeper/bin/cli_mt")
SMOKE_BIN = None  # set in __main__
logging.basicConfig(level=logging.CRITICAL)


def build_smoke(tmpdir):
    out = os.path.join(tmpdir, "c_client_smoke")
    cmd = ["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wshadow",
           "-Wstrict-prototypes", "-Wmissing-prototypes", "-O1", "-o", out,
           os.path.join(HERE, "c_client_smoke.c"), "-lzookeeper_mt", "-lpthread"]
    subprocess.run(cmd, check=True)
    return out


class LineReader:
    def __init__(self, proc):
        self.proc = proc
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def expect(self, *needles, timeout=15.0):
        """Consumes lines until the needles were seen in order (substring match;
        a needle starting with "^" must equal the whole line after stripping)."""
        pending = list(needles)
        deadline = time.time() + timeout
        while pending:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                line = "<timeout>"
            if line is None:
                line = "<process exited %s>" % self.proc.poll()
            self.seen.append(line)
            if line.startswith("<"):
                raise AssertionError("still waiting for %r; output so far:\n%s"
                                     % (pending, "\n".join(self.seen[-60:])))
            n = pending[0]
            if (line.strip() == n[1:]) if n.startswith("^") else (n in line):
                pending.pop(0)

    def rest(self, timeout=20.0):
        deadline = time.time() + timeout
        while True:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return self.seen
            if line is None:
                return self.seen
            self.seen.append(line)


class CClientTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.server_class(SERVER_KIND)().start()
        print("# %s server on %s" % (SERVER_KIND, cls.server.hosts), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.zk = KazooClient(hosts=self.server.hosts, timeout=10.0)
        self.zk.start(timeout=15)
        self.procs = []
        self.proxy = None

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        if self.proxy:
            self.proxy.close()
        self.zk.stop()
        self.zk.close()

    def test_smoke_program(self):
        base = "/csmoke"
        self.proxy = TcpProxy(self.server.port)
        proc = subprocess.Popen([SMOKE_BIN, self.proxy.hosts, base, "--reconnect"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.procs.append(proc)
        out = LineReader(proc)
        try:
            out.expect("READY-FOR-CUT", timeout=60)
            self.proxy.cut()
            self.zk.set(base + "/rc", b"changed")   # while the C client is disconnected
            time.sleep(1.0)
            self.proxy.resume()
            proc.stdin.write("go\n")
            proc.stdin.flush()
            out.expect("ok: watch re-registered after reconnect", "ok: same session",
                       "PASS c_client_smoke", timeout=40)
        finally:
            lines = out.rest(5)
            print("\n".join("    | " + l for l in lines), file=sys.stderr)
        proc.wait(20)
        self.assertEqual(proc.returncode, 0)
        self.assertFalse([l for l in lines if l.startswith("FAIL")])
        self.assertGreaterEqual(self.proxy.accepted, 3, "main handle, second handle, reconnect")
        # what the program left behind, seen by another client
        self.assertEqual(sorted(self.zk.get_children(base)), ["c2", "kept", "rc"],
                         "ephemerals removed when the C client closed its session")
        data, st = self.zk.get(base + "/kept")
        self.assertEqual((data, st.version, st.aversion), (b"k2", 1, 1))
        self.assertEqual(self.zk.get(base)[0], b"w")

    @unittest.skipUnless(os.access(CLI_MT, os.X_OK), "cli_mt not installed")
    def test_cli_mt(self):
        self.zk.create("/cm-pre", b"from-kazoo")
        proc = subprocess.Popen([CLI_MT, "-h", self.server.hosts], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.procs.append(proc)
        out = LineReader(proc)

        def run(cmd, *needles):
            proc.stdin.write(cmd + "\n")
            proc.stdin.flush()
            if needles:
                out.expect(*needles)

        try:
            out.expect("state = CONNECTED_STATE")
            run("create /cm", "[/cm]: rc = 0", "name = /cm")
            self.assertEqual(self.zk.get("/cm")[0], b"new", "cli_mt creates with data 'new'")
            run("create +s /cm/s-", "[/cm/s-]: rc = 0", "name = /cm/s-0000000000")
            run("create +e /cm/e", "[/cm/e]: rc = 0", "name = /cm/e")
            run("ls /cm", "/cm: rc = 0", "^e")
            self.assertEqual(sorted(self.zk.get_children("/cm")), ["e", "s-0000000000"])
            run("get /cm-pre", "/cm-pre: rc = 0", "value_len = 10", "^from-kazoo", "version=0")
            run("set /cm world", "/cm: rc = 0", "version=1")
            self.assertEqual(self.zk.get("/cm")[0], b"world")
            run("get /cm", "/cm: rc = 0", "value_len = 5", "^world")
            run("delete /cm/s-0000000000", "/cm/s-0000000000: rc = 0")
            run("delete /cm/nope", "/cm/nope: rc = -101")
            run("create /cm", "[/cm]: rc = -110")
            run("ls /cm", "/cm: rc = 0", "^e")
            run("quit")
            proc.wait(15)
        finally:
            print("\n".join("    | " + l for l in out.rest(2)), file=sys.stderr)
        self.assertIsNone(self.zk.exists("/cm/s-0000000000"))
        self.assertTrue(harness.wait_until(lambda: self.zk.exists("/cm/e") is None, 5),
                        "cli_mt's ephemeral is gone after it quit")
        self.assertEqual(self.zk.get_children("/cm"), [])


class CliMtBatchTest(CClientTest):
    """cli_mt -c CMD: one command per process (its batch mode)."""
    test_smoke_program = None
    test_cli_mt = None

    @unittest.skipUnless(os.access(CLI_MT, os.X_OK), "cli_mt not installed")
    def test_cli_mt_batch(self):
        def batch(cmd, *needles):
            r = subprocess.run([CLI_MT, "-h", self.server.hosts, "-c", cmd], capture_output=True, text=True,
                               timeout=30)
            out = (r.stdout + r.stderr).splitlines()
            print("# cli_mt -c %r -> rc %d" % (cmd, r.returncode), file=sys.stderr)
            pos = 0
            for n in needles:
                while pos < len(out) and not ((out[pos].strip() == n[1:]) if n.startswith("^") else n in out[pos]):
                    pos += 1
                self.assertLess(pos, len(out), "cli_mt -c %r: %r not in output:\n%s" % (cmd, n, "\n".join(out)))
            return out

        batch("create /cmb", "[/cmb]: rc = 0", "name = /cmb")
        batch("set /cmb batch", "/cmb: rc = 0", "version=1")
        self.assertEqual(self.zk.get("/cmb")[0], b"batch")
        batch("get /cmb", "/cmb: rc = 0", "value_len = 5", "^batch")
        batch("ls /", "/: rc = 0", "^cmb")
        batch("delete /cmb", "/cmb: rc = 0")
        self.assertIsNone(self.zk.exists("/cmb"))
        batch("get /cmb", "/cmb: rc = -101")



install_signal_cleanup = harness.install_signal_cleanup


if __name__ == "__main__":
    print("# server flavour: %s" % SERVER_KIND, file=sys.stderr)
    tmp = None
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        SMOKE_BIN = os.path.abspath(sys.argv.pop(1))
    else:
        tmp = tempfile.mkdtemp(prefix="pd-csmoke-")
    install_signal_cleanup(lambda: tmp and shutil.rmtree(tmp, ignore_errors=True))
    try:
        if tmp:
            SMOKE_BIN = build_smoke(tmp)
        prog = unittest.main(verbosity=2, exit=False, warnings="ignore")
    finally:
        for srv in list(harness._live):
            srv.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
