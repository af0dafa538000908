#!/usr/bin/env python3
"""tongxin against a bare actix-web + diesel server (`bench/bare_server.rs`) on the same rows.

Seeds one database (`tongxin seed-demo`), serves it with both the release build of tongxin and
the bare server, and drives `GET /cadres/{id}` and the benchmark's filtered list page against
each in turn for the given rounds, 32 connections, so that the machine's drift falls on both. On
PostgreSQL, pgbench's figures for the same reads follow in the same run. Build first:

    cargo build --release --bin tongxin --example bare_server
    python3 bench/peer.py --engine postgres --cadres 100000 --seconds 8 --rounds 2

Prints one JSON line per run. All traffic goes to 127.0.0.1; each run is bounded by --seconds.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import types
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".ci"))
sys.path.insert(0, HERE)
from demo_server import DemoServer, free_port, status_of  # noqa: E402
import bench  # noqa: E402

BARE = os.path.join(bench.ROOT, "target", "release", "examples", "bare_server")
CONNECTIONS = 32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cadres", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    database_url = None
    if args.engine == "postgres":
        name = f"tongxin_peer_{os.getpid()}"
        bench.psql(args.postgres_url, f"CREATE DATABASE {name}")
        database_url = urllib.parse.urlunsplit(
            urllib.parse.urlsplit(args.postgres_url)._replace(path="/" + name))
    try:
        with DemoServer(bench.BINARY, database_url, cadres=args.cadres) as demo:
            compare(args, demo, database_url)
    finally:
        if database_url:
            bench.psql(args.postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def compare(args, demo, database_url):
    port = free_port()
    bare = types.SimpleNamespace(base=f"http://127.0.0.1:{port}")
    database = database_url or os.path.join(demo.env["TONGXIN_DATA_DIR"], "tongxin.db")
    process = subprocess.Popen([BARE], env=dict(os.environ, DATABASE_URL=database, PORT=str(port)))
    try:
        for _ in range(100):
            if status_of(bare.base + "/api/v1/cadres/1") == 200:
                break
            time.sleep(0.1)
        else:
            sys.exit("the bare server did not answer")
        token = demo.tokens["ufwd_staff"]
        scenarios = [("get_by_id", dict(SCENARIO="get")),
                     ("list_filtered", bench.paths([bench.LIST_FILTERED]))]
        for number in range(1, args.rounds + 1):
            for scenario, env in scenarios:
                for server, target in (("tongxin", demo), ("bare", bare)):
                    figures = bench.wrk(target, env, CONNECTIONS, args.seconds, token, args.cadres)
                    print(json.dumps(dict(round=number, engine=args.engine, scenario=scenario,
                                          server=server, **figures)), flush=True)
        if database_url:
            limits = types.SimpleNamespace(connections=CONNECTIONS, seconds=args.seconds,
                                           cadres=args.cadres)
            for script in ("point", "list"):
                print(json.dumps(dict(engine=args.engine, pgbench=script,
                                      **bench.pgbench(database_url, script, limits))), flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)
        for path in bench.PATH_FILES:
            os.unlink(path)


if __name__ == "__main__":
    main()
