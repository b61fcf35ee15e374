// What the browser tests share: a real socialgate server on a fresh SQLite database (the debug
// binary from `cargo build`) and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import http from "node:http";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const binary = process.env.SOCIALGATE_BIN ?? join(root, "target/debug/socialgate");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function listenOn(srv) {
  return new Promise((ok) => srv.listen(0, "127.0.0.1", () => ok(srv.address().port)));
}

async function freePort() {
  const probe = http.createServer();
  const port = await listenOn(probe);
  await new Promise((ok) => probe.close(ok));
  return port;
}

/// Starts a server; `provision(run)` runs `socialgate admin …` commands (JSON out) first.
export async function startServer(provision) {
  const dir = mkdtempSync(join(tmpdir(), "socialgate-browser-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, "socialgate.db")}`,
    SOCIALGATE_DATA_DIR: dir,
    SOCIALGATE_LISTEN: `127.0.0.1:${port}`,
    SOCIALGATE_PUBLIC_URL: base,
    RUST_LOG: "warn",
  };
  const run = (...args) => JSON.parse(execFileSync(binary, args, { env, encoding: "utf8" }));
  const provisioned = await provision(run);
  const server = spawn(binary, ["serve"], { env, stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch {}
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    base,
    run,
    provisioned,
    stop() {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/// A new browser context signed in as the user, left on the page sign-in returned to.
export async function signIn(browser, startUrl, email, password) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(startUrl);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return { context, page };
}
