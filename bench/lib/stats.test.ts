import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { quantile, summarize } from "./stats.js";

describe("summarize", () => {
  it("gives min, median and max, averaging the middle pair of an even count", () => {
    assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, min: 1, median: 2.5, max: 4 });
    assert.deepEqual(summarize([5, 1, 3]), { n: 3, min: 1, median: 3, max: 5 });
  });

  it("leaves out values that are not finite", () => {
    assert.deepEqual(summarize([Number.NaN, 2]), { n: 1, min: 2, median: 2, max: 2 });
    assert.equal(summarize([]).n, 0);
  });
});

describe("quantile", () => {
  it("takes the nearest rank", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(samples, 0.5), 50);
    assert.equal(quantile(samples, 0.99), 99);
    assert.equal(quantile([7], 0.99), 7);
  });
});
