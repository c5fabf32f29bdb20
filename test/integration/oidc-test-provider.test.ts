import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import * as jose from "jose";
import * as client from "openid-client";
import {
  LOA1,
  LOA2,
  TAMPER_KINDS,
  startTestProvider,
  type TamperKind,
  type TestAccount,
  type TestClient,
  type TestProvider,
} from "../support/oidc-test-provider.js";
import { callbackOf, FormBrowser, pageOf } from "../support/oidc-test-provider-browser.js";

// The fixture is proven with openid-client as the relying party, as the hub uses it: discovery,
// the code flow with PKCE through its HTML form, step-up, each tampered token refused, and its
// logout tokens verified as reference §3 says.

const CLIENT: TestClient = {
  clientId: "slipway",
  clientSecret: "slipway-test-secret",
  // Never fetched: the browser below stops at the first redirect that leads here.
  redirectUris: ["http://127.0.0.1:8000/hub/oauth_callback"],
  postLogoutRedirectUris: ["http://127.0.0.1:8000/hub/logged-out"],
};
const [REDIRECT = "", LOGGED_OUT = ""] = [...CLIENT.redirectUris, ...CLIENT.postLogoutRedirectUris];
const ALICE_GROUPS = ["/sdcc/users", "/sdcc/gpu"];
const ACCOUNTS: TestAccount[] = [
  {
    sub: "alice",
    password: "alice-password",
    otp: "123456",
    claims: { preferred_username: "alice", groups: ALICE_GROUPS },
  },
  {
    sub: "bob-sub",
    password: "bob-password",
    claims: { preferred_username: "bob", groups: ["/sdcc/users"] },
  },
  {
    sub: "carol",
    password: "carol-password",
    claims: { preferred_username: "carol", identity_provider: "cilogon" },
  },
];
/** What a person types into the form. */
type Credentials = Record<"username" | "password", string> & { otp?: string };
const ALICE: Credentials = { username: "alice", password: "alice-password", otp: "123456" };

/** A cookie-jar browser that stops at the relying party's pages. */
function newBrowser(): FormBrowser {
  return new FormBrowser((url) => url.href.startsWith(REDIRECT) || url.href.startsWith(LOGGED_OUT));
}

