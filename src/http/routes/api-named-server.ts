import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { can } from "../../domain/principal.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverModel } from "../presenters.js";
import { serverNameOf, type ServerParams } from "./server-params.js";

const createBody = z.strictObject({ display_name: z.string().min(1).max(80).optional() });
const patchBody = z.strictObject({ display_name: z.string().min(1).max(80) });

const PATH = "/hub/api/users/:name/servers/:server";

/** `GET`, `PUT` and `PATCH /hub/api/users/:name/servers/:server`: a named server read, created or renamed. */
export function registerNamedServerRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: ServerParams }>(PATH, async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const server = await ctx.servers.get(owner, serverNameOf(request.params));
    noStore(reply);
    return serverModel(
      server,
      ctx.servers.unknownReason(server.id),
      can(principal, "admin:server_state", null),
    );
  });

  app.put<{ Params: ServerParams }>(PATH, async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const body = parseBody(createBody, request.body);
    const name = serverNameOf(request.params);
    if (await ctx.servers.find(owner, name)) throw new SlipwayError("server_exists");
    const server = await ctx.servers.ensure(owner, name, body.display_name);
    reply.code(201);
    return serverModel(server);
  });

  app.patch<{ Params: ServerParams }>(PATH, async (request) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const body = parseBody(patchBody, request.body);
    const server = await ctx.servers.rename(owner, serverNameOf(request.params), body.display_name);
    return serverModel(server);
  });
}
