import type { ExpressionBuilder } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import { delaySteps, retryAfter } from "../domain/throttle-policy.js";
import type { ThrottleRule, ThrottleStore } from "../ports/store.js";
import { decodeTime } from "./column-decoders.js";
import type { Database } from "./database.js";
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

  async reserve(keys: readonly string[], at: Date, rule: ThrottleRule): Promise<void> {
    const time = (value: Date) => this.#ctx.dialect.time(value);
    const stale = time(new Date(at.getTime() - rule.windowMs));
    const steps = delaySteps(rule.policy);
    const firstDelayed = steps[0]?.failures ?? 1;
    // The policy as a condition on the row as it is when the upsert runs (not as it was read):
    // on PostgreSQL a concurrent upsert of the same key waits for this one and then re-evaluates
    // it against the new count, so the free attempts go to exactly that many callers.
    const mayTry = (eb: ExpressionBuilder<Database, "throttle">) =>
      eb.or([
        eb("throttle.last_failure_at", "<", stale),
        eb("throttle.failures", "<", firstDelayed),
        ...steps.map((step, i) =>
          eb.and([
            eb("throttle.failures", i === steps.length - 1 ? ">=" : "=", step.failures),
            eb("throttle.last_failure_at", "<=", time(new Date(at.getTime() - step.delaySeconds * 1000))),
          ]),
        ),
      ]);
    // Keys in one order everywhere, so two transactions never wait for each other's rows.
    const ordered = [...new Set(keys)].sort();
    // A refusal throws inside the transaction, which takes back the keys already counted.
    await this.#ctx.db.transaction().execute(async (trx) => {
      for (const key of ordered) {
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
              .where(mayTry),
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
