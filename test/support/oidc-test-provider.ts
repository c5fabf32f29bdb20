import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import Provider from "oidc-provider";
import { providerConfiguration } from "./oidc-test-provider-config.js";
import { handleInteraction } from "./oidc-test-provider-interaction.js";
import { TestProviderStore } from "./oidc-test-provider-store.js";
import {
  generateSigningKey,
  signWith,
  tamperTokenResponse,
  tamperUserinfo,
  type SigningKey,
  type TamperKind,
} from "./oidc-test-provider-tokens.js";

export { LOA1, LOA2 } from "./oidc-test-provider-config.js";
export { TAMPER_KINDS, type TamperKind } from "./oidc-test-provider-tokens.js";

export interface TestAccount {
  /** The subject; the account signs in with it or with `claims.preferred_username`. */
  sub: string;
  password: string;
  /** A fixed 6-digit code, asked when urn:slipway:loa:2 is requested. Without one, that level is out of reach. */
  otp?: string;
  /** preferred_username, name, email, groups (string[]), identity_provider, anything. */
  claims: Record<string, unknown>;
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
}

export interface TestProviderOptions {
  clients: TestClient[];
  accounts: TestAccount[];
  /** 0 (the default) picks a free port. The provider listens on 127.0.0.1 only. */
  port?: number;
}

/**
 * A real OpenID provider (oidc-provider 9) on loopback, for tests and for trying Slipway by hand.
 *
 * Sign-in is a real HTML form at `/interaction/:uid`: fields `username` (sub or
 * preferred_username; `login_hint` fills it in), `password`, and `otp` when the lowest level in
 * `acr_values` is urn:slipway:loa:2; a button "Sign in". A wrong password or code answers 401 with
 * the form and an error. It works from a browser and from `fetch` with a cookie jar. Consent is
 * granted without asking. A sign-in gives `acr` urn:slipway:loa:1 and `amr` ["pwd"], or
 * urn:slipway:loa:2 and ["pwd","otp"] when that level was asked for and the code was right
 * (unless `forceAcr`). A provider session below the level asked for gets the form again (step-up)
 * and keeps its `sid`.
 *
 * ID tokens carry sub, acr, amr, auth_time, nonce, and the claims of the scopes asked for:
 * profile (preferred_username, name, identity_provider), email (email, email_verified), groups;
 * and `sid` when the client has a backchannelLogoutUri (or the claims parameter asks for it).
 * Clients authenticate with client_secret_basic and must use PKCE (S256). Sign-out is the
 * standard end_session_endpoint, whose confirmation page has a "Sign out" button. For negative
 * tests: `forceAcr`, `tamper` (see TamperKind), `sign`, `rotateKeys`, `backchannelLogout`.
 */
export interface TestProvider {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  readonly issuer: string;
  /** The kid of the key that signs ID tokens now. */
  readonly currentKid: string;
  /** Adds or replaces an account (e.g. to change its groups between sign-ins). */
  setAccount(account: TestAccount): void;
  /** Adds or replaces a client, e.g. once the hub's port, and so its redirect URIs, are known. */
  setClient(client: TestClient): void;
  /**
   * From now on every password sign-in gives this acr (and amr, default ["pwd"]), whatever was
   * asked, and a provider session with another acr gets the form again. undefined stops forcing.
   */
  forceAcr(acr: string | undefined, amr?: string[]): void;
  /** Tampers with the next ID-token-bearing token response (or, for `userinfo-sub`, userinfo answer); undefined cancels. */
  tamper(kind: TamperKind | undefined): void;
  /** A compact JWS signed like the provider's own (RS256, current key and kid); `header` adds or overrides. */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** Puts a new signing key in front of the JWKS (the old ones stay published) and signs with it. */
  rotateKeys(): Promise<void>;
  /**
   * Ends provider sessions of `sub` as an administrator would, and has the provider tell `clientId`
   * through its own back-channel logout: a real logout token POSTed to its backchannelLogoutUri.
   * With `sid`: that session, one token. Without: every session of `sub` that signed in to the
   * client, one token each (with its sid), or, when there is none, one token naming only `sub`.
   * Rejects unless the client answers 200 or 204.
   */
  backchannelLogout(clientId: string, sub: string, sid?: string): Promise<void>;
  /** The `sid`s that the provider's live sessions of `sub` gave `clientId` (or any client). */
  sids(sub: string, clientId?: string): string[];
  close(): Promise<void>;
}

export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const server = createServer();
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("the test provider has no TCP address");
  const key = await generateSigningKey();
  const fixture = new OidcTestProvider(`http://127.0.0.1:${address.port}`, server, options, key);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => fixture.handle(req, res));
  return fixture;
}

class OidcTestProvider implements TestProvider {
  readonly #server: Server;
  readonly #accounts = new Map<string, TestAccount>();
  readonly #clients = new Map<string, TestClient>();
  readonly #store = new TestProviderStore();
  /** Cookie signing keys, kept across rebuilds so that sessions survive a key rotation. */
  readonly #cookieKeys = [randomBytes(32).toString("hex")];
  #keys: SigningKey[];
  #forced: { acr: string; amr: string[] } | undefined;
  #tamper: TamperKind | undefined;
  #provider: Provider;
  #callback: ReturnType<Provider["callback"]>;

