import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { assertUserName } from "../../domain/names.js";
import { actedBy } from "../acted-by.js";
import { authenticate, parseBody, requireScope, type HttpContext } from "../context.js";
import { newUserModel } from "../presenters.js";

const createManyBody = z.strictObject({
  usernames: z.array(z.string()).min(1).max(1000),
  admin: z.boolean().optional(),
});
const createOneBody = z.strictObject({ admin: z.boolean().optional() });

/**
 * `POST /hub/api/users` (many at once) and `POST /hub/api/users/:name`: new accounts, each
 * answered with its one-time set-up link.
 */
export function registerUserCreationRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.post("/hub/api/users", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    const body = parseBody(createManyBody, request.body);
    const names = [...new Set(body.usernames)];
    // Every name is checked before the first is created, so bad input writes nothing.
    for (const name of names) assertUserName(name);
    for (const name of names) {
      if (await ctx.users.exists(name))
        throw new SlipwayError("user_exists", `A user named ${name} exists already.`);
    }
    const created = [];
    const by = actedBy(ctx, request, principal);
    for (const name of names) {
      const { user, setupToken } = await ctx.users.create(name, body.admin ?? false, by);
      created.push(newUserModel(user, ctx.publicOrigin, setupToken));
    }
    reply.code(201);
    return created;
  });

  app.post<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    const body = parseBody(createOneBody, request.body);
    const by = actedBy(ctx, request, principal);
    const { user, setupToken } = await ctx.users.create(request.params.name, body.admin ?? false, by);
    reply.code(201);
    return newUserModel(user, ctx.publicOrigin, setupToken);
  });
}
