import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BeginLimiter } from "./begin-limiter.js";

describe("the limit on sign-ins begun at the provider", () => {
  it("lets an address begin `limit` sign-ins a window, then says when to come back", () => {
    let now = 0;
    const limiter = new BeginLimiter({ limit: 3, windowMs: 60_000, now: () => now });
    assert.deepEqual(
      [1, 2, 3].map(() => limiter.allow("192.0.2.1")),
      [true, true, true],
    );
    assert.equal(limiter.allow("192.0.2.1"), false);
    assert.equal(limiter.allow("192.0.2.2"), true, "another address has its own count");
    now = 45_000;
    assert.equal(limiter.retryAfter("192.0.2.1"), 15);
    now = 60_000;
    assert.equal(limiter.allow("192.0.2.1"), true, "a new window");
  });
});
