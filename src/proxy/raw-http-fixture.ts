/**
 * Raw-socket helpers for the proxy's tests: a user's-server stand-in that writes exactly the
 * bytes a test scripts, and a client that sends exact bytes and reads responses one by one.
 */
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import type { SocketTarget } from "../domain/types.js";
import { listenOnTestSocket } from "./socket-fixture.js";

export interface RawRequest {
  readonly head: string;
  readonly body: Buffer;
  /** The request's index on its connection, from 0. */
  readonly onConnection: number;
}

export interface RawBackend {
  readonly target: SocketTarget;
  readonly requests: RawRequest[];
  /** Connections that carried bytes (the proxy's watch of a route carries none). */
  connections: number;
  /** Bytes received on all connections, whole requests or not. */
  bytes: number;
  close(): Promise<void>;
}

/** A whole chunked body from `start` (no trailers), or undefined while it is incomplete. */
function decodeChunked(data: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (size === 0)
      return data.length < lineEnd + 4 ? undefined : { body: Buffer.concat(parts), end: lineEnd + 4 };
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Calls `respond` for each request (head and `Content-Length` body); it writes to the socket as it likes. */
export async function startRawBackend(
  respond: (request: RawRequest, socket: Socket) => void,
): Promise<RawBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.once("data", () => {
      backend.connections += 1;
    });
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    let count = 0;
    socket.on("data", (chunk: Buffer) => {
      backend.bytes += chunk.length;
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buffered.subarray(0, end).toString("latin1");
        let body: Buffer;
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const decoded = decodeChunked(buffered, end + 4);
          if (decoded === undefined) return;
          body = decoded.body;
          buffered = buffered.subarray(decoded.end);
        } else {
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
          if (buffered.length < end + 4 + length) return;
          body = buffered.subarray(end + 4, end + 4 + length);
          buffered = buffered.subarray(end + 4 + length);
        }
        const request = { head, body, onConnection: count };
        count += 1;
        backend.requests.push(request);
        respond(request, socket);
      }
    });
  });
  const target = await listenOnTestSocket(server);
  const backend: RawBackend = {
    target,
    requests: [],
    connections: 0,
    bytes: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
  return backend;
}

/** The URL of a raw request head. */
export function urlOf(request: RawRequest): string {
  return request.head.split(" ")[1] ?? "";
}

/** Header values of a raw head by lower-case name, in order. */
export function headerValues(head: string, name: string): string[] {
  const values: string[] = [];
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name) values.push(line.slice(colon + 1).trim());
  }
  return values;
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: Buffer;
  header(name: string): string | undefined;
}

/** A client on one connection: writes exact bytes, reads whole responses in order. */
export class RawClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  /** Received and not yet read, in the pieces it came in: joined only when searched. */
  private pieces: Buffer[] = [];
  private received = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.pieces.push(chunk);
      this.received += chunk.length;
      this.wake?.();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.ended = true;
        this.wake?.();
        resolve();
      });
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    return new RawClient(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received and not yet read as a response. */
  get unread(): Buffer {
    return this.buffered;
  }

  private get buffered(): Buffer {
    if (this.pieces.length !== 1) this.pieces = [Buffer.concat(this.pieces)];
    return this.pieces[0] ?? Buffer.alloc(0);
  }

  private set buffered(rest: Buffer) {
    this.pieces = [rest];
    this.received = rest.length;
  }

  /** The next complete response; rejects if the connection closes before it is whole. */
  async response(method = "GET"): Promise<RawResponse> {
    const end = await this.until(() => this.buffered.indexOf("\r\n\r\n"));
    const head = this.buffered.subarray(0, end).toString("latin1");
    this.buffered = this.buffered.subarray(end + 4);
    const status = Number(head.slice(9, 12));
    const header = (name: string): string | undefined => headerValues(head, name)[0];
    let body: Buffer = Buffer.alloc(0);
    if (method !== "HEAD" && status !== 204 && status !== 304 && status >= 200) {
      const length = header("content-length");
      if (length !== undefined) body = await this.take(Number(length));
      else if (header("transfer-encoding")?.toLowerCase() === "chunked") body = await this.chunks();
      else body = await this.rest();
    }
    return { status, head, body, header };
  }

  private async chunks(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = await this.until(() => this.buffered.indexOf("\r\n"));
      const size = parseInt(this.buffered.subarray(0, lineEnd).toString("latin1"), 16);
      this.buffered = this.buffered.subarray(lineEnd + 2);
      if (size === 0) {
        const trailersEnd = await this.until(() => this.buffered.indexOf("\r\n"));
        if (trailersEnd !== 0) throw new Error("the proxy relayed trailers");
        this.buffered = this.buffered.subarray(2);
        return Buffer.concat(parts);
      }
      parts.push(await this.take(size));
      const crlf = await this.take(2);
      if (crlf.toString("latin1") !== "\r\n") throw new Error("malformed chunk");
    }
  }

  private async take(size: number): Promise<Buffer> {
    await this.until(() => (this.received >= size ? 0 : -1));
    const out = this.buffered.subarray(0, size);
    this.buffered = this.buffered.subarray(size);
    return out;
  }

  private async rest(): Promise<Buffer> {
    await this.closed;
    const out = this.buffered;
    this.buffered = Buffer.alloc(0);
    return out;
  }

  private async until(find: () => number): Promise<number> {
    for (;;) {
      const found = find();
      if (found !== -1) return found;
      if (this.ended) throw new Error("the connection closed before the response was complete");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

/** Sends `bytes` on a connection of its own and reads one response. */
export async function exchange(port: number, bytes: string | Buffer, method = "GET"): Promise<RawResponse> {
  const client = await RawClient.connect(port);
  try {
    client.write(bytes);
    return await client.response(method);
  } finally {
    client.socket.destroy();
  }
}

/**
 * Sends `bytes` on a connection of its own, half-closing it after them when `halfClose`, and
 * returns everything the front door wrote until it closed the connection.
 */
export async function untilClosed(port: number, bytes: string | Buffer, halfClose = false): Promise<string> {
  const client = await RawClient.connect(port);
  client.write(bytes);
  if (halfClose) client.socket.end();
  await client.closed;
  return client.unread.toString("latin1");
}

/**
 * Sends `bytes` (a request that asks to close) on a connection of its own and returns all that
 * comes back until the connection closes, taking each chunk only after the event loop has
 * turned: a client slower than the proxy, whose writes back up.
 */
export async function readSlowly(port: number, bytes: string): Promise<Buffer> {
  const client = await RawClient.connect(port);
  const socket = client.socket;
  socket.removeAllListeners("data");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    socket.pause();
    setImmediate(() => socket.resume());
  });
  client.write(bytes);
  await client.closed;
  return Buffer.concat(chunks);
}

/** A JSON error body's `code`. */
export function codeOf(body: Buffer): unknown {
  const value: unknown = JSON.parse(body.toString("utf8"));
  return typeof value === "object" && value !== null && "code" in value ? value.code : undefined;
}
