import { acceptsHtml } from "./gate-replies.js";
import type { CanonicalUserPath } from "./canonical-path.js";
import { gateFailure, type GateFailure } from "./gate-failure.js";
import { namedServerCandidate, type MissResolver } from "./miss-resolver.js";
import type { OriginPolicy } from "./origin-policy.js";
import type { RouteTable } from "./route-table.js";
import type { GateRequest, ProxyAuthenticate, ProxyPrincipal, ProxyRoute } from "./types.js";

export const NOT_AUTHENTICATED = gateFailure("not_authenticated");
export const FORBIDDEN = gateFailure("forbidden", "You may not use this server.");
export const CROSS_ORIGIN = gateFailure("cross_origin");
export const NOT_RUNNING = gateFailure("server_not_running");

/** What the gate decided about one request or websocket handshake. */
export type Verdict =
  /** Passed: forward to `route`. */
  | { readonly kind: "forward"; readonly route: ProxyRoute; readonly principal: ProxyPrincipal }
  | { readonly kind: "refuse"; readonly failure: GateFailure }
  /** An unauthenticated browser navigating: send it to the login page (never for upgrades). */
  | { readonly kind: "login" }
  /** The caller may use the server, which has no route: it is not running. */
  | { readonly kind: "not-running"; readonly serverName: string; readonly principal: ProxyPrincipal }
  /** The route table has no answer; {@link Gate.resolve} asks the store. */
  | { readonly kind: "miss"; readonly candidate: string | undefined; readonly principal: ProxyPrincipal }
  /** Authentication or the store failed; the caller logs it and answers 500 (or the error's status). */
  | { readonly kind: "error"; readonly error: unknown };

const REFUSE_UNAUTHENTICATED: Verdict = Object.freeze({ kind: "refuse", failure: NOT_AUTHENTICATED });
const REFUSE_FORBIDDEN: Verdict = Object.freeze({ kind: "refuse", failure: FORBIDDEN });
const REFUSE_CROSS_ORIGIN: Verdict = Object.freeze({ kind: "refuse", failure: CROSS_ORIGIN });
const LOGIN: Verdict = Object.freeze({ kind: "login" });

export interface GateOptions {
  readonly authenticate: ProxyAuthenticate;
  readonly origins: OriginPolicy;
  readonly routes: RouteTable;
  readonly misses: MissResolver;
}

/**
 * The one decision both ways into the proxy share (`node:http` requests and upgrades, and the
 * front door's fast path): authenticate → same-origin check → route → authorize. It reads only
 * a {@link GateRequest} and the canonical path, so both ways decide alike on the same bytes.
 */
export class Gate {
  private readonly authenticateWith: ProxyAuthenticate;
  private readonly origins: OriginPolicy;
  private readonly routes: RouteTable;
  private readonly misses: MissResolver;

  constructor(options: GateOptions) {
    this.authenticateWith = options.authenticate;
    this.origins = options.origins;
    this.routes = options.routes;
    this.misses = options.misses;
  }

  /** A value when the credential is cached, a promise when the store must be asked; never throws. */
  authenticate(req: GateRequest): ProxyPrincipal | null | Verdict | Promise<ProxyPrincipal | null | Verdict> {
    try {
      const principal = this.authenticateWith(req);
      if (principal instanceof Promise) return principal.catch(errorVerdict);
      return principal;
    } catch (error) {
      return errorVerdict(error);
    }
  }

  /**
   * Everything after authentication that needs no store: origin, route, authorization. A route
   * miss comes back as `miss`, for {@link resolve}.
   */
  admit(
    req: GateRequest,
    path: CanonicalUserPath,
    principal: ProxyPrincipal | null,
    upgrade: boolean,
  ): Verdict {
    if (principal === null) {
      return !upgrade && (req.method === "GET" || req.method === "HEAD") && acceptsHtml(req)
        ? LOGIN
        : REFUSE_UNAUTHENTICATED;
    }
    if (
      principal.via === "cookie" &&
      !(upgrade ? this.origins.allowsUpgrade(req) : this.origins.allowsRequest(req))
    )
      return REFUSE_CROSS_ORIGIN;
    const route = this.routes.match(path.owner, path.next);
    if (route !== undefined) {
      return principal.mayAccess(route.owner, route.serverName)
        ? { kind: "forward", route, principal }
        : REFUSE_FORBIDDEN;
    }
    const candidate = namedServerCandidate(path.next);
    // Checked before asking the store, so nobody can probe other users' servers through it.
    const mayAccessAny =
      principal.mayAccess(path.owner, "") ||
      (candidate !== undefined && principal.mayAccess(path.owner, candidate));
    return mayAccessAny ? { kind: "miss", candidate, principal } : REFUSE_FORBIDDEN;
  }

  /** Asks the store about a route miss (once for a burst of them) and decides on its answer. */
  resolve(
    path: CanonicalUserPath,
    candidate: string | undefined,
    principal: ProxyPrincipal,
  ): Promise<Verdict> {
    return this.misses.resolve(path.owner, candidate).then((route): Verdict => {
      if (route === undefined) {
        const serverName = candidate ?? "";
        return principal.mayAccess(path.owner, serverName)
          ? { kind: "not-running", serverName, principal }
          : REFUSE_FORBIDDEN;
      }
      return principal.mayAccess(route.owner, route.serverName)
        ? { kind: "forward", route, principal }
        : REFUSE_FORBIDDEN;
    }, errorVerdict);
  }
}

function errorVerdict(error: unknown): Verdict {
  return { kind: "error", error };
}

/** Tells an authentication result from a verdict (an authentication error) without a cast. */
export function isVerdict(value: ProxyPrincipal | null | Verdict): value is Verdict {
  return value !== null && "kind" in value;
}