/** A member of the JSON object `text`. */
function member(text: string | undefined, name: string): unknown {
  const value: unknown = JSON.parse(text ?? "{}");
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

interface Rp {
  readonly config: client.Configuration;
  readonly jwksUri: URL;
  /** The last token and userinfo answers, as the provider sent them. */
  readonly seen: { token?: string; userinfo?: string };
}

async function publishedKeys(rp: Rp): Promise<jose.JWK[]> {
  const keys = member(await (await fetch(rp.jwksUri)).text(), "keys");
  assert.ok(Array.isArray(keys));
  return keys;
}

async function relyingParty(provider: TestProvider): Promise<Rp> {
  const config = await client.discovery(
    new URL(provider.issuer),
    CLIENT.clientId,
    undefined,
    client.ClientSecretBasic(CLIENT.clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  client.enableNonRepudiationChecks(config);
  const seen: Rp["seen"] = {};
  config[client.customFetch] = async (url, options) => {
    const res = await fetch(url, options);
    const path = new URL(url).pathname;
    if (path === "/token") seen.token = await res.clone().text();
    if (path === "/me") seen.userinfo = await res.clone().text();
    return res;
  };
  return { config, seen, jwksUri: new URL(config.serverMetadata().jwks_uri ?? "") };
}

async function authorization(rp: Rp, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const [state, nonce] = [client.randomState(), client.randomNonce()];
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: REDIRECT,
    scope: "openid profile email groups",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  const checks = {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  };
  return { url, nonce, grant: (callback: URL) => client.authorizationCodeGrant(rp.config, callback, checks) };
}

/** A full sign-in through the form (when the provider shows it) to the ID token's claims. */
async function signIn(rp: Rp, browser: FormBrowser, extra: Record<string, string> = {}, account = ALICE) {
  const auth = await authorization(rp, extra);
  let landing = await browser.open(auth.url);
  if ("page" in landing) landing = await browser.submit(landing.page, account);
  const tokens = await auth.grant(callbackOf(landing));
  const claims = tokens.claims();
  assert.ok(claims !== undefined);
  return { tokens, claims };
}

/** A loopback back-channel logout endpoint; `next()` resolves with the next logout token it got. */
async function logoutListener(): Promise<{ server: Server; url: string; next(): Promise<string> }> {
  const tokens: string[] = [];
  const waiting: (() => void)[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      tokens.push(new URLSearchParams(body).get("logout_token") ?? "");
      res.writeHead(200, { "cache-control": "no-store" }).end();
      waiting.shift()?.();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  const next = async (): Promise<string> => {
    if (tokens.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    return tokens.shift() ?? "";
  };
  return { server, url: `http://127.0.0.1:${address.port}/hub/oidc/backchannel-logout`, next };
}

/** The checks of reference §3, with jose. */
async function verifyLogoutToken(provider: TestProvider, rp: Rp, token: string) {
  const { payload } = await jose.jwtVerify(token, jose.createRemoteJWKSet(rp.jwksUri), {
    issuer: provider.issuer,
    audience: CLIENT.clientId,
    typ: "logout+jwt",
    maxTokenAge: "2m",
    requiredClaims: ["iat", "jti", "exp"],
  });
  const events = payload["events"];
  assert.ok(typeof events === "object" && events !== null);
  assert.deepEqual(Reflect.get(events, "http://schemas.openid.net/event/backchannel-logout"), {});
  assert.ok(!("nonce" in payload));
  return payload;
}

describe("the OIDC test provider", () => {
  let provider: TestProvider;
  let rp: Rp;
  let bcl: Awaited<ReturnType<typeof logoutListener>>;

  before(async () => {
    bcl = await logoutListener();
    provider = await startTestProvider({ clients: [CLIENT], accounts: ACCOUNTS });
    // The listener's port is known only now, as a hub's would be.
    provider.setClient({ ...CLIENT, backchannelLogoutUri: bcl.url });
    rp = await relyingParty(provider);
  });

  after(async () => {
    await provider.close();
    bcl.server.close();
  });

  it("publishes discovery that openid-client accepts, with the levels, claims and logout it offers", () => {
    const metadata = rp.config.serverMetadata();
    assert.equal(metadata.issuer, provider.issuer);
    assert.deepEqual(metadata.acr_values_supported, [LOA1, LOA2]);
    assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
    assert.equal(metadata.backchannel_logout_supported, true);
    assert.ok(metadata.end_session_endpoint?.startsWith(provider.issuer));
    for (const claim of ["preferred_username", "groups", "identity_provider", "acr", "amr", "sid"]) {
      assert.ok(metadata.claims_supported?.includes(claim), claim);
    }
  });

  it("signs in through its HTML form, refusing a wrong password, and issues the user's claims", async () => {
    const browser = newBrowser();
    const auth = await authorization(rp);
    const form = pageOf(await browser.open(auth.url));
    assert.equal(form.status, 200);
    assert.match(form.html, /<button type="submit">Sign in<\/button>/);
    assert.doesNotMatch(form.html, /name="otp"/);
    const refused = pageOf(await browser.submit(form, { ...ALICE, password: "wrong" }));
    assert.equal(refused.status, 401);
    assert.match(refused.html, /Wrong user name or password/);
    const claims = (await auth.grant(callbackOf(await browser.submit(refused, ALICE)))).claims();
    assert.equal(claims?.sub, "alice");
    assert.equal(claims?.["preferred_username"], "alice");
    assert.deepEqual(claims?.["groups"], ALICE_GROUPS);
    assert.equal(claims?.acr, LOA1);
    assert.deepEqual(claims?.amr, ["pwd"]);
    assert.equal(typeof claims?.["sid"], "string");
    assert.deepEqual(provider.sids("alice", CLIENT.clientId), [claims?.["sid"]]);
  });

  it("answers userinfo for the access token", async () => {
    const bob = { username: "bob", password: "bob-password" };
    const { tokens, claims } = await signIn(rp, newBrowser(), {}, bob);
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
    assert.equal(userinfo.sub, "bob-sub");
    assert.deepEqual(userinfo["groups"], ["/sdcc/users"]);
  });

  it("refuses an authorization request without PKCE", async () => {
    const url = client.buildAuthorizationUrl(rp.config, {
      redirect_uri: REDIRECT,
      scope: "openid",
      state: "s",
    });
    const callback = callbackOf(await newBrowser().open(url));
    assert.equal(callback.searchParams.get("error"), "invalid_request");
    assert.match(callback.searchParams.get("error_description") ?? "", /PKCE/);
  });

  it("asks for the one-time code on step-up to level 2, and keeps the session's sid", async () => {
    const browser = newBrowser();
    const first = await signIn(rp, browser);
    const auth = await authorization(rp, { acr_values: LOA2 });
    const form = pageOf(await browser.open(auth.url));
    assert.match(form.html, /name="otp"/);
    assert.match(form.html, /name="username" value="alice"/);
    const refused = pageOf(await browser.submit(form, { ...ALICE, otp: "000000" }));
    assert.equal(refused.status, 401);
    assert.match(refused.html, /Wrong one-time code/);
    const claims = (await auth.grant(callbackOf(await browser.submit(refused, ALICE)))).claims();
    assert.equal(claims?.acr, LOA2);
    assert.deepEqual(claims?.amr, ["pwd", "otp"]);
    assert.equal(claims?.["sid"], first.claims["sid"]);
    const again = await authorization(rp, { acr_values: LOA1 });
    const silent = (await again.grant(callbackOf(await browser.open(again.url)))).claims();
    assert.equal(silent?.acr, LOA2, "a level-2 session serves a level-1 request without the form");
  });

  it("answers with the forced acr whatever was asked, until told to stop", async () => {
    provider.forceAcr(LOA1);
    const forced = await signIn(rp, newBrowser(), { acr_values: LOA2 });
    provider.forceAcr(undefined);
    assert.equal(forced.claims.acr, LOA1);
    assert.deepEqual(forced.claims.amr, ["pwd"]);
    const normal = await signIn(rp, newBrowser(), { acr_values: LOA2 });
    assert.equal(normal.claims.acr, LOA2);
  });

  describe("tampering", () => {
    const browser = newBrowser();
    before(() => signIn(rp, browser));

    /** What makes each tampered token what it claims to be, checked on the token as sent. */
    const proof: Record<
      Exclude<TamperKind, "iat-future" | "userinfo-sub">,
      (token: string, nonce: string) => Promise<void>
    > = {
      "wrong-aud": async (t) => assert.equal(jose.decodeJwt(t).aud, "another-client"),
      "wrong-iss": async (t) => assert.notEqual(jose.decodeJwt(t).iss, provider.issuer),
      "wrong-nonce": async (t, nonce) => assert.notEqual(jose.decodeJwt(t)["nonce"], nonce),
      expired: async (t) => assert.ok((jose.decodeJwt(t).exp ?? 0) < Date.now() / 1000 - 300),
      "alg-none": async (t) => assert.equal(jose.decodeProtectedHeader(t).alg, "none"),
      "unknown-key": async (t) => {
        const kid = jose.decodeProtectedHeader(t).kid;
        assert.ok(kid !== undefined && !(await publishedKeys(rp)).some((k) => k.kid === kid));
      },
      "corrupt-signature": async (t) => {
        assert.equal(jose.decodeProtectedHeader(t).kid, provider.currentKid);
        const jwks = jose.createRemoteJWKSet(rp.jwksUri);
        await assert.rejects(jose.jwtVerify(t, jwks), jose.errors.JWSSignatureVerificationFailed);
      },
      "hs256-public-key": async (t) => {
        const [current] = await publishedKeys(rp);
        assert.ok(current !== undefined);
        const key = await jose.importJWK(current, "RS256", { extractable: true });
        assert.ok(!(key instanceof Uint8Array));
        const pem = await jose.exportSPKI(key);
        await jose.jwtVerify(t, new TextEncoder().encode(pem), { algorithms: ["HS256"] });
      },
    };

    for (const kind of TAMPER_KINDS) {
      if (kind === "iat-future" || kind === "userinfo-sub") continue;
      it(`makes a token openid-client refuses: ${kind}`, async () => {
        provider.tamper(kind);
        const auth = await authorization(rp);
        await assert.rejects(auth.grant(callbackOf(await browser.open(auth.url))), client.ClientError);
        const idToken = member(rp.seen.token, "id_token");
        assert.ok(typeof idToken === "string");
        await proof[kind](idToken, auth.nonce);
      });
    }

    it("makes a token with iat 10 minutes ahead, which openid-client accepts", async () => {
      provider.tamper("iat-future");
      const { claims } = await signIn(rp, browser);
      assert.ok(claims.iat > Date.now() / 1000 + 500);
    });

    it("makes userinfo name another sub, which openid-client refuses", async () => {
      provider.tamper("userinfo-sub");
      const { tokens, claims } = await signIn(rp, browser);
      await assert.rejects(
        client.fetchUserInfo(rp.config, tokens.access_token, claims.sub),
        client.ClientError,
      );
      assert.equal(member(rp.seen.userinfo, "sub"), `${claims.sub}-someone-else`);
    });

    it("tampers once only", async () => {
      provider.tamper("wrong-aud");
      const auth = await authorization(rp);
      await assert.rejects(auth.grant(callbackOf(await browser.open(auth.url))));
      assert.equal((await signIn(rp, browser)).claims.aud, CLIENT.clientId);
    });
  });

  it("ends sessions by back-channel logout with tokens that pass the checks of reference §3", async () => {
    const [first, second] = [newBrowser(), newBrowser()];
    const carol = { username: "carol", password: "carol-password" };
    const one = (await signIn(rp, first, {}, carol)).claims;
    const two = (await signIn(rp, second, {}, carol)).claims;
    assert.equal(one["identity_provider"], "cilogon");
    assert.deepEqual(provider.sids("carol").sort(), [one["sid"], two["sid"]].sort());

    await provider.backchannelLogout(CLIENT.clientId, "carol", String(one["sid"]));
    const named = await verifyLogoutToken(provider, rp, await bcl.next());
    assert.deepEqual([named.sub, named["sid"]], ["carol", one["sid"]]);
    assert.deepEqual(provider.sids("carol"), [two["sid"]]);
    const auth = await authorization(rp);
    assert.match(pageOf(await first.open(auth.url)).html, /name="password"/, "that provider session is over");

    await provider.backchannelLogout(CLIENT.clientId, "carol");
    assert.equal((await verifyLogoutToken(provider, rp, await bcl.next()))["sid"], two["sid"]);
    assert.deepEqual(provider.sids("carol"), []);

    await provider.backchannelLogout(CLIENT.clientId, "carol");
    const subOnly = await verifyLogoutToken(provider, rp, await bcl.next());
    assert.deepEqual([subOnly.sub, "sid" in subOnly], ["carol", false]);
  });

  it("ends the session at end_session_endpoint after its confirmation page, with a logout token", async () => {
    const browser = newBrowser();
    const { claims } = await signIn(rp, browser);
    const confirm = pageOf(
      await browser.open(
        client.buildEndSessionUrl(rp.config, { post_logout_redirect_uri: LOGGED_OUT, state: "st" }),
      ),
    );
    assert.match(
      confirm.html,
      /<button type="submit" form="op.logoutForm" name="logout" value="yes"[^>]*>Sign out<\/button>/,
    );
    const received = bcl.next();
    const back = callbackOf(await browser.submit(confirm, { logout: "yes" }));
    assert.equal(back.searchParams.get("state"), "st");
    const payload = await verifyLogoutToken(provider, rp, await received);
    assert.equal(payload["sid"], claims["sid"]);
  });

  it("signs with a new key after rotation and keeps the old one in its JWKS", async () => {
    const old = provider.currentKid;
    await provider.rotateKeys();
    assert.notEqual(provider.currentKid, old);
    assert.deepEqual(
      (await publishedKeys(rp)).map((k) => k.kid),
      [provider.currentKid, old],
    );
    // A fresh configuration: openid-client keeps the JWKS it read for 60 s before looking again.
    const fresh = await relyingParty(provider);
    const { tokens } = await signIn(fresh, newBrowser());
    assert.equal(jose.decodeProtectedHeader(tokens.id_token ?? "").kid, provider.currentKid);
    const forged = await provider.sign({ iss: provider.issuer, sub: "alice" }, { typ: "logout+jwt" });
    const verified = await jose.jwtVerify(forged, jose.createRemoteJWKSet(rp.jwksUri), { typ: "logout+jwt" });
    assert.equal(verified.protectedHeader.kid, provider.currentKid);
  });
});
