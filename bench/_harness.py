"""Shared plumbing of bench/crash.py and bench/soak.py (operator scripts, run by hand).

Python 3.11 standard library plus `requests` (python3 -m pip install requests).

What it provides: a scratch installation (a temporary data directory with an SQLite database,
or a scratch PostgreSQL database that it creates and drops), the server process (started with
its output in <tmp>/server.log, killed with SIGKILL or stopped with SIGTERM), the admin
provisioning commands, and the browser-side flows a script needs: signing in through the
HTML form with its csrf_token, connecting the sandbox channels, the OAuth consent flow with
PKCE, uploading a PNG.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field

try:
    import requests
except ImportError:  # pragma: no cover
    sys.exit("this script needs requests: python3 -m pip install requests")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(REPO, "target", "release", "socialgate")
REDIRECT_URI = "http://127.0.0.1:9/cb"  # never contacted: the code is read from the Location header
PASSWORD = "bench-password-0123456789"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 when empty)."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def png_bytes(width: int = 8, height: int = 8, seed: int | None = None) -> bytes:
    """A valid RGB PNG of the given size, colours from `seed` (so files differ)."""
    rnd = secrets.token_bytes(3) if seed is None else struct.pack(">I", seed & 0xFFFFFF)[1:]
    row = b"\x00" + rnd * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------------------------
# The scratch database
# --------------------------------------------------------------------------------------------


class Scratch:
    """A temporary data directory and database. SQLite by default; with a postgres:// URL the
    named database is created (it must not exist) and dropped at the end, or, if it exists
    and holds no tables, used as it is and left in place."""

    def __init__(self, database_url: str | None, prefix: str, keep: bool = False):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep
        self.created_pg = False
        if not database_url:
            self.backend = "sqlite"
            self.db_path = os.path.join(self.tmp, "socialgate.db")
            self.url = f"sqlite://{self.db_path}"
        else:
            parsed = urllib.parse.urlsplit(database_url)
            if parsed.scheme not in ("postgres", "postgresql"):
                if parsed.scheme == "sqlite":
                    raise SystemExit("--database-url takes a postgres:// URL; SQLite is the default (a file in the temp dir)")
                raise SystemExit(f"unsupported --database-url scheme {parsed.scheme!r}")
            if not shutil.which("psql"):
                raise SystemExit("psql is needed for PostgreSQL runs (apt-get install postgresql-client)")
            self.backend = "postgres"
            self.url = database_url
            self.db_name = parsed.path.lstrip("/")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.db_name or ""):
                raise SystemExit(f"database name {self.db_name!r}: use letters, digits and _")
            self.admin_url = urllib.parse.urlunsplit(parsed._replace(path="/postgres"))
            self._prepare_pg()

    # PostgreSQL ---------------------------------------------------------------------------

    def _psql(self, url: str, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\x1f", "-R", "\x1e",
             "-P", "null=\x15", "-d", url, "-c", sql],
            capture_output=True, text=True, timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def _prepare_pg(self) -> None:
        try:
            exists = self._psql(self.admin_url, f"SELECT 1 FROM pg_database WHERE datname = '{self.db_name}'").strip()
        except RuntimeError as e:
            raise SystemExit(
                f"cannot reach PostgreSQL at {self.admin_url} ({e}).\n"
                "Start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start"
            )
        if exists:
            tables = self._psql(self.url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").strip()
            if tables.strip("\x1e\n") != "0":
                raise SystemExit(
                    f"database {self.db_name} exists and is not empty: name a database that does not exist "
                    "(the script creates and drops it) or an empty one"
                )
            log(f"using the existing empty database {self.db_name} (left in place afterwards)")
        else:
            self._psql(self.admin_url, f'CREATE DATABASE "{self.db_name}"')
            self.created_pg = True
            log(f"created scratch database {self.db_name}")

    # Both -------------------------------------------------------------------------------------

    def query(self, sql: str) -> list[tuple]:
        """Rows of a read-only query; values are strings (PostgreSQL) or Python values (SQLite),
        NULL is None. Write queries so that both read the same (cast what you compare)."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.db_path, timeout=30)
            try:
                conn.execute("PRAGMA query_only = 1")
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        text = self._psql(self.url, sql)
        rows = []
        for rec in text.split("\x1e"):
            rec = rec.strip("\n")
            if rec == "":
                continue
            rows.append(tuple(None if v == "\x15" else v for v in rec.split("\x1f")))
        return rows

    def cleanup(self, ok: bool) -> None:
        if self.keep or not ok:
            log(f"kept the temp dir {self.tmp}" + (f" and database {self.db_name}" if self.backend == "postgres" else ""))
            return
        if self.backend == "postgres" and self.created_pg:
            try:
                self._psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                log(f"dropped scratch database {self.db_name}")
            except RuntimeError as e:
                log(f"could not drop {self.db_name}: {e}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def default_pg_name(kind: str) -> str:
    return f"sgbench_{kind}_{os.getpid()}_{secrets.token_hex(3)}"


def normalize_database_url(url: str | None, kind: str) -> str | None:
    """A postgres:// URL without a database name gets a fresh scratch name."""
    if not url:
        return None
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("postgres", "postgresql") and parsed.path in ("", "/"):
        return urllib.parse.urlunsplit(parsed._replace(path="/" + default_pg_name(kind)))
    return url


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, binary: str, scratch: Scratch, extra_env: dict[str, str] | None = None,
                 rust_log: str = "warn"):
        self.binary = os.path.abspath(binary)
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"no executable server binary at {self.binary} (build it: cargo build --release)")
        self.scratch = scratch
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(scratch.tmp, "server.log")
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("SOCIALGATE_") and k not in ("DATABASE_URL", "RUST_LOG")
        }
        self.env.update({
            "DATABASE_URL": scratch.url,
            "SOCIALGATE_DATA_DIR": scratch.tmp,
            "SOCIALGATE_LISTEN": f"127.0.0.1:{self.port}",
            "SOCIALGATE_PUBLIC_URL": self.base,
            "SOCIALGATE_API_RATE": "0",   # no per-credential request limit
            "SOCIALGATE_API_LIMIT": "0",  # no per-organization POST /posts limit
            "SOCIALGATE_SIGNUPS": "closed",
            "SOCIALGATE_LOG_FORMAT": "pretty",
            "RUST_LOG": rust_log,
            "NO_COLOR": "1",
        })
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def run_cli(self, *args: str) -> dict:
        """`socialgate <args>`: one JSON object on stdout."""
        out = subprocess.run([self.binary, *args], env=self.env, cwd=self.scratch.tmp,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"socialgate {' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}")
        lines = [l for l in out.stdout.splitlines() if l.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def start(self, timeout: float = 90) -> float:
        """Starts `socialgate serve` and waits for /ready; returns the seconds it took."""
        assert self.proc is None or self.proc.poll() is not None
        self.starts += 1
        with open(self.log_path, "ab") as f:
            f.write(f"\n===== bench: start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode())
        logf = open(self.log_path, "ab")
        t0 = time.monotonic()
        # Its own session, in the temp dir (so no .env of the checkout is read).
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=self.scratch.tmp,
                                     stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} while starting")
            try:
                if requests.get(self.base + "/ready", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except requests.RequestException:
                pass
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"/ready did not answer 200 within {timeout} s")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the process this harness started (by its pid), then reap it."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 45) -> int | None:
        """SIGTERM and wait (the worker drains for up to 30 s); SIGKILL after `timeout`."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log("the server did not stop on SIGTERM; killing it")
            self.kill9()
            return None

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-200_000:]
        except OSError:
            return "(no server log)"
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])

    def errors_in_log(self) -> list[str]:
        """Lines of the server log at ERROR level or with a panic."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [l for l in text.splitlines() if " ERROR " in l or "panicked" in l]

    # /proc --------------------------------------------------------------------------------

    def rss_kb(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def threads(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def fd_count(self) -> int | None:
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return None


# --------------------------------------------------------------------------------------------
# Provisioning and browser flows
# --------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    email: str
    password: str
    org_id: str
    user_id: str
    api_key: str
    client_id: str
    client_secret: str
    channels: list[str] = field(default_factory=list)  # [sandbox, sandbox-pages]


def provision(server: Server, org: str = "Bench") -> Tenant:
    """User (admin of `org`), API key and a confidential OAuth app, through `socialgate admin`."""
    server.run_cli("migrate")
    email = f"ops-{secrets.token_hex(4)}@example.com"
    user = server.run_cli("admin", "create-user", "--email", email, "--password", PASSWORD,
                          "--name", "Bench", "--org", org)
    key = server.run_cli("admin", "create-api-key", "--org", org, "--name", "bench")
    app = server.run_cli("admin", "create-oauth-app", "--org", org, "--name", "Bench app",
                         "--redirect-uri", REDIRECT_URI)
    return Tenant(email=email, password=PASSWORD, org_id=user["organization_id"], user_id=user["user_id"],
                  api_key=key["key"], client_id=app["client_id"], client_secret=app["client_secret"])


def hidden_inputs(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def sign_in(base: str, tenant: Tenant) -> requests.Session:
    """A browser-like session signed in through the HTML form /signin (with its csrf_token)."""
    s = requests.Session()
    page = s.get(base + "/signin", timeout=30)
    page.raise_for_status()
    form = hidden_inputs(page.text)
    if "csrf_token" not in form:
        raise RuntimeError("no csrf_token on /signin")
    r = s.post(base + "/signin", data={"csrf_token": form["csrf_token"], "next": "/settings",
                                       "email": tenant.email, "password": tenant.password},
               allow_redirects=False, timeout=60)
    if r.status_code != 303 or "sg_session" not in s.cookies:
        raise RuntimeError(f"sign-in failed: {r.status_code} {r.text[:200]}")
    return s


def connect_sandbox(base: str, tenant: Tenant, session: requests.Session) -> list[str]:
    """Connects the sandbox and a sandbox-pages channel (page "news"); returns their ids."""
    h = {"Authorization": tenant.api_key}
    url = requests.get(base + "/public/v1/social/sandbox", headers=h, timeout=30).json()["url"]
    r = requests.get(url, timeout=30)  # the sandbox approves at once
    r.raise_for_status()
    url = requests.get(base + "/public/v1/social/sandbox-pages", headers=h, timeout=30).json()["url"]
    page = session.get(url, timeout=30)
    page.raise_for_status()
    form = hidden_inputs(page.text)
    form["page"] = "news"
    m = re.search(r'<form method="post" action="([^"]+)"', page.text)
    r = session.post(base + (m.group(1) if m else "/integrations/social/sandbox-pages/pick"), data=form, timeout=30)
    r.raise_for_status()
    chans = requests.get(base + "/public/v1/integrations", headers=h, timeout=30).json()
    by = {c["identifier"]: c["id"] for c in chans}
    if "sandbox" not in by or "sandbox-pages" not in by:
        raise RuntimeError(f"sandbox channels not connected: {chans}")
    tenant.channels = [by["sandbox"], by["sandbox-pages"]]
    return tenant.channels


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class FlowError(RuntimeError):
    def __init__(self, step: str, status: int, body: str):
        super().__init__(f"{step}: {status} {body[:200]}")
        self.step, self.status = step, status


def authorize_code(base: str, tenant: Tenant, session: requests.Session,
                   timings: list | None = None) -> tuple[str, str]:
    """The real consent flow: GET /oauth/authorize with PKCE, POST the consent form, read the
    code from the redirect. Returns (code, verifier). `timings` collects
    (route, status, seconds) of the two requests."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    t0 = time.perf_counter()
    r = session.get(base + "/oauth/authorize", params={
        "client_id": tenant.client_id, "response_type": "code", "state": state,
        "redirect_uri": REDIRECT_URI, "code_challenge": challenge, "code_challenge_method": "S256",
    }, allow_redirects=False, timeout=60)
    if timings is not None:
        timings.append(("GET /oauth/authorize", r.status_code, time.perf_counter() - t0))
    if r.status_code != 200:
        raise FlowError("GET /oauth/authorize", r.status_code, r.text)
    form = hidden_inputs(r.text)
    form["action"] = "approve"
    t0 = time.perf_counter()
    r = session.post(base + "/oauth/authorize", data=form, allow_redirects=False, timeout=60)
    if timings is not None:
        timings.append(("POST /oauth/authorize", r.status_code, time.perf_counter() - t0))
    if r.status_code != 303:
        raise FlowError("POST /oauth/authorize", r.status_code, r.text)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
    if q.get("state", [None])[0] != state or "code" not in q:
        raise FlowError("consent redirect", r.status_code, r.headers["Location"])
    return q["code"][0], verifier


def token_form(tenant: Tenant, code: str, verifier: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier, "client_id": tenant.client_id, "client_secret": tenant.client_secret}


def fresh_if_idle(session: requests.Session, max_idle: float = 2.0) -> requests.Session:
    """Drops the session's pooled connections when it was idle for `max_idle` seconds.

    The server closes idle keep-alive connections after 5 s (actix-web's default); a request
    written on such a connection at the moment it is closed fails with RemoteDisconnected
    without the server having seen it, a race of HTTP/1.1 itself that clients answer by
    retrying. Not reusing old connections avoids it without retrying anything."""
    now = time.monotonic()
    if now - getattr(session, "_bench_last_use", now) > max_idle:
        session.close()
    session._bench_last_use = now  # type: ignore[attr-defined]
    return session


def csrf_of(base: str, session: requests.Session) -> str:
    r = session.get(base + "/user/self", timeout=30)
    r.raise_for_status()
    return r.json()["csrf_token"]


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
