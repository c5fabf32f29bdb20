import assert from "node:assert/strict";
import { isSlipwayError, type ErrorCode } from "../../domain/errors.js";
import type { Clock } from "../../ports/clock.js";
import type { Store } from "../../ports/store.js";

export interface OpenedStore {
  readonly store: Store;
  /** Closes the store and throws its database away. */
  dispose(): Promise<void>;
}

/** How one implementation plugs into the contract suite. */
export interface StoreHarness {
  /** Opens a store on an empty, migrated database of its own, stamping rows with `clock`. */
  open(clock: Clock): Promise<OpenedStore>;
}

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  #now: number;

  constructor(start: Date) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(ms: number): Date {
    this.#now += ms;
    return this.now();
  }

  setTimeout(): { cancel(): void } {
    throw new Error("The store sets no timers.");
  }
}

/** Millisecond precision on purpose: times must come back exactly as they went in. */
export const T0 = new Date(Date.UTC(2024, 0, 15, 9, 30, 0, 123));

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

export interface StoreTestContext {
  readonly store: Store;
  readonly clock: FakeClock;
}

export type WithStore = (body: (ctx: StoreTestContext) => Promise<void>) => () => Promise<void>;

/** Wraps a test body so it gets a fresh store, disposed of however the body ends. */
export function withStoreFrom(harness: StoreHarness): WithStore {
  return (body) => async () => {
    const clock = new FakeClock(T0);
    const { store, dispose } = await harness.open(clock);
    try {
      await body({ store, clock });
    } finally {
      await dispose();
    }
  };
}

export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isSlipwayError(error), `expected a SlipwayError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** Settles all, then counts how many fulfilled; the rejections must all carry `code`. */
export async function countWinners<T>(attempts: Promise<T>[], code?: ErrorCode): Promise<T[]> {
  const settled = await Promise.allSettled(attempts);
  const winners: T[] = [];
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") {
      winners.push(outcome.value);
      continue;
    }
    const reason: unknown = outcome.reason;
    assert.ok(code !== undefined, `unexpected rejection: ${String(reason)}`);
    assert.ok(isSlipwayError(reason) && reason.code === code, `unexpected rejection: ${String(reason)}`);
  }
  return winners;
}
