import { randomBytes } from "node:crypto";
import pino from "pino";
import { validateConfig } from "../config/load-config.js";
import { identityPolicy } from "../config/policies.js";
import type { User } from "../domain/types.js";
import type { SessionStore, Store } from "../ports/store.js";
import { IdentityService } from "../services/identity-service.js";
import { SessionService } from "../services/session-service.js";
import { openStore } from "../store/open-store.js";
import { FakeClock } from "../store/store.contract.js";
import { PasswordHasher } from "./password-hasher.js";
import { newToken, sha256Hex } from "./random-token.js";
import { SecretBox } from "./secret-box.js";
import { Totp } from "./totp.js";

export const ALICE_PASSWORD = "a long enough password";
export const FREE_FAILURES_PER_ADDRESS = 5;

/** Built-in accounts as the hub runs them, on a real SQLite store and a fake clock, with alice in it. */
export interface LocalAccountsFixture {
  readonly identity: IdentityService;
  readonly sessions: SessionService;
  /** The store the services write to; its sessions are counted. */
  readonly store: Store;
  readonly clock: FakeClock;
  readonly sealer: SecretBox;
  readonly codes: Totp;
  readonly alice: User;
  /** Sessions created so far that the store still holds. */
  sessionCount(): Promise<number>;
  dispose(): Promise<void>;
}

/** The store's sessions, noting those created through it. */
function countingSessions(real: SessionStore, created: string[]): SessionStore {
  return {
    create: async (session) => {
      await real.create(session);
      created.push(session.idHash);
    },
    get: (idHash) => real.get(idHash),
    touch: (idHash, at) => real.touch(idHash, at),
    setStage: (idHash, stage) => real.setStage(idHash, stage),
    delete: (idHash) => real.delete(idHash),
    deleteForUser: (userId) => real.deleteForUser(userId),
    deleteExpired: (now) => real.deleteExpired(now),
    deleteForIdp: (key) => real.deleteForIdp(key),
  };
}

export async function openLocalAccounts(
  options: { totp?: "optional" | "required" } = {},
): Promise<LocalAccountsFixture> {
  // The hub's own defaults, but for TOTP and a smaller allowance of failures to reach in a test.
  const throttle = { freeFailures: 3, freeFailuresPerAddress: FREE_FAILURES_PER_ADDRESS };
  const config = validateConfig({ auth: { totp: options.totp ?? "optional", throttle } });
  if (!config.ok) throw new Error(config.errors.join("; "));
  const clock = new FakeClock(new Date(Date.UTC(2025, 2, 1, 12)));
  const real = await openStore("sqlite::memory:", { clock });
  await real.migrate();
  const created: string[] = [];
  const store: Store = {
    dialect: real.dialect,
    users: real.users,
    sessions: countingSessions(real.sessions, created),
    tokens: real.tokens,
    setupLinks: real.setupLinks,
    servers: real.servers,
    throttle: real.throttle,
    groups: real.groups,
    signInStates: real.signInStates,
    usedTokenIds: real.usedTokenIds,
    audit: real.audit,
    migrate: () => real.migrate(),
    close: () => real.close(),
  };
  // The cheapest scrypt cost: these tests are about the flow, not the hash.
  const hasher = new PasswordHasher({ cost: { N: 2 ** 10, r: 8, p: 1 } });
  const sealer = new SecretBox(randomBytes(32));
  const codes = new Totp();
  const random = { token: () => newToken(32), sha256: sha256Hex };
  const log = pino({ level: "silent" });
  const policy = identityPolicy(config.config, 0);
  const sessions = new SessionService({ store, clock, random, log, policy });
  const identity = new IdentityService({
    store,
    clock,
    hasher,
    totp: codes,
    sealer,
    random,
    log,
    policy,
    sessions,
  });
  const alice = await store.users.create({ name: "alice", admin: false });
  await store.users.setPassword(alice.id, await hasher.hash(ALICE_PASSWORD));
  return {
    identity,
    sessions,
    store,
    clock,
    sealer,
    codes,
    alice,
    sessionCount: async () => {
      const live = await Promise.all(created.map((idHash) => real.sessions.get(idHash)));
      return live.filter((session) => session !== undefined).length;
    },
    dispose: () => real.close(),
  };
}
