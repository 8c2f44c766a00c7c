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
        replay = re.search(r"^replay: (paddock fuzz .*)$", s.stdout, re.M).group(1).split()
        again = paddock(*replay[1:])
        self.assertEqual(again.returncode, 128, again.stdout)
        lua = s.stdout[s.stdout.index("-- regression:"):]
        path = os.path.join(self.dir, "regression.lua")
        with open(path, "w") as f:
            f.write(lua)
        run = paddock("sim", path, "--seed", "1")
        self.assertIn(run.returncode, (0, 1), run.stdout + run.stderr)  # a valid scenario (2: a script error)
        self.assertIn("ensemble { servers = ", lua)
        self.assertIn("a quorum of voters follows one serving leader", lua)

    def test_usage(self):
        self.assertEqual(paddock("fuzz", "nothing").returncode, 2)
        self.assertEqual(paddock("fuzz", "election", "--seeds", "9..1").returncode, 2)
        self.assertEqual(paddock("fuzz", "election", "--time", "soon").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
