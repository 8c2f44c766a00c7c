"""Test harness for real-socket tests: start paddock or Apache ZooKeeper on 127.0.0.1.

Every server is started by the test that needs it, on a free port, in a fresh
temporary directory.  Servers are stopped by PID and their directories removed
when the test ends, also when it fails or is interrupted (atexit + SIGTERM/SIGINT
handlers).  Nothing here touches an address other than 127.0.0.1.

Usage:
    from harness import PaddockServer, ZooKeeperServer, free_port
    with PaddockServer() as srv:          # srv.hosts == "127.0.0.1:PORT"
        ...
    with ZooKeeperServer(extra={"extendedTypesEnabled": "true"}) as zk:
        ...
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("PADDOCK_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
BUILD_DIR = os.environ.get("PADDOCK_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
PADDOCK_BIN = os.environ.get("PADDOCK_BIN", os.path.join(BUILD_DIR, "paddock"))

ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_CONF_DIR = "/etc/zookeeper/conf_example"

_live = []  # servers to stop at exit
_server_failures = []  # paddock servers that did not exit cleanly (sanitizer reports, crashes)


def _cleanup_all(*_args):
    for srv in list(_live):
        try:
            srv.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    if _server_failures:
        sys.stderr.write("\n".join(_server_failures) + "\n")
        sys.stderr.flush()
        os._exit(1)


def _on_signal(signum, _frame):
    _cleanup_all()
    sys.exit(128 + signum)


atexit.register(_cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


def _die_with_parent():
    """In the child before exec: get SIGKILL if the test process dies, so a server
    started here never outlives a test that CTest killed on timeout."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort
        pass


