import { hexValue } from "./hex-value.js";

const TOKEN = "token";
const PERCENT = 0x25;

/**
 * Whether the parameter name `url[start, end)` is `token` as Jupyter reads it: tornado decodes
 * names with Python's `parse_qs` (percent escapes; `+` is a space) before it looks for exactly
 * `token`, so `%74oken` is `token` too and `Token` is not. Compared in place, nothing decoded.
 */
function namesToken(url: string, start: number, end: number): boolean {
  let at = start;
  for (let i = 0; i < TOKEN.length; i += 1) {
    if (at >= end) return false;
    let code = url.charCodeAt(at);
    if (code === PERCENT && at + 2 < end) {
      const high = hexValue(url.charCodeAt(at + 1));
      const low = hexValue(url.charCodeAt(at + 2));
      // Python leaves a `%` that starts no escape as it is.
      if (high >= 0 && low >= 0) {
        code = high * 16 + low;
        at += 2;
      }
    }
    if (code !== TOKEN.charCodeAt(i)) return false;
    at += 1;
  }
  return at === end;
}

/**
 * `url` (path and query, as received) without its `token` query parameters, every one of them,
 * and with everything else byte for byte as it was: nothing is decoded or encoded again.
 * Parameters are split at `&` only, as Python's `parse_qs` and browsers split them.
 *
 * The hub never takes a credential from a URL, and the proxy gives each server its own token in
 * `Authorization`. A `?token=` left in would reach the user's server, whose Jupyter reads it in
 * preference to that header and logs the URL, and the `next=` of a redirect, where it would sit
 * in the browser's history.
 *
 * Returns `url` itself, having allocated nothing, unless its query holds `token` or an escape:
 * the proxy calls this for every request it forwards.
 */
export function withoutTokenParams(url: string): string {
  const query = url.indexOf("?");
  if (query === -1) return url;
  if (url.indexOf(TOKEN, query) === -1 && url.indexOf("%", query) === -1) return url;
  const first = query + 1;
  // The parameters kept, joined by `&`; undefined until the first `token` turns up.
  let kept: string | undefined;
  let keptAny = false;
  let start = first;
  for (;;) {
    let end = url.indexOf("&", start);
    if (end === -1) end = url.length;
    let nameEnd = url.indexOf("=", start);
    if (nameEnd === -1 || nameEnd > end) nameEnd = end;
    if (namesToken(url, start, nameEnd)) {
      if (kept === undefined) {
        keptAny = start > first;
        kept = keptAny ? url.slice(first, start - 1) : "";
      }
    } else if (kept !== undefined) {
      kept = keptAny ? `${kept}&${url.slice(start, end)}` : url.slice(start, end);
      keptAny = true;
    }
    if (end === url.length) break;
    start = end + 1;
  }
  if (kept === undefined) return url;
  return keptAny ? `${url.slice(0, query)}?${kept}` : url.slice(0, query);
}
