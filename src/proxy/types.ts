import type { IncomingMessage, ServerResponse } from "node:http";

/** Where `/user/<owner>/` (serverName "") or `/user/<owner>/<serverName>/` is sent. */
export interface ProxyRoute {
  readonly serverId: number;
  readonly owner: string;
  /** "" for the default server. */
  readonly serverName: string;
  readonly target: { readonly host: string; readonly port: number };
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
 * Returns synchronously when the credential is cached, so the hot path stays free of awaits;
 * a promise only when the store must be asked.
 */
export type ProxyAuthenticate = (
  req: IncomingMessage,
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