def install_signal_cleanup(*extra_cleanups):
    """SIGTERM/SIGINT/SIGHUP: stop the servers, run extra cleanups and exit at once.
    (harness.py's own handler raises SystemExit, which unittest would record as a test
    error before carrying on with the next test.)  Child processes started by the tests
    read stdin and exit when it closes with us."""
    def handler(signum, _frame):
        for srv in list(_live):
            try:
                srv.stop()
            except Exception:  # noqa: BLE001
                pass
        for fn in extra_cleanups:
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port, word, timeout=5.0):
    """Sends a four-letter word and returns the whole answer as str."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode() if isinstance(word, str) else word)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode(errors="replace")


def srvr_zxid(port):
    """The Zxid line of the srvr four-letter word."""
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Zxid: "):
            return int(line[6:], 16)
    raise AssertionError("no Zxid line")


def wait_until(pred, timeout=10.0):
    """Polls pred every 50 ms; returns its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class _Server:
    kind = "?"

    def __init__(self, extra=None, tick_ms=2000, port=None, keep_dir=False):
        self.extra = dict(extra or {})
        self.tick_ms = tick_ms
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="pd-%s-" % self.kind)
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self.proc = None
        self.keep_dir = keep_dir
        self.log_path = os.path.join(self.dir, "server.log")

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def config_lines(self):
        lines = {
            "tickTime": str(self.tick_ms),
            "dataDir": self.data_dir,
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "4lw.commands.whitelist": "*",
        }
        lines.update(self.extra)
        return lines

    def write_config(self):
        path = os.path.join(self.dir, "zoo.cfg")
        with open(path, "w") as f:
            for k, v in self.config_lines().items():
                f.write("%s=%s\n" % (k, v))
        return path

    def command(self, cfg_path):
        raise NotImplementedError

    def launch(self):
        """Starts the process without waiting for it to serve."""
        cfg = self.write_config()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(cfg), stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        log.close()
        if self not in _live:
            _live.append(self)

    def start(self, timeout=30.0):
        self.launch()
        return self.wait_serving(timeout)

    def wait_serving(self, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.kind, self.proc.returncode, self.log()))
            try:
                if four_letter(self.port, "srvr", timeout=1.0).startswith("Zookeeper version"):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("%s did not start within %.0fs:\n%s" % (self.kind, timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def kill(self, sig=signal.SIGKILL):
        """Kills the server process (by PID) without removing its directory."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def stop(self):
        was_running = self.proc is not None and self.proc.poll() is None
        self.kill(signal.SIGTERM)
        self.check_exit(was_running)
        if self in _live:
            _live.remove(self)
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def check_exit(self, was_running):
        """Hook: record a server that did not shut down cleanly."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class PaddockServer(_Server):
    kind = "paddock"

    def check_exit(self, was_running):
        # A paddock stopped by SIGTERM exits 0; a sanitizer report (ASan, UBSan, LSan at
        # exit) or a crash shows in its exit status or its log: fail the whole test run.
        log = self.log()
        bad = [m for m in ("Sanitizer", "runtime error:", "Assertion", "assertion") if m in log]
        rc = self.proc.returncode if self.proc is not None else 0
        if bad or (was_running and rc not in (0, None)) or (not was_running and rc not in (0, -9, None)):
            _server_failures.append("paddock server in %s exited with %s:\n%s" % (self.dir, rc, log))

    def command(self, cfg_path):
        return [PADDOCK_BIN, "server", cfg_path]


class ZooKeeperServer(_Server):
    """Apache ZooKeeper 3.8 from Debian's zookeeper package, forceSync=no."""
    kind = "zookeeper"

    def config_lines(self):
        lines = super().config_lines()
        lines.setdefault("admin.enableServer", "false")
        lines.setdefault("forceSync", "no")
        return lines

    def command(self, cfg_path):
        java_props = ["-Dzookeeper.log.dir=" + self.dir, "-Dzookeeper.root.logger=WARN,CONSOLE",
                      "-Xmx1g"]
        for k, v in self.extra.items():
            if k in ("extendedTypesEnabled", "DigestAuthenticationProvider.superDigest"):
                java_props.append("-Dzookeeper.%s=%s" % (k, v))
            if k == "znode.container.checkIntervalMs":
                java_props.append("-Dznode.container.checkIntervalMs=%s" % v)
            if k == "java.security.auth.login.config":
                java_props.append("-Djava.security.auth.login.config=%s" % v)
        return ["java", "-cp", "%s:%s" % (ZK_CONF_DIR, ZK_JAR)] + java_props + [
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg_path]


class PaddockEnsemble:
    member_cls = PaddockServer
    """A paddock ensemble of `size` members on 127.0.0.1 (zoo.cfg with server.N lines and
    dataDir/myid, as an operator writes them), presented with the interface of one server so
    that the standalone tests run against it unchanged: `port` is a follower's client port,
    and `hosts` that follower alone (kind "paddock-follower") or every member (kind
    "paddock-ensemble").  Every process is stopped by PID and every directory removed."""
    kind = "paddock-follower"

    def __init__(self, extra=None, tick_ms=2000, port=None, keep_dir=False, size=3, observers=0):
        self.extra = dict(extra or {})
        self.tick_ms = tick_ms
        self.keep_dir = keep_dir
        ports = set([port] if port else [])
        while len(ports) < 3 * size:  # distinct: a port handed out twice would not bind
            ports.add(free_port())
        ports = sorted(ports - set([port] if port else []))
        lines = {}
        for i in range(1, size + 1):
            lines["server.%d" % i] = "127.0.0.1:%d:%d%s" % (ports[2 * i - 2], ports[2 * i - 1],
                                                            ":observer" if i > size - observers else "")
        self.members = []
        for i in range(1, size + 1):
            ex = {"initLimit": "10", "syncLimit": "5"}
            ex.update(self.extra)
            ex.update(lines)
            m = self.member_cls(extra=ex, tick_ms=tick_ms,
                                port=port if (i == 1 and port) else ports[2 * size + i - 1], keep_dir=keep_dir)
            m.sid = i
            with open(os.path.join(m.data_dir, "myid"), "w") as f:
                f.write("%d\n" % i)
            self.members.append(m)
        self.target = self.members[0]

    @property
    def port(self):
        return self.target.port

    @property
    def dir(self):
        return self.target.dir

    @property
    def data_dir(self):
        return self.target.data_dir

    @property
    def proc(self):
        return self.target.proc

    @property
    def hosts(self):
        if self.kind == "paddock-ensemble":
            return ",".join(m.hosts for m in self.members)
        return self.target.hosts

    def mode(self, m):
        try:
            for line in four_letter(m.port, "srvr", timeout=1.0).splitlines():
                if line.startswith("Mode: "):
                    return line[6:]
        except OSError:
            pass
        return None

    def leader(self):
        for m in self.members:
            if m.proc is not None and m.proc.poll() is None and self.mode(m) == "leader":
                return m
        return None

    def wait_settled(self, members=None, timeout=60.0):
        """Waits until the running members serve: one leader, the rest follow (or observe)."""
        members = members or [m for m in self.members if m.proc is not None and m.proc.poll() is None]
        deadline = time.time() + timeout
        modes = []
        while time.time() < deadline:
            for m in members:
                if m.proc.poll() is not None:
                    raise RuntimeError("member %d exited:\n%s" % (m.sid, m.log()))
            modes = [self.mode(m) for m in members]
            if modes.count("leader") == 1 and all(x in ("leader", "follower", "observer") for x in modes):
                return members[modes.index("leader")]
            time.sleep(0.1)
        raise RuntimeError("the ensemble did not settle within %.0fs: %s\n%s" % (
            timeout, modes, "\n".join("--- member %d\n%s" % (m.sid, m.log()) for m in members)))

    def start(self, timeout=60.0):
        for m in self.members:
            m.launch()
        self.wait_settled(timeout=timeout)
        followers = [m for m in self.members if self.mode(m) == "follower"]
        self.target = followers[0] if followers else self.members[0]
        return self

    def log(self):
        return "\n".join("--- member %d\n%s" % (m.sid, m.log()) for m in self.members)

    def kill(self, sig=signal.SIGKILL):
        for m in self.members:
            m.kill(sig)

    def stop(self):
        for m in self.members:
            m.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class PaddockEnsembleAll(PaddockEnsemble):
    kind = "paddock-ensemble"


class ZooKeeperEnsemble(PaddockEnsemble):
    """The same with Apache ZooKeeper 3.8 members (differential tests against a follower)."""
    kind = "zookeeper-follower"
    member_cls = ZooKeeperServer


def server_class(kind):
    return {"paddock": PaddockServer, "zookeeper": ZooKeeperServer, "paddock-follower": PaddockEnsemble,
            "paddock-ensemble": PaddockEnsembleAll, "zookeeper-follower": ZooKeeperEnsemble}[kind]
