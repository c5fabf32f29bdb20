import type { FastifyInstance } from "fastify";
import { actedBy } from "../acted-by.js";
import { authenticate, noStore, requireScope, type HttpContext } from "../context.js";
import { setupLinkModel } from "../presenters.js";

/** `POST /hub/api/users/:name/setup-link`: a new one-time link with which the user sets a password again. */
export function registerUserSetupLinkRoute(app: FastifyInstance, ctx: HttpContext): void {
  app.post<{ Params: { name: string } }>("/hub/api/users/:name/setup-link", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    const token = await ctx.users.newSetupLink(request.params.name, actedBy(ctx, request, principal));
    reply.code(201);
    noStore(reply);
    return setupLinkModel(ctx.publicOrigin, token);
  });
}
