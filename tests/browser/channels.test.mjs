// A new user connects the sandbox from the Channels page in real Chromium, then sees the
// channel through the Public API with an API key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchChromium, signIn } from "./harness.mjs";

let server, browser;

before(async () => {
  server = await startServer((run) => {
    run("admin", "create-user", "--email", "person@example.com", "--password", "browser password", "--org", "Browser Org");
    return run("admin", "create-api-key", "--org", "Browser Org", "--name", "agent");
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test("Connect Sandbox on the Channels page connects a channel the API lists", async () => {
  const { context, page } = await signIn(browser, `${server.base}/settings/channels`, "person@example.com", "browser password");
  await page.waitForURL((u) => u.pathname === "/settings/channels");
  await page.getByRole("button", { name: "Connect Sandbox", exact: true }).click();
  await page.waitForURL((u) => u.pathname === "/settings/channels" && u.searchParams.has("connected"));
  await page.getByText("Sandbox is connected.").waitFor();
  assert.equal(await page.locator("td.status-active").count(), 1);

  const r = await fetch(`${server.base}/public/v1/integrations`, {
    headers: { Authorization: server.provisioned.key },
  });
  assert.equal(r.status, 200);
  const channels = await r.json();
  assert.equal(channels.length, 1);
  assert.equal(channels[0].identifier, "sandbox");
  assert.equal(channels[0].name, "Sandbox");
  await context.close();
});
