#!/usr/bin/python3
"""Every scenario of scenarios/ passes in the simulator over SCENARIO_SEEDS seeds (100 by default),
recorded in SQLite: one run per seed with outcome pass, its checks held, its figures, timeline,
client operations and throughput; a recorded replay command gives the recorded digest again.  A
scenario that expects something false fails with exit 1 and a message naming the step, the line,
the seed and the replay command; a script mistake exits 2.  A temporary directory, removed also on
failure."""
import glob
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = int(os.environ.get("SCENARIO_SEEDS", "100"))
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.lua")))
NAMES = [os.path.basename(s)[:-4] for s in SCENARIOS]
WITH_FAILOVER = {"master_failover", "leader_isolation", "minority_partition", "election_storm"}
WITH_LOAD = {"master_failover", "leader_isolation", "minority_partition", "rolling_restart", "crash_torn_write",
             "disk_full", "election_storm"}


def paddock(*args, cwd=ROOT):
    return subprocess.run([harness.PADDOCK_BIN] + list(args), capture_output=True, text=True, timeout=900, cwd=cwd)


class ScenarioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pd-scen-")
        cls.db = os.path.join(cls.dir, "runs.sqlite")
        cls.outputs = {}
        try:
            for path, name in zip(SCENARIOS, NAMES):
                rel = os.path.relpath(path, ROOT)
                cls.outputs[name] = paddock("sim", rel, "--seeds", "1..%d" % SEEDS, "--db", cls.db, "--quiet")
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_nine_scenarios(self):
        for name in ("master_failover", "leader_isolation", "minority_partition", "rolling_restart",
                     "session_expiry", "crash_torn_write", "disk_full", "lock_contention", "election_storm"):
            self.assertIn(name, NAMES)

    def test_regressions_pass(self):
        # scenarios/regressions/: failures the fuzzer found, shrunk and fixed; each must keep passing
        found = sorted(glob.glob(os.path.join(ROOT, "scenarios", "regressions", "*.lua")))
        self.assertTrue(found)
        for path in found:
            p = paddock("sim", os.path.relpath(path, ROOT), "--seeds", "1..%d" % SEEDS, "--quiet")
            self.assertEqual(p.returncode, 0, path + ": " + p.stdout[-3000:] + p.stderr[-2000:])
            self.assertIn("%d seeds (1..%d): %d passed, 0 failed" % (SEEDS, SEEDS, SEEDS), p.stdout)

    def test_every_seed_passes(self):
        for name in NAMES:
            p = self.outputs[name]
            self.assertEqual(p.returncode, 0, name + ": " + p.stdout[-3000:] + p.stderr[-2000:])
            self.assertIn("%d seeds (1..%d): %d passed, 0 failed" % (SEEDS, SEEDS, SEEDS), p.stdout)

    def test_runs_are_recorded(self):
        con = sqlite3.connect(self.db)
        for name in NAMES:
            rows = con.execute("SELECT id, seed, outcome, kind, digest, replay, virtual_ms FROM runs "
                               "WHERE scenario = ? ORDER BY seed", (name,)).fetchall()
            self.assertEqual([r[1] for r in rows], list(range(1, SEEDS + 1)), name)
            self.assertEqual({r[2] for r in rows}, {"pass"}, name)
            self.assertEqual({r[3] for r in rows}, {"scenario"}, name)
            self.assertGreater(len({r[4] for r in rows}), SEEDS // 2, name + ": seeds should differ")
            failed = con.execute("SELECT count(*) FROM checks c JOIN runs r ON r.id = c.run_id "
                                 "WHERE r.scenario = ? AND c.held = 0", (name,)).fetchone()[0]
            self.assertEqual(failed, 0, name)
            checks = con.execute("SELECT count(*) FROM checks c JOIN runs r ON r.id = c.run_id "
                                 "WHERE r.scenario = ?", (name,)).fetchone()[0]
            self.assertGreaterEqual(checks, 3 * SEEDS, name)
            steps = con.execute("SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id "
                                "WHERE r.scenario = ? AND e.kind = 'step'", (name,)).fetchone()[0]
            self.assertGreaterEqual(steps, SEEDS, name)
            ops = con.execute("SELECT count(*), sum(returned_us IS NOT NULL) FROM operations o JOIN runs r "
                              "ON r.id = o.run_id WHERE r.scenario = ?", (name,)).fetchone()
            self.assertGreater(ops[0], SEEDS, name)
            self.assertGreater(ops[1], 0, name)
            if name in WITH_FAILOVER:
                v = con.execute("SELECT count(*), min(value), max(value) FROM run_figures f JOIN runs r "
                                "ON r.id = f.run_id WHERE r.scenario = ? AND f.name = 'failover_ms'",
                                (name,)).fetchone()
                self.assertEqual(v[0], SEEDS, name)
                self.assertGreater(v[1], 0, name)
            if name in WITH_LOAD:
                ok = con.execute("SELECT sum(t.ok) FROM throughput t JOIN runs r ON r.id = t.run_id "
                                 "WHERE r.scenario = ?", (name,)).fetchone()[0]
                self.assertGreater(ok, 10 * SEEDS, name)
            # the faults a scenario makes are on its timeline
            kinds = {k for (k,) in con.execute("SELECT DISTINCT e.kind FROM events e JOIN runs r ON r.id = e.run_id "
                                               "WHERE r.scenario = ?", (name,))}
            self.assertIn("role", kinds, name)
        # the founding story's numbers
        dead = con.execute("SELECT count(*) FROM operations o JOIN runs r ON r.id = o.run_id WHERE "
                           "r.scenario = 'master_failover' AND o.op = 'create' AND o.err = 0").fetchone()[0]
        self.assertGreaterEqual(dead, 5 * SEEDS)
        con.close()

    def test_replay_gives_the_recorded_digest(self):
        con = sqlite3.connect(self.db)
        for name in NAMES:
            digest, replay = con.execute("SELECT digest, replay FROM runs WHERE scenario = ? AND seed = ?",
                                         (name, min(7, SEEDS))).fetchone()
            argv = shlex.split(replay)
            self.assertEqual(argv[:2], ["paddock", "sim"])
            again = paddock(*argv[1:])
            self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
            self.assertIn("digest %s" % digest, again.stdout, name)
        con.close()

    def test_false_expectation_fails_clearly(self):
        script = os.path.join(HERE, "scenarios", "old_master_stays.lua")
        db = os.path.join(self.dir, "false.sqlite")
        p = paddock("sim", script, "--seed", "5", "--db", db)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        with open(script) as f:
            line = [n for n, text in enumerate(f, 1) if "master A to be active still" in text][0]
        self.assertIn('old_master_stays failed at step "the old master stays master" (%s:%d): '
                      'expected master A to be active still' % (script, line), p.stdout)
        self.assertIn("seed 5; replay: paddock sim %s --seed 5" % script, p.stdout)
        con = sqlite3.connect(db)
        outcome, message, code = con.execute("SELECT outcome, message, exit_code FROM runs").fetchone()
        self.assertEqual((outcome, code), ("failed", 1))
        self.assertIn("the old master stays master", message)
        held = con.execute("SELECT held, step FROM checks WHERE name = 'master A to be active still'").fetchone()
        self.assertEqual(held, (0, "the old master stays master"))
        con.close()
        # the replay command in the message fails the same way
        replay = re.search(r"replay: (paddock sim .*)$", p.stdout.strip()).group(1)
        again = paddock(*shlex.split(replay)[1:])
        self.assertEqual(again.returncode, 1)
        self.assertEqual(again.stdout.strip(), p.stdout.strip())

    def test_lone_voter_leads(self):
        # one voter and two observers: the voter is a quorum by itself (a fix this test keeps)
        p = paddock("sim", os.path.join(HERE, "scenarios", "lone_voter.lua"), "--seeds", "1..20", "--quiet")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("20 passed, 0 failed", p.stdout)

    def test_script_mistake_and_bad_arguments(self):
        script = os.path.join(HERE, "scenarios", "script_error.lua")
        p = paddock("sim", script, "--seed", "1")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn('script_error has a script error at step "a mistake"', p.stdout)
        self.assertIn("attempt to index a nil value", p.stdout)
        p = paddock("sim", os.path.join(self.dir, "missing.lua"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read the scenario", p.stderr)
        p = paddock("sim", SCENARIOS[0], "--seeds", "5..1")
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
