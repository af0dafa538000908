#!/usr/bin/env python3
"""Fault tests against a real tongxin process on 127.0.0.1: the database goes away under load.

`postgres`: a private PostgreSQL cluster (initdb into a temporary directory on its own port; as
the `postgres` user when run as root, since PostgreSQL refuses root) serves the API while
threads read and write. The cluster is then crashed (`pg_ctl stop -m immediate`) and, after
longer than the checkout timeout, started again. Fails unless every answer during the outage is
503 with Retry-After, no answer is another 5xx or a transport error, no request takes longer
than the checkout timeout plus a margin, `/health/ready` answers 503 during the outage and 200
after it, the same process serves reads and writes again, every acknowledged write is there
and `tongxin audit verify` passes.

`sqlite-full`: runs itself again in a private mount namespace (`unshare -m`) with the data
directory on a small tmpfs, fills that disk and fails unless writes answer 503 with Retry-After
(not 500) while reads still answer 200, writes succeed again once space is freed, every
acknowledged write is there and `tongxin audit verify` passes.

    python3 .ci/outage.py postgres|sqlite-full [--binary target/debug/tongxin]
"""

import argparse
import errno
import glob
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from demo_server import DemoServer, free_port

CHECKOUT_TIMEOUT = 3
# Scheduling slack on a shared 2-core machine; a hanging request would take far longer.
MARGIN = 4


