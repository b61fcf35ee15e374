#!/usr/bin/env python3
"""A real MCP client (the official `mcp` SDK) that publishes one post through socialgate.

    python3 tests/mcp/agent.py --url http://127.0.0.1:PORT/mcp \
        --cookie "NAME=VALUE; NAME2=VALUE2" --text "Hello from an agent" [--key KEY]

With --key it sends `Authorization: Bearer KEY` and does no OAuth. Without it, the SDK's
OAuthClientProvider does what an agent does: 401 challenge -> protected-resource metadata ->
authorization-server metadata -> dynamic client registration -> authorization code with PKCE
-> token. The "browser" is this script: it opens the consent page with the signed-in user's
cookie, presses Authorize, and catches the redirect to REDIRECT_URI itself (nothing listens
there).

Then: tools/list, integrationList, integrationSchedulePostTool on the first sandbox channel,
and ONE line of JSON on stdout. Diagnostics go to stderr; any failure exits 1.
"""

import argparse
import asyncio
import json
import logging
import sys
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import anyio
import httpx2  # the HTTP client the mcp package itself is built on
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.types import Implementation

REDIRECT_URI = "http://127.0.0.1:33418/callback"
RUN_TIMEOUT_SECONDS = 60

log = logging.getLogger("agent")


class AgentError(Exception):
    """A failure with a message meant for the person reading the test log."""


def excerpt(response: httpx2.Response) -> str:
    return f"HTTP {response.status_code}: {response.text[:500]!r}"


async def log_http_error(response: httpx2.Response) -> None:
    """The SDK reports a failed MCP POST only as "Server returned an error response": say what it was.
    (The first 401 of the OAuth flow is expected; it is logged all the same.)"""
    if response.status_code >= 400:
        await response.aread()  # only error bodies: a success may be a stream the SDK reads itself
        challenge = response.headers.get("www-authenticate")
        log.info(
            "%s %s -> %s%s",
            response.request.method,
            response.request.url,
            excerpt(response),
            f" WWW-Authenticate: {challenge}" if challenge else "",
        )


