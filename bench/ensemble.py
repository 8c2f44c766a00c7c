#!/usr/bin/python3
"""Ensemble benchmark (issue 5): a 3-member paddock ensemble and a 3-member Apache ZooKeeper 3.8
ensemble on the same machine in one run, both syncing their logs before acknowledging (forceSync
yes on ZooKeeper, paddock's group commit with fdatasync), tickTime 2000, initLimit 10, syncLimit
5, every member on 127.0.0.1 with its own data directory.

One run:
  1. builds the bench tools (as bench/run.py does, or --bench-dir),
  2. starts both ensembles; the load goes to a follower of each (writes are forwarded to the
     leader and committed by a quorum, reads served by the follower), alternating the order,
  3. durable write throughput and latency (create, set) and read throughput (get), with the
     real C client (bench_client, CLIENTSxOUTSTANDING) and the raw-protocol generator
     (bench_raw, CONNSxDEPTH),
  4. failover time, --failovers times per server kind on a fresh ensemble each time: a writer
     speaking the client protocol (tests/net/zkwire.py) creates znodes as fast as it can, one
     at a time, moving to the next member whenever a connection fails or is refused (no
     back-off); the leader is killed with SIGKILL; the failover time is from the kill to the
     acknowledgement of the first create issued after it.  The median is reported,
  5. stops every server by PID and removes every temporary directory; prints Markdown tables.

Examples:
  bench/ensemble.py --bench-dir build/bench
  bench/ensemble.py --duration 5 --failovers 2     # a quick look
"""
import argparse
import json
import os
import shlex
import signal
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (tools, load generators, cleanup, the harness)

harness = run.harness
zw = __import__("zkwire")


class BenchZooKeeperEnsemble(harness.ZooKeeperEnsemble):
    def __init__(self, heap, **kw):
        super().__init__(**kw)
        for m in self.members:
            m.command = (lambda cfg, m=m: [("-Xmx" + heap) if a.startswith("-Xmx") else a
                                           for a in harness.ZooKeeperServer.command(m, cfg)])


def make_ensemble(kind, args):
    extra = {"admin.enableServer": "false", "forceSync": "yes", "initLimit": "10", "syncLimit": "5"}
    if kind == "zookeeper":
        return BenchZooKeeperEnsemble(args.zk_heap, extra=extra, tick_ms=2000)
    harness.PADDOCK_BIN = args.paddock_bin
    return harness.PaddockEnsemble(extra=extra, tick_ms=2000)


class Target:
    """The follower a generator talks to, in the shape run.py's command builders expect."""

    def __init__(self, member):
        self.hosts = member.hosts
        self.port = member.port
        self.proc = member.proc


