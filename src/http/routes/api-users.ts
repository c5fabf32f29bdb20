import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { assertUserName } from "../../domain/names.js";
import { can } from "../../domain/principal.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { userModel } from "../presenters.js";

const PAGINATION = "application/jupyterhub-pagination+json";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

const listQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).default(DEFAULT_LIMIT),
  include_stopped_servers: z.string().optional(),
  state: z
    .enum(["active", "ready", "inactive", ""])
    .optional()
    .transform((v) => (v === "" ? undefined : v)),
});

const createManyBody = z.strictObject({
  usernames: z.array(z.string()).min(1).max(1000),
  admin: z.boolean().optional(),
});
const createOneBody = z.strictObject({ admin: z.boolean().optional() });
const patchBody = z.strictObject({ admin: z.boolean().optional(), disabled: z.boolean().optional() });

function setupUrl(ctx: HttpContext, token: string): string {
  return `${ctx.publicOrigin}/hub/setup/${token}`;
}

function wantsPagination(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes(PAGINATION);
}

export function registerUserRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api/user", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    noStore(reply);
    const servers = await ctx.servers.list(principal.user);
    return {
      ...userModel(principal.user, servers, true),
      scopes: [...principal.scopes].sort(),
      session_id: null,
    };
  });

  app.get("/hub/api/users", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "list:users", null);
    const query = parseQuery(request.query);
    const limit = Math.min(query.limit, MAX_LIMIT);
    const includeStopped = query.include_stopped_servers !== undefined;
    const withState = can(principal, "admin:server_state", null);
    // The state filter applies before paging, as in JupyterHub, so pages stay full and totals true.
    const page = query.state
      ? await ctx.users.listByActivity(query.state, query.offset, limit)
      : await ctx.users.list(query.offset, limit);
    const servers = await ctx.servers.listForUsers(page.items.map((u) => u.id));
    const byUser = new Map<number, typeof servers>();
    for (const s of servers) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    const items = page.items.map((u) => userModel(u, byUser.get(u.id) ?? [], includeStopped, withState));
    noStore(reply);
    if (!wantsPagination(request)) return items;
    const nextOffset = query.offset + limit;
    reply.header("content-type", `${PAGINATION}; charset=utf-8`);
    return {
      items,
      _pagination: {
        offset: query.offset,
        limit,
        total: page.total,
        next:
          nextOffset < page.total
            ? { offset: nextOffset, limit, url: `/hub/api/users?offset=${nextOffset}&limit=${limit}` }
            : null,
      },
    };
  });

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
    for (const name of names) {
      const { user, setupToken } = await ctx.users.create(name, body.admin ?? false);
      created.push({ ...userModel(user, [], false), setup_url: setupUrl(ctx, setupToken) });
    }
    reply.code(201);
    return created;
  });

  app.get<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const user = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:users", user.name);
    noStore(reply);
    return userModel(user, await ctx.servers.list(user), true, can(principal, "admin:server_state", null));
  });

  app.post<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    const body = parseBody(createOneBody, request.body);
    const { user, setupToken } = await ctx.users.create(request.params.name, body.admin ?? false);
    reply.code(201);
    return { ...userModel(user, [], false), setup_url: setupUrl(ctx, setupToken) };
  });

  app.patch<{ Params: { name: string } }>("/hub/api/users/:name", async (request) => {
    const principal = await authenticate(ctx, request);
    const body = parseBody(patchBody, request.body);
    // Only full admins change roles or disable accounts (JupyterHub CVE-2024-41942).
    if (!can(principal, "admin:users", null)) throw new SlipwayError("forbidden");
    const user = await ctx.users.update(principal.user, request.params.name, body);
    return userModel(user, await ctx.servers.list(user), true);
  });

  app.delete<{ Params: { name: string } }>("/hub/api/users/:name", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    await ctx.users.delete(principal.user, request.params.name);
    reply.code(204);
    return null;
  });

  app.post<{ Params: { name: string } }>("/hub/api/users/:name/setup-link", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "admin:users", null);
    const token = await ctx.users.newSetupLink(request.params.name);
    reply.code(201);
    noStore(reply);
    return { setup_url: setupUrl(ctx, token) };
  });
}

function parseQuery(query: unknown) {
  const parsed = listQuery.safeParse(query);
  if (!parsed.success) {
    throw new SlipwayError("validation_failed", "offset and limit must be non-negative whole numbers.");
  }
  return parsed.data;
}
