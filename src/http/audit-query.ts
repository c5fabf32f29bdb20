import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import { auditKinds, type AuditFilter, type AuditKind } from "../ports/audit.js";
import { parseBody } from "./context.js";

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 500;

/** What `GET /hub/api/audit`, its export and the admin page are asked for. */
export interface AuditQuery {
  readonly filter: AuditFilter;
  readonly limit: number;
}

const text = z.string().max(300);
const querySchema = z.strictObject({
  user: z.string().max(256).optional(),
  // Repeatable, and each may hold several kinds separated by commas.
  kind: z.union([text, z.array(text).max(auditKinds.length)]).optional(),
  since: text.optional(),
  until: text.optional(),
  before: text.optional(),
  limit: text.optional(),
});

/**
 * Reads the filters of the audit trail from a query string (as Fastify parsed it). Empty values
 * count as absent, so a form submitted with blank fields filters nothing. Throws `unknown_field`
 * for a parameter it does not know and `validation_failed` for a value it cannot use.
 */
export function parseAuditQuery(query: unknown, options: { paged: boolean } = { paged: true }): AuditQuery {
  const raw = parseBody(querySchema, query);
  if (!options.paged && (present(raw.limit) || present(raw.before))) {
    throw new SlipwayError("validation_failed", "The export takes no limit or before: it has every event.");
  }
  const user = present(raw.user) ? raw.user : undefined;
  const kinds = parseKinds(raw.kind);
  const since = present(raw.since) ? parseTime("since", raw.since) : undefined;
  const until = present(raw.until) ? parseTime("until", raw.until) : undefined;
  if (since !== undefined && until !== undefined && since.getTime() > until.getTime()) {
    throw new SlipwayError("validation_failed", "since: must not be after until.");
  }
  const beforeId = present(raw.before)
    ? parseWhole("before", raw.before, 1, Number.MAX_SAFE_INTEGER)
    : undefined;
  const limit = present(raw.limit) ? parseWhole("limit", raw.limit, 1, MAX_AUDIT_LIMIT) : DEFAULT_AUDIT_LIMIT;
  const filter: AuditFilter = {
    ...(user !== undefined && { user }),
    ...(kinds.length > 0 && { kinds }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(beforeId !== undefined && { beforeId }),
  };
  return { filter, limit };
}

function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "";
}

function parseKinds(value: string | readonly string[] | undefined): AuditKind[] {
  const words = (typeof value === "string" ? [value] : (value ?? []))
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  const kinds: AuditKind[] = [];
  for (const word of words) {
    const kind = auditKinds.find((k) => k === word);
    if (kind === undefined) {
      throw new SlipwayError(
        "validation_failed",
        `kind: unknown kind "${word.slice(0, 40)}"; the kinds are ${auditKinds.join(", ")}.`,
      );
    }
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

function parseWhole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d{1,16}$/.test(value.trim()) || n < min || n > max) {
    throw new SlipwayError("validation_failed", `${name}: must be a whole number from ${min} to ${max}.`);
  }
  return n;
}

/** ISO 8601: a date, or a date and time (minutes at least) with an optional offset; no offset means UTC. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** A time as ISO 8601 says it, checked field by field: no 30 February, no hour 24. */
export function parseTime(name: string, value: string): Date {
  const m = ISO_8601.exec(value.trim());
  const invalid = () =>
    new SlipwayError(
      "validation_failed",
      `${name}: must be an ISO 8601 date or time, such as 2026-12-08 or 2026-12-08T09:30:00Z.`,
    );
  if (!m) throw invalid();
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const fraction = Math.floor(Number(m[7] ?? 0) * 1000);
  const local = Date.UTC(
    year ?? 0,
    (month ?? 1) - 1,
    day ?? 1,
    hour ?? 0,
    minute ?? 0,
    second ?? 0,
    fraction,
  );
  const back = new Date(local);
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() + 1 !== month ||
    back.getUTCDate() !== day ||
    back.getUTCHours() !== hour ||
    back.getUTCMinutes() !== minute ||
    back.getUTCSeconds() !== second
  ) {
    throw invalid();
  }
  const offset = offsetMinutes(m[8]);
  // UTC offsets in use run from -12:00 to +14:00; anything beyond is a typo.
  if (Math.abs(offset) > 14 * 60) throw invalid();
  return new Date(local - offset * 60_000);
}

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
}

/** The query string that asks for `filter` again (kinds comma-separated), with a cursor and limit if given. */
export function auditQueryString(
  filter: AuditFilter,
  extra: { before?: number; limit?: number } = {},
): string {
  const params = new URLSearchParams();
  if (filter.user !== undefined) params.set("user", filter.user);
  if (filter.kinds !== undefined && filter.kinds.length > 0) params.set("kind", filter.kinds.join(","));
  if (filter.since !== undefined) params.set("since", filter.since.toISOString());
  if (filter.until !== undefined) params.set("until", filter.until.toISOString());
  if (extra.before !== undefined) params.set("before", String(extra.before));
  if (extra.limit !== undefined) params.set("limit", String(extra.limit));
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}
