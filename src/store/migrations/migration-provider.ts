import type { Migration, MigrationProvider } from "kysely";
import { initialMigration } from "./0001-initial.js";
import { serverEndpointMigration } from "./0002-server-endpoint.js";
import { identityMigration } from "./0003-identity.js";
import type { SchemaTypes } from "./schema-types.js";

/**
 * Every migration, listed in code rather than found by scanning a folder, so the compiled
 * build carries them. Names sort in the order they run; append, never edit or reorder.
 */
export function migrationProvider(types: SchemaTypes): MigrationProvider {
  const migrations: Record<string, Migration> = {
    "0001-initial": initialMigration(types),
    "0002-server-endpoint": serverEndpointMigration(types),
    "0003-identity": identityMigration(types),
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
