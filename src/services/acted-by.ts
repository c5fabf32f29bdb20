import type { JsonObject } from "../domain/types.js";
import type { AuditEntry, AuditKind, AuditLog } from "../ports/audit.js";

/** Who asked for an action, as the audit trail records it: a name and an address, never a credential. */
export interface ActedBy {
  /** The signed-in user who acted; null for the hub itself or a command run on the hub's host. */
  readonly actor: string | null;
  /** The client's address, when the action came over HTTP. */
  readonly address?: string | null;
  /** How it came when not through the web app: `cli` (`slipway user add`, `slipway token create`). */
  readonly via?: "cli";
}

/** What a service knows of an event besides who asked for it. */
export interface ActedEntry {
  readonly kind: AuditKind;
  /** The user acted upon; recorded only when not the actor. */
  readonly subject?: string | null;
  readonly reason?: string | null;
  readonly details?: JsonObject;
}

/** The audit entry of an action `by` asked for; `via` goes into the details. */
export function actedEntry(by: ActedBy, entry: ActedEntry): AuditEntry {
  const subject = entry.subject ?? null;
  const details = entry.details ?? {};
  return {
    kind: entry.kind,
    actor: by.actor,
    subject: subject === by.actor ? null : subject,
    reason: entry.reason ?? null,
    address: by.address ?? null,
    details: by.via === undefined ? details : { ...details, via: by.via },
  };
}

/** The audit log of a service built without one (unit tests of other behaviour): records nothing. */
export const unaudited: AuditLog = { record: () => Promise.resolve() };
