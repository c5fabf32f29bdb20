import { CR, LF, SP, TOKEN, listHas, parseLength, readHeaderLine, type HeaderLine } from "./http-syntax.js";
import type { GateHeaders, GateRequest } from "./types.js";

/** The headers the gate reads, each present at most once. */
export interface FastHeaders extends GateHeaders {
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
  readonly origin: string | undefined;
  readonly "sec-fetch-site": string | undefined;
  readonly "sec-fetch-mode": string | undefined;
}

/** A request head the front door read itself and may forward without `node:http`. */
export interface FastRequest extends GateRequest {
  readonly method: string;
  /** The raw origin-form target, starting with `/user/`. */
  readonly url: string;
  readonly headers: FastHeaders;
  /** Names and values in order, as `IncomingMessage.rawHeaders`. */
  readonly raw: string[];
  /** Bytes of body that follow the head (0 when there is no `Content-Length`). */
  readonly contentLength: number;
  /** The client sent `Connection: close`. */
  readonly close: boolean;
  /** Bytes of the head, the final CRLF CRLF included. */
  readonly headLength: number;
  /** The connection it came on, as `IncomingMessage.socket` (who the peer is). */
  readonly socket: object | undefined;
}

/** Methods the fast path forwards; any other goes to `node:http`, which knows what to make of it. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const VERSION = "HTTP/1.1";
const USER_PREFIX = "/user/";

interface Fields {
  accept: string | undefined;
  authorization: string | undefined;
  cookie: string | undefined;
  origin: string | undefined;
  "sec-fetch-site": string | undefined;
  "sec-fetch-mode": string | undefined;
}

type SingleField = keyof Fields;

const SINGLE_FIELDS: ReadonlySet<string> = new Set<SingleField>([
  "accept",
  "authorization",
  "cookie",
  "origin",
  "sec-fetch-site",
  "sec-fetch-mode",
]);

function isSingleField(name: string): name is SingleField {
  return SINGLE_FIELDS.has(name);
}

/** `Host` holds an authority: visible ASCII, no whitespace. */
function isHostValue(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Reads a request head `head[0, end + 4)`, where `end` is the index of its CRLF CRLF, and
 * accepts only what it can forward with no doubt about where the request ends or who is
 * asking: `METHOD SP /user/... SP HTTP/1.1 CRLF`, well-formed header lines, exactly one `Host`,
 * at most one `Content-Length` (digits only), no `Transfer-Encoding`, `Expect` or `Upgrade`,
 * and at most one of each header the gate reads. Anything else is `undefined`: the front door
 * then gives the connection to `node:http`, whose parser and handlers answer it.
 */
export function parseRequestHead(
  head: Buffer,
  end: number,
  maxHeaders: number,
  socket?: object,
): FastRequest | undefined {
  let i = 0;
  while (TOKEN[head[i] ?? 0] === 1) i += 1;
  if (head[i] !== SP) return undefined;
  const method = head.toString("latin1", 0, i);
  if (!METHODS.has(method)) return undefined;
  const targetStart = i + 1;
  i = targetStart;
  for (;;) {
    const c = head[i];
    if (c === undefined || c <= 0x20 || c >= 0x7f) break;
    i += 1;
  }
  if (head[i] !== SP || i + VERSION.length + 2 > end + 2) return undefined;
  const url = head.toString("latin1", targetStart, i);
  if (!url.startsWith(USER_PREFIX)) return undefined;
  i += 1;
  if (head.toString("latin1", i, i + VERSION.length) !== VERSION) return undefined;
  i += VERSION.length;
  if (head[i] !== CR || head[i + 1] !== LF) return undefined;
  i += 2;

  const raw: string[] = [];
  const fields: Fields = {
    accept: undefined,
    authorization: undefined,
    cookie: undefined,
    origin: undefined,
    "sec-fetch-site": undefined,
    "sec-fetch-mode": undefined,
  };
  let host = false;
  let contentLength = -1;
  let close = false;
  const line: HeaderLine = { name: "", value: "", next: 0 };
  const headersEnd = end + 2;
  while (i < headersEnd) {
    if (raw.length >= maxHeaders * 2 || !readHeaderLine(head, i, line)) return undefined;
    i = line.next;
    const { name, value } = line;
    raw.push(name, value);
    const lower = name.toLowerCase();
    if (isSingleField(lower)) {
      if (fields[lower] !== undefined) return undefined;
      fields[lower] = value;
      continue;
    }
    switch (lower) {
      case "host":
        if (host || !isHostValue(value)) return undefined;
        host = true;
        break;
      case "content-length":
        if (contentLength !== -1) return undefined;
        contentLength = parseLength(value);
        if (contentLength === -1) return undefined;
        break;
      case "connection":
        if (listHas(value, "upgrade")) return undefined;
        if (listHas(value, "close")) close = true;
        break;
      case "transfer-encoding":
      case "expect":
      case "upgrade":
        return undefined;
    }
  }
  if (i !== headersEnd || !host) return undefined;
  return {
    method,
    url,
    headers: fields,
    raw,
    contentLength: contentLength === -1 ? 0 : contentLength,
    close,
    headLength: end + 4,
    socket,
  };
}
