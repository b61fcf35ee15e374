#!/usr/bin/env python3
"""Soak: a mixed load for a while, watching the server's memory and file descriptors, every
request's status and latency, and every webhook.

Operator script, run by hand (not in CI). Python 3.11 + requests (python3 -m pip install requests).

    bench/soak.py                                     # SQLite in a temp dir, 600 s, target/release/socialgate
    bench/soak.py --bin /tmp/sg-bin/socialgate --duration 90 --warmup 30
    bench/soak.py --database-url postgres://socialgate:socialgate@127.0.0.1:5432/sg_soak
          # the named database is created and dropped (or, if it exists and is empty, used and left)

Setup: `socialgate admin` creates the user, an API key and an OAuth app; the script signs in
through /signin, connects the sandbox and a sandbox-pages channel, starts a local HTTP
receiver and registers it as a webhook (POST /user/webhooks with the session's X-CSRF-Token;
the server runs with SOCIALGATE_FETCH_TRUSTED_HOSTS=127.0.0.1:<receiver port>, which is what
lets a webhook use plain http on loopback). Rate limits are off (SOCIALGATE_API_RATE=0,
SOCIALGATE_API_LIMIT=0).

Load: --concurrency clients, each in a closed loop, choosing by weight:
  create a post scheduled in the future (1-2 channel groups, 1-3 rows, some with an uploaded
  PNG, some with an Idempotency-Key)  20 | create a post due now (the in-process worker
  publishes it on the sandbox and a post.published webhook follows)  10 | list posts of a
  day  15 | read a post  10 | delete one of its future posts  8 | upload a PNG  8 | the OAuth
  flow (consent GET + POST /oauth/authorize, POST /oauth/token, GET /public/v1/is-connected,
  and for a third of the tokens POST /oauth/revoke then is-connected again: 401)  6 |
  integrations, notifications, sandbox posts, is-connected  8 (weights: --mix). A client that
  holds --max-live future groups deletes instead of creating, so the data stays bounded and a
  growing RSS means a leak rather than a bigger working set.
Every 5 s (--sample-interval): VmRSS from /proc/<pid>/status, the count of /proc/<pid>/fd and
the thread count.

At the end the clients stop, the script waits (--drain seconds at most) until every due post
left QUEUE and its webhook arrived, then reports requests per route, 5xx, unexpected answers,
p50/p99 latency per route, RSS and fds after the warm-up (--warmup, default 60 s) and at the
end, and webhooks received vs posts published. Exit 1 on any 5xx, connection error, unexpected
status, lost webhook, bad webhook signature, failed or unpublished due post, or a server that
died; 2 when the harness failed. The server's output is in <tmp>/server.log (tail shown on
failure; temp dir and PostgreSQL database then kept).
"""

from __future__ import annotations

import argparse
import collections
import hmac
import hashlib
import http.server
import json
import os
import random
import secrets
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402
from _harness import log, requests  # noqa: E402

DAY = 86400
DEFAULT_MIX = "future=20,due=10,list=15,get=10,delete=8,upload=8,oauth=6,read=8"


# --------------------------------------------------------------------------------------------
# Webhook receiver
# --------------------------------------------------------------------------------------------


