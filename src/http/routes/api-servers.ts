import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { serverPrefix } from "../../domain/names.js";
import { can } from "../../domain/principal.js";
import { isStarting } from "../../domain/server-state.js";
import type { Server, ServerEvent, User } from "../../domain/types.js";
import { escapeHtml } from "../html.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { serverModel } from "../presenters.js";

type Params = { name: string; server?: string };

const deleteBody = z.strictObject({ remove: z.boolean().optional() }).optional();
const patchBody = z.strictObject({ display_name: z.string().min(1).max(80) });

const KEEPALIVE_MS = 8_000;

function serverNameOf(params: Params): string {
  return params.server ?? "";
}

export function registerServerRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const start = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const name = serverNameOf(request.params);
    const existing = await ctx.servers.find(owner, name);
    if (existing?.state === "running") {
      throw new SlipwayError(
        "server_running",
        `${owner.name}'s server ${name || "(default)"} is already running.`,
      );
    }
    const server = await ctx.servers.start(owner, name, request.body);
    const settled = isStarting(server.state)
      ? await ctx.servers.waitUntilSettled(server.id, ctx.slowSpawnWaitMs)
      : server;
    const now = settled ?? server;
    if (now.state === "failed") throw new SlipwayError("launch_failed", now.reason ?? undefined);
    reply.code(now.state === "running" ? 201 : 202);
    return serverModel(now, ctx.servers.unknownReason(now.id));
  };

  const stop = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "delete:servers", owner.name);
    const name = serverNameOf(request.params);
    const body = parseBody(deleteBody, request.body);
    if (body?.remove) {
      if (name === "") throw new SlipwayError("bad_request", "The default server cannot be removed.");
      await ctx.servers.remove(owner, name);
      reply.code(204);
      return null;
    }
    const server = await ctx.servers.find(owner, name);
    if (!server) {
      if (name === "") {
        reply.code(204);
        return null;
      }
      throw new SlipwayError("server_not_found");
    }
    const stopped = await ctx.servers.stop(owner, name);
    reply.code(stopped.state === "stopping" ? 202 : 204);
    return null;
  };

  app.post<{ Params: Params }>("/hub/api/users/:name/server", start);
  app.post<{ Params: Params }>("/hub/api/users/:name/servers/:server", start);
  app.delete<{ Params: Params }>("/hub/api/users/:name/server", stop);
  app.delete<{ Params: Params }>("/hub/api/users/:name/servers/:server", stop);

  app.get<{ Params: Params }>("/hub/api/users/:name/servers/:server", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const server = await ctx.servers.get(owner, serverNameOf(request.params));
    noStore(reply);
    return serverModel(
      server,
      ctx.servers.unknownReason(server.id),
      can(principal, "admin:server_state", null),
    );
  });

  app.put<{ Params: Params }>("/hub/api/users/:name/servers/:server", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const body = parseBody(
      z.strictObject({ display_name: z.string().min(1).max(80).optional() }),
      request.body,
    );
    const name = serverNameOf(request.params);
    if (await ctx.servers.find(owner, name)) throw new SlipwayError("server_exists");
    const server = await ctx.servers.ensure(owner, name, body.display_name);
    reply.code(201);
    return serverModel(server);
  });

  app.patch<{ Params: Params }>("/hub/api/users/:name/servers/:server", async (request) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "servers", owner.name);
    const body = parseBody(patchBody, request.body);
    const server = await ctx.servers.rename(owner, serverNameOf(request.params), body.display_name);
    return serverModel(server);
  });

  const progress = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const server = await ctx.servers.get(owner, serverNameOf(request.params));
    await streamProgress(ctx, request, reply, owner, server);
  };
  app.get<{ Params: Params }>("/hub/api/users/:name/server/progress", progress);
  app.get<{ Params: Params }>("/hub/api/users/:name/servers/:server/progress", progress);
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
