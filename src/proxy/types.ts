import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerTarget } from "../domain/types.js";

/** Where `/user/<owner>/` (serverName "") or `/user/<owner>/<serverName>/` is sent. */
export interface ProxyRoute {
  readonly serverId: number;
  readonly owner: string;
  /** "" for the default server. */
  readonly serverName: string;
  /** Only ever a channel its owner's process alone could offer (invariant 9). */
  readonly target: ServerTarget;
  /** The Jupyter server's token, sent to it as `Authorization: token ...` on every request. */
  readonly token: string;
}

/** Who is asking, as the hub's authentication says. */
export interface ProxyPrincipal {
  readonly userName: string;
  readonly admin: boolean;
  readonly via: "cookie" | "token";
  /** Identifies the session or token, so signing out can close its websockets. */
  readonly sessionKey: string;
  mayAccess(owner: string, serverName: string): boolean;
}

/**
 * The headers the gate reads. An `IncomingMessage` is one; so is the front door's own parse of a
 * request head, which holds exactly one of each of these or hands the request to `node:http`.
 */
export interface GateHeaders {
  readonly accept?: string | undefined;
  readonly authorization?: string | undefined;
  readonly cookie?: string | undefined;
  readonly origin?: string | undefined;
  readonly "sec-fetch-site"?: string | string[] | undefined;
  readonly "sec-fetch-mode"?: string | string[] | undefined;
}

/** What the gate sees of a request: the same for `node:http` requests and the front door's fast path. */
export interface GateRequest {
  readonly method?: string | undefined;
  /** The raw request target, as received. */
  readonly url?: string | undefined;
  readonly headers: GateHeaders;
}

/** What authentication may read: the credential headers and nothing else. */
export interface CredentialRequest {
  readonly headers: Pick<GateHeaders, "authorization" | "cookie">;
  /** All headers in order (`node:http`'s request), for a front door's identity header. */
  readonly rawHeaders?: readonly string[] | undefined;
  /** The same, from the fast path's own parse. */
  readonly raw?: readonly string[] | undefined;
  /** The connection (its peer: a front door's identity header counts only from the front door). */
  readonly socket?: object | undefined;
}

/**
 * Returns synchronously when the credential is cached, so the hot path stays free of awaits;
 * a promise only when the store must be asked.
 */
export type ProxyAuthenticate = (
  req: CredentialRequest,
) => ProxyPrincipal | null | Promise<ProxyPrincipal | null>;

/**
 * Looks a server up in the store after a route miss. `serverName` is the segment after the
 * owner when it could name a named server; the answer may be that server or the default one.
 */
export type ResolveMiss = (owner: string, serverName?: string) => Promise<ProxyRoute | undefined>;

/** Answers a request for a server that has no route (stopped, or never started). */
export type NotRunningHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  owner: string,
  serverName: string,
) => void | Promise<void>;

export interface ActivityRecord {
  readonly serverId: number;
  /** The server's owner. */
  readonly userName: string;
  readonly at: Date;
}

/** The subset of a pino logger the proxy uses. Never handed secrets. */
export interface ProxyLog {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