class Receiver:
    def __init__(self):
        self.secret: str | None = None
        self.lock = threading.Lock()
        self.events = collections.Counter()           # event -> count
        self.published = collections.Counter()       # root post id -> post.published deliveries
        self.failed = collections.Counter()
        self.deliveries = collections.Counter()       # X-Socialgate-Delivery -> count
        self.bad_signatures = 0
        self.bad_bodies = 0
        self.times: dict[str, float] = {}             # root id -> first arrival
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                receiver.take(self.headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def verify(self, header: str, body: bytes) -> bool:
        if not self.secret:
            return False
        try:
            parts = dict(p.split("=", 1) for p in header.split(","))
            t, v1 = int(parts["t"]), parts["v1"]
        except (ValueError, KeyError):
            return False
        if abs(time.time() - t) > 300:
            return False
        expected = hmac.new(self.secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, v1)

    def take(self, headers, body: bytes) -> None:
        ok = self.verify(headers.get("X-Socialgate-Signature", ""), body)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        with self.lock:
            if not ok:
                self.bad_signatures += 1
            if not isinstance(data, dict):
                self.bad_bodies += 1
                return
            event = data.get("event", "?")
            self.events[event] += 1
            self.deliveries[headers.get("X-Socialgate-Delivery", "")] += 1
            pid = (data.get("post") or {}).get("id")
            if event == "post.published" and pid:
                self.published[pid] += 1
                self.times.setdefault(pid, time.time())
            elif event == "post.failed" and pid:
                self.failed[pid] += 1

    def close(self):
        self.httpd.shutdown()


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------

EXPECTED = {
    "POST /public/v1/posts": {201},
    "GET /public/v1/posts": {200},
    "GET /public/v1/posts/{id}": {200},
    "DELETE /public/v1/posts/{id}": {200},
    "POST /public/v1/upload": {201},
    "GET /oauth/authorize": {200},
    "POST /oauth/authorize": {303},
    "POST /oauth/token": {200},
    "GET /public/v1/is-connected": {200},
    "GET /public/v1/is-connected (revoked)": {401},
    "POST /oauth/revoke": {200},
    "GET /public/v1/integrations": {200},
    "GET /public/v1/notifications": {200},
    "GET /sandbox/posts": {200},
}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.lat: dict[str, list[float]] = collections.defaultdict(list)
        self.status: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        self.script_errors: list[str] = []

    def record(self, route: str, status: int | None, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.lat[route].append(seconds)
            self.status[route][status if status is not None else "error"] += 1
            if status is None:
                self.errors.append(f"{route}: {detail}")
            elif status not in EXPECTED.get(route, {status}):
                self.unexpected.append(f"{route} answered {status}: {detail[:200]}")


class Load:
    def __init__(self, args, server: H.Server, tenant: H.Tenant, stats: Stats, rng_seed: int):
        self.args, self.server, self.tenant, self.stats = args, server, tenant, stats
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.due_roots: dict[str, float] = {}  # root id of posts due now -> created at
        self.future_created = 0
        self.seed = rng_seed
        mix = [kv.split("=") for kv in args.mix.split(",")]
        self.ops = [k for k, _ in mix]
        self.weights = [float(w) for _, w in mix]

    def call(self, s: requests.Session, route: str, method: str, url: str, **kw):
        H.fresh_if_idle(s)
        t0 = time.perf_counter()
        try:
            r = s.request(method, url, timeout=60, **kw)
        except requests.RequestException as e:
            self.stats.record(route, None, time.perf_counter() - t0, repr(e))
            return None
        self.stats.record(route, r.status_code, time.perf_counter() - t0, r.text[:200] if r.status_code >= 300 and r.status_code != 303 else "")
        return r

    def client(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        base = self.server.base
        api = requests.Session()
        api.headers["Authorization"] = self.tenant.api_key
        browser = None
        mine: list[str] = []        # future roots this client created (and may delete)
        media: list[dict] = []      # uploads this client made
        seq = 0
        while not self.stop.is_set():
            op = rng.choices(self.ops, self.weights)[0]
            if op == "future" and len(mine) >= self.args.max_live:
                op = "delete"  # keep the live data bounded: a steady state, so growth means a leak
            seq += 1
            try:
                if op in ("future", "due"):
                    groups = 2 if rng.random() < 0.3 else 1
                    chans = rng.sample(self.tenant.channels, groups)
                    when = time.time() - 1 if op == "due" else time.time() + 10 * DAY + rng.uniform(0, 10 * DAY)
                    posts = []
                    for g, chan in enumerate(chans):
                        values = []
                        for v in range(rng.choice([1, 1, 2, 3])):
                            m = rng.choice(media) if media and rng.random() < 0.4 else None
                            img = [{"id": m["id"], "path": m["path"]}] if m else []
                            values.append({"content": f"<p>soak c{n} s{seq} g{g} v{v} {secrets.token_hex(4)}</p>", "image": img})
                        posts.append({"integration": {"id": chan}, "settings": {}, "value": values})
                    body = {"type": "schedule", "shortLink": False, "date": H.iso(when), "tags": [], "posts": posts}
                    h = {"Idempotency-Key": f"soak-{n}-{seq}-{secrets.token_hex(4)}"} if rng.random() < 0.3 else {}
                    r = self.call(api, "POST /public/v1/posts", "POST", base + "/public/v1/posts", json=body, headers=h)
                    if r is not None and r.status_code == 201:
                        roots = [x["postId"] for x in r.json()]
                        if op == "due":
                            with self.lock:
                                for root in roots:
                                    self.due_roots[root] = time.time()
                        else:
                            mine.extend(roots)
                            with self.lock:
                                self.future_created += len(roots)
                elif op == "list":
                    start = time.time() + 10 * DAY + rng.uniform(0, 10 * DAY)
                    self.call(api, "GET /public/v1/posts", "GET", base + "/public/v1/posts",
                              params={"startDate": H.iso(start), "endDate": H.iso(start + DAY)})
                elif op == "get":
                    if mine:
                        self.call(api, "GET /public/v1/posts/{id}", "GET", base + "/public/v1/posts/" + rng.choice(mine))
                elif op == "delete":
                    if len(mine) > 5:
                        pid = mine.pop(rng.randrange(len(mine)))
                        self.call(api, "DELETE /public/v1/posts/{id}", "DELETE", base + "/public/v1/posts/" + pid)
                elif op == "upload":
                    side = rng.choice([4, 16, 64, 256])
                    png = H.png_bytes(side, side, seed=rng.randrange(1 << 24))
                    h = {"Idempotency-Key": f"soak-up-{n}-{seq}-{secrets.token_hex(4)}"} if rng.random() < 0.2 else {}
                    r = self.call(api, "POST /public/v1/upload", "POST", base + "/public/v1/upload",
                                  files={"file": (f"soak-{seq}.png", png, "image/png")}, headers=h)
                    if r is not None and r.status_code == 201:
                        media.append(r.json())
                        del media[:-20]
                elif op == "oauth":
                    if browser is None:
                        browser = H.sign_in(base, self.tenant)
                    timings: list = []
                    browser.close()  # used now and then: a new connection rather than one the server may be closing
                    try:
                        code, verifier = H.authorize_code(base, self.tenant, browser, timings)
                    except H.FlowError as e:
                        for route, status, sec in timings:
                            self.stats.record(route, status, sec, str(e))
                        if e.status in (302, 303):
                            browser = None
                        continue
                    except requests.RequestException as e:
                        self.stats.record("GET /oauth/authorize", None, 0.0, repr(e))
                        continue
                    for route, status, sec in timings:
                        self.stats.record(route, status, sec)
                    r = self.call(requests.Session(), "POST /oauth/token", "POST", base + "/oauth/token",
                                  data=H.token_form(self.tenant, code, verifier))
                    if r is None or r.status_code != 200:
                        continue
                    token = r.json()["access_token"]
                    tok = requests.Session()
                    tok.headers["Authorization"] = "Bearer " + token
                    self.call(tok, "GET /public/v1/is-connected", "GET", base + "/public/v1/is-connected")
                    if rng.random() < 0.33:
                        r = self.call(tok, "POST /oauth/revoke", "POST", base + "/oauth/revoke",
                                      data={"token": token, "client_id": self.tenant.client_id,
                                            "client_secret": self.tenant.client_secret},
                                      headers={"Authorization": None})
                        self.call(tok, "GET /public/v1/is-connected (revoked)", "GET", base + "/public/v1/is-connected")
                elif op == "read":
                    route, path = rng.choice([
                        ("GET /public/v1/integrations", "/public/v1/integrations"),
                        ("GET /public/v1/notifications", "/public/v1/notifications"),
                        ("GET /sandbox/posts", "/sandbox/posts"),
                        ("GET /public/v1/is-connected", "/public/v1/is-connected"),
                    ])
                    self.call(api, route, "GET", base + path)
            except Exception as e:  # a bug of this script, or an answer that is not what the API says
                with self.stats.lock:
                    self.stats.script_errors.append(f"{op}: {type(e).__name__}: {e}")
            if self.args.think > 0:
                time.sleep(self.args.think / 1000.0)


class Sampler:
    def __init__(self, server: H.Server, interval: float):
        self.server, self.interval = server, interval
        self.samples: list[tuple[float, int | None, int | None, int | None]] = []
        self.stop = threading.Event()
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self):
        self.samples.append((time.monotonic() - self.t0, self.server.rss_kb(), self.server.fd_count(), self.server.threads()))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def at_or_after(self, t: float):
        for s in self.samples:
            if s[0] >= t:
                return s
        return self.samples[-1] if self.samples else (0, None, None, None)


# --------------------------------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=H.DEFAULT_BIN, help="server binary (default target/release/socialgate)")
    p.add_argument("--database-url", default=None,
                   help="postgres://user:pass@host:port/<scratch db> (created and dropped); default SQLite in the temp dir")
    p.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    p.add_argument("--warmup", type=float, default=60, help="seconds after which RSS/fds are taken as the start figures (default 60)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--think", type=float, default=0, help="milliseconds each client waits between requests (default 0)")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"operation weights (default {DEFAULT_MIX})")
    p.add_argument("--max-live", type=int, default=250,
                   help="future post groups each client keeps at most; beyond, it deletes instead of creating (default 250)")
    p.add_argument("--sample-interval", type=float, default=5)
    p.add_argument("--drain", type=float, default=150, help="seconds to wait at the end for due posts and their webhooks")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--rust-log", default="warn,tracing_actix_web=error", help="RUST_LOG of the server")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (and PostgreSQL database) even on success")
    a = p.parse_args()
    if a.warmup >= a.duration:
        a.warmup = a.duration / 3
    return a


