"""The paddock binary's own commands: `paddock status`, `paddock version`, bad arguments and
bad configuration files (a clear error and a non-zero exit, never a crash)."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def run(*args, timeout=20):
    p = subprocess.run([harness.PADDOCK_BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class StatusTest(unittest.TestCase):
    def test_status_running_and_stopped(self):
        srv = harness.PaddockServer().start()
        cfg = os.path.join(srv.dir, "zoo.cfg")
        rc, out, err = run("status", cfg)
        self.assertEqual(rc, 0, err)
        self.assertIn("Mode: standalone", out)
        self.assertIn("Client port found: %d" % srv.port, out)
        keep = tempfile.mkdtemp(prefix="pd-cli-")
        try:
            cfg_copy = os.path.join(keep, "zoo.cfg")
            with open(cfg) as src, open(cfg_copy, "w") as dst:
                dst.write(src.read())
            srv.stop()
            rc, out, err = run("status", cfg_copy)
            self.assertEqual(rc, 1)
            self.assertIn("probably not running", err)
        finally:
            subprocess.run(["rm", "-rf", keep])

    def test_version_and_usage(self):
        rc, out, _ = run("version")
        self.assertEqual(rc, 0)
        self.assertIn("3.8.0", out)
        rc, _, err = run("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("usage", err)

    def test_bad_configs_are_refused_clearly(self):
        cases = {
            "tickTime=abc\ndataDir=/tmp/x\n": "line 1: invalid value for tickTime",
            "clientPort=2181\n": "dataDir is not set",
            "dataDir=/tmp/x\nminSessionTimeout=9000\nmaxSessionTimeout=100\n": "minSessionTimeout",
            "dataDir=/tmp/x\nnot a key value line\n": "line 2: expected key=value",
            "dataDir=/tmp/x-no-such-dir\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n":
                "myid file is missing",
        }
        d = tempfile.mkdtemp(prefix="pd-cli-")
        try:
            for text, expect in cases.items():
                cfg = os.path.join(d, "zoo.cfg")
                with open(cfg, "w") as f:
                    f.write(text)
                rc, _, err = run("server", cfg)
                self.assertEqual(rc, 2, "%r: %s" % (text, err))
                self.assertIn(expect, err, text)
            rc, _, err = run("server", os.path.join(d, "missing.cfg"))
            self.assertEqual(rc, 2)
            self.assertIn("cannot read", err)
        finally:
            subprocess.run(["rm", "-rf", d])

    def test_port_in_use_is_a_clear_error(self):
        srv = harness.PaddockServer().start()
        try:
            other = harness.PaddockServer(port=srv.port)
            cfg = other.write_config()
            rc, _, err = run("server", cfg)
            self.assertEqual(rc, 2)
            self.assertIn("Address already in use", err)
            other.stop()
        finally:
            srv.stop()


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
