import type { IncomingMessage, RequestListener, Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { FrontDoorServer, type FrontDoorServerOptions } from "./front-door-server.js";
import type { Proxy } from "./proxy.js";

/**
 * The part of the proxy the front door calls. With `admitFast` and `fastForwarder`, requests
 * the fast path can take never go through `node:http`; without them every request does.
 */
export type FrontDoorProxy = Pick<Proxy, "handleRequest" | "handleUpgrade"> &
  Partial<Pick<Proxy, "admitFast" | "fastForwarder">>;

export interface FrontDoorOptions {
  readonly proxy: FrontDoorProxy;
  /** Everything not under `/user/`: the web app as a plain request listener. */
  readonly app: RequestListener;
  /** Timeouts and limits for the listener; Node's defaults otherwise. */
  readonly server?: FrontDoorServerOptions;
  /** Serve `/user/` requests on the fast path when the proxy offers one. Default true. */
  readonly fastPath?: boolean;
}

export interface FrontDoor {
  readonly server: Server;
  /** Resolves with the bound address (use port 0 for any free port). */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Destroys every open connection and websocket, leaving the listener up (for a server closed elsewhere). */
  closeAll(): void;
  /** Stops accepting, destroys every open connection and websocket, and resolves once closed. */
  close(): Promise<void>;
}

const USER_PREFIX = "/user/";

const NOT_FOUND_BODY = JSON.stringify({ status: 404, code: "not_found", message: "Nothing is here." });
const NOT_FOUND_UPGRADE =
  "HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\n" +
  `Content-Length: ${Buffer.byteLength(NOT_FOUND_BODY)}\r\nConnection: close\r\n\r\n${NOT_FOUND_BODY}`;

function refuseUnknownUpgrade(socket: Duplex): void {
  socket.on("error", destroyOnError);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(NOT_FOUND_UPGRADE);
  socket.once("finish", destroyOnError);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * The one listener of the hub. A URL starting with exactly `/user/` goes to the proxy;
 * anything else, `/USER/`, `//user/` and absolute-form URLs included, goes to the web app,
 * which has no websockets, so other upgrades get 404. Connections start on the proxy's fast
 * path ({@link FrontDoorServer}) and move to `node:http` at the first request it does not take.
 */
export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { proxy, app } = options;
  const sockets = new Set<Socket>();
  const { admitFast, fastForwarder } = proxy;
  const fast =
    options.fastPath !== false && admitFast !== undefined && fastForwarder !== undefined
      ? { admit: admitFast.bind(proxy), forwarder: fastForwarder }
      : undefined;
  const server: Server = new FrontDoorServer({ ...options.server }, fast);

  server.on("request", (req: IncomingMessage, res) => {
    const url = req.url;
    if (url !== undefined && url.startsWith(USER_PREFIX)) proxy.handleRequest(req, res);
    else app(req, res);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url;
    if (url !== undefined && url.startsWith(USER_PREFIX)) proxy.handleUpgrade(req, socket, head);
    else refuseUnknownUpgrade(socket);
  });
  // Upgraded sockets leave the server's own bookkeeping, so closing needs a list of its own.
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  const closeAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  return {
    server,
    closeAll,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          const address = server.address();
          if (address === null || typeof address === "string") reject(new Error("not bound to a TCP port"));
          else resolve(address);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (server.listening) server.close((error) => (error === undefined ? resolve() : reject(error)));
        else resolve();
        closeAll();
      });
    },
  };
}
