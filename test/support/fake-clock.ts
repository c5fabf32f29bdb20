import type { Clock } from "../../src/ports/clock.js";

/**
 * A clock whose "now" the test sets, for TOTP steps, throttling delays and session expiry.
 * Timers still run on real time: they drive polling, not the behaviour under test.
 */
export class FakeClock implements Clock {
  #now: number;

  constructor(start: Date = new Date()) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  set(date: Date): void {
    this.#now = date.getTime();
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }
}
