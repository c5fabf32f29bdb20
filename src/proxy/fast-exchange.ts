import { withoutTokenParams } from "../domain/without-token-params.js";
import { ChunkedScanner, LAST_CHUNK } from "./chunked-scanner.js";
import type { ExchangeClient, ExchangeShared } from "./exchange-client.js";
import { gateFailure } from "./gate-failure.js";
import { rawErrorResponse } from "./gate-replies.js";
import { statusClass } from "./proxy-metrics.js";
import type { FastRequest } from "./request-head.js";
import { hasBareLf } from "./http-syntax.js";
import { MAX_RESPONSE_HEAD, invalidResponse, parseResponseHead, type ResponseHead } from "./response-head.js";
import { RELAY_HIGH_WATER } from "./target-context.js";
import type { ProxyRoute } from "./types.js";
import type { UpstreamConnection, UpstreamUser } from "./upstream-pool.js";

const SERVER_UNREACHABLE = gateFailure("server_unreachable");
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
/**
 * A response head and the body bytes that came with it are sent as one buffer below this size:
 * below it `Buffer.allocUnsafe` takes the memory from Node's shared pool, not from the allocator.
 */
const JOIN_LIMIT = 4 * 1024;

const enum Phase {
  Waiting,
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

function hangUp(): Error {
  return Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
}

function isStaleError(error: Error | undefined): boolean {
  if (error === undefined) return true;
  const code = "code" in error ? error.code : undefined;
  return code === "ECONNRESET" || code === "EPIPE";
}

/**
 * One request forwarded by the front door's fast path and its response relayed: the head the
 * proxy writes itself, the body by its `Content-Length`, then the server's response read strictly
 * and relayed by its framing, so that the client never takes a server's bytes for a second
 * response. The connection goes back to the pool only after a complete response.
 */
export class FastExchange implements UpstreamUser {
  private readonly head: string;
  private connection: UpstreamConnection | undefined;
  private reused = false;
  private retryable: boolean;
  private phase = Phase.Waiting;
  /** Body bytes that came before a connection did. */
  private queued: Buffer[] | undefined;
  private queuedBytes = 0;
  private bodyToSend: number;
  private bodyPaused = false;
  private headBuffer: Buffer | undefined;
  private remaining = 0;
  private scanner: ChunkedScanner | undefined;
  /** Response bytes have been written to the client. */
  private started = false;
  private receivedAny = false;
  /** The connection is in step for another request (nothing unexpected came). */
  private inStep = true;
  private keepClient = false;
  private clientFull = false;
  private finished = false;
  /** The response head, until it goes out with the first body bytes (one write, not two). */
  private pendingHead: string | undefined;

  constructor(
    private readonly shared: ExchangeShared,
    private readonly client: ExchangeClient,
    private readonly request: FastRequest,
    private readonly route: ProxyRoute,
  ) {
    const socket = client.socket;
    const headers = shared.context.rewriter.rewriteRequest(
      request.raw,
      socket.remoteAddress,
      false,
      route.token,
      false,
    );
    // As on the node:http path (`parseUserPath`): a scan that finds nothing to do for most URLs.
    let head = `${request.method} ${withoutTokenParams(request.url)} HTTP/1.1\r\n`;
    const list = headers.list;
    for (let i = 0; i + 1 < list.length; i += 2) head += `${list[i] ?? ""}: ${list[i + 1] ?? ""}\r\n`;
    this.head = `${head}Connection: keep-alive\r\n\r\n`;
    this.bodyToSend = request.contentLength;
    const method = request.method;
    // A reused connection may have been closed by the server just as we sent; a request with no
    // body and no side effects can then be sent once more.
    this.retryable =
      request.contentLength === 0 && (method === "GET" || method === "HEAD" || method === "OPTIONS");
    shared.pool.acquire(route.target, this);
  }

  attach(connection: UpstreamConnection, reused: boolean): void {
    this.connection = connection;
    this.reused = reused;
    this.phase = Phase.Head;
    const socket = connection.socket;
    const queued = this.queued;
    if (queued === undefined) {
      socket.write(this.head, "latin1");
    } else {
      socket.cork();
      socket.write(this.head, "latin1");
      for (const chunk of queued) socket.write(chunk);
      socket.uncork();
      this.queued = undefined;
      this.queuedBytes = 0;
      this.watchBodyPressure();
    }
  }

  /** Request body bytes from the client, never more than its `Content-Length`. */
  body(chunk: Buffer): void {
    if (this.finished) return;
    this.bodyToSend -= chunk.length;
    const connection = this.connection;
    if (connection === undefined) {
      (this.queued ??= []).push(chunk);
      this.queuedBytes += chunk.length;
      if (this.queuedBytes > RELAY_HIGH_WATER && !this.bodyPaused) {
        this.bodyPaused = true;
        this.client.pauseBody();
      }
      return;
    }
    connection.socket.write(chunk);
    this.watchBodyPressure();
  }

  onDrain(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.client.resumeBody();
  }

  /** The client's socket drained: the server may send again. */
  onClientDrain(): void {
    if (!this.clientFull) return;
    this.clientFull = false;
    this.connection?.socket.resume();
  }

  onData(data: Buffer): boolean {
    this.receivedAny = true;
    switch (this.phase) {
      case Phase.Head:
        this.readHead(data);
        break;
      case Phase.Length:
        this.relayLength(data);
        break;
      case Phase.Chunked:
        this.relayChunked(data);
        break;
      case Phase.UntilClose:
        this.toClient(data);
        break;
      case Phase.Waiting:
      case Phase.Done:
        this.inStep = false;
        break;
    }
    // A write the client's socket could not finish at once still refers to `data`. While the
    // server's connection is paused for it, no read overwrites `data` before the client drains.
    return !this.clientFull && this.client.socket.writableLength > 0;
  }

  onGone(error: Error | undefined): void {
    this.connection = undefined;
    if (this.finished) return;
    if (this.phase === Phase.UntilClose && error === undefined) {
      this.finish();
      return;
    }
    if (this.retryable && this.reused && !this.receivedAny && isStaleError(error)) {
      this.retryable = false;
      this.phase = Phase.Waiting;
      this.shared.pool.acquire(this.route.target, this, true);
      return;
    }
    this.finished = true;
    if (this.started) {
      if (error !== undefined) this.shared.context.reportTargetError(this.route, error);
      // Cut the client off too, so it sees a broken response rather than a short one that looks complete.
      this.client.socket.destroy();
      return;
    }
    this.shared.context.reportTargetError(this.route, error ?? hangUp());
    this.replyUnreachable();
  }

  /** The client went away: give up the server's connection, whose response is no longer wanted. */
  clientGone(): void {
    if (this.finished) return;
    this.finished = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) connection.discard();
    else this.shared.pool.cancel(this.route.target, this);
  }

  private watchBodyPressure(): void {
    const socket = this.connection?.socket;
    if (socket === undefined || this.bodyPaused || socket.writableLength <= RELAY_HIGH_WATER) return;
    this.bodyPaused = true;
    this.client.pauseBody();
  }

  private readHead(data: Buffer): void {
    let buffer = this.headBuffer === undefined ? data : Buffer.concat([this.headBuffer, data]);
    this.headBuffer = undefined;
    for (;;) {
      const end = buffer.indexOf(HEAD_END);
      if (end === -1 || end + 4 > MAX_RESPONSE_HEAD) {
        if (buffer.length > MAX_RESPONSE_HEAD) this.failProtocol("the response head is too large");
        // A line ended by a bare LF never makes a CRLF CRLF: waiting for one would wait forever.
        else if (hasBareLf(buffer, 0)) this.failProtocol("a line of the head ends in a bare LF");
        // `buffer` may be a view of the connection's read buffer, which the next read reuses.
        else this.headBuffer = Buffer.from(buffer);
        return;
      }
      const head = parseResponseHead(buffer, end);
      if (typeof head === "string") {
        this.failProtocol(head);
        return;
      }
      const rest = buffer.subarray(head.headLength);
      if (head.status >= 200) {
        this.respond(head, rest);
        return;
      }
      // `101` was never asked for; other informational answers (`103 Early Hints`) are dropped,
      // as `node:http`'s client drops them, and the final response follows.
      if (head.status === 101) {
        this.failProtocol("101 to a request that asked for no upgrade");
        return;
      }
      if (rest.length === 0) return;
      buffer = rest;
    }
  }

  private respond(head: ResponseHead, rest: Buffer): void {
    const status = head.status;
    const context = this.shared.context;
    let phase: Phase;
    if (this.request.method === "HEAD" || status === 204 || status === 304) phase = Phase.Done;
    else if (head.chunked) phase = Phase.Chunked;
    else if (head.contentLength === 0) phase = Phase.Done;
    else if (head.contentLength > 0) phase = Phase.Length;
    else phase = Phase.UntilClose;
    this.keepClient = !this.request.close && phase !== Phase.UntilClose;
    if (head.close) this.inStep = false;

    let out = `HTTP/1.1 ${status} ${head.reason}\r\n`;
    let hasDate = false;
    const list = context.rewriter.forResponse(head.raw, status);
    for (let i = 0; i + 1 < list.length; i += 2) {
      const name = list[i] ?? "";
      if (name.length === 4 && name.toLowerCase() === "date") hasDate = true;
      out += `${name}: ${list[i + 1] ?? ""}\r\n`;
    }
    if (phase === Phase.Chunked) out += "Transfer-Encoding: chunked\r\n";
    if (!hasDate) out += `Date: ${this.shared.date()}\r\n`;
    out += this.keepClient ? this.client.keepAliveLines : "Connection: close\r\n";
    out += "\r\n";

    // Errors, redirects to login and missing files are not a user at work.
    if (status < 400) context.activity.record(this.route);
    context.metrics.request(statusClass(status));

    this.started = true;
    this.phase = phase;
    this.pendingHead = out;
    switch (phase) {
      case Phase.Done:
        if (rest.length > 0) this.inStep = false;
        this.finish();
        break;
      case Phase.Length:
        this.remaining = head.contentLength;
        if (rest.length > 0) this.relayLength(rest);
        break;
      case Phase.Chunked:
        this.scanner = new ChunkedScanner();
        if (rest.length > 0) this.relayChunked(rest);
        break;
      case Phase.UntilClose:
        if (rest.length > 0) this.toClient(rest);
        break;
    }
    this.flushHead();
  }

  /** Writes the response head if no body bytes took it along. */
  private flushHead(): void {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    this.client.socket.write(head, "latin1");
  }

  private relayLength(data: Buffer): void {
    const take = Math.min(this.remaining, data.length);
    this.remaining -= take;
    if (take > 0) this.toClient(take === data.length ? data : data.subarray(0, take));
    if (take < data.length) this.inStep = false;
    if (this.remaining === 0) this.finish();
  }

  private relayChunked(data: Buffer): void {
    const scanner = this.scanner;
    if (scanner === undefined) return;
    if (!scanner.scan(data)) {
      this.failProtocol("malformed chunked body");
      return;
    }
    if (scanner.relay !== undefined) this.toClient(scanner.relay);
    if (!scanner.done) return;
    this.toClient(LAST_CHUNK);
    if (scanner.consumed < data.length) this.inStep = false;
    this.finish();
  }

  private toClient(data: Buffer): void {
    const socket = this.client.socket;
    const head = this.pendingHead;
    if (head === undefined) {
      socket.write(data);
    } else if (head.length + data.length < JOIN_LIMIT) {
      this.pendingHead = undefined;
      const out = Buffer.allocUnsafe(head.length + data.length);
      out.write(head, 0, "latin1");
      data.copy(out, head.length);
      socket.write(out);
    } else {
      this.pendingHead = undefined;
      socket.cork();
      socket.write(head, "latin1");
      socket.write(data);
      socket.uncork();
    }
    // Stop reading from the server as soon as the client's socket holds a write back (as `pipe`
    // does), rather than queueing more: the kernel's buffers on both sides keep the bytes flowing,
    // and the connection's one read buffer is reused once the client drains instead of a new one
    // being allocated for every read. Fifty slow clients of large responses would otherwise hold
    // megabytes each, which the allocator keeps long after they are freed.
    if (this.clientFull || !socket.writableNeedDrain) return;
    this.clientFull = true;
    this.connection?.socket.pause();
  }

  /** The server broke HTTP: nothing more from this connection can be trusted. */
  private failProtocol(reason: string): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.discard();
    if (this.finished) return;
    this.finished = true;
    this.shared.context.reportTargetError(this.route, invalidResponse(reason));
    this.pendingHead = undefined;
    if (this.started) this.client.socket.destroy();
    else this.replyUnreachable();
  }

  private replyUnreachable(): void {
    const keep = this.bodyToSend === 0 && !this.request.close;
    const lines = `Date: ${this.shared.date()}\r\n${keep ? this.client.keepAliveLines : "Connection: close\r\n"}`;
    this.client.socket.write(rawErrorResponse(this.request, SERVER_UNREACHABLE, lines));
    this.shared.context.metrics.request("5xx");
    this.client.exchangeDone(keep);
  }

  private finish(): void {
    if (this.finished) return;
    this.flushHead();
    this.finished = true;
    this.phase = Phase.Done;
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) {
      if (this.clientFull) connection.socket.resume();
      // The server answered before it took the whole body (a 413 to an upload): the connection is
      // out of step, and the client's connection drops the rest of the body.
      if (this.inStep && this.bodyToSend === 0) this.shared.pool.release(connection);
      else connection.discard();
    }
    this.clientFull = false;
    this.client.exchangeDone(this.keepClient);
  }
}
