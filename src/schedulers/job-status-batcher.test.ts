import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Clock } from "../ports/clock.js";
import { JobStatusBatcher } from "./job-status-batcher.js";

/** Time that moves only when the test says; a timer fires when time passes its due moment. */
class SteppedClock implements Clock {
  #now = 0;
  #timers: { at: number; fn: () => void }[] = [];

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.#now + ms, fn };
    this.#timers.push(timer);
    return { cancel: () => (this.#timers = this.#timers.filter((t) => t !== timer)) };
  }

  /** Moves to `ms` later and runs what fell due, then lets the queries it started settle. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.at <= this.#now);
    this.#timers = this.#timers.filter((t) => t.at > this.#now);
    for (const t of due) t.fn();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A cluster whose query the test answers: it records each one's ids. */
function recordingQuery(answer: (ids: readonly string[]) => Map<string, string>) {
  const queries: (readonly string[])[] = [];
  return {
    queries,
    query: async (ids: readonly string[]) => {
      queries.push(ids);
      return answer(ids);
    },
  };
}

const echo = (ids: readonly string[]) => new Map(ids.map((id) => [id, `state of ${id}`]));

describe("JobStatusBatcher", () => {
  it("answers every question asked within the gathering time with one query", async () => {
    const clock = new SteppedClock();
    const cluster = recordingQuery(echo);
    const batcher = new JobStatusBatcher(cluster.query, clock, { minIntervalMs: 10_000, gatherMs: 50 });
    const answers = Promise.all(["1", "2", "1", "3"].map((id) => batcher.status(id)));
    await clock.advance(50);
    assert.deepEqual(await answers, [
      { ok: true, value: "state of 1" },
      { ok: true, value: "state of 2" },
      { ok: true, value: "state of 1" },
      { ok: true, value: "state of 3" },
    ]);
    assert.deepEqual(cluster.queries, [["1", "2", "3"]]);
  });

  it("asks no sooner than the poll interval after the last query", async () => {
    const clock = new SteppedClock();
    const cluster = recordingQuery(echo);
    const batcher = new JobStatusBatcher(cluster.query, clock, { minIntervalMs: 10_000, gatherMs: 50 });
    const first = batcher.status("1");
    await clock.advance(50);
    await first;
    const second = batcher.status("1");
    await clock.advance(9_999);
    assert.equal(cluster.queries.length, 1, "a second query within the interval");
    await clock.advance(1);
    assert.deepEqual(await second, { ok: true, value: "state of 1" });
    assert.equal(cluster.queries.length, 2);
  });

  it("answers every waiting question with the reason when the query fails, and one it left out with none", async () => {
    const clock = new SteppedClock();
    let fail = true;
    const batcher = new JobStatusBatcher(
      async (ids) => {
        if (fail) throw new Error("squeue did not answer within 5000 ms");
        return new Map(ids.filter((id) => id !== "2").map((id) => [id, "ok"]));
      },
      clock,
      { minIntervalMs: 0, gatherMs: 0 },
    );
    const failed = Promise.all([batcher.status("1"), batcher.status("2")]);
    await clock.advance(0);
    assert.deepEqual(await failed, [
      { ok: false, reason: "squeue did not answer within 5000 ms" },
      { ok: false, reason: "squeue did not answer within 5000 ms" },
    ]);
    fail = false;
    const partial = Promise.all([batcher.status("1"), batcher.status("2")]);
    await clock.advance(0);
    assert.deepEqual(await partial, [
      { ok: true, value: "ok" },
      { ok: false, reason: "no answer" },
    ]);
  });

  it("answers the questions still waiting when it closes, and asks nothing", async () => {
    const clock = new SteppedClock();
    const cluster = recordingQuery(echo);
    const batcher = new JobStatusBatcher(cluster.query, clock, { minIntervalMs: 0, gatherMs: 50 });
    const waiting = batcher.status("1");
    batcher.close();
    assert.deepEqual(await waiting, { ok: false, reason: "the hub is shutting down" });
    await clock.advance(100);
    assert.deepEqual(cluster.queries, []);
  });
});
