import { maxHeaderSize as defaultMaxHeaderSize, Server, type ServerOptions } from "node:http";
import type { Socket } from "node:net";
import { FastConnection, type FastDoor } from "./fast-connection.js";
import type { FastForwarder } from "./fast-forwarder.js";
import { MAX_REQUEST_HEADERS } from "./head-fault.js";
import type { FastRequest } from "./request-head.js";
import type { ProxyRoute } from "./types.js";

export type FrontDoorServerOptions = Pick<
  ServerOptions,
  "keepAliveTimeout" | "headersTimeout" | "requestTimeout" | "maxHeaderSize" | "connectionsCheckingInterval"
>;

/** The proxy's fast path, as the front door's server uses it. */
export interface FastPath {
  admit(request: FastRequest): ProxyRoute | undefined | Promise<ProxyRoute | undefined>;
  readonly forwarder: FastForwarder;
}

/**
 * A `node:http` server whose connections start on the proxy's fast path. Its own connection
 * listener is taken off and kept: a connection goes to it, for good, only at the first request
 * the fast path does not take (anything but a plain `/user/` request the gate passes at once).
 * So the hub's web app, error pages, redirects, websockets and every odd request are answered
 * by `node:http` as before, and Fastify still sees the `http.Server` it expects.
 */
export class FrontDoorServer extends Server {
  private readonly fastConnections = new Set<FastConnection>();
  private readonly httpConnection: (socket: Socket) => void;
  private readonly fastDoor: FastDoor | undefined;

  constructor(options: ServerOptions, fast: FastPath | undefined) {
    super(options);
    const listeners = this.listeners("connection");
    const listener = listeners[0];
    if (listeners.length !== 1 || listener === undefined)
      throw new Error("node:http's server did not set up its connection listener as expected");
    this.httpConnection = (socket) => {
      Reflect.apply(listener, this, [socket]);
    };
    if (fast === undefined) return;
    this.removeAllListeners("connection");
    this.fastDoor = new ServerDoor(
      this,
      options.maxHeaderSize ?? defaultMaxHeaderSize,
      fast,
      (socket) => this.httpConnection(socket),
      (connection) => this.fastConnections.delete(connection),
    );
    this.on("connection", (socket: Socket) => this.accept(socket));
  }

  /** Also closes idle fast-path connections (`server.close()` calls this). */
  override closeIdleConnections(): void {
    super.closeIdleConnections();
    for (const connection of [...this.fastConnections]) if (connection.idle) connection.socket.destroy();
  }

  override closeAllConnections(): void {
    super.closeAllConnections();
    for (const connection of [...this.fastConnections]) connection.socket.destroy();
  }

  private accept(socket: Socket): void {
    const door = this.fastDoor;
    if (door === undefined) this.httpConnection(socket);
    else this.fastConnections.add(new FastConnection(socket, door));
  }
}

/** The fast path's view of the server: its live timeouts and limits, and the way to `node:http`. */
class ServerDoor implements FastDoor {
  /** More and the request goes to `node:http`, where the proxy refuses it (431). */
  readonly maxHeaders = MAX_REQUEST_HEADERS;
  readonly forwarder: FastForwarder;

  constructor(
    private readonly server: Server,
    readonly maxHeadSize: number,
    private readonly fast: FastPath,
    readonly handOff: (socket: Socket) => void,
    readonly forget: (connection: FastConnection) => void,
  ) {
    this.forwarder = fast.forwarder;
  }

  admit(request: FastRequest): ProxyRoute | undefined | Promise<ProxyRoute | undefined> {
    return this.fast.admit(request);
  }

  get headersTimeout(): number {
    return this.server.headersTimeout;
  }

  get requestTimeout(): number {
    return this.server.requestTimeout;
  }

  get keepAliveTimeout(): number {
    return this.server.keepAliveTimeout;
  }

  /** As `node:http` writes them. */
  get keepAliveLines(): string {
    const seconds = Math.floor(this.server.keepAliveTimeout / 1000);
    return seconds > 0
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${seconds}\r\n`
      : "Connection: keep-alive\r\n";
  }
}
