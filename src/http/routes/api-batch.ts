import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { SlipwayError } from "../../domain/errors.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";

const portBody = z.strictObject({ port: z.int().min(1).max(65535) });
const logQuery = z.strictObject({
  lines: z
    .string()
    .regex(/^\d{1,5}$/)
    .optional(),
});

/**
 * Batch jobs' own calls, and the job log for the user.
 *
 * `POST /hub/api/batch/servers/:id/port`: the job agent reports `{port}` (only that; any other
 * field is refused) with its attempt's one-time credential as `Authorization: token …`. It is not
 * an API token and carries no other right (threats §5a.16).
 */
export function registerBatchRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.post<{ Params: { id: string } }>("/hub/api/batch/servers/:id/port", async (request, reply) => {
    const auth = request.headers.authorization;
    const credential = typeof auth === "string" ? /^token ([\x21-\x7e]{16,512})$/.exec(auth)?.[1] : undefined;
    if (credential === undefined) throw new SlipwayError("not_authenticated");
    if (!/^[1-9]\d{0,9}$/.test(request.params.id)) throw new SlipwayError("forbidden");
    const body = parseBody(portBody, request.body);
    await ctx.servers.reportJobPort(Number.parseInt(request.params.id, 10), credential, body.port);
    noStore(reply);
    reply.code(204);
    return null;
  });

  const log = async (
    request: { params: { name: string; server?: string }; query: unknown },
    principalRequest: Parameters<typeof authenticate>[1],
  ) => {
    const principal = await authenticate(ctx, principalRequest);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:servers", owner.name);
    const query = parseBody(logQuery, request.query);
    const lines = Math.min(1000, Math.max(1, Number.parseInt(query.lines ?? "100", 10)));
    return { log: await ctx.servers.logTail(owner, request.params.server ?? "", lines) };
  };
  app.get<{ Params: { name: string } }>("/hub/api/users/:name/server/log", async (request, reply) => {
    noStore(reply);
    return log(request, request);
  });
  app.get<{ Params: { name: string; server: string } }>(
    "/hub/api/users/:name/servers/:server/log",
    async (request, reply) => {
      noStore(reply);
      return log(request, request);
    },
  );
}
