"""pytest plugin: run kazoo's own (unmodified) test suite against ONE standalone server.

Loaded by tests/net/run_kazoo_suite.py with `-p pd_kazoo_plugin` (this folder on
PYTHONPATH).  It replaces kazoo.testing.harness.get_global_cluster, which would build a
3-node Java ZooKeeper cluster from ZOOKEEPER_* variables, with a one-server "cluster"
that starts either paddock or Apache ZooKeeper 3.8 (Debian package) through
tests/net/harness.py, on a free 127.0.0.1 port, in a temp dir removed at exit.

Environment (set by run_kazoo_suite.py):
  PD_KAZOO_SERVER     paddock | zookeeper
  PD_KAZOO_RESULTS    file that receives one "<outcome> <nodeid>" line per test
  PD_KAZOO_TIMEOUT    per-test timeout in seconds (0 = none), enforced with SIGALRM
  PD_HARNESS_DIR      folder of harness.py (tests/net)

Both servers get what kazoo's harness gives the Java server for ZooKeeper >= 3.5:
4lw.commands.whitelist=*, reconfigEnabled=true, superDigest super:D/InIHSb7yEEbrWz8b9l71RjZJU=
(password "test"), tickTime=2000, maxClientCnxns=0, the SASL auth provider and a JAAS file
whose Server section has user_super="super_secret" user_jaasuser="jaas_password" (kazoo
writes it only when ZOOKEEPER_JAAS_AUTH=digest, i.e. for test_sasl.py; configuring it always
does not change what the other tests see).
"""
import os
import signal
import sys
import threading

import pytest

sys.path.insert(0, os.environ.get("PD_HARNESS_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import harness  # noqa: E402  (tests/net/harness.py)

SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
JAAS = """
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};
"""


class _KazooZooKeeperServer(harness.ZooKeeperServer):
    """The Java server with the two JVM flags kazoo's own harness adds: UTF-8 as the
    default charset (digest auth of non-ASCII credentials) and readonlymode.enabled."""

    def command(self, cfg_path):
        cmd = super().command(cfg_path)
        i = cmd.index("org.apache.zookeeper.server.quorum.QuorumPeerMain")
        return cmd[:i] + ["-Dfile.encoding=UTF-8", "-Dreadonlymode.enabled=true"] + cmd[i:]


class ManagedServer(object):
    """What kazoo's tests use of ManagedZooKeeper: address, host, client_port, running,
    run(), stop() (keeps the data), reset(), destroy()."""

    def __init__(self, kind):
        cls = _KazooZooKeeperServer if kind == "zookeeper" else harness.server_class(kind)
        self.kind = kind
        self.srv = cls(extra={}, tick_ms=2000, keep_dir=True)
        jaas_path = os.path.join(self.srv.dir, "jaas.conf")
        with open(jaas_path, "w") as f:
            f.write(JAAS)
        self.srv.extra.update({
            "maxClientCnxns": "0",
            "reconfigEnabled": "true",
            "4lw.commands.whitelist": "*",
            "DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
            "authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
            "java.security.auth.login.config": jaas_path,
        })
        self.host = "127.0.0.1"
        self.working_path = self.srv.dir
        self._running = False

    @property
    def client_port(self):
        return self.srv.port

    @property
    def address(self):
        return "%s:%s" % (self.host, self.client_port)

    @property
    def running(self):
        return self._running

    def run(self):
        if self._running:
            return
        self.srv.start(timeout=60)
        self._running = True

    def stop(self):
        if not self._running:
            return
        self.srv.kill(signal.SIGTERM)
        if self.srv in harness._live:
            harness._live.remove(self.srv)
        self._running = False

    def reset(self):
        import shutil
        self.stop()
        shutil.rmtree(self.srv.data_dir, True)
        os.makedirs(self.srv.data_dir)

    def destroy(self):
        self._running = False
        self.srv.keep_dir = False
        self.srv.stop()


class SingleServerCluster(object):
    def __init__(self, kind):
        self._servers = [ManagedServer(kind)]

    def __getitem__(self, k):
        return self._servers[k]

    def __iter__(self):
        return iter(self._servers)

    def __len__(self):
        return len(self._servers)

    def start(self):
        for s in self._servers:
            s.run()

    def stop(self):
        for s in self._servers:
            s.stop()

    def terminate(self):
        for s in self._servers:
            s.destroy()

    def reset(self):
        for s in self._servers:
            s.reset()


_CLUSTER = None


def get_global_cluster():
    global _CLUSTER
    if _CLUSTER is None:
        _CLUSTER = SingleServerCluster(os.environ.get("PD_KAZOO_SERVER", "paddock"))
    return _CLUSTER


def pytest_configure(config):
    import kazoo.testing.harness as kh
    kh.get_global_cluster = get_global_cluster
    try:
        import kazoo.testing as kt
        if hasattr(kt, "get_global_cluster"):
            kt.get_global_cluster = get_global_cluster
    except ImportError:
        pass


def pytest_unconfigure(config):
    global _CLUSTER
    if _CLUSTER is not None:
        _CLUSTER.terminate()
        _CLUSTER = None


# ---- results ------------------------------------------------------------------------

_outcomes = {}


def pytest_runtest_logreport(report):
    prev = _outcomes.get(report.nodeid)
    if report.when == "setup":
        if report.skipped:
            _outcomes[report.nodeid] = "skipped"
        elif report.failed:
            _outcomes[report.nodeid] = "error"
        else:
            _outcomes[report.nodeid] = "passed"
    elif report.when == "call":
        if report.failed:
            _outcomes[report.nodeid] = "failed"
        elif report.skipped:
            _outcomes[report.nodeid] = "skipped"
        elif prev in (None, "passed"):
            _outcomes[report.nodeid] = "passed"
    elif report.when == "teardown":
        if report.failed and prev in (None, "passed"):
            _outcomes[report.nodeid] = "error"


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("PD_KAZOO_RESULTS")
    if not path:
        return
    with open(path, "w") as f:
        for nodeid in sorted(_outcomes):
            f.write("%s %s\n" % (_outcomes[nodeid], nodeid))


# ---- per-test timeout (no pytest-timeout in Debian's python3-pytest set) ------------

class PerTestTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise PerTestTimeout("test exceeded PD_KAZOO_TIMEOUT=%ss" % os.environ.get("PD_KAZOO_TIMEOUT"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    t = int(os.environ.get("PD_KAZOO_TIMEOUT", "0") or 0)
    if t > 0 and threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(t)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    else:
        yield
