#!/usr/bin/python3
"""`paddock report DB -o DIR` builds index.html (inline CSS and SVG, no script) and summary.md from
the run records (reports/schema.sql).  The numbers the report shows are recomputed here straight
from SQLite and looked for in both files; the page is rendered in headless Chromium and the
screenshot must show something.  A missing or foreign database gives exit 2.  Everything lives in a
temporary directory, removed also on failure."""
import html
import json
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


FAULT_CLASSES = ("crash", "wipe", "peer_cut", "one_way", "isolate", "bridge", "flap", "loss", "skew", "disk", "client",
                 "clog")
# Synthetic fuzz runs: (workload, seed, parameters, outcome, message).  Seed 16 names classes in
# "fault_classes" that its mask does not have: the mask counts.  Seed 24 has no mask, seed 26 no JSON.
FUZZ_RUNS = (
    ("election", 11, {"servers": 3, "faults": "0x001"}, "pass", None),
    ("election", 12, {"servers": 5, "faults": "0x003"}, "violation", "two leaders in epoch 3 <s1 & s2>"),
    ("election", 13, {"servers": 3, "faults": "0x5a3"}, "liveness", "no leader 15 s after the heal"),
    ("election", 14, {"servers": 7, "faults": "0x800"}, "pass", None),
    ("election", 15, {"servers": 5, "faults": "0xfff"}, "crash", "assertion failed: zxid > last | 7"),
    ("election", 16, {"servers": 3, "faults": "0x081", "fault_classes": "clog,disk"}, "pass", None),
    ("writes", 21, {"servers": 3, "faults": "0x010"}, "pass", None),
    ("writes", 22, {"servers": 5, "faults": "0x090"}, "violation", "acknowledged write /w/7 lost"),
    ("writes", 23, {"servers": 3, "faults": "0x000"}, "pass", None),
    ("writes", 24, {"servers": 5}, "pass", None),
    ("writes", 25, {"servers": 3, "faults": "0x011"}, "liveness", "no write served after the heal"),
    ("writes", 26, "not json", "liveness", "stalled"),
)
# The Lua of the shrunk runs: markup characters to escape, and in the second a run of three
# backticks, so its Markdown fence needs four.
SHRUNK_LUA = {
    12: 'ensemble { servers = 3, observers = 0, tick = 100, snap_count = 100 }\n'
        'step("the faults")\n'
        'if leader() < 0 and role(1) ~= "down" then crash(1) end -- a < b && "c" > \'d\'\n'
        'check("one leader", function() return #leaders() <= 1 end)\n',
    22: 'ensemble { servers = 3 }\n-- ```not a fence```\nclog(1, 2) -- 1 < 2 & 2 > 1\n',
}
SHRUNK_ROWS = {  # seed: (replay, message, tries, moves kept, moves total)
    12: ("paddock fuzz election --replay 12 --faults 0x001 --seconds 3 --clients 0 --servers 3",
         "two leaders in epoch 2 <s1 & s3>", 37, 2, 19),
    22: ("paddock fuzz writes --replay 22 --faults 0x010 --seconds 5", "acknowledged write /w/1 lost", 12, 1, 8),
}


def open_schema_db(db):
    """A new database with the tables of reports/schema.sql (the shrunk table included)."""
    con = sqlite3.connect(db)
    with open(os.path.join(harness.SOURCE_DIR, "reports", "schema.sql"), encoding="utf-8") as f:
        con.executescript(f.read())
    return con


def insert_fuzz_run(con, workload, seed, parameters, outcome, message):
    replay = "paddock fuzz %s --replay %d" % (workload, seed)
    text = parameters if isinstance(parameters, str) else json.dumps(dict(parameters, workload=workload))
    return con.execute(
        "INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, exit_code, message, "
        "digest, virtual_ms, wall_ms, replay) VALUES ('2026-01-02T00:00:00Z', 'fuzz', ?, ?, 'synthetic', ?, ?, ?, ?, "
        "'0x1', 20000, 30, ?)",
        (workload, seed, text, outcome, {"pass": 0, "violation": 129, "liveness": 128}.get(outcome, 127), message,
         replay)).lastrowid