def failover_once(kind, args):
    ens = make_ensemble(kind, args)
    try:
        ens.start(timeout=120)
        members = list(ens.members)
        leader = ens.leader()
        acked, killed = [], {}
        stop = threading.Event()

        def writer():
            i, k, conn = 0, 0, None
            while not stop.is_set():
                if conn is None:
                    m = members[k % len(members)]
                    k += 1
                    if m.proc.poll() is not None:
                        continue
                    try:
                        conn = zw.Conn(port=m.port, timeout=2.0)
                        resp = conn.connect(timeout_ms=10000)
                        if resp.session_id == 0:
                            raise zw.ConnectionClosed("refused")
                    except (OSError, zw.ConnectionClosed, zw.MarshalError, EOFError):
                        if conn is not None:
                            conn.close()
                        conn = None
                        time.sleep(0.005)
                        continue
                issued = time.monotonic()
                try:
                    r = conn.create("/fo-%s-%d" % (kind, i), b"x")
                    i += 1
                    if r.err == 0:
                        acked.append((issued, time.monotonic()))
                    else:
                        raise zw.ConnectionClosed("error %d" % r.err)
                except (OSError, zw.ConnectionClosed, zw.MarshalError, EOFError):
                    conn.close()
                    conn = None

        t = threading.Thread(target=writer)
        t.start()
        try:
            if not harness.wait_until(lambda: len(acked) >= 50, 60):
                raise RuntimeError("%s: the writer got nothing through before the kill" % kind)
            time.sleep(1.0)
            killed["t"] = time.monotonic()
            os.kill(leader.proc.pid, signal.SIGKILL)
            leader.proc.wait(timeout=10)

            def recovered():
                return any(issued > killed["t"] for issued, _ in acked)
            if not harness.wait_until(recovered, 120):
                raise RuntimeError("%s: no write got through within 120 s of the kill" % kind)
        finally:
            stop.set()
            t.join(timeout=30)
        first = min(done for issued, done in acked if issued > killed["t"])
        return first - killed["t"], leader.sid
    finally:
        ens.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="zookeeper,paddock")
    ap.add_argument("--ops", default="create,set,get")
    ap.add_argument("--settings", default="4x64", help="bench_client CLIENTSxOUTSTANDING list")
    ap.add_argument("--capacity", default="8x128", help="bench_raw CONNSxDEPTH list (empty: skip)")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--failovers", type=int, default=5)
    ap.add_argument("--zk-heap", default="1g")
    ap.add_argument("--paddock-bin", default=harness.PADDOCK_BIN)
    ap.add_argument("--bench-dir")
    ap.add_argument("--wait-quiet", type=float, default=60)
    ap.add_argument("--quiet-cores", type=float, default=0.4)
    ap.add_argument("--json")
    args = ap.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    ops = [o for o in args.ops.split(",") if o]
    settings = [tuple(int(x) for x in s.split("x")) for s in args.settings.split(",") if s]
    cap_settings = [tuple(int(x) for x in s.split("x")) for s in args.capacity.split(",") if s]
    workdir = tempfile.mkdtemp(prefix="pd-bench-ensemble-")
    run._tmpdirs.append(workdir)
    tools = run.find_tools(args, workdir)
    out = {"argv": " ".join(shlex.quote(a) for a in ["bench/ensemble.py"] + sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
           "throughput": [], "capacity": [], "failover": {}, "versions": {}}

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)

    live = {}
    try:
        for kind in servers:
            live[kind] = make_ensemble(kind, args).start(timeout=120)
            out["versions"][kind] = run.server_version(live[kind].target)
            run.log("%s ensemble: leader %d, load on follower %d (%s, pid %d)" % (
                kind, live[kind].leader().sid, live[kind].target.sid, live[kind].target.hosts,
                live[kind].target.proc.pid))
        n = 0
        for op in ops:
            for clients, outstanding in settings:
                order = servers if n % 2 == 0 else list(reversed(servers))
                n += 1
                for kind in order:
                    tgt = Target(live[kind].target)
                    cmd = run.client_cmd(tools, tgt, op, clients, outstanding, args.duration, args.warmup,
                                         args.value_size, kind)
                    run.wait_quiet(args)
                    r = run.run_tool(cmd, timeout=args.duration + args.warmup + 600)
                    r.update(server=kind)
                    out["throughput"].append(r)
                    save()
            for conns, depth in cap_settings:
                order = servers if n % 2 == 0 else list(reversed(servers))
                n += 1
                for kind in order:
                    tgt = Target(live[kind].target)
                    cmd = run.raw_cmd(tools, tgt, op, conns, depth, args, "/ens-%s" % op, kind)
                    r = run.measure_server_cpu(cmd, tgt, args)
                    r.update(server=kind)
                    out["capacity"].append(r)
                    save()
    finally:
        for ens in live.values():
            ens.stop()

    for kind in servers:
        times = []
        for i in range(args.failovers):
            t, sid = failover_once(kind, args)
            run.log("  %s failover %d: %.3f s (leader %d killed)" % (kind, i + 1, t, sid))
            times.append(t)
        out["failover"][kind] = {"seconds": times, "median_s": statistics.median(times)}
        save()
    save()
    print_markdown(out, servers, ops, settings, cap_settings)


def med(rows, **match):
    vals = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    return vals[0] if vals else None


def print_markdown(out, servers, ops, settings, cap_settings):
    p = print
    p("Ensembles of 3 (%s; %s CPUs) — `%s`\n" % (out["date"], out["cpus"], out["argv"]))
    p("| op | generator | setting | server | ops/s | p50 ms | p99 ms | paddock/ZK |")
    p("|---|---|---|---|---:|---:|---:|---:|")
    for op in ops:
        rows = [("bench_client", "%dx%d" % s, out["throughput"], dict(op=op, clients=s[0], outstanding=s[1]))
                for s in settings]
        rows += [("bench_raw", "%dx%d" % s, out["capacity"], dict(op=op, conns=s[0], depth=s[1]))
                 for s in cap_settings]
        for gen, setting, data, match in rows:
            r = {k: med(data, server=k, **match) for k in servers}
            z, d = r.get("zookeeper"), r.get("paddock")
            ratio = "%.2fx" % (d["ops_per_s"] / z["ops_per_s"]) if z and d and z["ops_per_s"] else ""
            for k in servers:
                if r[k] is None:
                    continue
                p("| %s | %s | %s | %s | %.0f | %.2f | %.2f | %s |" % (
                    op, gen, setting, k, r[k]["ops_per_s"], r[k]["p50_us"] / 1000, r[k]["p99_us"] / 1000,
                    ratio if k == "paddock" else ""))
    if out["failover"]:
        p("\n| server | failover, median of %d | each |" % len(next(iter(out["failover"].values()))["seconds"]))
        p("|---|---:|---|")
        for k in servers:
            f = out["failover"].get(k)
            if f:
                p("| %s | %.3f s | %s |" % (k, f["median_s"], ", ".join("%.3f" % t for t in f["seconds"])))


if __name__ == "__main__":
    main()
