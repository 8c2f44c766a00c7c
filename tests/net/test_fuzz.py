#!/usr/bin/python3
"""`paddock fuzz`: a bounded smoke of swarm seeds with zero failures (FUZZ_SEEDS election seeds,
2,000 by default, and a tenth as many writes seeds, on two processes), recorded in SQLite; the
same seed draws the same world and replays to the same digest."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SEEDS = int(os.environ.get("FUZZ_SEEDS", "2000"))


def paddock(*args):
    return subprocess.run([harness.PADDOCK_BIN] + list(args), capture_output=True, text=True, timeout=1200)


class FuzzTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pd-fuzz-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.db = os.path.join(self.dir, "fuzz.sqlite")

    def test_smoke_has_no_failures(self):
        p = paddock("fuzz", "election", "--seeds", "1..%d" % SEEDS, "--jobs", "2", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("fuzz election: %d seeds in" % SEEDS, p.stdout)
        self.assertIn(": 0 failed", p.stdout)
        self.assertIn("seeds/s", p.stderr)  # the progress line
        w = max(SEEDS // 10, 20)
        p = paddock("fuzz", "writes", "--seeds", "1..%d" % w, "--jobs", "2", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        con = sqlite3.connect(self.db)
        rows = dict(con.execute("SELECT scenario, count(*) FROM runs WHERE kind = 'fuzz' AND outcome = 'pass' "
                                "GROUP BY scenario"))
        self.assertEqual(rows, {"election": SEEDS, "writes": w})
        # swarm: the worlds differ in size and in the faults they turn on
        params = [p for (p,) in con.execute("SELECT parameters FROM runs WHERE scenario = 'election'")]
        sizes = {re.search(r'"servers":(\d+)', p).group(1) for p in params}
        masks = {re.search(r'"faults":"(0x[0-9a-f]+)"', p).group(1) for p in params}
        self.assertEqual(sizes, {"3", "5", "7"})
        self.assertGreater(len(masks), min(SEEDS, 4096) // 4)
        # coverage marks: the run prints those never hit, and the report lists them per workload
        self.assertRegex(p.stdout, r"coverage marks never hit: .*\((\d+) of (\d+) hit\)")
        out = os.path.join(self.dir, "report")
        rep = paddock("report", self.db, "-o", out)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("## 8. Coverage marks never hit (fuzzing)", md)
        self.assertIn("| election | %d | " % SEEDS, md)
        hit = 0
        for (v,) in con.execute("SELECT f.value FROM run_figures f JOIN runs r ON r.id = f.run_id "
                                "WHERE r.scenario = 'election' AND f.name = 'marks_hit'"):
            hit |= int(v)
        self.assertIn("| election | %d | %d of " % (SEEDS, bin(hit).count("1")), md)
        self.assertTrue(hit & 1, "elected_leader is mark 0: every world elects a leader")
        digest, replay = con.execute("SELECT digest, replay FROM runs WHERE scenario = 'election' AND seed = 7"
                                     ).fetchone()
        con.close()
        self.assertEqual(replay, "paddock fuzz election --replay 7")
        again = paddock("fuzz", "election", "--replay", "7")
        self.assertEqual(again.returncode, 0, again.stdout)
        self.assertIn("digest=%s" % digest, again.stdout)
        self.assertIn("faults on: ", again.stdout)

    def test_shrink_a_planted_bug(self):
        # partitions that never heal (a planted world bug): the fuzzer finds a seed, --shrink keeps
        # only what the failure needs, and prints a replay command and a scenario that runs
        p = paddock("fuzz", "election", "--bugs", "0x80", "--seeds", "1..40", "--stop-on-failure", "--quiet")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        seed = min(int(m) for m in re.findall(r"^seed (\d+): liveness", p.stdout, re.M))
        original = paddock("fuzz", "election", "--replay", str(seed), "--bugs", "0x80")
        mask_before = int(re.search(r'"faults":"(0x[0-9a-f]+)"', original.stdout).group(1), 16)
        s = paddock("fuzz", "election", "--replay", str(seed), "--bugs", "0x80", "--shrink")
        self.assertEqual(s.returncode, 128, s.stdout + s.stderr)
        self.assertIn("shrunk in ", s.stdout)
        world = re.search(r"^shrunk in \d+ runs: (.*)$", s.stdout, re.M).group(1)
        mask_after = int(re.search(r'"faults":"(0x[0-9a-f]+)"', world).group(1), 16)
        self.assertEqual(mask_after & ~mask_before, 0)
        self.assertLess(bin(mask_after).count("1"), bin(mask_before).count("1"), (hex(mask_before), world))
        # the fault schedule shrinks too: moves left out (--drop), and the replay has none of them
        kept, total = map(int, re.search(r"^(\d+) of (\d+) nemesis moves kept$", s.stdout, re.M).groups())
        self.assertLess(kept, total, s.stdout[:2000])
        replay = re.search(r"^replay: (paddock fuzz .*)$", s.stdout, re.M).group(1).split()
        self.assertIn("--drop", replay)
        dropped = set()
        for part in replay[replay.index("--drop") + 1].split(","):
            a, _, b = part.partition("-")
            dropped.update(range(int(a), int(b or a) + 1))
        again = paddock(*replay[1:])
        self.assertEqual(again.returncode, 128, again.stdout)
        moves = {int(m) for m in re.findall(r"^\s+[\d.]+ s\s+#(\d+)\s", again.stdout, re.M)}
        self.assertTrue(moves, again.stdout[:3000])
        self.assertLessEqual(len(moves), kept)
        self.assertEqual(moves & dropped, set(), again.stdout[:3000])
        # left out of a run, a move leaves every other move as it was: the same moves at the same times
        full = paddock(*[a for a in replay[1:] if a != "--drop" and a != replay[replay.index("--drop") + 1]])
        lines = lambda out: {l for l in out.splitlines() if re.match(r"^\s+[\d.]+ s\s+#\d+\s", l)}
        self.assertLessEqual(lines(again.stdout), lines(full.stdout))
        lua = s.stdout[s.stdout.index("-- regression:"):]
        path = os.path.join(self.dir, "regression.lua")
        with open(path, "w") as f:
            f.write(lua)
        run = paddock("sim", path, "--seed", "1")
        self.assertIn(run.returncode, (0, 1), run.stdout + run.stderr)  # a valid scenario (2: a script error)
        self.assertIn("ensemble { servers = ", lua)
        self.assertIn("a quorum of voters follows one serving leader", lua)

    def test_failures_are_shrunk_into_the_database(self):
        # a fuzz run shrinks its first failures (--shrink-failures N) and records each with its
        # shrunk replay command and scenario, beside the failing run
        p = paddock("fuzz", "election", "--bugs", "0x80", "--seeds", "1..40", "--db", self.db, "--quiet",
                    "--shrink-failures", "2")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT r.seed, r.outcome, r.message, s.replay, s.message, s.moves_kept, s.moves_total, "
                           "s.tries, s.scenario FROM shrunk s JOIN runs r ON r.id = s.run_id ORDER BY r.seed").fetchall()
        failed = [seed for (seed,) in con.execute("SELECT seed FROM runs WHERE outcome != 'pass' ORDER BY seed")]
        con.close()
        self.assertGreaterEqual(len(failed), 2)
        self.assertEqual(len(rows), 2)
        for seed, outcome, message, replay, shrunk_message, kept, total, tries, scenario in rows:
            self.assertIn(seed, failed)
            self.assertEqual(outcome, "liveness")
            self.assertTrue(replay.startswith("paddock fuzz election --replay %d " % seed), replay)
            self.assertIn("--bugs 0x80", replay)
            self.assertLessEqual(kept, total)
            self.assertGreater(tries, 1)
            self.assertTrue(scenario.startswith("-- regression: election seed %d" % seed), scenario[:200])
            self.assertIn("shrunk in", p.stdout)
            again = paddock(*replay.split()[1:])
            self.assertEqual(again.returncode, 128, again.stdout[-2000:])
            self.assertIn(shrunk_message, again.stdout)
        out = os.path.join(self.dir, "report")
        rep = paddock("report", self.db, "-o", out)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
            md = f.read()
        for row in rows:
            self.assertIn(row[3], md)  # the shrunk replay command
            self.assertIn(row[8].splitlines()[2], md)  # a line of its scenario

    def test_a_core_assertion_fails_its_seed(self):
        # a planted bug trips a core assertion in every third seed: each of those seeds fails with
        # exit 127 and the assertion, and the seeds after it still run (the worker is replaced)
        p = paddock("fuzz", "election", "--bugs", "0x4000", "--seeds", "1..30", "--jobs", "2", "--quiet",
                    "--db", self.db, "--shrink-failures", "1")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("fuzz election: 30 seeds in", p.stdout)
        self.assertIn(": 10 failed", p.stdout)
        failed = sorted(int(m) for m in re.findall(r"^seed (\d+): crash \(exit 127\): assertion failed: planted",
                                                  p.stdout, re.M))
        self.assertEqual(failed, list(range(3, 31, 3)))
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT seed, exit_code FROM runs WHERE kind = 'fuzz' ORDER BY seed").fetchall()
        con.close()
        self.assertEqual([r[0] for r in rows], list(range(1, 31)))
        self.assertEqual({r[0] for r in rows if r[1] == 127}, set(failed))
        self.assertRegex(p.stdout, r"seed 3 shrunk in \d+ runs .*exit 127: assertion failed: planted")
        r = paddock("fuzz", "election", "--bugs", "0x4000", "--replay", "3")
        self.assertEqual(r.returncode, 127, r.stdout + r.stderr)
        self.assertIn("FAILED (exit 127): assertion failed: planted", r.stdout)

    def test_a_run_that_dies_fails_its_seed(self):
        # a planted bug kills the run's process (SIGSEGV; under ASan its handler aborts) in every
        # fifth seed: that seed fails as a crash naming the signal, and the worker's later seeds run
        p = paddock("fuzz", "election", "--bugs", "0x8000", "--seeds", "1..20", "--jobs", "2", "--quiet",
                    "--shrink-failures", "0")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("fuzz election: 20 seeds in", p.stdout)
        died = sorted(int(m) for m in re.findall(r"^seed (\d+): crash \(exit 127\): the run died of signal \d+",
                                                p.stdout, re.M))
        self.assertEqual(died, [5, 10, 15, 20])
        self.assertEqual(paddock("fuzz", "election", "--bugs", "0x8000", "--replay", "5").returncode, 127)

    def test_usage(self):
        self.assertEqual(paddock("fuzz", "election", "--replay", "3", "--drop", "4-2").returncode, 2)
        self.assertEqual(paddock("fuzz", "nothing").returncode, 2)
        self.assertEqual(paddock("fuzz", "election", "--seeds", "9..1").returncode, 2)
        self.assertEqual(paddock("fuzz", "election", "--time", "soon").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
