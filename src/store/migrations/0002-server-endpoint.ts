import type { Kysely, Migration } from "kysely";
import type { SchemaTypes } from "./schema-types.js";

/**
 * A running server is reached at an endpoint (a Unix socket of its owner's, or TLS pinned to the
 * launch's own certificate) instead of a host and port that anyone could take over once the
 * server exits (architecture invariant 9). Servers that were running keep their launcher state;
 * their launchers see it lacks a secure channel and stop them, to be started again.
 */
export function serverEndpointMigration(types: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("servers").addColumn("endpoint", types.json).execute();
      await db.schema.alterTable("servers").dropColumn("host").execute();
      await db.schema.alterTable("servers").dropColumn("port").execute();
    },
  };
}