def build_fuzz_database(db):
    """FUZZ_RUNS with the shrunk rows of seeds 12 and 22, and a failed scenario run (not fuzz)."""
    con = open_schema_db(db)
    with con:
        for workload, seed, parameters, outcome, message in FUZZ_RUNS:
            run = insert_fuzz_run(con, workload, seed, parameters, outcome, message)
            if seed in SHRUNK_ROWS:
                replay, msg, tries, kept, total = SHRUNK_ROWS[seed]
                con.execute("INSERT INTO shrunk (run_id, replay, parameters, message, tries, moves_kept, moves_total, "
                            "scenario) VALUES (?, ?, '{\"servers\":3}', ?, ?, ?, ?, ?)",
                            (run, replay, msg, tries, kept, total, SHRUNK_LUA[seed]))
        con.execute("INSERT INTO runs (started_at, kind, scenario, seed, commit_id, parameters, outcome, exit_code, "
                    "message, digest, virtual_ms, wall_ms, replay) VALUES ('2026-01-02T00:00:00Z', 'scenario', "
                    "'master_failover', 99, 'synthetic', '{\"servers\":3}', 'failed', 1, 'no master', '0x2', 6000, 5, "
                    "'paddock sim scenarios/master_failover.lua --seed 99')")
    con.close()


def fault_mix(con, workload):
    """Counted here from SQLite, independently of the report: (runs, failed, runs with a mask,
    failed with a mask, {class: (runs with it on, failed of them)})."""
    runs = failed = masked = masked_failed = 0
    on = {c: [0, 0] for c in FAULT_CLASSES}
    for parameters, outcome in con.execute("SELECT parameters, outcome FROM runs WHERE kind = 'fuzz' AND scenario = ?",
                                           (workload,)):
        bad = outcome != "pass"
        runs += 1
        failed += bad
        try:
            mask = int(json.loads(parameters)["faults"], 16)
        except (ValueError, KeyError, TypeError):
            continue
        masked += 1
        masked_failed += bad
        for bit, name in enumerate(FAULT_CLASSES):
            if mask >> bit & 1:
                on[name][0] += 1
                on[name][1] += bad
    return runs, failed, masked, masked_failed, on


def rate(part, whole):
    return "%.1f%%" % (100.0 * part / whole) if whole > 0 else "-"


def md_text(s):
    """A table cell of summary.md: pipes escaped, '<' as an entity (report_m_text)."""
    return s.replace("|", "\\|").replace("<", "&lt;")


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


