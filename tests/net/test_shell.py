"""paddock shell (a zkCli-like shell on the sans-I/O client/zkc) against paddock and against a
real Apache ZooKeeper 3.8 started by the test: the same script gives the same output from both
(times and zxids in stat aside), and the output says what zkCli says."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SCRIPT = """create /s hello
create -s /s/a- x
create -s /s/a- y
create -e /s/e
ls /s
get /s
set /s world
get /s
stat /s
delete /nope
create /s dup
create /s/e/child x
delete /s
deleteall /s
ls /
sync /
addWatch /w
create /w x
create /w/c y
set /w/c z
delete /w/c
addWatch -m PERSISTENT /p
create /p 1
create /p/q 2
set /p 3
delete /p/q
addWatch -m BOGUS /p
create -c /box
create /box/item 1
stat /box
create -c -e /bad
get /nope
"""


def run_shell(port, script):
    r = subprocess.run([harness.PADDOCK_BIN, "shell", "-server", "127.0.0.1:%d" % port], input=script,
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout


def normalise(out):
    return re.sub(r"^(cZxid|mZxid|pZxid|ctime|mtime) = .*$", r"\1 = X", out, flags=re.M)


class ShellTest(unittest.TestCase):
    def test_same_output_from_paddock_and_zookeeper(self):
        outs = {}
        for kind in ("paddock", "zookeeper"):
            with harness.server_class(kind)() as srv:
                rc, out = run_shell(srv.port, SCRIPT)
                outs[kind] = (rc, normalise(out))
        self.assertEqual(outs["paddock"], outs["zookeeper"])
        rc, out = outs["paddock"]
        self.assertEqual(rc, 1)  # the last command (get /nope) failed
        for line in ("Created /s", "Created /s/a-0000000000", "Created /s/a-0000000001", "Created /s/e",
                     "[a-0000000000, a-0000000001, e]", "hello", "world", "dataVersion = 1", "numChildren = 3",
                     "Node does not exist: /nope", "Node already exists: /s",
                     "Ephemerals cannot have children: /s/e/child", "Node not empty: /s", "[zookeeper]",
                     "Sync is OK"):
            self.assertIn(line + "\n", out)
        # the persistent watches fired for every change, in order, and never ran out
        events = re.findall(r"^WatchedEvent state:SyncConnected type:(\w+) path:(\S+)$", out, flags=re.M)
        self.assertEqual(events, [("NodeCreated", "/w"), ("NodeCreated", "/w/c"), ("NodeDataChanged", "/w/c"),
                                  ("NodeDeleted", "/w/c"), ("NodeCreated", "/p"), ("NodeChildrenChanged", "/p"),
                                  ("NodeDataChanged", "/p"), ("NodeChildrenChanged", "/p")])
        self.assertIn("Unsupported mode: BOGUS\n", out)
        self.assertIn("Created /box\n", out)
        self.assertIn("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.\n", out)

    def test_one_command_from_the_command_line(self):
        with harness.PaddockServer() as srv:
            r = subprocess.run([harness.PADDOCK_BIN, "shell", "-server", "127.0.0.1:%d" % srv.port, "create", "/one",
                                "1"], capture_output=True, text=True, timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, "Created /one\n"))
            r = subprocess.run([harness.PADDOCK_BIN, "shell", "-server",
                                "127.0.0.1:%d,127.0.0.1:%d" % (harness.free_port(), srv.port), "get", "/one"],
                               capture_output=True, text=True, timeout=30)
            # the first server of the list refuses: the client goes on to the next
            self.assertEqual((r.returncode, r.stdout), (0, "1\n"))


if __name__ == "__main__":
    harness.install_signal_cleanup()
    unittest.main(verbosity=2)
