#!/usr/bin/python3
"""`paddock sim --db FILE` records each run in SQLite (reports/schema.sql): passing ensemble seeds
and a run with a planted bug, their outcomes, figures, checks and timelines; the recorded replay
command gives the recorded digest again (keeping a timeline changes nothing in the run).  A temporary directory, removed also on failure."""
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def sim(*args):
    return subprocess.run([harness.PADDOCK_BIN, "sim"] + list(args), capture_output=True, text=True, timeout=300)


class RunDbTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pd-rundb-")
        self.db = os.path.join(self.dir, "runs.sqlite")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_runs_are_recorded_and_replay(self):
        for seed in (1, 2, 3):
            p = sim("--ensemble", "--seed", str(seed), "--seconds", "5", "--db", self.db)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # a planted stale read: the linearizability checker fails the run, and it is recorded
        bad = sim("--seed", "1", "--seconds", "5", "--bugs", "0x8", "--db", self.db)
        self.assertEqual(bad.returncode, 129, bad.stdout)
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT id, kind, seed, outcome, exit_code, message, digest, replay, parameters "
                           "FROM runs ORDER BY id").fetchall()
        self.assertEqual([(r[1], r[2], r[3], r[4]) for r in rows],
                         [("sim", 1, "pass", 0), ("sim", 2, "pass", 0), ("sim", 3, "pass", 0),
                          ("sim", 1, "violation", 129)])
        self.assertIn("not linearizable", rows[3][5])
        self.assertIn('"ensemble":true', rows[0][8])
        self.assertIn('"bugs":8', rows[3][8])
        # the figures and checks of each run
        acked = con.execute("SELECT value FROM run_figures WHERE run_id = ? AND name = 'acked_writes'",
                            (rows[0][0],)).fetchone()[0]
        self.assertGreater(acked, 0)
        checks = con.execute("SELECT name, held FROM checks WHERE run_id = ? ORDER BY name", (rows[3][0],)).fetchall()
        self.assertEqual(checks, [("liveness", 1), ("safety", 0)])
        # the timeline: faults and recoveries as the figures count them, role changes, the calm
        for r in rows[:3]:
            kinds = dict(con.execute("SELECT kind, count(*) FROM events WHERE run_id = ? GROUP BY kind", (r[0],)))
            crashes = con.execute("SELECT value FROM run_figures WHERE run_id = ? AND name = 'crashes'",
                                  (r[0],)).fetchone()[0]
            self.assertEqual(kinds.get("crash", 0), crashes)
            self.assertEqual(kinds.get("calm"), 1)
            self.assertGreaterEqual(kinds.get("role", 0), 3)  # every member took a role
            times = [t for (t,) in con.execute("SELECT at_us FROM events WHERE run_id = ? ORDER BY rowid", (r[0],))]
            self.assertEqual(times, sorted(times))
        for r in rows:
            digest_line = "digest=%s" % r[6]
            argv = shlex.split(r[7])
            self.assertEqual(argv[:2], ["paddock", "sim"])
            again = subprocess.run([harness.PADDOCK_BIN] + argv[1:], capture_output=True, text=True, timeout=300)
            self.assertIn(digest_line, again.stdout, r[7])
            self.assertEqual(again.returncode, r[4])
        con.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
