import {
  interactionPolicy,
  type AdapterFactory,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from "oidc-provider";
import type { JWK } from "jose";
import { errorPage, loggedOutPage, logoutPage } from "./oidc-test-provider-pages.js";

/** Password only. */
export const LOA1 = "urn:slipway:loa:1";
/** Password and one-time code. */
export const LOA2 = "urn:slipway:loa:2";
/** Lowest first: a session's level satisfies a request for any level at or below it. */
const LEVELS = [LOA1, LOA2];

/** The levels of ours that `acr_values` names, lowest first. */
export function requestedLevels(acrValues: unknown): string[] {
  const asked = typeof acrValues === "string" ? acrValues.split(" ") : [];
  return LEVELS.filter((level) => asked.includes(level));
}

export interface ClientInput {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
}

export interface ConfigurationInput {
  readonly clients: readonly ClientInput[];
  /** Private signing JWKs, the current one first. */
  readonly keys: readonly JWK[];
  readonly cookieKeys: readonly string[];
  readonly adapter: AdapterFactory;
  /** The claims of an account by subject, or undefined when there is no such account. */
  readonly claimsOf: (sub: string) => Record<string, unknown> | undefined;
  /** The acr every sign-in is forced to give, if any. */
  readonly forcedAcr: () => string | undefined;
}

function clientMetadata(c: ClientInput): ClientMetadata {
  return {
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    token_endpoint_auth_method: "client_secret_basic",
    ...(c.backchannelLogoutUri === undefined
      ? {}
      : { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true }),
  };
}

/**
 * Loopback only. The provider's own fetch refuses loopback and private addresses (its SSRF guard),
 * which back-channel logout to a test hub needs; and tests must reach nothing else.
 */
function loopbackFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input);
  if (!["127.0.0.1", "[::1]", "localhost"].includes(url.hostname)) {
    return Promise.reject(new Error(`the test provider reaches only loopback, not ${url.host}`));
  }
  const { method, headers, body, redirect, signal } = init ?? {};
  return fetch(url, { method, headers, body, redirect, signal });
}

/**
 * Step-up (reference §4, gotcha 4): `acr_values` alone never makes oidc-provider ask for a new
 * sign-in, so a session below the lowest level asked for is sent back to the form, as is one whose
 * level differs from a forced one. Not right after a sign-in in this same interaction: that
 * sign-in's level is the answer, even when lower (the relying party must then refuse it).
 */
function acrCheck(forcedAcr: () => string | undefined): interactionPolicy.Check {
  const { Check } = interactionPolicy;
  return new Check("acr_values_unmet", "the requested authentication level is not met", (ctx) => {
    const { result, session, params } = ctx.oidc;
    if (result?.["login"] !== undefined || session?.accountId === undefined) return Check.NO_NEED_TO_PROMPT;
    const forced = forcedAcr();
    if (forced !== undefined) return forced === session.acr ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    const [lowest] = requestedLevels(params?.["acr_values"]);
    if (lowest === undefined) return Check.NO_NEED_TO_PROMPT;
    const sessionLevel = LEVELS.indexOf(session.acr ?? "");
    return sessionLevel >= LEVELS.indexOf(lowest) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  });
}

function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }): void {
  ctx.type = "html";
  ctx.body = errorPage(out.error, out.error_description);
}

/** oidc-provider's configuration, as reference §4 says (option names of v9). */
export function providerConfiguration(input: ConfigurationInput): Configuration {
  const policy = interactionPolicy.base();
  policy.get("login")?.checks.add(acrCheck(input.forcedAcr));
  return {
    adapter: input.adapter,
    clients: input.clients.map(clientMetadata),
    jwks: { keys: [...input.keys] },
    // Distinct names: a hub on another port of 127.0.0.1 shares this host's cookies.
    cookies: {
      keys: [...input.cookieKeys],
      names: { session: "idp_session", interaction: "idp_interaction", resume: "idp_resume" },
    },
    findAccount: (_ctx, sub) => {
      const claims = input.claimsOf(sub);
      return claims && { accountId: sub, claims: () => ({ ...claims, sub }) };
    },
    claims: {
      // acr and auth_time always, as Keycloak's default scopes give them, not only when acr_values
      // or max_age asks. (sid comes with back-channel logout, or when the claims parameter asks.)
      openid: ["sub", "acr", "amr", "auth_time"],
      profile: ["preferred_username", "name", "identity_provider"],
      email: ["email", "email_verified"],
      groups: ["groups"],
      acr: null,
      sid: null,
      auth_time: null,
    },
    // Explicit lifetimes (the defaults print a notice): sessions and grants last a working day.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Grant: 28_800,
      Session: 28_800,
    },
    scopes: ["openid", "offline_access", "profile", "email", "groups"],
    acrValues: LEVELS,
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = "html";
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = "html";
          ctx.body = loggedOutPage();
        },
      },
    },
    renderError,
    fetch: loopbackFetch,
  };
}
