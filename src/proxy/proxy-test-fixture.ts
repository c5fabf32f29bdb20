/**
 * Real servers for the proxy's tests: Jupyter stand-ins built on node:http and `ws`, and a
 * front door with a stub web app. The front door listens on 127.0.0.1 port 0, the stand-ins on
 * Unix sockets, as local servers do.
 */
import { EventEmitter, once } from "node:events";
import {
  createServer,
  type Agent,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import type { ServerTarget, SocketTarget } from "../domain/types.js";
import { listenOnTestSocket } from "./socket-fixture.js";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { createFrontDoor, type FrontDoor, type FrontDoorOptions } from "./front-door.js";
import { Proxy, type ProxyOptions } from "./proxy.js";
import type { CredentialRequest, ProxyPrincipal, ProxyRoute } from "./types.js";

export const ORIGIN = "http://127.0.0.1:8000";
export const HUB_COOKIES = ["__Host-slipway-session", "slipway-session", "_slipway_xsrf"];
export const ONE_MIB = 1024 * 1024;

/** A deterministic body, so a lost, doubled or reordered chunk shows. */
export function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) out[i] = (i * 31 + (i >> 10)) & 0xff;
  return out;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface Backend {
  readonly target: SocketTarget;
  readonly requests: SeenRequest[];
  readonly upgradeRequests: SeenRequest[];
  /** Connections that carried a request, HTTP and websocket alike (the proxy's watch carries none). */
  connections: number;
  /** Resolves when the server side of the websocket opened on `url` closes. */
  nextWebSocketClose(url: string): Promise<void>;
  /** Cuts every websocket from the server's side, as a dying Jupyter server would. */
  dropWebSockets(): void;
  close(): Promise<void>;
}

/**
 * A Jupyter stand-in. `…/big` answers 1 MiB; `…/missing` 404 (to websockets too); `…/early`
 * 413 without reading the body; POST and PUT echo their body; anything else echoes method,
 * URL and headers as JSON. Websockets echo every message.
 */
