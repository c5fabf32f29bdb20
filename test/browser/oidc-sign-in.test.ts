import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page, WebSocket } from "playwright-core";
import { launchChromium, screenshot } from "../support/chromium.js";
import { LOA2, startTestProvider, type TestProvider } from "../support/oidc-test-provider.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { runCellInNewNotebook, tokenFromPage } from "../support/notebook-steps.js";
import { account, OTP } from "../support/oidc-hub.js";

// A person's whole trip through an OpenID provider in a real browser: a hub page that needs a
// session, the hub's sign-in button, the provider's form with a one-time code, a notebook, and the
// two ways out (sign-out at the hub and at the provider, and the provider's back-channel logout).

const SECRET = "slipway-oidc-browser-secret";
const NAME = "alice";
const SUB = "alice-sub";
/** Starting a real Jupyter server and kernel takes seconds; these bound each wait, not a sleep. */
const SERVER_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;
/** How soon the page's kernel websocket must close after the provider's back-channel logout. */
const SOCKET_CLOSE_MS = 1_000;

const ACCOUNTS = [account(SUB, NAME, ["/sdcc/users"]), account("eve-sub", "eve", ["/elsewhere"])];

/** The kernel's websocket of a classic notebook page, through the hub's proxy. */
const isKernelSocket = (ws: WebSocket): boolean =>
  /\/user\/alice\/api\/kernels\/[^/]+\/channels/.test(new URL(ws.url()).pathname);

