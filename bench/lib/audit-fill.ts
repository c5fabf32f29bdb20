import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely";
import type { JsonObject } from "../../src/domain/types.js";
import { auditKinds, type AuditEntry, type AuditKind } from "../../src/ports/audit.js";
import { systemClock } from "../../src/ports/clock.js";
import type { Database } from "../../src/store/database.js";
import { postgresTraits, sqliteTraits, type DialectTraits } from "../../src/store/dialect-traits.js";
import { KyselyAuditStore } from "../../src/store/kysely-audit-store.js";

/** Where the events go: the hub's SQLite file (the hub not running) or its PostgreSQL database. */
export type AuditDatabase = { readonly sqlite: string } | { readonly postgres: string };

/** A small deterministic generator (mulberry32), so every run fills the same trail. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function benchUserName(i: number): string {
  return `a${String(i).padStart(4, "0")}`;
}

const REASONS: Partial<Record<AuditKind, readonly string[]>> = {
  sign_in_refused: ["invalid_credentials", "invalid_totp", "not_in_allowed_group"],
  admin_action: ["user_created", "user_disabled", "user_made_admin", "setup_link_issued"],
  server_stopped: ["stopped_by_user", "stopped_by_admin", "ended"],
  config_reloaded: ["hub_started"],
};

/** Acting on someone else: admins on accounts, tokens and servers, some of the time. */
const ON_OTHERS: ReadonlySet<AuditKind> = new Set([
  "admin_action",
  "token_created",
  "token_revoked",
  "server_stopped",
]);

/** Event `i` of a trail of `count` spread over `users` names and every kind, over the 30 days before `end`. */
function eventOf(
  i: number,
  count: number,
  users: number,
  end: Date,
  next: () => number,
): AuditEntry & { at: Date } {
  const kind = auditKinds[Math.floor(next() * auditKinds.length)] ?? "sign_in";
  const actor = kind === "config_reloaded" ? null : benchUserName(Math.floor(next() * users));
  const subject = ON_OTHERS.has(kind) && next() < 0.3 ? benchUserName(Math.floor(next() * users)) : null;
  const reasons = REASONS[kind];
  const details: JsonObject =
    kind === "server_started" || kind === "server_stopped"
      ? { server: "", target: "local" }
      : kind === "token_created" || kind === "token_revoked"
        ? { tokenId: `t${i.toString(36).padStart(15, "0")}`, note: "Requested via API" }
        : { method: "local" };
  return {
    kind,
    actor,
    subject,
    reason: reasons ? (reasons[i % reasons.length] ?? null) : null,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    details,
    at: new Date(end.getTime() - (count - i) * Math.floor((30 * 86_400_000) / count)),
  };
}

async function withDatabase<T>(
  target: AuditDatabase,
  body: (db: Kysely<Database>, dialect: DialectTraits) => Promise<T>,
): Promise<T> {
  if ("sqlite" in target) {
    const { default: Sqlite } = await import("better-sqlite3");
    const file = new Sqlite(target.sqlite);
    file.pragma("journal_mode = WAL");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
    try {
      return await body(db, sqliteTraits);
    } finally {
      await db.destroy();
    }
  }
  const { default: pg } = await import("pg");
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target.postgres, max: 1 }) }),
  });
  try {
    return await body(db, postgresTraits);
  } finally {
    await db.destroy();
  }
}

/**
 * Appends `count` events over `users` user names and every kind, oldest first, through the store's
 * own append (rows exactly as the hub writes them), in one transaction so that filling does not
 * wait for a disk sync per event; on PostgreSQL, then ANALYZE. Returns the highest id written.
 */
export async function fillAuditTrail(target: AuditDatabase, count: number, users: number): Promise<number> {
  return withDatabase(target, async (db, dialect) => {
    const next = random(20261208);
    const end = new Date();
    await db.transaction().execute(async (trx) => {
      const audit = new KyselyAuditStore({ db: trx, dialect, clock: systemClock });
      for (let i = 0; i < count; i++) await audit.append(eventOf(i, count, users, end, next));
    });
    // A table in use has statistics (autovacuum's ANALYZE); without them the first plans are guesses,
    // and autovacuum would gather them at some moment in the middle of the measurements.
    if (dialect.name === "postgres") await sql`ANALYZE audit_events`.execute(db);
    const row = await db
      .selectFrom("audit_events")
      .select((eb) => eb.fn.max("id").as("last"))
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  });
}