def mb(kb) -> str:
    return "?" if kb is None else f"{kb / 1024:.1f} MiB"


def main() -> int:
    args = parse_args()
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    log(f"soak: {args.duration:.0f} s, warm-up {args.warmup:.0f} s, {args.concurrency} clients, seed {seed}, binary {args.bin}")
    scratch = H.Scratch(H.normalize_database_url(args.database_url, "soak"), "sg-soak-", keep=args.keep)
    log(f"temp dir {scratch.tmp}, database {scratch.backend}")
    receiver = Receiver()
    server = H.Server(args.bin, scratch, {"SOCIALGATE_FETCH_TRUSTED_HOSTS": f"127.0.0.1:{receiver.port}"},
                      rust_log=args.rust_log)
    ok = False
    violations: list[str] = []
    try:
        tenant = H.provision(server)
        took = server.start()
        log(f"server up in {took:.2f} s (pid {server.pid}), receiver on 127.0.0.1:{receiver.port}")
        session = H.sign_in(server.base, tenant)
        H.connect_sandbox(server.base, tenant, session)
        csrf = H.csrf_of(server.base, session)
        r = session.post(server.base + "/user/webhooks", headers={"X-CSRF-Token": csrf},
                         json={"name": "soak receiver", "url": f"http://127.0.0.1:{receiver.port}/hook", "channels": []}, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"POST /user/webhooks answered {r.status_code} {r.text[:200]}")
        webhook = r.json()
        receiver.secret = webhook["secret"]
        r = session.post(server.base + f"/user/webhooks/{webhook['id']}/test", headers={"X-CSRF-Token": csrf}, timeout=30)
        t0 = time.time()
        while receiver.events["webhook.test"] == 0 and time.time() - t0 < 30:
            time.sleep(0.2)
        if receiver.events["webhook.test"] == 0:
            raise RuntimeError("the webhook.test event did not arrive within 30 s")
        log("webhook registered; test event received and its signature " + ("verified" if receiver.bad_signatures == 0 else "NOT verified"))

        stats = Stats()
        load = Load(args, server, tenant, stats, seed)
        sampler = Sampler(server, args.sample_interval)
        sampler.thread.start()
        threads = [threading.Thread(target=load.client, args=(i,), daemon=True) for i in range(args.concurrency)]
        load_t0 = time.monotonic()
        for t in threads:
            t.start()
        next_report = 30.0
        while time.monotonic() - load_t0 < args.duration:
            time.sleep(1)
            el = time.monotonic() - load_t0
            if not server.alive():
                violations.append(f"the server died during the load (exit {server.proc.returncode})")
                break
            if el >= next_report:
                next_report += 30
                total = sum(len(v) for v in stats.lat.values())
                s = sampler.samples[-1] if sampler.samples else (0, None, None, None)
                log(f"{el:4.0f} s: {total} requests ({total / el:.0f}/s), RSS {mb(s[1])}, fds {s[2]}, threads {s[3]}, "
                    f"due posts {len(load.due_roots)}, webhooks post.published {sum(receiver.published.values())}")
        load.stop.set()
        for t in threads:
            t.join(timeout=120)
        load_seconds = time.monotonic() - load_t0
        sampler.sample()
        end_sample = sampler.samples[-1]
        start_sample = sampler.at_or_after(sampler.samples[0][0] + args.warmup) if sampler.samples else end_sample
        first_sample = sampler.samples[0]

        # Drain: every due post leaves QUEUE and its post.published webhook arrives.
        due = dict(load.due_roots)
        t0 = time.monotonic()
        states: dict[str, str] = {}
        while server.alive():
            states = {pid: st for pid, st in scratch.query(
                "SELECT id, state FROM posts WHERE parent_post_id IS NULL AND deleted_at IS NULL "
                f"AND organization_id = '{tenant.org_id}' AND state <> 'DRAFT'") if pid in due}
            queued = sum(1 for pid in due if states.get(pid) == "QUEUE")
            published = [pid for pid in due if states.get(pid) == "PUBLISHED"]
            with receiver.lock:
                waiting = sum(1 for pid in published if receiver.published[pid] == 0)
            if (queued == 0 and waiting == 0) or time.monotonic() - t0 > args.drain:
                break
            time.sleep(1)
        drain_seconds = time.monotonic() - t0
        sampler.stop.set()
        sampler.sample()
        after_drain = sampler.samples[-1]
        deliveries = collections.Counter(st for (st,) in scratch.query("SELECT status FROM webhook_deliveries"))
        alive = server.alive()
        if not alive:
            violations.append(f"the server is not running at the end (exit {server.proc.returncode})")
        stop_code = server.stop()
        errors = server.errors_in_log()

        # Figures.
        published = {pid for pid in due if states.get(pid) == "PUBLISHED"}
        failed = {pid for pid in due if states.get(pid) == "ERROR"}
        queued = {pid for pid in due if states.get(pid) == "QUEUE"}
        gone = {pid for pid in due if pid not in states}
        received = {pid for pid, k in receiver.published.items() if k > 0}
        lost = published - received
        extra = received - set(due)
        dup_webhooks = sum(k - 1 for k in receiver.published.values() if k > 1)
        dup_deliveries = sum(k - 1 for k in receiver.deliveries.values() if k > 1)
        total = sum(len(v) for v in stats.lat.values())
        fivexx = sum(k for st in stats.status.values() for code, k in st.items() if isinstance(code, int) and code >= 500)

        print()
        print(f"=== soak summary: {scratch.backend}, {load_seconds:.0f} s of load, {args.concurrency} clients, seed {seed} ===")
        print(f"{'route':40} {'requests':>9} {'5xx':>5} {'unexp.':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
        for route in sorted(stats.lat):
            lat = sorted(stats.lat[route])
            st = stats.status[route]
            r5 = sum(k for c, k in st.items() if isinstance(c, int) and c >= 500)
            unexp = sum(k for c, k in st.items() if c == "error" or (isinstance(c, int) and c not in EXPECTED.get(route, {c})))
            print(f"{route:40} {len(lat):9d} {r5:5d} {unexp:6d} {H.percentile(lat, 50) * 1000:8.1f} "
                  f"{H.percentile(lat, 99) * 1000:8.1f} {lat[-1] * 1000 if lat else 0:8.1f}  {dict(st)}")
        print(f"{'total':40} {total:9d} {fivexx:5d}    ({total / load_seconds:.0f} requests/s)")
        print()
        print(f"RSS:        first sample {mb(first_sample[1])}; after the {args.warmup:.0f} s warm-up {mb(start_sample[1])}; "
              f"end of load {mb(end_sample[1])}; after the drain {mb(after_drain[1])}; max {mb(max((s[1] or 0) for s in sampler.samples))}")
        print(f"fds:        first {first_sample[2]}; after warm-up {start_sample[2]}; end of load {end_sample[2]}; "
              f"after the drain {after_drain[2]}; max {max((s[2] or 0) for s in sampler.samples)}")
        print(f"threads:    after warm-up {start_sample[3]}; end of load {end_sample[3]}; max {max((s[3] or 0) for s in sampler.samples)}")
        if start_sample[1] and end_sample[1] and end_sample[0] > start_sample[0]:
            per_min = (end_sample[1] - start_sample[1]) / 1024 / ((end_sample[0] - start_sample[0]) / 60)
            print(f"RSS trend after warm-up: {per_min:+.2f} MiB/min over {(end_sample[0] - start_sample[0]):.0f} s "
                  f"({len(sampler.samples)} samples every {args.sample_interval:.0f} s)")
        print(f"posts:      future groups created {load.future_created}; due-now groups {len(due)}: published {len(published)}, "
              f"failed {len(failed)}, still QUEUE {len(queued)}, deleted/missing {len(gone)} (drain {drain_seconds:.0f} s)")
        print(f"webhooks:   post.published received {len(received)} (for posts published: {len(published & received)}) "
              f"vs posts published {len(published)}; lost {len(lost)}; duplicate deliveries {dup_webhooks}; "
              f"bad signatures {receiver.bad_signatures}; events {dict(receiver.events)}; deliveries in the DB {dict(deliveries)}")
        print(f"server:     exit {stop_code} on SIGTERM; log ERROR/panic lines {len(errors)}"
              + (f" (first: {errors[0][:200]})" if errors else ""))

        if fivexx:
            violations.append(f"{fivexx} answers were 5xx")
        if stats.errors:
            violations.append(f"{len(stats.errors)} requests got no answer (first: {stats.errors[0][:200]})")
        if stats.script_errors:
            violations.append(f"{len(stats.script_errors)} client exceptions (first: {stats.script_errors[0][:200]})")
        if stats.unexpected:
            violations.append(f"{len(stats.unexpected)} unexpected answers (first: {stats.unexpected[0]})")
        if lost:
            violations.append(f"{len(lost)} published posts never got their post.published webhook (e.g. {sorted(lost)[:3]})")
        if receiver.bad_signatures:
            violations.append(f"{receiver.bad_signatures} webhooks with a bad signature")
        if extra:
            violations.append(f"{len(extra)} post.published webhooks for posts that are not due posts of this run")
        if failed:
            violations.append(f"{len(failed)} due posts failed on the sandbox")
        if queued:
            violations.append(f"{len(queued)} due posts still QUEUE after {drain_seconds:.0f} s of drain")
        if gone:
            violations.append(f"{len(gone)} due posts acknowledged with 201 are not in the database")
        if dup_webhooks or dup_deliveries:
            print(f"note:       {dup_webhooks} repeated post.published for the same post, {dup_deliveries} repeated delivery ids")
        print(f"violations: {len(violations)}")
        for v in violations:
            print(f"  - {v}")
        for line in stats.unexpected[:10]:
            print(f"    unexpected: {line}")
        for line in stats.errors[:10]:
            print(f"    no answer: {line}")
        ok = not violations
        if not ok:
            print("\n--- server log tail ---")
            print(server.log_tail(40))
        return 0 if ok else 1
    except Exception:
        traceback.print_exc()
        print("\n--- server log tail ---")
        print(server.log_tail(40))
        return 2
    finally:
        if server.alive():
            server.stop()
        receiver.close()
        scratch.cleanup(ok)


if __name__ == "__main__":
    sys.exit(main())
