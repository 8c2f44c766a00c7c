#!/usr/bin/python3
"""Durable side-by-side benchmark: paddock and Apache ZooKeeper 3.8 standalone, both syncing
their transaction log before answering (ZooKeeper's default forceSync=yes; paddock's group
commit with fdatasync), data on the same filesystem.

One run:
  1. builds the bench tools (as bench/run.py does, or --bench-dir),
  2. starts both servers, each in its own temporary directory on a free 127.0.0.1 port, with
     their default snapshot settings (snapCount 100000),
  3. durable write throughput and latency: create and set with the real C client (bench_client,
     CLIENTSxOUTSTANDING settings) and the raw-protocol generator (bench_raw, CONNSxDEPTH),
     alternating the server order,
  4. restart-to-serving with N znodes (default 1,000,000 of 100 bytes): a fresh instance of each
     server is filled with bench_memory, killed with SIGKILL, and restarted --restarts times; the
     time from starting the process to the first successful read over a new session is
     reported (JVM start-up included for ZooKeeper: that is what an operator waits for), and the
     server's znode count is checked after each restart,
  5. snapshot size: both servers write a snapshot when they start on a log they had to replay;
     the size of the newest snapshot after the restarts (all N znodes) is reported,
  6. stops every server by PID and removes every temporary directory, prints Markdown tables.

Examples:
  bench/durable.py
  bench/durable.py --restart-znodes 200000 --restarts 1 --duration 5   # a quick look
"""
import argparse
import glob
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (tools, load generators, cleanup, the harness)

harness = run.harness
zw = __import__("zkwire")


def make_server(kind, args):
    if kind == "zookeeper":
        return run.BenchZooKeeper(heap=args.zk_heap, extra={"admin.enableServer": "false", "forceSync": "yes"})
    harness.PADDOCK_BIN = args.paddock_bin
    return harness.PaddockServer(extra={"admin.enableServer": "false"})


def snapshot_files(kind, srv):
    pattern = "version-2/snapshot.*" if kind == "zookeeper" else "paddock/snapshot.*"
    return [p for p in glob.glob(os.path.join(srv.data_dir, pattern)) if not p.endswith(".tmp")]


def newest_snapshot(kind, srv):
    files = snapshot_files(kind, srv)
    if not files:
        return None, 0
    newest = max(files, key=lambda p: int(p.rsplit(".", 1)[1], 16))
    return newest, os.path.getsize(newest)


def znode_count(srv):
    for line in harness.four_letter(srv.port, "mntr", timeout=10).splitlines():
        if line.startswith("zk_znode_count"):
            return int(line.split()[1])
    return -1


def serving(srv):
    """A new session and one read: True once the server answers."""
    try:
        c = zw.Conn("127.0.0.1", srv.port, timeout=2.0)
        c.connect(timeout_ms=10000)
        ok = c.exists("/").err == 0
        c.close()
        return ok
    except Exception:
        return False


