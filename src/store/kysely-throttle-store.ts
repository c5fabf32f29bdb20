import type { ExpressionBuilder } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import { delaySteps, retryAfter } from "../domain/throttle-policy.js";
import type { ThrottleKey, ThrottleRule, ThrottleStore } from "../ports/store.js";
import { decodeTime } from "./column-decoders.js";
import type { Database, TimeValue } from "./database.js";
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

  async reserve(keys: readonly ThrottleKey[], at: Date): Promise<void> {
    // Keys in one order everywhere, so two transactions never wait for each other's rows.
    const ordered = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const twice = ordered.find((entry, i) => i > 0 && ordered[i - 1]?.key === entry.key);
    if (twice) throw new RangeError(`Throttle key ${twice.key} named twice in one reservation.`);
    const time = (value: Date) => this.#ctx.dialect.time(value);
    // A refusal throws inside the transaction, which takes back the keys already counted.
    await this.#ctx.db.transaction().execute(async (trx) => {
      for (const { key, rule } of ordered) {
        const stale = time(new Date(at.getTime() - rule.windowMs));
        const counted = await trx
          .insertInto("throttle")
          .values({ key, failures: 1, last_failure_at: time(at) })
          .onConflict((oc) =>
            oc
              .column("key")
              .doUpdateSet((eb) => ({
                failures: eb
                  .case()
                  .when("throttle.last_failure_at", "<", stale)
                  .then(1)
                  .else(eb("throttle.failures", "+", 1))
                  .end(),
                last_failure_at: eb.ref("excluded.last_failure_at"),
              }))
              .where((eb) => this.#mayTry(eb, rule, at, stale)),
          )
          .returning("failures")
          .executeTakeFirst();
        if (counted) continue;
        const row = await trx
          .selectFrom("throttle")
          .select(["failures", "last_failure_at"])
          .where("key", "=", key)
          .executeTakeFirstOrThrow();
        const last = decodeTime(row.last_failure_at, "throttle.last_failure_at");
        const wait = Math.max(1, retryAfter(last, row.failures, rule.policy, at));
        throw new SlipwayError("too_many_attempts", `Too many failed attempts; try again in ${wait} s.`, {
          retryAfter: wait,
        });
      }
    });
  }

  /**
   * A key's rule as a condition on its row as it is when the upsert runs (not as it was read): on
   * PostgreSQL a concurrent upsert of the same key waits for this one and then re-evaluates it
   * against the new count, so the free attempts go to exactly that many callers.
   */
  #mayTry(eb: ExpressionBuilder<Database, "throttle">, rule: ThrottleRule, at: Date, stale: TimeValue) {
    const time = (value: Date) => this.#ctx.dialect.time(value);
    const steps = delaySteps(rule.policy);
    const firstDelayed = steps[0]?.failures ?? 1;
    return eb.or([
      eb("throttle.last_failure_at", "<", stale),
      eb("throttle.failures", "<", firstDelayed),
      ...steps.map((step, i) =>
        eb.and([
          eb("throttle.failures", i === steps.length - 1 ? ">=" : "=", step.failures),
          eb("throttle.last_failure_at", "<=", time(new Date(at.getTime() - step.delaySeconds * 1000))),
        ]),
      ),
    ]);
  }

  async release(key: string): Promise<void> {
    await this.#ctx.db
      .updateTable("throttle")
      .set((eb) => ({ failures: eb("failures", "-", 1) }))
      .where("key", "=", key)
      .where("failures", ">", 0)
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.#ctx.db.deleteFrom("throttle").where("key", "=", key).execute();
  }
}
