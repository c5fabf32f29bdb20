import type { Socket } from "node:net";
import type { ExchangeClient } from "./exchange-client.js";
import type { FastExchange } from "./fast-exchange.js";
import type { FastForwarder } from "./fast-forwarder.js";
import { hasBareLf } from "./http-syntax.js";
import { parseRequestHead, type FastRequest } from "./request-head.js";
import type { ProxyRoute } from "./types.js";

const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
/** Pipelined bytes held while a request is answered; past this the connection stops reading. */
const MAX_BUFFERED = 64 * 1024;
/** As `node:http` answers a head that does not come in time, and one the client's FIN cut off. */
const REQUEST_TIMEOUT = Buffer.from("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n", "latin1");
const BAD_REQUEST = Buffer.from("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", "latin1");

/** What a fast-path connection needs from the front door. */
export interface FastDoor {
  readonly forwarder: FastForwarder;
  /** The gate: the route to forward to, or `undefined` to give the connection to `node:http`. */
  admit(request: FastRequest): ProxyRoute | undefined | Promise<ProxyRoute | undefined>;
  /** Gives the socket, its unread bytes put back, to `node:http` for good. */
  handOff(socket: Socket): void;
  /** The connection is closed or handed off. */
  forget(connection: FastConnection): void;
  readonly maxHeadSize: number;
  readonly maxHeaders: number;
  /** Milliseconds to receive a whole head (0: none), as `server.headersTimeout`. */
  readonly headersTimeout: number;
  /** Milliseconds to receive a whole request body (0: none), as `server.requestTimeout`. */
  readonly requestTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open (0: no limit), as `server.keepAliveTimeout`. */
  readonly keepAliveTimeout: number;
  readonly keepAliveLines: string;
}

const enum Phase {
  Head,
  Gate,
  Exchange,
  HandedOff,
  Closed,
}

/**
 * One client connection served by the front door's fast path: reads request heads itself, one
 * request at a time and strictly in order, forwards those the strict parser and the gate accept
 * without a wait, and gives the connection to `node:http` — for good, with every byte it read
 * and did not use put back — the moment a request is anything else.
 */
export class FastConnection implements ExchangeClient {
  readonly keepAliveLines: string;
  private phase = Phase.Head;
  /** Bytes read and not yet used: a partial head, or pipelined requests. */
  private buffered: Buffer | undefined;
  private scanFrom = 0;
  private exchange: FastExchange | undefined;
  /** Request body bytes the client still owes: for the exchange, or to drop once it answered. */
  private bodyLeft = 0;
  private keep = true;
  private paused = false;
  private bodyPaused = false;
  private headTimer: NodeJS.Timeout | undefined;
  private bodyTimer: NodeJS.Timeout | undefined;
  private answered = false;

  constructor(
    readonly socket: Socket,
    private readonly door: FastDoor,
  ) {
    this.keepAliveLines = door.keepAliveLines;
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
    socket.on("drain", this.onDrain);
    socket.on("timeout", this.onTimeout);
    if (door.keepAliveTimeout > 0) socket.setTimeout(door.keepAliveTimeout);
  }

  /** Nothing is being answered and no request has begun to arrive. */
  get idle(): boolean {
    return this.phase === Phase.Head && this.buffered === undefined;
  }

  pauseBody(): void {
    this.bodyPaused = true;
    this.updateReading();
  }

  resumeBody(): void {
    this.bodyPaused = false;
    this.updateReading();
  }

  exchangeDone(keep: boolean): void {
    this.exchange = undefined;
    this.answered = true;
    this.bodyPaused = false;
    if (!keep) this.keep = false;
    if (!this.keep) {
      this.socket.destroySoon();
      return;
    }
    // Still owed body bytes (the server answered early) are read and dropped before the next request.
    if (this.bodyLeft === 0) this.next();
    else this.updateReading();
  }

