import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import pino from "pino";
import { isSlipwayError, type ErrorCode } from "../domain/errors.js";
import type { User } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { PasswordHashing, Sealer, TotpCodes } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import { openStore } from "../store/open-store.js";
import { IdentityService, type IdentityPolicy } from "./identity-service.js";
import type { PasswordCheckLimits } from "./limited-password-hashing.js";
import { SessionService, type SessionPolicy } from "./session-service.js";

const FREE = 3;
/** Wider than FREE, as a NAT or a front proxy puts many people behind one address. */
const PER_ADDRESS = 12;
const RIGHT = "the-right-password";
const RIGHT_CODE = "246810";

const policy: IdentityPolicy = {
  totp: "optional",
  issuer: "Slipway",
  passwordMinLength: 10,
  setupLinkTtlMs: 86_400_000,
  throttle: { freeFailures: FREE, freeFailuresPerAddress: PER_ADDRESS, baseDelay: 30, maxDelay: 300 },
};

const sessionPolicy: SessionPolicy = {
  sessionIdleTimeoutMs: 3_600_000,
  sessionMaxAgeMs: 86_400_000,
  cacheTtlMs: 0,
};

const clock: Clock = {
  now: () => new Date(Date.UTC(2025, 2, 1, 12)),
  setTimeout: () => {
    throw new Error("identity sets no timers here");
  },
};

const quiet = pino({ level: "silent" });

/** "Hashes" are the password itself; every verification is recorded and may be held open. */
class RecordingHasher implements PasswordHashing {
  readonly verified: string[] = [];
  #gate: Promise<void> = Promise.resolve();
  #held: (password: string) => boolean = () => false;
  #open: () => void = () => undefined;
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  /** Holds the verifications of the passwords `which` picks (all by default) until `release()`. */
  hold(which: (password: string) => boolean = () => true): void {
    this.#held = which;
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open();
  }

