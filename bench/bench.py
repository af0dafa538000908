"""The benchmark behind docs/performance.md; run it with `bench/run` (which builds first).

For each engine: a fresh database (a temporary SQLite file; a new PostgreSQL database that is
dropped afterwards) filled by `tongxin seed-demo`, the release server on 127.0.0.1, and wrk
driving one scenario at a time for a bounded time. In the same run, the database's own limit for
the same work: pgbench with the scripts in bench/pgbench for PostgreSQL, the SQLite loop in
bench/sqlite_baseline.rs for SQLite, and the argon2id verify rate for logins. Every HTTP figure is
also given as a ratio to that limit, because this machine is shared and absolute figures drift.

Prints a Markdown table and writes the raw figures to target/bench/<time>.json. All traffic goes
to 127.0.0.1; every load is bounded by --seconds.
"""

import argparse
import datetime
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".ci"))
from demo_server import DemoServer  # noqa: E402

BINARY = os.path.join(ROOT, "target", "release", "tongxin")
BASELINE = os.path.join(ROOT, "target", "release", "examples", "sqlite_baseline")
LUA = os.path.join(ROOT, "bench", "wrk", "scenario.lua")
MARK = "ǂ"  # see text::SEARCH_MARK
LIST_FILTERED = "/api/v1/cadres?party=jiusan&sort=-birth_date&limit=20"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test",
                        help="a database to connect to for creating the benchmark's database")
    parser.add_argument("--only", help="comma-separated load scenarios to run (for example "
                        "search_name,search_pinyin, or get_by_id,get_by_id_beside_login for the "
                        "reads beside logins); skips the import and export and the databases' "
                        "own limits")
    parser.add_argument("--limits", action="store_true",
                        help="with --only, still measure the databases' own limits, so that the "
                        "chosen scenarios get their ratios")
    args = parser.parse_args()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "cadres": args.cadres,
        "seconds": args.seconds,
        "connections": args.connections,
        "settings": server_settings(),
        "engines": {},
    }
    try:
        for engine in args.engines.split(","):
            results["engines"][engine] = run_engine(engine, args)
    finally:
        for path in PATH_FILES:
            os.unlink(path)
    out_dir = os.path.join(ROOT, "target", "bench")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, time.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
    print(table(results))
    print(f"\nraw figures: {path}")


# Settings in the benchmark's environment that the server (and the SQLite loop) read and that
# change the figures, recorded with them.
TUNING = ("TONGXIN_SQLITE_MMAP_MIB", "TONGXIN_DB_POOL_SIZE", "TONGXIN_WORKERS", "MALLOC_ARENA_MAX")