  private readonly onData = (chunk: Buffer): void => {
    let body: Buffer | undefined;
    let rest = chunk;
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, chunk.length);
      this.bodyLeft -= n;
      body = n === chunk.length ? chunk : chunk.subarray(0, n);
      rest = chunk.subarray(n);
    }
    if (rest.length > 0)
      this.buffered = this.buffered === undefined ? rest : Buffer.concat([this.buffered, rest]);
    if (body !== undefined) {
      this.exchange?.body(body);
      if (this.bodyLeft === 0) this.bodyDone();
    }
    if (this.phase === Phase.Head) this.readHeads();
    else this.updateReading();
  };

  private bodyDone(): void {
    if (this.bodyTimer !== undefined) {
      clearTimeout(this.bodyTimer);
      this.bodyTimer = undefined;
    }
    if (this.exchange === undefined && this.phase === Phase.Exchange) this.next();
  }

  /** Ready for the next request: the last one is answered and its body read. */
  private next(): void {
    this.phase = Phase.Head;
    this.answered = false;
    this.readHeads();
    this.updateReading();
  }

  private readHeads(): void {
    while (this.phase === Phase.Head) {
      const buffered = this.buffered;
      if (buffered === undefined) return;
      const end = buffered.indexOf(HEAD_END, this.scanFrom);
      if (end === -1) {
        // A bare LF would never make a CRLF CRLF: let `node:http` judge such a head now.
        if (buffered.length > this.door.maxHeadSize || hasBareLf(buffered, this.scanFrom)) this.handOff();
        else {
          this.scanFrom = Math.max(0, buffered.length - 3);
          this.armHeadTimer();
        }
        return;
      }
      this.scanFrom = 0;
      this.clearHeadTimer();
      const request =
        end + 4 > this.door.maxHeadSize
          ? undefined
          : parseRequestHead(buffered, end, this.door.maxHeaders, this.socket);
      const route = request === undefined ? undefined : this.door.admit(request);
      if (request === undefined || route === undefined) {
        this.handOff();
        return;
      }
      if (route instanceof Promise) {
        this.phase = Phase.Gate;
        route.then(
          (resolved) => this.admitted(request, resolved),
          () => this.admitted(request, undefined),
        );
        return;
      }
      this.start(request, route);
    }
  }

  private admitted(request: FastRequest, route: ProxyRoute | undefined): void {
    if (this.phase !== Phase.Gate) return;
    this.phase = Phase.Head;
    if (route === undefined) this.handOff();
    else this.start(request, route);
  }

  private start(request: FastRequest, route: ProxyRoute): void {
    this.phase = Phase.Exchange;
    const buffered = this.buffered;
    let rest =
      buffered === undefined || buffered.length <= request.headLength
        ? undefined
        : buffered.subarray(request.headLength);
    this.bodyLeft = request.contentLength;
    if (request.close) this.keep = false;
    const exchange = this.door.forwarder.start(this, request, route);
    this.exchange = exchange;
    if (this.bodyLeft > 0 && rest !== undefined) {
      const n = Math.min(this.bodyLeft, rest.length);
      this.bodyLeft -= n;
      exchange.body(n === rest.length ? rest : rest.subarray(0, n));
      rest = n === rest.length ? undefined : rest.subarray(n);
    }
    this.buffered = rest;
    if (this.bodyLeft > 0 && this.door.requestTimeout > 0) {
      this.bodyTimer = setTimeout(this.onBodyTimeout, this.door.requestTimeout);
      this.bodyTimer.unref();
    }
    this.updateReading();
  }

  /**
   * Reads only what the connection can use: not while the server is slower than the upload, and
   * not past {@link MAX_BUFFERED} of pipelined requests while one is being answered.
   */
  private updateReading(): void {
    const hold =
      this.bodyPaused ||
      (this.phase !== Phase.Head && this.bodyLeft === 0 && (this.buffered?.length ?? 0) > MAX_BUFFERED);
    if (hold === this.paused || this.phase >= Phase.HandedOff) return;
    this.paused = hold;
    if (hold) this.socket.pause();
    else this.socket.resume();
  }

  private handOff(): void {
    const socket = this.socket;
    this.phase = Phase.HandedOff;
    this.clearHeadTimer();
    this.door.forget(this);
    socket.pause();
    socket.removeListener("data", this.onData);
    socket.removeListener("end", this.onEnd);
    socket.removeListener("error", this.onError);
    socket.removeListener("close", this.onClose);
    socket.removeListener("drain", this.onDrain);
    socket.removeListener("timeout", this.onTimeout);
    socket.setTimeout(0);
    const buffered = this.buffered;
    this.buffered = undefined;
    if (buffered !== undefined) socket.unshift(buffered);
    this.door.handOff(socket);
    socket.resume();
  }

  private armHeadTimer(): void {
    if (this.headTimer !== undefined || this.door.headersTimeout <= 0) return;
    this.headTimer = setTimeout(this.onHeadTimeout, this.door.headersTimeout);
    this.headTimer.unref();
  }

  private clearHeadTimer(): void {
    if (this.headTimer === undefined) return;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  /** A head that takes too long to arrive (slowloris): 408 and close, as `node:http` does. */
  private readonly onHeadTimeout = (): void => {
    this.headTimer = undefined;
    if (this.phase !== Phase.Head) return;
    this.timeOut();
  };

  private readonly onBodyTimeout = (): void => {
    this.bodyTimer = undefined;
    if (this.phase !== Phase.Exchange || this.bodyLeft === 0) return;
    this.timeOut();
  };

  private timeOut(): void {
    const socket = this.socket;
    if (this.exchange !== undefined || this.answered || !socket.writable) {
      socket.destroy();
      return;
    }
    this.phase = Phase.Closed;
    socket.end(REQUEST_TIMEOUT);
    socket.destroySoon();
  }

  /**
   * The client's FIN ends the connection, as it does on `node:http` (whose server ends its side
   * at once, and whose answers not yet written are lost): what is written goes out, nothing more
   * is forwarded or answered, and the server's connection is given up. A head the FIN cut off
   * is answered 400, as `node:http`'s parser answers it.
   */
  private readonly onEnd = (): void => {
    const socket = this.socket;
    const cutHead = this.phase === Phase.Head && this.buffered !== undefined;
    this.phase = Phase.Closed;
    this.clearHeadTimer();
    const exchange = this.exchange;
    this.exchange = undefined;
    exchange?.clientGone();
    if (cutHead && socket.writable) socket.end(BAD_REQUEST);
    socket.destroySoon();
  };

  private readonly onError = (): void => {
    // `close` follows; the socket is already destroyed.
  };

  private readonly onClose = (): void => {
    this.phase = Phase.Closed;
    this.clearHeadTimer();
    if (this.bodyTimer !== undefined) clearTimeout(this.bodyTimer);
    this.exchange?.clientGone();
    this.exchange = undefined;
    this.door.forget(this);
  };

  private readonly onDrain = (): void => {
    this.exchange?.onClientDrain();
  };

  private readonly onTimeout = (): void => {
    // Idle past the keep-alive timeout. A partial head has its own deadline; an exchange in
    // flight may legitimately be quiet (long polling).
    if (this.idle) this.socket.destroy();
  };
}
