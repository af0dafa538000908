#!/usr/bin/env python3
"""API fuzzing: schemathesis against the served OpenAPI document, once per role and once
without a token, on a fresh server with demo data (see demo_server.py).

Checks: no 5xx, every status, content type, header and body as documented, no 2xx for a role
the operation's documented roles leave out (`documented_roles` in fuzz_hooks.py), no 2xx to the
representative for another cadre's record (`own_records_only`), and without a
token no 2xx except the public routes (schemathesis' `ignored_auth`). The Rust test
`access::every_route_and_role_follows_the_table` holds the documented roles to the role table
and proves each refusal route by route.

    python3 .ci/fuzz.py --schemathesis /path/to/venv/bin/schemathesis [--database-url ...]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

from demo_server import ROLES, DemoServer

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "documented_roles",
    "own_records_only",
])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemathesis", default="schemathesis")
    parser.add_argument("--binary", default="target/debug/tongxin")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: fresh SQLite)")
    parser.add_argument("--max-examples", type=int, default=5)
    args = parser.parse_args()

    # Absolute, because schemathesis runs in the server's temporary directory.
    schemathesis = shutil.which(args.schemathesis)
    if not schemathesis:
        sys.exit(f"fuzz: {args.schemathesis} is not an executable")
    schemathesis = os.path.abspath(schemathesis)

    failed = []
    with DemoServer(args.binary, args.database_url, cadres=200) as demo:
        schema = demo.base + "/api-docs/openapi.json"
        for role in [None, *ROLES]:
            started = time.monotonic()
            command = [
                schemathesis, "--config-file", CONFIG, "--no-color", "run", schema,
                "--url", demo.base,
                "--checks", CHECKS + (",ignored_auth" if role is None else ""),
                "--max-examples", str(args.max_examples),
                "--phases", "examples,coverage,fuzzing",
                "--seed", "2026",
                # An XLSX upload schemathesis cannot serialise; the import has its own tests.
                "--exclude-path", "/api/v1/cadres/import",
            ]
            if role:
                command += ["--header", f"Authorization: Bearer {demo.tokens[role]}"]
            hooks_env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_hooks",
                             TONGXIN_FUZZ_ROLE=role or "",
                             TONGXIN_FUZZ_OWN_CADRE=str(demo.representative_cadre),
                             PYTHONPATH=os.path.dirname(CONFIG))
            # schemathesis keeps a cache in its working directory: keep it out of the repo.
            result = subprocess.run(command, capture_output=True, text=True, env=hooks_env,
                                    cwd=demo.env["TONGXIN_DATA_DIR"])
            name = role or "no token"
            seconds = time.monotonic() - started
            summary = [line.strip() for line in result.stdout.splitlines() if "generated" in line]
            print(f"fuzz: {name:<15} exit {result.returncode} in {seconds:.0f} s: "
                  + (summary[-1] if summary else "no test cases ran"))
            if not summary:
                failed.append(name)
            if result.returncode != 0:
                failed.append(name)
                print(result.stdout[-6000:])
    if failed:
        print("fuzz: FAIL for " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
