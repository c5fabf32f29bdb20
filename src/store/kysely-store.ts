import { Migrator, sql, type Kysely } from "kysely";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import type { Database } from "./database.js";
import type { DialectTraits } from "./dialect-traits.js";
import { KyselyAuditStore } from "./kysely-audit-store.js";
import { KyselyGroupStore } from "./kysely-group-store.js";
import { KyselyServerStore } from "./kysely-server-store.js";
import { KyselySessionStore } from "./kysely-session-store.js";
import { KyselySetupLinkStore } from "./kysely-setup-link-store.js";
import { KyselySignInStateStore, KyselyUsedTokenIdStore } from "./kysely-sign-in-state-store.js";
import { KyselyThrottleStore } from "./kysely-throttle-store.js";
import { KyselyTokenStore } from "./kysely-token-store.js";
import { KyselyUserStore } from "./kysely-user-store.js";
import { migrationProvider } from "./migrations/migration-provider.js";
import type { StoreContext } from "./store-context.js";

/** The store over Kysely, the same code for SQLite and PostgreSQL. Build it with `openStore`. */
export class KyselyStore implements Store {
  readonly dialect: "sqlite" | "postgres";
  readonly users: KyselyUserStore;
  readonly sessions: KyselySessionStore;
  readonly tokens: KyselyTokenStore;
  readonly setupLinks: KyselySetupLinkStore;
  readonly servers: KyselyServerStore;
  readonly throttle: KyselyThrottleStore;
  readonly groups: KyselyGroupStore;
  readonly signInStates: KyselySignInStateStore;
  readonly usedTokenIds: KyselyUsedTokenIdStore;
  readonly audit: KyselyAuditStore;
  readonly #db: Kysely<Database>;
  readonly #traits: DialectTraits;
  /** PostgreSQL schema holding the tables, when not the connection's default. */
  readonly #schema: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(deps: { db: Kysely<Database>; dialect: DialectTraits; clock: Clock; schema?: string }) {
    const ctx: StoreContext = { db: deps.db, dialect: deps.dialect, clock: deps.clock };
    this.dialect = deps.dialect.name;
    this.#db = deps.db;
    this.#traits = deps.dialect;
    this.#schema = deps.schema;
    this.users = new KyselyUserStore(ctx);
    this.sessions = new KyselySessionStore(ctx);
    this.tokens = new KyselyTokenStore(ctx);
    this.setupLinks = new KyselySetupLinkStore(ctx);
    this.servers = new KyselyServerStore(ctx);
    this.throttle = new KyselyThrottleStore(ctx);
    this.groups = new KyselyGroupStore(ctx);
    this.signInStates = new KyselySignInStateStore(ctx);
    this.usedTokenIds = new KyselyUsedTokenIdStore(ctx);
    this.audit = new KyselyAuditStore(ctx);
  }

  /** Runs pending migrations. Replicas starting together are serialised by the migrator's lock. */
  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.#db,
      provider: migrationProvider(this.#traits.schemaTypes),
      // Creates the schema too, before the migrations that fill it.
      ...(this.#schema !== undefined && { migrationTableSchema: this.#schema }),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const newer = await this.#unknownMigrations().catch(() => []);
      if (newer.length > 0) {
        throw new Error(
          `The database was migrated by a newer Slipway: it has ${newer.join(", ")}, which this version does not know. ` +
            "Run the version the database was upgraded to (every replica the same), or restore the database from before that upgrade.",
          { cause: error },
        );
      }
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new Error(`Database migration ${failed ?? "set-up"} failed`, { cause: error });
    }
  }

  /** Migrations the database records that this version's code does not have (a newer one ran). */
  async #unknownMigrations(): Promise<string[]> {
    const table = sql.table(
      this.#schema === undefined ? "kysely_migration" : `${this.#schema}.kysely_migration`,
    );
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(this.#db);
    const known = await migrationProvider(this.#traits.schemaTypes).getMigrations();
    return rows.map((r) => r.name).filter((name) => !(name in known));
  }

  /** Closes the database; safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= this.#db.destroy();
    return this.#closed;
  }
}