class MemoryStorage(TokenStorage):
    """Tokens and the registered client live only as long as this process."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class ConsentForm(HTMLParser):
    """The fields a browser would submit from `<form method="post" action="/oauth/authorize">`
    when Authorize is pressed (see templates/oauth/consent.html)."""

    def __init__(self) -> None:
        super().__init__()  # HTMLParser unescapes attribute values itself
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self.approve: tuple[str, str] | None = None
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and self.action is None:
            if urlparse(a.get("action", "")).path == "/oauth/authorize":
                self.action, self._in_form = a["action"], True
            return
        if not self._in_form:
            return
        if tag == "input" and a.get("type", "").lower() == "hidden" and a.get("name"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag in ("button", "input") and a.get("value") == "approve" and a.get("name"):
            self.approve = (a["name"], "approve")
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select is not None:
            # The organization picker: what the browser submits is the selected option, else the first.
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            if chosen:
                self.fields.append((self._select, chosen[0]))
            self._select = None


class Browser:
    """The signed-in user's browser, driven by the SDK's redirect and callback handlers."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie
        self.result: AuthorizationCodeResult | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        log.info("authorizing: %s", authorization_url)
        self.result = None
        # No redirect following: a 303 to /signin (bad cookie) must fail here, and the final
        # 303 to REDIRECT_URI must not be followed (nothing listens there).
        async with httpx2.AsyncClient(
            headers={"Cookie": self.cookie}, follow_redirects=False, trust_env=False, timeout=20
        ) as http:
            page = await http.get(authorization_url)
            if page.status_code != 200:
                where = page.headers.get("location")
                raise AgentError(
                    f"GET {authorization_url} did not show the consent page"
                    + (f" (redirected to {where})" if where else "")
                    + f": {excerpt(page)}"
                )
            form = ConsentForm()
            form.feed(page.text)
            form.close()
            if form.action is None:
                raise AgentError(f"the consent page has no POST form to /oauth/authorize: {excerpt(page)}")
            if form.approve is None:
                raise AgentError(f"the consent form has no approve button: {excerpt(page)}")
            fields = form.fields + [form.approve]
            log.info("consent form fields: %s", [name for name, _ in fields])
            answer = await http.post(
                urljoin(authorization_url, form.action),
                content=urlencode(fields),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        location = answer.headers.get("location")
        if answer.status_code not in (302, 303) or not location:
            raise AgentError(f"approving consent did not redirect: {excerpt(answer)}")
        target = urlparse(urljoin(str(answer.url), location))
        expected = urlparse(REDIRECT_URI)
        if (target.scheme, target.netloc, target.path) != (expected.scheme, expected.netloc, expected.path):
            raise AgentError(f"approving consent redirected to {location}, not to {REDIRECT_URI}")
        query = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        if "error" in query or not query.get("code"):
            raise AgentError(f"the authorization response carries no code: {location}")
        self.result = AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self.result is None:
            raise AgentError("no authorization code was captured")
        return self.result


def tool_output(result: Any, tool: str) -> Any:
    """`output` of a tool's structured content, failing on a tool error."""
    text = " ".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        raise AgentError(f"{tool} returned an error: {text}")
    content = result.structured_content
    if not isinstance(content, dict) or "output" not in content:
        raise AgentError(f"{tool} returned no structured output: {content!r} {text}")
    return content


async def list_all_tools(client: Client) -> list[str]:
    names, cursor = [], None
    while True:
        page = await client.list_tools(cursor=cursor)
        names += [t.name for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            return sorted(names)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    storage: MemoryStorage | None = None
    # trust_env=False: a proxy set in CI's environment must not come between us and 127.0.0.1.
    http_options: dict[str, Any] = {"trust_env": False, "timeout": 30, "event_hooks": {"response": [log_http_error]}}
    if args.key:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {args.key}"}, **http_options)
    else:
        if not args.cookie:
            raise AgentError("--cookie is required for OAuth (without --key)")
        storage, browser = MemoryStorage(), Browser(args.cookie)
        auth = OAuthClientProvider(
            server_url=args.url,
            # No scope here: the SDK takes it from the 401 challenge (then PRM, then AS metadata).
            client_metadata=OAuthClientMetadata(
                client_name="socialgate test agent",
                redirect_uris=[REDIRECT_URI],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=storage,
            redirect_handler=browser.redirect_handler,
            callback_handler=browser.callback_handler,
        )
        http = httpx2.AsyncClient(auth=auth, **http_options)

    async with http, Client(
        streamable_http_client(args.url, http_client=http),
        mode=args.mode,
        client_info=Implementation(name="socialgate-test-agent", version="1.0"),
    ) as client:
        protocol = client.protocol_version
        log.info("connected: protocol %s, server %s", protocol, client.server_info)
        tools = await list_all_tools(client)
        log.info("tools: %s", tools)

        listed = tool_output(await client.call_tool("integrationList", {}), "integrationList")["output"]
        sandbox = next((i for i in listed or [] if isinstance(i, dict) and i.get("platform") == "sandbox"), None)
        if sandbox is None:
            raise AgentError(f"integrationList has no sandbox channel: {listed!r}")

        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        post = {
            "socialPost": [
                {
                    "integrationId": sandbox["id"],
                    "isPremium": False,
                    "date": now,
                    "shortLink": False,
                    "type": "now",
                    "postsAndComments": [{"content": f"<p>{args.text}</p>", "attachments": []}],
                    "settings": [],
                }
            ]
        }
        schedule = tool_output(
            await client.call_tool("integrationSchedulePostTool", post), "integrationSchedulePostTool"
        )
        output = schedule["output"]
        if isinstance(output, dict) and "errors" in output or (
            isinstance(output, list) and any(isinstance(o, dict) and "errors" in o for o in output)
        ):
            raise AgentError(f"integrationSchedulePostTool reported errors: {json.dumps(output)}")

    client_info = storage.client_info if storage else None
    return {
        "tools": tools,
        "integration": sandbox["id"],
        "schedule": schedule,
        "oauth": storage is not None,
        "protocol": protocol,
        "client_id": client_info.client_id if client_info else None,
    }


def leaf_errors(error: BaseException) -> list[BaseException]:
    """The SDK runs requests in task groups, so a failure arrives wrapped in ExceptionGroups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for e in error.exceptions for leaf in leaf_errors(e)]
    return [error]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with anyio.fail_after(RUN_TIMEOUT_SECONDS):
        return await run(args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the MCP endpoint, e.g. http://127.0.0.1:8080/mcp")
    parser.add_argument("--cookie", default="", help="Cookie header of a signed-in browser session")
    parser.add_argument("--text", required=True, help="the text of the post")
    parser.add_argument("--key", help="an API key or access token: skips OAuth")
    parser.add_argument("--mode", default="auto", choices=["auto", "legacy"], help="SDK protocol negotiation")
    parser.add_argument("-v", "--verbose", action="store_true", help="SDK debug logging on stderr")
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    log.setLevel(logging.INFO)
    try:
        report = asyncio.run(main_async(args))
    except BaseException as error:  # noqa: BLE001 - everything becomes a readable line and exit 1
        if isinstance(error, KeyboardInterrupt):
            raise
        for leaf in leaf_errors(error):
            if isinstance(leaf, TimeoutError):
                print(f"agent.py: timed out after {RUN_TIMEOUT_SECONDS} s", file=sys.stderr)
            else:
                print(f"agent.py: {type(leaf).__name__}: {leaf}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
