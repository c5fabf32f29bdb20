import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { gateFailure, type GateFailure } from "./gate-failure.js";
import { refuseUpgrade, replyWithError } from "./gate-replies.js";

/**
 * More header lines than this and a request is refused with 431, on either path: RFC 9110 5.4
 * asks for a 4xx rather than ignoring fields, which is what `node:http` does past its own
 * `maxHeadersCount`. A browser sends about twenty; Apache's `LimitRequestFields` is also 100.
 */
export const MAX_REQUEST_HEADERS = 100;

/** Something in a request head that the proxy refuses before the gate reads it. */
export type HeadFault =
  /** Answered as the gate answers: JSON or a small page, with a code. */
  | { readonly kind: "refuse"; readonly failure: GateFailure }
  /** Answered as `node:http` answers a head it cannot take: a status line and `Connection: close`. */
  | { readonly kind: "bare"; readonly status: 400 | 431 | 501 };

const TOO_MANY_HEADERS: HeadFault = Object.freeze({ kind: "bare", status: 431 });
const UNFRAMED: HeadFault = Object.freeze({ kind: "bare", status: 400 });
const UNSUPPORTED_CODING: HeadFault = Object.freeze({ kind: "bare", status: 501 });
const DUPLICATE_HOST: HeadFault = Object.freeze({ kind: "refuse", failure: gateFailure("duplicate_host") });

/**
 * Reads a `rawHeaders`-style list for what `node:http` lets through and the proxy must not
 * forward. More than {@link MAX_REQUEST_HEADERS} lines: 431. A second `Host`: 400
 * `duplicate_host` — `node:http` keeps both, and the proxy, the user's server and anything in
 * between may each read a different one (RFC 9112 3.2). A transfer coding before `chunked`
 * (`gzip, chunked`): 501 (RFC 9112 6.1) — the proxy takes the chunks apart and frames the body
 * anew, so the server would get the coded bytes without the coding's name. Codings without
 * `chunked` last, or with it twice: 400, as `node:http`'s parser mostly answers them itself. The
 * fast path hands every head with any of these to `node:http`, so both paths answer them here.
 */
export function requestHeadFault(raw: readonly string[]): HeadFault | undefined {
  if (raw.length > MAX_REQUEST_HEADERS * 2) return TOO_MANY_HEADERS;
  let host = false;
  let coding: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    if (name.length === 4 && name.toLowerCase() === "host") {
      if (host) return DUPLICATE_HOST;
      host = true;
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      const value = raw[i + 1] ?? "";
      coding = coding === undefined ? value : `${coding}, ${value}`;
    }
  }
  return coding === undefined || coding.toLowerCase() === "chunked" ? undefined : codingFault(coding);
}

/** `chunked` last and only once, or nobody can tell where the body ends: 400 (RFC 9112 6.3, 7). */
function codingFault(coding: string): HeadFault {
  const codings = coding.toLowerCase().split(",");
  const last = codings.pop()?.trim();
  if (last !== "chunked" || codings.some((c) => c.trim() === "chunked")) return UNFRAMED;
  return UNSUPPORTED_CODING;
}

/** Answers a request refused for its head; a bare refusal also closes the connection. */
export function replyToHeadFault(req: IncomingMessage, res: ServerResponse, fault: HeadFault): number {
  if (fault.kind === "refuse") {
    replyWithError(req, res, fault.failure);
    return fault.failure.status;
  }
  res.writeHead(fault.status, { connection: "close", "content-length": 0 });
  res.end();
  return fault.status;
}

/** Answers a websocket handshake refused for its head, and closes it. */
export function refuseUpgradeForHeadFault(socket: Duplex, fault: HeadFault): void {
  if (fault.kind === "refuse") {
    refuseUpgrade(socket, fault.failure);
    return;
  }
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${fault.status} ${STATUS_CODES[fault.status] ?? "Error"}\r\nConnection: close\r\n\r\n`,
  );
  socket.once("finish", () => socket.destroy());
}
