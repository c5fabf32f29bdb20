import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Totp } from "../../src/auth/totp.js";
import { firstAdmin, type SignedIn } from "../support/accounts.js";
import { launchChromium, screenshot } from "../support/chromium.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const NAME = "carol";
const PASSWORD = "pw-carol-correct-horse";
const STEP_TIMEOUT_MS = 30_000;
const STEP_MS = 30_000;

/** A six-digit code that no step within the ±1 drift window around now accepts. */
function wrongCodeFor(totp: Totp, secret: string): string {
  const now = Date.now();
  const valid = new Set([-2, -1, 0, 1, 2].map((step) => totp.codeAt(secret, new Date(now + step * STEP_MS))));
  let code = 0;
  while (valid.has(String(code).padStart(6, "0"))) code += 1;
  return String(code).padStart(6, "0");
}

/** Fills the sign-in form and waits for the one-time code page. */
async function submitPassword(page: Page, name: string, password: string): Promise<void> {
  await page.goto("/hub/login");
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/hub/login/totp");
}

describe("in a browser: an account added by an admin sets up TOTP and signs in with it", () => {
  const totp = new Totp();
  let hub: TestHub;
  let admin: SignedIn;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let adminPage: Page;
  let setupLink = "";
  let secret = "";

  const freshPage = async (): Promise<Page> => {
    const context = await browser.newContext({ baseURL: hub.url });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    contexts.push(context);
    return context.newPage();
  };

  before(async () => {
    hub = await startTestHub({}, { name: "browser-sign-in" });
    admin = await firstAdmin(hub);
    browser = await launchChromium();
    adminPage = await freshPage();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    if (hub) {
      await hub.stop();
      removeDir(hub.dataDir);
    }
  });

  it("signs the admin in with password, then the one-time code page", async () => {
    await submitPassword(adminPage, admin.account.name, admin.account.password);
    await adminPage.getByRole("heading", { name: "One-time code" }).waitFor();
    // The set-up used the current step's code, and a code works once: take the next step's.
    const code = totp.codeAt(admin.account.totpSecret, new Date(Date.now() + STEP_MS));
    await adminPage.getByLabel("Code").fill(code);
    await adminPage.getByRole("button", { name: "Verify" }).click();
    await adminPage.waitForURL("**/hub/home");
    assert.equal(await adminPage.locator("header .who").textContent(), admin.account.name);
  });

  it("adds a user on the admin page and shows the one-time set-up link", async () => {
    await adminPage.getByRole("link", { name: "Admin" }).click();
    await adminPage.waitForURL("**/hub/admin");
    const form = adminPage.locator("#add-user");
    await form.getByLabel("User name").fill(NAME);
    await form.getByRole("button", { name: "Add user" }).click();
    const shown = adminPage.locator("#setup-link");
    await shown.waitFor();
    const match = /(https?:\/\/\S+\/hub\/setup\/\S+)/.exec((await shown.textContent()) ?? "");
    assert.ok(match?.[1], "the set-up link is on the page");
    setupLink = match[1];
    assert.equal(new URL(setupLink).origin, hub.url);
    rememberSecret(new URL(setupLink).pathname.split("/").at(-1) ?? "");
    await screenshot(adminPage, "browser-admin");
  });

  it("takes the new user through the set-up link: a password, then TOTP enrolment", async () => {
    const page = await freshPage();
    await page.goto(setupLink);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Password again").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL("**/hub/enrol-totp");
    secret = (await page.locator("#totp-secret").textContent())?.trim() ?? "";
    assert.match(secret, /^[A-Z2-7]{32}$/);
    rememberSecret(secret);
    await page.getByLabel("Code").fill(totp.codeAt(secret, new Date()));
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.waitForURL("**/hub/home");
    assert.equal(await page.locator("header .who").textContent(), NAME);
    assert.equal(await page.getByRole("link", { name: "Admin" }).count(), 0, "carol is no admin");
  });

  it("signs the new user in: the password leads to the code page, where a wrong code shows an error", async () => {
    const page = await freshPage();
    await submitPassword(page, NAME, PASSWORD);
    await page.getByLabel("Code").fill(wrongCodeFor(totp, secret));
    await page.getByRole("button", { name: "Verify" }).click();
    const error = page.getByRole("alert");
    await error.waitFor();
    assert.match((await error.textContent()) ?? "", /one-time code is wrong/);
    assert.equal(new URL(page.url()).pathname, "/hub/login/totp");
    await screenshot(page, "browser-wrong-code");

    await page.getByLabel("Code").fill(totp.codeAt(secret, new Date(Date.now() + STEP_MS)));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/hub/home");
    assert.equal(await page.locator("header .who").textContent(), NAME);
  });
});
