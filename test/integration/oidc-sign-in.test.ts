import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  LOA1,
  LOA2,
  TAMPER_KINDS,
  startTestProvider,
  type TestAccount,
  type TestProvider,
} from "../support/oidc-test-provider.js";
import { callbackOf, FormBrowser, pageOf, type Landing } from "../support/oidc-test-provider-browser.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { startServer } from "../support/start-server.js";
import { tokenFetch } from "../support/token-fetch.js";

// Sign-in through a real OpenID provider (oidc-provider on loopback): the hub as relying party,
// every check it makes refused with a page, an audit event and no session.

const SECRET = "slipway-oidc-test-secret";
const OTP = "424242";
const account = (
  sub: string,
  name: string,
  groups: string[],
  extra: Record<string, unknown> = {},
): TestAccount => ({
  sub,
  password: `${sub}-password`,
  otp: OTP,
  claims: {
    preferred_username: name,
    name: `${name} (display)`,
    email: `${name}@example.org`,
    groups,
    ...extra,
  },
});
const ACCOUNTS = [
  account("alice-sub", "alice", ["/sdcc/users", "/sdcc/gpu"]),
  account("bob-sub", "bob", ["/sdcc/users", "/sdcc/admins"]),
  account("carol-sub", "carol", ["/sdcc/users"], { identity_provider: "cilogon" }),
  account("eve-sub", "eve", ["/elsewhere"]),
  account("mallory-sub", "Alice", ["/sdcc/users"]),
  account("odd-sub", "odd@example.org", ["/sdcc/users"]),
  // Signed in only by the back-channel tests, so each of their provider sessions is one of the hub's.
  account("dan-sub", "dan", ["/sdcc/users"]),
  account("kim-sub", "kim", ["/sdcc/users"]),
  account("lea-sub", "lea", ["/sdcc/users"]),
];

interface Me {
  name: string;
  admin: boolean;
  groups?: string[];
}

/** Where a sign-out goes on to: the page the hub answers with refreshes to it (and links it). */
async function signOutTarget(res: Response): Promise<URL> {
  assert.equal(res.status, 200);
  const page = await res.text();
  const href = /<meta http-equiv="refresh" content="0;url=([^"]+)" \/>/.exec(page)?.[1];
  assert.ok(href, page);
  return new URL(href.replaceAll("&amp;", "&"));
}

