/**
 * Whether a `rawHeaders`-style list holds `Host` more than once. `node:http` lets such a request
 * through (its `headers.host` is the first copy, `rawHeaders` keeps both), and the proxy, the
 * user's server and anything in between may each read a different one (RFC 9112 3.2 asks for a
 * 400). The fast path's parser hands such a head to `node:http`, which refuses it here.
 */
export function hasDuplicateHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name === undefined || name.length !== 4 || name.toLowerCase() !== "host") continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}
