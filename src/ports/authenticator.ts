import type { UserZone } from "../domain/types.js";

/**
 * A way of signing in: the hub's built-in accounts (password and TOTP), an OpenID Connect
 * provider (Keycloak), or an authenticating front door that names the user in a header. In
 * JupyterHub's words, an Authenticator turns a login request into `{name, groups, auth_state}`;
 * here `complete` does that, and `begin` says what the sign-in page does first.
 *
 * The hub, not the authenticator, starts sessions: it does so for the `Identity` that `complete`
 * yields, and only then. A sign-in of several steps (a second factor, a trip to the IdP) is carried
 * between requests by a handle the authenticator makes; the hub keeps it in the session cookie, so
 * the cookie's value changes at every step and a planted or stolen value from before is worthless.
 */
export interface Authenticator {
  /** Short and stable ("local", "oidc", "header"): for logs, and recorded with the session. */
  readonly kind: string;
  readonly capabilities: AuthenticatorCapabilities;
  /**
   * What the sign-in page does for a visitor who will come back to `next` once signed in.
   * `direct`: the visitor asked to go to the provider now (`/hub/oauth_login`), not for a page.
   */
  begin(next: string, options?: { direct?: boolean }): Promise<SignInStart>;
  /**
   * The identity a request proves, or the step still needed. A refusal throws a SlipwayError
   * that says why (`invalid_credentials`, `invalid_totp`, `not_authenticated`, `too_many_attempts`);
   * it leaves no session and no step behind.
   */
  complete(request: SignInRequest): Promise<SignInOutcome>;
  /**
   * Where the browser goes once the hub has ended its own session: back to the sign-in page, or
   * to the method's own sign-out (an IdP's end-session endpoint with `id_token_hint`, a front
   * door's logout path) so that signing out does not sign the user straight back in.
   */
  logoutUrl(authState: AuthState | null): Promise<string>;
  /**
   * Checks a provider's back-channel logout token (signature, issuer, audience, age, events, no
   * nonce, not used before) and says whose sessions it ends; throws `invalid_logout_token`.
   * Only methods with a provider that sends them have it.
   */
  verifyLogoutToken?(token: string): Promise<ProviderLogout>;
  /**
   * For a session this method started, whether the request still vouches for it. A front door
   * names the user on every request: a session whose request names someone else (another person
   * signed in at the front door in the same browser) or nobody is not honoured. Methods without
   * such a header do not have it.
   */
  stillVouches?(
    subject: string | undefined,
    headerValues: (name: string) => readonly string[],
    peer: string,
  ): boolean;
}

export interface AuthenticatorCapabilities {
  /** The hub keeps a password for each account: set-up links, and password checks before changes. */
  readonly keepsPasswords: boolean;
  /** The method has a second factor of the hub's own (TOTP), rather than one the IdP asks for. */
  readonly ownSecondFactor: boolean;
  /** Sign-in is a trip to a provider and back: the hub serves `/hub/oauth_login` and its callback. */
  readonly visitsProvider: boolean;
}

/** What an authenticator vouches for. */
export interface Identity {
  /** The hub's user name, already in its form (`[a-z0-9][a-z0-9._-]{0,31}`). */
  readonly name: string;
  readonly displayName: string;
  readonly email?: string | null;
  /** As the method names them (Keycloak: full paths such as `/sdcc/gpu`); empty when it has none. */
  readonly groups: readonly string[];
  /**
   * Who the provider says this is, for methods with a provider (OIDC, a front door): the account
   * is bound to it at first sign-in, so a second person whose name maps onto the same account is
   * refused. Absent for the hub's own accounts.
   */
  readonly provider?: ProviderIdentity;
  /** The zone a front door stated outright (a header); the hub's zone rules decide otherwise. */
  readonly zone?: UserZone;
  /** What the method needs kept with the session (OIDC: the ID token for logout); never shown or logged. */
  readonly authState: AuthState | null;
}

export interface ProviderIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** The provider's session id (OIDC `sid`), by which a back-channel logout names it. */
  readonly session?: string;
  /** The identity provider that brokered the sign-in (Keycloak's `identity_provider`), if any. */
  readonly brokeredBy?: string;
  /** The value of the configured zone claim, if the provider sent one. */
  readonly zoneClaim?: string;
}

/** A provider's back-channel logout, checked: whose sessions to end. */
export interface ProviderLogout {
  readonly issuer: string;
  readonly subject?: string;
  readonly session?: string;
}

export type AuthState = Readonly<Record<string, string>>;

export type SignInStart =
  /** The hub's own form (user name and password), posted back to `complete`. */
  | { readonly kind: "form" }
  /** Off to `location` (an IdP); the callback comes back with `handle` in the session cookie. */
  | { readonly kind: "redirect"; readonly location: string; readonly handle: string }
  /** A page with one button that leads to `href` (the provider's sign-in, begun directly). */
  | { readonly kind: "link"; readonly label: string; readonly href: string }
  /** Nothing to ask: the request itself carries the identity (a front door's header); complete it as it is. */
  | { readonly kind: "complete" };

/** The steps of the method's own second factor, each a page of the hub's. */
export type SignInStep = "second-factor" | "enrol-second-factor";

export type SignInOutcome =
  | {
      readonly kind: "identity";
      readonly identity: Identity;
      /** Where the sign-in began, when the method carried it across a redirect (the hub re-checks it). */
      readonly next?: string;
    }
  /** Not signed in yet: `handle` goes in the session cookie and the browser to the step's page. */
  | { readonly kind: "step"; readonly step: SignInStep; readonly handle: string };

/** A request to `complete`, as the HTTP layer has read and checked it. */
export interface SignInRequest {
  /** The step this request answers; none for the first (the sign-in form, an IdP's callback). */
  readonly step?: SignInStep;
  /** The handle of the sign-in this request continues, from the session cookie. */
  readonly handle?: string;
  /** The posted form's fields, or a callback's query parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** A request header by lower-case name, when it was sent exactly once. */
  header(name: string): string | undefined;
  /** Every value of a request header, in order (none, one, or a repeated header's several). */
  headerValues(name: string): readonly string[];
  /** The socket's peer, never a forwarded address: only a trusted peer may name the user in a header. */
  readonly peer: string;
  /** The client's address as attempts are counted (a forwarded one only when the hub trusts its proxy). */
  readonly address: string;
}
