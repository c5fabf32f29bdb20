import type { BoolValue, TimeValue } from "./database.js";
import { postgresSchemaTypes, sqliteSchemaTypes, type SchemaTypes } from "./migrations/schema-types.js";

/** Everything the store does differently on SQLite and PostgreSQL; the queries themselves are shared. */
export interface DialectTraits {
  readonly name: "sqlite" | "postgres";
  readonly schemaTypes: SchemaTypes;
  /** How a point in time is written. */
  time(value: Date): TimeValue;
  /** How a flag is written. */
  bool(value: boolean): BoolValue;
  /** Whether `SELECT … FOR UPDATE` exists (and is needed: SQLite writers are serialised anyway). */
  readonly rowLocks: boolean;
  isUniqueViolation(error: unknown): boolean;
  isForeignKeyViolation(error: unknown): boolean;
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}

export const sqliteTraits: DialectTraits = {
  name: "sqlite",
  schemaTypes: sqliteSchemaTypes,
  // better-sqlite3 binds neither Date nor boolean.
  time: (value) => value.getTime(),
  bool: (value) => (value ? 1 : 0),
  rowLocks: false,
  isUniqueViolation: (error) => {
    const code = errorCode(error);
    return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
  },
  isForeignKeyViolation: (error) => errorCode(error) === "SQLITE_CONSTRAINT_FOREIGNKEY",
};

// SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
export const postgresTraits: DialectTraits = {
  name: "postgres",
  schemaTypes: postgresSchemaTypes,
  time: (value) => value,
  bool: (value) => value,
  rowLocks: true,
  isUniqueViolation: (error) => errorCode(error) === "23505",
  isForeignKeyViolation: (error) => errorCode(error) === "23503",
};
