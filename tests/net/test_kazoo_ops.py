#!/usr/bin/python3
"""Real-client test: kazoo (Debian python3-kazoo 2.8) exercising every client operation.

Starts its own server on 127.0.0.1 through harness.py.  The flavour comes from
PD_TEST_SERVER: "paddock" (default) or "zookeeper" (Apache ZooKeeper 3.8, used to
validate the expectations written here).

Covers: create in every mode (persistent, ephemeral, sequential, ephemeral-sequential,
makepath, include_data), path validation, sequence numbering, get/set/delete/exists with
versions, large/binary data, pipelined requests (FIFO order), get_children
(+include_data, parent stat bookkeeping), getACL/setACL with versions, digest/ip/auth ACL
schemes and enforcement (NoAuthError, InvalidACLError), add_auth failure, super digest
user, one-shot data/exists/child watches (counted on the wire), DataWatch/ChildrenWatch,
persistent and persistent-recursive watches, removeWatches, containers, TTL nodes,
getEphemerals and getAllChildrenNumber (kazoo 2.8 has no API for these, so they are sent
as raw packets through kazoo's own connection), multi/transactions (commit and
rollback), sync, session close / expiry after SIGKILL / reconnect with the same session
/ session taken over and closed by a second connection / wrong session password,
session-timeout negotiation, maxClientCnxns, the 1 MiB packet limit, and four-letter
words.  (kazoo 2.8 does not send SetWatches after a reconnect; test_zkcli.py and
test_c_client.py cover that.)

Run: /usr/bin/python3 tests/net/test_kazoo_ops.py   (PD_TEST_SERVER=zookeeper to validate)
"""
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest
from collections import namedtuple

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.protocol.states import EventType, KazooState  # noqa: E402
from kazoo.protocol.serialization import Connect, Create, Create2, Watch, int_struct, read_string, write_string  # noqa: E402
from kazoo.protocol.connection import _CONNECTION_DROP  # noqa: E402
from kazoo.recipe.watchers import ChildrenWatch, DataWatch  # noqa: E402
from kazoo.security import (ACL, Id, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Permissions,  # noqa: E402
                            make_acl, make_digest_acl, make_digest_acl_credential)
import kazoo.exceptions as ke  # noqa: E402

SERVER_KIND = os.environ.get("PD_TEST_SERVER", "paddock")
# the Mode the four-letter words report: an ensemble's tests talk to a follower
MODE = "follower" if SERVER_KIND.startswith("paddock-") else "standalone"
SUPER_PASSWORD = "s3cret-super"
TICK_MS = 500          # short ticks so that session expiry is quick
EXPIRY_TIMEOUT_S = 3.0  # session timeout used by the SIGKILL expiry test
CONTAINER_CHECK_MS = 300  # container/TTL reaper interval

logging.basicConfig(level=logging.DEBUG if os.environ.get("PD_TEST_DEBUG") else logging.CRITICAL,
                    format="%(asctime)s %(threadName)s %(name)s %(message)s")


# --- raw requests kazoo 2.8 does not offer -----------------------------------------
class NoWatcherError(ke.ZookeeperError):
    """ZooKeeper error -121 (NOWATCHER); unknown to kazoo 2.8."""


# kazoo's reader thread dies on error codes it does not know; teach it this one.
ke.EXCEPTIONS[-121] = NoWatcherError
NoWatcherError.code = -121


class AddWatch(namedtuple("AddWatch", "path mode")):
    """OpCode.addWatch (106); mode 0 = PERSISTENT, 1 = PERSISTENT_RECURSIVE."""
    type = 106

    def serialize(self):
        return bytearray(write_string(self.path)) + int_struct.pack(self.mode)

    @classmethod
    def deserialize(cls, _bytes, _offset):
        return True


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    """OpCode.removeWatches (18); watcher_type 1 = Children, 2 = Data, 3 = Any."""
    type = 18

    def serialize(self):
        return bytearray(write_string(self.path)) + int_struct.pack(self.watcher_type)

    @classmethod
    def deserialize(cls, _bytes, _offset):
        return True


class CreateContainer(Create2):
    """OpCode.createContainer (19): body and response as create2, flags 4 (CONTAINER)."""
    type = 19


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """OpCode.createTTL (21): create2 body plus a long ttl; flags 5 or 6 (TTL modes)."""
    type = 21

    def serialize(self):
        return Create2(self.path, self.data, self.acl, self.flags).serialize() + struct.pack("!q", self.ttl)

    deserialize = Create2.deserialize


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    """OpCode.getEphemerals (103): the session's ephemeral paths starting with prefix."""
    type = 103

    def serialize(self):
        return bytearray(write_string(self.prefix))

    @classmethod
    def deserialize(cls, buf, offset):
        count = int_struct.unpack_from(buf, offset)[0]
        offset += int_struct.size
        paths = []
        for _ in range(max(count, 0)):
            path, offset = read_string(buf, offset)
            paths.append(path)
        return paths


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    """OpCode.getAllChildrenNumber (104): number of descendants of path."""
    type = 104

    def serialize(self):
        return bytearray(write_string(self.path))

    @classmethod
    def deserialize(cls, buf, offset):
        return int_struct.unpack_from(buf, offset)[0]


def raw_call(client, request, timeout=10):
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=timeout)


def record_wire_events(client):
    """Returns a list that receives (type, path) of every watch event the server sends."""
    events = []
    conn = client._connection
    original = conn._read_watch_event

    def recorder(buffer, offset):
        watch, _ = Watch.deserialize(buffer, offset)
        events.append((watch.type, watch.path))
        return original(buffer, offset)

    conn._read_watch_event = recorder
    return events


CREATED, DELETED, CHANGED, CHILD = 1, 2, 3, 4


