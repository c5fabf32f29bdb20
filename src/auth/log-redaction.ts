/** What pino replaces a redacted value with. */
const CENSOR = "[redacted]";

/** Field names that hold a credential wherever they appear (ASVS 16.2.5: no credentials in logs). */
const SECRET_KEYS = [
  "token",
  "apiToken",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "idToken",
  "id_token",
  "xsrfToken",
  "_xsrf",
  "sessionId",
  "password",
  "newPassword",
  "currentPassword",
  "passwordHash",
  "totp",
  "totpCode",
  "totpSecret",
  "totpSecretSealed",
  "secret",
  "clientSecret",
  "client_secret",
  "cookies",
];

/** Headers that carry credentials, and the Referer, which carries them when a URL had `?token=`. */
const SECRET_HEADERS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-xsrftoken",
  "x-xsrf-token",
  "x-csrf-token",
  "referer",
];
const HEADER_OWNERS = ["headers", "req.headers", "res.headers", "request.headers", "response.headers"];

/**
 * `code` is a secret only inside a request (a TOTP code in a form, an OAuth authorization code in
 * a callback query); elsewhere it is an error code (`err.code`), which logs must keep.
 */
const CODE_OWNERS = ["body", "query", "params"];

/**
 * pino's fast-redact wildcards match exactly one level, so each secret key is listed at the top
 * level and at depths one and two: enough for `{ user: { password } }` and `{ req: { body: { token } } }`.
 */
const DEPTHS = ["", "*.", "*.*."];

/** The `redact` option for pino: `pino({ redact: logRedaction() })`. A fresh object on every call. */
export function logRedaction(): { paths: string[]; censor: string } {
  const paths: string[] = [];
  for (const depth of DEPTHS) {
    for (const key of SECRET_KEYS) paths.push(`${depth}${key}`);
    for (const owner of CODE_OWNERS) paths.push(`${depth}${owner}.code`);
  }
  for (const owner of HEADER_OWNERS) {
    for (const header of SECRET_HEADERS) paths.push(`${owner}["${header}"]`);
  }
  for (const header of SECRET_HEADERS) paths.push(`*.headers["${header}"]`);
  return { paths, censor: CENSOR };
}

// Control (Cc), format (Cf: bidi overrides, zero-width), line/paragraph separator and lone
// surrogate code points: each can forge or disguise a log line in some viewer.
const UNSAFE = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]$/u;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

/**
 * A user-supplied string made safe to put in a log line (the CVE-2026-54338 class of log
 * injection): at most `max` code points are kept, a note says how much was dropped, and CR, LF
 * and every other control or invisible formatting character is written as an escape. Backslashes
 * are doubled so that a literal "\n" typed by a user cannot pass for an escaped newline. The work
 * is bounded by `max`, not by the input, so a 1 MB user name costs nothing.
 */
export function sanitizeForLog(s: string, max = 64): string {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`max must be a whole number ≥ 0, not ${max}.`);
  let out = "";
  let kept = 0;
  let consumed = 0;
  // for…of walks code points, so truncation never splits a surrogate pair.
  for (const ch of s) {
    if (kept === max) break;
    out += escape(ch);
    kept += 1;
    consumed += ch.length;
  }
  if (consumed < s.length) out += `…(${s.length - consumed} more)`;
  return out;
}

function escape(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  if (!UNSAFE.test(ch)) return ch;
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).padStart(cp <= 0xff ? 2 : 4, "0");
  if (cp <= 0xff) return `\\x${hex}`;
  return cp <= 0xffff ? `\\u${hex}` : `\\u{${hex}}`;
}
