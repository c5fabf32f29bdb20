import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { actedBy } from "../acted-by.js";
import { authenticate, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverNameOf, type ServerParams } from "./server-params.js";

const deleteBody = z.strictObject({ remove: z.boolean().optional() }).optional();

/**
 * `DELETE /hub/api/users/:name/server` and `…/servers/:server`: stops a server (202 while it is
 * stopping, 204 once stopped), or with `{"remove": true}` removes a named one.
 */
export function registerServerStopRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const stop = async (request: FastifyRequest<{ Params: ServerParams }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "delete:servers", owner.name);
    const name = serverNameOf(request.params);
    const body = parseBody(deleteBody, request.body);
    const by = actedBy(ctx, request, principal);
    if (body?.remove) {
      if (name === "") throw new SlipwayError("bad_request", "The default server cannot be removed.");
      await ctx.servers.remove(owner, name, by);
      reply.code(204);
      return null;
    }
    const server = await ctx.servers.find(owner, name);
    if (!server) {
      if (name === "") {
        reply.code(204);
        return null;
      }
      throw new SlipwayError("server_not_found");
    }
    const stopped = await ctx.servers.stop(owner, name, undefined, by);
    reply.code(stopped.state === "stopping" ? 202 : 204);
    return null;
  };
  app.delete<{ Params: ServerParams }>("/hub/api/users/:name/server", stop);
  app.delete<{ Params: ServerParams }>("/hub/api/users/:name/servers/:server", stop);
}