describe("in a browser: signing in through an OpenID provider, to a notebook and out again", () => {
  // The notebook this suite creates lands in the server's working directory; keep it out of the repo.
  const workDir = mkdtempSync(join(tmpdir(), "slipway-browser-work-"));
  const secretDir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
  let provider: TestProvider;
  let hub: TestHub;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let page: Page;
  /** An API token of alice, so teardown can stop her server even if a step failed. */
  let token = "";
  /** The notebook created in the notebook UI, e.g. /user/alice/notebooks/Untitled.ipynb. */
  let notebookPath = "";

  const freshPage = async (): Promise<Page> => {
    const context = await browser.newContext({ baseURL: hub.url });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    contexts.push(context);
    return context.newPage();
  };

  const atProvider = (url: URL): boolean =>
    url.origin === provider.issuer && url.pathname.startsWith("/interaction/");

  /**
   * From the hub's sign-in page to the provider's form, which asks for the one-time code too. A
   * provider that signs the person in without its form sends the browser back to the hub at once.
   */
  async function toProviderForm(p: Page): Promise<void> {
    await p.waitForURL((url) => url.pathname === "/hub/login");
    await p.locator("#provider-sign-in").click();
    await p.waitForURL((url) => atProvider(url) || (url.origin === hub.url && url.pathname !== "/hub/login"));
    assert.ok(atProvider(new URL(p.url())), `the provider shows its form, not ${p.url()}`);
    await p.getByRole("heading", { name: "Sign in" }).waitFor();
    await p.getByLabel("One-time code").waitFor();
  }

  /** Fills the provider's form and sends it. */
  async function submitProviderForm(p: Page, sub: string): Promise<void> {
    await p.getByLabel("User name").fill(sub);
    await p.getByLabel("Password").fill(`${sub}-password`);
    await p.getByLabel("One-time code").fill(OTP);
    await p.getByRole("button", { name: "Sign in" }).click();
  }

  /** Who the hub says the page's browser is signed in as, or the status it refuses with. */
  async function whoAmI(p: Page): Promise<string | number> {
    const res = await p.context().request.get("/hub/api/user", { maxRedirects: 0 });
    if (res.status() !== 200) return res.status();
    const body: unknown = await res.json();
    return typeof body === "object" && body !== null && "name" in body && typeof body.name === "string"
      ? body.name
      : "?";
  }

  before(async () => {
    provider = await startTestProvider({ clients: [], accounts: ACCOUNTS });
    writeFileSync(join(secretDir, "secret"), `${SECRET}\n`, { mode: 0o600 });
    rememberSecret(SECRET);
    hub = await startTestHub(
      {
        auth: {
          type: "oidc",
          oidc: {
            issuer: provider.issuer,
            clientId: "slipway",
            clientSecretFile: join(secretDir, "secret"),
            scopes: ["openid", "profile", "email", "groups"],
            acrValues: [LOA2],
          },
          access: { allowedGroups: ["/sdcc/users"] },
        },
        servers: { workDir },
      },
      { name: "browser-oidc-sign-in" },
    );
    provider.setClient({
      clientId: "slipway",
      clientSecret: SECRET,
      redirectUris: [`${hub.url}/hub/oauth_callback`],
      postLogoutRedirectUris: [`${hub.url}/hub/logged-out`],
      backchannelLogoutUri: `${hub.url}/hub/oidc/backchannel-logout`,
    });
    browser = await launchChromium();
    page = await freshPage();
  });

  after(async () => {
    for (const context of contexts) await context.close();
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
    await provider?.close();
    removeDir(secretDir);
    removeDir(workDir);
  });

  it("sends a browser without a session from a hub page to the provider's form and back, signed in as alice", async () => {
    await page.goto("/hub/home");
    await toProviderForm(page);
    await screenshot(page, "browser-oidc-provider-form");
    await submitProviderForm(page, SUB);
    await page.waitForURL(`${hub.url}/hub/home`);
    assert.equal(await page.locator("header .who").textContent(), NAME);
    const row = page.locator('tr[data-server=""]');
    await row.getByText("Default server").waitFor();
    assert.equal(await row.locator('[data-role="state"]').textContent(), "stopped");
    await screenshot(page, "browser-oidc-home");

    // Teardown's safety net, made with the page's own session.
    token = await tokenFromPage(page, NAME, hub.url, "browser suite teardown");
  });

  it("starts alice's default server from the home page and runs a cell in a new notebook", async () => {
    await page.locator('tr[data-server=""] button[data-action="start"]').click();
    await page.waitForURL(`**/hub/spawn/${NAME}`);
    await page.locator("#spawn-form").getByRole("button", { name: "Start" }).click();
    await page.waitForURL(`**/user/${NAME}/tree**`, { timeout: SERVER_TIMEOUT_MS });
    await page.locator("#notebook_list").waitFor();

    const { notebook } = await runCellInNewNotebook(page, SERVER_TIMEOUT_MS);
    notebookPath = new URL(notebook.url()).pathname;
    assert.match(notebookPath, /^\/user\/alice\/notebooks\/Untitled[0-9]*\.ipynb$/);
    await notebook.close();
  });

  it("signs out at the hub, then at the provider's confirmation, and lands on the hub's signed-out page", async () => {
    await page.goto("/hub/logout");
    await page.getByRole("heading", { name: "Sign out?" }).waitFor();
    // The hub's answer to the form is a redirect to another origin, which the page's own
    // Content-Security-Policy (form-action) may forbid: then the browser stays here and says why.
    const refusedByPolicy = page.waitForEvent("console", {
      predicate: (message) => message.text().includes("Content Security Policy"),
    });
    await page.getByRole("main").getByRole("button", { name: "Sign out" }).click();
    const outcome = await Promise.race([
      page.waitForURL((url) => url.origin === provider.issuer).then(() => "at the provider"),
      refusedByPolicy.then((message) => message.text()),
    ]);
    assert.equal(outcome, "at the provider");
    await page.getByText("Sign out of the Slipway test provider?").waitFor();
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${hub.url}/hub/logged-out`);
    await page.getByRole("heading", { name: "You are signed out" }).waitFor();
    await screenshot(page, "browser-oidc-logged-out");
    assert.equal(await whoAmI(page), 401);
  });

  it("sends the notebook URL to the hub's sign-in again, and the provider asks for the form again", async () => {
    await page.goto(notebookPath);
    await toProviderForm(page);
    // A provider that still had a session of alice would fill in her name.
    assert.equal(await page.getByLabel("User name").inputValue(), "", "the provider has no session of alice");
    assert.equal(await whoAmI(page), 401, "no hub session came back on the way");
  });

  it("refuses an account outside the allowed groups with a page that says why, and starts no session", async () => {
    const refused = await freshPage();
    await refused.goto("/hub/login");
    await toProviderForm(refused);
    const callback = refused.waitForResponse((res) => res.url().startsWith(`${hub.url}/hub/oauth_callback`));
    await submitProviderForm(refused, "eve-sub");
    assert.equal((await callback).status(), 403);
    const alert = refused.getByRole("alert");
    await alert.waitFor();
    assert.equal(await alert.getAttribute("data-code"), "not_in_allowed_group");
    assert.match((await alert.textContent()) ?? "", /not in a group that may use this hub/);
    await screenshot(refused, "browser-oidc-refused");
    assert.equal(await whoAmI(refused), 401);
    await refused.goto("/hub/home");
    await refused.waitForURL((url) => url.pathname === "/hub/login");
  });

  it("ends alice's session at the provider's back-channel logout: her kernel websocket closes, and a reload leads to sign-in", async () => {
    const notebook = await freshPage();
    const kernelSocket = notebook.waitForEvent("websocket", {
      predicate: isKernelSocket,
      timeout: SERVER_TIMEOUT_MS,
    });
    await notebook.goto(notebookPath);
    await toProviderForm(notebook);
    await submitProviderForm(notebook, SUB);
    // The hub takes the browser back where it was going: the notebook, through the proxy.
    await notebook.waitForURL(`${hub.url}${notebookPath}`);
    await notebook.locator("#kernel_indicator_icon.kernel_idle_icon").waitFor({ timeout: SERVER_TIMEOUT_MS });
    const ws = await kernelSocket;
    assert.equal(ws.isClosed(), false, "the kernel websocket is open before the logout");
    assert.equal(await whoAmI(notebook), NAME);

    // Bounded from here: the provider's call, the hub's answer and the socket's close within it.
    const closed = ws.waitForEvent("close", { timeout: SOCKET_CLOSE_MS });
    await provider.backchannelLogout("slipway", SUB);
    await closed;

    assert.equal(await whoAmI(notebook), 401);
    await notebook.reload();
    await notebook.waitForURL((url) => url.pathname === "/hub/login");
    assert.equal(new URL(notebook.url()).searchParams.get("next"), notebookPath);
    await notebook.locator("#provider-sign-in").waitFor();
  });
});
