import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import pino from "pino";
import { startIdleCollector } from "./idle-collector.js";

describe("the collection after busy spells", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setInterval"] }));
  afterEach(() => mock.timers.reset());

  /** Starts a collector fed with `loads` (one per 2 s interval) and returns what it did, in order. */
  function events(loads: number[]): string[] {
    const seen: string[] = [];
    const queue = [...loads];
    const collector = startIdleCollector({
      intervalMs: 2000,
      busyAbove: 0.2,
      quietBelow: 0.05,
      log: pino({ level: "silent" }),
      utilization: () => queue.shift() ?? 0,
      beforeCollect: () => seen.push("release"),
      collect: () => seen.push("collect"),
    });
    mock.timers.tick(2000 * loads.length);
    collector.stop();
    return seen;
  }

  /** How often a collector fed with `loads` collected. */
  function run(loads: number[]): number {
    return events(loads).filter((event) => event === "collect").length;
  }

  it("collects once when the hub goes quiet after a busy spell", () => {
    assert.equal(run([0.9, 0.95, 0.01, 0.01, 0.01]), 1);
  });

  it("never collects in a hub that was never busy", () => {
    assert.equal(run([0.01, 0.1, 0.02, 0.15, 0.0]), 0);
  });

  it("waits for a quiet interval: moderate load after the spell does not count as quiet", () => {
    assert.equal(run([0.9, 0.1, 0.1]), 0);
    assert.equal(run([0.9, 0.1, 0.01]), 1);
  });

  it("lets go of what the load kept just before it collects", () => {
    assert.deepEqual(events([0.9, 0.01]), ["release", "collect"]);
  });

  it("collects again only after another busy spell", () => {
    assert.equal(run([0.9, 0.01, 0.01, 0.5, 0.01, 0.01]), 2);
  });
});
