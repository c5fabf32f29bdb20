import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { can } from "../../domain/principal.js";
import type { Server } from "../../domain/types.js";
import { authenticate, noStore, requireScope, type HttpContext } from "../context.js";
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

/**
 * `GET /hub/api/users`: a page of users with their servers; JupyterHub's pagination envelope when
 * the client asks for it, a bare list otherwise.
 */
export function registerUserListRoute(app: FastifyInstance, ctx: HttpContext): void {
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
    const byUser = serversByUser(await ctx.servers.listForUsers(page.items.map((u) => u.id)));
    const items = page.items.map((u) => userModel(u, byUser.get(u.id) ?? [], includeStopped, withState));
    noStore(reply);
    if (!wantsPagination(request)) return items;
    reply.header("content-type", `${PAGINATION}; charset=utf-8`);
    return paginated(items, query.offset, limit, page.total);
  });
}

function parseQuery(query: unknown) {
  const parsed = listQuery.safeParse(query);
  if (!parsed.success) {
    throw new SlipwayError("validation_failed", "offset and limit must be non-negative whole numbers.");
  }
  return parsed.data;
}

function serversByUser(servers: readonly Server[]): Map<number, Server[]> {
  const byUser = new Map<number, Server[]>();
  for (const s of servers) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
  return byUser;
}

function wantsPagination(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes(PAGINATION);
}

/** JupyterHub's pagination envelope, with the link to the next page while there is one. */
function paginated<T>(items: readonly T[], offset: number, limit: number, total: number) {
  const nextOffset = offset + limit;
  return {
    items,
    _pagination: {
      offset,
      limit,
      total,
      next:
        nextOffset < total
          ? { offset: nextOffset, limit, url: `/hub/api/users?offset=${nextOffset}&limit=${limit}` }
          : null,
    },
  };
}
