import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../../domain/errors.js";
import type { Store, ThrottleKey, ThrottleRule } from "../../ports/store.js";
import { at, countWinners, type WithStore } from "./contract-kit.js";

const WINDOW_MS = 15 * 60_000;

/** Three free attempts, then 2, 4, 8, 16, 32 s, then 60 s for good. */
const rule: ThrottleRule = {
  policy: { freeFailures: 3, baseDelaySeconds: 2, maxDelaySeconds: 60 },
  windowMs: WINDOW_MS,
};

function key(name: string, under: ThrottleRule = rule): ThrottleKey {
  return { key: name, rule: under };
}

const alice = key("user:alice");

async function refusedFor(attempt: Promise<void>): Promise<number> {
  let wait = Number.NaN;
  await assert.rejects(attempt, (error: unknown) => {
    assert.ok(isSlipwayError(error) && error.code === "too_many_attempts", String(error));
    wait = Number(error.details?.["retryAfter"]);
    return true;
  });
  return wait;
}

async function failuresOf(store: Store, key: string): Promise<number | undefined> {
  return (await store.throttle.get(key))?.failures;
}

export function throttleStoreContract(withStore: WithStore): void {
  describe("sign-in throttling", () => {
    it(
      "counts attempts per key with the time of the last, until cleared",
      withStore(async ({ store }) => {
        assert.equal(await store.throttle.get("user:alice"), undefined);
        await store.throttle.reserve([alice], at(1_000));
        await store.throttle.reserve([alice], at(2_000));
        await store.throttle.reserve([key("ip:10.0.0.1")], at(3_000));
        assert.deepEqual(await store.throttle.get("user:alice"), { failures: 2, lastFailureAt: at(2_000) });
        await store.throttle.clear("user:alice");
        assert.equal(await store.throttle.get("user:alice"), undefined);
        await store.throttle.reserve([alice], at(4_000));
        assert.equal(await failuresOf(store, "user:alice"), 1);
        assert.deepEqual(await store.throttle.get("ip:10.0.0.1"), { failures: 1, lastFailureAt: at(3_000) });
      }),
    );

    it(
      "lets exactly the free attempts of a race through, under every key, and counts none of the rest",
      withStore(async ({ store }) => {
        const race = Array.from({ length: 40 }, () =>
          store.throttle.reserve([alice, key("addr:10.0.0.1")], at(0)),
        );
        const winners = await countWinners(race, "too_many_attempts");
        assert.equal(winners.length, 3);
        assert.equal(await failuresOf(store, "user:alice"), 3);
        assert.equal(await failuresOf(store, "addr:10.0.0.1"), 3);
      }),
    );

    it(
      "holds each key to its own rule: a wider allowance for an address than for the names behind it",
      withStore(async ({ store }) => {
        // Seven free attempts, then 5 s: a different allowance and a different first delay.
        const wide: ThrottleRule = {
          policy: { freeFailures: 7, baseDelaySeconds: 5, maxDelaySeconds: 60 },
          windowMs: WINDOW_MS,
        };
        const address = key("addr:10.0.0.1", wide);
        const sameName = Array.from({ length: 20 }, () => store.throttle.reserve([alice, address], at(0)));
        assert.equal((await countWinners(sameName, "too_many_attempts")).length, 3);
        assert.equal(await refusedFor(store.throttle.reserve([alice, address], at(0))), 2);
        const manyNames = Array.from({ length: 20 }, (_, i) =>
          store.throttle.reserve([key(`user:n${i}`), address], at(0)),
        );
        assert.equal((await countWinners(manyNames, "too_many_attempts")).length, 7 - 3);
        assert.equal(await failuresOf(store, "addr:10.0.0.1"), 7);
        assert.equal(await failuresOf(store, "user:alice"), 3);
        // A refusal by the address counts nothing under the names, and waits the address's delay.
        let counted = 0;
        for (let i = 0; i < 20; i++) counted += (await failuresOf(store, `user:n${i}`)) ?? 0;
        assert.equal(counted, 7 - 3);
        assert.equal(await refusedFor(store.throttle.reserve([key("user:zoe"), address], at(0))), 5);
        assert.equal(await store.throttle.get("user:zoe"), undefined);
      }),
    );

    it(
      "refuses a key named twice, whatever its rules, and counts nothing",
      withStore(async ({ store }) => {
        await assert.rejects(store.throttle.reserve([alice, key("addr:10.0.0.1"), alice], at(0)), RangeError);
        assert.equal(await store.throttle.get("user:alice"), undefined);
        assert.equal(await store.throttle.get("addr:10.0.0.1"), undefined);
      }),
    );

    it(
      "refuses, with the seconds left, until the delay since the last attempt is over, and never for good",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve([alice], at(0));
        assert.equal(await refusedFor(store.throttle.reserve([alice], at(500))), 2);
        assert.equal(await refusedFor(store.throttle.reserve([alice], at(1_999))), 1);
        await store.throttle.reserve([alice], at(2_000));
        assert.equal(await refusedFor(store.throttle.reserve([alice], at(2_000))), 4);
        assert.equal(await refusedFor(store.throttle.reserve([alice], at(5_999))), 1);
        await store.throttle.reserve([alice], at(6_000));
        // Far past the doublings the wait stays at the cap.
        let now = 6_000;
        for (let i = 0; i < 20; i++) {
          now += 60_000;
          await store.throttle.reserve([alice], at(now));
        }
        assert.equal(await failuresOf(store, "user:alice"), 25);
        assert.equal(await refusedFor(store.throttle.reserve([alice], at(now))), 60);
      }),
    );

    it(
      "counts nothing under any key when one of them is refused",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve([alice], at(0));
        await refusedFor(store.throttle.reserve([key("addr:10.0.0.9"), alice], at(0)));
        await refusedFor(store.throttle.reserve([alice, key("addr:10.0.0.9")], at(0)));
        assert.equal(await store.throttle.get("addr:10.0.0.9"), undefined);
        assert.equal(await failuresOf(store, "user:alice"), 3);
      }),
    );

    it(
      "starts a key afresh once its last attempt is older than the window",
      withStore(async ({ store }) => {
        for (let i = 0; i < 10; i++) await store.throttle.reserve([alice], at(i * 60_000));
        const quiet = 9 * 60_000 + WINDOW_MS + 1;
        await store.throttle.reserve([alice], at(quiet));
        assert.deepEqual(await store.throttle.get("user:alice"), { failures: 1, lastFailureAt: at(quiet) });
      }),
    );

    it(
      "takes an attempt back on release, never below zero",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve([alice], at(0));
        await refusedFor(store.throttle.reserve([alice], at(0)));
        await store.throttle.release("user:alice");
        assert.equal(await failuresOf(store, "user:alice"), 2);
        await store.throttle.reserve([alice], at(0));
        for (let i = 0; i < 5; i++) await store.throttle.release("user:alice");
        assert.equal(await failuresOf(store, "user:alice"), 0);
        await store.throttle.release("user:nobody");
        assert.equal(await store.throttle.get("user:nobody"), undefined);
        // Nothing counted means nothing to wait for, even when no attempt is free.
        const strict: ThrottleRule = { ...rule, policy: { ...rule.policy, freeFailures: 0 } };
        await store.throttle.reserve([key("user:alice", strict)], at(0));
        await refusedFor(store.throttle.reserve([key("user:alice", strict)], at(0)));
      }),
    );

    it(
      "counts every one of concurrent attempts naming the same keys in either order",
      withStore(async ({ store }) => {
        const generous: ThrottleRule = { ...rule, policy: { ...rule.policy, freeFailures: 100 } };
        const [a, b] = [key("a", generous), key("b", generous)];
        const attempts = Array.from({ length: 20 }, (_, i) =>
          store.throttle.reserve(i % 2 === 0 ? [a, b] : [b, a], at(i)),
        );
        assert.equal((await countWinners(attempts)).length, 20);
        assert.equal(await failuresOf(store, "a"), 20);
        assert.equal(await failuresOf(store, "b"), 20);
      }),
    );
  });
}
