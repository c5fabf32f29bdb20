import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, type WithStore } from "./contract-kit.js";

export function throttleStoreContract(withStore: WithStore): void {
  describe("sign-in throttling", () => {
    it(
      "counts failures per key with the time of the last, until cleared",
      withStore(async ({ store }) => {
        assert.equal(await store.throttle.get("user:alice"), undefined);
        assert.equal(await store.throttle.recordFailure("user:alice", at(1_000)), 1);
        assert.equal(await store.throttle.recordFailure("user:alice", at(2_000)), 2);
        assert.equal(await store.throttle.recordFailure("ip:10.0.0.1", at(3_000)), 1);
        assert.deepEqual(await store.throttle.get("user:alice"), { failures: 2, lastFailureAt: at(2_000) });
        await store.throttle.clear("user:alice");
        assert.equal(await store.throttle.get("user:alice"), undefined);
        assert.equal(await store.throttle.recordFailure("user:alice", at(4_000)), 1);
        assert.deepEqual(await store.throttle.get("ip:10.0.0.1"), { failures: 1, lastFailureAt: at(3_000) });
      }),
    );

    it(
      "counts every one of several concurrent failures",
      withStore(async ({ store }) => {
        const counts = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.throttle.recordFailure("user:alice", at(i))),
        );
        assert.deepEqual(
          [...counts].sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.equal((await store.throttle.get("user:alice"))?.failures, 10);
      }),
    );
  });
}
