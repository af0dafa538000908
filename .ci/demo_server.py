"""A real tongxin process on 127.0.0.1 with demo data and one logged-in user per role.

Used by the CI soak (`soak.py`) and API fuzzing (`fuzz.py`). Starts the given binary on a fresh
database (a temporary SQLite file, or the PostgreSQL database named by `database_url`, which
must be empty) with the per-address rate limits switched off: these runs are one address
sending far more than a person would, and the limits have their own tests.

Only the Python standard library is used; all traffic goes to 127.0.0.1.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROLES = ["admin", "ufwd_staff", "org_staff", "leader", "auditor", "department", "representative"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None):
        """Returns (status, parsed body or None); status 0 means the connection failed."""
        status, _, parsed = self.exchange(method, "/api/v1" + path, token, body)
        return status, parsed

    def exchange(self, method, path, token=None, body=None, timeout=30):
        """Returns (status, headers, parsed body or None) for a path from the server's root (for
        an error, its problem body); status 0 means the connection failed or timed out."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                return response.status, response.headers, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw) if raw else None
            except ValueError:
                problem = None
            return error.code, error.headers, problem
        except (urllib.error.URLError, OSError):
            return 0, {}, None


class DemoServer:
    """`with DemoServer(...) as demo:` gives `demo.base`, `demo.client`, `demo.process`,
    `demo.passwords` and `demo.tokens` (role -> access token)."""

    def __init__(self, binary, database_url=None, cadres=2000):
        self.binary = binary
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(
            os.environ,
            TONGXIN_DATA_DIR=tempfile.mkdtemp(prefix="tongxin-ci-"),
            TONGXIN_BIND=f"127.0.0.1:{port}",
            TONGXIN_LOG="warn",
            TONGXIN_RATE_LIMIT_PER_MINUTE="0",
            TONGXIN_LOGIN_RATE_LIMIT_PER_MINUTE="0",
        )
        if database_url:
            self.env["TONGXIN_DATABASE_URL"] = database_url
        else:
            self.env.pop("TONGXIN_DATABASE_URL", None)
        self.cadres = cadres
        self.client = Client(self.base)
        self.passwords = {role: "Ci-" + secrets.token_hex(12) for role in ROLES}
        self.process = None
        self.tokens = {}
        self.representative_cadre = 1

    def tool(self, *command, stdin=None):
        subprocess.run([self.binary, *command], env=self.env, input=stdin, check=True,
                       stdout=subprocess.DEVNULL, text=True)

    def __enter__(self):
        self.tool("migrate")
        self.tool("seed-demo", "--cadres", str(self.cadres))
        self.tool("create-user", "--username", "ci.admin", "--role", "admin",
                  "--password-stdin", stdin=self.passwords["admin"] + "\n")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env,
                                        stdout=subprocess.DEVNULL)
        for _ in range(200):
            if status_of(self.base + "/health/ready") == 200:
                break
            time.sleep(0.1)
        else:
            self.__exit__()
            sys.exit("the server did not become ready")
        self.make_users()
        return self

    def __exit__(self, *_):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.env["TONGXIN_DATA_DIR"], ignore_errors=True)

    def login(self, role):
        status, body = self.client.call("POST", "/auth/login", body={
            "username": f"ci.{role}", "password": self.passwords[role]})
        if status != 200:
            sys.exit(f"login as {role} answered {status}")
        return body["access_token"]

    def make_users(self):
        admin = self.login("admin")
        status, units = self.client.call("GET", "/units?kind=department&limit=1", admin)
        if status != 200 or not units["items"]:
            sys.exit(f"no department unit to attach the department user to ({status})")
        scope = {"department": {"unit_id": units["items"][0]["id"]},
                 "representative": {"cadre_id": self.representative_cadre}}
        for role in ROLES[1:]:
            status, _ = self.client.call("POST", "/users", admin, {
                "username": f"ci.{role}", "display_name": f"ci {role}",
                "password": self.passwords[role], "roles": [role], **scope.get(role, {})})
            if status != 201:
                sys.exit(f"creating the {role} user answered {status}")
        self.tokens = {role: self.login(role) for role in ROLES}


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except (urllib.error.URLError, OSError):
        return 0
