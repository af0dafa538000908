#!/usr/bin/env python3
"""Bounded mixed-load soak against a real tongxin process on 127.0.0.1.

Runs reads, searches, statistics, writes and logins of every role from several threads for
--seconds against a fresh server with demo data (see demo_server.py). It fails when any answer
is a 5xx, a transport error or another unexpected status, when an acknowledged write cannot be
read back afterwards, or when the server's resident memory at the end is more than 20 % above
its value after the warm-up.
"""

import argparse
import itertools
import random
import secrets
import sys
import threading
import time
import urllib.parse

from demo_server import ROLES, DemoServer

MEMORY_GROWTH_LIMIT = 1.20


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/debug/tongxin")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="seconds before the memory baseline")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--cadres", type=int, default=2000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: fresh SQLite)")
    args = parser.parse_args()
    with DemoServer(args.binary, args.database_url, args.cadres) as demo:
        return run_load(args, demo)


def run_load(args, demo):
    client, tokens, server = demo.client, demo.tokens, demo.process
    passwords = demo.passwords
    lock = threading.Lock()
    statuses = {}
    unexpected_answers = []  # (kind, status, problem code, body sent)
    created_units, created_suggestions = [], []
    # Numbered, not random: a name repeated by chance would be a 409 that is no fault.
    unit_numbers = itertools.count(1)
    deadline = time.monotonic() + args.seconds
    searches = ["王", "李", "wang", "zh", "区", "教师"]

    def record(name, status, body=None, sent=None):
        with lock:
            statuses.setdefault(name, {}).setdefault(status, 0)
            statuses[name][status] += 1
            if status not in (200, 201):
                code = body.get("code") if isinstance(body, dict) else None
                unexpected_answers.append((name, status, code, sent))

    def one_step(rng):
        body = sent = None
        kind = rng.choices(
            ["list", "search", "get", "stats", "me", "audit", "unit", "suggestion", "login"],
            weights=[20, 15, 20, 5, 10, 5, 8, 8, 2])[0]
        if kind == "list":
            status, body = client.call("GET", "/cadres?limit=20", tokens["ufwd_staff"])
        elif kind == "search":
            q = urllib.parse.quote(rng.choice(searches))
            status, body = client.call("GET", f"/cadres?q={q}&limit=20", tokens["org_staff"])
        elif kind == "get":
            status, body = client.call("GET", f"/cadres/{rng.randint(1, args.cadres)}",
                                    tokens["ufwd_staff"])
        elif kind == "stats":
            status, body = client.call("GET", "/stats/cadres", tokens["leader"])
        elif kind == "me":
            status, body = client.call("GET", "/me", tokens[rng.choice(ROLES)])
        elif kind == "audit":
            status, body = client.call("GET", "/audit/events?limit=20", tokens["auditor"])
        elif kind == "unit":
            sent = {"name": f"压测单位{next(unit_numbers)}", "kind": "department", "parent_id": 1}
            status, body = client.call("POST", "/units", tokens["admin"], sent)
            if status == 201:
                with lock:
                    created_units.append(body["id"])
        elif kind == "suggestion":
            status, body = client.call("POST", "/suggestions", tokens["representative"], {
                "title": "关于改善社区公共服务的建议" + secrets.token_hex(3),
                "body": "建议在社区增设便民服务点，方便老年居民办理日常事务。",
                "category": "social_services"})
            if status == 201:
                with lock:
                    created_suggestions.append(body["id"])
        else:
            role = rng.choice(ROLES)
            status, body = client.call("POST", "/auth/login", body={
                "username": f"ci.{role}", "password": passwords[role]})
        record(kind, status, body, sent)

    def worker(seed):
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            one_step(rng)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    time.sleep(min(args.warmup, args.seconds))
    baseline = rss_kib(server.pid)
    for thread in threads:
        thread.join()
    final = rss_kib(server.pid)

    lost = []
    for unit_id in created_units:
        if client.call("GET", f"/units/{unit_id}", tokens["admin"])[0] != 200:
            lost.append(("unit", unit_id))
    for suggestion_id in created_suggestions:
        if client.call("GET", f"/suggestions/{suggestion_id}", tokens["ufwd_staff"])[0] != 200:
            lost.append(("suggestion", suggestion_id))

    total = sum(sum(by_status.values()) for by_status in statuses.values())
    print(f"soak: {total} requests in {args.seconds} s ({total / args.seconds:.0f}/s), "
          f"{len(created_units)} units and {len(created_suggestions)} suggestions written")
    for name in sorted(statuses):
        print(f"  {name:<11} " + ", ".join(f"{s}×{n}" for s, n in sorted(statuses[name].items())))
    print(f"  memory after warm-up {baseline} KiB, at the end {final} KiB "
          f"(ratio {final / baseline:.2f}, limit {MEMORY_GROWTH_LIMIT:.2f})")

    problems = []
    failures = [a for a in unexpected_answers if a[1] == 0 or a[1] >= 500]
    if failures:
        problems.append(f"{len(failures)} answers were 5xx or failed to connect")
    if lost:
        problems.append(f"{len(lost)} acknowledged writes are missing: {lost[:5]}")
    if not created_units or not created_suggestions:
        problems.append("no writes were acknowledged")
    unexpected = {name: s for name, by in statuses.items() for s in by if s not in (200, 201)}
    if unexpected:
        problems.append(f"unexpected statuses: {unexpected}")
    if final > baseline * MEMORY_GROWTH_LIMIT:
        problems.append("memory grew by more than 20 % after the warm-up")
    for problem in problems:
        print("soak: FAIL: " + problem)
    for name, status, code, sent in unexpected_answers[:10]:
        print(f"  unexpected: {name} {status} {code or ''} sent {sent}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
