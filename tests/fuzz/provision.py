#!/usr/bin/env python3
"""Gives a fresh socialgate the data a fuzzing run needs, through its own HTTP API.

Usage: provision.py BASE_URL API_KEY EMAIL PASSWORD CLIENT_ID CLIENT_SECRET

Connects two sandbox channels, uploads a PNG, creates four posts, signs in through the HTML
form and approves the OAuth app CLIENT_ID on the consent screen. Prints one JSON object: the
ids the run may use freely (`channel`, `media`, `media_path`, `posts`), the ones it may delete
(`spare_channel`, `spare_post`, `spare_group`), the `sg_session` cookie (`session`), the
session's `X-CSRF-Token` (`csrf`) and the app's OAuth access token (`token`). Any unexpected
answer stops it with a message on stderr.
"""

import json
import re
import sys
import zlib
from urllib.parse import parse_qs, urlsplit

import requests


def png_1x1() -> bytes:
    """A valid 1×1 RGBA PNG, built here so no binary file is checked in."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    idat = zlib.compress(b"\x00\x00\x00\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def expect(response: requests.Response, *statuses: int) -> requests.Response:
    if response.status_code not in statuses:
        sys.exit(
            f"provision: {response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


def main() -> None:
    base, key, email, password, client_id, client_secret = sys.argv[1:7]
    api = requests.Session()
    api.headers["Authorization"] = key

    # Two channels: a sandbox one the run keeps using, and a sandbox-pages one that
    # `DELETE /integrations/{id}` may delete. The connect URL is followed as a browser would.
    channels = {}
    for provider in ["sandbox", "sandbox-pages"]:
        url = expect(api.get(f"{base}/public/v1/social/{provider}"), 200).json()["url"]
        expect(requests.get(url, allow_redirects=True, timeout=30), 200)
    for c in expect(api.get(f"{base}/public/v1/integrations"), 200).json():
        channels[c["identifier"]] = c["id"]
    if set(channels) != {"sandbox", "sandbox-pages"}:
        sys.exit(f"provision: the sandbox channels did not connect: {channels}")
    channel = channels["sandbox"]

    media = expect(
        api.post(
            f"{base}/public/v1/upload",
            files={"file": ("fuzz.png", png_1x1(), "image/png")},
        ),
        201,
    ).json()

    # Four posts on the kept channel: two to keep, one for `DELETE /posts/{id}` and one whose
    # group is for `DELETE /posts/group/{group}`.
    posts = []
    for n, kind in enumerate(["schedule", "draft", "schedule", "draft"]):
        body = {
            "type": kind,
            "shortLink": False,
            "date": f"2030-01-0{n + 1}T10:00:00Z",
            "tags": [],
            "posts": [
                {
                    "integration": {"id": channel},
                    "settings": {},
                    "value": [
                        {
                            "content": f"<p>Fuzz post {n}</p>",
                            "image": [{"id": media["id"], "path": media["path"]}],
                        },
                        {"content": "<p>A reply</p>", "image": [], "delay": 1},
                    ],
                }
            ],
        }
        created = expect(api.post(f"{base}/public/v1/posts", json=body), 201).json()
        posts.append(created[0]["postId"])
    group = expect(api.get(f"{base}/public/v1/posts/{posts[3]}"), 200).json()["group"]

    # A browser session: the sign-in form's CSRF token, then the form.
    browser = requests.Session()
    page = expect(browser.get(f"{base}/signin"), 200).text
    found = re.search(r'name="csrf_token"\s+value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"\s+name="csrf_token"', page
    )
    if not found:
        sys.exit("provision: no csrf_token in the sign-in form")
    expect(
        browser.post(
            f"{base}/signin",
            data={"csrf_token": found.group(1), "email": email, "password": password},
            allow_redirects=False,
        ),
        303,
    )
    session = browser.cookies.get("sg_session")
    if not session:
        sys.exit("provision: signing in set no sg_session cookie")
    me = expect(browser.get(f"{base}/user/self"), 200).json()
    csrf = me["csrf_token"]

    # An approved app: the consent screen answered by this session, and the code exchanged
    # for an OAuth token (the app was made by `admin create-oauth-app` with one redirect URI,
    # which the browser is never sent to).
    page = expect(
        browser.get(
            f"{base}/oauth/authorize",
            params={"client_id": client_id, "response_type": "code", "state": "fuzz"},
            allow_redirects=False,
        ),
        200,
    ).text
    found = re.search(r'name="request_id"\s+value="([^"]+)"', page)
    if not found:
        sys.exit("provision: no request_id in the consent screen")
    answer = expect(
        browser.post(
            f"{base}/oauth/authorize",
            data={
                "csrf_token": csrf,
                "request_id": found.group(1),
                "organization_id": me["organization"]["id"],
                "action": "approve",
            },
            allow_redirects=False,
        ),
        303,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = expect(
        requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
            },
        ),
        200,
    ).json()["access_token"]

    print(
        json.dumps(
            {
                "channel": channel,
                "media": media["id"],
                "media_path": media["path"],
                "posts": posts[:2],
                "spare_channel": channels["sandbox-pages"],
                "spare_post": posts[2],
                "spare_group": group,
                "session": session,
                "csrf": csrf,
                "token": token,
            }
        )
    )


if __name__ == "__main__":
    main()
