// The consent screen in real Chromium: sign in → Authorize lands on the app with a code and
// the right state; Deny lands with error=access_denied; a cross-origin iframe cannot show it.
// Needs the debug binary (`cargo build`) and Debian's chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import http from "node:http";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const binary = process.env.SOCIALGATE_BIN ?? join(root, "target/debug/socialgate");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

let dir, server, base, app, browser, callback, callbackBase;
const hits = [];

function listenOn(srv) {
  return new Promise((ok) => srv.listen(0, "127.0.0.1", () => ok(srv.address().port)));
}

async function freePort() {
  const probe = http.createServer();
  const port = await listenOn(probe);
  await new Promise((ok) => probe.close(ok));
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "socialgate-browser-"));
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

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, "socialgate.db")}`,
    SOCIALGATE_DATA_DIR: dir,
    SOCIALGATE_LISTEN: `127.0.0.1:${port}`,
    SOCIALGATE_PUBLIC_URL: base,
    RUST_LOG: "warn",
  };
  const run = (...args) => JSON.parse(execFileSync(binary, args, { env, encoding: "utf8" }));
  run("admin", "create-user", "--email", "person@example.com", "--password", "browser password", "--org", "Browser Org");
  app = run("admin", "create-oauth-app", "--org", "Browser Org", "--name", "Browser App", "--redirect-uri", `${callbackBase}/cb`);
  server = spawn(binary, ["serve"], { env, stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch {}
    await new Promise((ok) => setTimeout(ok, 50));
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  callback?.close();
  rmSync(dir, { recursive: true, force: true });
});

function authorizeUrl(state) {
  const q = new URLSearchParams({ client_id: app.client_id, response_type: "code", state });
  return `${base}/oauth/authorize?${q}`;
}

async function signedInPage(startUrl) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(startUrl);
  await page.getByLabel("Email").fill("person@example.com");
  await page.getByLabel("Password").fill("browser password");
  await page.getByRole("button", { name: "Sign in" }).click();
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
