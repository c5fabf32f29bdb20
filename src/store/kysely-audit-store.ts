import type { AuditEntry, AuditEvent, AuditFilter, AuditKind } from "../ports/audit.js";
import { auditKinds } from "../ports/audit.js";
import type { AuditStore } from "../ports/store.js";
import { decodeInteger, decodeJsonObject, decodeTime } from "./column-decoders.js";
import type { TimeValue } from "./database.js";
import type { StoreContext } from "./store-context.js";

interface AuditRow {
  readonly id: number | string;
  readonly at: TimeValue;
  readonly kind: string;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly reason: string | null;
  readonly address: string | null;
  readonly details: unknown;
}

function decodeKind(value: string): AuditKind {
  // An event of a kind this version does not know (written by a newer replica) reads as an admin action.
  return auditKinds.find((k) => k === value) ?? "admin_action";
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: decodeInteger(row.id, "audit_events.id"),
    at: decodeTime(row.at, "audit_events.at"),
    kind: decodeKind(row.kind),
    actor: row.actor,
    subject: row.subject,
    reason: row.reason,
    address: row.address,
    details: decodeJsonObject(row.details, "audit_events.details"),
  };
}

/** The audit trail: appended to, read newest first with keyset paging (no OFFSET, however deep). */
export class KyselyAuditStore implements AuditStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async append(entry: AuditEntry & { at: Date }): Promise<void> {
    await this.#ctx.db
      .insertInto("audit_events")
      .values({
        at: this.#ctx.dialect.time(entry.at),
        kind: entry.kind,
        actor: entry.actor,
        subject: entry.subject ?? null,
        reason: entry.reason ?? null,
        address: entry.address ?? null,
        details: JSON.stringify(entry.details ?? {}),
      })
      .execute();
  }

  async list(filter: AuditFilter, limit: number): Promise<{ items: AuditEvent[]; hasMore: boolean }> {
    const { db, dialect } = this.#ctx;
    let query = db
      .selectFrom("audit_events")
      .select(["id", "at", "kind", "actor", "subject", "reason", "address", "details"]);
    if (filter.user !== undefined) {
      const user = filter.user;
      query = query.where((eb) => eb.or([eb("actor", "=", user), eb("subject", "=", user)]));
    }
    if (filter.kinds !== undefined && filter.kinds.length > 0)
      query = query.where("kind", "in", filter.kinds);
    if (filter.since !== undefined) query = query.where("at", ">=", dialect.time(filter.since));
    if (filter.until !== undefined) query = query.where("at", "<", dialect.time(filter.until));
    if (filter.beforeId !== undefined) query = query.where("id", "<", filter.beforeId);
    const rows = await query
      .orderBy("id", "desc")
      .limit(limit + 1)
      .execute();
    return { items: rows.slice(0, limit).map(toEvent), hasMore: rows.length > limit };
  }
}
