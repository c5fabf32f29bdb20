import { after, before } from "node:test";
import pino from "pino";
import { authenticatorContract, EMPTY_REQUEST } from "../../src/auth/contract/authenticator.contract.js";
import { OidcAuthenticator } from "../../src/auth/oidc-authenticator.js";
import { newToken, sha256Hex } from "../../src/auth/random-token.js";
import type { SignInRequest, SignInStart } from "../../src/ports/authenticator.js";
import type { Store } from "../../src/ports/store.js";
import { openStore } from "../../src/store/open-store.js";
import { startTestProvider, type TestProvider } from "../support/oidc-test-provider.js";
import { callbackOf, FormBrowser, pageOf } from "../support/oidc-test-provider-browser.js";

// The OIDC authenticator under the contract every authenticator keeps, against a real provider.
// The relying party's own address is never fetched: the browser stops at the redirect to it.

const REDIRECT = "http://127.0.0.1:9/hub/oauth_callback";
const SECRET = "contract-secret";
let provider: TestProvider;

before(async () => {
  provider = await startTestProvider({
    clients: [
      {
        clientId: "slipway",
        clientSecret: SECRET,
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: ["http://127.0.0.1:9/hub/logged-out"],
      },
    ],
    accounts: [
      {
        sub: "alice-sub",
        password: "alice-password",
        claims: { preferred_username: "alice", name: "Alice A.", groups: ["/sdcc/users", "/sdcc/gpu"] },
      },
    ],
  });
});

after(() => provider.close());

/** The callback the provider sends the browser to, as the hub reads it, for the sign-in `start` began. */
function callbackRequest(start: SignInStart, params: Record<string, string>): SignInRequest {
  return { ...EMPTY_REQUEST, params, ...(start.kind === "redirect" && { handle: start.handle }) };
}

authenticatorContract("OpenID Connect", {
  async open() {
    const store: Store = await openStore("sqlite::memory:");
    await store.migrate();
    const authenticator = new OidcAuthenticator({
      settings: {
        issuer: provider.issuer,
        clientId: "slipway",
        clientSecret: SECRET,
        scopes: ["openid", "profile", "groups"],
        claims: {
          username: "preferred_username",
          groups: "groups",
          displayName: "name",
          email: "email",
          identityProvider: "identity_provider",
        },
        acrValues: [],
        autoLogin: true,
        buttonLabel: "Sign in",
        clockToleranceSeconds: 30,
        loginTimeoutMs: 600_000,
        endSession: true,
        logoutTokenType: "logout+jwt",
        signingAlgorithm: "RS256",
        redirectUri: () => REDIRECT,
        postLogoutRedirectUri: () => "http://127.0.0.1:9/hub/logged-out",
      },
      pending: {
        put: (handle, state, ttlMs) =>
          store.signInStates.put(sha256Hex(handle), state, new Date(Date.now() + ttlMs)),
        take: (handle) => store.signInStates.take(sha256Hex(handle), new Date()),
      },
      usedIds: store.usedTokenIds,
      randomHandle: () => newToken(32),
      log: pino({ level: "silent" }),
    });
    return {
      authenticator,
      expected: { name: "alice", displayName: "Alice A.", groups: ["/sdcc/users", "/sdcc/gpu"] },
      async firstStep(start, credential) {
        if (start.kind !== "redirect") throw new Error(`expected a redirect, got ${start.kind}`);
        const location = new URL(start.location);
        if (credential === "wrong") {
          // A code the provider never issued, with the state it was sent.
          return callbackRequest(start, {
            code: "never-issued",
            state: location.searchParams.get("state") ?? "",
          });
        }
        const browser = new FormBrowser((url) => url.href.startsWith(REDIRECT));
        const form = pageOf(await browser.open(location));
        const callback = callbackOf(
          await browser.submit(form, { username: "alice-sub", password: "alice-password" }),
        );
        return callbackRequest(start, Object.fromEntries(callback.searchParams));
      },
      // The authenticator starts no session (the hub does), so none can be left behind by it.
      sessionCount: async () => 0,
      dispose: () => store.close(),
    };
  },
});
