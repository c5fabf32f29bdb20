import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { account, OidcHub, signOutTarget } from "../support/oidc-hub.js";
import { pageOf } from "../support/oidc-test-provider-browser.js";
import { startServer } from "../support/start-server.js";
import { tokenFetch } from "../support/token-fetch.js";

// Signing out with a real OpenID provider: at the hub and on to the provider (RP-initiated), and
// at the provider, which tells the hub (back-channel logout). Each test signs in accounts of its
// own, so every provider session of theirs is one the hub knows.

const ACCOUNTS = ["alice", "bob", "dan", "kim", "lea"].map((name) =>
  account(`${name}-sub`, name, ["/sdcc/users"]),
);

describe("signing out with an OpenID provider", () => {
  let oidc: OidcHub;

  before(async () => {
    oidc = await OidcHub.start("oidc-logout", ACCOUNTS);
  });

  after(() => oidc.stop());

  it("ends every session of a person at the provider's back-channel logout, and ignores forged and replayed tokens", async () => {
    const first = await oidc.signedIn("dan-sub");
    const second = await oidc.signedIn("dan-sub");
    const forged = await oidc.logoutToken({ aud: "someone-else", jti: "forged-1", sub: "dan-sub" });
    assert.equal((await oidc.postLogoutToken(forged)).status, 400);
    assert.ok(await oidc.me(first), "a forged token changes nothing");
    await oidc.provider.backchannelLogout("slipway", "dan-sub");
    assert.equal(await oidc.me(first), undefined);
    assert.equal(await oidc.me(second), undefined);
    const valid = await oidc.logoutToken({ jti: "once-only", sub: "bob-sub" });
    assert.equal((await oidc.postLogoutToken(valid)).status, 200);
    assert.equal((await oidc.postLogoutToken(valid)).status, 400, "a replayed logout token is refused");
  });

  it("refuses a logout token with a nonce, without the logout event, with the wrong typ, a sid never issued, no sub or sid, or too old", async () => {
    const bob = await oidc.signedIn("bob-sub");
    const old = Math.floor(Date.now() / 1000) - 3600;
    const bad: [string, Record<string, unknown>, string?][] = [
      ["a nonce", { jti: "n-1", sub: "bob-sub", nonce: "n" }],
      ["no events", { jti: "n-2", sub: "bob-sub", events: undefined }],
      ["another event", { jti: "n-3", sub: "bob-sub", events: { "urn:other": {} } }],
      ["the wrong typ", { jti: "n-4", sub: "bob-sub" }, "JWT"],
      ["a sid this hub never started", { jti: "n-5", sub: "bob-sub", sid: "no-such-sid" }],
      ["no sub and no sid", { jti: "n-6" }],
      ["an old iat", { jti: "n-7", sub: "bob-sub", iat: old }],
    ];
    for (const [what, claims, typ] of bad) {
      assert.equal((await oidc.postLogoutToken(await oidc.logoutToken(claims, typ))).status, 400, what);
    }
    assert.ok(await oidc.me(bob), "no refused token ended bob's session");
  });

  it(
    "closes an open kernel websocket within a second of the provider's back-channel logout",
    { timeout: 60_000 },
    async () => {
      const b = await oidc.signedIn("kim-sub");
      const { hub } = oidc;
      const home = pageOf(await b.open(`${hub.url}/hub/home`));
      const xsrf = /name="slipway-xsrf" content="([^"]+)"/.exec(home.html)?.[1] ?? "";
      const made = await oidc.fetchAs(b, "/hub/api/users/kim/tokens", {
        method: "POST",
        headers: { "content-type": "application/json", origin: hub.url, "x-xsrf-token": xsrf },
        body: JSON.stringify({ note: "kernel" }),
      });
      assert.equal(made.status, 201);
      const token = ((await made.json()) as { token: string }).token;
      await startServer(hub.url, token, "kim");
      try {
        const kernel = await tokenFetch(hub.url, token, "POST", "/user/kim/api/kernels", { name: "python3" });
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
            Promise.all([closed, oidc.provider.backchannelLogout("slipway", "kim-sub")]),
            limit,
          ]);
        } finally {
          clearTimeout(timer);
        }
        assert.equal(await oidc.me(b), undefined);
      } finally {
        await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/kim/server").catch(() => undefined);
      }
    },
  );

  it("signs out at the hub, then at the provider with id_token_hint", async () => {
    const b = await oidc.signedIn("alice-sub");
    const location = await signOutTarget(await oidc.signOut(b));
    assert.equal(location.origin, oidc.provider.issuer);
    assert.ok(location.searchParams.get("id_token_hint"));
    assert.equal(location.searchParams.get("post_logout_redirect_uri"), `${oidc.hub.url}/hub/logged-out`);
    assert.equal(await oidc.me(b), undefined);
  });

  it("goes on to the provider's sign-out from a hub that has not asked the provider anything since it started", async () => {
    const b = await oidc.signedIn("alice-sub");
    // A second hub over the same data directory stands for this one after a restart.
    const restarted = await oidc.otherHub("oidc-restarted", {}, { dataDir: oidc.hub.dataDir });
    try {
      const location = await signOutTarget(await oidc.signOut(b, restarted.url));
      assert.equal(location.origin, oidc.provider.issuer);
      assert.ok(location.searchParams.get("id_token_hint"));
    } finally {
      await restarted.stop();
    }
  });

  it("answers the provider's logout of a session the hub has already ended as done (200)", async () => {
    const b = await oidc.signedIn("lea-sub");
    const [sid] = oidc.provider.sids("lea-sub", "slipway");
    assert.ok(sid);
    await oidc.signOut(b);
    const token = await oidc.logoutToken({ jti: "after-sign-out", sub: "lea-sub", sid });
    const answer = await oidc.postLogoutToken(token);
    assert.equal(answer.status, 200, await answer.text());
  });
});
