import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { account, OidcHub, OTP, refusal } from "../support/oidc-hub.js";
import { LOA1, TAMPER_KINDS, type TestAccount } from "../support/oidc-test-provider.js";
import { callbackOf, pageOf } from "../support/oidc-test-provider-browser.js";
import { removeDir } from "../support/test-hub.js";

// Sign-in through a real OpenID provider (oidc-provider on loopback): the hub as relying party,
// every check it makes refused with a page, an audit event and no session.

const ALICE = account("alice-sub", "alice", ["/sdcc/users", "/sdcc/gpu"]);
const ACCOUNTS: TestAccount[] = [
  ALICE,
  account("bob-sub", "bob", ["/sdcc/users", "/sdcc/admins"]),
  account("carol-sub", "carol", ["/sdcc/users"], { identity_provider: "cilogon" }),
  account("eve-sub", "eve", ["/elsewhere"]),
  account("mallory-sub", "Alice", ["/sdcc/users"]),
  account("odd-sub", "odd@example.org", ["/sdcc/users"]),
];

describe("signing in through an OpenID provider", () => {
  let oidc: OidcHub;

  before(async () => {
    oidc = await OidcHub.start("oidc-sign-in", ACCOUNTS);
  });

  after(() => oidc.stop());

  it("starts at /hub/oauth_login, asks for the required level, and signs the person in as the provider says", async () => {
    const alice = await oidc.me(await oidc.signedIn("alice-sub"));
    assert.equal(alice?.name, "alice");
    assert.equal(alice?.admin, false);
    assert.deepEqual(alice?.groups, ["gpu", "sdcc.users"]);
    const bob = await oidc.me(await oidc.signedIn("bob-sub"));
    assert.equal(bob?.admin, true, "a member of an admin group is admin");
  });

  it("keeps the zone of a person brokered by an external identity provider", async () => {
    assert.equal((await oidc.me(await oidc.signedIn("carol-sub")))?.slipway?.zone, "external");
  });

  it("takes group changes at the provider at the next sign-in", async () => {
    oidc.provider.setAccount(account("alice-sub", "alice", ["/sdcc/users"]));
    try {
      assert.deepEqual((await oidc.me(await oidc.signedIn("alice-sub")))?.groups, ["sdcc.users"]);
    } finally {
      oidc.provider.setAccount(ALICE);
    }
  });

  it("refuses a sign-in below the required authentication level, with a page that says why", async () => {
    oidc.provider.forceAcr(LOA1);
    try {
      const b = oidc.browser();
      const form = pageOf(await b.open(`${oidc.hub.url}/hub/oauth_login`));
      const fields = { username: "alice-sub", password: "alice-sub-password", otp: OTP };
      const landing = await oidc.deliver(b, callbackOf(await b.submit(form, fields)));
      assert.deepEqual(refusal(landing), { status: 403, code: "insufficient_authentication" });
      assert.equal(await oidc.me(b), undefined);
    } finally {
      oidc.provider.forceAcr(undefined);
    }
  });

  it("refuses someone outside the allowed groups, a name that maps onto another person's account, and a name the hub cannot use", async () => {
    await oidc.signedIn("alice-sub");
    for (const [sub, status, code] of [
      ["eve-sub", 403, "not_in_allowed_group"],
      ["mallory-sub", 403, "name_collision"],
      ["odd-sub", 401, "idp_claim_missing"],
    ] as const) {
      const b = oidc.browser();
      assert.deepEqual(refusal(await oidc.deliver(b, await oidc.toCallback(b, sub))), { status, code });
      assert.equal(await oidc.me(b), undefined);
    }
  });

  it("refuses a replayed code and a callback with a state it did not send", async () => {
    const b = oidc.browser();
    const callback = await oidc.toCallback(b, "alice-sub");
    assert.equal(pageOf(await oidc.deliver(b, callback)).url.pathname, "/hub/home");
    const again = oidc.browser();
    assert.deepEqual(refusal(await oidc.deliver(again, callback)), {
      status: 400,
      code: "sign_in_state_invalid",
    });
    const c = oidc.browser();
    const forged = await oidc.toCallback(c, "alice-sub");
    forged.searchParams.set("state", "not-the-state");
    assert.equal(refusal(await oidc.deliver(c, forged)).status, 401);
    assert.equal(await oidc.me(c), undefined);
  });

  for (const kind of TAMPER_KINDS) {
    it(`refuses an answer from the provider with ${kind}`, async () => {
      const b = oidc.browser();
      const callback = await oidc.toCallback(b, "alice-sub");
      oidc.provider.tamper(kind);
      try {
        const landing = refusal(await oidc.deliver(b, callback));
        assert.deepEqual(landing, { status: 401, code: "idp_token_invalid" }, kind);
        assert.equal(await oidc.me(b), undefined);
      } finally {
        oidc.provider.tamper(undefined);
      }
    });
  }

  it("shows a button at /hub/login, or with autoLogin goes straight to the provider", async () => {
    const page = await fetch(`${oidc.hub.url}/hub/login?next=%2Fhub%2Ftokens`, { redirect: "manual" });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="provider-sign-in" href="\/hub\/oauth_login\?next=%2Fhub%2Ftokens"/);
    const auto = await oidc.otherHub("oidc-auto-login", { autoLogin: true });
    try {
      const res = await fetch(`${auto.url}/hub/login`, { redirect: "manual" });
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get("location") ?? "");
      assert.equal(location.origin, oidc.provider.issuer);
      assert.equal(location.searchParams.get("code_challenge_method"), "S256");
      assert.ok(location.searchParams.get("state") && location.searchParams.get("nonce"));
    } finally {
      await auto.stop();
      removeDir(auto.dataDir);
    }
  });

  it("slows down an address that only begins sign-ins, before it fills the store", async () => {
    const other = await oidc.otherHub("oidc-begin-flood", {});
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
    await oidc.signedIn("alice-sub");
    await oidc.provider.rotateKeys();
    assert.equal((await oidc.me(await oidc.signedIn("alice-sub")))?.name, "alice");
  });

  it("records every sign-in and every refusal, with its reason, in the audit trail", async () => {
    const eve = oidc.browser();
    await oidc.deliver(eve, await oidc.toCallback(eve, "eve-sub"));
    const admin = await oidc.signedIn("bob-sub");
    const res = await oidc.fetchAs(admin, "/hub/api/audit?kind=sign_in_refused&kind=sign_in&limit=500");
    assert.equal(res.status, 200);
    type Event = { kind: string; actor: string | null; subject: string | null; reason: string | null };
    const { events } = (await res.json()) as { events: (Event & { details: { method?: string } })[] };
    const refused = events.find((e) => e.kind === "sign_in_refused" && e.subject === "eve");
    assert.equal(refused?.reason, "not_in_allowed_group");
    assert.ok(events.some((e) => e.kind === "sign_in_refused" && e.reason === "idp_token_invalid"));
    assert.ok(events.some((e) => e.kind === "sign_in_refused" && e.reason === "insufficient_authentication"));
    const signIn = events.find((e) => e.kind === "sign_in" && e.actor === "bob");
    assert.equal(signIn?.details.method, "oidc");
    assert.doesNotMatch(JSON.stringify(events), /eyJ[A-Za-z0-9_-]{20,}/, "no token in the trail");
  });
});
