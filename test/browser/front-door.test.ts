import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { freePort, startApacheFrontDoor, type ApacheFrontDoor } from "../support/apache-front-door.js";
import { launchChromium, screenshot } from "../support/chromium.js";
import { startTestProvider, type TestProvider } from "../support/oidc-test-provider.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { runCellInNewNotebook, tokenFromPage } from "../support/notebook-steps.js";

const NAME = "ada";
const PASSWORD = "pw-ada-at-the-provider";
const CLIENT_ID = "slipway-front-door";
const CLIENT_SECRET = "front-door-client-secret-0f9c2b";
/** Starting a real Jupyter server and kernel takes seconds; these bound each wait, not a sleep. */
const SERVER_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;

/**
 * Where the hub's front-door socket goes: a 0711 parent, and as root a setgid directory of the
 * group www-data, so the socket (0660) is Apache's workers' to open and no one else's, as in
 * production (examples/apache-oidc-front-door.conf). Not as root, Apache runs as this account.
 */
function frontDoorSocketDir(): string {
  const parent = mkdtempSync(join(tmpdir(), "slipway-front-"));
  chmodSync(parent, 0o711);
  const dir = join(parent, "run");
  mkdirSync(dir);
  if (process.getuid?.() === 0) {
    chownSync(dir, 0, Number(execFileSync("id", ["-g", "www-data"], { encoding: "utf8" }).trim()));
    chmodSync(dir, 0o2750);
  }
  return dir;
}

/** The hub's own TCP port; `hub.url` is its public URL, Apache's. */
const hubPort = (hub: TestHub) => `http://127.0.0.1:${hub.port}`;

/** A request straight to the hub's TCP port, naming ada in the header only a front door may set. */
function forged(hub: TestHub, path: string, method = "GET"): Promise<Response> {
  return fetch(`${hubPort(hub)}${path}`, {
    method,
    redirect: "manual",
    headers: { "x-remote-user": NAME, "x-remote-groups": "admins", origin: hubPort(hub) },
  });
}

