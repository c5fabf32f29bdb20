import type { User } from "./types.js";
import { grants, type Scope } from "./scopes.js";

/** Who is making a request, and with which scopes. */
export interface Principal {
  readonly user: User;
  readonly scopes: ReadonlySet<string>;
  readonly via: "cookie" | "token";
  /** Session id hash (cookie) or token id: what sign-out or revocation closes. */
  readonly credentialKey: string;
  /** The session's XSRF token (cookie principals only). */
  readonly xsrfToken: string | null;
}

export function can(principal: Principal, scope: Scope, userName: string | null): boolean {
  return grants(principal.scopes, scope, userName);
}