def server_settings():
    return {name: os.environ[name] for name in TUNING if os.environ.get(name)}


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def run_engine(engine, args):
    database_url, drop = None, None
    if engine == "postgres":
        name = f"tongxin_bench_{os.getpid()}"
        psql(args.postgres_url, f"CREATE DATABASE {name}")
        database_url = urllib.parse.urlunsplit(
            urllib.parse.urlsplit(args.postgres_url)._replace(path="/" + name))
        drop = lambda: psql(args.postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # noqa: E731
    try:
        print(f"[{engine}] seeding {args.cadres} cadres", file=sys.stderr)
        started = time.monotonic()
        with DemoServer(BINARY, database_url, cadres=args.cadres) as demo:
            figures = {"seed_seconds": round(time.monotonic() - started, 1)}
            figures.update(scenarios(engine, demo, database_url, args))
            if not args.only:
                figures["transfer"] = transfer(engine, demo)
            figures["peak_rss_mb"] = peak_rss_mb(demo.process.pid)
            if not args.only or args.limits:
                figures["baselines"] = baselines(engine, demo, database_url, args)
            return figures
    finally:
        if drop:
            drop()


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def sample(engine, demo, database_url, count=200):
    """(name, pinyin, initials) of random active cadres, read from the database itself."""
    sql = ("SELECT name, sort_key, search_text FROM cadres WHERE status = 'active' "
           f"ORDER BY random() LIMIT {count}")
    if engine == "postgres":
        out = subprocess.run(["psql", "-At", "-F", "\t", database_url, "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        rows = [line.split("\t") for line in out.splitlines() if line]
    else:
        db = sqlite3.connect(os.path.join(demo.env["TONGXIN_DATA_DIR"], "tongxin.db"))
        rows = db.execute(sql).fetchall()
        db.close()
    # The name's initials are the last word of the search text (see cadres::service::columns).
    return [(name, pinyin, text.split(" ")[-1].replace(MARK, "")) for name, pinyin, text in rows]


SEARCHES = ("search_name", "search_pinyin", "search_initials")


def search_scenarios(engine, demo, database_url):
    """The search scenarios' wrk settings by name: searches for the names, pinyin and initials
    of random active cadres."""
    people = sample(engine, demo, database_url)
    # Half the name searches are the whole name, half its last two characters (a substring).
    names = [name if i % 2 or len(name) < 3 else name[-2:] for i, (name, _, _) in enumerate(people)]
    search = lambda words: ["/api/v1/cadres?limit=20&q=" + urllib.parse.quote(w) for w in words]  # noqa: E731
    words = [names, [p for _, p, _ in people], [i for _, _, i in people]]
    return {name: paths(search(w)) for name, w in zip(SEARCHES, words)}


def scenarios(engine, demo, database_url, args):
    token = demo.tokens["ufwd_staff"]
    searches = search_scenarios(engine, demo, database_url)
    first_page = "/api/v1/cadres?sort=name&limit=20"
    deep_page, depth = deep_page_path(demo, token, args.cadres)
    c = args.connections
    plan = [
        ("get_by_id", dict(SCENARIO="get"), c),
        ("list_filtered", paths([LIST_FILTERED]), c),
        ("list_page_1", paths([first_page]), c),
        (f"list_page_{depth}", paths([deep_page]), c),
        *((name, settings, c) for name, settings in searches.items()),
        ("stats", paths(["/api/v1/stats/cadres"]), 2),
        ("write", dict(SCENARIO="write"), c),
        ("login", dict(SCENARIO="login", LOGIN_BODY=login_body(demo)), 4),
    ]
    wanted = args.only.split(",") if args.only else None
    if wanted:
        unknown = set(wanted) - {name for name, _, _ in plan} - {BESIDE}
        if unknown:
            sys.exit(f"unknown scenarios: {', '.join(sorted(unknown))}")
        plan = [step for step in plan if step[0] in wanted]
    figures = {}
    for name, env, connections in plan:
        print(f"[{engine}] {name}", file=sys.stderr)
        figures[name] = wrk(demo, env, connections, args.seconds, token, args.cadres)
    if wanted and BESIDE not in wanted:
        return figures
    # Logins beside reads: how much do hashing logins slow the readers?
    print(f"[{engine}] get_by_id beside login", file=sys.stderr)
    reads, logins = reads_beside_logins(demo, c, args.seconds, args.cadres)
    figures[BESIDE] = reads
    figures["login_beside_reads"] = logins
    return figures


# The scenario of reads on all but 4 connections beside logins on those 4.
BESIDE = "get_by_id_beside_login"


def login_body(demo):
    return json.dumps({"username": "ci.leader", "password": demo.passwords["leader"]})


def reads_beside_logins(demo, connections, seconds, highest_id):
    """`get_by_id` on all but 4 connections while `login` runs on those 4, at the same time."""
    token = demo.tokens["ufwd_staff"]
    beside = {}
    login_thread = threading.Thread(target=lambda: beside.update(login=wrk(
        demo, dict(SCENARIO="login", LOGIN_BODY=login_body(demo)), 4, seconds, token, highest_id)))
    login_thread.start()
    reads = wrk(demo, dict(SCENARIO="get"), connections - 4, seconds, token, highest_id)
    login_thread.join()
    return reads, beside["login"]


PATH_FILES = []


# Every import column but the ID number and phone, which exports mask.
IMPORTABLE = ("name,former_name,gender,ethnicity,birth_date,native_place,email,party,"
              "party_joined_on,categories,level,unit,workplace,position,education,degree,"
              "professional_title,sectors,expertise,notes")


def transfer(engine, demo):
    """The export of the whole active register (XLSX, CSV), and the import of that register's
    XLSX export, each timed alone with the server's memory sampled every 20 ms."""
    token = demo.tokens["ufwd_staff"]
    figures = {}
    for fmt in ["xlsx", "csv"]:
        print(f"[{engine}] export {fmt}", file=sys.stderr)
        figures[f"export_{fmt}"] = timed(demo, "GET", f"/api/v1/cadres/export?format={fmt}", token)
    print(f"[{engine}] import", file=sys.stderr)
    # The whole active register in one file (under the import limit of 100,000 rows), as an
    # export gives it without the masked columns.
    _, _, _, sheet = timed(demo, "GET", f"/api/v1/cadres/export?format=xlsx&fields={IMPORTABLE}",
                           token, keep=True)
    figures["import_xlsx"] = timed(demo, "POST", "/api/v1/cadres/import", token, body=sheet)[:3]
    return {name: dict(zip(["seconds", "bytes", "peak_rss_mb", "rows"], values[:3]))
            for name, values in figures.items()}


def timed(demo, method, path, token, body=None, keep=False):
    """(seconds, response bytes, peak server RSS in MB, body if keep)."""
    assert demo.base.startswith("http://127.0.0.1:")
    request = urllib.request.Request(demo.base + path, data=body, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if body is not None:
        request.add_header("Content-Type",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(demo.process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            data = response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path.split('?')[0]} answered {error.code}: {error.read()[:600]!r}")
    finally:
        stop.set()
        sampler.join()
    seconds = round(time.monotonic() - started, 2)
    if body is not None:
        print(f"  imported: {data[:200]!r}", file=sys.stderr)
    return seconds, len(data), round(peak[0], 1), (data if keep else None)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def paths(lines):
    handle = tempfile.NamedTemporaryFile("w", prefix="tongxin-bench-", suffix=".txt", delete=False)
    with handle:
        handle.write("\n".join(lines) + "\n")
    PATH_FILES.append(handle.name)
    return dict(SCENARIO="paths", PATHS=handle.name)


def deep_page_path(demo, token, cadres):
    """The name-ordered page at depth 5,000 (or as deep as the data goes), found by walking."""
    target = min(5_000, max(1, cadres // 20 // 2))
    cursor, pages = None, 0
    while pages < target * 20 // 200:
        query = "/cadres?sort=name&limit=200" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        status, body = demo.client.call("GET", query, token)
        if status != 200 or not body.get("next_cursor"):
            break
        cursor, pages = body["next_cursor"], pages + 1
    depth = pages * 200 // 20 + 1
    return "/api/v1/cadres?sort=name&limit=20&cursor=" + urllib.parse.quote(cursor or ""), depth


def wrk(demo, env, connections, seconds, token, highest_id):
    threads = connections if env["SCENARIO"] == "write" else min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", LUA, demo.base]
    assert demo.base.startswith("http://127.0.0.1:")
    run_env = dict(os.environ, TOKEN=token, HIGHEST_ID=str(highest_id), **env)
    out = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith('{"requests"')), None)
    if line is None:
        sys.exit(f"wrk failed: {out.stdout}\n{out.stderr}")
    raw = json.loads(line)
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": raw["errors"],
        "requests": raw["requests"],
        "connections": connections,
    }


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def baselines(engine, demo, database_url, args):
    figures = {}
    cores = os.cpu_count() or 2
    for scenario in ["point", "list", "write"]:
        print(f"[{engine}] baseline {scenario}", file=sys.stderr)
        if engine == "postgres":
            figures[scenario] = pgbench(database_url, scenario, args)
        else:
            figures[scenario] = sqlite_loop(demo, scenario, args.seconds, cores, args.cadres)
    print(f"[{engine}] baseline argon2", file=sys.stderr)
    figures["argon2_verify"] = sqlite_loop(demo, "argon2", args.seconds, cores, args.cadres)
    return figures


def pgbench(database_url, scenario, args):
    script = os.path.join(ROOT, "bench", "pgbench", scenario + ".sql")
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", str(args.connections), "-j", "2",
         "-T", str(args.seconds), "-D", f"highest_id={args.cadres}", "-f", script, database_url],
        check=True, capture_output=True, text=True, timeout=args.seconds + 120).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    return {"per_second": round(tps, 1), "tool": f"pgbench -M prepared -c {args.connections}"}


def sqlite_loop(demo, scenario, seconds, threads, highest_id):
    path = os.path.join(demo.env["TONGXIN_DATA_DIR"], "tongxin.db")
    out = subprocess.run([BASELINE, path, scenario, str(seconds), str(threads), str(highest_id)],
                         check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    raw = json.loads(out)
    return {"per_second": round(raw["per_second"], 1), "tool": f"in-process loop, {threads} threads"}


def table(results):
    engines = results["engines"]
    names = list(next(iter(engines.values())).keys())
    names = [n for n in names if isinstance(engines[next(iter(engines))][n], dict)
             and "rps" in engines[next(iter(engines))][n]]
    settings = "".join(f", {name}={value}" for name, value in results.get("settings", {}).items())
    lines = [f"{results['cadres']:,} cadres, {results['seconds']} s per scenario, "
             f"{results['machine']}, {results['date']}{settings}", ""]
    header = "| scenario | " + " | ".join(
        f"{e} req/s | {e} p50 / p99 ms | {e} errors" for e in engines) + " |"
    lines += [header, "|" + "---|" * (1 + 3 * len(engines))]
    for name in names:
        cells = []
        for figures in engines.values():
            f = figures[name]
            cells += [f"{f['rps']:,.0f}", f"{f['p50_ms']} / {f['p99_ms']}", str(f["errors"])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| ratio | " + " | ".join(engines) + " |", "|---|" + "---|" * len(engines)]
    ratios = {
        "get_by_id ÷ point-select limit": ("get_by_id", "point"),
        "list_filtered ÷ same-SQL limit": ("list_filtered", "list"),
        "write ÷ update+audit limit": ("write", "write"),
        "login ÷ argon2id verify rate": ("login", "argon2_verify"),
    }
    for label, (http, base) in ratios.items():
        if not all("baselines" in f and http in f for f in engines.values()):
            continue
        cells = []
        for figures in engines.values():
            limit = figures["baselines"][base]["per_second"]
            cells.append(f"{figures[http]['rps'] / limit:.2f} ({figures[http]['rps']:,.0f} / {limit:,.0f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if all(BESIDE in f and "get_by_id" in f for f in engines.values()):
        cells = []
        for figures in engines.values():
            alone, beside = figures["get_by_id"]["rps"], figures[BESIDE]["rps"]
            cells.append(f"{(1 - beside / alone) * 100:.0f} % ({beside:,.0f} vs {alone:,.0f} req/s)")
        lines.append("| reads slowed by concurrent logins | " + " | ".join(cells) + " |")
    for key, label in [("seed_seconds", "seeding (s)"), ("peak_rss_mb", "server peak RSS (MB)")]:
        lines.append(f"| {label} | " + " | ".join(str(f[key]) for f in engines.values()) + " |")
    if "sqlite" in engines and "postgres" in engines:
        lines += ["", "| SQLite ÷ PostgreSQL (req/s) | ratio |", "|---|---|"]
        for name in names:
            pg = engines["postgres"][name]["rps"]
            lines.append(f"| {name} | {engines['sqlite'][name]['rps'] / pg:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
