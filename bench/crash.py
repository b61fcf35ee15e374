#!/usr/bin/env python3
"""Crash test: kill -9 the server in the middle of a burst of writes, restart it, and check that
every acknowledged write is there exactly once and nothing is half-written.

Operator script, run by hand (not in CI). Python 3.11 + requests (python3 -m pip install requests).

    bench/crash.py                                   # SQLite in a temp dir, 5 rounds, target/release/socialgate
    bench/crash.py --bin /tmp/sg-bin/socialgate --rounds 3
    bench/crash.py --database-url postgres://socialgate:socialgate@127.0.0.1:5432/sg_crash
          # the named database is created and dropped (or, if it exists and is empty, used and left)

One scratch installation for the whole run; each round:
  1. start `socialgate serve` (SOCIALGATE_API_RATE=0, SOCIALGATE_API_LIMIT=0) and wait for /ready;
  2. get --codes authorization codes through the real consent flow (signed in through /signin
     with its csrf_token, GET /oauth/authorize with PKCE S256, POST the consent form, code read
     from the redirect);
  3. burst: --concurrency clients send POST /public/v1/posts (one or two channel groups, each
     1-4 rows: a post and its comment chain; some due now so the worker publishes during the
     burst; half with an Idempotency-Key; API key or OAuth token) and POST /oauth/token
     exchanges of those codes, until the server is killed with SIGKILL at a random moment
     (--kill-after MIN:MAX seconds into the burst);
  4. restart, then check (against the database directly and through the API):
     - every POST /posts that got a 2xx has all its rows, exactly once, with the post ids it
       answered, and its roots are listed once by GET /public/v1/posts?startDate&endDate;
     - requests that got no answer are all-or-nothing; refused requests wrote nothing;
     - every group is whole: positions 0..n-1, one root without parent, each comment's parent
       the previous row, one channel; a queued root has its publish job;
     - every token that was issued is stored once, from a consumed code, and works on
       GET /public/v1/is-connected; every consumed code has exactly one token and every code
       with a token is consumed; exchanging an acknowledged code again is refused (400) and
       revokes its token; a code whose exchange got no answer is exchanged now if it was not
       consumed, refused if it was;
     - Idempotency-Key: an acknowledged request sent again is replayed (same answer, no new
       rows); a request that got no answer, sent again with its key, is created or replayed
       (201) exactly once once its key is freed (90 s after the crash; one that was saved is
       found by listing, as the README tells clients, and not sent again) - a 409 "still in
       progress" then is counted as a stuck key;
     - nothing was published twice on the sandbox.
After the last round it waits (--settle seconds) for every due post to leave QUEUE (a publish cut
short by a crash must end as ERROR "could not confirm", never be sent twice).

Prints per-round and total figures; exits 1 on any violation (missing, duplicate, half-written,
5xx, a code exchanged twice, a lost idempotent answer, a stuck key, a double publication), 2 when
the harness itself failed. --tolerate-stuck-keys reports stuck keys without failing (they are a
known server bug at the time of writing: the key's row stays "in progress" for 24 hours when the
process dies before the answer). A postgres:// URL without a database name gets a scratch name. The server's output is in <tmp>/server.log; its tail is shown on
failure and the temp dir (and PostgreSQL database) are kept.
"""

from __future__ import annotations

import argparse
import calendar
import collections
import os
import random
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402
from _harness import log, requests  # noqa: E402

MARK = re.compile(r"cr-([a-z0-9]+)-r(\d+)-q(\d+)-g(\d+)-v(\d+)")
DAY = 86400


@dataclass
class PostReq:
    round: int
    idx: int
    channels: list[str]        # one group per channel, in this order
    sizes: list[int]           # rows per group
    date: str
    due: bool
    idem: str | None
    cred: str                  # "key" or "token"
    body: dict = field(default_factory=dict)
    status: int | None = None  # None: no answer
    answer: object = None
    error: str | None = None
    retry_status: int | None = None  # the answer to sending it again with its key after the restart
    retry_answer: object = None

    @property
    def burst_acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retry_acked(self) -> bool:
        return self.status is None and self.retry_status is not None and 200 <= self.retry_status < 300

    def markers(self) -> set[tuple[int, int]]:
        return {(g, v) for g, n in enumerate(self.sizes) for v in range(n)}


@dataclass
class CodeReq:
    round: int
    code: str
    verifier: str
    sent: bool = False
    status: int | None = None
    token: str | None = None
    error: str | None = None


class Violations:
    def __init__(self):
        self.items: list[str] = []

    def add(self, kind: str, detail: str) -> None:
        if kind == "note":  # reported, not a violation (--tolerate-stuck-keys)
            log(f"note: {detail}")
            return
        self.items.append(f"{kind}: {detail}")
        if len(self.items) <= 60:
            log(f"VIOLATION {kind}: {detail}")