describe("signing in through an OpenID provider", () => {
  let provider: TestProvider;
  let hub: TestHub;
  let secretDir: string;

  before(async () => {
    provider = await startTestProvider({ clients: [], accounts: ACCOUNTS });
    secretDir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
    writeFileSync(join(secretDir, "secret"), `${SECRET}\n`, { mode: 0o600 });
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
          access: {
            allowedGroups: ["/sdcc/users"],
            adminGroups: ["/sdcc/admins"],
            groupMap: { "/sdcc/gpu": "gpu" },
          },
          zones: { external: { identityProviders: ["cilogon"] } },
        },
      },
      { name: "oidc-sign-in" },
    );
    provider.setClient({
      clientId: "slipway",
      clientSecret: SECRET,
      redirectUris: [`${hub.url}/hub/oauth_callback`],
      postLogoutRedirectUris: [`${hub.url}/hub/logged-out`],
      backchannelLogoutUri: `${hub.url}/hub/oidc/backchannel-logout`,
    });
  });

  after(async () => {
    await hub.stop();
    await provider.close();
    removeDir(hub.dataDir);
    removeDir(secretDir);
  });

  /** A cookie-jar browser that stops at the hub's callback, so tests can look at it or change it. */
  const browser = () => new FormBrowser((url) => url.href.startsWith(`${hub.url}/hub/oauth_callback`));

  /** Goes to the provider through /hub/oauth_login and signs in at its form; returns the callback URL. */
  async function toCallback(b: FormBrowser, sub: string, password = `${sub}-password`): Promise<URL> {
    const form = pageOf(await b.open(`${hub.url}/hub/oauth_login`));
    assert.match(form.html, /name="otp"/, "the hub asks the provider for the second factor");
    return callbackOf(await b.submit(form, { username: sub, password, otp: OTP }));
  }

  /** Brings the provider's answer to the hub (the browser stops before it), then follows on. */
  async function deliver(b: FormBrowser, callback: URL): Promise<Landing> {
    const res = await b.fetch(callback);
    const location = res.headers.get("location");
    if (location === null) return { page: { url: callback, status: res.status, html: await res.text() } };
    await res.body?.cancel();
    return b.open(new URL(location, callback));
  }

  async function me(b: FormBrowser): Promise<Me | undefined> {
    const landing = await b.open(`${hub.url}/hub/api/user`);
    const page = pageOf(landing);
    return page.status === 200 ? (JSON.parse(page.html) as Me) : undefined;
  }

  async function signedIn(sub: string): Promise<FormBrowser> {
    const b = browser();
    const home = pageOf(await deliver(b, await toCallback(b, sub)));
    assert.equal(home.status, 200, home.html);
    assert.equal(home.url.pathname, "/hub/home");
    return b;
  }

  const refusal = (landing: Landing) => {
    const page = pageOf(landing);
    return { status: page.status, code: /data-code="([a-z_]+)"/.exec(page.html)?.[1] };
  };

  it("starts at /hub/oauth_login, asks for the required level, and signs the person in as the provider says", async () => {
    const b = await signedIn("alice-sub");
    const alice = await me(b);
    assert.equal(alice?.name, "alice");
    assert.equal(alice?.admin, false);
    assert.deepEqual(alice?.groups, ["gpu", "sdcc.users"]);
    const bob = await me(await signedIn("bob-sub"));
    assert.equal(bob?.admin, true, "a member of an admin group is admin");
  });

  it("keeps the zone of a person brokered by an external identity provider", async () => {
    const b = await signedIn("carol-sub");
    const user = (await (await fetchAs(b, "/hub/api/user")).json()) as { slipway?: { zone?: string } };
    assert.equal(user.slipway?.zone, "external");
  });

  it("takes group changes at the provider at the next sign-in", async () => {
    provider.setAccount(account("alice-sub", "alice", ["/sdcc/users"]));
    try {
      assert.deepEqual((await me(await signedIn("alice-sub")))?.groups, ["sdcc.users"]);
    } finally {
      provider.setAccount(ACCOUNTS[0] as TestAccount);
    }
  });

  it("refuses a sign-in below the required authentication level, with a page that says why", async () => {
    provider.forceAcr(LOA1);
    try {
      const b = browser();
      const form = pageOf(await b.open(`${hub.url}/hub/oauth_login`));
      const landing = await deliver(
        b,
        callbackOf(await b.submit(form, { username: "alice-sub", password: "alice-sub-password", otp: OTP })),
      );
      assert.deepEqual(refusal(landing), { status: 403, code: "insufficient_authentication" });
      assert.equal(await me(b), undefined);
    } finally {
      provider.forceAcr(undefined);
    }
  });

  it("refuses someone outside the allowed groups, and a name that maps onto another person's account", async () => {
    const b = browser();
    assert.deepEqual(refusal(await deliver(b, await toCallback(b, "eve-sub"))), {
      status: 403,
      code: "not_in_allowed_group",
    });
    await signedIn("alice-sub");
    const m = browser();
    assert.deepEqual(refusal(await deliver(m, await toCallback(m, "mallory-sub"))), {
      status: 403,
      code: "name_collision",
    });
    assert.equal(await me(m), undefined);
    const o = browser();
    assert.deepEqual(refusal(await deliver(o, await toCallback(o, "odd-sub"))), {
      status: 401,
      code: "idp_claim_missing",
    });
  });

  it("refuses a replayed code and a callback with a state it did not send", async () => {
    const b = browser();
    const callback = await toCallback(b, "alice-sub");
    assert.equal(pageOf(await deliver(b, callback)).url.pathname, "/hub/home");
    const again = browser();
    assert.deepEqual(refusal(await deliver(again, callback)), { status: 400, code: "sign_in_state_invalid" });
    const c = browser();
    const forged = await toCallback(c, "alice-sub");
    forged.searchParams.set("state", "not-the-state");
    const landing = refusal(await deliver(c, forged));
    assert.equal(landing.status, 401);
    assert.equal(await me(c), undefined);
  });

  for (const kind of TAMPER_KINDS) {
    it(`refuses an answer from the provider with ${kind}`, async () => {
      const b = browser();
      const callback = await toCallback(b, "alice-sub");
      provider.tamper(kind);
      try {
        const landing = refusal(await deliver(b, callback));
        assert.equal(landing.status, 401, `${kind}: ${JSON.stringify(landing)}`);
        assert.equal(landing.code, "idp_token_invalid");
        assert.equal(await me(b), undefined);
      } finally {
        provider.tamper(undefined);
      }
    });
  }

  it("ends every session of a person at the provider's back-channel logout, and ignores forged and replayed tokens", async () => {
    const first = await signedIn("dan-sub");
    const second = await signedIn("dan-sub");
    const forged = await provider.sign(
      {
        iss: provider.issuer,
        aud: "someone-else",
        iat: Math.floor(Date.now() / 1000),
        jti: "forged-1",
        sub: "dan-sub",
        events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      },
      { typ: "logout+jwt" },
    );
    assert.equal((await postLogoutToken(forged)).status, 400);
    assert.ok(await me(first), "a forged token changes nothing");
    await provider.backchannelLogout("slipway", "dan-sub");
    assert.equal(await me(first), undefined);
    assert.equal(await me(second), undefined);
    const valid = await provider.sign(
      {
        iss: provider.issuer,
        aud: "slipway",
        iat: Math.floor(Date.now() / 1000),
        jti: "once-only",
        sub: "bob-sub",
        events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      },
      { typ: "logout+jwt" },
    );
    assert.equal((await postLogoutToken(valid)).status, 200);
    assert.equal((await postLogoutToken(valid)).status, 400, "a replayed logout token is refused");
    const event = { "http://schemas.openid.net/event/backchannel-logout": {} };
    const base = { iss: provider.issuer, aud: "slipway", iat: Math.floor(Date.now() / 1000), sub: "bob-sub" };
    const bad: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ["a nonce", { ...base, jti: "n-1", events: event, nonce: "n" }, { typ: "logout+jwt" }],
      ["no events", { ...base, jti: "n-2" }, { typ: "logout+jwt" }],
      ["another event", { ...base, jti: "n-3", events: { "urn:other": {} } }, { typ: "logout+jwt" }],
      ["the wrong typ", { ...base, jti: "n-4", events: event }, { typ: "JWT" }],
      [
        "a sid this hub never started",
        { ...base, jti: "n-5", events: event, sid: "no-such-sid" },
        { typ: "logout+jwt" },
      ],
      [
        "no sub and no sid",
        { iss: base.iss, aud: base.aud, iat: base.iat, jti: "n-6", events: event },
        { typ: "logout+jwt" },
      ],
      ["an old iat", { ...base, iat: base.iat - 3600, jti: "n-7", events: event }, { typ: "logout+jwt" }],
    ];
    const bob = await signedIn("bob-sub");
    for (const [what, claims, header] of bad) {
      assert.equal((await postLogoutToken(await provider.sign(claims, header))).status, 400, what);
    }
    assert.ok(await me(bob), "no refused token ended bob's session");
  });

  it(
    "closes an open kernel websocket within a second of the provider's back-channel logout",
    { timeout: 60_000 },
    async () => {
      const b = await signedIn("kim-sub");
      const home = pageOf(await b.open(`${hub.url}/hub/home`));
      const xsrf = /name="slipway-xsrf" content="([^"]+)"/.exec(home.html)?.[1] ?? "";
      const made = await fetchAs(b, "/hub/api/users/kim/tokens", {
        method: "POST",
        headers: { "content-type": "application/json", origin: hub.url, "x-xsrf-token": xsrf },
        body: JSON.stringify({ note: "kernel" }),
      });
      assert.equal(made.status, 201);
      const token = ((await made.json()) as { token: string }).token;
      await startServer(hub.url, token, "kim");
      try {
        const kernel = await tokenFetch(hub.url, token, "POST", "/user/kim/api/kernels", {
          name: "python3",
        });
        const id = ((await kernel.json()) as { id: string }).id;
        const url = `${hub.url.replace("http", "ws")}/user/kim/api/kernels/${id}/channels`;
        const ws = new WebSocket(url, { headers: { cookie: b.cookieHeader(), origin: hub.url } });
        await once(ws, "open");
        const closed = once(ws, "close");
        // The bound starts before the provider is asked: its logout and the close must both fit in it.
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("the websocket was still open 1 s after the logout")),
            1000,
          );
        });
        try {
          await Promise.race([
            Promise.all([closed, provider.backchannelLogout("slipway", "kim-sub")]),
            limit,
          ]);
        } finally {
          clearTimeout(timer);
        }
        assert.equal(await me(b), undefined);
      } finally {
        await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/kim/server").catch(() => undefined);
      }
    },
  );

  it("shows a button at /hub/login, or with autoLogin goes straight to the provider", async () => {
    const page = await fetch(`${hub.url}/hub/login?next=%2Fhub%2Ftokens`, { redirect: "manual" });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="provider-sign-in" href="\/hub\/oauth_login\?next=%2Fhub%2Ftokens"/);
    const auto = await startTestHub(
      {
        auth: {
          type: "oidc",
          oidc: {
            issuer: provider.issuer,
            clientId: "slipway",
            clientSecretFile: join(secretDir, "secret"),
            autoLogin: true,
          },
        },
      },
      { name: "oidc-auto-login" },
    );
    try {
      const res = await fetch(`${auto.url}/hub/login`, { redirect: "manual" });
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get("location") ?? "");
      assert.equal(location.origin, provider.issuer);
      assert.equal(location.searchParams.get("code_challenge_method"), "S256");
      assert.ok(location.searchParams.get("state") && location.searchParams.get("nonce"));
    } finally {
      await auto.stop();
      removeDir(auto.dataDir);
    }
  });

  it("slows down an address that only begins sign-ins, before it fills the store", async () => {
    const other = await startTestHub(
      {
        auth: {
          type: "oidc",
          oidc: { issuer: provider.issuer, clientId: "slipway", clientSecretFile: join(secretDir, "secret") },
        },
      },
      { name: "oidc-begin-flood" },
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${other.url}/hub/oauth_login`, { redirect: "manual" });
        await res.body?.cancel();
        statuses.push(res.status);
      }
      assert.deepEqual(new Set(statuses), new Set([302]));
      const last = await fetch(`${other.url}/hub/oauth_login`, { redirect: "manual" });
      assert.equal(last.status, 429);
      assert.ok(Number(last.headers.get("retry-after")) > 0);
      assert.match(await last.text(), /data-code="too_many_attempts"/);
    } finally {
      await other.stop();
      removeDir(other.dataDir);
    }
  });

  it("takes ID tokens signed with a key the provider rotated to", async () => {
    await signedIn("alice-sub");
    await provider.rotateKeys();
    assert.equal((await me(await signedIn("alice-sub")))?.name, "alice");
  });

  it("records every sign-in and every refusal, with its reason, in the audit trail", async () => {
    const eve = browser();
    await deliver(eve, await toCallback(eve, "eve-sub"));
    const admin = await signedIn("bob-sub");
    const res = await fetchAs(admin, "/hub/api/audit?kind=sign_in_refused&kind=sign_in&limit=500");
    assert.equal(res.status, 200);
    const { events } = (await res.json()) as {
      events: {
        kind: string;
        actor: string | null;
        subject: string | null;
        reason: string | null;
        details: { method?: string };
      }[];
    };
    const refused = events.find((e) => e.kind === "sign_in_refused" && e.subject === "eve");
    assert.equal(refused?.reason, "not_in_allowed_group");
    assert.ok(events.some((e) => e.kind === "sign_in_refused" && e.reason === "idp_token_invalid"));
    assert.ok(events.some((e) => e.kind === "sign_in_refused" && e.reason === "insufficient_authentication"));
    const signIn = events.find((e) => e.kind === "sign_in" && e.actor === "bob");
    assert.equal(signIn?.details.method, "oidc");
    assert.doesNotMatch(JSON.stringify(events), /eyJ[A-Za-z0-9_-]{20,}/, "no token in the trail");
  });

  it("signs out at the hub, then at the provider with id_token_hint", async () => {
    const b = await signedIn("alice-sub");
    const home = pageOf(await b.open(`${hub.url}/hub/logout`));
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(home.html)?.[1] ?? "";
    const out = await fetchAs(b, "/hub/logout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: hub.url },
      body: `_xsrf=${encodeURIComponent(xsrf)}`,
      redirect: "manual",
    });
    const location = await signOutTarget(out);
    assert.equal(location.origin, provider.issuer);
    assert.ok(location.searchParams.get("id_token_hint"));
    assert.equal(location.searchParams.get("post_logout_redirect_uri"), `${hub.url}/hub/logged-out`);
    assert.equal(await me(b), undefined);
  });

  it("goes on to the provider's sign-out from a hub that has not asked the provider anything since it started", async () => {
    const b = await signedIn("alice-sub");
    // A second hub over the same data directory stands for this one after a restart.
    const restarted = await startTestHub(
      {
        auth: {
          type: "oidc",
          oidc: { issuer: provider.issuer, clientId: "slipway", clientSecretFile: join(secretDir, "secret") },
        },
      },
      { name: "oidc-restarted", dataDir: hub.dataDir },
    );
    try {
      const page = await b.fetch(`${restarted.url}/hub/logout`);
      const xsrf = /name="_xsrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
      const out = await b.fetch(`${restarted.url}/hub/logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: restarted.url },
        body: `_xsrf=${encodeURIComponent(xsrf)}`,
      });
      const location = await signOutTarget(out);
      assert.equal(location.origin, provider.issuer);
      assert.ok(location.searchParams.get("id_token_hint"));
    } finally {
      await restarted.stop();
    }
  });

  it("answers the provider's logout of a session the hub has already ended as done (200)", async () => {
    const b = await signedIn("lea-sub");
    const [sid] = provider.sids("lea-sub", "slipway");
    assert.ok(sid);
    const page = await fetchAs(b, "/hub/logout");
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    await fetchAs(b, "/hub/logout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: hub.url },
      body: `_xsrf=${encodeURIComponent(xsrf)}`,
    });
    const token = await provider.sign(
      {
        iss: provider.issuer,
        aud: "slipway",
        iat: Math.floor(Date.now() / 1000),
        jti: "after-sign-out",
        sub: "lea-sub",
        sid,
        events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      },
      { typ: "logout+jwt" },
    );
    const answer = await postLogoutToken(token);
    assert.equal(answer.status, 200, await answer.text());
  });

  async function postLogoutToken(token: string): Promise<Response> {
    return fetch(`${hub.url}/hub/oidc/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }),
    });
  }

  /** A request with the browser's cookies (the FormBrowser keeps them; this reads them through a page). */
  async function fetchAs(b: FormBrowser, path: string, init: RequestInit = {}): Promise<Response> {
    return b.fetch(`${hub.url}${path}`, init);
  }
});

describe("an OpenID provider that answers with something else than its discovery document", () => {
  for (const [what, body] of [
    ["not JSON", "<html>maintenance</html>"],
    ["another issuer", JSON.stringify({ issuer: "https://elsewhere.example", authorization_endpoint: "x" })],
  ] as const) {
    it(`says so on a page when it is ${what}, and keeps serving the hub`, async () => {
      const bad = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(body),
      );
      bad.listen(0, "127.0.0.1");
      await once(bad, "listening");
      const address = bad.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const dir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
      writeFileSync(join(dir, "secret"), "x\n", { mode: 0o600 });
      const hub = await startTestHub(
        {
          auth: {
            type: "oidc",
            oidc: {
              issuer: `http://127.0.0.1:${port}`,
              clientId: "slipway",
              clientSecretFile: join(dir, "secret"),
            },
          },
        },
        { name: "oidc-bad-discovery" },
      );
      try {
        const res = await fetch(`${hub.url}/hub/oauth_login`, { redirect: "manual" });
        assert.equal(res.status, 503);
        assert.match(await res.text(), /data-code="idp_discovery_invalid"/);
        assert.equal((await fetch(`${hub.url}/hub/api/`)).status, 200);
      } finally {
        await hub.stop();
        bad.close();
        removeDir(hub.dataDir);
        removeDir(dir);
      }
    });
  }
});

describe("an OpenID provider that cannot be reached", () => {
  it("says so on a page and keeps serving the hub", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
    writeFileSync(join(dir, "secret"), "x\n", { mode: 0o600 });
    const hub = await startTestHub(
      {
        auth: {
          type: "oidc",
          oidc: { issuer: "http://127.0.0.1:9", clientId: "slipway", clientSecretFile: join(dir, "secret") },
        },
      },
      { name: "oidc-unreachable" },
    );
    try {
      const res = await fetch(`${hub.url}/hub/oauth_login`, { redirect: "manual" });
      assert.equal(res.status, 503);
      assert.match(await res.text(), /identity provider does not answer/);
      assert.equal((await fetch(`${hub.url}/hub/api/`)).status, 200);
    } finally {
      await hub.stop();
      removeDir(hub.dataDir);
      removeDir(dir);
    }
  });
});
