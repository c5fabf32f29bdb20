import type { FastifyInstance } from "fastify";
import { SlipwayError } from "../../domain/errors.js";
import { z } from "zod";
import { authenticate, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";

const activityBody = z.strictObject({
  last_activity: z.iso.datetime({ offset: true }).optional(),
  servers: z
    .record(z.string().max(64), z.strictObject({ last_activity: z.iso.datetime({ offset: true }) }))
    .optional(),
});

export function registerHubRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api", async () => ({ version: ctx.version }));
  app.get("/hub/api/", async () => ({ version: ctx.version }));

  app.get("/hub/api/info", async (request) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "read:hub", null);
    return { version: ctx.version, slipway: { version: ctx.version } };
  });

  app.get<{ Params: { name: string } }>("/hub/api/users/:name/spawn-options", async (request) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    return await ctx.spawnOptions.model(owner);
  });

  app.get("/hub/health", async () => ({ status: "ok" }));

  // JupyterHub's activity endpoint: servers and cullers report when a user was last active.
  app.post<{ Params: { name: string } }>("/hub/api/users/:name/activity", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "users:activity", owner.name);
    const body = parseBody(activityBody, request.body);
    const now = Date.now();
    const times = [body.last_activity, ...Object.values(body.servers ?? {}).map((s) => s.last_activity)];
    for (const t of times) {
      if (t !== undefined && Date.parse(t) > now + 59 * 60_000) {
        throw new SlipwayError("validation_failed", "last_activity is more than an hour in the future.");
      }
    }
    await ctx.servers.recordActivity(owner, body.last_activity, body.servers ?? {});
    reply.code(204);
    return null;
  });

  app.get("/hub/metrics", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    requireScope(principal, "read:metrics", null);
    const metrics = await ctx.metrics();
    reply.header("content-type", metrics.contentType);
    return metrics.body;
  });

  app.all("/hub/api/*", async () => {
    throw new SlipwayError("not_found");
  });
}
