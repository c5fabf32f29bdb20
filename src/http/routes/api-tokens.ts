import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { actedBy } from "../acted-by.js";
import { authenticate, noStore, parseBody, requireScope, targetUser, type HttpContext } from "../context.js";
import { tokenModel } from "../presenters.js";

const createBody = z.strictObject({
  note: z.string().max(200).optional(),
  expires_in: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 24 * 3600)
    .nullable()
    .optional(),
  scopes: z.array(z.string().max(100)).max(50).optional(),
  roles: z.array(z.string()).max(0, "roles are not supported; ask for scopes").optional(),
});

export function registerTokenRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { name: string } }>("/hub/api/users/:name/tokens", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "read:tokens", owner.name);
    noStore(reply);
    const tokens = await ctx.tokens.list(owner);
    return { api_tokens: tokens.map((t) => tokenModel(t, owner.name)), oauth_tokens: [] };
  });

  app.post<{ Params: { name: string } }>("/hub/api/users/:name/tokens", async (request, reply) => {
    const principal = await authenticate(ctx, request);
    const owner = await targetUser(ctx, principal, request.params.name);
    requireScope(principal, "tokens", owner.name);
    const body = parseBody(createBody, request.body);
    const created = await ctx.tokens.create(
      owner,
      { note: body.note ?? "Requested via API", scopes: body.scopes, expiresIn: body.expires_in ?? null },
      // The caller's own scopes, not the owner's: a token can pass on no more than it holds.
      principal.scopes,
      actedBy(ctx, request, principal),
    );
    reply.code(201);
    noStore(reply);
    return { ...tokenModel(created.model, owner.name), token: created.token };
  });

  app.get<{ Params: { name: string; id: string } }>(
    "/hub/api/users/:name/tokens/:id",
    async (request, reply) => {
      const principal = await authenticate(ctx, request);
      const owner = await targetUser(ctx, principal, request.params.name);
      requireScope(principal, "read:tokens", owner.name);
      noStore(reply);
      return tokenModel(await ctx.tokens.get(owner, request.params.id), owner.name);
    },
  );

  app.delete<{ Params: { name: string; id: string } }>(
    "/hub/api/users/:name/tokens/:id",
    async (request, reply) => {
      const principal = await authenticate(ctx, request);
      const owner = await targetUser(ctx, principal, request.params.name);
      requireScope(principal, "tokens", owner.name);
      await ctx.tokens.revoke(owner, request.params.id, actedBy(ctx, request, principal));
      reply.code(204);
      return null;
    },
  );
}
