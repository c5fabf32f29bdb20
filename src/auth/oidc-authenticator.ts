import * as jose from "jose";
import * as client from "openid-client";
import { hubUserName } from "../domain/access-policy.js";
import { SlipwayError } from "../domain/errors.js";
import type {
  AuthState,
  Authenticator,
  AuthenticatorCapabilities,
  Identity,
  ProviderLogout,
  SignInOutcome,
  SignInRequest,
  SignInStart,
} from "../ports/authenticator.js";
import type { Logger } from "../ports/logger.js";
import { identityFromClaims, type OidcClaimNames } from "./oidc-claims.js";

/** Sign-ins away at the provider: kept server-side, one use each (the hub seals and stores them). */
export interface PendingSignIns {
  put(handle: string, state: string, ttlMs: number): Promise<void>;
  take(handle: string): Promise<string | undefined>;
}

/** Ids of logout tokens already used: `use` is false for a replay. */
export interface UsedTokenIds {
  use(key: string, expiresAt: Date): Promise<boolean>;
}

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly claims: OidcClaimNames;
  readonly acrValues: readonly string[];
  readonly autoLogin: boolean;
  readonly buttonLabel: string;
  readonly clockToleranceSeconds: number;
  readonly loginTimeoutMs: number;
  readonly endSession: boolean;
  readonly logoutTokenType: string;
  /** The one JWS algorithm ID tokens are signed with. */
  readonly signingAlgorithm: string;
  /** Where the provider sends the browser back: `<public origin>/hub/oauth_callback`. */
  redirectUri(): string;
  /** Where the provider's logout sends the browser: `<public origin>/hub/logged-out`. */
  postLogoutRedirectUri(): string;
}

const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** How old a logout token may be (its `iat`), beyond the clock tolerance. */
const LOGOUT_TOKEN_MAX_AGE_S = 120;

interface PendingState {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly next: string;
}

/**
 * Sign-in through an OpenID Connect provider (Keycloak): the authorization code flow with PKCE,
 * `state` and `nonce` kept server-side for one use, every ID-token check openid-client makes plus
 * the signature against the provider's JWKS (it skips it by default) and `iat` not in the future,
 * the required authentication level (`acr`), and userinfo's `sub` matched to the ID token's.
 * Back-channel logout tokens are checked with jose. Discovery is read at the first sign-in and
 * again after a failure, so a provider that is down at start does not stop the hub.
 */
export class OidcAuthenticator implements Authenticator {
  readonly kind = "oidc";
  readonly capabilities: AuthenticatorCapabilities = {
    keepsPasswords: false,
    ownSecondFactor: false,
    visitsProvider: true,
  };
  readonly #settings: OidcSettings;
  readonly #pending: PendingSignIns;
  readonly #usedIds: UsedTokenIds;
  readonly #randomHandle: () => string;
  readonly #log: Logger;
  #config: Promise<client.Configuration> | undefined;
  #jwks: ReturnType<typeof jose.createRemoteJWKSet> | undefined;

  constructor(deps: {
    settings: OidcSettings;
    pending: PendingSignIns;
    usedIds: UsedTokenIds;
    randomHandle: () => string;
    log: Logger;
  }) {
    this.#settings = deps.settings;
    this.#pending = deps.pending;
    this.#usedIds = deps.usedIds;
    this.#randomHandle = deps.randomHandle;
    this.#log = deps.log;
  }

