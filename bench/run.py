#!/usr/bin/python3
"""Side-by-side benchmark of paddock and Apache ZooKeeper 3.8 (standalone) on this machine.

One run of this script:
  1. builds bench_client and bench_memory from bench/ (standalone CMake build
     into the run's temporary directory; --bench-dir uses prebuilt ones),
  2. starts Apache ZooKeeper 3.8 (Debian package, forceSync=no, -Xmx3g) and
     paddock (build/paddock server zoo.cfg), each on a free 127.0.0.1 port in its
     own temporary directory,
  3. warms each server up, then runs the same workloads (create, set, get for a
     few clients x outstanding settings) against each, alternating the server
     order from one measurement to the next,
  4. measures each server's capacity with bench_raw, a generator that speaks the
     client protocol itself (one epoll thread, deep pipelining), because on a
     small machine the C client's CPU cost caps what bench_client can show,
  5. stops both, then starts a fresh instance of each and runs the memory
     benchmark (1,000,000 znodes of 100 bytes) against it,
  6. stops every server by PID and removes every temporary directory (also on
     failure or Ctrl-C), and prints Markdown tables on stdout.

The load generator runs on the same machine and competes with the server for
CPU; the tables give the server's CPU use next to each figure.

Examples:
  bench/run.py                                   # both servers, defaults
  bench/run.py --servers zookeeper               # ZooKeeper half only
  bench/run.py --repeat 3 --json /tmp/bench.json # median of 3 runs per cell
"""
import argparse
import atexit
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "net"))

import harness  # noqa: E402  (PaddockServer, ZooKeeperServer, four_letter)

_tmpdirs = []
_children = []


def _cleanup_local():
    """Stops the load generator still running (by PID) and removes this run's temporary directories."""
    for p in list(_children):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except OSError:
                    pass
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def _cleanup():
    _cleanup_local()
    harness._cleanup_all()  # stops every server still running, by PID, and removes its directory


atexit.register(_cleanup)
if hasattr(harness, "install_signal_cleanup"):
    # SIGTERM/SIGINT/SIGHUP: stop the servers, then the load generator and temporary directories, exit.
    harness.install_signal_cleanup(_cleanup_local)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class BenchZooKeeper(harness.ZooKeeperServer):
    """harness.ZooKeeperServer (forceSync=no, admin server off) with a configurable -Xmx."""

    def __init__(self, heap="3g", **kw):
        self.heap = heap
        super().__init__(**kw)

    def command(self, cfg_path):
        return [("-Xmx" + self.heap) if a.startswith("-Xmx") else a for a in super().command(cfg_path)]


def make_server(kind, args):
    if kind == "zookeeper":
        return BenchZooKeeper(heap=args.zk_heap, extra={"admin.enableServer": "false", "forceSync": "no"})
    # The same keys as ZooKeeper's zoo.cfg; paddock needs no forceSync.
    harness.PADDOCK_BIN = args.paddock_bin
    return harness.PaddockServer(extra={"admin.enableServer": "false"})


def server_version(srv):
    try:
        first = harness.four_letter(srv.port, "srvr", timeout=2.0).splitlines()[0]
        return first.replace("Zookeeper version: ", "")
    except (OSError, IndexError):
        return "?"


