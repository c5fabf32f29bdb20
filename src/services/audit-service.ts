import type { AuditEntry, AuditEvent, AuditFilter, AuditTrail } from "../ports/audit.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";

/** Longest text kept in a field of an event: names and codes are short, anything longer was not one. */
const MAX_FIELD = 256;

/** The most events one read returns: a page of the API, or one step of an export. */
export const MAX_AUDIT_PAGE = 500;

/**
 * Writes audit events to the store, and reads them back for admins. Recording never fails what it
 * records: a store error is logged (without the event's details) and the action goes on.
 */
export class AuditService implements AuditTrail {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(deps: { store: Store; clock: Clock; log: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#log = deps.log;
  }

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.#store.audit.append({
        kind: entry.kind,
        actor: clip(entry.actor),
        subject: clip(entry.subject ?? null),
        reason: clip(entry.reason ?? null),
        address: clip(entry.address ?? null),
        details: entry.details ?? {},
        at: this.#clock.now(),
      });
    } catch (error) {
      this.#log.error(
        { event: "audit_write_failed", kind: entry.kind, err: error },
        "could not write an audit event",
      );
    }
  }

  /** Newest first, at most `limit` (1 to `MAX_AUDIT_PAGE`), older than `filter.beforeId` if given. */
  list(filter: AuditFilter, limit: number): Promise<{ items: AuditEvent[]; hasMore: boolean }> {
    return this.#store.audit.list(filter, Math.min(Math.max(1, Math.trunc(limit)), MAX_AUDIT_PAGE));
  }
}

function clip(value: string | null): string | null {
  return value === null ? null : value.slice(0, MAX_FIELD);
}