def timed_restart(srv, timeout=600):
    """SIGKILL, then start the process and time it until it serves; returns seconds."""
    srv.kill()
    cfg = srv.write_config()
    log_f = open(srv.log_path, "ab")
    t0 = time.monotonic()
    srv.proc = subprocess.Popen(srv.command(cfg), stdout=log_f, stderr=subprocess.STDOUT, cwd=srv.dir,
                                start_new_session=True, preexec_fn=harness._die_with_parent)
    log_f.close()
    if srv not in harness._live:
        harness._live.append(srv)
    while time.monotonic() - t0 < timeout:
        if srv.proc.poll() is not None:
            raise RuntimeError("%s exited during restart:\n%s" % (srv.kind, srv.log()))
        if serving(srv):
            return time.monotonic() - t0
        time.sleep(0.01)
    raise RuntimeError("%s did not serve within %ds" % (srv.kind, timeout))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="zookeeper,paddock")
    ap.add_argument("--ops", default="create,set")
    ap.add_argument("--settings", default="1x1,4x64", help="bench_client CLIENTSxOUTSTANDING list")
    ap.add_argument("--capacity", default="8x128", help="bench_raw CONNSxDEPTH list (empty: skip)")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--restart-znodes", type=int, default=1000000, help="0 skips restart and snapshot size")
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--zk-heap", default="3g")
    ap.add_argument("--paddock-bin", default=harness.PADDOCK_BIN)
    ap.add_argument("--bench-dir")
    ap.add_argument("--wait-quiet", type=float, default=120)
    ap.add_argument("--quiet-cores", type=float, default=0.3)
    ap.add_argument("--json")
    args = ap.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    ops = [o for o in args.ops.split(",") if o]
    settings = [tuple(int(x) for x in s.split("x")) for s in args.settings.split(",") if s]
    cap_settings = [tuple(int(x) for x in s.split("x")) for s in args.capacity.split(",") if s]

    workdir = tempfile.mkdtemp(prefix="pd-bench-durable-")
    run._tmpdirs.append(workdir)
    tools = run.find_tools(args, workdir)
    out = {"argv": " ".join(shlex.quote(a) for a in ["bench/durable.py"] + sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
           "throughput": [], "capacity": [], "restart": {}, "snapshot": {}, "versions": {}}

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)

    live = {}
    try:
        for kind in servers:
            live[kind] = make_server(kind, args).start()
            out["versions"][kind] = run.server_version(live[kind])
            run.log("%s on %s (pid %d)" % (kind, live[kind].hosts, live[kind].proc.pid))
        n = 0
        for op in ops:
            for clients, outstanding in settings:
                for rep in range(args.repeat):
                    order = servers if n % 2 == 0 else list(reversed(servers))
                    n += 1
                    for kind in order:
                        cmd = run.client_cmd(tools, live[kind], op, clients, outstanding, args.duration, args.warmup,
                                             args.value_size, kind)
                        run.wait_quiet(args)
                        r = run.run_tool(cmd, timeout=args.duration + args.warmup + 600)
                        r.update(server=kind, rep=rep)
                        out["throughput"].append(r)
                        save()
            for conns, depth in cap_settings:
                for rep in range(args.repeat):
                    order = servers if n % 2 == 0 else list(reversed(servers))
                    n += 1
                    for kind in order:
                        cmd = run.raw_cmd(tools, live[kind], op, conns, depth, args, "/durable-%s-%d" % (op, rep),
                                          kind)
                        r = run.measure_server_cpu(cmd, live[kind], args)
                        r.update(server=kind, rep=rep)
                        out["capacity"].append(r)
                        save()
    finally:
        for srv in live.values():
            srv.stop()

    if args.restart_znodes > 0:
        for kind in servers:
            srv = make_server(kind, args)
            try:
                srv.start()
                cmd = run.memory_cmd(tools, srv, args.restart_znodes, 1000, args.value_size, kind)
                run.wait_quiet(args)
                fill = run.run_tool(cmd, timeout=3600)
                expect = znode_count(srv)
                times = []
                for i in range(args.restarts):
                    run.wait_quiet(args)
                    t = timed_restart(srv)
                    got = znode_count(srv)
                    if got != expect:
                        raise RuntimeError("%s has %d znodes after restart %d, %d before" % (kind, got, i, expect))
                    run.log("  %s restart %d: serving after %.3f s (%d znodes)" % (kind, i + 1, t, got))
                    times.append(t)
                # the snapshot each server writes at start-up holds every znode
                harness.wait_until(lambda: newest_snapshot(kind, srv)[0] is not None, timeout=120)
                time.sleep(5)
                path, size = newest_snapshot(kind, srv)
                out["restart"][kind] = {"znodes": expect, "seconds": times, "median_s": statistics.median(times),
                                        "fill": fill}
                out["snapshot"][kind] = {"file": os.path.basename(path or ""), "bytes": size,
                                         "bytes_per_znode": size / max(expect, 1)}
                save()
            finally:
                srv.stop()
    save()
    print_markdown(out, servers, ops, settings, cap_settings)


def med(rows, key, **match):
    vals = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    if not vals:
        return None
    vals.sort(key=lambda r: r["ops_per_s"])
    return vals[len(vals) // 2].get(key) if key else vals[len(vals) // 2]


def print_markdown(out, servers, ops, settings, cap_settings):
    p = print
    p("Durable writes (%s; %s CPUs) — `%s`\n" % (out["date"], out["cpus"], out["argv"]))
    p("| op | generator | setting | server | ops/s | p50 ms | p99 ms | ratio paddock/ZK |")
    p("|---|---|---|---|---:|---:|---:|---:|")
    for op in ops:
        rows = [("bench_client", "%dx%d" % s, out["throughput"], dict(op=op, clients=s[0], outstanding=s[1]))
                for s in settings]
        rows += [("bench_raw", "%dx%d" % s, out["capacity"], dict(op=op, conns=s[0], depth=s[1]))
                 for s in cap_settings]
        for gen, setting, data, match in rows:
            r = {k: med(data, None, server=k, **match) for k in servers}
            z, d = r.get("zookeeper"), r.get("paddock")
            ratio = "%.2fx" % (d["ops_per_s"] / z["ops_per_s"]) if z and d and z["ops_per_s"] else ""
            for k in servers:
                if r[k] is None:
                    continue
                p("| %s | %s | %s | %s | %.0f | %.2f | %.2f | %s |" % (
                    op, gen, setting, k, r[k]["ops_per_s"], r[k]["p50_us"] / 1000, r[k]["p99_us"] / 1000,
                    ratio if k == "paddock" else ""))
    if out["restart"]:
        p("\n| server | znodes | restart to serving (median of %d) | each | snapshot bytes | bytes/znode |"
          % len(next(iter(out["restart"].values()))["seconds"]))
        p("|---|---:|---:|---|---:|---:|")
        for k in servers:
            r, s = out["restart"].get(k), out["snapshot"].get(k)
            if r:
                p("| %s | %d | %.3f s | %s | %d | %.1f |" % (k, r["znodes"], r["median_s"],
                                                            ", ".join("%.3f" % t for t in r["seconds"]),
                                                            s["bytes"], s["bytes_per_znode"]))


if __name__ == "__main__":
    main()
