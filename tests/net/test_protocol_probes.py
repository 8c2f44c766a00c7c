#!/usr/bin/python3
"""Byte-level protocol probes (wire-protocol.md §0.2 and Appendix A) asserted against a
real server started here on a free 127.0.0.1 port.

    PD_TEST_SERVER=paddock   (default)  build/paddock (or $PADDOCK_BIN)
    PD_TEST_SERVER=zookeeper            Apache ZooKeeper 3.8 from the Debian package
    (or --server paddock|zookeeper on the command line)

Every probe passes against ZooKeeper 3.8.0; run with PD_TEST_SERVER=zookeeper to check
the probes themselves.  Extra arguments go to unittest (e.g. -v, -k ping).
"""
import os
import re
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import zkwire as zw  # noqa: E402
from zkwire import OP, W  # noqa: E402

KIND = os.environ.get("PD_TEST_SERVER", "paddock")
if "--server" in sys.argv:  # --server paddock|zookeeper overrides PD_TEST_SERVER
    _i = sys.argv.index("--server")
    KIND = sys.argv[_i + 1]
    del sys.argv[_i:_i + 2]
SRV = None


def setUpModule():
    global SRV
    SRV = harness.server_class(KIND)(extra={"extendedTypesEnabled": "true"})
    SRV.start(timeout=60)


def tearDownModule():
    if SRV is not None:
        SRV.stop()


def hx(s):
    """Hex string with spaces/separators -> bytes."""
    return bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", s))


def new_conn(**kw):
    c = zw.Conn("127.0.0.1", SRV.port, timeout=10)
    c.connect(**kw)
    return c


def header(payload):
    return struct.unpack(">iqi", payload[:16])


class Base(unittest.TestCase):
    def setUp(self):
        self.conns = []
        self.prefix = "/probe%d" % int(time.time() * 1000000)
        c = self.conn()
        self.assertEqual(c.create(self.prefix).err, 0)

    def tearDown(self):
        for c in self.conns:
            c.close()

    def conn(self, **kw):
        c = new_conn(**kw)
        self.conns.append(c)
        return c

    def raw_conn(self):
        c = zw.Conn("127.0.0.1", SRV.port, timeout=10)
        self.conns.append(c)
        return c

    def p(self, suffix):
        return self.prefix + suffix

    def assert_serving(self):
        c = new_conn()
        try:
            self.assertEqual(c.exists("/").err, 0)
        finally:
            c.close()


