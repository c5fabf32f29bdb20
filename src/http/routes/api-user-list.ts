import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { can } from "../../domain/principal.js";
import type { Server } from "../../domain/types.js";
import { authenticate, requireScope, type HttpContext } from "../context.js";
import { userModel } from "../presenters.js";
import { answerPage, pageQuery, parsePageQuery } from "./pagination.js";

const listQuery = z.object({
  ...pageQuery,
  include_stopped_servers: z.string().optional(),
  state: z
    .enum(["active", "ready", "inactive", ""])
    .optional()
    .transform((v) => (v === "" ? undefined : v)),
});

/**
 * `GET /hub/api/users`: a page of users with their servers and groups (each fetched for the whole
 * page at once); JupyterHub's pagination envelope when the client asks for it, a bare list otherwise.
 */
export function registerUserListRoute(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api/users", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "list:users", null);
    const { offset, limit, ...query } = parsePageQuery(listQuery, request.query);
    const includeStopped = query.include_stopped_servers !== undefined;
    const includeState = can(principal, "admin:server_state", null);
    // The state filter applies before paging, as in JupyterHub, so pages stay full and totals true.
    const page = query.state
      ? await ctx.users.listByActivity(query.state, offset, limit)
      : await ctx.users.list(offset, limit);
    const byUser = serversByUser(await ctx.servers.listForUsers(page.items.map((u) => u.id)));
    const groups = await ctx.groups.groupsOfUsers(page.items);
    const items = page.items.map((u) =>
      userModel(u, byUser.get(u.id) ?? [], includeStopped, { includeState, groups: groups.get(u.id) }),
    );
    return answerPage(request, reply, { items, offset, limit, total: page.total, path: "/hub/api/users" });
  });
}

function serversByUser(servers: readonly Server[]): Map<number, Server[]> {
  const byUser = new Map<number, Server[]>();
  for (const s of servers) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
  return byUser;
}
