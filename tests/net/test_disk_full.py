"""A full disk: paddock runs on a 6 MiB tmpfs of its own (a mount namespace made by the test
with unshare, so nothing outside it is touched).  Clients write 64 KiB znodes until the disk is
full: then writes fail cleanly with NOTREADONLY, reads go on, the server keeps running, and once
the test frees space (a ballast file it put there) writes resume.  Finally the data directory is
copied out and a second server started on the copy: every acknowledged write is there, and no
refused one."""
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zkwire as zw  # noqa: E402

BLOCK = 64 * 1024


class TmpfsPaddock(harness.PaddockServer):
    """paddock inside `unshare -Urm`, on a tmpfs mounted at self.mnt."""

    def __init__(self, size="6m", **kw):
        super().__init__(**kw)
        self.mnt = os.path.join(self.dir, "mnt")
        os.makedirs(self.mnt)
        self.size = size
        self.data_dir = os.path.join(self.mnt, "data")  # inside the tmpfs

    def command(self, cfg_path):
        script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && mkdir -p "$2/data" && exec "$3" server "$4"'
        return ["unshare", "-Urm", "sh", "-c", script, "sh", self.size, self.mnt, harness.PADDOCK_BIN, cfg_path]

    def inside(self, *parts):
        """A path in the server's tmpfs, seen from outside through /proc."""
        return os.path.join("/proc/%d/root" % self.proc.pid, self.mnt.lstrip("/"), *parts)


class DiskFullTest(unittest.TestCase):
    def test_full_disk_refuses_writes_keeps_reads_and_recovers(self):
        if shutil.which("unshare") is None:
            self.fail("unshare (util-linux) is needed to give the server a small filesystem")
        srv = TmpfsPaddock(extra={"preAllocSize": "64"})
        try:
            srv.start()
        except RuntimeError as e:
            self.fail("cannot start paddock on a private tmpfs (user namespaces disabled?): %s" % e)
        copy = None
        try:
            ballast = srv.inside("ballast")
            with open(ballast, "wb") as f:
                f.write(b"\xff" * (1536 * 1024))
            c = zw.Conn("127.0.0.1", srv.port)
            c.connect(timeout_ms=30000)
            acked, refused = [], None
            for i in range(400):
                path = "/big%03d" % i
                rep = c.create(path, bytes([i % 251]) * BLOCK)
                if rep.err == 0:
                    acked.append(path)
                    continue
                self.assertEqual(rep.err, zw.ERR["NOTREADONLY"], "a full disk must refuse writes cleanly")
                refused = path
                break
            self.assertIsNotNone(refused, "the 6 MiB filesystem never filled up")
            self.assertGreater(len(acked), 10)
            self.assertIn("refusing writes", srv.log())
            # the server lives, reads go on, writes stay refused while the disk is full
            self.assertEqual(c.get_data(acked[-1]).value[0], bytes([(len(acked) - 1) % 251]) * BLOCK)
            self.assertEqual(c.exists(refused).err, zw.ERR["NONODE"])
            self.assertEqual(len([k for k in c.get_children("/").value if k.startswith("big")]), len(acked))
            self.assertEqual(c.create("/small", b"x").err, zw.ERR["NOTREADONLY"])
            # a new client can still connect to an existing session and read
            other = zw.Conn("127.0.0.1", srv.port)
            other.connect(session_id=c.session_id, passwd=c.passwd, last_zxid=c.last_zxid)
            self.assertEqual(other.exists(acked[0]).err, 0)
            c = other
            # space comes back: writes resume within a few seconds
            os.unlink(ballast)
            self.assertTrue(harness.wait_until(lambda: c.create("/after", b"back").err == 0, timeout=15),
                            srv.log())
            self.assertIn("takes writes again", srv.log())
            self.assertEqual(c.create("/after2", b"more").err, 0)
            acked += ["/after", "/after2"]
            # a crash image of the data directory holds everything acknowledged
            copy = os.path.join(srv.dir, "copy")
            shutil.copytree(srv.inside("data"), copy)
            srv.kill()
            second = harness.PaddockServer(keep_dir=False)
            second.data_dir = copy
            with second:
                d = zw.Conn("127.0.0.1", second.port)
                d.connect()
                for p in acked:
                    self.assertEqual(d.exists(p).err, 0, "acknowledged %s lost" % p)
                self.assertEqual(d.get_data("/after2").value[0], b"more")
                self.assertEqual(d.exists(refused).err, zw.ERR["NONODE"])
                self.assertEqual(d.exists("/small").err, zw.ERR["NONODE"])
                d.close_session()
        finally:
            srv.stop()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
