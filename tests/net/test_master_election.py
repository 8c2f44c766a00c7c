#!/usr/bin/python3
"""The founding story: master election among separate processes.

Each worker is a real separate process (this script run with --worker) with its own
KazooClient.  It registers an EPHEMERAL_SEQUENTIAL node /election/master-, the lowest
number is master, every standby watches its predecessor (exists watch) and takes over
when that node goes.  The driver checks, step by step:

  1. A, B, C register on a fresh parent: master-0000000000/1/2 (ZooKeeper starts a
     fresh parent's sequence at 0); A is master, B and C are standby.
  2. A is SIGKILLed: its node stays until the session times out (4 s, tickTime 2000),
     then B (watching A's node) becomes master; C stays standby.
  3. A restarts and re-registers: it gets the next number, master-0000000003, and
     stays standby.
  4. B closes its session cleanly: its node disappears at once and C becomes master
     well before any session timeout could have elapsed.
  5. C closes cleanly: the re-registered A becomes master; finally A closes and the
     parent is empty.

Server flavour from PD_TEST_SERVER: "paddock" (default) or "zookeeper".
Run: /usr/bin/python3 tests/net/test_master_election.py
"""
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ELECTION = "/election"
SESSION_TIMEOUT_S = 4.0
TICK_MS = 2000


# --- worker process ---------------------------------------------------------------
def worker_main(hosts, label):
    from kazoo.client import KazooClient
    logging.basicConfig(level=logging.CRITICAL)

    def out(msg):
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()

    zk = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S)
    zk.start(timeout=15)
    zk.ensure_path(ELECTION)
    me = zk.create(ELECTION + "/master-", label.encode(), ephemeral=True, sequence=True)
    name = me.rsplit("/", 1)[1]
    out("REGISTERED %s %d" % (name, zk.client_id[0]))
    wake = threading.Event()
    quit_flag = threading.Event()

    def evaluate():
        while True:
            kids = sorted(zk.get_children(ELECTION))
            if name not in kids:
                out("LOST %s" % name)
                return "lost"
            idx = kids.index(name)
            if idx == 0:
                out("MASTER %s" % name)
                return "master"
            pred = kids[idx - 1]
            if zk.exists(ELECTION + "/" + pred, watch=lambda _ev: wake.set()) is not None:
                out("STANDBY %s watching %s" % (name, pred))
                return "standby"
            # predecessor vanished between the two reads: look again

    def stdin_reader():
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        quit_flag.set()       # "quit" or the driver went away (EOF)
        wake.set()

    threading.Thread(target=stdin_reader, daemon=True).start()
    state = evaluate()
    while True:
        wake.wait()
        wake.clear()
        if quit_flag.is_set():
            zk.stop()
            zk.close()
            out("CLOSED %s" % name)
            return 0
        if state == "standby":
            state = evaluate()


