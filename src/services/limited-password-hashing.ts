import { SlipwayError } from "../domain/errors.js";
import type { PasswordHashing } from "../ports/security.js";

export interface PasswordCheckLimits {
  /** Verifications computed at once. */
  readonly concurrent: number;
  /** Verifications waiting for a turn; one more is refused with `sign_in_busy`. */
  readonly queued: number;
}

/**
 * Each scrypt verification takes 32 MiB and 50–150 ms of one of libuv's four workers, which also
 * do the hub's file and DNS work: two at a time leave the rest of the hub responsive, and 64
 * waiting is a few seconds of work, past which a caller is better told to come back.
 */
export const DEFAULT_PASSWORD_CHECK_LIMITS: PasswordCheckLimits = { concurrent: 2, queued: 64 };

/**
 * Password verification with a cap on the work in progress, so a flood of sign-ins (for many
 * user names from many addresses, which throttling per key does not stop) cannot take the CPU
 * and memory of the process. Waiters are served in the order they came.
 */
export class LimitedPasswordHashing implements PasswordHashing {
  readonly #inner: PasswordHashing;
  readonly #limits: PasswordCheckLimits;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(inner: PasswordHashing, limits: PasswordCheckLimits) {
    if (!Number.isInteger(limits.concurrent) || limits.concurrent < 1) {
      throw new RangeError(`concurrent must be a whole number ≥ 1, not ${limits.concurrent}.`);
    }
    if (!Number.isInteger(limits.queued) || limits.queued < 0) {
      throw new RangeError(`queued must be a whole number ≥ 0, not ${limits.queued}.`);
    }
    this.#inner = inner;
    this.#limits = limits;
  }

  /**
   * Not limited: new passwords are hashed for set-up links and the first admin, where the one-time
   * secret may already be spent and a refusal would waste it.
   */
  hash(password: string): Promise<string> {
    return this.#inner.hash(password);
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return this.#run(() => this.#inner.verify(password, encoded));
  }

  verifyDummy(): Promise<void> {
    return this.#run(() => this.#inner.verifyDummy());
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.#limits.concurrent) this.#running++;
    else if (this.#waiting.length < this.#limits.queued) {
      // The slot is handed over by the one finishing, so #running never drops in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      throw new SlipwayError("sign_in_busy", undefined, { retryAfter: 1 });
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