class Handshake(Base):
    def test_connect_response_41_bytes_with_readonly_byte(self):
        c = self.raw_conn()
        c.send_frame(c.connect_request(timeout_ms=30000, read_only=False))
        c._fill(4)
        self.assertEqual(struct.unpack(">i", c.buf[:4])[0], 37)
        payload = c.recv_frame()
        self.assertEqual(len(payload) + 4, 41)
        proto, to, sid = struct.unpack(">iiq", payload[:16])
        self.assertEqual(proto, 0)
        self.assertEqual(to, 30000)
        self.assertNotEqual(sid, 0)
        self.assertNotEqual(sid, -0x8000000000000000)
        self.assertNotEqual((sid >> 56) & 0xFF, 0xFF)
        self.assertEqual(payload[16:20], b"\x00\x00\x00\x10")
        self.assertEqual(payload[36:37], b"\x00")  # readOnly=0

    def test_connect_response_40_bytes_without_readonly_byte(self):
        c = self.raw_conn()
        c.send_frame(c.connect_request(timeout_ms=30000, read_only=None))
        payload = c.recv_frame()
        self.assertEqual(len(payload) + 4, 40)
        self.assertEqual(payload[16:20], b"\x00\x00\x00\x10")
        # and the session works
        self.assertEqual(c.exists("/").err, 0)

    def test_appendix_a_connect_request_bytes(self):
        c = self.raw_conn()
        req = hx("0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010 "
                 "00000000000000000000000000000000 00")
        c.send_raw(req)
        payload = c.recv_frame()
        self.assertEqual(len(payload), 0x25)
        self.assertEqual(payload[:8], hx("00000000 00007530"))

    def test_timeout_negotiation(self):
        for asked, got in ((1000, 4000), (10 ** 7, 40000), (0, 4000), (-5, 4000), (30000, 30000)):
            c = self.raw_conn()
            resp = c.connect(timeout_ms=asked)
            self.assertEqual(resp.timeout, got, "asked %d" % asked)

    def test_pipelined_frames_behind_connect_request(self):
        c = self.raw_conn()
        data = struct.pack(">i", 45) + c.connect_request()
        body = W().string("/").bool(False).bytes()
        data += struct.pack(">i", 8 + len(body)) + struct.pack(">ii", 1, OP["exists"]) + body
        data += struct.pack(">i", 8) + struct.pack(">ii", 2, OP["ping"])
        auth = W().int(0).string("digest").buffer(b"u:p").bytes()
        data += struct.pack(">i", 8 + len(auth)) + struct.pack(">ii", -4, OP["auth"]) + auth
        c.send_raw(data)
        payload = c.recv_frame()
        self.assertEqual(len(payload), 37)
        seen = [header(c.recv_frame())[0] for _ in range(3)]
        self.assertIn(1, seen)
        self.assertIn(-2, seen)
        self.assertIn(-4, seen)
        self.assertLess(seen.index(1), seen.index(-2))

    def test_last_zxid_seen_ahead_is_closed_without_reply(self):
        c = self.raw_conn()
        c.send_frame(c.connect_request(last_zxid=0x7fff000000000000))
        self.assertTrue(c.is_closed_by_peer(wait=5))
        self.assertEqual(c.buf, b"")
        self.assert_serving()

    def test_reattach_wrong_password_gets_invalid_response_and_close(self):
        a = self.conn()
        sid = a.session_id
        a.close()
        c = self.raw_conn()
        c.send_frame(c.connect_request(session_id=sid, passwd=b"\x01" * 16))
        payload = c.recv_frame()
        self.assertEqual(len(payload) + 4, 41)
        self.assertEqual(payload, hx("00000000 00000000 0000000000000000 00000010") + b"\x00" * 16 + b"\x00")
        self.assertTrue(c.is_closed_by_peer(wait=5))
        # the right password still works: the session was not harmed
        ok = self.raw_conn()
        resp = ok.connect(session_id=sid, passwd=a.passwd)
        self.assertEqual(resp.session_id, sid)
        self.assertEqual(resp.passwd, a.passwd)
        self.assertEqual(ok.exists("/").err, 0)

    def test_reattach_unknown_session_without_readonly_byte(self):
        c = self.raw_conn()
        c.send_frame(c.connect_request(session_id=0x0100000000abcdef, passwd=b"\x00" * 16, read_only=None))
        payload = c.recv_frame()
        self.assertEqual(len(payload) + 4, 40)
        self.assertEqual(payload, hx("00000000 00000000 0000000000000000 00000010") + b"\x00" * 16)
        self.assertTrue(c.is_closed_by_peer(wait=5))

    def test_reattach_keeps_session_and_password(self):
        a = self.conn()
        a.create(self.p("/eph"), b"", zw.OPEN_ACL, zw.EPHEMERAL)
        a.close()
        b = self.raw_conn()
        resp = b.connect(session_id=a.session_id, passwd=a.passwd, last_zxid=a.last_zxid, timeout_ms=10000)
        self.assertEqual((resp.session_id, resp.passwd, resp.timeout), (a.session_id, a.passwd, 10000))
        r = b.exists(self.p("/eph"))
        self.assertEqual(r.err, 0)
        self.assertEqual(r.value.ephemeralOwner, a.session_id)