  constructor(
    readonly issuer: string,
    server: Server,
    options: TestProviderOptions,
    key: SigningKey,
  ) {
    this.#server = server;
    this.#keys = [key];
    for (const account of options.accounts) this.#accounts.set(account.sub, account);
    for (const client of options.clients) this.#clients.set(client.clientId, client);
    this.#provider = this.#build();
    this.#callback = this.#provider.callback();
  }

  get currentKid(): string {
    return this.#currentKey().kid;
  }

  setAccount(account: TestAccount): void {
    this.#accounts.set(account.sub, account);
  }

  setClient(client: TestClient): void {
    this.#clients.set(client.clientId, client);
    this.#rebuild();
  }

  forceAcr(acr: string | undefined, amr: string[] = ["pwd"]): void {
    this.#forced = acr === undefined ? undefined : { acr, amr };
  }

  tamper(kind: TamperKind | undefined): void {
    this.#tamper = kind;
  }

  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): Promise<string> {
    return signWith(this.#currentKey(), payload, header);
  }

  async rotateKeys(): Promise<void> {
    this.#keys = [await generateSigningKey(), ...this.#keys];
    this.#rebuild();
  }

  async backchannelLogout(clientId: string, sub: string, sid?: string): Promise<void> {
    const client = await this.#provider.Client.find(clientId);
    // Client#backchannelLogout is what the provider itself calls at end-session; the package's
    // types do not declare it, hence the look-up.
    const send: unknown = client === undefined ? undefined : Reflect.get(client, "backchannelLogout");
    if (typeof send !== "function") throw new Error(`the test provider has no client ${clientId}`);
    const sessions = this.#store
      .sessionsOf(sub)
      .map(({ id, payload }) => ({ id, sid: payload.authorizations?.[clientId]?.sid }))
      .filter((session) => session.sid !== undefined && (sid === undefined || session.sid === sid));
    for (const { id } of sessions) this.#store.destroySession(id);
    const sids = sid !== undefined ? [sid] : sessions.length > 0 ? sessions.map((s) => s.sid) : [undefined];
    for (const tokenSid of sids) await send.call(client, sub, tokenSid);
  }

  sids(sub: string, clientId?: string): string[] {
    return this.#store.sessionsOf(sub).flatMap(({ payload }) =>
      Object.entries(payload.authorizations ?? {})
        .filter(([id]) => clientId === undefined || id === clientId)
        .flatMap(([, authorization]) => (authorization.sid === undefined ? [] : [authorization.sid])),
    );
  }

  async close(): Promise<void> {
    const closed = once(this.#server, "close");
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (/^\/interaction\/[A-Za-z0-9_-]+(\?|$)/.test(req.url ?? "")) {
      handleInteraction(
        {
          provider: this.#provider,
          accountNamed: (name) =>
            [...this.#accounts.values()].find(
              (a) => a.sub === name || a.claims["preferred_username"] === name,
            ),
          forced: () => this.#forced,
        },
        req,
        res,
      );
    } else {
      void this.#callback(req, res);
    }
  }

  #currentKey(): SigningKey {
    const [key] = this.#keys;
    if (key === undefined) throw new Error("the test provider has no signing key");
    return key;
  }

  /** Keys and clients are fixed when oidc-provider is built; storage and cookie keys carry over. */
  #rebuild(): void {
    this.#provider = this.#build();
    this.#callback = this.#provider.callback();
  }

  #build(): Provider {
    const provider = new Provider(
      this.issuer,
      providerConfiguration({
        clients: [...this.#clients.values()],
        keys: this.#keys.map((k) => k.privateJwk),
        cookieKeys: this.#cookieKeys,
        adapter: this.#store.adapter,
        claimsOf: (sub) => this.#accounts.get(sub)?.claims,
        forcedAcr: () => this.#forced?.acr,
      }),
    );
    provider.on("backchannel.error", (_ctx, err, client) =>
      console.error(`test provider: back-channel logout to ${client.clientId} failed:`, err),
    );
    provider.on("server_error", (_ctx, err) => console.error("test provider:", err));
    // Runs around the provider's router (oidc-provider's documented pre/post middleware), so the
    // response is rewritten after the provider made it and before it is sent.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.status !== 200) return;
      const body = await this.#tampered(ctx.method, ctx.path, ctx.body);
      if (body !== undefined) ctx.body = body;
    });
    return provider;
  }

  /** The answer the pending tamper makes of this one, if it applies to it. */
  async #tampered(method: string, path: string, body: unknown): Promise<Record<string, unknown> | undefined> {
    const kind = this.#tamper;
    const applies = kind === "userinfo-sub" ? path === "/me" : method === "POST" && path === "/token";
    if (kind === undefined || !applies) return undefined;
    this.#tamper = undefined; // at once: a concurrent answer is left alone
    const tampered =
      kind === "userinfo-sub"
        ? tamperUserinfo(body)
        : await tamperTokenResponse(body, kind, this.#currentKey());
    // An answer without an ID token (or sub) is left as it is, and the tamper waits for the next.
    if (tampered === undefined) this.#tamper ??= kind;
    return tampered;
  }
}
