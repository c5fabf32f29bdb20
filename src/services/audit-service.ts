import type { AuditEntry, AuditLog } from "../ports/audit.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";

/** Longest text kept in a field of an event: names and codes are short, anything longer was not one. */
const MAX_FIELD = 256;

/**
 * Writes audit events to the store. Recording never fails what it records: a store error is
 * logged (without the event's details) and the action goes on.
 */
export class AuditService implements AuditLog {
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
}

function clip(value: string | null): string | null {
  return value === null ? null : value.slice(0, MAX_FIELD);
}