def read_output(out):
    """index.html and summary.md of a report written into out."""
    texts = []
    for name in ("index.html", "summary.md"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            texts.append(f.read())
    return texts


def set_up_report(cls, prefix, build):
    """For a test class: a temporary directory (removed afterwards, also on failure), a database
    built there by build(db), the report over it (cls.report; cls.html and cls.md stay empty if it
    failed) and a connection to the database (cls.con)."""
    cls.dir = tempfile.mkdtemp(prefix=prefix)
    cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
    cls.db = os.path.join(cls.dir, "runs.sqlite")
    cls.out = os.path.join(cls.dir, "out")
    build(cls.db)
    cls.report = paddock("report", cls.db, "-o", cls.out)
    cls.html, cls.md = read_output(cls.out) if cls.report.returncode == 0 else ("", "")
    cls.con = sqlite3.connect(cls.db)
    cls.addClassCleanup(cls.con.close)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        set_up_report(cls, "pd-report-", build_database)

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
        for i in range(10):
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

    def test_no_fuzz_runs(self):
        self.assertEqual(self.con.execute("SELECT count(*) FROM runs WHERE kind = 'fuzz'").fetchone()[0], 0)
        self.assertIn("<p>No fuzz runs recorded.</p>", section(self.html, 'id="faults"', 'id="shrunk"'))
        self.assertIn("No fuzz runs recorded.", section(self.md, "## 9.", "\n## "))
        self.assertIn("<p>No failed fuzz runs.</p>", section(self.html, 'id="shrunk"', "</body>"))
        self.assertIn("No failed fuzz runs.", section(self.md, "## 10.", "\n## "))
        self.assertNotIn("<table", section(self.html, 'id="faults"', "</body>"))

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


class FuzzReportTest(unittest.TestCase):
    """The fuzzing sections from synthetic fuzz runs with known fault masks and outcomes: the fault
    mix tables, the table by ensemble size, and the failed runs with their shrunk runs and Lua."""

    @classmethod
    def setUpClass(cls):
        set_up_report(cls, "pd-report-fuzz-", build_fuzz_database)

    def setUp(self):
        self.assertEqual(self.report.returncode, 0, self.report.stdout + self.report.stderr)

    def test_fault_mixes(self):
        part = section(self.html, 'id="faults"', 'id="shrunk"')
        md_part = section(self.md, "## 9.", "\n## ")
        self.assertNotIn("No fuzz runs recorded.", part)
        for workload in ("election", "writes"):
            runs, failed, masked, masked_failed, on = fault_mix(self.con, workload)
            self.assertEqual(runs, 6)
            html_table = section(part, "<h3>%s</h3>" % workload, "<h3>")
            md_table = section(md_part, "### %s\n" % workload, "\n### ")
            line = "%d fuzz runs, %d failed (%s)." % (runs, failed, rate(failed, runs))
            self.assertIn(line, html_table)
            self.assertIn(line, md_table)
            self.assertEqual(("recorded no fault mask" in html_table), masked < runs)
            for bit, name in enumerate(FAULT_CLASSES):
                n, bad = on[name]
                cells = (name, "0x%03x" % (1 << bit), n, bad, rate(bad, n), rate(masked_failed - bad, masked - n))
                self.assertIn(html_row(*cells), html_table, workload)
                self.assertIn(md_row(*cells), md_table, workload)
        # the figures the synthetic runs were built for, spelled out
        election = section(part, "<h3>election</h3>", "<h3>")
        self.assertIn(html_row("crash", "0x001", 5, 3, "60.0%", "0.0%"), election)  # all but seed 14
        self.assertIn(html_row("clog", "0x800", 2, 1, "50.0%", "50.0%"), election)  # the mask, not fault_classes
        self.assertIn(html_row("disk", "0x200", 1, 1, "100.0%", "40.0%"), election)
        # seeds 21, 22 and 25; of the others only 23 has a mask
        self.assertIn(html_row("isolate", "0x010", 3, 2, "66.7%", "0.0%"), section(part, "<h3>writes</h3>", "<h3>"))

    def test_ensemble_sizes(self):
        part = section(self.html, "<h3>By ensemble size</h3>", 'id="shrunk"')
        md_part = section(self.md, "### By ensemble size", "\n## ")
        sizes = {}
        for workload, parameters, outcome in self.con.execute(
                "SELECT scenario, parameters, outcome FROM runs WHERE kind = 'fuzz'"):
            try:
                servers = json.loads(parameters).get("servers", "-")
            except ValueError:
                servers = "-"
            n = sizes.setdefault((workload, servers), [0, 0])
            n[0] += 1
            n[1] += outcome != "pass"
        self.assertEqual(sizes[("election", 5)], [2, 2])
        self.assertEqual(sizes[("writes", "-")], [1, 1])
        for (workload, servers), (runs, failed) in sizes.items():
            cells = (workload, servers, runs, failed, rate(failed, runs))
            self.assertIn(html_row(*cells), part)
            self.assertIn(md_row(*cells), md_part)

    def test_failures_with_shrunk_runs(self):
        part = section(self.html, 'id="shrunk"', "</body>")
        md_part = section(self.md, "## 10.", "\n## ")
        failed = self.con.execute(
            "SELECT r.scenario, r.seed, r.outcome, r.message, r.replay, s.replay, s.message, s.tries, s.moves_kept, "
            "s.moves_total, s.scenario FROM runs r LEFT JOIN shrunk s ON s.run_id = r.id "
            "WHERE r.kind = 'fuzz' AND r.outcome != 'pass' ORDER BY r.id").fetchall()
        self.assertEqual([f[1] for f in failed], [12, 13, 15, 22, 25, 26])
        shrunk = [f for f in failed if f[5] is not None]
        line = "%d failed fuzz run(s), %d of them shrunk" % (len(failed), len(shrunk))
        self.assertIn(line, part)
        self.assertIn(line, md_part)

        def code(s):
            return '<td class="replay"><code>%s</code></td>' % html.escape(s, quote=True)
        for workload, seed, outcome, message, replay, s_replay, s_message, tries, kept, total, lua in failed:
            head = html_row(workload, seed, outcome, message) + code(replay)
            md_head = "| %s | %d | %s | %s | `%s` |" % (workload, seed, outcome, md_text(message), replay)
            if s_replay is None:
                self.assertIn(head + "<td>not shrunk</td>" + html_row("-", "-", "-"), part)
                self.assertIn(md_head + " not shrunk | - | - | - |", md_part)
                self.assertNotIn("Shrunk scenario: %s seed %d" % (workload, seed), part)
                continue
            moves = "%d/%d" % (kept, total)
            self.assertIn(head + code(s_replay) + html_row(moves, tries, s_message), part)
            self.assertIn(md_head + " `%s` | %s | %d | %s |" % (s_replay, moves, tries, md_text(s_message)), md_part)
            # the Lua: escaped in the page, verbatim in a fence longer than any backtick run in it
            self.assertIn("<h3>Shrunk scenario: %s seed %d</h3>" % (workload, seed), part)
            self.assertIn('<pre class="lua">%s</pre>' % html.escape(lua, quote=True), part)
            fence = "````" if "```" in lua else "```"
            self.assertIn("### Shrunk scenario: %s seed %d\n\n%slua\n%s%s\n" % (workload, seed, fence, lua, fence),
                          md_part)
        self.assertEqual(part.count("<td>not shrunk</td>"), len(failed) - len(shrunk))
        self.assertEqual(md_part.count(" not shrunk |"), len(failed) - len(shrunk))
        # markup in the Lua and the messages never reaches the page unescaped
        self.assertIn("a &lt; b &amp;&amp; &quot;c&quot; &gt; &#x27;d&#x27;", part)
        self.assertIn("a < b && \"c\" > 'd'", md_part)
        self.assertNotIn("a < b", self.html)
        self.assertNotIn("<s1 & s", self.html)
        # only fuzz runs: the failed scenario run is in section 6, not here
        self.assertNotIn("master_failover.lua --seed 99", part)
        self.assertIn("master_failover.lua --seed 99", section(self.html, 'id="failing"', 'id="figures"'))
        self.assertNotIn("left out", part)

    def test_failure_list_is_capped(self):
        db = os.path.join(self.dir, "many.sqlite")
        con = open_schema_db(db)
        with con:
            con.execute("DROP TABLE shrunk")  # a database from before the table: nothing shrunk
            for seed in range(1, 54):
                insert_fuzz_run(con, "writes", seed, {"servers": 3, "faults": "0x%03x" % seed}, "violation", "lost")
        con.close()
        out = os.path.join(self.dir, "out-many")
        p = paddock("report", db, "-o", out)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        page, md = read_output(out)
        part = section(page, 'id="shrunk"', "</body>")
        md_part = section(md, "## 10.", "\n## ")
        for seed in range(1, 54):
            listed = seed <= 50
            self.assertEqual(html_row("writes", seed) in part, listed, seed)
            self.assertEqual(md_row("writes", seed) in md_part, listed, seed)
        self.assertEqual(part.count("<td>not shrunk</td>"), 50)
        line = "3 more failed fuzz run(s) left out: the list stops at 50."
        self.assertIn(line, part)
        self.assertIn(line, md_part)
        self.assertIn("53 failed fuzz run(s), 0 of them shrunk", part)


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

    def test_fault_mixes_of_the_fuzz_runs(self):
        part = section(self.html, 'id="faults"', 'id="shrunk"')
        runs, failed, masked, masked_failed, on = fault_mix(self.con, "election")
        self.assertEqual((runs, masked), (50, 50))
        self.assertGreater(sum(n for n, _ in on.values()), 50)  # fuzz runs draw several classes
        table = section(part, "<h3>election</h3>", "<h3>")
        for bit, name in enumerate(FAULT_CLASSES):
            n, bad = on[name]
            self.assertIn(html_row(name, "0x%03x" % (1 << bit), n, bad, rate(bad, n),
                                   rate(masked_failed - bad, masked - n)), table)
        self.assertEqual("No failed fuzz runs." in section(self.html, 'id="shrunk"', "</body>"), failed == 0)

    def test_screenshot(self):
        shot = screenshot(self, self.out, os.path.join(self.dir, "chromium"))
        width, height, _, rows = png_pixels(shot)
        self.assertEqual((width, height), (1200, 2000))
        self.assertGreater(len(set(rows)), 50, "the screenshot is (nearly) one colour")


if __name__ == "__main__":
    unittest.main(verbosity=2)