class PrivateCluster:
    """A throwaway PostgreSQL cluster that this script starts and stops itself."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            sys.exit("outage: no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = os.path.dirname(found[-1])
        self.root = tempfile.mkdtemp(prefix="tongxin-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = free_port()
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool, *args):
        subprocess.run([*self.as_owner, os.path.join(self.bin, tool), *args], check=True,
                       stdout=subprocess.DEVNULL)

    def init(self):
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")
        return self

    def start(self):
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-o", options,
                 "-w", "start")

    def crash(self):
        self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class Load:
    """Reader and writer threads that record every answer with its time and duration."""

    def __init__(self, demo, threads=4):
        self.demo = demo
        self.answers = []  # (started, seconds, kind, status, retry_after, problem code)
        self.written = []  # ids of acknowledged units
        # Numbered, not random: a name repeated by chance would be a 409 that is no fault.
        self.unit_numbers = itertools.count(1)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(n,)) for n in range(threads)]

    def work(self, n):
        client, tokens = self.demo.client, self.demo.tokens
        while not self.stopping.is_set():
            started = time.monotonic()
            if n % 2:
                kind = "write"
                status, headers, body = client.exchange("POST", "/api/v1/units", tokens["admin"], {
                    "name": f"故障单位{next(self.unit_numbers)}", "kind": "department",
                    "parent_id": 1})
            else:
                kind = "read"
                status, headers, body = client.exchange("GET", "/api/v1/cadres?limit=20",
                                                        tokens["ufwd_staff"])
            seconds = time.monotonic() - started
            with self.lock:
                code = body.get("code") if isinstance(body, dict) else None
                self.answers.append((started, seconds, kind, status, headers.get("Retry-After"),
                                     code))
                if kind == "write" and status == 201:
                    self.written.append(body["id"])
            if status == 503:
                time.sleep(0.1)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def between(self, start, end):
        return [a for a in self.answers if start <= a[0] and a[0] + a[1] <= end]


def ready_status(demo):
    return demo.client.exchange("GET", "/health/ready", timeout=CHECKOUT_TIMEOUT + MARGIN)[0]


def common_problems(demo, load):
    """Checks every outage run shares: answers, durations, acknowledged writes, the audit chain."""
    problems = []
    statuses = {}
    for _, seconds, kind, status, retry_after, code in load.answers:
        statuses[(kind, status)] = statuses.get((kind, status), 0) + 1
        if status not in (200, 201, 503):
            problems.append(f"a {kind} answered {status or 'no response'} ({code})")
        if status == 503 and not retry_after:
            problems.append(f"a {kind} answered 503 without Retry-After")
        if seconds > CHECKOUT_TIMEOUT + MARGIN:
            problems.append(f"a {kind} took {seconds:.1f} s")
    print("  answers: " + ", ".join(f"{k} {s}×{n}" for (k, s), n in sorted(statuses.items())))
    longest = max((a[1] for a in load.answers), default=0)
    print(f"  longest answer {longest:.2f} s (limit {CHECKOUT_TIMEOUT + MARGIN} s)")
    missing = [i for i in load.written
               if demo.client.call("GET", f"/units/{i}", demo.tokens["admin"])[0] != 200]
    print(f"  {len(load.written)} acknowledged writes, {len(missing)} missing")
    if missing:
        problems.append(f"acknowledged writes are missing: {missing[:5]}")
    verify = subprocess.run([demo.binary, "audit", "verify"], env=demo.env, capture_output=True,
                            text=True)
    print(f"  audit verify: exit {verify.returncode} {verify.stdout.strip()}")
    if verify.returncode != 0:
        problems.append("tongxin audit verify failed")
    return sorted(set(problems))


def postgres(binary):
    cluster = PrivateCluster().init()
    try:
        cluster.start()
        demo = DemoServer(binary, cluster.url, cadres=200)
        demo.env["TONGXIN_DB_TIMEOUT_SECS"] = str(CHECKOUT_TIMEOUT)
        with demo:
            with Load(demo) as load:
                time.sleep(3)
                crashed = time.monotonic()
                cluster.crash()
                time.sleep(1)
                ready_during = ready_status(demo)
                time.sleep(CHECKOUT_TIMEOUT + 3)
                restarting = time.monotonic()
                cluster.start()
                recovered = None
                while recovered is None and time.monotonic() < restarting + 30:
                    time.sleep(0.2)
                    done = load.between(restarting, time.monotonic())
                    if any(a[2] == "write" and a[3] == 201 for a in done) and \
                            any(a[2] == "read" and a[3] == 200 for a in done):
                        recovered = time.monotonic()
                time.sleep(3)
                ready_after = ready_status(demo)
            print(f"outage (postgres): crashed the cluster for {restarting - crashed:.1f} s; "
                  + (f"serving again {recovered - restarting:.1f} s after the restart"
                     if recovered else "not serving 30 s after the restart"))
            problems = common_problems(demo, load)
            during = load.between(crashed + 0.5, restarting)
            if not during:
                problems.append("no request was answered during the outage")
            if any(a[3] != 503 for a in during):
                problems.append("an answer during the outage was not 503")
            if ready_during != 503:
                problems.append(f"/health/ready answered {ready_during} during the outage")
            if ready_after != 200:
                problems.append(f"/health/ready answered {ready_after} after the restart")
            if recovered is None:
                problems.append("the process did not serve reads and writes again")
            elif any(a[3] != 200 and a[3] != 201 for a in load.between(recovered + 1, 1e12)):
                problems.append("503s went on after the service had recovered")
            return report("postgres", problems)
    finally:
        cluster.remove()


def sqlite_full(binary):
    """Runs inside a private mount namespace (see `main`)."""
    demo = DemoServer(binary, None, cadres=20)
    data_dir = demo.env["TONGXIN_DATA_DIR"]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", data_dir], check=True)
    try:
        with demo:
            client, tokens = demo.client, demo.tokens
            filler = os.path.join(data_dir, "filler")
            # Unbuffered, so that closing the file has nothing left to write to the full disk.
            with open(filler, "wb", buffering=0) as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
            with Load(demo, threads=2) as load:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not any(
                        a[2] == "write" and a[3] == 503 for a in load.answers):
                    time.sleep(0.2)
                full_until = time.monotonic() + 2
                while time.monotonic() < full_until:
                    time.sleep(0.2)
                freed = time.monotonic()
                os.remove(filler)
                time.sleep(3)
            full = load.between(0, freed)
            after = load.between(freed + 1, 1e12)
            print(f"outage (sqlite-full): {sum(a[3] == 503 for a in full)} writes refused "
                  f"while the disk was full")
            problems = common_problems(demo, load)
            if not any(a[2] == "write" and a[3] == 503 for a in full):
                problems.append("no write was refused while the disk was full")
            if any(a[2] == "read" and a[3] != 200 for a in full):
                problems.append("a read failed while the disk was full")
            if not any(a[2] == "write" and a[3] == 201 for a in after):
                problems.append("writes did not succeed again after space was freed")
            return report("sqlite-full", problems)
    finally:
        subprocess.run(["umount", data_dir], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)


def report(name, problems):
    for problem in problems:
        print(f"outage ({name}): FAIL: {problem}")
    if not problems:
        print(f"outage ({name}): ok")
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fault", choices=["postgres", "sqlite-full"])
    parser.add_argument("--binary", default="target/debug/tongxin")
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if args.fault == "postgres":
        return postgres(binary)
    if args.in_namespace:
        return sqlite_full(binary)
    # A tmpfs mounted in a private mount namespace vanishes with it, whatever happens here.
    return subprocess.run(["unshare", "-m", sys.executable, os.path.abspath(__file__),
                           "sqlite-full", "--binary", binary, "--in-namespace"]).returncode


if __name__ == "__main__":
    sys.exit(main())
