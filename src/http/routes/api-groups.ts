import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { actedBy } from "../acted-by.js";
import { authenticate, noStore, parseBody, requireScope, type HttpContext } from "../context.js";
import { groupModel } from "../presenters.js";
import { answerPage, pageQuery, parsePageQuery } from "./pagination.js";

/** User names of a request: a name longer than any account's simply has no account (404). */
const userNames = z.array(z.string().min(1).max(256)).max(1000);

const listQuery = z.object(pageQuery);
const createOneBody = z.strictObject({ users: userNames.optional() });
const createManyBody = z.strictObject({
  groups: z.array(z.string().max(256)).min(1).max(1000),
  users: userNames.optional(),
});
const membersBody = z.strictObject({ users: userNames });

type Named = { Params: { name: string } };

/**
 * JupyterHub's group API: `GET/POST /hub/api/groups`, `GET/POST/DELETE /hub/api/groups/:name`,
 * `POST/DELETE /hub/api/groups/:name/users`, with JupyterHub's scopes (`list:groups`,
 * `read:groups`, `admin:groups`, `groups`, `delete:groups`). A request is checked whole before
 * anything is written, so a bad name or an unknown user changes nothing.
 */
export function registerGroupRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api/groups", async (request, reply) => {
    requireScope(await authenticate(ctx, request), "list:groups", null);
    const { offset, limit } = parsePageQuery(listQuery, request.query);
    const page = await ctx.groups.list(offset, limit);
    const items = page.items.map(groupModel);
    return answerPage(request, reply, { items, offset, limit, total: page.total, path: "/hub/api/groups" });
  });

  app.post("/hub/api/groups", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:groups", null);
    const body = parseBody(createManyBody, request.body);
    const by = actedBy(ctx, request, principal);
    const created = await ctx.groups.createMany(body.groups, body.users ?? [], by);
    reply.code(201);
    return created.map(groupModel);
  });

  app.get<Named>("/hub/api/groups/:name", async (request, reply) => {
    requireScope(await authenticate(ctx, request), "read:groups", null);
    noStore(reply);
    return groupModel(await ctx.groups.get(request.params.name));
  });

  app.post<Named>("/hub/api/groups/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:groups", null);
    const body = parseBody(createOneBody, request.body);
    const by = actedBy(ctx, request, principal);
    const group = await ctx.groups.create(request.params.name, body.users ?? [], by);
    reply.code(201);
    return groupModel(group);
  });

  app.delete<Named>("/hub/api/groups/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "delete:groups", null);
    await ctx.groups.delete(request.params.name, actedBy(ctx, request, principal));
    reply.code(204);
    return null;
  });

  app.post<Named>("/hub/api/groups/:name/users", async (request) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "groups", null);
    const body = parseBody(membersBody, request.body);
    const by = actedBy(ctx, request, principal);
    return groupModel(await ctx.groups.addMembers(request.params.name, body.users, by));
  });

  app.delete<Named>("/hub/api/groups/:name/users", async (request) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "groups", null);
    const body = parseBody(membersBody, request.body);
    const by = actedBy(ctx, request, principal);
    return groupModel(await ctx.groups.removeMembers(request.params.name, body.users, by));
  });
}
