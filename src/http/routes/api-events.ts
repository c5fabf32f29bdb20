import type { FastifyInstance } from "fastify";
import { authenticate, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverModel } from "../presenters.js";

const KEEPALIVE_MS = 15_000;

/**
 * Live changes of all of a user's servers, for the home page (one stream per page, not per
 * server): `servers` with every server at (re)connection, then `server` for each change and
 * `deleted` for each server removed.
 */
export function registerEventRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { name: string } }>("/hub/api/users/:name/events", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const known = new Map<number, string>();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write(`event: hello\ndata: {}\n\n`);
    // Subscribed first, then the snapshot: a change made while the page loaded, or while the
    // stream was down and the browser reconnected, is in the snapshot or follows it.
    let queue = Promise.resolve();
    const unsubscribe = ctx.servers.subscribeAll((serverId) => {
      queue = queue.then(async () => {
        const server = await ctx.servers.getById(serverId).catch(() => undefined);
        if (server && server.userId === owner.id) {
          known.set(server.id, server.name);
          const model = serverModel(server, ctx.servers.unknownReason(server.id));
          res.write(`event: server\ndata: ${JSON.stringify(model)}\n\n`);
        } else if (!server && known.has(serverId)) {
          res.write(`event: deleted\ndata: ${JSON.stringify({ name: known.get(serverId) })}\n\n`);
          known.delete(serverId);
        }
      });
    });
    queue = queue.then(async () => {
      const servers = await ctx.servers.list(owner);
      for (const s of servers) known.set(s.id, s.name);
      const models = servers.map((s) => serverModel(s, ctx.servers.unknownReason(s.id)));
      res.write(`event: servers\ndata: ${JSON.stringify(models)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(":keepalive\n\n"), KEEPALIVE_MS);
    keepalive.unref();
    request.raw.on("close", () => {
      unsubscribe();
      clearInterval(keepalive);
    });
  });
}
