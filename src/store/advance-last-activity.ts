import { sql } from "kysely";
import { chunks, type StoreContext } from "./store-context.js";

/** Entries per statement: two bound parameters each, far below both dialects' limits. */
const CHUNK = 500;

/**
 * Moves `last_activity` forward for many rows in one statement per chunk. Activity is collected
 * in memory and flushed in batches, possibly by several replicas and out of order, so a
 * timestamp only ever moves forward; rows that no longer exist are skipped.
 */
export async function advanceLastActivity<Id extends number | string>(
  ctx: StoreContext,
  table: "users" | "servers" | "api_tokens",
  entries: readonly { id: Id; at: Date }[],
): Promise<void> {
  const latest = new Map<Id, Date>();
  for (const { id, at } of entries) {
    const seen = latest.get(id);
    if (seen === undefined || seen.getTime() < at.getTime()) latest.set(id, at);
  }
  const idType = sql.raw(table === "api_tokens" ? "text" : "integer");
  const timeType = sql.raw(ctx.dialect.schemaTypes.time);
  const tableRef = sql.table(table);

  for (const chunk of chunks([...latest], CHUNK)) {
    // Casts, because PostgreSQL types an untyped VALUES list from its parameters as text.
    const values = sql.join(
      chunk.map(([id, at]) => sql`(CAST(${id} AS ${idType}), CAST(${ctx.dialect.time(at)} AS ${timeType}))`),
    );
    const update = sql`
      WITH v(id, at) AS (VALUES ${values})
      UPDATE ${tableRef} SET last_activity = v.at FROM v
      WHERE ${tableRef}.id = v.id AND (${tableRef}.last_activity IS NULL OR ${tableRef}.last_activity < v.at)`;
    if (!ctx.dialect.rowLocks) {
      await update.execute(ctx.db);
      continue;
    }
    // UPDATE … FROM locks rows in whatever order the planner joins them; locking them first, in
    // id order, keeps two replicas flushing overlapping batches from deadlocking each other.
    const ids = sql.join(chunk.map(([id]) => id));
    await ctx.db.transaction().execute(async (trx) => {
      await sql`SELECT id FROM ${tableRef} WHERE id IN (${ids}) ORDER BY id FOR UPDATE`.execute(trx);
      await update.execute(trx);
    });
  }
}
