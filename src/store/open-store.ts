import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { systemClock, type Clock } from "../ports/clock.js";
import type { Database } from "./database.js";
import { postgresTraits, sqliteTraits } from "./dialect-traits.js";
import { createPrivateDatabaseFile, refuseSharedDatabaseFiles } from "./sqlite-files.js";
import { cachingStatements } from "./statement-cache.js";
import { KyselyStore } from "./kysely-store.js";

export interface StoreOptions {
  /** Stamps rows the store creates itself (users, servers, set-up links). */
  readonly clock?: Clock;
  /**
   * PostgreSQL only: the schema that holds Slipway's tables, created by `migrate()`. Lets one
   * database host several hubs (or test runs). Default: the connection's search_path.
   */
  readonly schema?: string;
  /** PostgreSQL only: connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** SQLite only: how long a write waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /**
   * PostgreSQL only: errors of idle pooled connections, e.g. when the server restarts. The pool
   * drops such a connection and the next query opens a new one; by default they are ignored.
   */
  readonly onIdleConnectionError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the store named by `url`: `sqlite:<path>` (`sqlite::memory:` for a private in-memory
 * database) or `postgres://…` / `postgresql://…`. Call `migrate()` before using it. Async because
 * it loads the driver the URL names, and so that opening may grow a connection check.
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<KyselyStore> {
  const clock = options.clock ?? systemClock;
  if (url.startsWith("sqlite:")) {
    if (options.schema !== undefined) throw new Error("A schema can only be chosen on PostgreSQL.");
    return openSqlite(url.slice("sqlite:".length), options.busyTimeoutMs ?? 5000, clock);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return openPostgres(url, options, clock);
  }
  // Not echoing the URL: it may carry a password.
  throw new Error("The database URL must start with sqlite: or postgres://.");
}

// Each driver is loaded only when its kind of URL is opened: a hub on SQLite never loads pg.

async function openSqlite(path: string, busyTimeoutMs: number, clock: Clock): Promise<KyselyStore> {
  if (path === "") throw new Error("The sqlite: URL names no file; use sqlite:<path> or sqlite::memory:.");
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new Error("busyTimeoutMs must be a non-negative integer.");
  }
  const onDisk = path !== ":memory:";
  if (onDisk) {
    await refuseSharedDatabaseFiles(path);
    await createPrivateDatabaseFile(path);
  }
  const { default: SqliteDatabase } = await import("better-sqlite3");
  const sqlite = new SqliteDatabase(path);
  try {
    // WAL: readers do not block the writer. Foreign keys are off by default in SQLite, and the
    // cascades from users depend on them. The busy timeout covers a second process (a CLI).
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Checked again now that switching to WAL has made the -wal and -shm files.
    if (onDisk) await refuseSharedDatabaseFiles(path);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return new KyselyStore({ db, dialect: sqliteTraits, clock });
}

async function openPostgres(url: string, options: StoreOptions, clock: Clock): Promise<KyselyStore> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error("A schema name is lower-case letters, digits and '_', starting with a letter or '_'.");
  }
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // Every pooled connection resolves the tables in the chosen schema.
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  // Without a listener, an idle connection's error would be thrown as an uncaught exception.
  pool.on("error", options.onIdleConnectionError ?? (() => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore({ db, dialect: postgresTraits, clock, ...(schema !== undefined && { schema }) });
}
