#!/usr/bin/env python3
"""HTTP throughput of the real server next to a bare actix-web handler, measured from outside
with wrk, alternating in the same run, and printed as ratios.

Operator script, run by hand (not in CI). Python 3.11 + requests; wrk (installed with apt-get
when missing and running as root).

    bench/throughput.py                                   # SQLite in a temp dir, release builds
    bench/throughput.py --database-url postgres://socialgate:socialgate@127.0.0.1:5432/sg_http
    bench/throughput.py --duration 10 --rounds 3 --connections 64 --threads 2

Builds `target/release/socialgate` and `target/release/examples/bare_server` unless
--no-build. Starts socialgate with its default logging (`info`, one line per request, to a
file as a service manager would collect it) and request limits raised out of the way (the
limiter still runs), provisions an organization with an API key and two sandbox channels, and
starts the bare server answering the same `/public/v1/integrations` JSON and the same
`/health` body from memory. Then, --rounds times, each of these for --duration seconds with
`wrk -t<threads> -c<connections>`:

    bare /health | socialgate /health | bare JSON | socialgate GET /public/v1/integrations (API key)
    | socialgate POST /public/v1/posts (a post and one comment on one channel, each request with
      an Idempotency-Key of its own)

and prints per target the median requests/s and p99 over the rounds, and socialgate's ratio to
the bare handler. wrk, both servers and this script share the machine, as in production on a
small host; the ratio is what compares across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402
from _harness import log, requests  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk with apt-get")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk (or brew install wrk)")
    return found


def unit_ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)$", value.strip())
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


# POST /public/v1/posts with a body read from the file named in the script's first argument and
# an Idempotency-Key of its own on every request (thread number, start time, counter).
POST_SCRIPT = """
local threads = 0
function setup(thread)
  thread:set("number", threads)
  threads = threads + 1
end
function init(args)
  local f = assert(io.open(args[1], "r"))
  body = f:read("*a")
  f:close()
  prefix = tostring(number) .. "-" .. tostring(os.time()) .. "-"
  counter = 0
