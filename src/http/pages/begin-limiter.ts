/**
 * How many sign-ins one address may begin at the provider in a window. Each begin keeps a row
 * in the store until it is used or expires, so a client that only begins (a script, a flood)
 * is slowed down here before it fills the table. Counted per replica, in memory.
 */
export class BeginLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(options: { limit: number; windowMs: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Counts a begin from `address`; false when the address has begun too many in this window. */
  allow(address: string): boolean {
    const now = this.#now();
    if (this.#windows.size > 10_000) this.#forgetOld(now);
    const current = this.#windows.get(address);
    if (!current || now - current.start >= this.#windowMs) {
      this.#windows.set(address, { start: now, count: 1 });
      return true;
    }
    current.count += 1;
    return current.count <= this.#limit;
  }

  /** Seconds until `address` may begin again. */
  retryAfter(address: string): number {
    const current = this.#windows.get(address);
    if (!current) return 0;
    return Math.max(1, Math.ceil((current.start + this.#windowMs - this.#now()) / 1000));
  }

  #forgetOld(now: number): void {
    for (const [address, window] of this.#windows) {
      if (now - window.start >= this.#windowMs) this.#windows.delete(address);
    }
  }
}
