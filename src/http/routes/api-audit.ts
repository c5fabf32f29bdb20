import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { JsonObject } from "../../domain/types.js";
import type { AuditEvent, AuditFilter, AuditTrail } from "../../ports/audit.js";
import { MAX_AUDIT_LIMIT, parseAuditQuery } from "../audit-query.js";
import { authenticate, noStore, requireScope, type HttpContext } from "../context.js";

/** An event as it leaves the hub: these fields and no others. */
export function auditEventModel(event: AuditEvent): JsonObject {
  return {
    id: event.id,
    at: event.at.toISOString(),
    kind: event.kind,
    actor: event.actor,
    subject: event.subject,
    reason: event.reason,
    address: event.address,
    details: event.details,
  };
}

/** Only full admins read the trail: it names every user and where they came from. */
async function requireAuditReader(ctx: HttpContext, request: FastifyRequest): Promise<void> {
  const principal = await authenticate(ctx, request);
  requireScope(principal, "admin:users", null);
}

/**
 * `GET /hub/api/audit`: a page of events, newest first, filtered by user (actor or subject), kind,
 * and time; `next` is the cursor (`before=`) of the page after, null on the last. `GET
 * /hub/api/audit/export`: every event the same filters match, as JSON lines, read from the store a
 * page at a time so that a large trail never sits in memory.
 */
export function registerAuditRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get("/hub/api/audit", async (request, reply) => {
    await requireAuditReader(ctx, request);
    const { filter, limit } = parseAuditQuery(request.query);
    const page = await ctx.audit.list(filter, limit);
    const last = page.items.at(-1);
    noStore(reply);
    return {
      events: page.items.map(auditEventModel),
      next: page.hasMore && last !== undefined ? String(last.id) : null,
    };
  });

  app.get("/hub/api/audit/export", async (request, reply) => {
    await requireAuditReader(ctx, request);
    const { filter } = parseAuditQuery(request.query, { paged: false });
    const day = new Date().toISOString().slice(0, 10);
    noStore(reply);
    reply.header("content-type", "application/x-ndjson; charset=utf-8");
    reply.header("content-disposition", `attachment; filename="slipway-audit-${day}.jsonl"`);
    return reply.send(Readable.from(exportLines(ctx.audit, filter)));
  });
}

/**
 * The events `filter` matches, newest first, one JSON line each, a page of the store at a time
 * (keyset on the id, never OFFSET): each chunk is written out before the next page is read.
 */
export async function* exportLines(
  trail: AuditTrail,
  filter: AuditFilter,
  pageSize = MAX_AUDIT_LIMIT,
): AsyncGenerator<string> {
  let beforeId = filter.beforeId;
  for (;;) {
    const page = await trail.list({ ...filter, ...(beforeId !== undefined && { beforeId }) }, pageSize);
    if (page.items.length > 0) {
      yield page.items.map((event) => `${JSON.stringify(auditEventModel(event))}\n`).join("");
    }
    const last = page.items.at(-1);
    if (!page.hasMore || last === undefined) return;
    beforeId = last.id;
  }
}
