import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import { can, type Principal } from "../domain/principal.js";
import type { Scope } from "../domain/scopes.js";
import type { User } from "../domain/types.js";
import type { AuditTrail } from "../ports/audit.js";
import { headerValuesIn } from "./header-values.js";
import type { Authenticator } from "../ports/authenticator.js";
import type { Logger } from "../ports/logger.js";
import type { GroupsService } from "../services/groups-service.js";
import type { IdentityService } from "../services/identity-service.js";
import type { ServersService } from "../services/servers-service.js";
import type { SessionService } from "../services/session-service.js";
import type { SignInService } from "../services/sign-in-service.js";
import type { SpawnOptions } from "../services/spawn-options.js";
import { TokenService } from "../services/token-service.js";
import type { UsersService } from "../services/users-service.js";
import { readCookie, type CookieNames } from "./cookies.js";
import { constantTimeEqual } from "../auth/random-token.js";

export interface FirstAdminGate {
  /** True while the bootstrap link is still valid and no user exists. */
  isOpen(): Promise<boolean>;
  /** Checks and spends the bootstrap secret. */
  consume(secret: string): Promise<boolean>;
}

/** What every route module gets: the services and the edge's own settings. */
export interface HttpContext {
  /** How people sign in; the sign-in pages go through it, never past it. */
  readonly authenticator: Authenticator;
  /** Who did what: sign-ins and refusals, sign-outs, tokens, servers, admin actions. */
  readonly audit: AuditTrail;
  /** Admits identities, starts and ends their sessions, and records it all. */
  readonly signIn: SignInService;
  /** Cookies of the front door or load balancer to clear at sign-out (`auth.logoutClearCookies`). */
  readonly logoutClearCookies: readonly {
    readonly name: string;
    readonly path: string;
    readonly domain?: string | undefined;
  }[];
  readonly identity: IdentityService;
  readonly sessions: SessionService;
  readonly tokens: TokenService;
  readonly users: UsersService;
  readonly groups: GroupsService;
  readonly servers: ServersService;
  readonly spawnOptions: SpawnOptions;
  readonly cookies: CookieNames;
  /** e.g. "http://127.0.0.1:8000": the only origin allowed to make cookie-authenticated writes. */
  readonly publicOrigin: string;
  readonly trustForwarded: boolean;
  readonly firstAdmin: FirstAdminGate;
  readonly log: Logger;
  readonly version: string;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  /** Closes open websockets of a session (sign-out) through the proxy. */
  readonly closeSessionSockets: (credentialKey: string) => void;
  readonly slowSpawnWaitMs: number;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Connections accepted on the hub's front-door Unix socket (`hub.frontDoorSocket`). */
const frontDoorSockets = new WeakSet<object>();

/** Marks a connection as the front door's: its requests come from the peer "unix". */
export function markFrontDoorConnection(socket: object): void {
  frontDoorSockets.add(socket);
}

/**
 * Who is at the other end of the connection — an address, or "unix" for the front-door socket —
 * never what a forwarded header claims: only a trusted peer may name the user in a header.
 */
export function peerOf(request: FastifyRequest): string {
  return peerOfSocket(request.socket);
}

/** The same, for a connection the proxy holds. */
export function peerOfSocket(socket: object | undefined): string {
  if (socket === undefined) return "unknown";
  if (frontDoorSockets.has(socket)) return "unix";
  const address: unknown = Reflect.get(socket, "remoteAddress");
  return typeof address === "string" ? address : "unknown";
}

export function clientAddress(ctx: Pick<HttpContext, "trustForwarded">, request: FastifyRequest): string {
  if (ctx.trustForwarded) {
    const fwd = request.headers["x-forwarded-for"];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(",")[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return request.socket.remoteAddress ?? "unknown";
}

export function sessionIdOf(ctx: Pick<HttpContext, "cookies">, request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, ctx.cookies.session);
}

/** What finding out who is calling needs. */
export type CallerContext = Pick<HttpContext, "sessions" | "tokens" | "cookies" | "authenticator">;

/** Resolves the caller from an API token (preferred) or the session cookie (full sessions only). */
export async function resolvePrincipal(
  ctx: CallerContext,
  request: FastifyRequest,
): Promise<Principal | null> {
  const token = TokenService.fromHeader(request.headers.authorization);
  if (token !== undefined) return await ctx.tokens.resolve(token);
  const sessionId = sessionIdOf(ctx, request);
  if (sessionId === undefined) return null;
  const session = await ctx.sessions.resolveSession(sessionId);
  if (!session || session.session.stage !== "full") return null;
  // A front door names the user on every request: its session counts only while it still does.
  const vouches = ctx.authenticator.stillVouches?.bind(ctx.authenticator);
  if (session.session.auth?.kind === "header" && vouches !== undefined) {
    const raw = request.raw.rawHeaders;
    const values = (name: string) => headerValuesIn(raw, name);
    if (!vouches(session.session.auth.idpSubject, values, peerOf(request))) return null;
  }
  return session.principal;
}

/**
 * Same-origin proof for cookie-authenticated writes: the Fetch Metadata and Origin headers must
 * not say cross-site, and the XSRF token must match the session's (threats §5a.2; JupyterHub
 * CVE-2026-40864 exempted `Sec-Fetch-Mode: no-cors`, which is refused here).
 */
export function checkSameOrigin(
  ctx: Pick<HttpContext, "publicOrigin">,
  request: FastifyRequest,
  xsrfExpected: string | null,
): void {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") throw new SlipwayError("cross_origin");
  const mode = request.headers["sec-fetch-mode"];
  if (mode === "no-cors") throw new SlipwayError("cross_origin");
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ctx.publicOrigin) throw new SlipwayError("cross_origin");
  if (xsrfExpected === null) return;
  const header = request.headers["x-xsrf-token"];
  const sent = typeof header === "string" ? header : xsrfFromBody(request.body);
  if (sent === undefined || !constantTimeEqual(sent, xsrfExpected)) throw new SlipwayError("csrf_failed");
}

function xsrfFromBody(body: unknown): string | undefined {
  const parsed = z.object({ _xsrf: z.string() }).safeParse(body);
  return parsed.success ? parsed.data._xsrf : undefined;
}

/** Authenticates an API request; cookie-authenticated writes must also pass the same-origin check. */
export async function authenticate(ctx: HttpContext, request: FastifyRequest): Promise<Principal> {
  const principal = await resolvePrincipal(ctx, request);
  if (!principal) throw new SlipwayError("not_authenticated");
  if (principal.via === "cookie" && UNSAFE.has(request.method)) {
    checkSameOrigin(ctx, request, principal.xsrfToken);
  }
  request.principal = principal;
  return principal;
}

/** Throws unless the principal holds `scope` for `userName`; 404 rather than 403 when it may not even see the user. */
export function requireScope(principal: Principal, scope: Scope, userName: string | null): void {
  if (can(principal, scope, userName)) return;
  if (
    userName !== null &&
    !can(principal, "read:users", userName) &&
    !can(principal, "read:servers", userName)
  ) {
    throw new SlipwayError("user_not_found");
  }
  throw new SlipwayError("forbidden");
}

export async function targetUser(ctx: HttpContext, principal: Principal, name: string): Promise<User> {
  // Read fresh: the principal's copy comes from the credential cache and may be seconds old.
  if (name === principal.user.name) return ctx.users.get(name);
  if (
    !can(principal, "read:users", name) &&
    !can(principal, "servers", name) &&
    !can(principal, "admin:users", null)
  ) {
    throw new SlipwayError("user_not_found");
  }
  return ctx.users.get(name);
}

/** Parses a body with a strict schema: unknown fields are refused by name. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new SlipwayError(
      "unknown_field",
      `Unknown field: ${issue.keys.map((k) => k.slice(0, 32)).join(", ")}`,
    );
  }
  throw new SlipwayError(
    "validation_failed",
    `${issue?.path.join(".") || "body"}: ${issue?.message ?? "not valid"}`,
  );
}

export function noStore(reply: FastifyReply): void {
  reply.header("cache-control", "no-store");
}
