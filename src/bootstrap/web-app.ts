import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { buildApp } from "../http/app.js";
import { markFrontDoorConnection, type HttpContext } from "../http/context.js";
import { createFrontDoor, type FrontDoor, type FrontDoorProxy } from "../proxy/front-door.js";
import type { Assembly } from "./assembly.js";

export interface WebApp {
  /** Listens on `hub.host:hub.port` (port 0: any free port) and resolves with the port bound. */
  listen(): Promise<number>;
}

/**
 * The hub's one listener: the front door, which sends `/user/` to the proxy and everything else to
 * the web app (Fastify, given the front door's server). Closing it cuts every open connection and
 * websocket, then closes the listener.
 */
export async function buildWebApp(
  { config, disposables }: Assembly,
  ctx: HttpContext,
  proxy: FrontDoorProxy,
  options: { readonly staticDir: string; readonly hsts: boolean },
): Promise<WebApp> {
  let frontDoor: FrontDoor | undefined;
  const app = await buildApp(ctx, {
    ...options,
    serverFactory: (handler) => {
      frontDoor = createFrontDoor({ proxy, app: handler });
      return frontDoor.server;
    },
  });
  disposables.add(async () => {
    frontDoor?.closeAll();
    await app.close();
  });
  const { port, host, frontDoorSocket } = config.hub;
  return {
    async listen() {
      await app.listen({ port, host });
      if (frontDoorSocket !== undefined) {
        // Served like the TCP listener's, fast path included: both paths see the connection, and
        // with it the peer "unix".
        const server = await listenOnFrontDoorSocket(frontDoorSocket, (socket) =>
          app.server.emit("connection", socket),
        );
        disposables.add(() => new Promise<void>((done) => server.close(() => done())));
      }
      const address = app.server.address();
      return typeof address === "object" && address ? address.port : port;
    },
  };
}

/**
 * The front door's own way in: a Unix socket, mode 0660, whose connections the hub's listener
 * serves like any other but whose requests come from the peer "unix" — the one peer that may name
 * the user in a header when `auth.trustedHeader.trustedPeers` says so. Who may connect is decided
 * by the socket's group and its directory's permissions.
 */
async function listenOnFrontDoorSocket(path: string, accept: (socket: Socket) => void): Promise<Server> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isSocket()) await unlink(path);
  else if (existing)
    throw new Error(
      `hub.frontDoorSocket ${path} exists and is not a socket; remove it or choose another path`,
    );
  const server = createServer((socket) => {
    markFrontDoorConnection(socket);
    accept(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(path, 0o660);
  return server;
}
