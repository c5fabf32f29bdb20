import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { delayFor, delaySteps, retryAfter } from "./throttle-policy.js";
import type { ThrottlePolicy } from "./throttle-policy.js";

const policy: ThrottlePolicy = { freeFailures: 3, baseDelaySeconds: 2, maxDelaySeconds: 60 };
const T = new Date("2026-03-01T12:00:00Z");
const later = (seconds: number): Date => new Date(T.getTime() + seconds * 1000);

describe("delayFor", () => {
  it("is zero for the free failures, then doubles from the base delay", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => delayFor(n, policy)),
      [0, 0, 0, 2, 4, 8, 16],
    );
  });

  it("never exceeds the maximum, however many failures there were", () => {
    assert.equal(delayFor(10, policy), 60);
    assert.equal(delayFor(1_000_000, policy), 60);
    assert.equal(delayFor(Number.POSITIVE_INFINITY, policy), 60);
  });

  it("treats a corrupt failure count as the maximum delay, not as none", () => {
    assert.equal(delayFor(Number.NaN, policy), 60);
  });

  it("refuses a policy that makes no sense", () => {
    assert.throws(() => delayFor(5, { ...policy, freeFailures: -1 }), RangeError);
    assert.throws(() => delayFor(5, { ...policy, baseDelaySeconds: 0 }), RangeError);
    assert.throws(() => delayFor(5, { ...policy, maxDelaySeconds: 1 }), RangeError);
    assert.throws(() => delayFor(5, { ...policy, maxDelaySeconds: Number.POSITIVE_INFINITY }), RangeError);
  });
});

describe("retryAfter", () => {
  it("counts down the remaining whole seconds and reaches zero when the delay is over", () => {
    // 4 failures → 4 s.
    assert.equal(retryAfter(T, 4, policy, T), 4);
    assert.equal(retryAfter(T, 4, policy, later(1.5)), 3);
    assert.equal(retryAfter(T, 4, policy, later(3.999)), 1);
    assert.equal(retryAfter(T, 4, policy, later(4)), 0);
    assert.equal(retryAfter(T, 4, policy, later(3600)), 0);
  });

  it("lets anyone try at once while failures are free", () => {
    assert.equal(retryAfter(T, 2, policy, T), 0);
  });

  it("locks nobody out for good: after the maximum delay any account may try again", () => {
    assert.equal(retryAfter(T, 1_000_000_000, policy, later(59)), 1);
    assert.equal(retryAfter(T, 1_000_000_000, policy, later(60)), 0);
  });

  it("does not stretch the wait when the last failure is stamped in the future (clock skew)", () => {
    assert.equal(retryAfter(later(3600), 4, policy, T), 4);
  });
});

describe("delaySteps", () => {
  it("lists each delay from the first delayed count up to the cap, which holds from there on", () => {
    assert.deepEqual(delaySteps(policy), [
      { failures: 3, delaySeconds: 2 },
      { failures: 4, delaySeconds: 4 },
      { failures: 5, delaySeconds: 8 },
      { failures: 6, delaySeconds: 16 },
      { failures: 7, delaySeconds: 32 },
      { failures: 8, delaySeconds: 60 },
    ]);
  });

  it("gives a key with nothing counted no delay, even when no failure is free", () => {
    assert.deepEqual(delaySteps({ freeFailures: 0, baseDelaySeconds: 5, maxDelaySeconds: 10 }), [
      { failures: 1, delaySeconds: 10 },
    ]);
  });

  it("ends at the cap after 64 steps rather than with a shorter delay than the policy's", () => {
    const steps = delaySteps({ freeFailures: 0, baseDelaySeconds: 1, maxDelaySeconds: Number.MAX_VALUE });
    assert.equal(steps.length, 64);
    assert.deepEqual(steps.at(-1), { failures: 64, delaySeconds: Number.MAX_VALUE });
  });
});