end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. counter
  wrk.headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk(binary: str, url: str, args, headers: dict[str, str], script: tuple[str, str] | None = None) -> tuple[float, float, int]:
    """Runs wrk once; returns requests/s, p99 in ms, and the count of non-2xx answers. `script` is
    (Lua file, its argument)."""
    cmd = [binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", script[0], url, "--", script[1]]
        url = None
    out = subprocess.run(cmd + ([url] if url else []), capture_output=True, text=True,
                         timeout=args.duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        log(f"  wrk: {errors.group(0)}")
    return rps, unit_ms(p99.group(1)) if p99 else float("nan"), int(bad.group(1)) if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, "target/release/socialgate"))
    p.add_argument("--bare", default=os.path.join(ROOT, "target/release/examples/bare_server"))
    p.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    p.add_argument("--database-url", help="PostgreSQL URL (the database is created and dropped); default SQLite")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="alternations of the five targets (default 3)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an extra server setting, e.g. RUST_LOG=warn to compare")
    args = p.parse_args()

    wrk_bin = ensure_wrk()
    if not args.no_build:
        log("building the release binaries")
        subprocess.run(["cargo", "build", "--release", "--bin", "socialgate", "--example", "bare_server"],
                       cwd=ROOT, check=True)
    url = H.normalize_database_url(args.database_url, "http")
    scratch = H.Scratch(url, "sg-http-")
    extra = {"SOCIALGATE_API_RATE": "1000000000", "SOCIALGATE_API_LIMIT": "1000000000"}
    extra.update(dict(e.split("=", 1) for e in args.env))
    server = H.Server(args.bin, scratch, extra, rust_log=extra.pop("RUST_LOG", "info"))
    server.env.pop("SOCIALGATE_LOG_FORMAT", None)  # the default format
    bare = None
    ok = False
    try:
        tenant = H.provision(server)
        server.start()
        session = H.sign_in(server.base, tenant)
        H.connect_sandbox(server.base, tenant, session)
        auth = {"Authorization": tenant.api_key}
        body = requests.get(server.base + "/public/v1/integrations", headers=auth, timeout=30).text
        json_file = os.path.join(scratch.tmp, "integrations.json")
        with open(json_file, "w") as f:
            f.write(body)
        bare_port = H.free_port()
        bare = subprocess.Popen([args.bare, f"127.0.0.1:{bare_port}", json_file],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare_base = f"http://127.0.0.1:{bare_port}"
        for _ in range(100):
            try:
                if requests.get(bare_base + "/json", timeout=1).text == body:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        # A post with one comment on one channel, scheduled a year ahead (the worker leaves it).
        post = {"type": "schedule", "shortLink": False, "tags": [],
                "date": time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(time.time() + 365 * 86400)),
                "posts": [{"integration": {"id": tenant.channels[0]}, "settings": {},
                           "value": [{"content": "<p>Benchmark post</p>", "image": []},
                                     {"content": "<p>Its comment</p>", "image": []}]}]}
        post_file = os.path.join(scratch.tmp, "post.json")
        lua_file = os.path.join(scratch.tmp, "post.lua")
        with open(post_file, "w") as f:
            json.dump(post, f)
        with open(lua_file, "w") as f:
            f.write(POST_SCRIPT)
        r = requests.post(server.base + "/public/v1/posts", headers={**auth, "Idempotency-Key": "check"},
                          json=post, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"POST /public/v1/posts answered {r.status_code}: {r.text}")
        targets = [
            ("bare /health", bare_base + "/health", {}, None),
            ("socialgate /health", server.base + "/health", {}, None),
            ("bare integrations JSON", bare_base + "/json", {}, None),
            ("socialgate GET /public/v1/integrations", server.base + "/public/v1/integrations", auth, None),
            ("socialgate POST /public/v1/posts", server.base + "/public/v1/posts", auth, (lua_file, post_file)),
        ]
        db = "PostgreSQL" if url else "SQLite"
        log(f"{db}; {args.rounds} rounds of {args.duration} s per target; wrk -t{args.threads} -c{args.connections}; "
            f"{os.cpu_count()} CPUs")
        results: dict[str, list[tuple[float, float]]] = {t[0]: [] for t in targets}
        for r in range(args.rounds):
            for name, target, headers, script in targets:
                rps, p99, bad = wrk(wrk_bin, target, args, headers, script)
                if bad:
                    raise RuntimeError(f"{name}: {bad} answers were not 2xx")
                results[name].append((rps, p99))
                log(f"round {r + 1}: {name:<40} {rps:>9.0f} req/s   p99 {p99:6.2} ms")
        med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for n, v in results.items()}
        print(f"\n=== {db}, median of {args.rounds} rounds, {args.duration} s each, wrk -t{args.threads} -c{args.connections}, "
              f"{os.cpu_count()} CPUs ===")
        for name, (rps, p99) in med.items():
            print(f"{name:<42} {rps:>9.0f} req/s   p99 {p99:6.2} ms")
        print(f"ratio /health:                  {med['socialgate /health'][0] / med['bare /health'][0]:.2f}x the bare handler")
        ratio = med["socialgate GET /public/v1/integrations"][0] / med["bare integrations JSON"][0]
        print(f"ratio GET /public/v1/integrations: {ratio:.2f}x the bare handler")
        print(f"POST /public/v1/posts (one channel, one comment, Idempotency-Key): "
              f"{med['socialgate POST /public/v1/posts'][0]:.0f} posts/s")
        print(f"server RSS at the end: {(server.rss_kb() or 0) / 1024:.1f} MiB")
        ok = True
        return 0
    finally:
        if bare is not None:
            bare.terminate()
            bare.wait(timeout=10)
        server.stop()
        scratch.cleanup(ok)


if __name__ == "__main__":
    sys.exit(main())
