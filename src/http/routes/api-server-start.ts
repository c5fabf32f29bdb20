import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SlipwayError } from "../../domain/errors.js";
import { isStarting } from "../../domain/server-state.js";
import { actedBy } from "../acted-by.js";
import { authenticate, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverModel } from "../presenters.js";
import { serverNameOf, type ServerParams } from "./server-params.js";

/**
 * `POST /hub/api/users/:name/server` and `…/servers/:server`: starts a server (the body is its
 * `user_options`, which the servers service checks against the user's spawn options). Answers 201
 * when it is running within the slow-spawn wait, 202 while it is still on its way.
 */
export function registerServerStartRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const start = async (request: FastifyRequest<{ Params: ServerParams }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const name = serverNameOf(request.params);
    const existing = await ctx.servers.find(owner, name);
    if (existing?.state === "running") {
      throw new SlipwayError(
        "server_running",
        `${owner.name}'s server ${name || "(default)"} is already running.`,
      );
    }
    const server = await ctx.servers.start(owner, name, request.body, actedBy(ctx, request, principal));
    const settled = isStarting(server.state)
      ? await ctx.servers.waitUntilSettled(server.id, ctx.slowSpawnWaitMs)
      : server;
    const now = settled ?? server;
    if (now.state === "failed") throw new SlipwayError("launch_failed", now.reason ?? undefined);
    reply.code(now.state === "running" ? 201 : 202);
    return serverModel(now, ctx.servers.unknownReason(now.id));
  };
  app.post<{ Params: ServerParams }>("/hub/api/users/:name/server", start);
  app.post<{ Params: ServerParams }>("/hub/api/users/:name/servers/:server", start);
}
