#!/usr/bin/env python3
"""Compares two builds of the server on one benchmark scenario, alternately.

Each round starts each binary on a fresh, identical demo database (the seed is deterministic),
drives one wrk scenario of `bench/wrk/scenario.lua` against it (or imports the register's own
export once), and prints requests per second and p99 (or seconds and the server's peak memory); the binaries alternate so that the machine's drift falls on both. Build the earlier
commit into its own target directory first, for example:

    git worktree add /tmp/before HEAD~1
    (cd /tmp/before && CARGO_TARGET_DIR=/tmp/before-target cargo build --release)
    python3 bench/ab.py /tmp/before-target/release/tongxin target/release/tongxin \\
        --scenario write --engine postgres

All traffic goes to 127.0.0.1; each run is bounded by `--seconds`.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".ci"))
sys.path.insert(0, HERE)
from demo_server import DemoServer  # noqa: E402
import bench  # noqa: E402

# A wrk scenario of bench/wrk/scenario.lua, the filtered list page or a search of bench.py, reads
# beside logins as in bench.py (the reads' figures, then the logins' in their own row), or
# "import": the register's own XLSX export imported again in one request.
SCENARIOS = {"write": "write", "get_by_id": "get", "login": "login", "list_filtered": None,
             "get_by_id_beside_login": None, "import": None, **dict.fromkeys(bench.SEARCHES)}
# The searches' wrk settings, sampled in the first round.
SAMPLED = {}


def import_register(demo):
    """Seconds to import the whole register's XLSX export (without the masked columns)."""
    token = demo.tokens["ufwd_staff"]
    sheet = bench.timed(demo, "GET", f"/api/v1/cadres/export?format=xlsx&fields={bench.IMPORTABLE}",
                        token, keep=True)[3]
    seconds, _, peak_rss_mb, _ = bench.timed(demo, "POST", "/api/v1/cadres/import", token,
                                             body=sheet)
    return seconds, peak_rss_mb


def run_scenario(demo, database_url, args):
    """The scenario's figures, as (label suffix, figures) rows."""
    token = demo.tokens["ufwd_staff"]
    if args.scenario == "get_by_id_beside_login":
        reads, logins = bench.reads_beside_logins(demo, args.connections, args.seconds,
                                                  args.cadres)
        return [("", reads), (" (its logins)", logins)]
    if args.scenario == "list_filtered":
        env = bench.paths([bench.LIST_FILTERED])
    elif args.scenario in bench.SEARCHES:
        # Sampled once, so that every binary and round searches for the same cadres (the seed
        # is deterministic, so every fresh database holds them).
        if args.scenario not in SAMPLED:
            SAMPLED.update(bench.search_scenarios(args.engine, demo, database_url))
        env = SAMPLED[args.scenario]
    elif args.scenario == "login":
        env = dict(SCENARIO="login", LOGIN_BODY=bench.login_body(demo))
    else:
        env = dict(SCENARIO=SCENARIOS[args.scenario])
    # Logins run on 4 connections, as in bench.py.
    connections = 4 if args.scenario == "login" else args.connections
    return [("", bench.wrk(demo, env, connections, args.seconds, token, args.cadres))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="write")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cadres", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/tongxin_ab")
    args = parser.parse_args()
    admin_url = args.postgres_url.rsplit("/", 1)[0] + "/postgres"
    name = args.postgres_url.rsplit("/", 1)[1]

    def postgres(sql):
        subprocess.run(["psql", "-q", admin_url, "-c", sql], check=True, timeout=120)

    if args.scenario == "import":
        print("| round | binary | import s | peak RSS MB |\n|---|---|---|---|")
    else:
        print(f"| round | binary | {args.scenario} req/s | p99 ms | errors |\n|---|---|---|---|---|")
    try:
        for round_number in range(1, args.rounds + 1):
            for label, binary in [("before", args.before), ("after", args.after)]:
                database_url = None
                if args.engine == "postgres":
                    postgres(f'DROP DATABASE IF EXISTS "{name}"')
                    postgres(f'CREATE DATABASE "{name}"')
                    database_url = args.postgres_url
                with DemoServer(binary, database_url, cadres=args.cadres) as demo:
                    if args.scenario == "import":
                        seconds, peak = import_register(demo)
                        print(f"| {round_number} | {label} | {seconds} | {peak} |", flush=True)
                        continue
                    rows = run_scenario(demo, database_url, args)
                for row_label, figures in rows:
                    print(f"| {round_number} | {label}{row_label} | {figures['rps']:,.0f} | "
                          f"{figures['p99_ms']} | {figures['errors']} |", flush=True)
    finally:
        for path in bench.PATH_FILES:
            os.unlink(path)
        if args.engine == "postgres":
            postgres(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
