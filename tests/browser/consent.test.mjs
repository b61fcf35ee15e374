// The consent screen in real Chromium: sign in → Authorize lands on the app with a code and
// the right state; Deny lands with error=access_denied; a cross-origin iframe cannot show it.
// Needs the debug binary (`cargo build`) and Debian's chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { listenOn, startServer, launchChromium, signIn } from "./harness.mjs";

let server, base, app, browser, callback, callbackBase;
const hits = [];

before(async () => {
  // The app's callback and a page on another origin that frames the consent screen.
  callback = http.createServer((req, res) => {
    const url = new URL(req.url, callbackBase);
    if (url.pathname === "/frame") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>framer</title><iframe id="f" src="${url.searchParams.get("src")}" width="600" height="400"></iframe>`);
      return;
    }
    hits.push(url);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("callback reached");
  });
  callbackBase = `http://127.0.0.1:${await listenOn(callback)}`;
  server = await startServer((run) => {
    run("admin", "create-user", "--email", "person@example.com", "--password", "browser password", "--org", "Browser Org");
    return run("admin", "create-oauth-app", "--org", "Browser Org", "--name", "Browser App", "--redirect-uri", `${callbackBase}/cb`);
  });
  base = server.base;
  app = server.provisioned;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
  callback?.close();
});

function authorizeUrl(state) {
  const q = new URLSearchParams({ client_id: app.client_id, response_type: "code", state });
  return `${base}/oauth/authorize?${q}`;
}

async function signedInPage(startUrl) {
  const { context, page } = await signIn(browser, startUrl, "person@example.com", "browser password");
  await page.waitForURL((u) => u.pathname === "/oauth/authorize");
  return { context, page };
}

test("sign in, then Authorize lands on the app with a code and the state", async () => {
  const state = "st ate&=/ü";
  const { context, page } = await signedInPage(authorizeUrl(state));
  await page.getByRole("heading", { name: "Browser App" }).waitFor();
  assert.ok((await page.content()).includes("127.0.0.1"), "the redirect host is named");
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL((u) => u.href.startsWith(`${callbackBase}/cb`));
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get("state"), state);
  assert.equal(landed.searchParams.get("iss"), base);
  assert.ok((landed.searchParams.get("code") ?? "").length >= 43);
  await context.close();
});

test("Deny lands on the app with error=access_denied", async () => {
  const { context, page } = await signedInPage(authorizeUrl("deny-me"));
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL((u) => u.href.startsWith(`${callbackBase}/cb`));
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get("error"), "access_denied");
  assert.equal(landed.searchParams.get("state"), "deny-me");
  assert.equal(landed.searchParams.get("code"), null);
  await context.close();
});

test("the consent page refuses to render inside a cross-origin iframe", async () => {
  const { context, page } = await signedInPage(authorizeUrl("framed"));
  // Signed in, the consent screen renders at top level…
  await page.getByRole("button", { name: "Authorize" }).waitFor();
  // …but not inside another origin's frame.
  const framer = await context.newPage();
  await framer.goto(`${callbackBase}/frame?src=${encodeURIComponent(authorizeUrl("framed"))}`);
  await framer.waitForTimeout(1000);
  const frame = framer.frames().find((f) => f !== framer.mainFrame());
  assert.ok(frame, "the iframe exists");
  const buttons = await frame.locator("button").count().catch(() => 0);
  assert.equal(buttons, 0, "no consent button rendered in the frame");
  assert.ok(!hits.some((u) => u.searchParams.get("state") === "framed"), "nothing reached the app");
  await context.close();
});
