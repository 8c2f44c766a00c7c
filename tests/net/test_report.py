#!/usr/bin/python3
"""`paddock report DB -o DIR` builds index.html (inline CSS and SVG, no script) and summary.md from
the run records (reports/schema.sql).  The numbers the report shows are recomputed here straight
from SQLite and looked for in both files; the page is rendered in headless Chromium and the
screenshot must show something.  A missing or foreign database gives exit 2.  Everything lives in a
temporary directory, removed also on failure."""
import html
import os
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SCENARIO = "master_failover"
FAULT_KINDS = ("crash", "torn_write", "partition", "isolate", "skew", "clog", "disk_full", "wipe", "kill", "pause")


def paddock(*args, timeout=300):
    return subprocess.run([harness.PADDOCK_BIN] + list(args), capture_output=True, text=True, timeout=timeout)


def insert_synthetic_scenario_runs(db):
    """Five master_failover runs (seeds 1..5, seed 4 failed) with figures, checks, a timeline
    (a crash at 2 s, a role change, a restart) and throughput in 100 ms buckets."""
    failover_ms = {1: 3987, 2: 4100, 3: 3500, 4: 5200, 5: 4000}
    rounds = {1: 1, 2: 2, 3: 1, 4: 3, 5: 1}
    con = sqlite3.connect(db)
    with con:
        for seed in range(1, 6):
            failed = seed == 4
            cur = con.execute(
                "INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, exit_code, "
                "message, digest, virtual_ms, wall_ms, replay) VALUES (?, 'scenario', ?, ?, 'synthetic', ?, ?, ?, ?, "
                "?, ?, ?, ?)",
                ("2026-01-01T00:00:0%dZ" % seed, SCENARIO, seed, '{"servers":3}', "failed" if failed else "pass",
                 1 if failed else 0, "step 'a new master serves': no master after 10 s <&>" if failed else None,
                 "0x%016x" % (0xabc0 + seed), 6000 + seed * 10, 5 + seed,
                 "paddock sim scenarios/%s.lua --seed %d" % (SCENARIO, seed)))
            run = cur.lastrowid
            for name, value in (("failover_ms", failover_ms[seed]), ("election_rounds", rounds[seed]),
                                ("ops_ok", 700 + seed), ("crashes", 1)):
                con.execute("INSERT INTO run_figures (run_id, name, value) VALUES (?, ?, ?)", (run, name, value))
            for name, held in (("a new master serves", not failed), ("the old master's node is gone", True)):
                con.execute("INSERT INTO checks (run_id, name, held, step, message) VALUES (?, ?, ?, 'failover', ?)",
                            (run, name, 1 if held else 0, None if held else "no master after 10 s"))
            for at_us, server, kind, detail in ((2000000, 3, "crash", "the leader crashes"),
                                                (3500000, 1, "role", "LEADING leader 1 epoch 2 serving"),
                                                (4000000, 3, "restart", "server 3 restarts")):
                con.execute("INSERT INTO events (run_id, at_us, server, kind, detail) VALUES (?, ?, ?, ?, ?)",
                            (run, at_us, server, kind, detail))
            for at_ms in range(0, 6000, 100):
                ok = 20 if at_ms < 2000 else (0 if at_ms < 3000 else 15)
                bad = 3 if 2000 <= at_ms < 2500 else 0
                con.execute("INSERT INTO throughput (run_id, at_ms, ok, failed) VALUES (?, ?, ?, ?)",
                            (run, at_ms, ok + seed % 2, bad))
    con.close()


def build_database(db):
    """The run records the report is built from: two passing ensemble seeds, one planted-bug
    failure, and scenario runs (synthetic for now; real scenario runs can replace them here)."""
    for seed in (1, 2):
        p = paddock("sim", "--ensemble", "--seed", str(seed), "--seconds", "5", "--db", db)
        if p.returncode != 0:
            raise AssertionError("sim seed %d: exit %d\n%s%s" % (seed, p.returncode, p.stdout, p.stderr))
    bad = paddock("sim", "--seed", "1", "--seconds", "5", "--bugs", "0x8", "--db", db)
    if bad.returncode != 129:
        raise AssertionError("planted bug: exit %d, not 129\n%s%s" % (bad.returncode, bad.stdout, bad.stderr))
    insert_synthetic_scenario_runs(db)


