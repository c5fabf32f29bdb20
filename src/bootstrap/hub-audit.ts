import { createHash } from "node:crypto";
import type { Config } from "../config/schema.js";
import type { JsonObject, JsonValue } from "../domain/types.js";
import type { Store } from "../ports/store.js";
import { AuditService } from "../services/audit-service.js";
import type { Assembly } from "./assembly.js";

/**
 * The hub's audit trail, which first records the configuration the hub starts with: its auth type
 * and a fingerprint, so an admin can tell when the configuration changed between two starts.
 */
export async function hubAudit({ config, clock, log }: Assembly, store: Store): Promise<AuditService> {
  const audit = new AuditService({ store, clock, log: log("audit") });
  await audit.record({
    kind: "config_reloaded",
    actor: null,
    reason: "hub_started",
    details: { authType: config.auth.type, configSha256: configFingerprint(config) },
  });
  return audit;
}

/**
 * SHA-256 of the effective configuration as canonical JSON (keys sorted). A password in the
 * database URL is left out: a hash of it, next to settings an admin knows, could be guessed offline.
 */
export function configFingerprint(config: Config): string {
  const url = config.database.url;
  const withoutPassword =
    url === undefined
      ? config
      : { ...config, database: { url: url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1@") } };
  return createHash("sha256").update(canonicalJson(withoutPassword)).digest("hex");
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object") return null;
  const out: JsonObject = {};
  const fields: [string, unknown][] = Object.entries(value);
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, field] of fields) if (field !== undefined) out[key] = canonical(field);
  return out;
}