# --- helpers ---------------------------------------------------------------------
def wait_until(pred, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class EventBox:
    """Thread-safe collector for watch callbacks."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def __call__(self, *args):
        ev = args[0] if len(args) == 1 else None
        if getattr(ev, "type", None) == EventType.NONE:
            return  # kazoo also tells watchers about connection state changes; ignore
        with self.cond:
            self.items.append(args[0] if len(args) == 1 else args)
            self.cond.notify_all()

    def wait_count(self, n, timeout=10.0):
        deadline = time.time() + timeout
        with self.cond:
            while len(self.items) < n:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.items)


class Base(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        if Base.server is None:
            extra = {
                "DigestAuthenticationProvider.superDigest":
                    make_digest_acl_credential("super", SUPER_PASSWORD),
                "maxClientCnxns": "0",
                "extendedTypesEnabled": "true",
                "znode.container.checkIntervalMs": str(CONTAINER_CHECK_MS),
            }
            Base.server = harness.server_class(SERVER_KIND)(extra=extra, tick_ms=TICK_MS).start()
            print("# %s server on %s (dir %s)" % (SERVER_KIND, Base.server.hosts, Base.server.dir),
                  file=sys.stderr)

    def setUp(self):
        self.clients = []
        self.procs = []
        self.root = "/" + self.id().split(".")[-1]
        self.zk = self.client()
        self.zk.ensure_path(self.root)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass

    def client(self, start=True, **kw):
        kw.setdefault("timeout", 10.0)
        c = KazooClient(hosts=self.server.hosts, **kw)
        self.clients.append(c)
        if start:
            c.start(timeout=15)
        return c

    def p(self, *parts):
        return "/".join((self.root,) + parts)


# --- create ------------------------------------------------------------------------
class CreateTest(Base):
    def test_create_modes(self):
        zk = self.zk
        sid = zk.client_id[0]
        path = zk.create(self.p("persistent"), b"v1")
        self.assertEqual(path, self.p("persistent"))
        data, st = zk.get(path)
        self.assertEqual(data, b"v1")
        self.assertEqual(st.ephemeralOwner, 0)
        self.assertEqual((st.version, st.cversion, st.aversion, st.numChildren), (0, 0, 0, 0))
        self.assertEqual(st.dataLength, 2)
        self.assertEqual(st.czxid, st.mzxid)
        self.assertEqual(st.czxid, st.pzxid)
        self.assertEqual(st.ctime, st.mtime)
        self.assertLess(abs(st.ctime / 1000.0 - time.time()), 60, "ctime is epoch milliseconds")

        e = zk.create(self.p("ephemeral"), b"e", ephemeral=True)
        self.assertEqual(zk.exists(e).ephemeralOwner, sid)

        s = zk.create(self.p("seq-"), b"s", sequence=True)
        self.assertRegex(s, r"/seq-\d{10}$")
        es = zk.create(self.p("eseq-"), ephemeral=True, sequence=True)
        self.assertRegex(es, r"/eseq-\d{10}$")
        self.assertEqual(zk.exists(es).ephemeralOwner, sid)
        self.assertEqual(int(es[-10:]), int(s[-10:]) + 1, "one sequence counter per parent")

        deep = zk.create(self.p("a", "b", "c"), b"deep", makepath=True)
        self.assertEqual(zk.get(deep)[0], b"deep")
        self.assertIsNotNone(zk.exists(self.p("a", "b")))

        path2, st2 = zk.create(self.p("withstat"), b"xyz", include_data=True)
        self.assertEqual(path2, self.p("withstat"))
        self.assertEqual(st2.dataLength, 3)
        self.assertEqual(st2, zk.exists(path2))

    def test_create_errors(self):
        zk = self.zk
        zk.create(self.p("x"))
        with self.assertRaises(ke.NodeExistsError):
            zk.create(self.p("x"))
        with self.assertRaises(ke.NoNodeError):
            zk.create(self.p("missing", "child"))
        e = zk.create(self.p("eph"), ephemeral=True)
        with self.assertRaises(ke.NoChildrenForEphemeralsError):
            zk.create(e + "/child")
        # kazoo normalises paths itself, so malformed ones go out as raw Create packets
        for bad in (self.root + "/", self.p(".."), self.p("."), "noslash", self.p("nul\x00byte")):
            with self.subTest(path=bad):
                with self.assertRaises(ke.BadArgumentsError):
                    raw_call(zk, Create(bad, b"", list(OPEN_ACL_UNSAFE), 0))
        # ZooKeeper looks the parent up before it validates the whole path, so a
        # malformed path whose "parent" does not exist yields NoNode, not BadArguments.
        for bad in (self.p("dou") + "//ble", self.p("missing", "trailing") + "/"):
            with self.subTest(path=bad):
                with self.assertRaises(ke.NoNodeError):
                    raw_call(zk, Create(bad, b"", list(OPEN_ACL_UNSAFE), 0))
        self.assertEqual(raw_call(zk, Create(self.p("ok"), b"", list(OPEN_ACL_UNSAFE), 0)), self.p("ok"))
        with self.assertRaises(ke.NodeExistsError):
            zk.create("/")

    def test_sequence_numbering(self):
        zk = self.zk
        parent = zk.create(self.p("seq"))
        self.assertEqual(zk.create(parent + "/n-", sequence=True), parent + "/n-0000000000",
                         "fresh parent starts counting at 0")
        zk.create(parent + "/plain")
        self.assertEqual(zk.create(parent + "/n-", sequence=True), parent + "/n-0000000002",
                         "non-sequential creates advance the counter too")
        zk.delete(parent + "/plain")
        # The counter counts child creations only; deletes do not advance it although
        # they do bump the visible cversion (ZooKeeper reports cversion as
        # 2*creations - numChildren).
        st = zk.exists(parent)
        self.assertEqual((st.cversion, st.numChildren), (4, 2))
        self.assertEqual(zk.create(parent + "/m-", sequence=True, ephemeral=True),
                         parent + "/m-0000000003", "deletes must not advance the counter")
        zk.create(parent + "/o-", sequence=True)  # 4
        self.assertEqual(zk.create(parent + "/", sequence=True), parent + "/0000000005")


# --- get / set / delete / exists -------------------------------------------------
class DataTest(Base):
    def test_get_set_versions(self):
        zk = self.zk
        path = zk.create(self.p("node"), b"a")
        st0 = zk.exists(path)
        st1 = zk.set(path, b"bb", version=0)
        self.assertEqual(st1.version, 1)
        self.assertEqual(st1.dataLength, 2)
        self.assertEqual(st1.czxid, st0.czxid)
        self.assertGreater(st1.mzxid, st0.mzxid)
        self.assertEqual(st1.pzxid, st0.pzxid, "setData does not touch pzxid")
        self.assertGreaterEqual(st1.mtime, st0.mtime)
        self.assertEqual(st1.ctime, st0.ctime)
        with self.assertRaises(ke.BadVersionError):
            zk.set(path, b"c", version=0)
        with self.assertRaises(ke.BadVersionError):
            zk.set(path, b"c", version=7)
        st2 = zk.set(path, b"ccc", version=-1)
        self.assertEqual(st2.version, 2)
        data, st = zk.get(path)
        self.assertEqual((data, st), (b"ccc", st2))
        zk.set(path, b"")
        data, st = zk.get(path)
        self.assertEqual((data, st.dataLength, st.version), (b"", 0, 3))
        with self.assertRaises(ke.NoNodeError):
            zk.set(self.p("missing"), b"x")
        with self.assertRaises(ke.NoNodeError):
            zk.get(self.p("missing"))

    def test_binary_and_large_data(self):
        zk = self.zk
        blob = bytes(range(256)) * 2048  # 512 KiB incl. NULs and high bytes
        path = zk.create(self.p("big"), blob)
        data, st = zk.get(path)
        self.assertEqual(st.dataLength, len(blob))
        self.assertTrue(data == blob, "large binary payload round-trips")
        unicode_path = zk.create(self.p("ünï-çødé"), "värde".encode())
        self.assertIn("ünï-çødé", zk.get_children(self.root))
        self.assertEqual(zk.get(unicode_path)[0], "värde".encode())

    def test_pipelined_requests_fifo(self):
        zk = self.zk
        base = zk.create(self.p("pipe"))
        n = 400
        creates = [zk.create_async("%s/n%04d" % (base, i), b"x") for i in range(n)]
        self.assertEqual([a.get(timeout=30) for a in creates], ["%s/n%04d" % (base, i) for i in range(n)])
        stats = [zk.exists_async("%s/n%04d" % (base, i)) for i in range(n)]
        czxids = [a.get(timeout=30).czxid for a in stats]
        self.assertEqual(czxids, sorted(set(czxids)), "pipelined writes applied in submission order")
        sets = [zk.set_async(base, str(i).encode(), version=i) for i in range(200)]
        self.assertEqual([a.get(timeout=30).version for a in sets], list(range(1, 201)),
                         "each versioned set saw the previous one")
        pairs = [(zk.set_async(base, b"v%d" % i), zk.get_async(base)) for i in range(100)]
        for i, (w, r) in enumerate(pairs):
            w.get(timeout=30)
            self.assertEqual(r.get(timeout=30)[0], b"v%d" % i, "a read sees the client's preceding write")
        kids, st = zk.get_children(base, include_data=True)
        self.assertEqual((len(kids), st.numChildren), (n, n))

    def test_delete_versions(self):
        zk = self.zk
        path = zk.create(self.p("d"), b"x")
        zk.set(path, b"y")
        with self.assertRaises(ke.BadVersionError):
            zk.delete(path, version=0)
        zk.delete(path, version=1)
        self.assertIsNone(zk.exists(path))
        with self.assertRaises(ke.NoNodeError):
            zk.delete(path)
        parent = zk.create(self.p("parent"))
        zk.create(parent + "/kid")
        with self.assertRaises(ke.NotEmptyError):
            zk.delete(parent)
        zk.delete(parent, recursive=True)
        self.assertIsNone(zk.exists(parent))
        with self.assertRaises(ke.BadArgumentsError):
            zk.delete("/")

    def test_exists(self):
        zk = self.zk
        self.assertIsNone(zk.exists(self.p("nope")))
        path = zk.create(self.p("yes"), b"12345")
        st = zk.exists(path)
        self.assertIsNotNone(st)
        self.assertEqual(st.dataLength, 5)
        self.assertIsNotNone(zk.exists("/"))
        self.assertIsNotNone(zk.exists("/zookeeper"), "/zookeeper system node exists")

    def test_get_children(self):
        zk = self.zk
        parent = zk.create(self.p("p"))
        st_parent0 = zk.exists(parent)
        names = ["c%d" % i for i in range(12)]
        for n in names:
            zk.create(parent + "/" + n, n.encode())
        zk.create(parent + "/c0/grandchild")
        self.assertEqual(sorted(zk.get_children(parent)), sorted(names))
        kids, st = zk.get_children(parent, include_data=True)
        self.assertEqual(sorted(kids), sorted(names))
        self.assertEqual(st.numChildren, 12)
        self.assertEqual(st.cversion, 12)
        self.assertEqual(st.version, 0)
        self.assertEqual(st.czxid, st_parent0.czxid)
        last = zk.exists(parent + "/c11")
        self.assertEqual(st.pzxid, last.czxid, "pzxid is the zxid of the last child change")
        zk.delete(parent + "/c5")
        kids, st2 = zk.get_children(parent, include_data=True)
        self.assertNotIn("c5", kids)
        self.assertEqual(st2.numChildren, 11)
        self.assertEqual(st2.cversion, 13)
        self.assertGreater(st2.pzxid, st.pzxid)
        self.assertEqual(zk.get_children(parent + "/c1"), [])
        self.assertIn("zookeeper", zk.get_children("/"))
        with self.assertRaises(ke.NoNodeError):
            zk.get_children(self.p("missing"))


# --- ACLs and auth -------------------------------------------------------------------
class AclTest(Base):
    def test_get_set_acl(self):
        zk = self.zk
        path = zk.create(self.p("n"))
        acl, st = zk.get_acls(path)
        self.assertEqual(acl, list(OPEN_ACL_UNSAFE))
        self.assertEqual(st.aversion, 0)
        with self.assertRaises(ke.BadVersionError):
            zk.set_acls(path, list(READ_ACL_UNSAFE), version=3)
        st1 = zk.set_acls(path, list(READ_ACL_UNSAFE), version=0)
        self.assertEqual(st1.aversion, 1)
        acl, st = zk.get_acls(path)
        self.assertEqual(acl, [ACL(Permissions.READ, Id("world", "anyone"))])
        self.assertEqual(st.aversion, 1)
        with self.assertRaises(ke.NoAuthError):
            zk.set(path, b"x")
        with self.assertRaises(ke.NoAuthError):
            zk.set_acls(path, list(OPEN_ACL_UNSAFE))
        self.assertEqual(zk.get(path)[0], b"")
        with self.assertRaises(ke.NoAuthError):
            zk.create(path + "/child")
        with self.assertRaises(ke.NoNodeError):
            zk.get_acls(self.p("missing"))

    def test_digest_acl_enforced(self):
        owner = self.client()
        owner.add_auth("digest", "alice:pw1")
        other = self.zk
        path = owner.create(self.p("secret"), b"hidden", acl=[make_digest_acl("alice", "pw1", all=True)])
        acl, _ = owner.get_acls(path)
        self.assertEqual(acl, [ACL(Permissions.ALL, Id("digest", make_digest_acl_credential("alice", "pw1")))])
        self.assertEqual(owner.get(path)[0], b"hidden")
        for name, op in (("get", lambda: other.get(path)),
                         ("set", lambda: other.set(path, b"x")),
                         ("getACL", lambda: other.get_acls(path)),
                         ("setACL", lambda: other.set_acls(path, list(OPEN_ACL_UNSAFE))),
                         ("get_children", lambda: other.get_children(path)),
                         ("create child", lambda: other.create(path + "/c"))):
            with self.subTest(op=name):
                with self.assertRaises(ke.NoAuthError):
                    op()
        self.assertIsNotNone(other.exists(path), "exists is not ACL checked")
        # wrong password does not help
        other.add_auth("digest", "alice:wrong")
        with self.assertRaises(ke.NoAuthError):
            other.get(path)
        other.add_auth("digest", "alice:pw1")
        self.assertEqual(other.get(path)[0], b"hidden")
        # delete needs DELETE on the parent, not on the node itself
        parent = owner.create(self.p("locked"), acl=[make_digest_acl("alice", "pw1", read=True, create=True)])
        owner.create(parent + "/kid")
        stranger = self.client()
        with self.assertRaises(ke.NoAuthError):
            stranger.delete(parent + "/kid")
        with self.assertRaises(ke.NoAuthError):
            owner.delete(parent + "/kid")
        self.assertIsNotNone(owner.exists(parent + "/kid"))

    def test_auth_scheme_and_invalid_acls(self):
        zk = self.zk
        with self.assertRaises(ke.InvalidACLError):
            zk.create(self.p("auth-noauth"), acl=[ACL(Permissions.ALL, Id("auth", ""))])
        for bad in (Id("digest", "nocolon"), Id("world", "nobody"), Id("bogus", "x")):
            with self.subTest(id=bad):
                with self.assertRaises(ke.InvalidACLError):
                    zk.create(self.p("bad"), acl=[ACL(Permissions.ALL, bad)])
        zk.add_auth("digest", "bob:pw")
        zk.add_auth("digest", "carol:pw")
        expanded = sorted([
            ACL(Permissions.ALL, Id("digest", make_digest_acl_credential("bob", "pw"))),
            ACL(Permissions.ALL, Id("digest", make_digest_acl_credential("carol", "pw")))])
        # kazoo writes the empty string as a null jute string (length -1), which is what
        # kazoo's own CREATOR_ALL_ACL sends; the Java client sends length 0.
        for name, id_value in (("id 'x'", "x"), ("id '' (null string on the wire)", "")):
            with self.subTest(auth_id=name):
                path = self.p("auth-" + str(len(id_value)))
                try:
                    zk.create(path, acl=[ACL(Permissions.ALL, Id("auth", id_value))])
                except ke.InvalidACLError:
                    self.fail("create with ACL auth:%s:cdrwa after add_auth raised InvalidACLError" % name)
                acl, _ = zk.get_acls(path)
                self.assertEqual(sorted(acl), expanded,
                                 "auth scheme expands to every digest identity of the session")
                carol = self.client(auth_data=[("digest", "carol:pw")])
                self.assertEqual(carol.get(path)[0], b"")

    def test_ip_acl(self):
        zk = self.zk
        ok = zk.create(self.p("ip-local"), b"l", acl=[make_acl("ip", "127.0.0.1", all=True)])
        self.assertEqual(zk.get(ok)[0], b"l")
        net = zk.create(self.p("ip-net"), b"n", acl=[make_acl("ip", "127.0.0.0/8", all=True)])
        self.assertEqual(zk.get(net)[0], b"n")
        far = zk.create(self.p("ip-far"), b"f", acl=[make_acl("ip", "10.1.2.3", all=True)])
        with self.assertRaises(ke.NoAuthError):
            zk.get(far)

    def test_add_auth_unknown_scheme_fails(self):
        c = self.client()
        with self.assertRaises(ke.AuthFailedError):
            c.add_auth("nosuchscheme", "x")
        self.assertTrue(wait_until(lambda: c.state == KazooState.LOST, 10),
                        "AUTH_FAILED ends the session (kazoo state LOST), got %s" % c.state)

    def test_super_digest(self):
        owner = self.client(auth_data=[("digest", "dave:pw")])
        path = owner.create(self.p("guarded"), b"g", acl=[make_digest_acl("dave", "pw", read=True)])
        owner.create(self.p("noperm"), b"z", acl=[make_acl("world", "anyone", read=False, create=True)])
        su = self.client(auth_data=[("digest", "super:" + SUPER_PASSWORD)])
        self.assertEqual(su.get(path)[0], b"g")
        self.assertEqual(su.get(self.p("noperm"))[0], b"z")
        su.set(path, b"by-super")
        su.set_acls(path, list(OPEN_ACL_UNSAFE))
        self.assertEqual(self.zk.get(path)[0], b"by-super")
        fake = self.client(auth_data=[("digest", "super:wrong")])
        with self.assertRaises(ke.NoAuthError):
            fake.get(self.p("noperm"))


# --- watches ---------------------------------------------------------------------
class WatchTest(Base):
    def test_one_shot_watches(self):
        zk = self.zk
        wire = record_wire_events(zk)
        writer = self.client()
        path = zk.create(self.p("w"), b"0")
        data_box, data_box2, exists_box, child_box = EventBox(), EventBox(), EventBox(), EventBox()
        zk.get(path, watch=data_box)
        zk.get(path, watch=data_box2)          # same path, same connection: one server watch
        zk.exists(self.p("later"), watch=exists_box)
        zk.get_children(path, watch=child_box)
        writer.set(path, b"1")
        ev = data_box.wait_count(1)
        self.assertEqual(ev[0].type, EventType.CHANGED)
        self.assertEqual(ev[0].path, path)
        self.assertEqual(data_box2.wait_count(1)[0].type, EventType.CHANGED)
        writer.set(path, b"2")                   # one-shot: no second event
        writer.create(self.p("later"))
        ev = exists_box.wait_count(1)
        self.assertEqual((ev[0].type, ev[0].path), (EventType.CREATED, self.p("later")))
        writer.create(path + "/kid")
        ev = child_box.wait_count(1)
        self.assertEqual((ev[0].type, ev[0].path), (EventType.CHILD, path))
        writer.set(path + "/kid", b"x")          # child data change: no child event on parent
        writer.sync(path)
        zk.sync(path)
        time.sleep(0.3)
        self.assertEqual(wire, [(CHANGED, path), (CREATED, self.p("later")), (CHILD, path)],
                         "exactly one wire event per triggered watch")
        self.assertEqual(len(data_box.items), 1)
        self.assertEqual(len(child_box.items), 1)

    def test_exists_watch_on_delete_and_delete_triggers(self):
        zk = self.zk
        wire = record_wire_events(zk)
        writer = self.client()
        path = zk.create(self.p("d"), b"0")
        zk.create(path + "/kid")
        ex_box, data_box, child_box, kid_box = EventBox(), EventBox(), EventBox(), EventBox()
        zk.exists(path, watch=ex_box)
        zk.get(path, watch=data_box)
        zk.get_children(path, watch=child_box)
        zk.get(path + "/kid", watch=kid_box)
        writer.delete(path + "/kid")
        self.assertEqual(kid_box.wait_count(1)[0].type, EventType.DELETED)
        self.assertEqual(child_box.wait_count(1)[0].type, EventType.CHILD)
        zk.get_children(path, watch=child_box)
        writer.delete(path)
        self.assertEqual(ex_box.wait_count(1)[0].type, EventType.DELETED)
        self.assertEqual(data_box.wait_count(1)[0].type, EventType.DELETED)
        evs = child_box.wait_count(2)
        self.assertEqual(evs[1].type, EventType.DELETED, "child watch on a deleted node gets NodeDeleted")
        zk.sync("/")
        time.sleep(0.3)
        self.assertEqual(wire, [(DELETED, path + "/kid"), (CHILD, path), (DELETED, path)],
                         "one NodeDeleted per connection although data and child watches were set")

    def test_no_watch_left_after_failed_get(self):
        zk = self.zk
        wire = record_wire_events(zk)
        with self.assertRaises(ke.NoNodeError):
            zk.get(self.p("ghost"), watch=lambda e: None)
        with self.assertRaises(ke.NoNodeError):
            zk.get_children(self.p("ghost"), watch=lambda e: None)
        self.client().create(self.p("ghost"))
        zk.sync("/")
        time.sleep(0.3)
        self.assertEqual(wire, [], "getData/getChildren on a missing node leave no watch")

    def test_datawatch_childrenwatch(self):
        zk = self.zk
        writer = self.client()
        path = self.p("dw")
        seen_data = EventBox()
        seen_kids = EventBox()

        @DataWatch(zk, path)
        def on_data(data, stat):
            seen_data((data, stat.version if stat else None))

        writer.create(path, b"a")
        writer.set(path, b"b")
        self.assertTrue(wait_until(lambda: (b"b", 1) in seen_data.items))
        writer.delete(path)
        self.assertTrue(wait_until(lambda: seen_data.items[-1] == (None, None)))
        self.assertEqual(seen_data.items[0], (None, None), "DataWatch starts on a missing node")

        parent = writer.create(self.p("cw"))

        @ChildrenWatch(zk, parent)
        def on_kids(children):
            seen_kids(sorted(children))

        for n in ("x", "y", "z"):
            writer.create(parent + "/" + n)
        self.assertTrue(wait_until(lambda: seen_kids.items and seen_kids.items[-1] == ["x", "y", "z"]))
        writer.delete(parent + "/y")
        self.assertTrue(wait_until(lambda: seen_kids.items[-1] == ["x", "z"]))
        self.assertEqual(seen_kids.items[0], [])

    def test_persistent_watch(self):
        zk = self.zk
        wire = record_wire_events(zk)
        writer = self.client()
        path = zk.create(self.p("pw"))
        self.assertTrue(raw_call(zk, AddWatch(path, 0)))
        writer.set(path, b"1")
        writer.set(path, b"2")
        writer.create(path + "/c")
        writer.set(path + "/c", b"3")      # not watched by a PERSISTENT (non-recursive) watch
        writer.create(path + "/c/d")
        writer.delete(path + "/c/d")
        writer.delete(path + "/c")
        writer.delete(path)
        writer.create(path)                 # persistent watch survives the delete
        zk.sync("/")
        self.assertTrue(wait_until(lambda: len(wire) >= 6, 5))
        time.sleep(0.3)
        self.assertEqual(wire, [(CHANGED, path), (CHANGED, path), (CHILD, path), (CHILD, path),
                                (DELETED, path), (CREATED, path)],
                         "persistent watch: data and child events of the node only, survives firing")
        del wire[:]
        self.assertTrue(raw_call(zk, RemoveWatches(path, 3)), "removeWatches(Any) removes it")
        writer.set(path, b"after")
        zk.sync("/")
        time.sleep(0.3)
        self.assertEqual(wire, [])

    def test_persistent_recursive_watch(self):
        zk = self.zk
        wire = record_wire_events(zk)
        writer = self.client()
        root = zk.create(self.p("pr"))
        self.assertTrue(raw_call(zk, AddWatch(root, 1)))
        writer.create(root + "/a")
        writer.create(root + "/a/b")
        writer.set(root + "/a/b", b"1")
        writer.set(root + "/a/b", b"2")
        writer.delete(root + "/a/b")
        writer.set(root, b"r")
        writer.create(self.p("pr-sibling"))  # outside the subtree
        zk.sync("/")
        self.assertTrue(wait_until(lambda: len(wire) >= 6, 5))
        time.sleep(0.3)
        self.assertEqual(wire, [(CREATED, root + "/a"), (CREATED, root + "/a/b"), (CHANGED, root + "/a/b"),
                                (CHANGED, root + "/a/b"), (DELETED, root + "/a/b"), (CHANGED, root)],
                         "recursive watch: every create/change/delete below, no NodeChildrenChanged")
        del wire[:]
        self.assertTrue(raw_call(zk, RemoveWatches(root, 3)))
        writer.create(root + "/after")
        zk.sync("/")
        time.sleep(0.3)
        self.assertEqual(wire, [])

    def test_remove_watches(self):
        zk = self.zk
        wire = record_wire_events(zk)
        writer = self.client()
        path = zk.create(self.p("rw"))
        with self.assertRaises(NoWatcherError):
            raw_call(zk, RemoveWatches(path, 2))
        zk.get(path, watch=lambda e: None)
        zk.get_children(path, watch=lambda e: None)
        with self.assertRaises(NoWatcherError):
            raw_call(zk, RemoveWatches(self.p("elsewhere"), 3))
        self.assertTrue(raw_call(zk, RemoveWatches(path, 2)), "remove the data watch")
        with self.assertRaises(NoWatcherError):
            raw_call(zk, RemoveWatches(path, 2))
        writer.set(path, b"x")               # no event: data watch gone
        writer.create(path + "/k")            # child watch still there
        self.assertTrue(wait_until(lambda: wire == [(CHILD, path)], 5), "got %r" % wire)
        zk.get_children(path, watch=lambda e: None)
        zk.exists(path, watch=lambda e: None)
        self.assertTrue(raw_call(zk, RemoveWatches(path, 3)), "remove any")
        writer.create(path + "/k2")
        writer.set(path, b"y")
        zk.sync("/")
        time.sleep(0.3)
        self.assertEqual(wire, [(CHILD, path)])


# --- transactions, sync -----------------------------------------------------------
class MultiTest(Base):
    def test_transaction_commit(self):
        zk = self.zk
        base = self.root
        zk.create(base + "/existing", b"e")
        t = zk.transaction()
        t.create(base + "/new", b"n")
        t.set_data(base + "/existing", b"e2", version=0)
        t.check(base + "/existing", 1)
        t.create(base + "/seq-", sequence=True)
        t.delete(base + "/new")
        res = t.commit()
        self.assertEqual(len(res), 5, res)
        self.assertEqual(res[0], base + "/new")
        self.assertEqual(res[1].version, 1)
        self.assertIs(res[2], True)
        self.assertRegex(res[3], r"/seq-\d{10}$")
        self.assertIs(res[4], True)
        self.assertEqual(zk.get(base + "/existing")[0], b"e2")
        self.assertIsNone(zk.exists(base + "/new"))
        st = zk.exists(base + "/existing")
        self.assertEqual(st.mzxid, zk.exists(res[3]).czxid, "one zxid for the whole multi")

    def test_transaction_rollback(self):
        zk = self.zk
        base = self.root
        zk.create(base + "/existing")
        zxid_before = zk.exists(base + "/existing").mzxid
        t = zk.transaction()
        t.create(base + "/new")
        t.create(base + "/existing")
        res = t.commit()
        self.assertEqual([type(r) for r in res], [ke.RolledBackError, ke.NodeExistsError], res)
        self.assertIsNone(zk.exists(base + "/new"), "failed multi leaves no trace")

        t = zk.transaction()
        t.create(base + "/new")
        t.set_data(base + "/existing", b"x", version=5)
        t.delete(base + "/existing")
        res = t.commit()
        self.assertEqual([type(r) for r in res],
                         [ke.RolledBackError, ke.BadVersionError, ke.RuntimeInconsistency], res)

        t = zk.transaction()
        t.check(base + "/missing", 0)
        t.create(base + "/new")
        res = t.commit()
        self.assertEqual([type(r) for r in res], [ke.NoNodeError, ke.RuntimeInconsistency], res)
        self.assertIsNone(zk.exists(base + "/new"))
        self.assertEqual(zk.exists(base + "/existing").mzxid, zxid_before)
        self.assertEqual(zk.get(base + "/existing")[0], b"")

    def test_transaction_ephemeral_and_watches(self):
        zk = self.zk
        other = self.client()
        box = EventBox()
        other.exists(self.p("tx-e"), watch=box)
        t = zk.transaction()
        t.create(self.p("tx-e"), b"1", ephemeral=True)
        t.create(self.p("tx-p"), b"2")
        self.assertEqual(t.commit(), [self.p("tx-e"), self.p("tx-p")])
        self.assertEqual(box.wait_count(1)[0].type, EventType.CREATED)
        self.assertEqual(zk.exists(self.p("tx-e")).ephemeralOwner, zk.client_id[0])

    def test_sync(self):
        zk = self.zk
        self.assertEqual(zk.sync(self.root), self.root)
        self.assertEqual(zk.sync("/"), "/")


# --- sessions ---------------------------------------------------------------------
WORKER = r"""
import sys
from kazoo.client import KazooClient
c = KazooClient(hosts=sys.argv[1], timeout=float(sys.argv[3]))
c.start(timeout=15)
p = c.create(sys.argv[2], b"worker", ephemeral=True)
print("%s %d" % (p, c.client_id[0]), flush=True)
sys.stdin.read()  # until the driver goes away; the test SIGKILLs us long before
"""


class SessionTest(Base):
    def test_close_removes_ephemerals(self):
        watcher = self.zk
        owner = self.client()
        a = owner.create(self.p("e1"), ephemeral=True)
        b = owner.create(self.p("e-"), ephemeral=True, sequence=True)
        keep = owner.create(self.p("persistent"))
        box = EventBox()
        watcher.exists(a, watch=box)
        owner.stop()
        self.assertEqual(box.wait_count(1, 5)[0].type, EventType.DELETED,
                         "closing the session deletes its ephemerals at once")
        self.assertIsNone(watcher.exists(a))
        self.assertIsNone(watcher.exists(b))
        self.assertIsNotNone(watcher.exists(keep))

    def test_sigkill_expires_after_timeout(self):
        path = self.p("killed")
        proc = subprocess.Popen([sys.executable, "-c", WORKER, self.server.hosts, path,
                                 str(EXPIRY_TIMEOUT_S)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        line = proc.stdout.readline().split()
        self.assertEqual(line[0], path, "worker created its ephemeral")
        owner_sid = int(line[1])
        self.assertEqual(self.zk.exists(path).ephemeralOwner, owner_sid)
        box = EventBox()
        self.zk.exists(path, watch=box)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = time.time()
        self.assertIsNotNone(self.zk.exists(path), "ephemeral survives until the session times out")
        evs = box.wait_count(1, EXPIRY_TIMEOUT_S + 6)
        gone_after = time.time() - killed_at
        self.assertTrue(evs and evs[0].type == EventType.DELETED,
                        "ephemeral deleted after session expiry (waited %.1fs)" % gone_after)
        self.assertIsNone(self.zk.exists(path))
        self.assertGreater(gone_after, 0.3, "not deleted before the session timeout")
        print("# SIGKILLed owner's ephemeral removed %.2fs after kill (timeout %.1fs)"
              % (gone_after, EXPIRY_TIMEOUT_S), file=sys.stderr)

    def test_reconnect_same_session(self):
        # kazoo 2.8 does not send SetWatches: it drops its watchers on a disconnect, so
        # watch re-registration is covered by test_c_client.py and test_zkcli.py instead.
        zk = self.client()
        writer = self.zk
        sid = zk.client_id
        eph = zk.create(self.p("eph"), ephemeral=True)
        watched = writer.create(self.p("watched"), b"0")
        states = EventBox()
        zk.add_listener(states)
        zk._call(_CONNECTION_DROP, None)    # kazoo's own testing hook: drop the TCP connection
        self.assertTrue(wait_until(lambda: KazooState.SUSPENDED in states.items, 5))
        writer.set(watched, b"changed-while-away")
        self.assertTrue(wait_until(lambda: states.items[-1] == KazooState.CONNECTED, 15),
                        "reconnected: %r" % states.items)
        self.assertEqual(zk.client_id, sid, "same session after reconnect")
        self.assertEqual(writer.exists(eph).ephemeralOwner, sid[0], "ephemeral kept across reconnect")
        self.assertEqual(zk.get(watched)[0], b"changed-while-away")
        box = EventBox()
        zk.get(watched, watch=box)
        writer.set(watched, b"again")
        evs = box.wait_count(1, 10)
        self.assertTrue(evs and evs[0].type == EventType.CHANGED, "watch after reconnect: %r" % evs)
        zk.stop()
        self.assertTrue(wait_until(lambda: writer.exists(eph) is None, 5))

    def test_session_closed_by_other_connection_expires(self):
        zk = self.client()
        sid, passwd = zk.client_id
        eph = zk.create(self.p("eph"), ephemeral=True)
        states = EventBox()
        zk.add_listener(states)
        twin = self.client(start=False, client_id=(sid, passwd))
        twin.start(timeout=15)
        self.assertEqual(twin.client_id[0], sid, "second connection attached to the same session")
        self.assertEqual(twin.exists(eph).ephemeralOwner, sid)
        twin.stop()                           # closeSession for the shared session
        self.assertTrue(wait_until(lambda: self.zk.exists(eph) is None, 5), "ephemeral removed")
        self.assertTrue(wait_until(lambda: KazooState.LOST in states.items, 15),
                        "original client learns the session is gone: %r" % states.items)
        self.assertTrue(wait_until(lambda: zk.connected and zk.client_id[0] != sid, 15),
                        "kazoo establishes a fresh session")

    def test_wrong_password_session(self):
        zk = self.client()
        sid, passwd = zk.client_id
        bad = self.client(start=False, client_id=(sid, b"\x00" * 16))
        states = EventBox()
        bad.add_listener(states)
        try:
            bad.start(timeout=10)
        except Exception:  # noqa: BLE001 - kazoo may time out while it retries
            pass
        self.assertTrue(wait_until(lambda: KazooState.LOST in states.items or
                                   (bad.connected and bad.client_id[0] != sid), 10),
                        "a wrong session password does not grant the session: %r" % states.items)
        # (ZooKeeper even drops the rightful owner's connection when another connection
        # presents its session id, before checking the password; kazoo then reconnects.)
        self.assertTrue(wait_until(lambda: zk.connected, 15))
        self.assertEqual(zk.client_id[0], sid, "the rightful owner keeps its session")
        zk.get("/")


# --- containers, TTL, getEphemerals, getAllChildrenNumber (raw packets) -------------
class ExtendedTest(Base):
    def test_container_reaped_after_last_child(self):
        zk = self.zk
        cont = self.p("cont")
        never = self.p("cont-never")
        path, st = raw_call(zk, CreateContainer(cont, b"c", list(OPEN_ACL_UNSAFE), 4))
        self.assertEqual(path, cont)
        self.assertEqual(st, zk.exists(cont), "createContainer returns the node's stat")
        self.assertEqual(st.ephemeralOwner, 0, "container marker is not shown to clients")
        raw_call(zk, CreateContainer(never, b"", list(OPEN_ACL_UNSAFE), 4))
        zk.create(cont + "/kid")
        time.sleep(3 * CONTAINER_CHECK_MS / 1000.0)
        self.assertIsNotNone(zk.exists(cont), "a container with children stays")
        zk.delete(cont + "/kid")
        self.assertTrue(wait_until(lambda: zk.exists(cont) is None, 5 + 3 * CONTAINER_CHECK_MS / 1000.0),
                        "container deleted by the server after its last child went")
        self.assertIsNotNone(zk.exists(never), "a container that never had children is kept")
        with self.assertRaises(ke.NodeExistsError):
            raw_call(zk, CreateContainer(never, b"", list(OPEN_ACL_UNSAFE), 4))

    def test_ttl_nodes(self):
        zk = self.zk
        ttl = self.p("ttl")
        busy = self.p("ttl-busy")
        path, st = raw_call(zk, CreateTTL(ttl, b"t", list(OPEN_ACL_UNSAFE), 5, 1000))
        self.assertEqual((path, st.ephemeralOwner), (ttl, 0))
        path, _ = raw_call(zk, CreateTTL(self.p("ttls-"), b"", list(OPEN_ACL_UNSAFE), 6, 1000))
        self.assertRegex(path, r"/ttls-\d{10}$")
        raw_call(zk, CreateTTL(busy, b"", list(OPEN_ACL_UNSAFE), 5, 1000))
        zk.create(busy + "/kid")
        for bad_ttl, bad_flags in ((0, 5), (-5, 5), (1 << 40, 5), (1000, 0), (1000, 1)):
            with self.subTest(ttl=bad_ttl, flags=bad_flags):
                with self.assertRaises(ke.BadArgumentsError):
                    raw_call(zk, CreateTTL(self.p("bad"), b"", list(OPEN_ACL_UNSAFE), bad_flags, bad_ttl))
        self.assertIsNotNone(zk.exists(ttl), "TTL node is there before its TTL elapsed")
        self.assertTrue(wait_until(lambda: zk.exists(ttl) is None, 1 + 5 + 3 * CONTAINER_CHECK_MS / 1000.0),
                        "TTL node removed after its TTL")
        self.assertTrue(wait_until(lambda: zk.exists(path) is None, 5), "sequential TTL node removed too")
        self.assertIsNotNone(zk.exists(busy), "a TTL node with children is kept")
        zk.delete(busy + "/kid")
        self.assertTrue(wait_until(lambda: zk.exists(busy) is None, 5 + 3 * CONTAINER_CHECK_MS / 1000.0),
                        "TTL node removed once childless")

    def test_ttl_needs_extended_types(self):
        with harness.server_class(SERVER_KIND)() as plain:
            c = KazooClient(hosts=plain.hosts, timeout=10.0)
            self.clients.append(c)
            c.start(timeout=15)
            with self.assertRaises(ke.UnimplementedError):
                raw_call(c, CreateTTL("/ttl", b"", list(OPEN_ACL_UNSAFE), 5, 1000))
            c.stop()

    def test_get_ephemerals(self):
        zk = self.zk
        other = self.client()
        zk.create(self.p("e", "a"), ephemeral=True, makepath=True)
        zk.create(self.p("e", "b", "c"), makepath=True)
        zk.create(self.p("e", "b", "c", "d"), ephemeral=True)
        zk.create(self.p("ea"), ephemeral=True)
        other.create(self.p("e", "theirs"), ephemeral=True)
        mine = sorted([self.p("e", "a"), self.p("e", "b", "c", "d"), self.p("ea")])
        self.assertEqual(sorted(raw_call(zk, GetEphemerals(self.root))), mine)
        self.assertEqual(sorted(raw_call(zk, GetEphemerals(self.p("e")))), mine,
                         "plain string prefix: /x/e also matches /x/ea")
        self.assertEqual(raw_call(zk, GetEphemerals(self.p("e", "b"))), [self.p("e", "b", "c", "d")])
        self.assertEqual(raw_call(zk, GetEphemerals(self.p("nothing"))), [])
        self.assertEqual(raw_call(other, GetEphemerals(self.root)), [self.p("e", "theirs")])
        self.assertTrue(set(mine) <= set(raw_call(zk, GetEphemerals("/"))))

    def test_get_all_children_number(self):
        zk = self.zk
        zk.create(self.p("t", "a", "b", "c"), makepath=True)
        zk.create(self.p("t", "x"))
        self.assertEqual(raw_call(zk, GetAllChildrenNumber(self.p("t"))), 4)
        self.assertEqual(raw_call(zk, GetAllChildrenNumber(self.p("t", "a", "b", "c"))), 0)
        with self.assertRaises(ke.NoNodeError):
            raw_call(zk, GetAllChildrenNumber(self.p("missing")))


# --- server configuration seen by clients (own servers) -------------------------
def negotiated_timeouts(client):
    """List receiving the session timeout of every ConnectResponse the client gets."""
    got = []
    original = client._connection._invoke

    def invoke(timeout, request, xid=None):
        result = original(timeout, request, xid)
        if isinstance(request, Connect):
            got.append(result[0].time_out)
        return result

    client._connection._invoke = invoke
    return got


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass

    def client(self, srv, timeout=10.0):
        c = KazooClient(hosts=srv.hosts, timeout=timeout)
        self.clients.append(c)
        return c

    def test_session_timeout_negotiation(self):
        with harness.server_class(SERVER_KIND)(tick_ms=500, extra={"minSessionTimeout": "3000",
                                                                    "maxSessionTimeout": "6000"}) as srv:
            for asked, granted in ((1.0, 3000), (60.0, 6000), (4.5, 4500)):
                with self.subTest(asked=asked):
                    c = self.client(srv, timeout=asked)
                    got = negotiated_timeouts(c)
                    c.start(timeout=15)
                    self.assertEqual(got, [granted], "asked %.0f ms" % (asked * 1000))
                    c.stop()
        with harness.server_class(SERVER_KIND)(tick_ms=500) as srv:
            for asked, granted in ((0.2, 1000), (60.0, 10000)):
                with self.subTest(asked=asked, defaults="2*tick..20*tick"):
                    c = self.client(srv, timeout=asked)
                    got = negotiated_timeouts(c)
                    c.start(timeout=15)
                    self.assertEqual(got, [granted])
                    c.stop()

    def test_max_client_cnxns(self):
        with harness.server_class(SERVER_KIND)(extra={"maxClientCnxns": "3"}) as srv:
            first = [self.client(srv) for _ in range(3)]
            for c in first:
                c.start(timeout=15)
            extra = self.client(srv)
            with self.assertRaises(Exception, msg="4th connection from 127.0.0.1 refused"):
                extra.start(timeout=3)
            self.assertFalse(extra.connected)
            first[0].stop()
            again = self.client(srv)
            again.start(timeout=15)
            self.assertTrue(again.connected, "a slot is free again after one client left")
            again.get("/")

    def test_oversized_packet(self):
        with harness.server_class(SERVER_KIND)() as srv:
            c = self.client(srv)
            c.start(timeout=15)
            sid = c.client_id[0]
            c.create("/big", b"x" * 1000000)
            self.assertEqual(c.exists("/big").dataLength, 1000000)
            with self.assertRaises(ke.ConnectionLoss, msg="request above jute.maxbuffer (1 MiB) drops the connection"):
                c.create("/too-big", b"x" * (1 << 20))
            self.assertTrue(wait_until(lambda: c.connected, 15))
            self.assertEqual(c.client_id[0], sid, "same session after the drop")
            self.assertIsNone(c.exists("/too-big"))


# --- four-letter words ---------------------------------------------------------------
class FourLetterTest(Base):
    def test_4lw(self):
        zk = self.zk
        port = self.server.port
        eph = zk.create(self.p("eph4lw"), ephemeral=True)
        zk.get(eph, watch=lambda e: None)
        self.assertEqual(zk.command(b"ruok"), "imok")
        srvr = zk.command(b"srvr")
        self.assertTrue(srvr.startswith("Zookeeper version: "), srvr)
        for needle in ("Mode: %s" % MODE, "Latency min/avg/max:", "Received:", "Sent:",
                       "Connections:", "Outstanding:", "Zxid: 0x", "Node count:"):
            with self.subTest(word="srvr", needle=needle):
                self.assertIn(needle, srvr)
        stat = harness.four_letter(port, "stat")
        for needle in ("Zookeeper version: ", "Clients:", "127.0.0.1", "Mode: %s" % MODE, "Node count:"):
            with self.subTest(word="stat", needle=needle):
                self.assertIn(needle, stat)
        with self.subTest(word="conf"):
            conf = harness.four_letter(port, "conf")
            self.assertIn("clientPort=%d" % port, conf)
            self.assertIn("dataDir=", conf)
        with self.subTest(word="envi"):
            envi = harness.four_letter(port, "envi")
            self.assertIn("Environment:", envi)
            self.assertIn("zookeeper.version=", envi)
            self.assertEqual(zk.server_version()[:2], (3, 8), "kazoo's server_version() from envi")
        with self.subTest(word="mntr"):
            mntr = harness.four_letter(port, "mntr")
            fields = dict(line.split("\t", 1) for line in mntr.splitlines() if "\t" in line)
            self.assertEqual(fields.get("zk_server_state"), MODE, mntr)
            self.assertIn("zk_version", fields)
            self.assertGreaterEqual(int(fields.get("zk_znode_count", "0")), 4)
            self.assertGreaterEqual(int(fields.get("zk_ephemerals_count", "0")), 1)
            self.assertGreaterEqual(int(fields.get("zk_watch_count", "0")), 1)
        with self.subTest(word="isro"):
            self.assertEqual(harness.four_letter(port, "isro"), "rw")
        with self.subTest(word="cons"):
            self.assertIn("127.0.0.1", harness.four_letter(port, "cons"))
        with self.subTest(word="wchs"):
            self.assertIn("connections watching", harness.four_letter(port, "wchs"))
        with self.subTest(word="wchp"):
            self.assertIn(eph, harness.four_letter(port, "wchp"))
        with self.subTest(word="wchc"):
            self.assertIn(eph, harness.four_letter(port, "wchc"))
        with self.subTest(word="dump"):
            self.assertIn(eph, harness.four_letter(port, "dump"))
        with self.subTest(word="srst"):
            self.assertIn("reset", harness.four_letter(port, "srst").lower())


install_signal_cleanup = harness.install_signal_cleanup


if __name__ == "__main__":
    print("# server flavour: %s" % SERVER_KIND, file=sys.stderr)
    install_signal_cleanup()
    prog = unittest.main(verbosity=2, exit=False, warnings="ignore")
    for srv in list(harness._live):
        srv.stop()
    sys.exit(0 if prog.result.wasSuccessful() else 1)