export async function startBackend(): Promise<Backend> {
  const big = pattern(ONE_MIB);
  const carried = new WeakSet<object>();
  const count = (req: IncomingMessage): void => {
    if (carried.has(req.socket)) return;
    carried.add(req.socket);
    backend.connections += 1;
  };
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    count(req);
    backend.requests.push({ method: req.method ?? "", url, headers: req.headers });
    if (url.endsWith("/big")) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": big.length });
      res.end(big);
    } else if (url.endsWith("/early")) {
      // Answers before reading the body, as Jupyter does when it refuses an upload.
      res.writeHead(413, { "content-type": "application/json" });
      res.end('{"message":"too large"}');
    } else if (url.endsWith("/missing")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"message":"no such file"}');
    } else if (req.method === "POST" || req.method === "PUT") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      req.pipe(res);
    } else {
      res.writeHead(200, {
        "content-type": "application/json",
        "set-cookie": ["_xsrf=server-xsrf; Path=/", "slipway-session=planted; Path=/"],
        connection: "x-private",
        "x-private": "hop",
      });
      res.end(JSON.stringify({ method: req.method, url, headers: req.headers }));
    }
  });
  const wss = new WebSocketServer({ noServer: true });
  const events = new EventEmitter();
  wss.on("connection", (socket, req: IncomingMessage) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on("close", () => events.emit("websocket-closed", req.url ?? ""));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    count(req);
    backend.upgradeRequests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (req.url?.endsWith("/missing") === true) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  const backend: Backend = {
    target: { kind: "unix", socket: "" },
    requests: [],
    upgradeRequests: [],
    connections: 0,
    dropWebSockets() {
      for (const client of wss.clients) client.terminate();
    },
    nextWebSocketClose(url) {
      return new Promise((resolve) => {
        const listener = (closed: string): void => {
          if (closed !== url) return;
          events.off("websocket-closed", listener);
          resolve();
        };
        events.on("websocket-closed", listener);
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
  return Object.assign(backend, { target: await listenOnTestSocket(server) });
}

export function principal(userName: string, via: "cookie" | "token"): ProxyPrincipal {
  return {
    userName,
    admin: false,
    via,
    sessionKey: `${via}:${userName}`,
    mayAccess: (owner) => owner === userName,
  };
}

/** Cookie `slipway-session=<user>` or `Authorization: token tok-<user>` signs in one of `users`. */
export function fakeAuthenticate(users: readonly string[]) {
  return (req: CredentialRequest): ProxyPrincipal | null => {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const match = /^(?:token|Bearer) tok-([a-z]+)$/.exec(authorization);
      return match?.[1] !== undefined && users.includes(match[1]) ? principal(match[1], "token") : null;
    }
    const cookie = /(?:^|;\s*)slipway-session=([a-z]+)/.exec(req.headers.cookie ?? "");
    return cookie?.[1] !== undefined && users.includes(cookie[1]) ? principal(cookie[1], "cookie") : null;
  };
}

export function route(serverId: number, owner: string, serverName: string, target: ServerTarget): ProxyRoute {
  return {
    serverId,
    owner,
    serverName,
    target,
    token: `server-token-${serverId}`,
  };
}

export interface Gateway {
  readonly proxy: Proxy;
  readonly frontDoor: FrontDoor;
  readonly port: number;
  /** URLs the stub web app was asked for. */
  readonly appHits: string[];
  /** URLs of the requests `node:http` parsed (the fast path parses its own), in order. */
  readonly nodeHttp: string[];
  readonly targetErrors: { route: ProxyRoute; error: Error }[];
  /** Routes whose watch connection closed, in order. */
  readonly targetsLost: ProxyRoute[];
  /** Arguments of every resolveMiss call. */
  readonly misses: { owner: string; serverName: string | undefined }[];
  /** The fake clock's current time; tests move it. */
  clock: Date;
  close(): Promise<void>;
}

export async function startGateway(
  overrides: Partial<ProxyOptions> = {},
  door: Pick<FrontDoorOptions, "server" | "fastPath"> = {},
): Promise<Gateway> {
  const appHits: string[] = [];
  const nodeHttp: string[] = [];
  const targetErrors: Gateway["targetErrors"] = [];
  const targetsLost: ProxyRoute[] = [];
  const misses: Gateway["misses"] = [];
  const gateway = {
    appHits,
    nodeHttp,
    targetErrors,
    targetsLost,
    misses,
    clock: new Date("2026-01-01T00:00:00Z"),
  };
  const proxy = new Proxy({
    authenticate: fakeAuthenticate(["alice", "bob", "carol"]),
    resolveMiss: (owner, serverName) => {
      misses.push({ owner, serverName });
      return Promise.resolve(undefined);
    },
    allowedOrigins: [ORIGIN],
    hubCookieNames: HUB_COOKIES,
    now: () => gateway.clock,
    onTargetError: (failed, error) => targetErrors.push({ route: failed, error }),
    onTargetLost: (lost) => targetsLost.push(lost),
    ...overrides,
  });
  const frontDoor = createFrontDoor({
    ...door,
    proxy,
    app: (req, res) => {
      appHits.push(req.url ?? "");
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"status":404,"code":"not_found","message":"Nothing is here."}');
    },
  });
  frontDoor.server.on("request", (req: IncomingMessage) => nodeHttp.push(req.url ?? ""));
  const address = await frontDoor.listen(0, "127.0.0.1");
  return Object.assign(gateway, {
    proxy,
    frontDoor,
    port: address.port,
    async close() {
      proxy.close();
      await frontDoor.close();
    },
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json(): unknown;
  /** The `code` of a JSON error body. */
  code(): string | undefined;
}

function codeOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("code" in value)) return undefined;
  return typeof value.code === "string" ? value.code : undefined;
}

/** The headers a backend echoed back as JSON. */
export function echoedHeaders(reply: Reply): Record<string, unknown> {
  const value = reply.json();
  if (typeof value !== "object" || value === null || !("headers" in value))
    throw new Error("no echoed headers");
  const headers = value.headers;
  if (typeof headers !== "object" || headers === null) throw new Error("no echoed headers");
  return { ...headers };
}

/** Sends `path` byte for byte (Node's client does not normalise it). */
export function send(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: OutgoingHttpHeaders;
    body?: Buffer | string;
    agent?: Agent | false;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      method: options.method ?? "GET",
      headers: options.headers,
      agent: options.agent,
    });
    req.once("error", reject);
    req.once("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: (): unknown => JSON.parse(body.toString("utf8")),
          code: (): string | undefined => codeOf(JSON.parse(body.toString("utf8"))),
        });
      });
    });
    req.end(options.body);
  });
}

export type WebSocketAttempt =
  | { readonly opened: true; readonly socket: WebSocket }
  | { readonly opened: false; readonly status: number; readonly code: string | undefined };

/** Opens a websocket, or reports the HTTP answer that refused it. */
export function openWebSocket(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<WebSocketAttempt> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    socket.once("open", () => resolve({ opened: true, socket }));
    socket.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ opened: false, status: res.statusCode ?? 0, code: codeOf(JSON.parse(body || "null")) });
        socket.terminate();
      });
    });
    socket.once("error", reject);
  });
}

/** Sends one message and resolves with the next one. */
export function echo(socket: WebSocket, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    socket.once("message", (message: RawData, isBinary: boolean) => {
      if (isBinary && Buffer.isBuffer(message)) resolve(message);
      else reject(new Error("expected a binary message"));
    });
    socket.send(data, { binary: true });
  });
}
