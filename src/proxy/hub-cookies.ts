/**
 * Prefixes browsers match whatever their case (RFC 6265bis, cookie name prefixes): a server's
 * `__HOST-x` or `__Secure-x` must no more stand in for the hub's `x` than `x` itself.
 */
const PREFIXES = ["__host-", "__secure-"];

function isNameStart(code: number): boolean {
  // Whitespace and `=` before a name: RFC 6265bis trims the first, and the second makes a
  // nameless cookie, which the browser sends back as its value alone: `=x=v` comes back as `x=v`.
  return code !== 0x20 && code !== 0x09 && code !== 0x3d;
}

/**
 * The name under which a cookie pair (`name=value`, from `Set-Cookie` up to its first `;` or
 * from a `Cookie` header) comes back to a server, in the form the hub compares names: with the
 * whitespace and `=` that a browser would drop from the front, trimmed, lower case, and without
 * `__Host-`/`__Secure-` prefixes. A pair with no `=` is a nameless cookie (RFC 6265bis parses
 * `Set-Cookie: x` as name "" and value "x") sent back as `x`: it is compared whole.
 */
export function comparableCookieName(pair: string, start = 0, end = pair.length): string {
  let from = start;
  while (from < end && !isNameStart(pair.charCodeAt(from))) from += 1;
  let to = pair.indexOf("=", from);
  if (to === -1 || to > end) to = end;
  let name = pair.slice(from, to).trim().toLowerCase();
  for (let stripped = true; stripped;) {
    stripped = false;
    for (const prefix of PREFIXES) {
      if (name.startsWith(prefix)) {
        name = name.slice(prefix.length);
        stripped = true;
      }
    }
  }
  return name;
}

/** Whether `text` holds `lower` (lower-case ASCII) in any case. Allocates nothing. */
function includesIgnoringCase(text: string, lower: string): boolean {
  const last = text.length - lower.length;
  outer: for (let i = 0; i <= last; i += 1) {
    for (let j = 0; j < lower.length; j += 1) {
      let code = text.charCodeAt(i + j);
      if (code >= 0x41 && code <= 0x5a) code += 0x20;
      if (code !== lower.charCodeAt(j)) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * The hub's cookies (session, login XSRF) as a user's server might spell them. Browsers keep
 * names case-sensitive and the hub's parser does too, but a server that could plant
 * `Slipway-Session` or `__HOST-slipway-session` next to the real cookie could still confuse a
 * parser, or a later one, that is not as strict, and no server has a use for such names: every
 * spelling goes, in both directions.
 */
export class HubCookies {
  /** The hub's names as {@link comparableCookieName} gives them. */
  private readonly names: ReadonlySet<string>;

  constructor(hubCookieNames: readonly string[]) {
    this.names = new Set(hubCookieNames.map((name) => comparableCookieName(name)));
  }

  /**
   * Whether a server's `Set-Cookie` would set or overwrite one of the hub's cookies. A server
   * could otherwise plant a session of its choosing in the browsers of everyone who opens it
   * (login fixation from a shared server).
   */
  setBy(setCookie: string): boolean {
    const semicolon = setCookie.indexOf(";");
    return this.names.has(
      comparableCookieName(setCookie, 0, semicolon === -1 ? setCookie.length : semicolon),
    );
  }

  /** A `Cookie` header without any of the hub's cookies, every copy and spelling of them; "" if none is left. */
  stripFrom(cookie: string): string {
    if (!this.mentioned(cookie)) return cookie;
    let kept = "";
    for (const part of cookie.split(";")) {
      const pair = part.trim();
      if (pair === "" || this.names.has(comparableCookieName(pair))) continue;
      kept = kept === "" ? pair : `${kept}; ${pair}`;
    }
    return kept;
  }

  /** A `Cookie` header that names no hub cookie in any case (token-authenticated clients) passes without a split. */
  private mentioned(cookie: string): boolean {
    for (const name of this.names) if (includesIgnoringCase(cookie, name)) return true;
    return false;
  }
}
