import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import type { PasswordHashing } from "../ports/security.js";
import { LimitedPasswordHashing } from "./limited-password-hashing.js";

/** Every verification waits until the test finishes it, by its password. */
class HeldHasher implements PasswordHashing {
  readonly running = new Set<string>();
  readonly #finish = new Map<string, (ok: boolean) => void>();
  readonly #fail = new Map<string, (error: Error) => void>();

  async hash(password: string): Promise<string> {
    return password;
  }

  async verify(password: string): Promise<boolean> {
    this.running.add(password);
    try {
      return await new Promise<boolean>((resolve, reject) => {
        this.#finish.set(password, resolve);
        this.#fail.set(password, reject);
      });
    } finally {
      this.running.delete(password);
    }
  }

  async verifyDummy(): Promise<void> {
    await this.verify("(dummy)");
  }

  finish(password: string): void {
    const finish = this.#finish.get(password);
    assert.ok(finish, `${password} is not running`);
    finish(false);
  }

  fail(password: string): void {
    const fail = this.#fail.get(password);
    assert.ok(fail, `${password} is not running`);
    fail(new Error("kdf failed"));
  }
}

/** Lets every promise callback already due run (no I/O is involved, so nothing else is waited for). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("LimitedPasswordHashing", () => {
  it("runs no more verifications at once than allowed, and the waiting ones in the order they came", async () => {
    const inner = new HeldHasher();
    const limited = new LimitedPasswordHashing(inner, { concurrent: 2, queued: 3 });
    const calls = ["a", "b", "c", "d", "e"].map((p) => limited.verify(p, "x"));
    await settle();
    assert.deepEqual([...inner.running], ["a", "b"]);
    inner.finish("b");
    await settle();
    assert.deepEqual([...inner.running], ["a", "c"]);
    inner.finish("a");
    inner.finish("c");
    await settle();
    assert.deepEqual([...inner.running], ["d", "e"]);
    inner.finish("d");
    inner.finish("e");
    assert.deepEqual(await Promise.all(calls), [false, false, false, false, false]);
  });

  it("refuses at once with sign_in_busy, and Retry-After 1, when the queue is full", async () => {
    const inner = new HeldHasher();
    const limited = new LimitedPasswordHashing(inner, { concurrent: 1, queued: 1 });
    const running = limited.verify("a", "x");
    const waiting = limited.verifyDummy();
    await assert.rejects(limited.verify("c", "x"), (error: unknown) => {
      assert.ok(isSlipwayError(error));
      assert.equal(error.code, "sign_in_busy");
      assert.equal(error.details?.["retryAfter"], 1);
      return true;
    });
    await settle();
    assert.deepEqual([...inner.running], ["a"]);
    inner.finish("a");
    await settle();
    assert.deepEqual([...inner.running], ["(dummy)"]);
    inner.finish("(dummy)");
    await Promise.all([running, waiting]);
  });

  it("frees the slot of a verification that throws", async () => {
    const inner = new HeldHasher();
    const limited = new LimitedPasswordHashing(inner, { concurrent: 1, queued: 0 });
    const failing = limited.verify("a", "x");
    await settle();
    inner.fail("a");
    await assert.rejects(failing, /kdf failed/);
    const next = limited.verify("b", "x");
    await settle();
    assert.deepEqual([...inner.running], ["b"]);
    inner.finish("b");
    assert.equal(await next, false);
  });

  it("refuses limits that would stop every sign-in", () => {
    const inner = new HeldHasher();
    assert.throws(() => new LimitedPasswordHashing(inner, { concurrent: 0, queued: 10 }), RangeError);
    assert.throws(() => new LimitedPasswordHashing(inner, { concurrent: 1, queued: -1 }), RangeError);
  });
});
