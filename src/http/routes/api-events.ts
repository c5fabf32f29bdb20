import type { FastifyInstance } from "fastify";
import { authenticate, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverModel } from "../presenters.js";

const KEEPALIVE_MS = 15_000;

/** Live changes of all of a user's servers, for the home page (one stream per page, not per server). */
export function registerEventRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { name: string } }>("/hub/api/users/:name/events", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const known = new Map<number, string>();
    for (const s of await ctx.servers.list(owner)) known.set(s.id, s.name);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write(`event: hello\ndata: {}\n\n`);
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
    const keepalive = setInterval(() => res.write(":keepalive\n\n"), KEEPALIVE_MS);
    keepalive.unref();
    request.raw.on("close", () => {
      unsubscribe();
      clearInterval(keepalive);
    });
  });
}