def post_body(run: str, r: PostReq) -> dict:
    posts = []
    for g, (chan, n) in enumerate(zip(r.channels, r.sizes)):
        values = []
        for v in range(n):
            val = {"content": f"<p>cr-{run}-r{r.round}-q{r.idx}-g{g}-v{v}</p>", "image": []}
            if v > 0:
                val["delay"] = 0
            values.append(val)
        posts.append({"integration": {"id": chan}, "settings": {}, "value": values})
    return {"type": "schedule", "shortLink": False, "date": r.date, "tags": [], "posts": posts}


# --------------------------------------------------------------------------------------------


class Round:
    def __init__(self, args, run: str, n: int, server: H.Server, tenant: H.Tenant, setup_token: str,
                 codes: list[CodeReq], rng: random.Random, window_start: float):
        self.args, self.run, self.n, self.server, self.tenant = args, run, n, server, tenant
        self.setup_token, self.rng = setup_token, rng
        self.codes = codes
        self.code_queue = list(codes)
        self.posts: list[PostReq] = []
        self.lock = threading.Lock()
        self.killed = threading.Event()  # set just before the SIGKILL
        self.window_start = window_start  # this round's future posts are due in [start, start + 1 day)
        self.kill_at: float | None = None
        self.burst_seconds = 0.0

    def next_task(self):
        with self.lock:
            if self.killed.is_set():
                return None
            if self.code_queue and self.rng.random() < self.args.code_share:
                c = self.code_queue.pop()
                c.sent = True
                return c
            idx = len(self.posts)
            groups = 2 if self.rng.random() < 0.35 else 1
            chans = self.tenant.channels[:groups] if self.rng.random() < 0.5 else list(reversed(self.tenant.channels))[:groups]
            sizes = [self.rng.choice([1, 1, 2, 3, 4]) for _ in range(groups)]
            due = self.rng.random() < self.args.due_share
            if due:
                date = H.iso(time.time() - 1)
            else:
                date = H.iso(self.window_start + 60 + (idx % 80000))
            r = PostReq(round=self.n, idx=idx, channels=chans, sizes=sizes, date=date, due=due,
                        idem=(f"crash-{self.run}-{self.n}-{idx}" if self.rng.random() < self.args.idem_share else None),
                        cred=("token" if self.rng.random() < 0.3 else "key"))
            r.body = post_body(self.run, r)
            self.posts.append(r)
            return r

    def client(self) -> None:
        s = requests.Session()
        base = self.server.base
        while True:
            task = self.next_task()
            if task is None:
                return
            try:
                if isinstance(task, PostReq):
                    h = {"Authorization": self.tenant.api_key if task.cred == "key" else "Bearer " + self.setup_token}
                    if task.idem:
                        h["Idempotency-Key"] = task.idem
                    resp = s.post(base + "/public/v1/posts", json=task.body, headers=h, timeout=60)
                    task.status = resp.status_code
                    try:
                        task.answer = resp.json()
                    except ValueError:
                        task.answer = resp.text[:300]
                else:
                    resp = s.post(base + "/oauth/token", data=H.token_form(self.tenant, task.code, task.verifier), timeout=60)
                    task.status = resp.status_code
                    if resp.status_code == 200:
                        task.token = resp.json().get("access_token")
                    else:
                        task.error = resp.text[:300]
            except requests.RequestException as e:
                task.status = None
                task.error = type(e).__name__
                if not self.killed.is_set() and self.server.alive():
                    # An error while the server is up is not the crash: note it and go on.
                    log(f"request error while the server was up: {e!r}")

    def burst(self) -> None:
        lo, hi = self.args.kill_after
        delay = self.rng.uniform(lo, hi)
        threads = [threading.Thread(target=self.client, daemon=True) for _ in range(self.args.concurrency)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(delay)
        self.killed.set()
        self.server.kill9()
        self.killed_mono = time.monotonic()
        self.burst_seconds = time.monotonic() - t0
        self.kill_at = delay
        for t in threads:
            t.join(timeout=90)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def load_posts(scratch: H.Scratch, org: str) -> list[dict]:
    """Every post row of the organization, with whether its publish job exists (one statement,
    so one snapshot: the worker may be publishing meanwhile)."""
    rows = scratch.query(
        "SELECT p.id, p.group_id, COALESCE(p.parent_post_id, ''), CAST(p.position AS TEXT), p.content, p.integration_id, "
        "p.state, CASE WHEN p.deleted_at IS NULL THEN 1 ELSE 0 END, CASE WHEN j.id IS NULL THEN 0 ELSE 1 END "
        "FROM posts p LEFT JOIN jobs j ON j.kind = 'publish' AND j.subject_id = p.id "
        f"WHERE p.organization_id = '{org}'"
    )
    out = []
    for (pid, gid, parent, pos, content, chan, state, live, job) in rows:
        out.append({"id": pid, "group": gid, "parent": parent or None, "pos": int(pos), "content": content,
                    "chan": chan, "state": state, "live": int(live) == 1, "job": int(job) == 1})
    return out


def utc_seconds(db_time: str) -> float:
    """A timestamp column read as text ('2026-11-30 16:11:25[.123]' on both backends)."""
    return calendar.timegm(time.strptime(db_time[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S"))


class Checker:
    def __init__(self, args, run: str, scratch: H.Scratch, server: H.Server, tenant: H.Tenant, v: Violations):
        self.args, self.run, self.scratch, self.server, self.tenant, self.v = args, run, scratch, server, tenant, v

    # ---- posts ---------------------------------------------------------------------------

    def analyze_posts(self, all_posts: list[PostReq], phase: str) -> dict:
        """Database state of every request so far. Returns figures; records violations."""
        rows = [r for r in load_posts(self.scratch, self.tenant.org_id) if r["live"]]
        figures = collections.Counter()
        by_marker: dict[tuple, list[dict]] = collections.defaultdict(list)
        foreign = 0
        for row in rows:
            m = MARK.search(row["content"])
            if not m or m.group(1) != self.run:
                foreign += 1
                continue
            key = tuple(int(x) for x in m.groups()[1:])  # (round, q, g, v)
            by_marker[key].append(row)
        # Duplicates: a marker stored more than once.
        for key, rs in by_marker.items():
            if len(rs) > 1:
                figures["duplicate_rows"] += len(rs) - 1
                self.v.add("duplicate", f"[{phase}] row r{key[0]} q{key[1]} g{key[2]} v{key[3]} stored {len(rs)} times: {[x['id'] for x in rs]}")
        # Structure of every group.
        groups: dict[str, list[dict]] = collections.defaultdict(list)
        for row in rows:
            groups[row["group"]].append(row)
        bad_groups = 0
        for gid, rs in groups.items():
            rs.sort(key=lambda x: x["pos"])
            problems = []
            if [x["pos"] for x in rs] != list(range(len(rs))):
                problems.append(f"positions {[x['pos'] for x in rs]}")
            if rs and rs[0]["parent"] is not None:
                problems.append("root has a parent")
            for a, b in zip(rs, rs[1:]):
                if b["parent"] != a["id"]:
                    problems.append(f"row {b['pos']} parent is not row {a['pos']}")
            if len({x["chan"] for x in rs}) > 1:
                problems.append("several channels")
            marks = [MARK.search(x["content"]) for x in rs]
            if all(marks):
                reqs = {(m.group(2), m.group(3), m.group(4)) for m in marks}
                if len(reqs) > 1:
                    problems.append(f"rows of several requests {sorted(reqs)}")
                if any(int(m.group(5)) != x["pos"] for m, x in zip(marks, rs)):
                    problems.append("content out of order")
            if problems:
                bad_groups += 1
                self.v.add("half-written", f"[{phase}] group {gid}: " + "; ".join(problems))
        figures["bad_groups"] = bad_groups
        # Queued roots need their publish job.
        for gid, rs in groups.items():
            root = rs[0]
            if root["pos"] == 0 and root["state"] == "QUEUE" and not root["job"]:
                figures["queued_without_job"] += 1
                self.v.add("half-written", f"[{phase}] queued root {root['id']} has no publish job")
        # Per request.
        self.whole = set()  # (round, idx) of requests stored whole
        for r in all_posts:
            expected = r.markers()
            present = {(g, v) for g in range(len(r.sizes)) for v in range(r.sizes[g]) if (r.round, r.idx, g, v) in by_marker}
            tag = f"r{r.round} q{r.idx}"
            if present == expected:
                self.whole.add((r.round, r.idx))
            if r.burst_acked or r.retry_acked:
                how = "" if r.burst_acked else "retry_"
                figures[how + "acked"] += 1
                if present == expected:
                    figures[how + "found"] += 1
                    # The answer names the roots that were stored.
                    answer = r.answer if r.burst_acked else r.retry_answer
                    ans = answer if isinstance(answer, list) else []
                    roots = [by_marker[(r.round, r.idx, g, 0)][0]["id"] for g in range(len(r.sizes))]
                    if sorted(a.get("postId") for a in ans) != sorted(roots):
                        figures["ack_mismatch"] += 1
                        self.v.add("ack-mismatch", f"[{phase}] {tag} answered {ans}, stored roots {roots}")
                elif not present:
                    figures["missing"] += 1
                    self.v.add("missing", f"[{phase}] {tag} answered {r.status or r.retry_status} but nothing is stored")
                else:
                    figures["half_written"] += 1
                    self.v.add("half-written", f"[{phase}] {tag} answered {r.status or r.retry_status}; stored {sorted(present)} of {sorted(expected)}")
            elif r.status is None:
                figures["unknown"] += 1
                if present == expected:
                    figures["unknown_committed"] += 1
                elif present:
                    figures["half_written"] += 1
                    self.v.add("half-written", f"[{phase}] {tag} (no answer) stored {sorted(present)} of {sorted(expected)}")
            else:
                figures["refused"] += 1
                if present:
                    figures["half_written"] += 1
                    self.v.add("written-though-refused", f"[{phase}] {tag} answered {r.status} {r.answer} but stored {sorted(present)}")
        figures["rows"] = len(rows)
        figures["foreign_rows"] = foreign
        return figures

    def check_listing(self, rnd: Round) -> dict:
        """GET /public/v1/posts for the round's window lists each acknowledged root once."""
        f = collections.Counter()
        start, end = H.iso(rnd.window_start), H.iso(rnd.window_start + DAY)
        resp = requests.get(self.server.base + "/public/v1/posts", params={"startDate": start, "endDate": end},
                            headers={"Authorization": self.tenant.api_key}, timeout=120)
        if resp.status_code != 200:
            self.v.add("listing", f"GET /public/v1/posts answered {resp.status_code} {resp.text[:200]}")
            return f
        listed = resp.json()["posts"]
        ids = collections.Counter(p["id"] for p in listed)
        for pid, k in ids.items():
            if k > 1:
                f["listing_duplicates"] += k - 1
                self.v.add("duplicate", f"post {pid} listed {k} times")
        by_req = collections.Counter()
        for p in listed:
            m = MARK.search(p.get("content", ""))
            if m and m.group(1) == self.run and int(m.group(2)) == rnd.n:
                by_req[(int(m.group(3)), int(m.group(4)))] += 1
        for r in rnd.posts:
            if r.due or not r.burst_acked:
                continue
            for g, ans in enumerate(r.answer if isinstance(r.answer, list) else []):
                if ans.get("postId") not in ids:
                    f["listing_missing"] += 1
                    self.v.add("missing", f"r{r.round} q{r.idx} root {ans.get('postId')} is not listed by GET /public/v1/posts")
            for g in range(len(r.sizes)):
                if by_req[(r.idx, g)] > 1:
                    f["listing_duplicates"] += by_req[(r.idx, g)] - 1
                    self.v.add("duplicate", f"r{r.round} q{r.idx} group {g} listed {by_req[(r.idx, g)]} times")
        f["listed"] = len(listed)
        return f

    def retry_idempotent(self, rnd: Round) -> dict:
        """Acknowledged requests with a key are replayed; unanswered ones with a key are sent again."""
        f = collections.Counter()
        s = requests.Session()
        stored_before = set(self.whole)
        for r in rnd.posts:
            if not r.idem:
                continue
            h = {"Authorization": self.tenant.api_key if r.cred == "key" else "Bearer " + rnd.setup_token,
                 "Idempotency-Key": r.idem}
            acked = r.burst_acked
            if not acked and r.status is not None:
                continue
            if not acked and (r.round, r.idx) in stored_before:
                # The client lists its posts before retrying a request that was cut off (README):
                # this one was saved, so it is not sent again.
                f["unknown_found_stored"] += 1
                continue
            if not acked:
                # A key whose request died with the server is free again 90 s after its last
                # renewal (README); wait that out once per round.
                wait = rnd.killed_mono + 92 - time.monotonic()
                if wait > 0:
                    log(f"round {r.round}: waiting {wait:.0f} s for the keys of unanswered requests to be freed")
                    time.sleep(wait)
            resp = s.post(self.server.base + "/public/v1/posts", json=r.body, headers=h, timeout=60)
            try:
                answer = resp.json()
            except ValueError:
                answer = resp.text[:200]
            if acked:
                f["acked_replayed"] += 1
                if resp.status_code != r.status or answer != r.answer or resp.headers.get("Idempotent-Replayed") != "true":
                    f["replay_lost"] += 1
                    self.v.add("idempotency-lost", f"r{r.round} q{r.idx} key {r.idem}: first {r.status} {r.answer}, "
                               f"again {resp.status_code} {answer} replayed={resp.headers.get('Idempotent-Replayed')}")
            else:
                f["unknown_retried"] += 1
                r.retry_status, r.retry_answer = resp.status_code, answer
                if 200 <= resp.status_code < 300:
                    f["unknown_retry_2xx"] += 1
                    if resp.headers.get("Idempotent-Replayed") == "true":
                        f["unknown_retry_replayed"] += 1
                elif resp.status_code == 409:
                    f["stuck_keys"] += 1
                    stored = (r.round, r.idx) in stored_before
                    f["stuck_keys_post_stored" if stored else "stuck_keys_post_absent"] += 1
                    self.v.add("stuck-idempotency-key" if not self.args.tolerate_stuck_keys else "note",
                               f"r{r.round} q{r.idx}: no answer before the crash (post {'stored' if stored else 'not stored'}); "
                               f"after the restart the same key answers 409 {answer}")
                else:
                    f["unknown_retry_other"] += 1
                    if resp.status_code >= 500:
                        self.v.add("5xx", f"retry of r{r.round} q{r.idx} answered {resp.status_code} {answer}")
                    else:
                        self.v.add("idempotency", f"retry of r{r.round} q{r.idx} answered {resp.status_code} {answer}")
        return f

    # ---- tokens --------------------------------------------------------------------------

    def check_codes(self, rnd: Round) -> dict:
        f = collections.Counter()
        codes = {r[0]: (r[1], int(r[2])) for r in self.scratch.query(
            "SELECT code_hash, id, CASE WHEN consumed_at IS NULL THEN 0 ELSE 1 END FROM oauth_codes "
            f"WHERE organization_id = '{self.tenant.org_id}'")}
        tokens_by_code = collections.defaultdict(list)
        tokens_by_hash = collections.defaultdict(list)
        for (th, code_id, revoked) in self.scratch.query(
                "SELECT token_hash, COALESCE(code_id, ''), CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END FROM oauth_tokens "
                f"WHERE organization_id = '{self.tenant.org_id}'"):
            tokens_by_code[code_id].append((th, int(revoked)))
            tokens_by_hash[th].append(code_id)
        # Global: consumed <=> exactly one token.
        for chash, (cid, consumed) in codes.items():
            n = len(tokens_by_code.get(cid, []))
            if n > 1:
                f["duplicate_tokens"] += n - 1
                self.v.add("duplicate", f"code {cid} has {n} tokens")
            if consumed and n == 0:
                f["half_written"] += 1
                self.v.add("half-written", f"code {cid} is consumed but no token was issued from it")
            if not consumed and n > 0:
                f["half_written"] += 1
                self.v.add("half-written", f"code {cid} has a token but is not consumed")
        s = requests.Session()
        base = self.server.base
        for c in rnd.codes:
            if not c.sent:
                continue
            f["sent"] += 1
            chash = H.sha256_hex(c.code)
            if chash not in codes:
                f["code_row_missing"] += 1
                self.v.add("missing", f"code issued by the consent flow is not in oauth_codes ({chash[:12]}…)")
                continue
            cid, consumed = codes[chash]
            if c.status == 200 and c.token:
                f["acked"] += 1
                th = H.sha256_hex(c.token)
                stored = tokens_by_hash.get(th, [])
                if not stored:
                    f["missing"] += 1
                    self.v.add("missing", f"token of code {cid} answered 200 but is not stored")
                    continue
                if stored != [cid] or not consumed:
                    f["half_written"] += 1
                    self.v.add("half-written", f"token of code {cid}: stored under {stored}, code consumed={consumed}")
                ok = s.get(base + "/public/v1/is-connected", headers={"Authorization": c.token}, timeout=30)
                if ok.status_code != 200:
                    f["missing"] += 1
                    self.v.add("missing", f"token of code {cid} answered {ok.status_code} on /is-connected")
                    continue
                f["found"] += 1
            elif c.status is None:
                f["unknown"] += 1
                if consumed:
                    f["unknown_committed"] += 1
            else:
                f["refused"] += 1
                if c.status >= 500:
                    self.v.add("5xx", f"POST /oauth/token answered {c.status}: {c.error}")
                else:
                    self.v.add("refused", f"a fresh code was refused: {c.status} {c.error}")
        # Exchanging again. From a distinct client address each time (SOCIALGATE_TRUSTED_PROXIES is
        # set to 127.0.0.1 for the bench server), so the per-IP limit on invalid grants stays clear.
        for i, c in enumerate(rnd.codes):
            if not c.sent or H.sha256_hex(c.code) not in codes:
                continue
            cid, consumed = codes[H.sha256_hex(c.code)]
            xff = {"X-Forwarded-For": f"10.{rnd.n % 250}.{i // 250}.{i % 250 + 1}"}
            resp = s.post(base + "/oauth/token", data=H.token_form(self.tenant, c.code, c.verifier), headers=xff, timeout=60)
            if c.status == 200 and c.token:
                f["replayed"] += 1
                if resp.status_code == 200:
                    f["exchanged_twice"] += 1
                    self.v.add("exchanged-twice", f"code {cid} answered 200 before the crash and 200 again after it")
                elif resp.status_code != 400:
                    self.v.add("replay", f"replaying code {cid} answered {resp.status_code} {resp.text[:200]}")
                else:
                    f["replay_refused"] += 1
                    after = s.get(base + "/public/v1/is-connected", headers={"Authorization": c.token}, timeout=30)
                    if after.status_code != 401:
                        f["replay_token_alive"] += 1
                        self.v.add("replay", f"code {cid} replayed, but its token still answers {after.status_code}")
            elif c.status is None:
                if consumed:
                    if resp.status_code == 200:
                        f["exchanged_twice"] += 1
                        self.v.add("exchanged-twice", f"code {cid} was consumed before the crash and exchanged again after it")
                    elif resp.status_code != 400:
                        self.v.add("replay", f"consumed code {cid} answered {resp.status_code} {resp.text[:200]}")
                else:
                    if resp.status_code == 200:
                        f["unknown_exchanged_now"] += 1
                        tok = resp.json()["access_token"]
                        ok = s.get(base + "/public/v1/is-connected", headers={"Authorization": tok}, timeout=30)
                        if ok.status_code != 200:
                            self.v.add("token", f"token of code {cid} exchanged after the restart answers {ok.status_code}")
                    else:
                        self.v.add("code-lost", f"code {cid} was not consumed, yet exchanging it after the restart answered "
                                   f"{resp.status_code} {resp.text[:200]}")
        return f

    # ---- publishing ----------------------------------------------------------------------

    def check_publications(self, final: bool) -> dict:
        f = collections.Counter()
        # Rows first, then the sandbox: the worker writes the sandbox before it marks a row PUBLISHED.
        rows = [r for r in load_posts(self.scratch, self.tenant.org_id) if r["live"]]
        texts = [r[0] for r in self.scratch.query(
            f"SELECT text FROM sandbox_posts WHERE organization_id = '{self.tenant.org_id}'")]
        seen = collections.Counter()
        for t in texts:
            for m in MARK.finditer(t):
                if m.group(1) == self.run:
                    seen[m.group(0)] += 1
        f["sandbox_posts"] = len(texts)
        for mark, k in seen.items():
            if k > 1:
                f["published_twice"] += 1
                self.v.add("published-twice", f"{mark} is on the sandbox {k} times")
        for r in rows:
            m = MARK.search(r["content"])
            if r["state"] == "PUBLISHED":
                f["published_rows"] += 1
                if not m or seen[m.group(0)] != 1:
                    f["published_not_on_sandbox"] += 1
                    self.v.add("lost-publication", f"row {r['id']} is PUBLISHED but on the sandbox {seen[m.group(0)] if m else '?'} times")
            elif r["state"] == "ERROR":
                f["error_rows"] += 1
        if final:
            now_s = time.time()
            due_queue = self.scratch.query(
                "SELECT id, CAST(publish_date AS TEXT) FROM posts WHERE state = 'QUEUE' AND deleted_at IS NULL "
                f"AND parent_post_id IS NULL AND organization_id = '{self.tenant.org_id}'")
            stuck = 0
            for pid, date in due_queue:
                if utc_seconds(date) < now_s - 5:
                    stuck += 1
                    self.v.add("stuck", f"due post {pid} ({date}) is still QUEUE after the settle time")
            f["due_still_queued"] = stuck
            reasons = collections.Counter(r[0] for r in self.scratch.query(
                "SELECT COALESCE(error, '') FROM posts WHERE state = 'ERROR' "
                f"AND organization_id = '{self.tenant.org_id}'"))
            f["error_reasons"] = dict(reasons)  # type: ignore[assignment]
        return f


def due_queue_count(scratch: H.Scratch, org: str) -> int:
    rows = scratch.query(
        "SELECT CAST(publish_date AS TEXT) FROM posts WHERE state = 'QUEUE' AND deleted_at IS NULL "
        f"AND parent_post_id IS NULL AND organization_id = '{org}'")
    now_s = time.time()
    n = 0
    for (date,) in rows:
        if utc_seconds(date) < now_s - 5:
            n += 1
    return n


# --------------------------------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=H.DEFAULT_BIN, help="server binary (default target/release/socialgate)")
    p.add_argument("--database-url", default=None,
                   help="postgres://user:pass@host:port/<scratch db> (created and dropped); default SQLite in the temp dir")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=16, help="concurrent clients in the burst")
    p.add_argument("--codes", type=int, default=150, help="authorization codes prepared per round")
    p.add_argument("--code-share", type=float, default=0.35, help="share of burst requests that are code exchanges (while codes last)")
    p.add_argument("--due-share", type=float, default=0.15, help="share of posts due now (published by the worker during the burst)")
    p.add_argument("--idem-share", type=float, default=0.5, help="share of posts sent with an Idempotency-Key")
    p.add_argument("--kill-after", default="0.5:3.0", help="MIN:MAX seconds into the burst to kill -9 the server")
    p.add_argument("--settle", type=float, default=150, help="seconds to wait at the end for due posts to leave QUEUE (0: skip)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--rust-log", default="warn,tracing_actix_web=error,socialgate::oauth::codes=error",
                   help="RUST_LOG of the server (the replay checks make socialgate::oauth::codes warn once per code)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (and PostgreSQL database) even on success")
    p.add_argument("--tolerate-stuck-keys", action="store_true",
                   help="report Idempotency-Keys stuck at 409 after the restart without failing the run "
                        "(a known server bug: the key row of a request cut short by the crash stays 'in progress' for 24 h)")
    a = p.parse_args()
    lo, hi = (float(x) for x in a.kill_after.split(":"))
    a.kill_after = (lo, max(lo, hi))
    return a


def fmt(c) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(c.items()) if v)


def main() -> int:
    args = parse_args()
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    rng = random.Random(seed)
    run = secrets.token_hex(3)
    log(f"crash test: run {run}, seed {seed}, {args.rounds} rounds, binary {args.bin}")
    scratch = H.Scratch(H.normalize_database_url(args.database_url, "crash"), "sg-crash-", keep=args.keep)
    log(f"temp dir {scratch.tmp}, database {scratch.backend}")
    # Trusted proxy: the re-exchange checks come from distinct X-Forwarded-For addresses so the
    # per-IP limit on invalid grants (20 per client and IP in 15 minutes) is not what answers.
    server = H.Server(args.bin, scratch, {"SOCIALGATE_TRUSTED_PROXIES": "127.0.0.1"}, rust_log=args.rust_log)
    v = Violations()
    ok = False
    t = collections.Counter()       # burst figures, summed over rounds
    cf_total = collections.Counter()  # token figures, summed over rounds
    idf_total = collections.Counter()
    lf_total = collections.Counter()
    try:
        tenant = H.provision(server)
        server.start()
        session = H.sign_in(server.base, tenant)
        H.connect_sandbox(server.base, tenant, session)
        code, ver = H.authorize_code(server.base, tenant, session)
        r = requests.post(server.base + "/oauth/token", data=H.token_form(tenant, code, ver), timeout=30)
        r.raise_for_status()
        setup_token = r.json()["access_token"]
        checker = Checker(args, run, scratch, server, tenant, v)
        all_posts: list[PostReq] = []
        base_window = time.time() + 30 * DAY
        for n in range(1, args.rounds + 1):
            t0 = time.monotonic()
            codes = []
            session.close()  # its connections are to the previous process (or idle for long)
            for _ in range(args.codes):
                try:
                    c, vv = H.authorize_code(server.base, tenant, session)
                except H.FlowError as e:
                    if e.status in (302, 303):  # the session ended: sign in again
                        session = H.sign_in(server.base, tenant)
                        c, vv = H.authorize_code(server.base, tenant, session)
                    else:
                        raise
                codes.append(CodeReq(round=n, code=c, verifier=vv))
            log(f"round {n}: {len(codes)} codes through the consent flow in {time.monotonic() - t0:.1f} s")
            rnd = Round(args, run, n, server, tenant, setup_token, codes, rng, base_window + n * 2 * DAY)
            rnd.burst()
            # What the burst saw, before any check sends anything again.
            posts_2xx = [p for p in rnd.posts if p.burst_acked]
            posts_none = [p for p in rnd.posts if p.status is None]
            posts_other = [p for p in rnd.posts if p.status is not None and not p.burst_acked]
            sent_codes = [c for c in codes if c.sent]
            t["posts_sent"] += len(rnd.posts)
            t["posts_2xx"] += len(posts_2xx)
            t["posts_no_answer"] += len(posts_none)
            t["posts_other"] += len(posts_other)
            t["posts_5xx"] += sum(1 for p in posts_other if p.status >= 500)
            t["post_rows_sent"] += sum(sum(p.sizes) for p in rnd.posts)
            t["codes_sent"] += len(sent_codes)
            t["codes_2xx"] += sum(1 for c in sent_codes if c.status == 200)
            t["codes_no_answer"] += sum(1 for c in sent_codes if c.status is None)
            t["codes_other"] += sum(1 for c in sent_codes if c.status not in (None, 200))
            t["codes_5xx"] += sum(1 for c in sent_codes if c.status is not None and c.status >= 500)
            for p in posts_other:
                kind = "5xx" if p.status >= 500 else "refused"
                v.add(kind, f"POST /public/v1/posts r{n} q{p.idx} answered {p.status} {p.answer}")
            log(f"round {n}: killed {rnd.kill_at:.2f} s into the burst: POST /posts sent {len(rnd.posts)}, 2xx {len(posts_2xx)}, "
                f"no answer {len(posts_none)}, other {len(posts_other)}; POST /oauth/token sent {len(sent_codes)}, "
                f"200 {sum(1 for c in sent_codes if c.status == 200)}, no answer {sum(1 for c in sent_codes if c.status is None)}")
            took = server.start()
            log(f"round {n}: restarted, /ready after {took:.2f} s")
            all_posts.extend(rnd.posts)
            pf = checker.analyze_posts(all_posts, f"round {n}")
            t["posts_no_answer_stored"] += sum(1 for p in posts_none if (p.round, p.idx) in checker.whole)
            lf = checker.check_listing(rnd)
            idf = checker.retry_idempotent(rnd)
            pf2 = checker.analyze_posts(all_posts, f"round {n}, after idempotent retries")
            cf = checker.check_codes(rnd)
            pub = checker.check_publications(final=False)
            cf_total.update(cf)
            idf_total.update(idf)
            lf_total.update(lf)
            log(f"round {n}: posts, all rounds so far: {fmt(pf)}")
            log(f"round {n}: listing: {fmt(lf)}; idempotent retries: {fmt(idf)}; then: {fmt(pf2)}")
            log(f"round {n}: tokens: {fmt(cf)}; sandbox: {fmt(pub)}")
        # Settle: due posts leave QUEUE (crashed publishes are taken up after their one-minute lease).
        if args.settle > 0:
            t0 = time.monotonic()
            while time.monotonic() - t0 < args.settle and due_queue_count(scratch, tenant.org_id) > 0:
                time.sleep(2)
            log(f"due posts settled after {time.monotonic() - t0:.0f} s")
        pub = checker.check_publications(final=args.settle > 0)
        pf = checker.analyze_posts(all_posts, "final")
        log(f"final: posts {fmt(pf)}")
        stop_code = server.stop()
        errors = server.errors_in_log()

        missing = pf["missing"] + cf_total["missing"] + cf_total["code_row_missing"] + lf_total["listing_missing"]
        dups = (pf["duplicate_rows"] + cf_total["duplicate_tokens"] + lf_total["listing_duplicates"]
                + cf_total["exchanged_twice"] + pub["published_twice"])
        half = pf["half_written"] + pf["bad_groups"] + pf["queued_without_job"] + cf_total["half_written"]
        print()
        print(f"=== crash test summary: {scratch.backend}, {args.rounds} rounds, seed {seed} ===")
        print(f"requests sent:        {t['posts_sent'] + t['codes_sent']}  (POST /public/v1/posts {t['posts_sent']} with {t['post_rows_sent']} rows, POST /oauth/token {t['codes_sent']})")
        print(f"2xx acknowledged:     {t['posts_2xx'] + t['codes_2xx']}  (posts {t['posts_2xx']}, tokens {t['codes_2xx']})")
        print(f"found after restart:  {pf['found'] + cf_total['found']}  (posts {pf['found']} whole and once, tokens {cf_total['found']} stored once and working)")
        print(f"missing:              {missing}  (must be 0)")
        print(f"duplicates:           {dups}  (must be 0: rows {pf['duplicate_rows']}, tokens per code {cf_total['duplicate_tokens']}, "
              f"listed twice {lf_total['listing_duplicates']}, codes exchanged twice {cf_total['exchanged_twice']}, published twice {pub['published_twice']})")
        print(f"half-written:         {half}  (must be 0: requests partly stored {pf['half_written']}, broken groups {pf['bad_groups']}, "
              f"queued roots without job {pf['queued_without_job']}, code/token mismatches {cf_total['half_written']})")
        print(f"5xx:                  {t['posts_5xx'] + t['codes_5xx']}  (other non-2xx: {t['posts_other'] + t['codes_other'] - t['posts_5xx'] - t['codes_5xx']})")
        print(f"no answer (in flight at the kill): posts {t['posts_no_answer']} (stored whole: {t['posts_no_answer_stored']}, partly: 0 or counted as half-written), "
              f"tokens {t['codes_no_answer']} (code consumed: {cf_total['unknown_committed']}, exchanged after restart: {cf_total['unknown_exchanged_now']})")
        print(f"replays:              acknowledged codes exchanged again {cf_total['replayed']}: refused {cf_total['replay_refused']}, token revoked "
              f"{cf_total['replay_refused'] - cf_total['replay_token_alive']}")
        print(f"idempotency:          acknowledged keys replayed {idf_total['acked_replayed']} (answer lost {idf_total['replay_lost']}); "
              f"unanswered keys sent again {idf_total['unknown_retried']}: 2xx {idf_total['unknown_retry_2xx']} "
              f"(replayed {idf_total['unknown_retry_replayed']}), stuck at 409 {idf_total['stuck_keys']} (must be 0; "
              f"post stored {idf_total['stuck_keys_post_stored']}, not stored {idf_total['stuck_keys_post_absent']}), other {idf_total['unknown_retry_other']}")
        print(f"publishing:           sandbox posts {pub['sandbox_posts']}, rows PUBLISHED {pub['published_rows']}, ERROR {pub['error_rows']}, "
              f"PUBLISHED but not on the sandbox {pub['published_not_on_sandbox']}, due still QUEUE {pub.get('due_still_queued', 'not checked')}")
        if pub.get("error_reasons"):
            print(f"failed-row reasons:   {pub['error_reasons']}")
        print(f"server:               {server.starts} starts, last exit {stop_code}; log ERROR/panic lines {len(errors)}"
              + (f" (first: {errors[0][:160]})" if errors else ""))
        kinds = collections.Counter(x.split(":")[0] for x in v.items)
        print(f"violations:           {len(v.items)}" + (f"  {dict(kinds)}" if kinds else ""))
        ok = not v.items
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
        scratch.cleanup(ok)


if __name__ == "__main__":
    sys.exit(main())