describe("in a browser, through Apache with mod_auth_openidc: sign in at the provider, a notebook, sign out", () => {
  const workDir = mkdtempSync(join(tmpdir(), "slipway-browser-work-"));
  const socketDir = frontDoorSocketDir();
  let provider: TestProvider;
  let front: ApacheFrontDoor;
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** An API token of ada's, so teardown can stop the server even if a step failed. */
  let token = "";

  before(async () => {
    rememberSecret(CLIENT_SECRET);
    rememberSecret(PASSWORD);
    provider = await startTestProvider({
      clients: [],
      accounts: [
        {
          sub: "f3b1c0de-ada",
          password: PASSWORD,
          claims: { preferred_username: NAME, name: "Ada Lovelace", groups: ["/lab/gpu", "staff"] },
        },
      ],
    });
    const port = await freePort();
    const hubSocket = join(socketDir, "front.sock");
    front = await startApacheFrontDoor({
      hubSocket,
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      port,
    });
    provider.setClient({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [front.redirectUri],
      postLogoutRedirectUris: [`${front.url}/hub/logged-out`],
    });
    hub = await startTestHub(
      {
        hub: { publicUrl: front.url, frontDoorSocket: hubSocket },
        auth: {
          type: "trusted-header",
          trustedHeader: {
            trustedPeers: ["unix"],
            userHeader: "X-Remote-User",
            groupsHeader: "X-Remote-Groups",
            logoutUrl: front.logoutUrl(`${front.url}/hub/logged-out`),
          },
        },
        servers: { workDir },
      },
      { name: "browser-front-door" },
    );
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: front.url });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    if (hub) {
      if (token) {
        await fetch(`${hubPort(hub)}/hub/api/users/${NAME}/server`, {
          method: "DELETE",
          headers: { authorization: `token ${token}` },
        }).catch(() => undefined);
      }
      await hub.stop();
      removeDir(hub.dataDir);
    }
    await front?.close();
    await provider?.close();
    removeDir(workDir);
    removeDir(join(socketDir, ".."));
  });

  it("sends the browser to the provider's form, and after it to the Slipway home page as that user", async () => {
    await page.goto("/hub/home");
    await page.waitForURL(
      (url) => url.origin === provider.issuer && url.pathname.startsWith("/interaction/"),
    );
    await page.getByLabel("User name").fill(NAME);
    await page.getByLabel("Password").fill(PASSWORD);
    await screenshot(page, "browser-front-door-provider");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${front.url}/hub/home`);
    assert.equal(await page.locator("header .who").textContent(), NAME);
  });

  it("has the groups the front door passed from the provider's groups claim, as the API shows", async () => {
    const res = await context.request.get("/hub/api/user");
    assert.equal(res.status(), 200, await res.text());
    const user: unknown = await res.json();
    assert.ok(typeof user === "object" && user !== null && "name" in user && "groups" in user);
    assert.equal(user.name, NAME);
    assert.deepEqual(user.groups, ["lab.gpu", "staff"]);

    // Teardown's safety net, made with the page's own session.
    token = await tokenFromPage(page, NAME, front.url, "front-door suite teardown");
  });

  it("starts the server, and the notebook's kernel answers over a websocket through Apache", async () => {
    await page.goto(`/hub/spawn/${NAME}`);
    await page.locator("#spawn-form").getByRole("button", { name: "Start" }).click();
    await page.waitForURL(`**/user/${NAME}/tree**`, { timeout: SERVER_TIMEOUT_MS });
    const { notebook, kernelSocketUrl } = await runCellInNewNotebook(page, SERVER_TIMEOUT_MS);
    assert.equal(kernelSocketUrl.host, new URL(front.url).host, "the kernel's websocket went to Apache");
    assert.match(kernelSocketUrl.pathname, new RegExp(`^/user/${NAME}/api/kernels/`));
    await notebook.close();
  });

  it("takes no name from a request that reached the hub's own port: no page, no API, no stopping ada's server", async () => {
    const home = await forged(hub, "/hub/home");
    assert.notEqual(home.status, 200);
    const tree = await forged(hub, `/user/${NAME}/tree`);
    assert.notEqual(tree.status, 200);
    assert.doesNotMatch(await tree.text(), /notebook_list/);
    const me = await forged(hub, "/hub/api/user");
    assert.ok([401, 403].includes(me.status), `GET /hub/api/user answered ${me.status}`);
    const stop = await forged(hub, `/hub/api/users/${NAME}/server`, "DELETE");
    assert.ok([401, 403].includes(stop.status), `DELETE …/server answered ${stop.status}`);

    // The harm, not only the status: ada's server still runs.
    const ada = await fetch(`${hubPort(hub)}/hub/api/users/${NAME}`, {
      headers: { authorization: `token ${token}` },
    });
    const model: unknown = await ada.json();
    assert.ok(typeof model === "object" && model !== null && "server" in model);
    assert.equal(model.server, `/user/${NAME}/`);
  });

  it("takes no name from a browser that sends the header itself through Apache: the provider's form again", async () => {
    const other = await browser.newContext({
      baseURL: front.url,
      extraHTTPHeaders: { "X-Remote-User": NAME },
    });
    const stranger = await other.newPage();
    await stranger.goto(`/user/${NAME}/tree`);
    await stranger.waitForURL(
      (url) => url.origin === provider.issuer && url.pathname.startsWith("/interaction/"),
    );
    await stranger.getByLabel("User name").waitFor();
    await other.close();
  });

  it("signs out at the hub, then at the front door and at the provider, which asks first", async () => {
    await page.goto("/hub/home");
    await page.locator("#sign-out").click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.getByRole("heading", { name: "Sign out" }).waitFor();
    await screenshot(page, "browser-front-door-provider-logout");
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${front.url}/hub/logged-out`);
    await page.getByRole("heading", { name: "You are signed out" }).waitFor();
  });

  it("then the notebook URL leads to the provider's sign-in form, not back in", async () => {
    await page.goto(`/user/${NAME}/tree`);
    await page.waitForURL(
      (url) => url.origin === provider.issuer && url.pathname.startsWith("/interaction/"),
    );
    await page.getByLabel("User name").waitFor();
    await page.getByLabel("Password").waitFor();
    const cookies = await context.cookies(front.url);
    assert.deepEqual(
      cookies
        .filter((c) => c.value !== "" && ["slipway-session", "mod_auth_openidc_session"].includes(c.name))
        .map((c) => c.name),
      [],
      "neither the hub's nor the front door's session cookie is left",
    );
  });
});
