const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeCharacter(character: string): string {
  return ESCAPES[character] ?? character;
}

/** Safe in text and in quoted attributes alike, so callers cannot pick the wrong escape. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, escapeCharacter);
}

/** A small self-contained page; `bodyHtml` must already be escaped. */
export function htmlPage(title: string, bodyHtml: string): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)} · Slipway</title>` +
    '<link rel="stylesheet" href="/hub/static/slipway.css">' +
    '</head><body><header class="top"><a class="brand" href="/hub/home">Slipway</a></header>' +
    `<main><section class="card narrow"><h1>${escapeHtml(title)}</h1>${bodyHtml}</section></main></body></html>\n`
  );
}

/** Headers for every HTML page the proxy writes itself (not for pages of users' servers). */
export const HTML_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
});
