import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigInput } from "../../src/config/schema.js";
import { LOA2, startTestProvider, type TestAccount, type TestProvider } from "./oidc-test-provider.js";
import { callbackOf, FormBrowser, pageOf, type Landing } from "./oidc-test-provider-browser.js";
import { removeDir, startTestHub, type TestHub } from "./test-hub.js";

/**
 * A hub signing people in through the real test provider (oidc-provider on loopback), with the
 * accounts and rules the OIDC suites share, and the moves of a browser that walks the sign-in by
 * hand (a cookie jar, stopping at the hub's callback so a test can look at it or change it).
 */

export const CLIENT_SECRET = "slipway-oidc-test-secret";
/** Every account's one-time code, asked because the hub requires urn:slipway:loa:2. */
export const OTP = "424242";
export const BACKCHANNEL_EVENT = { "http://schemas.openid.net/event/backchannel-logout": {} };

export function account(
  sub: string,
  name: string,
  groups: string[],
  extra: Record<string, unknown> = {},
): TestAccount {
  return {
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
  };
}

/** The hub's rules: users of /sdcc/users may sign in, /sdcc/admins are admins, cilogon guests external. */
const AUTH_RULES = {
  access: { allowedGroups: ["/sdcc/users"], adminGroups: ["/sdcc/admins"], groupMap: { "/sdcc/gpu": "gpu" } },
  zones: { external: { identityProviders: ["cilogon"] } },
};

export interface Me {
  readonly name: string;
  readonly admin: boolean;
  readonly groups?: string[];
  readonly slipway?: { readonly zone?: string };
}

export class OidcHub {
  private constructor(
    readonly provider: TestProvider,
    readonly hub: TestHub,
    private readonly secretDir: string,
  ) {}

  /** The provider with `accounts`, and a hub requiring LOA2 with the shared rules. */
  static async start(name: string, accounts: TestAccount[]): Promise<OidcHub> {
    const provider = await startTestProvider({ clients: [], accounts });
    const secretDir = mkdtempSync(join(tmpdir(), "slipway-oidc-"));
    writeFileSync(join(secretDir, "secret"), `${CLIENT_SECRET}\n`, { mode: 0o600 });
    const hub = await startTestHub(
      {
        auth: { type: "oidc", oidc: oidcSettings(provider, secretDir, { acrValues: [LOA2] }), ...AUTH_RULES },
      },
      { name },
    );
    provider.setClient({
      clientId: "slipway",
      clientSecret: CLIENT_SECRET,
      redirectUris: [`${hub.url}/hub/oauth_callback`],
      postLogoutRedirectUris: [`${hub.url}/hub/logged-out`],
      backchannelLogoutUri: `${hub.url}/hub/oidc/backchannel-logout`,
    });
    return new OidcHub(provider, hub, secretDir);
  }

  async stop(): Promise<void> {
    await this.hub.stop();
    await this.provider.close();
    removeDir(this.hub.dataDir);
    removeDir(this.secretDir);
  }

  /** Another hub for the same provider and client, with settings of its own (`dataDir` to share this one's). */
  otherHub(
    name: string,
    oidc: Record<string, unknown>,
    options: { dataDir?: string } = {},
  ): Promise<TestHub> {
    const config: ConfigInput = {
      auth: { type: "oidc", oidc: oidcSettings(this.provider, this.secretDir, oidc) },
    };
    return startTestHub(config, { name, ...options });
  }

  /** A cookie-jar browser that stops at the hub's callback. */
  browser(): FormBrowser {
    return new FormBrowser((url) => url.href.startsWith(`${this.hub.url}/hub/oauth_callback`));
  }

  /** Goes to the provider through /hub/oauth_login and signs in at its form; returns the callback URL. */
  async toCallback(b: FormBrowser, sub: string, password = `${sub}-password`): Promise<URL> {
    const form = pageOf(await b.open(`${this.hub.url}/hub/oauth_login`));
    assert.match(form.html, /name="otp"/, "the hub asks the provider for the second factor");
    return callbackOf(await b.submit(form, { username: sub, password, otp: OTP }));
  }

  /** Brings the provider's answer to the hub (the browser stops before it), then follows on. */
  async deliver(b: FormBrowser, callback: URL): Promise<Landing> {
    const res = await b.fetch(callback);
    const location = res.headers.get("location");
    if (location === null) return { page: { url: callback, status: res.status, html: await res.text() } };
    await res.body?.cancel();
    return b.open(new URL(location, callback));
  }

  /** Who the browser is signed in as, or undefined. */
  async me(b: FormBrowser): Promise<Me | undefined> {
    const page = pageOf(await b.open(`${this.hub.url}/hub/api/user`));
    return page.status === 200 ? (JSON.parse(page.html) as Me) : undefined;
  }

  /** A browser signed in as `sub`, at the home page. */
  async signedIn(sub: string): Promise<FormBrowser> {
    const b = this.browser();
    const home = pageOf(await this.deliver(b, await this.toCallback(b, sub)));
    assert.equal(home.status, 200, home.html);
    assert.equal(home.url.pathname, "/hub/home");
    return b;
  }

  /** A request with the browser's cookies, redirects not followed. */
  fetchAs(b: FormBrowser, path: string, init: RequestInit = {}): Promise<Response> {
    return b.fetch(`${this.hub.url}${path}`, init);
  }

  /** Signs the browser out at the hub (the page's form, with its XSRF token); the hub's answer. */
  async signOut(b: FormBrowser, hubUrl = this.hub.url): Promise<Response> {
    const page = await b.fetch(`${hubUrl}/hub/logout`);
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    return b.fetch(`${hubUrl}/hub/logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: hubUrl },
      body: `_xsrf=${encodeURIComponent(xsrf)}`,
    });
  }

  /** A logout token signed with the provider's key: iss, aud, iat and the event, and `claims`. */
  logoutToken(claims: Record<string, unknown>, typ = "logout+jwt"): Promise<string> {
    const base = { iss: this.provider.issuer, aud: "slipway", iat: Math.floor(Date.now() / 1000) };
    return this.provider.sign({ ...base, events: BACKCHANNEL_EVENT, ...claims }, { typ });
  }

  postLogoutToken(token: string): Promise<Response> {
    return fetch(`${this.hub.url}/hub/oidc/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }),
    });
  }
}

function oidcSettings(provider: TestProvider, secretDir: string, extra: Record<string, unknown>) {
  return {
    issuer: provider.issuer,
    clientId: "slipway",
    clientSecretFile: join(secretDir, "secret"),
    scopes: ["openid", "profile", "email", "groups"],
    ...extra,
  };
}

/** The status and error code of a refusal page. */
export function refusal(landing: Landing): { status: number; code: string | undefined } {
  const page = pageOf(landing);
  return { status: page.status, code: /data-code="([a-z_]+)"/.exec(page.html)?.[1] };
}

/** Where a sign-out goes on to: the page the hub answers with refreshes to it (and links it). */
export async function signOutTarget(res: Response): Promise<URL> {
  assert.equal(res.status, 200);
  const page = await res.text();
  const href = /<meta http-equiv="refresh" content="0;url=([^"]+)" \/>/.exec(page)?.[1];
  assert.ok(href, page);
  return new URL(href.replaceAll("&amp;", "&"));
}
