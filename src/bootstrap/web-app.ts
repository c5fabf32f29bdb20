import { buildApp } from "../http/app.js";
import type { HttpContext } from "../http/context.js";
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
  const { port, host } = config.hub;
  return {
    async listen() {
      await app.listen({ port, host });
      const address = app.server.address();
      return typeof address === "object" && address ? address.port : port;
    },
  };
}
