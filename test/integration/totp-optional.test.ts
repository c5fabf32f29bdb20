import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, firstAdmin, type SignedIn } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import { codeFor, field, hiddenField, HubClient, signIn } from "../support/hub-client.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const STEP = 30_000;

describe("an authenticator set up after sign-in, when TOTP is optional", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let ola: SignedIn;

  /** The enrolment form of the account page: its secret, sealed pending value and XSRF token. */
  const enrolmentForm = async (client: HubClient) => {
    const { res, html } = await client.page("/hub/account/authenticator");
    assert.equal(res.status, 200);
    const secret = field(html, /id="totp-secret" class="secret">([A-Z2-7]+)</);
    rememberSecret(secret);
    return { secret, pending: field(html, hiddenField("pending")), xsrf: field(html, hiddenField("_xsrf")) };
  };

  before(async () => {
    hub = await startTestHub({ auth: { totp: "optional" } }, { name: "totp-optional", clock });
    const admin = await firstAdmin(hub);
    ola = await addUser(hub, admin.client, "ola");
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("offers it on the home page, asks for the password and a code, then asks for codes at sign-in", async () => {
    assert.equal(ola.account.totpSecret, "", "set-up asked for no authenticator");
    const home = await ola.client.page("/hub/home");
    assert.match(home.html, /href="\/hub\/account\/authenticator"/);

    const oldCookie = ola.client.cookieHeader();
    const form = await enrolmentForm(ola.client);
    const at = new Date(Math.floor(clock.now().getTime() / STEP) * STEP);

    const wrongPassword = await ola.client.postForm("/hub/account/authenticator", {
      _xsrf: form.xsrf,
      pending: form.pending,
      password: "not-the-password",
      code: codeFor(form.secret, at),
    });
    assert.equal(wrongPassword.status, 401);
    assert.match(await wrongPassword.text(), /The password is not right/);

    const withoutXsrf = await ola.client.postForm("/hub/account/authenticator", {
      _xsrf: "forged",
      pending: form.pending,
      password: ola.account.password,
      code: codeFor(form.secret, at),
    });
    assert.equal(withoutXsrf.status, 403);

    const done = await ola.client.postForm("/hub/account/authenticator", {
      _xsrf: form.xsrf,
      pending: form.pending,
      password: ola.account.password,
      code: codeFor(form.secret, at),
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), "/hub/home");
    assert.notEqual(ola.client.cookieHeader(), oldCookie, "a new session replaces the old one");
    const old = await fetch(`${hub.url}/hub/api/user`, { headers: { cookie: oldCookie } });
    assert.equal(old.status, 401);

    const after = await ola.client.page("/hub/home");
    assert.doesNotMatch(after.html, /id="totp-offer"/);
    const again = await ola.client.page("/hub/account/authenticator");
    assert.match(again.html, /Your account has an authenticator/);

    // From now on, sign-in asks for a code from that authenticator.
    const browser = new HubClient(hub.url);
    clock.set(new Date(at.getTime() + 4 * STEP));
    const signedIn = await signIn(browser, { ...ola.account, totpSecret: form.secret }, clock.now());
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get("location"), "/hub/home");
    const who = await fetch(`${hub.url}/hub/api/user`, { headers: { cookie: browser.cookieHeader() } });
    assert.equal(who.status, 200);
  });

  it("turns away a visitor without a session", async () => {
    const res = await fetch(`${hub.url}/hub/account/authenticator`, { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.match(res.headers.get("location") ?? "", /^\/hub\/login\?next=%2Fhub%2Faccount%2Fauthenticator$/);
  });
});