  /** Resolves once `count` verifications have started. */
  started(count: number): Promise<void> {
    if (this.verified.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async hash(password: string): Promise<string> {
    return password;
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    this.#start(password);
    if (this.#held(password)) await this.#gate;
    return password === encoded;
  }

  async verifyDummy(): Promise<void> {
    this.#start("(dummy)");
    if (this.#held("(dummy)")) await this.#gate;
  }

  #start(password: string): void {
    this.verified.push(password);
    for (const waiter of this.#waiters) if (this.verified.length >= waiter.count) waiter.resolve();
  }
}

const sealer: Sealer = { seal: (plain) => plain, open: (sealed) => sealed };

const totp: TotpCodes = {
  generateSecret: () => "secret",
  provisioningUri: () => "otpauth://totp/x",
  qrSvg: async () => "<svg/>",
  verify: (_secret, code) => (code === RIGHT_CODE ? 1 : null),
};

let tokens = 0;
const random = {
  token: () => `token-${++tokens}`,
  sha256: (value: string) => createHash("sha256").update(value).digest("hex"),
};

async function outcome(attempt: Promise<unknown>): Promise<ErrorCode | "ok"> {
  try {
    await attempt;
    return "ok";
  } catch (error) {
    if (isSlipwayError(error)) return error.code;
    throw error;
  }
}

function tally(outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

describe("IdentityService: attempts sent together", () => {
  let store: Store;
  let hasher: RecordingHasher;
  let identity: IdentityService;
  let alice: User;

  /** The service over this test's store and hasher, with room for all the checks a test sends by default. */
  const identityWith = (passwordChecks: PasswordCheckLimits = { concurrent: 8, queued: 100 }) => {
    const sessions = new SessionService({ store, clock, random, policy: sessionPolicy, log: quiet });
    return new IdentityService({
      store,
      clock,
      hasher,
      totp,
      sealer,
      random,
      policy,
      log: quiet,
      sessions,
      passwordChecks,
    });
  };

  beforeEach(async () => {
    store = await openStore("sqlite::memory:", { clock });
    await store.migrate();
    alice = await store.users.create({ name: "alice", admin: false });
    await store.users.setPassword(alice.id, RIGHT);
    hasher = new RecordingHasher();
    identity = identityWith();
  });

  afterEach(() => store.close());

  /** Adds `count` users with the right password (and an authenticator, if asked); returns their names. */
  const addUsers = async (count: number, options: { totp?: boolean } = {}): Promise<string[]> => {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const user = await store.users.create({ name: `user-${i}`, admin: false });
      await store.users.setPassword(user.id, RIGHT);
      if (options.totp) await store.users.setTotp(user.id, "secret");
      names.push(user.name);
    }
    return names;
  };

  it("verifies only the free allowance of 100 wrong passwords sent at once, and refuses the rest", async () => {
    const attempts = Array.from({ length: 100 }, (_, i) =>
      outcome(identity.signInWithPassword("alice", `wrong-${i}`, "10.0.0.1")),
    );
    const counts = tally(await Promise.all(attempts));
    assert.deepEqual(counts, { invalid_credentials: FREE, too_many_attempts: 100 - FREE });
    assert.equal(hasher.verified.length, FREE);
  });

  it("refuses the right password sent inside a burst once the allowance is taken", async () => {
    // Only the wrong ones are held: the right one, were it checked, would sign in at once.
    hasher.hold((password) => password !== RIGHT);
    const wrong = Array.from({ length: 29 }, (_, i) =>
      outcome(identity.signInWithPassword("alice", `wrong-${i}`, "10.0.0.2")),
    );
    // The allowance is being verified, and no failure has come back yet.
    await hasher.started(FREE);
    const right = identity.signInWithPassword("alice", RIGHT, "10.0.0.3");
    await assert.rejects(right, (error: unknown) => {
      assert.ok(isSlipwayError(error));
      assert.equal(error.code, "too_many_attempts");
      assert.ok(Number(error.details?.["retryAfter"]) > 0);
      return true;
    });
    hasher.release();
    assert.deepEqual(tally(await Promise.all(wrong)), {
      invalid_credentials: FREE,
      too_many_attempts: 29 - FREE,
    });
    assert.ok(!hasher.verified.includes(RIGHT), "the right password was never even checked");
  });

  it("verifies only the address's allowance of a spraying run over many user names from one address", async () => {
    const attempts = Array.from({ length: PER_ADDRESS + 20 }, (_, i) =>
      outcome(identity.signInWithPassword(`nobody-${i}`, "some-password", "10.0.0.4")),
    );
    assert.deepEqual(tally(await Promise.all(attempts)), {
      invalid_credentials: PER_ADDRESS,
      too_many_attempts: 20,
    });
    assert.equal(hasher.verified.length, PER_ADDRESS);
  });

  it("signs in 10 people sending their passwords at once from one address (a NAT, a course)", async () => {
    const names = await addUsers(10);
    const attempts = names.map((name) => outcome(identity.signInWithPassword(name, RIGHT, "10.0.0.10")));
    assert.deepEqual(tally(await Promise.all(attempts)), { ok: 10 });
    // Each success took its own attempt back: the address is as free as before.
    assert.equal((await store.throttle.get("addr:10.0.0.10"))?.failures, 0);
  });

  it("takes the one-time codes of 10 people sent at once from one address", async () => {
    const names = await addUsers(10, { totp: true });
    const pending = await Promise.all(
      names.map((name, i) => identity.signInWithPassword(name, RIGHT, `10.0.1.${i}`)),
    );
    const codes = pending.map((accepted) =>
      outcome(identity.completeTotp(accepted.pending?.sessionId ?? "", RIGHT_CODE, "10.0.0.11")),
    );
    assert.deepEqual(tally(await Promise.all(codes)), { ok: 10 });
  });

  it("clears the user name's count on the right password and gives the address back its attempt", async () => {
    for (const i of [1, 2]) {
      assert.equal(
        await outcome(identity.signInWithPassword("alice", `wrong-${i}`, "10.0.0.5")),
        "invalid_credentials",
      );
    }
    assert.equal(await outcome(identity.signInWithPassword("alice", RIGHT, "10.0.0.5")), "ok");
    assert.equal(await store.throttle.get("user:alice"), undefined);
    assert.equal((await store.throttle.get("addr:10.0.0.5"))?.failures, 2);
  });

  it("checks only the free allowance of 100 one-time codes sent at once", async () => {
    await store.users.setTotp(alice.id, "secret");
    const { pending } = await identity.signInWithPassword("alice", RIGHT, "10.0.0.6");
    assert.equal(pending?.session.stage, "totp");
    const codes = Array.from({ length: 100 }, (_, i) =>
      outcome(identity.completeTotp(pending.sessionId, String(100_000 + i), "10.0.0.6")),
    );
    assert.deepEqual(tally(await Promise.all(codes)), {
      invalid_totp: FREE,
      too_many_attempts: 100 - FREE,
    });
    const late = identity.completeTotp(pending.sessionId, RIGHT_CODE, "10.0.0.7");
    assert.equal(await outcome(late), "too_many_attempts");
  });

  it("refuses a sign-in with sign_in_busy while the checks are all taken, without counting it", async () => {
    const busy = identityWith({ concurrent: 1, queued: 0 });
    hasher.hold((password) => password === "wrong-1");
    const running = outcome(busy.signInWithPassword("alice", "wrong-1", "10.0.0.8"));
    await hasher.started(1);
    assert.equal(await outcome(busy.signInWithPassword("bob", "wrong-2", "10.0.0.9")), "sign_in_busy");
    assert.equal((await store.throttle.get("user:bob"))?.failures ?? 0, 0);
    assert.equal((await store.throttle.get("addr:10.0.0.9"))?.failures ?? 0, 0);
    hasher.release();
    assert.equal(await running, "invalid_credentials");
    assert.deepEqual(hasher.verified, ["wrong-1"]);
  });
});
