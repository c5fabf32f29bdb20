/**
 * Waits that start short and grow to a cap: a wait that usually ends within moments is noticed
 * within moments, and one that lasts costs few checks.
 */
export class Backoff {
  #next: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
    private readonly factor = 2,
  ) {
    this.#next = firstMs;
  }

  /** The next wait, in milliseconds. */
  next(): number {
    const ms = this.#next;
    this.#next = Math.min(this.maxMs, Math.ceil(ms * this.factor));
    return ms;
  }

  /** Back to the first, short wait (something changed, so the end may be near). */
  reset(): void {
    this.#next = this.firstMs;
  }
}
