import type { ColumnDefinitionBuilder } from "kysely";

/**
 * Column types of the two dialects, handed to every migration. A migration is frozen once it
 * has run anywhere, and so is what these names mean: change a type with a new migration.
 */
export interface SchemaTypes {
  readonly time: "integer" | "timestamptz";
  readonly bool: "integer" | "boolean";
  readonly json: "text" | "jsonb";
  readonly bigint: "integer" | "bigint";
  readonly float: "real" | "double precision";
  /** Makes an integer column the table's generated key. */
  identity(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

export const sqliteSchemaTypes: SchemaTypes = {
  // Milliseconds since the epoch: SQLite has no time type, and integers compare and index well.
  time: "integer",
  bool: "integer",
  json: "text",
  bigint: "integer",
  float: "real",
  // AUTOINCREMENT so the id of a deleted user or server is never handed out again.
  identity: (column) => column.primaryKey().autoIncrement(),
};

export const postgresSchemaTypes: SchemaTypes = {
  time: "timestamptz",
  bool: "boolean",
  json: "jsonb",
  bigint: "bigint",
  float: "double precision",
  identity: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
};
