import type { ThrottleStore } from "../ports/store.js";
import { decodeTime } from "./column-decoders.js";
import type { StoreContext } from "./store-context.js";

export class KyselyThrottleStore implements ThrottleStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async get(key: string): Promise<{ failures: number; lastFailureAt: Date } | undefined> {
    const row = await this.#ctx.db
      .selectFrom("throttle")
      .select(["failures", "last_failure_at"])
      .where("key", "=", key)
      .executeTakeFirst();
    return (
      row && {
        failures: row.failures,
        lastFailureAt: decodeTime(row.last_failure_at, "throttle.last_failure_at"),
      }
    );
  }

  async recordFailure(key: string, at: Date): Promise<number> {
    const time = this.#ctx.dialect.time(at);
    // An upsert, so failures counted by several replicas at once all add up.
    const row = await this.#ctx.db
      .insertInto("throttle")
      .values({ key, failures: 1, last_failure_at: time })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet((eb) => ({
          failures: eb("throttle.failures", "+", 1),
          last_failure_at: eb.ref("excluded.last_failure_at"),
        })),
      )
      .returning("failures")
      .executeTakeFirstOrThrow();
    return row.failures;
  }

  async clear(key: string): Promise<void> {
    await this.#ctx.db.deleteFrom("throttle").where("key", "=", key).execute();
  }
}
