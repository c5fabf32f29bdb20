import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Totp } from "../../src/auth/totp.js";
import { launchChromium, screenshot } from "../support/chromium.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { runCellInNewNotebook, tokenFromPage } from "../support/notebook-steps.js";

const NAME = "ada";
const PASSWORD = "pw-ada-correct-horse";
/** Starting a real Jupyter server and kernel takes seconds; these bound each wait, not a sleep. */
const SERVER_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;

describe("in a browser: from the first-admin link to a running notebook and back out", () => {
  const totp = new Totp();
  // The notebook this suite creates lands in the server's working directory; keep it out of the repo.
  const workDir = mkdtempSync(join(tmpdir(), "slipway-browser-work-"));
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** An API token of the new admin, so teardown can stop the server even if a step failed. */
  let token = "";

  before(async () => {
    hub = await startTestHub({ servers: { workDir } }, { name: "browser-first-admin" });
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: hub.url });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    if (hub) {
      if (token) {
        await fetch(`${hub.url}/hub/api/users/${NAME}/server`, {
          method: "DELETE",
          headers: { authorization: `token ${token}` },
        }).catch(() => undefined);
      }
      await hub.stop();
      removeDir(hub.dataDir);
    }
    removeDir(workDir);
  });

  it("opens the one-time link, creates the admin and shows the enrolment page", async () => {
    const link = hub.firstAdminUrl;
    assert.ok(link, "a fresh hub prints a first-admin link");
    await page.goto(link);
    await page.getByLabel("User name").fill(NAME);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Password again").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL("**/hub/enrol-totp");
    await page.getByRole("heading", { name: "Set up your authenticator" }).waitFor();
  });

  it("shows a QR code that encodes the otpauth URI of the secret printed beside it", async () => {
    const secret = (await page.locator("#totp-secret").textContent())?.trim() ?? "";
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const qr = page.locator("img#totp-qr");
    const src = (await qr.getAttribute("src")) ?? "";
    const prefix = "data:image/svg+xml;base64,";
    assert.ok(src.startsWith(prefix), `the QR code is an inline SVG, not ${src.slice(0, 40)}`);
    const svg = Buffer.from(src.slice(prefix.length), "base64").toString("utf8");
    const uri = totp.provisioningUri({ issuer: "Slipway", account: NAME, secret });
    assert.match(uri, /^otpauth:\/\/totp\//);
    // The QR encoder is deterministic: the same URI gives the same SVG, so this proves the content.
    assert.equal(svg, await totp.qrSvg(uri));
    const size = await qr.evaluate((img: { complete: boolean; naturalWidth: number }) =>
      img.complete ? img.naturalWidth : 0,
    );
    assert.ok(size > 0, "the browser decoded and drew the QR code");
    await screenshot(page, "browser-enrolment");
  });

  it("accepts the code computed from that secret and lands on the home page listing the default server", async () => {
    const secret = (await page.locator("#totp-secret").textContent())?.trim() ?? "";
    rememberSecret(secret);
    await page.getByLabel("Code").fill(totp.codeAt(secret, new Date()));
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.waitForURL("**/hub/home");
    const row = page.locator('tr[data-server=""]');
    await row.getByText("Default server").waitFor();
    assert.equal(await row.locator('[data-role="state"]').textContent(), "stopped");
    assert.equal(await page.locator("header .who").textContent(), NAME);
    await screenshot(page, "browser-home");

    // Teardown's safety net, made with the page's own session.
    token = await tokenFromPage(page, NAME, hub.url, "browser suite teardown");
  });

  it("starts the server through the spawn form, shows progress over SSE and lands in the notebook UI", async () => {
    await page.locator('tr[data-server=""] button[data-action="start"]').click();
    await page.waitForURL(`**/hub/spawn/${NAME}`);
    const progressStream = page.waitForResponse(
      (res) =>
        res.url().endsWith(`/hub/api/users/${NAME}/server/progress`) &&
        /text\/event-stream/.test(res.headers()["content-type"] ?? ""),
    );
    await page.locator("#spawn-form").getByRole("button", { name: "Start" }).click();
    await page.waitForURL(`**/hub/spawn-pending/${NAME}`);
    assert.equal((await progressStream).status(), 200);
    await page.waitForURL(`**/user/${NAME}/tree**`, { timeout: SERVER_TIMEOUT_MS });
    await page.locator("#notebook_list").waitFor();
  });

  it("creates a Python 3 notebook from the New menu, runs print(6*7) and shows 42", async () => {
    const { notebook } = await runCellInNewNotebook(page, SERVER_TIMEOUT_MS);
    assert.match(new URL(notebook.url()).pathname, /^\/user\/ada\/notebooks\/Untitled[0-9]*\.ipynb$/);
    await notebook.close();
  });

  it("stops the server from the home page and shows it stopped without a reload", async () => {
    await page.goto("/hub/home");
    const row = page.locator('tr[data-server=""]');
    await row.locator('[data-role="state"]', { hasText: "running" }).waitFor();
    let navigations = 0;
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    await row.locator('button[data-action="stop"]').click();
    await row
      .locator('[data-role="state"]', { hasText: /^stopped$/ })
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    await row.locator('button[data-action="start"]').waitFor();
    assert.ok(await row.locator('[data-role="open"]').isHidden(), "no Open link for a stopped server");
    assert.equal(navigations, 0, "the status changed in place, not through a page load");
  });

  it("signs out, after which the notebook URL leads to the sign-in page", async () => {
    await page.locator("#sign-out").click();
    await page.waitForURL("**/hub/login");
    await page.goto(`/user/${NAME}/tree`);
    await page.waitForURL((url) => url.pathname === "/hub/login");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("User name").waitFor();
  });
});
