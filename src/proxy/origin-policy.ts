import type { GateRequest } from "./types.js";

/**
 * Same-origin rules for cookie-authenticated requests. A cookie rides along on cross-site
 * requests, so for them the cookie alone proves nothing: a state-changing request or a
 * websocket handshake must show that a page of this hub made it (CVE-2024-28179 class).
 */
export class OriginPolicy {
  private readonly origins: readonly string[];
  private normalisedFrom: readonly string[] = [];
  private normalised: ReadonlySet<string> = new Set();

  /**
   * Each origin is normalised through the URL parser, as browsers serialise `Origin`. The list is
   * read live, not copied: a hub listening on port 0 learns its own origin only after it binds,
   * and fills it into this same array then.
   */
  constructor(allowedOrigins: readonly string[]) {
    this.origins = allowedOrigins;
    this.allowed();
  }

  /** Re-normalises only when the live list changed; comparing costs no allocation. */
  private allowed(): ReadonlySet<string> {
    const origins = this.origins;
    const seen = this.normalisedFrom;
    let same = origins.length === seen.length;
    for (let i = 0; same && i < origins.length; i += 1) same = origins[i] === seen[i];
    if (!same) {
      this.normalised = new Set(origins.map((origin) => new URL(origin).origin));
      this.normalisedFrom = [...origins];
    }
    return this.normalised;
  }

  /**
   * Safe methods pass. Others need proof that a page of this hub made them: a listed `Origin`,
   * or `Sec-Fetch-Site: same-origin` when a browser sent no `Origin`; `no-cors` requests (which a
   * foreign page can send with our cookies) never pass. The user's server skips its own XSRF check
   * because the proxy sends its token, so this is the only guard for it.
   */
  allowsRequest(req: GateRequest): boolean {
    const method = req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return true;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return false;
    if (req.headers["sec-fetch-mode"] === "no-cors") return false;
    const origin = req.headers.origin;
    if (origin === undefined) return site === "same-origin";
    return this.allowed().has(origin);
  }

  /** Browsers always send `Origin` on a websocket handshake, so a missing one is refused too. */
  allowsUpgrade(req: GateRequest): boolean {
    const origin = req.headers.origin;
    return origin !== undefined && this.allowed().has(origin);
  }
}
