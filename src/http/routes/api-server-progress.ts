import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { serverPrefix } from "../../domain/names.js";
import { isStarting } from "../../domain/server-state.js";
import type { Server, ServerEvent, User } from "../../domain/types.js";
import { authenticate, requireScope, targetUser, type HttpContext } from "../context.js";
import { escapeHtml } from "../html.js";
import { serverNameOf, type ServerParams } from "./server-params.js";

const KEEPALIVE_MS = 8_000;

/** `GET /hub/api/users/:name/server/progress` and `…/servers/:server/progress`: a launch's progress. */
export function registerServerProgressRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const progress = async (request: FastifyRequest<{ Params: ServerParams }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const server = await ctx.servers.get(owner, serverNameOf(request.params));
    await streamProgress(ctx, request, reply, owner, server);
  };
  app.get<{ Params: ServerParams }>("/hub/api/users/:name/server/progress", progress);
  app.get<{ Params: ServerParams }>("/hub/api/users/:name/servers/:server/progress", progress);
}

/** JupyterHub's progress event shape, with the html_message escaped. */
function progressEvent(event: ServerEvent) {
  return { progress: event.progress, message: event.message, html_message: escapeHtml(event.message) };
}

/**
 * Server-sent events for one launch attempt: replays what happened since the attempt was
 * requested, then follows live changes until the server is ready or has failed.
 */
async function streamProgress(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  owner: User,
  initial: Server,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
    "x-content-type-options": "nosniff",
  });
  const send = (data: object) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  let lastSeq = 0;
  let closed = false;
  const history = await ctx.servers.events(initial.id, 0);
  const startIdx = history.map((e) => e.state).lastIndexOf("requested");
  for (const event of startIdx >= 0 ? history.slice(startIdx) : history) {
    lastSeq = event.seq;
    if (event.state !== "running" && event.state !== "failed") send(progressEvent(event));
  }
  const finishIfSettled = async (): Promise<boolean> => {
    const server = await ctx.servers.find(owner, initial.name);
    if (!server) {
      send({ progress: 100, failed: true, message: "The server was deleted" });
      return true;
    }
    const fresh = await ctx.servers.events(server.id, lastSeq);
    for (const event of fresh) {
      lastSeq = event.seq;
      if (event.state !== "running" && event.state !== "failed") send(progressEvent(event));
    }
    if (server.state === "running") {
      send({
        progress: 100,
        ready: true,
        message: `Server ready at ${serverPrefix(owner.name, server.name)}`,
        html_message: `Server ready at <a href="${escapeHtml(serverPrefix(owner.name, server.name))}">${escapeHtml(serverPrefix(owner.name, server.name))}</a>`,
        url: serverPrefix(owner.name, server.name),
      });
      return true;
    }
    if (!isStarting(server.state)) {
      const message = server.reason ?? `The server is ${server.state}`;
      send({ progress: 100, failed: true, message, html_message: escapeHtml(message) });
      return true;
    }
    return false;
  };
  const end = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(keepalive);
    res.end();
  };
  let checking = Promise.resolve();
  const check = () => {
    checking = checking.then(async () => {
      if (closed) return;
      try {
        if (await finishIfSettled()) end();
      } catch (err) {
        ctx.log.warn({ err }, "progress stream failed");
        end();
      }
    });
  };
  const unsubscribe = ctx.servers.subscribe(initial.id, check);
  const keepalive = setInterval(() => res.write(":keepalive\n\n"), KEEPALIVE_MS);
  keepalive.unref();
  request.raw.on("close", end);
  check();
}
