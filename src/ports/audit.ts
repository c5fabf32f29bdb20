import type { JsonObject } from "../domain/types.js";

/**
 * The audit trail: who did what, when, from where, and what came of it, kept in the store as
 * structured events for admins (a page, `GET /hub/api/audit`, a JSON-lines export). An event never
 * holds a secret: no password, token, session id, code, ID token or TOTP value, only names, stable
 * codes and the request's address.
 */
export const auditKinds = [
  "sign_in",
  "sign_in_refused",
  "sign_out",
  "backchannel_logout",
  "token_created",
  "token_revoked",
  "server_started",
  "server_stopped",
  "admin_action",
  "config_reloaded",
] as const;

export type AuditKind = (typeof auditKinds)[number];

/** What a caller reports; the log adds the id and time. */
export interface AuditEntry {
  readonly kind: AuditKind;
  /** The user who acted (signed in, asked for the token, clicked stop); null for the hub itself or a stranger. */
  readonly actor: string | null;
  /** The user acted upon, when not the actor (an admin stopping alice's server: actor admin, subject alice). */
  readonly subject?: string | null;
  /** A stable snake_case code: why a sign-in was refused, which admin action it was. */
  readonly reason?: string | null;
  /** The client's address as the hub sees it (the socket's peer, or X-Forwarded-For when trusted). */
  readonly address?: string | null;
  /** Anything else worth keeping, short and never secret: the method, server name, target, token id. */
  readonly details?: JsonObject;
}

export interface AuditEvent {
  readonly id: number;
  readonly at: Date;
  readonly kind: AuditKind;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly reason: string | null;
  readonly address: string | null;
  readonly details: JsonObject;
}

export interface AuditFilter {
  /** Events whose actor or subject is this user. */
  readonly user?: string;
  readonly kinds?: readonly AuditKind[];
  readonly since?: Date;
  readonly until?: Date;
  /** Keyset paging: only events with a smaller id (the last of the page before). */
  readonly beforeId?: number;
}

/** Records events. Recording never fails the action it records: a store error is logged, not thrown. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** The trail as admins read it: newest first, a page at a time (keyset paging on the event id). */
export interface AuditTrail extends AuditLog {
  list(filter: AuditFilter, limit: number): Promise<{ items: AuditEvent[]; hasMore: boolean }>;
}
