import type { Kysely } from "kysely";
import type { Clock } from "../ports/clock.js";
import type { Database } from "./database.js";
import type { DialectTraits } from "./dialect-traits.js";

/** What every part of the store shares: the database handle, its dialect and the clock. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: DialectTraits;
  readonly clock: Clock;
}

/** Splits a list into pieces small enough for one statement's bound parameters. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