  async begin(next: string, options: { direct?: boolean } = {}): Promise<SignInStart> {
    if (!options.direct && !this.#settings.autoLogin) {
      return { kind: "link", label: this.#settings.buttonLabel, href: "/hub/oauth_login" };
    }
    const config = await this.#discovered();
    const pending: PendingState = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      next,
    };
    const handle = this.#randomHandle();
    await this.#pending.put(handle, JSON.stringify(pending), this.#settings.loginTimeoutMs);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#settings.redirectUri(),
      scope: this.#settings.scopes.join(" "),
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: "S256",
      state: pending.state,
      nonce: pending.nonce,
      ...(this.#settings.acrValues.length > 0 && { acr_values: this.#settings.acrValues.join(" ") }),
    });
    return { kind: "redirect", location: url.href, handle };
  }

  async complete(request: SignInRequest): Promise<SignInOutcome> {
    const raw = request.handle === undefined ? undefined : await this.#pending.take(request.handle);
    if (raw === undefined) throw new SlipwayError("sign_in_state_invalid");
    const pending = JSON.parse(raw) as PendingState;
    const config = this.#forOneSignIn(await this.#discovered());
    const callback = new URL(this.#settings.redirectUri());
    for (const [k, v] of Object.entries(request.params)) callback.searchParams.set(k, v);
    const tokens = await this.#grant(config, callback, pending);
    const claims = tokens.claims();
    if (!claims) throw new SlipwayError("idp_token_invalid", "The provider sent no ID token.");
    this.#checkIssuedAt(claims.iat);
    this.#checkLevel(claims.acr);
    const userinfo = await this.#userinfo(config, tokens.access_token, claims.sub);
    const identity: Identity = {
      ...identityFromClaims({ ...userinfo, ...claims }, this.#settings.claims, hubUserName),
      authState: tokens.id_token === undefined ? null : { idToken: tokens.id_token },
    };
    return { kind: "identity", identity, next: pending.next };
  }

  async logoutUrl(authState: AuthState | null): Promise<string> {
    const done = this.#settings.postLogoutRedirectUri();
    const idToken = authState?.["idToken"];
    if (!this.#settings.endSession || idToken === undefined) return done;
    // After a restart the provider may not have been asked yet: ask it now. One that is down
    // leaves the hub's own sign-out done, and the page the browser lands on says so.
    const config = await this.#discovered().catch(() => undefined);
    if (!config?.serverMetadata().end_session_endpoint) return `${done}?provider=unreachable`;
    const params = { id_token_hint: idToken, post_logout_redirect_uri: done };
    return client.buildEndSessionUrl(config, params).href;
  }

  async verifyLogoutToken(token: string): Promise<ProviderLogout> {
    const config = await this.#discovered();
    const metadata = config.serverMetadata();
    if (!metadata.jwks_uri) throw new SlipwayError("invalid_logout_token", "The provider publishes no keys.");
    // A key the set does not hold makes jose read it again, at most once a second: a rotated-to key
    // is found at once, and forged tokens with made-up key ids cannot flood the provider.
    this.#jwks ??= jose.createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: 1000 });
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.#jwks, {
        issuer: metadata.issuer,
        audience: this.#settings.clientId,
        clockTolerance: this.#settings.clockToleranceSeconds,
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_S + this.#settings.clockToleranceSeconds,
        requiredClaims: ["iat", "jti"],
        algorithms: [this.#settings.signingAlgorithm],
        ...(this.#settings.logoutTokenType !== "" && { typ: this.#settings.logoutTokenType }),
      }));
    } catch (error) {
      throw new SlipwayError("invalid_logout_token", errorText(error));
    }
    const events = payload["events"];
    const event =
      typeof events === "object" && events !== null
        ? (events as Record<string, unknown>)[BACKCHANNEL_EVENT]
        : undefined;
    if (typeof event !== "object" || event === null)
      throw new SlipwayError("invalid_logout_token", "no logout event");
    if ("nonce" in payload) throw new SlipwayError("invalid_logout_token", "a logout token carries no nonce");
    const subject = typeof payload.sub === "string" ? payload.sub : undefined;
    const session = typeof payload["sid"] === "string" ? payload["sid"] : undefined;
    if (subject === undefined && session === undefined)
      throw new SlipwayError("invalid_logout_token", "no sub or sid");
    const expires = new Date(((payload.iat ?? 0) + LOGOUT_TOKEN_MAX_AGE_S + 3600) * 1000);
    if (!(await this.#usedIds.use(`${metadata.issuer}#${String(payload.jti)}`, expires))) {
      throw new SlipwayError("invalid_logout_token", "the logout token was used before");
    }
    return {
      issuer: metadata.issuer,
      ...(subject !== undefined && { subject }),
      ...(session !== undefined && { session }),
    };
  }

  #discovered(): Promise<client.Configuration> {
    this.#config ??= this.#discover().catch((error: unknown) => {
      this.#config = undefined;
      throw error;
    });
    return this.#config;
  }

  async #discover(): Promise<client.Configuration> {
    const issuer = new URL(this.#settings.issuer);
    try {
      const config = await client.discovery(
        issuer,
        this.#settings.clientId,
        this.#clientMetadata(),
        client.ClientSecretBasic(this.#settings.clientSecret),
        {
          timeout: 10,
          ...(issuer.protocol === "http:" && { execute: [client.allowInsecureRequests] }),
        },
      );
      // openid-client trusts the TLS channel for the ID token unless told to check its signature.
      client.enableNonRepudiationChecks(config);
      return config;
    } catch (error) {
      this.#log.warn(
        { event: "oidc_discovery_failed", issuer: issuer.href, err: errorText(error) },
        "provider discovery failed",
      );
      // Not there at all, or there but answering with something that is not its discovery document.
      throw new SlipwayError(isNetworkError(error) ? "idp_unreachable" : "idp_discovery_invalid");
    }
  }

  /**
   * A configuration of its own for one callback, from the discovered metadata: its JWKS is read
   * afresh when the ID token is checked, so a key the provider rotated to a moment ago is known
   * (openid-client keeps a configuration's keys for up to a minute before it looks again). One
   * request to the provider per sign-in, made only after a code was exchanged.
   */
  #forOneSignIn(discovered: client.Configuration): client.Configuration {
    const config = new client.Configuration(
      discovered.serverMetadata(),
      this.#settings.clientId,
      this.#clientMetadata(),
      client.ClientSecretBasic(this.#settings.clientSecret),
    );
    config.timeout = discovered.timeout;
    if (new URL(this.#settings.issuer).protocol === "http:") client.allowInsecureRequests(config);
    client.enableNonRepudiationChecks(config);
    return config;
  }

  #clientMetadata(): Partial<client.ClientMetadata> {
    return {
      id_token_signed_response_alg: this.#settings.signingAlgorithm,
      [client.clockTolerance]: this.#settings.clockToleranceSeconds,
    };
  }

  async #grant(config: client.Configuration, callback: URL, pending: PendingState) {
    try {
      return await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.#refusal(error);
    }
  }

  async #userinfo(config: client.Configuration, accessToken: string, subject: string) {
    if (!config.serverMetadata().userinfo_endpoint) return {};
    try {
      return await client.fetchUserInfo(config, accessToken, subject);
    } catch (error) {
      throw this.#refusal(error);
    }
  }

  #checkIssuedAt(iat: number): void {
    // openid-client accepts an ID token issued in the future; a skewed or forged one is refused here.
    if (iat > Date.now() / 1000 + this.#settings.clockToleranceSeconds) {
      throw new SlipwayError("idp_token_invalid", "The ID token was issued in the future.");
    }
  }

  #checkLevel(acr: unknown): void {
    const wanted = this.#settings.acrValues;
    // Neither openid-client nor the provider enforces the level: a user can edit acr_values.
    if (wanted.length > 0 && !(typeof acr === "string" && wanted.includes(acr))) {
      throw new SlipwayError("insufficient_authentication");
    }
  }

  /** A provider's refusal, an unreachable provider, or an answer that failed a check. */
  #refusal(error: unknown): SlipwayError {
    const text = errorText(error);
    this.#log.warn({ event: "oidc_sign_in_failed", err: text }, "sign-in at the provider failed");
    if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
      return new SlipwayError("idp_refused");
    }
    if (isNetworkError(error)) return new SlipwayError("idp_unreachable");
    return new SlipwayError("idp_token_invalid");
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === "string" ? `${code}: ` : ""}${error.message}`.slice(0, 300);
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError" || error.name === "TimeoutError") return true;
  return error instanceof TypeError && error.message === "fetch failed";
}
