import type { Kysely, Migration } from "kysely";
import type { SchemaTypes } from "./schema-types.js";

/** Users, credentials, sessions, API tokens, set-up links, servers and their events, throttling. */
export function initialMigration(types: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // SQLite's migrations run outside a transaction; PostgreSQL's run inside the migrator's.
      if (db.isTransaction) await createTables(db, types);
      else await db.transaction().execute((trx) => createTables(trx, types));
    },
  };
}

async function createTables(db: Kysely<unknown>, t: SchemaTypes): Promise<void> {
  const userRef = "users.id";

  await db.schema
    .createTable("users")
    .addColumn("id", "integer", t.identity)
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("admin", t.bool, (c) => c.notNull())
    .addColumn("disabled", t.bool, (c) => c.notNull())
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addColumn("last_activity", t.time)
    .addColumn("password_hash", "text")
    .addColumn("totp_secret_sealed", "text")
    .addColumn("totp_last_step", t.bigint)
    .execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    .addColumn("stage", "text", (c) => c.notNull())
    .addColumn("xsrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addColumn("last_seen_at", t.time, (c) => c.notNull())
    .addColumn("expires_at", t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("sessions_user_id").on("sessions").column("user_id").execute();
  await db.schema.createIndex("sessions_expires_at").on("sessions").column("expires_at").execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("note", "text", (c) => c.notNull())
    .addColumn("scopes", t.json, (c) => c.notNull())
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addColumn("expires_at", t.time)
    .addColumn("last_activity", t.time)
    .execute();
  await db.schema.createIndex("api_tokens_user_id").on("api_tokens").column("user_id").execute();

  await db.schema
    .createTable("setup_links")
    .addColumn("hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addColumn("expires_at", t.time, (c) => c.notNull())
    .addColumn("used_at", t.time)
    .execute();
  // PostgreSQL does not index the referencing side of a foreign key; cascading deletes need it.
  await db.schema.createIndex("setup_links_user_id").on("setup_links").column("user_id").execute();

  await db.schema
    .createTable("servers")
    .addColumn("id", "integer", t.identity)
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("user_options", t.json, (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("launcher_state", t.json, (c) => c.notNull())
    .addColumn("attempt_id", "text")
    .addColumn("host", "text")
    .addColumn("port", "integer")
    .addColumn("token_sealed", "text")
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addColumn("started_at", t.time)
    .addColumn("state_changed_at", t.time, (c) => c.notNull())
    .addColumn("last_activity", t.time)
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("event_seq", "integer", (c) => c.notNull().defaultTo(0))
    // Also the index for a user's servers and for the cascade from users.
    .addUniqueConstraint("servers_user_id_name_key", ["user_id", "name"])
    .execute();
  await db.schema.createIndex("servers_state").on("servers").column("state").execute();

  await db.schema
    .createTable("server_events")
    .addColumn("server_id", "integer", (c) => c.notNull().references("servers.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("at", t.time, (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("progress", t.float, (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("server_events_pkey", ["server_id", "seq"])
    .execute();

  await db.schema
    .createTable("throttle")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("last_failure_at", t.time, (c) => c.notNull())
    .execute();
}