# --- driver -----------------------------------------------------------------------
class Worker:
    def __init__(self, hosts, label):
        self.label = label
        self.lines = queue.Queue()
        self.history = []
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", hosts, label],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix, timeout):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            try:
                line = self.lines.get(timeout=max(0.01, left))
            except queue.Empty:
                line = "<timeout>"
            if line is None:
                line = "<exit %s>" % self.proc.poll()
            self.history.append(line)
            if line.startswith(prefix):
                return line.split()
            if line.startswith("<") or time.time() >= deadline:
                raise AssertionError("worker %s: expected %r within %.1fs, got %r (history %r)"
                                     % (self.label, prefix, timeout, line, self.history))

    def assert_silent(self, seconds):
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError("worker %s: unexpected output %r (history %r)" % (self.label, line, self.history))

    def quit(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def cleanup(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def step(msg):
    print("[step] " + msg, flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    print("  ok: " + msg, flush=True)


def run(server):
    from kazoo.client import KazooClient
    hosts = server.hosts
    workers = []
    observer = KazooClient(hosts=hosts, timeout=10.0)
    observer.start(timeout=15)

    def spawn(label):
        w = Worker(hosts, label)
        workers.append(w)
        return w

    def children():
        return sorted(observer.get_children(ELECTION))

    try:
        step("1. three processes register on a fresh parent")
        a = spawn("A")
        _, a_name, a_sid = a.expect("REGISTERED", 20)
        check(a_name == "master-0000000000", "first registration is master-0000000000 (got %s)" % a_name)
        a.expect("MASTER master-0000000000", 10)
        check(True, "A is master")
        b = spawn("B")
        _, b_name, b_sid = b.expect("REGISTERED", 20)
        check(b_name == "master-0000000001", "second registration is master-0000000001 (got %s)" % b_name)
        b.expect("STANDBY master-0000000001 watching master-0000000000", 10)
        check(True, "B is standby watching A's node")
        c = spawn("C")
        _, c_name, _c_sid = c.expect("REGISTERED", 20)
        check(c_name == "master-0000000002", "third registration is master-0000000002 (got %s)" % c_name)
        c.expect("STANDBY master-0000000002 watching master-0000000001", 10)
        check(True, "C is standby watching B's node")
        check(children() == ["master-0000000000", "master-0000000001", "master-0000000002"],
              "parent lists the three nodes")
        st = observer.exists(ELECTION + "/" + a_name)
        check(st is not None and st.ephemeralOwner == int(a_sid), "A's node is owned by A's session")
        check(observer.get(ELECTION + "/" + b_name)[0] == b"B", "node data is the worker label")

        step("2. SIGKILL the master: the standby takes over after the session timeout")
        a.kill()
        killed_at = time.time()
        check(observer.exists(ELECTION + "/" + a_name) is not None,
              "A's ephemeral node survives the kill until its session expires")
        b.assert_silent(1.0)
        check(True, "B stays standby during the first second after the kill")
        b.expect("MASTER master-0000000001", SESSION_TIMEOUT_S + TICK_MS / 1000.0 + 6)
        took = time.time() - killed_at
        check(took >= 1.0, "B became master %.2fs after the kill (session timeout %.0fs)"
              % (took, SESSION_TIMEOUT_S))
        check(observer.exists(ELECTION + "/" + a_name) is None, "A's node is gone")
        check(children() == ["master-0000000001", "master-0000000002"], "two nodes left")
        c.assert_silent(0.5)
        check(True, "C is still standby (its predecessor B is alive)")

        step("3. the killed process restarts and re-registers")
        a2 = spawn("A2")
        _, a2_name, _ = a2.expect("REGISTERED", 20)
        check(a2_name == "master-0000000003", "re-registration gets the next number (got %s)" % a2_name)
        a2.expect("STANDBY master-0000000003 watching master-0000000002", 10)
        check(True, "A2 stays standby")
        b.assert_silent(0.3)
        check(children() == ["master-0000000001", "master-0000000002", "master-0000000003"], "three nodes")

        step("4. the master closes its session cleanly: immediate failover")
        closed_at = time.time()
        b.quit()
        b.expect("CLOSED", 10)
        c.expect("MASTER master-0000000002", 10)
        took = time.time() - closed_at
        check(took < SESSION_TIMEOUT_S * 0.75,
              "C became master %.2fs after B's clean close (no session-timeout wait)" % took)
        check(observer.exists(ELECTION + "/" + b_name) is None, "B's node is gone")
        a2.assert_silent(0.3)
        check(True, "A2 still standby")

        step("5. C closes: the re-registered process becomes master; then it closes too")
        c.quit()
        c.expect("CLOSED", 10)
        a2.expect("MASTER master-0000000003", 10)
        check(children() == ["master-0000000003"], "only A2's node remains")
        a2.quit()
        a2.expect("CLOSED", 10)
        check(wait_empty(observer), "parent empty after the last process closed")
        return 0
    finally:
        for w in workers:
            w.cleanup()
        observer.stop()
        observer.close()


def wait_empty(zk, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if zk.get_children(ELECTION) == []:
            return True
        time.sleep(0.05)
    return False


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        return worker_main(sys.argv[2], sys.argv[3])
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import harness
    logging.basicConfig(level=logging.CRITICAL)
    kind = os.environ.get("PD_TEST_SERVER", "paddock")
    print("# server flavour: %s" % kind, flush=True)
    server = harness.server_class(kind)(tick_ms=TICK_MS).start()
    print("# %s on %s" % (kind, server.hosts), flush=True)
    try:
        run(server)
        print("PASS test_master_election")
        return 0
    except AssertionError as e:
        print("FAIL test_master_election: %s" % e, flush=True)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