def section(text, start, end):
    """The part of text from the marker start up to the marker end (or the end of text)."""
    i = text.index(start)
    j = text.find(end, i + len(start))
    return text[i:j if j >= 0 else len(text)]


def p95(values):
    v = sorted(values)
    return v[(95 * len(v) + 99) // 100 - 1]


def html_row(*cells):
    return "".join("<td>%s</td>" % html.escape(str(c), quote=True) for c in cells)


def md_row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def png_pixels(path):
    """Decodes an 8-bit non-interlaced PNG: (width, height, bytes per pixel, list of rows)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0, ihdr
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xff
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def screenshot(test, out, profile):
    """Renders out/index.html in headless Chromium (1200x2000) into out/shot.png; returns its path."""
    test.assertTrue(os.path.exists(CHROMIUM), "%s is missing: setup.sh installs chromium" % CHROMIUM)
    shot = os.path.join(out, "shot.png")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--user-data-dir=" + profile, "--screenshot=" + shot,
         "--window-size=1200,2000", "file://" + os.path.join(out, "index.html")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group: the browser and its helpers
        proc.communicate()
        test.fail("chromium did not finish in 120 s")
    test.assertTrue(os.path.exists(shot), log.decode(errors="replace"))
    return shot


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pd-report-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.db = os.path.join(cls.dir, "runs.sqlite")
        cls.out = os.path.join(cls.dir, "out")
        build_database(cls.db)
        cls.report = paddock("report", cls.db, "-o", cls.out)
        cls.html = cls.md = ""
        if cls.report.returncode == 0:
            with open(os.path.join(cls.out, "index.html"), encoding="utf-8") as f:
                cls.html = f.read()
            with open(os.path.join(cls.out, "summary.md"), encoding="utf-8") as f:
                cls.md = f.read()
        cls.con = sqlite3.connect(cls.db)
        cls.addClassCleanup(cls.con.close)

    def test_files_are_written(self):
        self.assertEqual(self.report.returncode, 0, self.report.stdout + self.report.stderr)
        self.assertTrue(self.html.startswith("<!DOCTYPE html>"))
        self.assertIn("</html>", self.html)
        self.assertTrue(self.md.startswith("# "))
        # self-contained: inline plots, no script, nothing fetched
        self.assertGreaterEqual(self.html.count("<svg"), 3)
        self.assertEqual(self.html.count("<svg"), self.html.count("</svg>"))
        self.assertNotIn("<script", self.html)
        self.assertNotIn("src=", self.html)
        self.assertNotIn("<link", self.html)
        self.assertNotIn("url(", self.html)
        for i in range(6):
            self.assertIn("<h2>%d. " % (i + 1), self.html)
            self.assertIn("## %d. " % (i + 1), self.md)

    def test_run_counts(self):
        total = self.con.execute("SELECT count(*) FROM runs").fetchone()[0]
        self.assertEqual(total, 8)
        for column in ("kind", "outcome"):
            for value, n in self.con.execute("SELECT %s, count(*) FROM runs GROUP BY %s" % (column, column)):
                share = "%.1f%%" % (100.0 * n / total)
                self.assertIn(html_row(value, n, share), self.html)
                self.assertIn(md_row(value, n, share), self.md)
        for kind, scenario, runs, passed in self.con.execute(
                "SELECT kind, scenario, count(*), sum(outcome = 'pass') FROM runs GROUP BY kind, scenario"):
            label = scenario if scenario is not None else "(simulator)"
            seeds = [s for (s,) in self.con.execute("SELECT seed FROM runs WHERE kind = ? AND scenario IS ?",
                                                    (kind, scenario))]
            vms = [v for (v,) in self.con.execute("SELECT virtual_ms FROM runs WHERE kind = ? AND scenario IS ?",
                                                  (kind, scenario))]
            cells = (label, kind, runs, passed, runs - passed, "%.1f%%" % (100.0 * passed / runs),
                     "%d..%d" % (min(seeds), max(seeds)), "%.0f" % statistics.median(vms), "%.0f" % p95(vms),
                     "%.0f" % max(vms))
            self.assertIn(html_row(*cells), self.html)
            self.assertIn(md_row(*cells), self.md)

    def test_failover_and_elections(self):
        for figure, start, end, fmt in (("failover_ms", 'id="failover"', 'id="elections"', "%.0f"),
                                        ("election_rounds", 'id="elections"', 'id="throughput"', None)):
            values = [v for (v,) in self.con.execute(
                "SELECT f.value FROM run_figures f JOIN runs r ON r.id = f.run_id "
                "WHERE r.scenario = ? AND f.name = ?", (SCENARIO, figure))]
            self.assertEqual(len(values), 5)

            def show(x):
                return fmt % x if fmt else ("%.0f" % x if x == int(x) else "%.1f" % x)
            cells = (len(values), show(min(values)), show(statistics.median(values)), show(p95(values)),
                     show(max(values)))
            part = section(self.html, start, end)
            self.assertIn(html_row(*cells), part)
            self.assertIn("<svg", part)
            self.assertIn("<rect", part)
            md_part = section(self.md, "## %s" % ("2." if figure == "failover_ms" else "3."), "\n## ")
            self.assertIn(md_row(*cells), md_part)
        # the simulator's ensemble runs have an elections figure
        self.assertIn("(simulator): elections", section(self.html, 'id="elections"', 'id="throughput"'))

    def test_throughput_around_faults(self):
        part = section(self.html, 'id="throughput"', 'id="checks"')
        md_part = section(self.md, "## 4.", "\n## ")
        run, seed = self.con.execute(
            "SELECT id, seed FROM runs r WHERE scenario = ? AND EXISTS (SELECT 1 FROM throughput t "
            "WHERE t.run_id = r.id) ORDER BY seed, id LIMIT 1", (SCENARIO,)).fetchone()
        self.assertIn("%s: throughput of seed %d" % (SCENARIO, seed), part)
        ok, failed, buckets = self.con.execute(
            "SELECT sum(ok), sum(failed), count(*) FROM throughput WHERE run_id = ?", (run,)).fetchone()
        self.assertIn("<td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>" % (run, seed, buckets, ok, failed),
                      part)
        self.assertIn(md_row(run, seed, buckets, ok, failed), md_part)
        self.assertIn(">crash s3</text>", part)  # a marker at the crash, and one at the restart
        self.assertIn(">restart s3</text>", part)
        self.assertNotIn(">role", part)  # a role change is not a fault
        # the mean ok throughput in the second before each run's first fault and 1..3 s after it
        befores, afters = [], []
        for (rid,) in self.con.execute("SELECT id FROM runs WHERE scenario = ?", (SCENARIO,)).fetchall():
            t = self.con.execute("SELECT min(at_us) FROM events WHERE run_id = ? AND kind IN (%s)" %
                                 ",".join("?" * len(FAULT_KINDS)), (rid,) + FAULT_KINDS).fetchone()[0]

            def ok_between(lo_us, hi_us, rid=rid):
                return self.con.execute("SELECT coalesce(sum(ok), 0) FROM throughput WHERE run_id = ? AND "
                                        "at_ms * 1000 >= ? AND at_ms * 1000 < ?", (rid, lo_us, hi_us)).fetchone()[0]
            befores.append(ok_between(t - 1000000, t) / 1.0)
            afters.append(ok_between(t + 1000000, t + 3000000) / 2.0)
        before, after = sum(befores) / len(befores), sum(afters) / len(afters)
        cells = (SCENARIO, 5, 5, "%.0f" % before, "%.0f" % after, "%+.1f%%" % (100.0 * (after - before) / before))
        self.assertIn(html_row(*cells), part)
        self.assertIn(md_row(*cells), md_part)

    def test_checks(self):
        part = section(self.html, 'id="checks"', 'id="failing"')
        rows = self.con.execute(
            "SELECT c.name, count(DISTINCT CASE WHEN c.held THEN c.run_id END), "
            "count(DISTINCT CASE WHEN NOT c.held THEN c.run_id END) FROM checks c JOIN runs r ON r.id = c.run_id "
            "WHERE r.scenario IS ? GROUP BY c.name", (SCENARIO,)).fetchall()
        self.assertEqual(sorted(rows), [("a new master serves", 4, 1), ("the old master's node is gone", 5, 0)])
        for name, held, failed in rows:
            self.assertIn(html_row(name, held, failed), part)
            self.assertIn(md_row(name, held, failed), self.md)
        sim = self.con.execute("SELECT count(DISTINCT CASE WHEN NOT c.held THEN c.run_id END) FROM checks c "
                               "JOIN runs r ON r.id = c.run_id WHERE r.scenario IS NULL AND c.name = 'safety'")
        self.assertIn(html_row("safety", 2, sim.fetchone()[0]), part)

    def test_failing_runs(self):
        part = section(self.html, 'id="failing"', 'id="figures"')
        md_part = section(self.md, "## 6.", "\n## ")
        failing = self.con.execute("SELECT seed, outcome, exit_code, message, replay FROM runs "
                                   "WHERE outcome != 'pass' ORDER BY id").fetchall()
        self.assertEqual([(f[0], f[1]) for f in failing], [(1, "violation"), (4, "failed")])
        for seed, outcome, exit_code, message, replay in failing:
            self.assertIn("<td>%d</td><td>%s</td><td>%d</td>" % (seed, outcome, exit_code), part)
            self.assertIn("<code>%s</code>" % html.escape(replay), part)
            self.assertIn(html.escape(message), part)
            self.assertIn("| %d | %s | %d |" % (seed, outcome, exit_code), md_part)
            self.assertIn("`%s`" % replay, md_part)
        # the message's markup characters are escaped, never passed through
        self.assertIn("&lt;&amp;&gt;", part)
        self.assertNotIn("<&>", self.html)
        self.assertNotIn("No failing runs.", part)

    def test_no_failing_runs_and_bad_databases(self):
        passing = os.path.join(self.dir, "passing.sqlite")
        p = paddock("sim", "--ensemble", "--seed", "3", "--seconds", "5", "--db", passing)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = os.path.join(self.dir, "out-passing", "nested")
        p = paddock("report", passing, "-o", out)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
            self.assertIn("No failing runs.", f.read())
        with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
            self.assertIn("No failing runs.", f.read())
        missing = os.path.join(self.dir, "missing.sqlite")
        p = paddock("report", missing, "-o", os.path.join(self.dir, "out-missing"))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn(missing, p.stderr)
        self.assertIn("No such file", p.stderr)
        self.assertFalse(os.path.exists(missing))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out-missing")))
        foreign = os.path.join(self.dir, "foreign.sqlite")
        con = sqlite3.connect(foreign)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        for path in (foreign, os.path.join(self.dir, "out")):  # a database of something else, a directory
            p = paddock("report", path, "-o", os.path.join(self.dir, "out-foreign"))
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("not a run database", paddock("report", foreign, "-o", self.dir).stderr)
        self.assertEqual(paddock("report", self.db).returncode, 2)  # no -o

    def test_screenshot(self):
        self.assertEqual(self.report.returncode, 0, self.report.stderr)
        shot = screenshot(self, self.out, os.path.join(self.dir, "chromium"))
        self.assertGreater(os.path.getsize(shot), 5000)
        width, height, bpp, rows = png_pixels(shot)
        self.assertEqual((width, height), (1200, 2000))
        self.assertGreater(len(set(rows)), 50, "the screenshot is (nearly) one colour")
        colours = set()
        for row in rows[::7]:
            for x in range(0, len(row), bpp * 3):
                colours.add(row[x:x + 3])
        self.assertGreater(len(colours), 20)
        # the histogram bars (#4a7fb5) are drawn: some clearly blue pixels
        self.assertTrue(any(b > r + 60 and b > 150 for (r, g, b) in (tuple(c[:3]) for c in colours if len(c) == 3)),
                        "no blue bars in the screenshot")


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class RealScenarioReportTest(unittest.TestCase):
    """The report of real scenario runs: master_failover over 20 seeds, leader_isolation over 10, a
    scenario that expects something false, and election fuzzing seeds; its failover numbers, the
    failing run with its replay command and the throughput plot with its fault markers are
    checked against the database, and the page is rendered in Chromium."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pd-report-real-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.db = os.path.join(cls.dir, "runs.sqlite")
        cls.out = os.path.join(cls.dir, "out")
        for args, code in ((["sim", "scenarios/master_failover.lua", "--seeds", "1..20"], 0),
                           (["sim", "scenarios/leader_isolation.lua", "--seeds", "1..10"], 0),
                           (["sim", "tests/net/scenarios/old_master_stays.lua", "--seed", "5"], 1),
                           (["fuzz", "election", "--seeds", "1..50"], 0)):
            p = subprocess.run([harness.PADDOCK_BIN] + args + ["--db", cls.db, "--quiet"], capture_output=True,
                               text=True, timeout=600, cwd=ROOT)
            if p.returncode != code:
                raise AssertionError("%s: exit %d\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
        cls.report = paddock("report", cls.db, "-o", cls.out)
        with open(os.path.join(cls.out, "index.html"), encoding="utf-8") as f:
            cls.html = f.read()
        with open(os.path.join(cls.out, "summary.md"), encoding="utf-8") as f:
            cls.md = f.read()
        cls.con = sqlite3.connect(cls.db)
        cls.addClassCleanup(cls.con.close)

    def test_failover_numbers_match_the_database(self):
        self.assertEqual(self.report.returncode, 0, self.report.stderr)
        part = section(self.html, 'id="failover"', 'id="elections"')
        md_part = section(self.md, "## 2.", "\n## ")
        for scenario, runs in (("master_failover", 20), ("leader_isolation", 10)):
            values = [v for (v,) in self.con.execute(
                "SELECT f.value FROM run_figures f JOIN runs r ON r.id = f.run_id "
                "WHERE r.scenario = ? AND f.name = 'failover_ms'", (scenario,))]
            self.assertEqual(len(values), runs)
            cells = (runs, "%.0f" % min(values), "%.0f" % statistics.median(values), "%.0f" % p95(values),
                     "%.0f" % max(values))
            self.assertIn(html_row(*cells), part, scenario)
            self.assertIn(md_row(*cells), md_part, scenario)

    def test_failing_run_with_its_replay(self):
        part = section(self.html, 'id="failing"', 'id="figures"')
        rows = self.con.execute("SELECT scenario, seed, outcome, replay FROM runs WHERE outcome != 'pass'").fetchall()
        self.assertEqual([(r[0], r[1], r[2]) for r in rows], [("old_master_stays", 5, "failed")])
        self.assertIn("<code>%s</code>" % html.escape(rows[0][3]), part)
        self.assertIn("the old master stays master", part)
        self.assertIn("`%s`" % rows[0][3], self.md)

    def test_runs_by_kind(self):
        for kind, n in self.con.execute("SELECT kind, count(*) FROM runs GROUP BY kind"):
            total = self.con.execute("SELECT count(*) FROM runs").fetchone()[0]
            self.assertIn(html_row(kind, n, "%.1f%%" % (100.0 * n / total)), self.html)
        self.assertEqual(dict(self.con.execute("SELECT kind, count(*) FROM runs GROUP BY kind")),
                         {"scenario": 31, "fuzz": 50})

    def test_throughput_plot_marks_the_master_kill(self):
        part = section(self.html, 'id="throughput"', 'id="checks"')
        self.assertIn("master_failover: throughput of seed 1", part)
        run = self.con.execute("SELECT id FROM runs WHERE scenario = 'master_failover' AND seed = 1").fetchone()[0]
        ok = self.con.execute("SELECT sum(ok) FROM throughput WHERE run_id = ?", (run,)).fetchone()[0]
        self.assertGreater(ok, 100)
        # the master's process dies at the scenario's kill: a marker labelled with it
        self.assertEqual(self.con.execute("SELECT count(*) FROM events WHERE run_id = ? AND kind = 'kill'",
                                          (run,)).fetchone()[0], 1)
        self.assertIn(">kill</text>", part)

    def test_screenshot(self):
        shot = screenshot(self, self.out, os.path.join(self.dir, "chromium"))
        width, height, _, rows = png_pixels(shot)
        self.assertEqual((width, height), (1200, 2000))
        self.assertGreater(len(set(rows)), 50, "the screenshot is (nearly) one colour")


if __name__ == "__main__":
    unittest.main(verbosity=2)
