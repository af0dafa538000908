#!/usr/bin/env python3
"""Times `GET /stats/cadres` at a large register without seeding it row by row.

Seeds `--cadres` demo cadres through the release binary, then multiplies them in SQL
(`--times`, copies of every cadre without identity numbers, through the same triggers that
keep the search index and the statistics tallies) and times, one request at a time, each
question twice: the whole register, which is read from the tallies, and the same register with
`age_min=0`, which goes through the grouped pass over the rows. Both answers must agree. All
traffic goes to 127.0.0.1; each step is bounded.

    python3 bench/stats_scale.py --engine postgres --cadres 100000 --times 10
"""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".ci"))
from demo_server import DemoServer  # noqa: E402

QUESTIONS = ["", "party=jiusan", "status=all"]


def copied_columns(args, data_dir):
    """Every column of `cadres`, as the database has it, except the id and the identity number's
    (unique) columns."""
    if args.engine == "postgres":
        names = subprocess.run(
            ["psql", "-At", args.postgres_url, "-c",
             "SELECT column_name FROM information_schema.columns "
             "WHERE table_name = 'cadres' ORDER BY ordinal_position"],
            check=True, capture_output=True, text=True, timeout=60).stdout.split()
    else:
        with sqlite3.connect(os.path.join(data_dir, "tongxin.db"), timeout=60) as db:
            names = [row[1] for row in db.execute("PRAGMA table_info(cadres)")]
    return ", ".join(n for n in names if n != "id" and not n.startswith("id_number"))


def multiply(args, data_dir, times):
    columns = copied_columns(args, data_dir)
    copy = f"INSERT INTO cadres ({columns}) SELECT {columns} FROM cadres WHERE id <= {args.cadres}"
    started = time.monotonic()
    if args.engine == "postgres":
        for _ in range(times):
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", args.postgres_url, "-c", copy],
                           check=True, timeout=3600)
        subprocess.run(["psql", "-q", args.postgres_url, "-c", "VACUUM ANALYZE cadres"],
                       check=True, timeout=3600)
    else:
        with sqlite3.connect(os.path.join(data_dir, "tongxin.db"), timeout=60) as db:
            for _ in range(times):
                db.execute(copy)
            db.commit()
            db.execute("ANALYZE")
    return time.monotonic() - started


def timed(demo, token, query, repeats):
    """Median milliseconds of `repeats` requests, and the last answer."""
    durations, answer = [], None
    for _ in range(repeats):
        started = time.monotonic()
        status, answer = demo.client.call("GET", "/stats/cadres?" + query, token)
        durations.append((time.monotonic() - started) * 1000)
        if status != 200:
            sys.exit(f"/stats/cadres?{query} answered {status}")
    return statistics.median(durations), answer


def counts(answer):
    """The answer without its drill-down filters, which name the request's own filter."""
    return {key: ([(b["key"], b["count"]) for b in value] if isinstance(value, list) else value)
            for key, value in answer.items()}


def measure(demo, token, repeats, label):
    for question in QUESTIONS:
        whole_ms, whole = timed(demo, token, question, repeats)
        grouped_query = "&".join(filter(None, [question, "age_min=0"]))
        grouped_ms, grouped = timed(demo, token, grouped_query, repeats)
        if counts(whole) != counts(grouped):
            sys.exit(f"{label} {question!r}: the two sources disagree")
        source = "filtered, grouped" if question.startswith("party") else "tallies"
        print(f"| {label} | {question or '(whole register)'} | {whole['total']:,} | "
              f"{whole_ms:.0f} ms ({source}) | {grouped_ms:.0f} ms | "
              f"{grouped_ms / whole_ms:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cadres", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=10, help="the register's final multiple")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--binary", default="target/release/tongxin")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/tongxin_stats")
    args = parser.parse_args()
    database_url = None
    admin_url = args.postgres_url.rsplit("/", 1)[0] + "/postgres"
    name = args.postgres_url.rsplit("/", 1)[1]

    def postgres(sql):
        subprocess.run(["psql", "-q", admin_url, "-c", sql], check=True, timeout=120)

    if args.engine == "postgres":
        postgres(f'DROP DATABASE IF EXISTS "{name}"')
        postgres(f'CREATE DATABASE "{name}"')
        database_url = args.postgres_url
    print("| register | question | cadres | whole status: from | age_min=0: grouped pass | "
          "grouped ÷ whole |\n|---|---|---|---|---|---|")
    try:
        with DemoServer(args.binary, database_url, cadres=args.cadres) as demo:
            token = demo.tokens["ufwd_staff"]
            measure(demo, token, args.repeats, f"{args.engine} {args.cadres:,}")
            if args.times > 1:
                seconds = multiply(args, demo.env["TONGXIN_DATA_DIR"], args.times - 1)
                print(f"(multiplied to ×{args.times} in {seconds:.0f} s)", flush=True)
                measure(demo, token, args.repeats, f"{args.engine} ×{args.times}")
    finally:
        if args.engine == "postgres":
            postgres(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