class Replies(Base):
    def test_ping_reply_xid_is_always_minus_2(self):
        c = self.conn()
        for xid in (-2, 0, 1, 77, 0x7fffffff, -100):
            c.submit(OP["ping"], b"", xid=xid)
            payload = c.recv_frame()
            self.assertEqual(len(payload), 16)
            rxid, zxid, err = header(payload)
            self.assertEqual((rxid, err), (-2, 0), "ping with xid %d" % xid)
            self.assertGreater(zxid, 0)

    def test_error_reply_is_bare_16_byte_header(self):
        c = self.conn()
        for opcode, body in ((OP["getData"], W().string(self.p("/missing")).bool(False).bytes()),
                             (OP["delete"], W().string(self.p("/missing")).int(-1).bytes()),
                             (OP["create"], zw.enc_create(self.prefix, b"", zw.OPEN_ACL, 0)),
                             (OP["getChildren2"], W().string(self.p("/missing")).bool(True).bytes()),
                             (OP["setData"], W().string(self.prefix).buffer(b"x").int(99).bytes())):
            xid = c.submit(opcode, body)
            payload = c.recv_frame()
            self.assertEqual(len(payload), 16, "opcode %d" % opcode)
            rxid, zxid, err = header(payload)
            self.assertEqual(rxid, xid)
            self.assertNotEqual(err, 0)

    def test_appendix_a_create_nodeexists_getdata_notification(self):
        c = self.conn()
        other = self.conn()
        path = self.p("/ex").encode()
        body = W().string(path).buffer(b"x").acls(zw.OPEN_ACL).int(0).bytes()
        c.send_frame(struct.pack(">ii", 1, 1) + body)
        payload = c.recv_frame()
        self.assertEqual(len(payload), 16 + 4 + len(path))
        xid, z1, err = header(payload)
        self.assertEqual((xid, err), (1, 0))
        self.assertEqual(payload[16:], struct.pack(">i", len(path)) + path)
        # the same create again: NODEEXISTS, bare header, a new zxid
        c.send_frame(struct.pack(">ii", 1, 1) + body)
        payload = c.recv_frame()
        xid, z2, err = header(payload)
        self.assertEqual((len(payload), xid, err), (16, 1, -110))
        self.assertGreater(z2, z1)
        # getData watch=1: 16 + 5 + 68 bytes; Stat as in the capture
        c.send_frame(struct.pack(">ii", 2, 4) + W().string(path).bool(True).bytes())
        payload = c.recv_frame()
        self.assertEqual(len(payload), 89)
        self.assertEqual(payload[16:21], hx("00000001 78"))
        st = zw.R(payload[21:]).stat()
        self.assertEqual((st.czxid, st.mzxid, st.pzxid), (z1, z1, z1))
        self.assertEqual(st.ctime, st.mtime)
        self.assertEqual((st.version, st.cversion, st.aversion, st.ephemeralOwner, st.dataLength,
                          st.numChildren), (0, 0, 0, 0, 1, 0))
        # another session deletes it: notification frame of exactly 31 + len(path) - 3 bytes
        self.assertEqual(other.delete(self.p("/ex")).err, 0)
        payload = c.recv_frame()
        self.assertEqual(payload, hx("ffffffff ffffffffffffffff 00000000 00000002 00000003")
                         + struct.pack(">i", len(path)) + path)

    def test_exists_on_missing_node_sets_watch(self):
        c = self.conn()
        other = self.conn()
        r = c.exists(self.p("/later"), watch=True)
        self.assertEqual(r.err, zw.ERR["NONODE"])
        self.assertEqual(len(r.body), 0)
        # getData/getChildren on a missing node set no watch
        self.assertEqual(c.get_data(self.p("/later2"), watch=True).err, zw.ERR["NONODE"])
        self.assertEqual(c.get_children(self.p("/later2"), watch=True).err, zw.ERR["NONODE"])
        other.create(self.p("/later"))
        other.create(self.p("/later2"))
        c.ping()
        self.assertEqual(c.take_events(), [zw.WatchEvent(1, 3, self.p("/later"))])

    def test_event_arrives_before_reply_of_own_write(self):
        c = self.conn()
        c.exists(self.p("/own"), watch=True)
        c.submit(OP["create"], zw.enc_create(self.p("/own"), b"", zw.OPEN_ACL, 0))
        first = c.recv_frame()
        self.assertEqual(header(first)[0], -1)
        self.assertEqual(header(c.recv_frame())[2], 0)

    def test_sequential_suffix_after_create_and_delete(self):
        c = self.conn()
        p3 = self.p("/p3")
        c.create(p3)
        c.create(p3 + "/a")
        self.assertEqual(c.exists(p3).value.cversion, 1)
        c.delete(p3 + "/a")
        self.assertEqual(c.exists(p3).value.cversion, 2)
        r = c.create(p3 + "/s-", b"", zw.OPEN_ACL, zw.PERSISTENT_SEQUENTIAL)
        self.assertEqual(r.value, p3 + "/s-0000000001")
        self.assertEqual(c.exists(p3).value.cversion, 3)
        r = c.create(p3 + "/", b"", zw.OPEN_ACL, zw.PERSISTENT_SEQUENTIAL)
        self.assertEqual(r.value, p3 + "/0000000002")
        # failed creates do not count
        self.assertEqual(c.create(p3 + "/s-0000000001").err, zw.ERR["NODEEXISTS"])
        r = c.create(p3 + "/t-", b"", zw.OPEN_ACL, zw.EPHEMERAL_SEQUENTIAL)
        self.assertEqual(r.value, p3 + "/t-0000000003")

    def test_failed_multi_results(self):
        c = self.conn()
        m4 = self.p("/m4")
        c.create(m4)
        c.create(m4 + "/a")
        before = c.ping().zxid
        ops = [("create", m4 + "/d", b"", zw.OPEN_ACL, 0), ("create", m4 + "/a", b"", zw.OPEN_ACL, 0),
               ("setData", m4 + "/a", b"z", -1)]
        xid = c.submit(OP["multi"], zw.enc_multi(ops))
        payload = c.recv_frame()
        rxid, zxid, err = header(payload)
        self.assertEqual((rxid, err), (xid, 0))
        self.assertGreater(zxid, before)   # a failed multi consumes a zxid
        self.assertEqual(payload[16:], hx("ffffffff 00 00000000 00000000  ffffffff 00 ffffff92 ffffff92 "
                                          "ffffffff 00 fffffffe fffffffe  ffffffff 01 ffffffff"))
        self.assertEqual(c.exists(m4 + "/d").err, zw.ERR["NONODE"])

    def test_empty_multi_whole_reply(self):
        c = self.conn()
        xid = c.submit(OP["multi"], zw.enc_multi([]))
        c._fill(4)
        self.assertEqual(c.buf[:4], hx("00000019"))
        payload = c.recv_frame()
        rxid, zxid, err = header(payload)
        self.assertEqual((rxid, err), (xid, 0))
        self.assertEqual(payload[16:], hx("ffffffff 01 ffffffff"))

    def test_multi_create_result_types(self):
        c = self.conn()
        r = c.multi([("create2", self.p("/t1"), b"", zw.OPEN_ACL, 0),
                     ("create", self.p("/t2"), b"", zw.OPEN_ACL, 4),
                     ("setData", self.p("/t1"), None, -1),
                     ("check", self.p("/t1"), 1),
                     ("delete", self.p("/t1"), 1)])
        self.assertEqual(r.err, 0)
        self.assertEqual([x.type for x in r.value], [1, 15, 5, 13, 2])
        self.assertEqual(r.value[0].value, self.p("/t1"))
        self.assertEqual(r.value[1].value[1].ephemeralOwner, 0)

    def test_multi_read_mixed_is_marshalling_error(self):
        c = self.conn()
        r = c.multi([("create", self.p("/mx"), b"", zw.OPEN_ACL, 0), ("getData", self.p("/mx"))])
        self.assertEqual(r.err, zw.ERR["MARSHALLINGERROR"])
        self.assertEqual(c.exists(self.p("/mx")).err, zw.ERR["NONODE"])
        r = c.multi_read([("getData", self.prefix), ("getChildren", self.p("/nope"))])
        self.assertEqual(r.err, 0)
        self.assertEqual([(x.type, x.err) for x in r.value], [(4, 0), (-1, -101)])

    def test_add_watch_4_byte_body(self):
        c = self.conn()
        xid = c.submit(OP["addWatch"], W().string(self.p("/aw")).int(1).bytes())
        payload = c.recv_frame()
        self.assertEqual(len(payload), 20)
        self.assertEqual(header(payload)[0], xid)
        self.assertEqual(header(payload)[2], 0)
        self.assertEqual(payload[16:], b"\x00\x00\x00\x00")
        r = c.add_watch(self.p("/aw"), 2)
        self.assertEqual(r.err, zw.ERR["MARSHALLINGERROR"])

    def test_persistent_recursive_watch_events(self):
        c = self.conn()
        other = self.conn()
        self.assertEqual(c.add_watch(self.p("/rw"), zw.AW_PERSISTENT_RECURSIVE).err, 0)
        other.create(self.p("/rw"))
        other.create(self.p("/rw/a"))
        other.set_data(self.p("/rw/a"), b"1")
        other.delete(self.p("/rw/a"))
        c.ping()
        self.assertEqual([(e.type, e.path) for e in c.take_events()],
                         [(1, self.p("/rw")), (1, self.p("/rw/a")), (3, self.p("/rw/a")), (2, self.p("/rw/a"))])
        self.assertEqual(c.remove_watches(self.p("/rw"), zw.WT_ANY).err, 0)
        self.assertEqual(c.check_watches(self.p("/rw"), zw.WT_ANY).err, zw.ERR["NOWATCHER"])
        self.assertEqual(c.check_watches(self.p("/rw"), 7).err, zw.ERR["MARSHALLINGERROR"])

    def test_auth_and_whoami(self):
        c = self.conn()
        c.submit(OP["auth"], W().int(0).string("digest").buffer(b"user:pw").bytes(), xid=-4)
        self.assertEqual(c.recv_frame(), struct.pack(">iqi", -4, 0, 0))
        r = c.who_am_i()
        self.assertEqual(sorted(r.value), [("digest", "user"), ("ip", "127.0.0.1")])
        r = c.create(self.p("/acl"), b"", [zw.ACL(31, "auth", "")], 0)
        self.assertEqual(r.err, 0)
        r = c.get_acl(self.p("/acl"))
        self.assertEqual(r.value[0], [zw.ACL(31, "digest", "user:2Om+GBbT2q/tS6pdvACZbbm7/1A=")])

    def test_auth_failure_closes(self):
        c = self.conn()
        r = c.auth("nosuchscheme", b"x")
        self.assertEqual((r.xid, r.zxid, r.err), (-4, 0, zw.ERR["AUTHFAILED"]))
        self.assertTrue(c.is_closed_by_peer(wait=5))

    def test_null_and_empty_data(self):
        c = self.conn()
        c.create(self.p("/n"), None)
        self.assertIsNone(c.get_data(self.p("/n")).value[0])
        c.set_data(self.p("/n"), b"")
        self.assertEqual(c.get_data(self.p("/n")).value[0], b"")
        c.set_data(self.p("/n"), None)
        r = c.get_data(self.p("/n"))
        self.assertIsNone(r.value[0])
        self.assertEqual(r.body[:4], b"\xff\xff\xff\xff")

    def test_sync_echoes_path(self):
        c = self.conn()
        for p in ("/does/not/exist", "bad//path", self.prefix):
            r = c.sync(p)
            self.assertEqual((r.err, r.value), (0, p))

    def test_sasl_without_sasl_configured(self):
        if KIND == "paddock" and os.environ.get("PD_SKIP_SASL"):
            self.skipTest("PD_SKIP_SASL")
        c = self.conn()
        xid = c.submit(OP["sasl"], W().buffer(b"").bytes())
        payload = c.recv_frame()
        self.assertEqual(payload, struct.pack(">iqi", xid, 0, 0) + b"\xff\xff\xff\xff")

    def test_reconfig_disabled(self):
        c = self.conn()
        r = c.reconfig("", "", "", -1)
        self.assertEqual(r.err, zw.ERR["RECONFIGDISABLED"])
        self.assertEqual(len(r.body), 0)

    def test_builtin_nodes(self):
        c = self.conn()
        st = c.exists("/zookeeper").value
        self.assertEqual((st.cversion, st.numChildren, st.czxid), (-2, 2, 0))
        st = c.exists("/zookeeper/config").value
        self.assertEqual(st.aversion, -1)
        r = c.get_acl("/zookeeper/config")
        self.assertEqual(r.value[0], [zw.ACL(1, "world", "anyone")])
        for p in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
            self.assertEqual(c.delete(p).err, zw.ERR["BADARGUMENTS"], p)
        self.assertEqual(c.create("/").err, zw.ERR["NODEEXISTS"])