def find_tools(args, workdir):
    """--bench-dir if given, else a fresh standalone CMake build of bench/ in the run's temporary directory."""
    if args.bench_dir:
        if not all(os.access(os.path.join(args.bench_dir, t), os.X_OK)
                   for t in ("bench_client", "bench_memory", "bench_raw")):
            sys.exit("bench_client/bench_memory/bench_raw not found in %s" % args.bench_dir)
        return args.bench_dir
    bdir = os.path.join(workdir, "bench-build")
    log("building bench tools in %s (standalone CMake build of bench/)" % bdir)
    subprocess.run(["cmake", "-S", HERE, "-B", bdir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", bdir, "-j2"], check=True, stdout=subprocess.DEVNULL)
    return bdir


def parse_result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            kv = dict(tok.split("=", 1) for tok in line.split()[1:])
            return {k: (float(v) if re.fullmatch(r"-?[0-9.]+", v) else v) for k, v in kv.items()}
    return None


def run_tool(cmd, timeout):
    log("  $ " + " ".join(shlex.quote(c) for c in cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    _children.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise RuntimeError("timed out: %s\n%s" % (cmd, err))
    finally:
        _children.remove(p)
    res = parse_result(out)
    if res is None:
        raise RuntimeError("%s exited with %s and no RESULT line:\n%s\n%s" % (cmd[0], p.returncode, out, err))
    for line in out.splitlines():
        if not line.startswith("RESULT "):
            log("    " + line)
    if err.strip():
        log("    stderr: " + err.strip().replace("\n", "\n    stderr: "))
    return res


def _busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4]


def busy_cores(interval=1.0):
    """CPU cores busy on the whole machine, averaged over interval seconds."""
    b0, t0 = _busy_jiffies(), time.monotonic()
    time.sleep(interval)
    return (_busy_jiffies() - b0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)


def wait_quiet(args):
    """Waits (up to --wait-quiet seconds) until the machine is nearly idle before a measurement."""
    if args.wait_quiet <= 0:
        return
    deadline = time.monotonic() + args.wait_quiet
    while True:
        b = busy_cores(1.0)
        if b <= args.quiet_cores:
            return
        if time.monotonic() > deadline:
            log("  warning: the machine is still busy (%.2f cores) after waiting %gs; measuring anyway"
                % (b, args.wait_quiet))
            return
        log("  machine busy (%.2f cores used by other processes), waiting" % b)
        time.sleep(2)


def client_cmd(tools, srv, op, clients, outstanding, duration, warmup, value_size, label):
    return [os.path.join(tools, "bench_client"), "--hosts", srv.hosts, "--op", op, "--clients", str(clients),
            "--outstanding", str(outstanding), "--duration", str(duration), "--warmup", str(warmup),
            "--value-size", str(value_size), "--server-pid", str(srv.proc.pid), "--label", label]


def raw_cmd(tools, srv, op, conns, depth, args, prefix, label):
    """bench_raw against srv: CONNS connections, DEPTH requests in flight on each."""
    return [os.path.join(tools, "bench_raw"), "--hosts", srv.hosts, "--op", op, "--conns", str(conns),
            "--depth", str(depth), "--duration", "%g" % args.duration, "--warmup", "%g" % args.warmup,
            "--value-size", str(args.value_size), "--prefix", prefix, "--label", label]


def memory_cmd(tools, srv, znodes, parents, value_size, label):
    """bench_memory: fills srv with znodes znodes under parents parents and keeps them."""
    return [os.path.join(tools, "bench_memory"), "--hosts", srv.hosts, "--pid", str(srv.proc.pid),
            "--znodes", str(znodes), "--parents", str(parents), "--value-size", str(value_size),
            "--no-cleanup", "--label", label]


def measure_server_cpu(cmd, srv, args):
    """Runs a load generator once the machine is quiet; adds the server's CPU seconds meanwhile."""
    wait_quiet(args)
    cpu0 = harness_cpu(srv.proc.pid)
    r = run_tool(cmd, timeout=args.duration + args.warmup + 600)
    cpu1 = harness_cpu(srv.proc.pid)
    r["server_cpu_s"] = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else -1
    return r


def generic(cmd):
    """The command with this run's port and PID replaced by placeholders."""
    out, skip = [], None
    for i, c in enumerate(cmd):
        if skip == i:
            continue
        if c == "--hosts":
            out += [c, "127.0.0.1:$PORT"]
            skip = i + 1
        elif c in ("--server-pid", "--pid"):
            out += [c, "$SERVER_PID"]
            skip = i + 1
        elif c == "--label":
            skip = i + 1
        else:
            out.append(os.path.relpath(c, SOURCE_DIR) if os.path.isabs(c) and c.startswith(SOURCE_DIR) else
                       ("bench_client" if c.endswith("/bench_client") else
                        "bench_memory" if c.endswith("/bench_memory") else c))
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="zookeeper,paddock", help="comma list of zookeeper, paddock")
    ap.add_argument("--ops", default="create,set,get")
    ap.add_argument("--settings", default="1x1,4x8,4x64", help="comma list of CLIENTSxOUTSTANDING")
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each run")
    ap.add_argument("--server-warmup", type=float, default=15,
                    help="seconds of mixed load on each fresh server before the first measurement")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the median by ops/s is reported")
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--capacity", default="8x128",
                    help="comma list of CONNSxDEPTH for bench_raw (empty skips the capacity runs)")
    ap.add_argument("--memory-znodes", type=int, default=1000000, help="0 skips the memory benchmark")
    ap.add_argument("--memory-parents", type=int, default=1000)
    ap.add_argument("--zk-heap", default="3g", help="ZooKeeper JVM -Xmx")
    ap.add_argument("--paddock-bin", default=harness.PADDOCK_BIN)
    ap.add_argument("--bench-dir", help="use bench_client and bench_memory from this directory (default: "
                    "build them from bench/ into the run's temporary directory)")
    ap.add_argument("--wait-quiet", type=float, default=300,
                    help="before each measurement wait up to this many seconds for the machine to be idle "
                    "(0: do not wait)")
    ap.add_argument("--quiet-cores", type=float, default=0.2,
                    help="busy CPU cores below which the machine counts as idle")
    ap.add_argument("--json", help="also write every raw result to this file")
    ap.add_argument("--report", metavar="JSON", help="only print the tables of a --json file of an earlier run")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as f:
            d = json.load(f)
        saved = argparse.Namespace(**d["info"]["args"])
        servers = [s.strip() for s in saved.servers.split(",") if s.strip()]
        ops = [o.strip() for o in saved.ops.split(",") if o.strip()]
        settings = [tuple(int(x) for x in s.lower().split("x")) for s in saved.settings.split(",") if s.strip()]
        print_markdown(saved, d["info"], d["versions"], servers, ops, settings, d["throughput"], d["memory"],
                       d["commands"], d.get("capacity", []))
        return

    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in servers:
        if s not in ("zookeeper", "paddock"):
            sys.exit("unknown server %r" % s)
    if "paddock" in servers and not os.access(args.paddock_bin, os.X_OK):
        sys.exit("%s is not built; build it or pass --servers zookeeper" % args.paddock_bin)
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    settings = [tuple(int(x) for x in s.lower().split("x")) for s in args.settings.split(",") if s.strip()]

    workdir = tempfile.mkdtemp(prefix="pd-bench-")
    _tmpdirs.append(workdir)
    tools = find_tools(args, workdir)

    info = {
        "cpus": os.cpu_count(),
        "cpu_model": next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
                          "?"),
        "kernel": platform.release(),
        "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0],
        "argv": " ".join(shlex.quote(a) for a in ["bench/run.py"] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "args": vars(args),
    }
    versions = {}
    results = []   # throughput rows
    capacity = []  # bench_raw rows
    memory = {}    # server -> bench_memory result
    commands = {}  # kind -> generic command

    # ---- throughput and latency: both servers up side by side ----
    live = {}
    try:
        for kind in servers:
            log("starting %s" % kind)
            live[kind] = make_server(kind, args).start()
            versions[kind] = server_version(live[kind])
            log("  %s on %s, pid %d: %s" % (kind, live[kind].hosts, live[kind].proc.pid, versions[kind]))
        if ops and settings:
            for kind in servers:
                if args.server_warmup > 0:
                    log("warming up %s" % kind)
                    cmd = client_cmd(tools, live[kind], "mixed", 4, 64, args.server_warmup, 0, args.value_size,
                                     kind + "-warmup")
                    commands["warmup"] = generic(cmd)
                    run_tool(cmd, timeout=args.server_warmup + 120)
            n = 0
            for op in ops:
                for clients, outstanding in settings:
                    for rep in range(args.repeat):
                        order = servers if n % 2 == 0 else list(reversed(servers))
                        n += 1
                        for kind in order:
                            cmd = client_cmd(tools, live[kind], op, clients, outstanding, args.duration,
                                             args.warmup, args.value_size, kind)
                            commands["client"] = re.sub(
                                r"--op \S+ --clients \S+ --outstanding \S+",
                                "--op $OP --clients $CLIENTS --outstanding $OUTSTANDING", generic(cmd))
                            wait_quiet(args)
                            r = run_tool(cmd, timeout=args.duration + args.warmup + 600)
                            r.update(server=kind, rep=rep)
                            results.append(r)
                            save_json(args, info, versions, results, memory, commands, capacity)
        cap_settings = [tuple(int(x) for x in s.lower().split("x")) for s in args.capacity.split(",") if s.strip()]
        n = 0
        for op in ops:
            for conns, depth in cap_settings:
                for rep in range(args.repeat):
                    order = servers if n % 2 == 0 else list(reversed(servers))
                    n += 1
                    for kind in order:
                        cmd = raw_cmd(tools, live[kind], op, conns, depth, args, "/benchraw-%s-%d" % (op, rep),
                                      kind)
                        commands["capacity"] = re.sub(r"--op \S+ --conns \S+ --depth \S+",
                                                      "--op $OP --conns $CONNS --depth $DEPTH",
                                                      generic(cmd)).replace("/benchraw-%s-%d" % (op, rep),
                                                                            "/benchraw-$OP-$REP")
                        r = measure_server_cpu(cmd, live[kind], args)
                        r.update(server=kind, rep=rep)
                        capacity.append(r)
                        save_json(args, info, versions, results, memory, commands, capacity)
    finally:
        for srv in live.values():
            srv.stop()

    # ---- memory: a fresh instance of each server ----
    if args.memory_znodes > 0:
        for kind in servers:
            srv = make_server(kind, args)
            try:
                log("starting a fresh %s for the memory benchmark" % kind)
                srv.start()
                cmd = memory_cmd(tools, srv, args.memory_znodes, args.memory_parents, args.value_size, kind)
                if kind == "zookeeper":
                    cmd.append("--jvm")
                commands["memory-" + kind] = generic(cmd)
                wait_quiet(args)
                memory[kind] = run_tool(cmd, timeout=3600)
                memory[kind]["server"] = kind
                save_json(args, info, versions, results, memory, commands, capacity)
            finally:
                srv.stop()

    save_json(args, info, versions, results, memory, commands, capacity)
    print_markdown(args, info, versions, servers, ops, settings, results, memory, commands, capacity)


def harness_cpu(pid):
    """User+system CPU seconds of a process so far (/proc/PID/stat), None if unreadable."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def save_json(args, info, versions, results, memory, commands, capacity):
    """Rewritten after every measurement, so an interrupted run keeps what it measured."""
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"info": info, "versions": versions, "throughput": results, "memory": memory,
                       "commands": commands, "capacity": capacity}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def per_s(r, key):
    v = r.get(key, -1)
    return v / r["seconds"] if v is not None and v >= 0 and r["seconds"] else None


def fmt_cores(v):
    return "%.2f" % v if v is not None else "?"


def median_run(results, server, op, c, o):
    rs = [r for r in results if r["server"] == server and r["op"] == op and r["clients"] == c
          and r["outstanding"] == o]
    if not rs:
        return None
    rs.sort(key=lambda r: r["ops_per_s"])
    return rs[(len(rs) - 1) // 2]


def median_capacity(capacity, server, op, conns, depth):
    rs = [r for r in capacity if r["server"] == server and r["op"] == op and r["conns"] == conns
          and r["depth"] == depth]
    if not rs:
        return None
    rs.sort(key=lambda r: r["ops_per_s"])
    return rs[(len(rs) - 1) // 2]


def print_capacity(p, args, names, servers, ops, capacity):
    keys = sorted({(int(r["conns"]), int(r["depth"])) for r in capacity})
    p("Server capacity with bench_raw (the client protocol spoken directly by one epoll thread, "
      "%g s measured after %g s warm-up, %d-byte values%s):"
      % (args.duration, args.warmup, args.value_size, ", median of %d runs" % args.repeat if args.repeat > 1 else ""))
    p("")
    p("| op | conns x depth | server | ops/s | p50 ms | p99 ms | errors | server CPU | server CPU us/op | "
      "generator CPU |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for op in ops:
        for conns, depth in keys:
            for k in servers:
                r = median_capacity(capacity, k, op, conns, depth)
                if r is None:
                    continue
                srv = r["server_cpu_s"] / r["seconds"] if r.get("server_cpu_s", -1) >= 0 else None
                us_op = "%.1f" % (r["server_cpu_s"] * 1e6 / r["ops"]) if srv is not None and r["ops"] else "?"
                p("| %s | %d x %d | %s | %.0f | %s | %s | %d | %s | %s | %s |" % (
                    op, conns, depth, names[k], r["ops_per_s"], fmt_ms(r["p50_us"]), fmt_ms(r["p99_us"]),
                    r["errors"], fmt_cores(srv), us_op, fmt_cores(r["client_cpu_s"] / r["seconds"])))
    p("")
    if len(servers) == 2:
        a, b = names[servers[0]], names[servers[1]]
        p("| op | conns x depth | %s ops/s | %s ops/s | %s / %s |" % (a, b, b, a))
        p("|---|---|---:|---:|---:|")
        for op in ops:
            for conns, depth in keys:
                ra = median_capacity(capacity, servers[0], op, conns, depth)
                rb = median_capacity(capacity, servers[1], op, conns, depth)
                if ra is None or rb is None:
                    continue
                p("| %s | %d x %d | %.0f | %.0f | %.2fx |" % (op, conns, depth, ra["ops_per_s"], rb["ops_per_s"],
                                                            rb["ops_per_s"] / ra["ops_per_s"]))
        p("")


def print_markdown(args, info, versions, servers, ops, settings, results, memory, commands, capacity=()):
    names = {"zookeeper": "ZooKeeper", "paddock": "paddock"}
    p = print
    p("Run: `%s` (%s)" % (info["argv"], info["date"]))
    p("")
    p("Machine: %d CPUs (%s), %s GB RAM, Linux %s, %s. Load generator and server share the CPUs."
      % (info["cpus"], info["cpu_model"], info["mem_gb"], info["kernel"], info["java"]))
    for k in servers:
        p("%s: %s" % (names[k], versions.get(k, "?")))
    p("")
    if results:
        p("Throughput and latency (%g s measured after %g s warm-up, %d-byte values, %s run%s per cell%s):"
          % (args.duration, args.warmup, args.value_size, args.repeat, "s" if args.repeat > 1 else "",
             ", median by ops/s" if args.repeat > 1 else ""))
        p("")
        p("| op | clients x outstanding | server | ops/s | p50 ms | p99 ms | errors | server CPU | "
          "server CPU us/op | load generator CPU | other CPU |")
        p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for op in ops:
            for c, o in settings:
                for k in servers:
                    r = median_run(results, k, op, c, o)
                    if r is None:
                        continue
                    srv, cli, tot = per_s(r, "server_cpu_s"), per_s(r, "client_cpu_s"), per_s(r, "system_busy_s")
                    other = tot - srv - cli if None not in (srv, cli, tot) else None
                    us_op = "%.1f" % (r["server_cpu_s"] * 1e6 / r["ops"]) if srv is not None and r["ops"] else "?"
                    p("| %s | %d x %d | %s | %.0f | %s | %s | %d | %s | %s | %s | %s |" % (
                        op, c, o, names[k], r["ops_per_s"], fmt_ms(r["p50_us"]), fmt_ms(r["p99_us"]),
                        r["errors"], fmt_cores(srv), us_op, fmt_cores(cli),
                        fmt_cores(max(other, 0.0) if other is not None else None)))
        p("")
        p("CPU columns: CPU seconds per wall-clock second during the measured run (the machine has %d, so %d.00 "
          "is all of it); server CPU us/op = server CPU time per completed request; other = everything else "
          "on the machine, including the idle second server."
          % (info["cpus"], info["cpus"]))
        p("")
        if len(servers) == 2:
            a, b = names[servers[0]], names[servers[1]]
            p("| op | clients x outstanding | %s ops/s | %s ops/s | %s / %s | %s p99 ms | %s p99 ms |"
              % (a, b, b, a, a, b))
            p("|---|---|---:|---:|---:|---:|---:|")
            for op in ops:
                for c, o in settings:
                    ra, rb = median_run(results, servers[0], op, c, o), median_run(results, servers[1], op, c, o)
                    if ra is None or rb is None:
                        continue
                    p("| %s | %d x %d | %.0f | %.0f | %s | %s | %s |" % (
                        op, c, o, ra["ops_per_s"], rb["ops_per_s"],
                        "%.2fx" % (rb["ops_per_s"] / ra["ops_per_s"]) if ra["ops_per_s"] else "-",
                        fmt_ms(ra["p99_us"]), fmt_ms(rb["p99_us"])))
            p("")
    if capacity:
        print_capacity(p, args, names, servers, ops, capacity)
    if memory:
        p("Memory: %d znodes of %d bytes (%d parents); bytes per znode = (RSS after - RSS before) / znodes:"
          % (args.memory_znodes, args.value_size, args.memory_parents))
        p("")
        p("| server | create rate /s | RSS before MB | RSS after MB | RSS bytes/znode | RSS after full GC, "
          "bytes/znode | Java heap used after full GC, bytes/znode |")
        p("|---|---:|---:|---:|---:|---:|---:|")
        for k in servers:
            m = memory.get(k)
            if not m:
                continue
            gc = "%.0f" % m["rss_gc_bytes_per_znode"] if "rss_gc_bytes_per_znode" in m else "n/a"
            heap = "%.0f" % m["heap_bytes_per_znode"] if "heap_bytes_per_znode" in m else "n/a"
            p("| %s | %.0f | %.1f | %.1f | %.0f | %s | %s |" % (
                names[k], m["creates_per_s"], m["rss_before_kb"] / 1024, m["rss_after_kb"] / 1024,
                m["rss_bytes_per_znode"], gc, heap))
        if len(servers) == 2 and all(k in memory for k in servers):
            a, b = memory[servers[0]], memory[servers[1]]
            p("")
            p("%s / %s RSS bytes per znode: %.3f" % (names[servers[1]], names[servers[0]],
                                                     b["rss_bytes_per_znode"] / a["rss_bytes_per_znode"]))
        p("")
    if commands:
        p("Commands (run.py fills in the port and PID of each server):")
        p("")
        titles = {"warmup": "server warm-up", "client": "throughput and latency",
                  "capacity": "server capacity (bench_raw)"}
        for k, v in sorted(commands.items(), key=lambda kv: (kv[0] != "warmup", kv[0])):
            p("- %s:" % titles.get(k, k.replace("memory-", "memory, ")))
            p("")
            p("      %s" % v)
            p("")
        p("")


if __name__ == "__main__":
    main()
