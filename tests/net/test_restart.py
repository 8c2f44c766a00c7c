"""A restarted paddock keeps what it acknowledged (interim log, before the durability issue):
data, sequence counters, sessions with their ephemerals, and the zxid, so that clients whose
lastZxidSeen came from before the restart reconnect.  A torn tail of the log (a crash in the
middle of a write) is cut off and reported; the server starts and serves."""
import glob
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zkwire as zw  # noqa: E402



def records_end(path):
    """Offset just past the last record of a log file (files are
    preallocated with zeros; a zero length field ends the records)."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 8 <= len(data):
        n = struct.unpack(">I", data[off:off + 4])[0]
        if n == 0 or off + 8 + n > len(data):
            break
        off += 8 + n
    return off


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.srv = harness.PaddockServer(keep_dir=True).start()

    def tearDown(self):
        self.srv.keep_dir = False
        self.srv.stop()

    def restart(self):
        self.srv.kill()  # SIGKILL: no clean shutdown
        self.srv.start()

    def test_kill9_keeps_data_sessions_and_zxid(self):
        a = zw.Conn("127.0.0.1", self.srv.port)
        a.connect(timeout_ms=30000)
        self.assertEqual(a.create("/app", b"v1").err, 0)
        self.assertEqual(a.create("/app/s-", b"", flags=zw.PERSISTENT_SEQUENTIAL).value, "/app/s-0000000000")
        self.assertEqual(a.create("/app/eph", b"e", flags=zw.EPHEMERAL).err, 0)
        self.assertEqual(a.set_data("/app", b"v2", 0).err, 0)
        self.assertEqual(a.delete("/app/s-0000000000").err, 0)
        zxid_before = harness.srvr_zxid(self.srv.port)
        sid, pw, seen = a.session_id, a.passwd, a.last_zxid
        a.close()
        self.restart()
        self.assertEqual(harness.srvr_zxid(self.srv.port), zxid_before)
        # the old session re-attaches with its password and lastZxidSeen
        b = zw.Conn("127.0.0.1", self.srv.port)
        resp = b.connect(timeout_ms=30000, session_id=sid, passwd=pw, last_zxid=seen)
        self.assertEqual(resp.session_id, sid)
        self.assertGreater(resp.timeout, 0)
        r = b.get_data("/app")
        self.assertEqual(r.value[0], b"v2")
        self.assertEqual(r.value[1].version, 1)
        self.assertEqual(b.exists("/app/eph").value.ephemeralOwner, sid)
        # the child-creation counter survived (s-0 and eph were created, s-0 deleted): the
        # next sequential name is 2, as ZooKeeper would give, never a reused number
        self.assertEqual(b.create("/app/s-", b"", flags=zw.PERSISTENT_SEQUENTIAL).value, "/app/s-0000000002")
        self.assertGreater(b.last_zxid, zxid_before)
        # closing the session now removes its ephemeral
        b.close_session()
        c = zw.Conn("127.0.0.1", self.srv.port)
        c.connect()
        self.assertEqual(c.exists("/app/eph").err, zw.ERR["NONODE"])
        c.close_session()

    def test_torn_tail_is_cut_and_reported(self):
        a = zw.Conn("127.0.0.1", self.srv.port)
        a.connect()
        for i in range(20):
            self.assertEqual(a.create("/n%d" % i, b"x" * 50).err, 0)
        a.close_session()
        self.srv.kill()
        logs = sorted(glob.glob(os.path.join(self.srv.data_dir, "paddock", "log.*")))
        self.assertTrue(logs)
        size = records_end(logs[-1])
        with open(logs[-1], "r+b") as f:  # half a record: a length, a checksum, 3 of 40 bytes
            f.seek(size)
            f.write(b"\x00\x00\x00\x28\x12\x34\x56\x78abc")
        self.srv.start()
        # in a preallocated file a half-written record is followed by zeros,
        # so its checksum is what gives it away
        self.assertRegex(self.srv.log(), r"(torn|corrupt) at offset %d .* cut off" % size)
        self.assertEqual(os.path.getsize(logs[-1]), size)
        b = zw.Conn("127.0.0.1", self.srv.port)
        b.connect()
        self.assertEqual(b.get_children("/").value and sorted(b.get_children("/").value)[0], "n0")
        self.assertEqual(len([c for c in b.get_children("/").value if c.startswith("n")]), 20)
        self.assertEqual(b.create("/after", b"").err, 0)
        b.close_session()
        self.restart()
        c = zw.Conn("127.0.0.1", self.srv.port)
        c.connect()
        self.assertEqual(c.exists("/after").err, 0)
        c.close_session()

    def test_corrupt_record_inside_is_not_silently_skipped(self):
        a = zw.Conn("127.0.0.1", self.srv.port)
        a.connect()
        for i in range(10):
            self.assertEqual(a.create("/c%d" % i, b"y" * 30).err, 0)
        a.close_session()
        self.srv.kill()
        log = sorted(glob.glob(os.path.join(self.srv.data_dir, "paddock", "log.*")))[-1]
        end = records_end(log)
        with open(log, "r+b") as f:
            data = bytearray(f.read(end))
            data[end // 2] ^= 0xFF  # a flipped byte in the middle of the newest file's records
            f.seek(0)
            f.write(data)
        self.srv.start()
        # the damaged record and everything after it are cut, loudly; what came before stays
        self.assertRegex(self.srv.log(), r"(corrupt|torn) at offset \d+ .* cut off")
        b = zw.Conn("127.0.0.1", self.srv.port)
        b.connect()
        kids = [c for c in b.get_children("/").value if c.startswith("c")]
        self.assertLess(len(kids), 10)
        self.assertGreater(len(kids), 0)
        b.close_session()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
