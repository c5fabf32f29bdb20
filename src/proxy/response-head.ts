import { CR, FIELD, LF, SP, listHas, parseLength, readHeaderLine, type HeaderLine } from "./http-syntax.js";

/** A user's server's response head, read strictly. */
export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** Names and values in order, as `IncomingMessage.rawHeaders`. */
  readonly raw: string[];
  /** -1 when there is no `Content-Length`. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The server closes the connection after this response. */
  readonly close: boolean;
  /** Bytes of the head, the final CRLF CRLF included. */
  readonly headLength: number;
}

/** More header lines than this and a response is refused (502), on either forwarding path. */
export const MAX_RESPONSE_HEADERS = 500;
/** A response head larger than this is refused (502), on either forwarding path. */
export const MAX_RESPONSE_HEAD = 64 * 1024;

/** The error a response that breaks HTTP/1.1 is reported with, whichever path read it. */
export function invalidResponse(reason: string): Error {
  return Object.assign(new Error(`the server's response is not valid HTTP/1.1: ${reason}`), {
    code: "HPE_INVALID_RESPONSE",
  });
}

/**
 * Reads a response head `head[0, end + 4)`, `end` being the index of its CRLF CRLF. Returns a
 * reason string for anything that leaves the body's framing in doubt — two `Content-Length`s,
 * `Content-Length` with `Transfer-Encoding`, a transfer coding other than `chunked`, a
 * malformed line — so that the proxy answers 502 rather than guess where the response ends.
 */
export function parseResponseHead(head: Buffer, end: number): ResponseHead | string {
  if (end < 12 || head.toString("latin1", 0, 7) !== "HTTP/1.") return "not an HTTP/1.x status line";
  const minor = head[7];
  if ((minor !== 0x30 && minor !== 0x31) || head[8] !== SP) return "not an HTTP/1.0 or 1.1 status line";
  let status = 0;
  for (let i = 9; i < 12; i += 1) {
    const digit = (head[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return "malformed status code";
    status = status * 10 + digit;
  }
  if (status < 100) return "malformed status code";
  let i = 12;
  let reason = "";
  if (head[i] === SP) {
    const reasonStart = i + 1;
    i = reasonStart;
    while (head[i] !== CR) {
      if (FIELD[head[i] ?? 0] !== 1) return "malformed reason phrase";
      i += 1;
    }
    reason = head.toString("latin1", reasonStart, i);
  }
  if (head[i] !== CR || head[i + 1] !== LF) return "malformed status line";
  i += 2;

  const raw: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let connection = "";
  const line: HeaderLine = { name: "", value: "", next: 0 };
  const headersEnd = end + 2;
  while (i < headersEnd) {
    if (raw.length >= MAX_RESPONSE_HEADERS * 2 || !readHeaderLine(head, i, line))
      return "malformed header line";
    i = line.next;
    const { name, value } = line;
    raw.push(name, value);
    switch (name.toLowerCase()) {
      case "content-length":
        if (contentLength !== -1) return "more than one Content-Length";
        contentLength = parseLength(value);
        if (contentLength === -1) return "malformed Content-Length";
        break;
      case "transfer-encoding":
        if (transferEncoding !== undefined) return "more than one Transfer-Encoding";
        transferEncoding = value;
        break;
      case "connection":
        connection = connection === "" ? value : `${connection}, ${value}`;
        break;
    }
  }
  if (i !== headersEnd) return "malformed header section";
  const chunked = transferEncoding !== undefined;
  if (transferEncoding !== undefined && transferEncoding.toLowerCase() !== "chunked")
    return "a transfer coding other than chunked";
  if (chunked && contentLength !== -1) return "Content-Length with Transfer-Encoding";
  const close = minor === 0x30 ? !listHas(connection, "keep-alive") : listHas(connection, "close");
  return { status, reason, raw, contentLength, chunked, close, headLength: end + 4 };
}
