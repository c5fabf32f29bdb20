import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { GateFailure } from "./gate-failure.js";
import { HTML_PAGE_HEADERS, escapeHtml, htmlPage } from "./html-page.js";
import type { GateRequest } from "./types.js";

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
});

/** Browsers navigating ask for `text/html`; API clients and XHR do not. */
export function acceptsHtml(req: GateRequest): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes("text/html");
}

function failureJson(failure: GateFailure): string {
  return JSON.stringify({ status: failure.status, code: failure.code, message: failure.message });
}

function failureBody(failure: GateFailure, html: boolean): string {
  return html
    ? htmlPage(
        STATUS_CODES[failure.status] ?? "Error",
        `<p>${escapeHtml(failure.message)}</p><p><a href="/hub/home">Back to the hub</a></p>`,
      )
    : failureJson(failure);
}

/** Answers with the failure as a small HTML page for browsers and as JSON for everyone else. */
export function replyWithError(req: IncomingMessage, res: ServerResponse, failure: GateFailure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const html = acceptsHtml(req);
  const body = failureBody(failure, html);
  res.writeHead(failure.status, {
    ...(html ? HTML_PAGE_HEADERS : JSON_HEADERS),
    "content-length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * The same answer as {@link replyWithError}, as bytes for a connection the front door serves
 * itself. `extraHeaders` are complete header lines (`Date`, `Connection`), each ending in CRLF.
 */
export function rawErrorResponse(req: GateRequest, failure: GateFailure, extraHeaders: string): Buffer {
  const html = acceptsHtml(req);
  const body = Buffer.from(failureBody(failure, html), "utf8");
  let head = `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? "Error"}\r\n`;
  for (const [name, value] of Object.entries(html ? HTML_PAGE_HEADERS : JSON_HEADERS)) {
    head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body.length}\r\n${extraHeaders}\r\n`;
  const headBytes = Buffer.from(head, "latin1");
  return req.method === "HEAD" ? headBytes : Buffer.concat([headBytes, body]);
}

/** `location` must be a same-origin path built by the caller, never taken from the request as is. */
export function redirectTo(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, "cache-control": "no-store", "content-length": 0 });
  res.end();
}

/** Answers an upgrade request on its raw socket (no ServerResponse exists) and closes it. */
export function refuseUpgrade(socket: Duplex, failure: GateFailure): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = failureJson(failure);
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? "Error"}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Cache-Control: no-store\r\nConnection: close\r\n\r\n" +
      body,
  );
  socket.once("finish", destroyStream);
}

function destroyStream(this: Duplex): void {
  this.destroy();
}
