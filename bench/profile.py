#!/usr/bin/env python3
"""Where the time goes: one benchmark scenario under `perf record -a` (the whole machine: the
server, the database and the load tool share its cores), reported by process and by the
server's hottest functions.

Build a release binary with line tables first, then run (PostgreSQL needs --postgres-url):

    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --bin tongxin
    python3 bench/profile.py --engine postgres --scenario get_by_id --cadres 100000

`--call-graph` records the server alone, with its call stacks, and reports each function's
share with what it calls (how much of a write is working out the edit, how much storing it).

All traffic goes to 127.0.0.1; the load and the recording stop after --seconds.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading

import bench
from demo_server import DemoServer

# Each scenario's wrk settings, from the engine, the running demo and its database URL.
SCENARIOS = {
    "get_by_id": lambda *_: dict(SCENARIO="get"),
    "list_filtered": lambda *_: bench.paths([bench.LIST_FILTERED]),
    "stats": lambda *_: bench.paths(["/api/v1/stats/cadres"]),
    "write": lambda *_: dict(SCENARIO="write"),
    **{name: lambda engine, demo, url, name=name: bench.search_scenarios(engine, demo, url)[name]
       for name in bench.SEARCHES},
}


def perf_report(data, *options, children=False):
    """perf's report, each function with its own samples or (`children`) with its callees'."""
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-inline",
                          "--children" if children else "--no-children", *options],
                         capture_output=True, text=True)
    # The symbol column is padded to the widest name; with call graphs the line ends in columns
    # of '-'.
    return [line.rstrip(" -") for line in out.stdout.splitlines()
            if line.strip() and not line.startswith("#")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=bench.BINARY)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="get_by_id")
    parser.add_argument("--cadres", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--call-graph", action="store_true",
                        help="record the server alone with call stacks (DWARF, 199 Hz)")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    database_url, drop = None, None
    if args.engine == "postgres":
        name = f"tongxin_profile_{os.getpid()}"
        bench.psql(args.postgres_url, f"CREATE DATABASE {name}")
        database_url = args.postgres_url.rsplit("/", 1)[0] + "/" + name
        drop = lambda: bench.psql(args.postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # noqa: E731
    data = os.path.join(tempfile.mkdtemp(prefix="tongxin-perf-"), "perf.data")
    try:
        with DemoServer(args.binary, database_url, cadres=args.cadres) as demo:
            result = {}
            settings = SCENARIOS[args.scenario](args.engine, demo, database_url)
            load = threading.Thread(target=lambda: result.update(bench.wrk(
                demo, settings, args.connections, args.seconds,
                demo.tokens["ufwd_staff"], args.cadres)))
            load.start()
            # Record the middle of the load: one second after it starts, one before it ends.
            subprocess.run(["sleep", "1"])
            if args.call_graph:
                target = ["--call-graph", "dwarf,16384", "-F", "199", "-p", str(demo.process.pid)]
            else:
                target = ["-a", "-F", "499"]
            subprocess.run(["perf", "record", *target, "-o", data, "--",
                            "sleep", str(max(args.seconds - 2, 1))],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            load.join()
            server_pid = demo.process.pid
    finally:
        for path in bench.PATH_FILES:
            os.unlink(path)
        if drop:
            drop()

    print(f"{args.scenario} on {args.engine}, {args.cadres:,} cadres, {args.connections} "
          f"connections: {result['rps']:.0f} req/s, p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, {result['errors']} errors")
    if args.call_graph:
        print(f"\nThe server's functions with what they call (top {args.top}):")
        print("\n".join(perf_report(data, "--sort", "symbol", "-g", "none",
                                     children=True)[:args.top]))
        print(f"\nperf data: {data}")
        return
    print("\nCPU samples by process (the whole machine):")
    print("\n".join(perf_report(data, "--sort", "comm")[:12]))
    print("\nThe server's samples by library:")
    print("\n".join(perf_report(data, "--pid", str(server_pid), "--sort", "dso")[:10]))
    print(f"\nThe server's hottest functions (top {args.top}):")
    print("\n".join(perf_report(data, "--pid", str(server_pid), "--sort", "symbol")[:args.top]))
    print(f"\nperf data: {data}")


if __name__ == "__main__":
    sys.exit(main())
