import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { can } from "../../domain/principal.js";
import { actedBy } from "../acted-by.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { userModel } from "../presenters.js";

const patchBody = z.strictObject({ admin: z.boolean().optional(), disabled: z.boolean().optional() });

/** `GET`, `PATCH` and `DELETE /hub/api/users/:name`: one account, read, changed or deleted. */
export function registerUserRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const user = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:users", user.name);
    noStore(reply);
    return userModel(user, await ctx.servers.list(user), true, {
      includeState: can(principal, "admin:server_state", null),
      groups: await ctx.groups.groupsOf(user),
    });
  });

  app.patch<{ Params: { name: string } }>("/hub/api/users/:name", async (request) => {
    const principal = await authenticate(ctx, request);
    const body = parseBody(patchBody, request.body);
    // Only full admins change roles or disable accounts (JupyterHub CVE-2024-41942).
    if (!can(principal, "admin:users", null)) throw new SlipwayError("forbidden");
    const by = actedBy(ctx, request, principal);
    const user = await ctx.users.update(principal.user, request.params.name, body, by);
    return userModel(user, await ctx.servers.list(user), true, { groups: await ctx.groups.groupsOf(user) });
  });

  app.delete<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    await ctx.users.delete(principal.user, request.params.name, actedBy(ctx, request, principal));
    reply.code(204);
    return null;
  });
}
