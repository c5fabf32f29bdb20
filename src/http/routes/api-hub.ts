import type { FastifyInstance } from "fastify";
import { SlipwayError } from "../../domain/errors.js";
import { authenticate, requireScope, targetUser, type HttpContext } from "../context.js";

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
    return ctx.spawnOptions.model(owner);
  });

  app.get("/hub/health", async () => ({ status: "ok" }));

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