class Closing(Base):
    def _unknown(self, opcodes):
        for opcode in opcodes:
            c = self.conn()
            c.submit(opcode, W().string("/").bytes(), xid=5)
            payload = c.recv_frame()
            self.assertEqual(payload, struct.pack(">iqi", 5, -1, zw.ERR["UNIMPLEMENTED"]), "opcode %d" % opcode)
            self.assertTrue(c.is_closed_by_peer(wait=5), "opcode %d" % opcode)
        self.assert_serving()

    def test_unknown_opcode_unimplemented_then_close(self):
        self._unknown((10, 23, 99, 200, -1, 0, -3, -100))

    def test_internal_opcodes_are_unknown(self):
        """§5: paddock treats the internal deleteContainer (20) and createSession (-10) as
        unknown.  The reference executes them (20 gives a BADARGUMENTS reply with a zxid),
        so this probe is paddock-only."""
        if KIND != "paddock":
            self.skipTest("reference server handles opcodes 20/-10 itself")
        self._unknown((20, -10))

    def test_close_session_replies_then_closes(self):
        c = self.conn()
        sid, pw = c.session_id, c.passwd
        c.create(self.p("/e"), b"", zw.OPEN_ACL, zw.EPHEMERAL)
        before = c.ping().zxid
        xid = c.submit(OP["closeSession"])
        payload = c.recv_frame()
        rxid, zxid, err = header(payload)
        self.assertEqual((len(payload), rxid, err), (16, xid, 0))
        self.assertGreater(zxid, before)
        self.assertTrue(c.is_closed_by_peer(wait=5))
        d = self.conn()
        self.assertEqual(d.exists(self.p("/e")).err, zw.ERR["NONODE"])
        e = self.raw_conn()
        resp = e.connect(session_id=sid, passwd=pw)
        self.assertEqual((resp.timeout, resp.session_id, resp.passwd), (0, 0, b"\x00" * 16))
        self.assertTrue(e.is_closed_by_peer(wait=5))

    def test_negative_frame_length_closes_connection(self):
        c = self.conn()
        other = self.conn()
        c.send_raw(struct.pack(">i", -1) + b"\x00" * 8)
        self.assertTrue(c.is_closed_by_peer(wait=5))
        self.assertEqual(c.buf, b"")
        self.assertEqual(other.exists("/").err, 0)
        self.assert_serving()

    def test_oversized_frame_length_closes_connection(self):
        for n in (0x100000, 2 * 1024 * 1024, 0x7fffffff):
            c = self.conn()
            other = self.conn()
            c.send_raw(struct.pack(">i", n) + struct.pack(">ii", 1, OP["exists"]))
            self.assertTrue(c.is_closed_by_peer(wait=5), "length %d" % n)
            self.assertEqual(c.buf, b"")
            self.assertEqual(other.exists("/").err, 0)
        self.assert_serving()

    def test_bad_first_frame_closes(self):
        for first in (struct.pack(">i", -5), struct.pack(">i", 0x7fffffff), b"abcd"):
            c = self.raw_conn()
            c.send_raw(first + b"\x00" * 8)
            self.assertTrue(c.is_closed_by_peer(wait=5), repr(first))
            self.assertEqual(c.buf, b"")
        self.assert_serving()

    def test_truncated_body_marshalling_error_connection_stays(self):
        c = self.conn()
        # getData without the watch byte; create without flags; setData without version
        for opcode, body in ((OP["getData"], W().string(self.prefix).bytes()),
                             (OP["create"], W().string(self.p("/tr")).buffer(b"").acls(zw.OPEN_ACL).bytes()),
                             (OP["setData"], W().string(self.prefix).buffer(b"x").bytes()),
                             (OP["exists"], b"\x00\x00")):
            xid = c.submit(opcode, body)
            payload = c.recv_frame()
            rxid, zxid, err = header(payload)
            self.assertEqual((len(payload), rxid, err), (16, xid, zw.ERR["MARSHALLINGERROR"]), "opcode %d" % opcode)
        self.assertFalse(c.is_closed_by_peer(wait=0.5))
        self.assertEqual(c.exists(self.prefix).err, 0)
        self.assertEqual(c.exists(self.p("/tr")).err, zw.ERR["NONODE"])

    def test_extra_bytes_after_body_are_ignored(self):
        c = self.conn()
        r = c.call(OP["exists"], W().string(self.prefix).bool(False).bytes() + b"garbage")
        self.assertEqual(r.err, 0)


