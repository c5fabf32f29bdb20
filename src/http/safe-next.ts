import { withoutTokenParams } from "../domain/without-token-params.js";

/**
 * Sanitises a `next=` redirect target: only a path on this hub is ever returned, else the
 * default. Covers the open-redirect regressions JupyterHub shipped fixes for (`//x`, `///x`,
 * `\\x`, `/\x`, `%2f%2fx`, `https://HOST//x`, `https:x`, `javascript:`), see
 * threats-and-faults.md §5a.1. A `token` query parameter is dropped: it is a credential, which
 * the sign-in pages would otherwise put in a form, a Location and the browser's history.
 */
export function safeNext(next: unknown, fallback = "/hub/home"): string {
  if (typeof next !== "string" || next.length === 0 || next.length > 2048) return fallback;
  // Control characters (CR/LF/TAB), backslashes and their encodings never belong in a path we send.
  if (hasControlOrBackslash(next) || /%(0[0-9a-f]|1[0-9a-f]|7f|5c)/i.test(next)) return fallback;
  if (!next.startsWith("/") || next.startsWith("//")) return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return fallback;
  }
  if (decoded.startsWith("//") || decoded.includes("\\")) return fallback;
  let url: URL;
  try {
    url = new URL(next, "http://slipway.invalid");
  } catch {
    return fallback;
  }
  if (url.origin !== "http://slipway.invalid" || url.pathname.startsWith("//")) return fallback;
  if (!url.pathname.startsWith("/hub/") && !url.pathname.startsWith("/user/")) return fallback;
  return withoutTokenParams(url.pathname + url.search);
}

function hasControlOrBackslash(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}
