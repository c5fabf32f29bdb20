import type { SqliteDatabase, SqliteStatement } from "kysely";

/** Distinct queries kept prepared; the hub issues a few dozen, `IN (…)` lists of each length more. */
const DEFAULT_MAX_STATEMENTS = 256;

/**
 * A SQLite database for Kysely's dialect that keeps each query's prepared statement for the next
 * time the same SQL comes, instead of compiling it again on every call as Kysely does: preparing
 * was about a tenth of the hub's CPU for a page of 200 users. Least recently used statements go
 * past `max`. A statement is never in use twice at once: Kysely runs one query at a time on its
 * one SQLite connection, and the store streams no results.
 */
export function cachingStatements(
  database: SqliteDatabase,
  max = DEFAULT_MAX_STATEMENTS,
): SqliteDatabase & { readonly cached: number } {
  const statements = new Map<string, SqliteStatement>();
  return {
    get cached() {
      return statements.size;
    },
    prepare(sql: string): SqliteStatement {
      const known = statements.get(sql);
      if (known !== undefined) {
        // Map order is the order of use: refresh this one's place.
        statements.delete(sql);
        statements.set(sql, known);
        return known;
      }
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > max) {
        const oldest = statements.keys().next();
        if (oldest.done !== true) statements.delete(oldest.value);
      }
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