SRVR_RE = re.compile(
    r"\AZookeeper version: 3\.8\.[^\n]*\n"
    r"Latency min/avg/max: \d+/\d+(\.\d+)?/\d+\n"
    r"Received: \d+\n"
    r"Sent: \d+\n"
    r"Connections: \d+\n"
    r"Outstanding: \d+\n"
    r"Zxid: 0x[0-9a-f]+\n"
    r"Mode: standalone\n"
    r"Node count: \d+\n\Z")


class FourLetterWords(unittest.TestCase):
    def test_ruok(self):
        self.assertEqual(harness.four_letter(SRV.port, "ruok"), "imok")

    def test_isro(self):
        self.assertEqual(harness.four_letter(SRV.port, "isro"), "rw")

    def test_srvr(self):
        out = harness.four_letter(SRV.port, "srvr")
        self.assertRegex(out, SRVR_RE)

    def test_stat(self):
        out = harness.four_letter(SRV.port, "stat")
        lines = out.split("\n")
        self.assertTrue(lines[0].startswith("Zookeeper version: 3.8"))
        self.assertEqual(lines[1], "Clients:")
        self.assertRegex(lines[2], r"^ /127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)$")
        self.assertIn("\nMode: standalone\n", out)

    def test_mntr(self):
        out = harness.four_letter(SRV.port, "mntr")
        kv = dict(line.split("\t", 1) for line in out.strip("\n").split("\n"))
        for key in ("zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency", "zk_min_latency",
                    "zk_packets_received", "zk_packets_sent", "zk_num_alive_connections",
                    "zk_outstanding_requests", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
                    "zk_approximate_data_size", "zk_open_file_descriptor_count",
                    "zk_max_file_descriptor_count"):
            self.assertIn(key, kv)
        self.assertEqual(kv["zk_server_state"], "standalone")

    def test_wchs(self):
        out = harness.four_letter(SRV.port, "wchs")
        self.assertRegex(out, r"\A\d+ connections watching \d+ paths\nTotal watches:\d+\n\Z")

    def test_unknown_word_closes_without_output(self):
        self.assertEqual(harness.four_letter(SRV.port, "abcd"), "")

    def test_not_whitelisted(self):
        srv = harness.server_class(KIND)(extra={"4lw.commands.whitelist": "ruok,srvr"})
        srv.start(timeout=60)
        try:
            self.assertEqual(harness.four_letter(srv.port, "conf"),
                             "conf is not executed because it is not in the whitelist.\n")
            self.assertEqual(harness.four_letter(srv.port, "ruok"), "imok")
        finally:
            srv.stop()


if __name__ == "__main__":
    if KIND == "paddock" and not os.path.exists(harness.PADDOCK_BIN):
        print("paddock binary %s not found" % harness.PADDOCK_BIN)
        sys.exit(1)
    print("protocol probes against %s" % KIND)
    unittest.main(verbosity=2)
