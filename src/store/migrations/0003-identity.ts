import type { Kysely, Migration } from "kysely";
import type { SchemaTypes } from "./schema-types.js";

/**
 * Facility sign-in: accounts get a zone, a display name and an e-mail address from the identity
 * provider; groups exist in the store (from the provider or the admin page); a session remembers
 * how it was signed in (the provider's subject and session id, for back-channel logout, and sealed
 * state such as the ID token for RP-initiated logout); a sign-in away at the provider keeps its
 * PKCE verifier, state and nonce in a single-use row; logout tokens already used are remembered
 * until they expire; and the audit trail is a table of structured events.
 */
export function identityMigration(types: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (db.isTransaction) await createIdentityTables(db, types);
      else await db.transaction().execute((trx) => createIdentityTables(trx, types));
    },
  };
}

async function createIdentityTables(db: Kysely<unknown>, t: SchemaTypes): Promise<void> {
  const userRef = "users.id";
  await db.schema
    .alterTable("users")
    .addColumn("zone", "text", (c) => c.notNull().defaultTo("internal"))
    .execute();
  await db.schema.alterTable("users").addColumn("display_name", "text").execute();
  await db.schema.alterTable("users").addColumn("email", "text").execute();

  // Who a provider says an account is: one (issuer, subject) per account and issuer, so that a
  // second person whose name claim maps onto the same account name is refused, never merged.
  await db.schema
    .createTable("user_identities")
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    .addColumn("created_at", t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint("user_identities_pk", ["issuer", "subject"])
    .addUniqueConstraint("user_identities_user_issuer", ["user_id", "issuer"])
    .execute();

  await db.schema
    .createTable("groups")
    .addColumn("id", "integer", t.identity)
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("group_members")
    .addColumn("group_id", "integer", (c) => c.notNull().references("groups.id").onDelete("cascade"))
    .addColumn("user_id", "integer", (c) => c.notNull().references(userRef).onDelete("cascade"))
    // "admin" (the admin page, the API, the CLI) or "idp" (set at each sign-in from the provider's groups).
    .addColumn("source", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("group_members_pk", ["group_id", "user_id"])
    .execute();
  await db.schema.createIndex("group_members_user_id").on("group_members").column("user_id").execute();

  // How the session was signed in, and what its method needs to end it at the provider.
  await db.schema.alterTable("sessions").addColumn("auth_kind", "text").execute();
  await db.schema.alterTable("sessions").addColumn("idp_issuer", "text").execute();
  await db.schema.alterTable("sessions").addColumn("idp_subject", "text").execute();
  await db.schema.alterTable("sessions").addColumn("idp_session", "text").execute();
  await db.schema.alterTable("sessions").addColumn("auth_state_sealed", "text").execute();
  await db.schema
    .createIndex("sessions_idp_subject")
    .on("sessions")
    .columns(["idp_issuer", "idp_subject"])
    .execute();
  await db.schema
    .createIndex("sessions_idp_session")
    .on("sessions")
    .columns(["idp_issuer", "idp_session"])
    .execute();

  await db.schema
    .createTable("sign_in_states")
    .addColumn("handle_hash", "text", (c) => c.primaryKey())
    .addColumn("state_sealed", "text", (c) => c.notNull())
    .addColumn("expires_at", t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("sign_in_states_expires_at")
    .on("sign_in_states")
    .column("expires_at")
    .execute();

  await db.schema
    .createTable("used_token_ids")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("expires_at", t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("used_token_ids_expires_at")
    .on("used_token_ids")
    .column("expires_at")
    .execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", t.bigint, t.identity)
    .addColumn("at", t.time, (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    // Names, not ids: the trail outlives the accounts it speaks of.
    .addColumn("actor", "text")
    .addColumn("subject", "text")
    .addColumn("reason", "text")
    .addColumn("address", "text")
    .addColumn("details", t.json, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_events_at").on("audit_events").column("at").execute();
  await db.schema.createIndex("audit_events_kind_id").on("audit_events").columns(["kind", "id"]).execute();
  await db.schema.createIndex("audit_events_actor_id").on("audit_events").columns(["actor", "id"]).execute();
  await db.schema
    .createIndex("audit_events_subject_id")
    .on("audit_events")
    .columns(["subject", "id"])
    .execute();
}
