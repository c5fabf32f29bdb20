import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../../domain/errors.js";
import type { Store, ThrottleRule } from "../../ports/store.js";
import { at, countWinners, type WithStore } from "./contract-kit.js";

const WINDOW_MS = 15 * 60_000;

/** Three free attempts, then 2, 4, 8, 16, 32 s, then 60 s for good. */
const rule: ThrottleRule = {
  policy: { freeFailures: 3, baseDelaySeconds: 2, maxDelaySeconds: 60 },
  windowMs: WINDOW_MS,
};

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
        await store.throttle.reserve(["user:alice"], at(1_000), rule);
        await store.throttle.reserve(["user:alice"], at(2_000), rule);
        await store.throttle.reserve(["ip:10.0.0.1"], at(3_000), rule);
        assert.deepEqual(await store.throttle.get("user:alice"), { failures: 2, lastFailureAt: at(2_000) });
        await store.throttle.clear("user:alice");
        assert.equal(await store.throttle.get("user:alice"), undefined);
        await store.throttle.reserve(["user:alice"], at(4_000), rule);
        assert.equal(await failuresOf(store, "user:alice"), 1);
        assert.deepEqual(await store.throttle.get("ip:10.0.0.1"), { failures: 1, lastFailureAt: at(3_000) });
      }),
    );

    it(
      "lets exactly the free attempts of a race through, under every key, and counts none of the rest",
      withStore(async ({ store }) => {
        const race = Array.from({ length: 40 }, () =>
          store.throttle.reserve(["user:alice", "addr:10.0.0.1"], at(0), rule),
        );
        const winners = await countWinners(race, "too_many_attempts");
        assert.equal(winners.length, 3);
        assert.equal(await failuresOf(store, "user:alice"), 3);
        assert.equal(await failuresOf(store, "addr:10.0.0.1"), 3);
      }),
    );

    it(
      "refuses, with the seconds left, until the delay since the last attempt is over, and never for good",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve(["user:alice"], at(0), rule);
        assert.equal(await refusedFor(store.throttle.reserve(["user:alice"], at(500), rule)), 2);
        assert.equal(await refusedFor(store.throttle.reserve(["user:alice"], at(1_999), rule)), 1);
        await store.throttle.reserve(["user:alice"], at(2_000), rule);
        assert.equal(await refusedFor(store.throttle.reserve(["user:alice"], at(2_000), rule)), 4);
        assert.equal(await refusedFor(store.throttle.reserve(["user:alice"], at(5_999), rule)), 1);
        await store.throttle.reserve(["user:alice"], at(6_000), rule);
        // Far past the doublings the wait stays at the cap.
        let now = 6_000;
        for (let i = 0; i < 20; i++) {
          now += 60_000;
          await store.throttle.reserve(["user:alice"], at(now), rule);
        }
        assert.equal(await failuresOf(store, "user:alice"), 25);
        assert.equal(await refusedFor(store.throttle.reserve(["user:alice"], at(now), rule)), 60);
      }),
    );

    it(
      "counts nothing under any key when one of them is refused",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve(["user:alice"], at(0), rule);
        await refusedFor(store.throttle.reserve(["addr:10.0.0.9", "user:alice"], at(0), rule));
        await refusedFor(store.throttle.reserve(["user:alice", "addr:10.0.0.9"], at(0), rule));
        assert.equal(await store.throttle.get("addr:10.0.0.9"), undefined);
        assert.equal(await failuresOf(store, "user:alice"), 3);
      }),
    );

    it(
      "starts a key afresh once its last attempt is older than the window",
      withStore(async ({ store }) => {
        for (let i = 0; i < 10; i++) await store.throttle.reserve(["user:alice"], at(i * 60_000), rule);
        const quiet = 9 * 60_000 + WINDOW_MS + 1;
        await store.throttle.reserve(["user:alice"], at(quiet), rule);
        assert.deepEqual(await store.throttle.get("user:alice"), { failures: 1, lastFailureAt: at(quiet) });
      }),
    );

    it(
      "takes an attempt back on release, never below zero",
      withStore(async ({ store }) => {
        for (let i = 0; i < 3; i++) await store.throttle.reserve(["user:alice"], at(0), rule);
        await refusedFor(store.throttle.reserve(["user:alice"], at(0), rule));
        await store.throttle.release("user:alice");
        assert.equal(await failuresOf(store, "user:alice"), 2);
        await store.throttle.reserve(["user:alice"], at(0), rule);
        for (let i = 0; i < 5; i++) await store.throttle.release("user:alice");
        assert.equal(await failuresOf(store, "user:alice"), 0);
        await store.throttle.release("user:nobody");
        assert.equal(await store.throttle.get("user:nobody"), undefined);
        // Nothing counted means nothing to wait for, even when no attempt is free.
        const strict: ThrottleRule = { ...rule, policy: { ...rule.policy, freeFailures: 0 } };
        await store.throttle.reserve(["user:alice"], at(0), strict);
        await refusedFor(store.throttle.reserve(["user:alice"], at(0), strict));
      }),
    );

    it(
      "counts every one of concurrent attempts naming the same keys in either order",
      withStore(async ({ store }) => {
        const generous: ThrottleRule = { ...rule, policy: { ...rule.policy, freeFailures: 100 } };
        const attempts = Array.from({ length: 20 }, (_, i) =>
          store.throttle.reserve(i % 2 === 0 ? ["a", "b"] : ["b", "a"], at(i), generous),
        );
        assert.equal((await countWinners(attempts)).length, 20);
        assert.equal(await failuresOf(store, "a"), 20);
        assert.equal(await failuresOf(store, "b"), 20);
      }),
    );
  });
}
