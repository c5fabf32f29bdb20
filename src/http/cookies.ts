/** Cookie names and attributes. `__Host-` needs Secure, so plain-http setups use the bare name. */
export interface CookieNames {
  readonly session: string;
  readonly loginXsrf: string;
  readonly secure: boolean;
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: "__Host-slipway-session", loginXsrf: "__Host-slipway-login-xsrf", secure }
    : { session: "slipway-session", loginXsrf: "slipway-login-xsrf", secure };
}

/** Every name the hub may set: the proxy strips all of them before a user's server sees the request. */
export const HUB_COOKIE_NAMES: readonly string[] = [
  "__Host-slipway-session",
  "slipway-session",
  "__Host-slipway-login-xsrf",
  "slipway-login-xsrf",
];

/**
 * Reads one cookie from a Cookie header. A name sent twice is refused outright (undefined):
 * a duplicate is how a sibling domain tosses a cookie in front of ours.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      if (found !== undefined) return undefined;
      found = header.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return found;
}
