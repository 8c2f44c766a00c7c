#!/usr/bin/python3
"""`paddock run SCENARIO.lua` against real `paddock server` processes on 127.0.0.1: the founding
story (master_failover) passes against a real 3-server ensemble over three seeds and is recorded as
kind 'real'; leader_isolation passes too (partitions through the runner's relay); disk_full, which
asks for a verb real processes cannot do here, fails with exit 3 and says so.  Every server process
and temporary directory the runs create is gone afterwards (the runner's TMPDIR is the test's own
directory, which is removed also on failure)."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class RealScenarioTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pd-real-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.db = os.path.join(self.dir, "runs.sqlite")
        self.env = dict(os.environ, TMPDIR=self.dir)

    def run_scenario(self, *args):
        return subprocess.run([harness.PADDOCK_BIN, "run"] + list(args) + ["--db", self.db], capture_output=True,
                              text=True, timeout=600, cwd=ROOT, env=self.env)

    def leftovers(self):
        """Server processes or world directories a run left behind."""
        dirs = [d for d in os.listdir(self.dir) if d.startswith("pd-real-")]
        procs = subprocess.run(["pgrep", "-f", self.dir], capture_output=True, text=True).stdout.split()
        return dirs, procs

    def test_master_failover_against_processes(self):
        p = self.run_scenario("scenarios/master_failover.lua", "--seeds", "1..3")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("3 seeds (1..3): 3 passed, 0 failed", p.stdout)
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT kind, scenario, seed, outcome, replay FROM runs ORDER BY seed").fetchall()
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in rows],
                         [("real", "master_failover", s, "pass") for s in (1, 2, 3)])
        self.assertEqual(rows[0][4], "paddock run scenarios/master_failover.lua --seed 1")
        failover = [v for (v,) in con.execute("SELECT value FROM run_figures WHERE name = 'failover_ms'")]
        self.assertEqual(len(failover), 3)
        self.assertTrue(all(3000 < v < 15000 for v in failover), failover)  # a 4 s session expires first
        held = con.execute("SELECT count(*), sum(held) FROM checks").fetchone()
        self.assertGreater(held[0], 30)
        self.assertEqual(held[0], held[1])
        kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM events")}
        self.assertTrue({"step", "kill", "measure"} <= kinds, kinds)
        con.close()
        self.assertEqual(self.leftovers(), ([], []))

    def test_leader_isolation_against_processes(self):
        p = self.run_scenario("scenarios/leader_isolation.lua", "--seed", "1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.leftovers(), ([], []))

    def test_a_verb_real_processes_cannot_do(self):
        p = self.run_scenario("scenarios/disk_full.lua", "--seed", "1")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("disk_full cannot run here at step", p.stdout)
        self.assertIn("not possible", p.stdout)
        self.assertIn("replay: paddock run scenarios/disk_full.lua --seed 1", p.stdout)
        self.assertEqual(self.leftovers(), ([], []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
