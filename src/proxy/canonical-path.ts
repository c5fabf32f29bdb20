import { hexValue } from "../domain/hex-value.js";
import { isValidUserName } from "../domain/names.js";
import { withoutTokenParams } from "../domain/without-token-params.js";

/**
 * A `/user/...` request URL that is safe to route: the owner and the segment after it are read
 * from the raw URL without decoding, and `url` is forwarded with its path unchanged, so the proxy
 * routes on exactly the bytes the user's server receives (configurable-http-proxy matched on a
 * decoded path but forwarded the raw one; compare envoy#6589).
 */
export interface CanonicalUserPath {
  readonly ok: true;
  readonly owner: string;
  /** The segment after the owner: a named server's name if one is routed, else part of the default server's path. */
  readonly next: string;
  /**
   * Path and query byte for byte as received, less any `token` query parameter (see
   * `withoutTokenParams`): what is routed is what is forwarded, and what `next=` comes back to.
   */
  readonly url: string;
}

export interface RejectedUserPath {
  readonly ok: false;
  readonly code: "bad_request" | "not_found";
  readonly reason: string;
}

export type UserPathResult = CanonicalUserPath | RejectedUserPath;

const USER_PREFIX = "/user/";

function rejected(code: RejectedUserPath["code"], reason: string): RejectedUserPath {
  return Object.freeze({ ok: false, code, reason });
}

const NOT_A_USER_PATH = rejected("not_found", "The path does not start with /user/<name>.");
const UNKNOWN_USER = rejected("not_found", "There is no such user.");
const DOUBLED_SLASH = rejected("bad_request", "The path has an empty segment in /user/<name>/<server>/.");
const CONTROL_CHARACTER = rejected("bad_request", "The path has a control character.");
const FRAGMENT = rejected("bad_request", "The path has a '#'.");
const BAD_ESCAPE = rejected("bad_request", "The path has a malformed percent escape.");
const ENCODED_IN_PREFIX = rejected(
  "bad_request",
  "The /user/<name>/<server>/ part of the path has an encoded character or a backslash.",
);
const DOT_SEGMENT = rejected("bad_request", "The path has a '.' or '..' segment.");

const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DELETE = 0x7f;

/** Turns only the escapes that can form a dot segment or a separator back into characters. */
function decodeSeparatorsAndDots(segment: string): string {
  return segment.replace(/%(?:2e|2f|5c)/gi, decodeEscape);
}

function decodeEscape(escape: string): string {
  return String.fromCharCode(parseInt(escape.slice(1), 16));
}

/** True when some piece of the segment, split at `/` or `\` and cut at `;`, is `.` or `..`. */
function hidesDotSegment(segment: string): boolean {
  for (const piece of segment.split(/[/\\]/)) {
    const semicolon = piece.indexOf(";");
    const name = semicolon === -1 ? piece : piece.slice(0, semicolon);
    if (name === "." || name === "..") return true;
  }
  return false;
}

/**
 * Checks one path segment `url[start, end)`. Segments of `/user/<name>/<server>/` may hold no
 * escape of `/`, `\` or `.` and no backslash at all, since they decide the route; later segments
 * only may not hide a dot segment, so `a%2Fb` still reaches the Jupyter contents API.
 */
function checkSegment(
  url: string,
  start: number,
  end: number,
  routing: boolean,
): RejectedUserPath | undefined {
  let escapes = false;
  let dots = false;
  let backslash = false;
  for (let i = start; i < end; i += 1) {
    const code = url.charCodeAt(i);
    if (code <= 0x20 || code === DELETE) return CONTROL_CHARACTER;
    if (code === PERCENT) escapes = true;
    else if (code === DOT) dots = true;
    else if (code === BACKSLASH) backslash = true;
    else if (code === HASH) return FRAGMENT;
  }
  if (!escapes && !dots && !backslash) return undefined;
  if (routing && backslash) return ENCODED_IN_PREFIX;
  if (escapes) {
    for (let i = start; i < end; i += 1) {
      if (url.charCodeAt(i) !== PERCENT) continue;
      const high = i + 1 < end ? hexValue(url.charCodeAt(i + 1)) : -1;
      const low = i + 2 < end ? hexValue(url.charCodeAt(i + 2)) : -1;
      if (high < 0 || low < 0) return BAD_ESCAPE;
      const value = high * 16 + low;
      if (value < 0x20 || value === DELETE) return CONTROL_CHARACTER;
      if (value === SLASH || value === BACKSLASH || value === DOT) {
        if (routing) return ENCODED_IN_PREFIX;
        dots = true;
      }
      i += 2;
    }
  }
  if (!dots) return undefined;
  const segment = url.slice(start, end);
  return hidesDotSegment(escapes ? decodeSeparatorsAndDots(segment) : segment) ? DOT_SEGMENT : undefined;
}

/**
 * Parses a raw request URL (`req.url`) that starts with `/user/`. Rejects with 400 anything
 * whose meaning could differ between this proxy, the user's server and the browser; answers
 * 404 for an owner that cannot be a user name.
 */
export function parseUserPath(url: string): UserPathResult {
  if (!url.startsWith(USER_PREFIX)) return NOT_A_USER_PATH;
  let pathEnd = url.indexOf("?");
  if (pathEnd === -1) pathEnd = url.length;
  const ownerStart = USER_PREFIX.length;
  if (ownerStart === pathEnd) return NOT_A_USER_PATH;

  let owner = "";
  let next = "";
  let index = 0;
  let start = ownerStart;
  for (;;) {
    let end = url.indexOf("/", start);
    if (end === -1 || end > pathEnd) end = pathEnd;
    const routing = index < 2;
    if (routing && start === end && end < pathEnd) return DOUBLED_SLASH;
    const verdict = checkSegment(url, start, end, routing);
    if (verdict !== undefined) return verdict;
    if (index === 0) owner = url.slice(start, end);
    else if (index === 1) next = url.slice(start, end);
    if (end === pathEnd) break;
    start = end + 1;
    index += 1;
  }
  if (owner.includes("%")) return ENCODED_IN_PREFIX;
  if (!isValidUserName(owner)) return UNKNOWN_USER;
  return { ok: true, owner, next, url: withoutTokenParams(url) };
}
