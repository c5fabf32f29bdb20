import type { IncomingMessage } from "node:http";

/**
 * Same-origin rules for cookie-authenticated requests. A cookie rides along on cross-site
 * requests, so for them the cookie alone proves nothing: a state-changing request or a
 * websocket handshake must show that a page of this hub made it (CVE-2024-28179 class).
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** Each origin is normalised through the URL parser, as browsers serialise `Origin`. */
  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins.map((origin) => new URL(origin).origin));
  }

  /** Safe methods pass; others need a listed `Origin`, or no `Origin` and no cross-site fetch metadata. */
  allowsRequest(req: IncomingMessage): boolean {
    const method = req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return true;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return false;
    const origin = req.headers.origin;
    return origin === undefined ? true : this.allowed.has(origin);
  }

  /** Browsers always send `Origin` on a websocket handshake, so a missing one is refused too. */
  allowsUpgrade(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return origin !== undefined && this.allowed.has(origin);
  }
}
