import type { FastifyInstance } from "fastify";
import { authenticate, noStore, type HttpContext } from "../context.js";
import { currentUserModel } from "../presenters.js";

/** `GET /hub/api/user`: the caller, with the scopes its credential holds. */
export function registerCurrentUserRoute(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api/user", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    noStore(reply);
    const servers = await ctx.servers.list(principal.user);
    return currentUserModel(principal, servers, await ctx.groups.groupsOf(principal.user));
  });
}
