import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import pino from "pino";
import type { User } from "../domain/types.js";
import type { Store } from "../ports/store.js";
import { openStore } from "../store/open-store.js";
import { FakeClock } from "../store/store.contract.js";
import { SessionService, type SessionPolicy } from "./session-service.js";

const MINUTE = 60_000;
const POLICY: SessionPolicy = {
  sessionIdleTimeoutMs: 60 * MINUTE,
  sessionMaxAgeMs: 24 * 60 * MINUTE,
  cacheTtlMs: 0,
};

let tokens = 0;
const random = {
  token: () => `token-${++tokens}`,
  sha256: (value: string) => createHash("sha256").update(value).digest("hex"),
};

describe("SessionService", () => {
  let store: Store;
  let clock: FakeClock;
  let alice: User;

  /** A replica's session service over this test's store; `cacheTtlMs` 0 reads the store every time. */
  const sessionsWith = (cacheTtlMs = MINUTE) =>
    new SessionService({
      store,
      clock,
      random,
      policy: { ...POLICY, cacheTtlMs },
      log: pino({ level: "silent" }),
    });

  /** Who the listeners of `sessions` hear about, in order. */
  const listenTo = (sessions: SessionService): [string, number][] => {
    const heard: [string, number][] = [];
    sessions.onSessionEnd((key, userId) => heard.push([key, userId]));
    return heard;
  };

  beforeEach(async () => {
    clock = new FakeClock(new Date(Date.UTC(2025, 2, 1, 12)));
    store = await openStore("sqlite::memory:", { clock });
    await store.migrate();
    alice = await store.users.create({ name: "alice", admin: false });
  });

  afterEach(() => store.close());

  it("answers a full session it has read once without waiting for the store", async () => {
    const sessions = sessionsWith();
    const { sessionId } = await sessions.createSession(alice, "full");
    const first = sessions.resolveSession(sessionId);
    assert.ok(first instanceof Promise);
    assert.equal((await first)?.user.name, "alice");
    const second = sessions.resolveSession(sessionId);
    assert.ok(second !== null && !(second instanceof Promise));
    assert.equal(second.principal.via, "cookie");
    assert.equal(second.principal.credentialKey, second.session.idHash);
  });

  it("keeps a session at a sign-in step out of the cache, and gives it 15 minutes", async () => {
    const sessions = sessionsWith();
    const step = await sessions.createSession(alice, "totp");
    assert.equal(step.session.expiresAt.getTime() - clock.now().getTime(), 15 * MINUTE);
    await sessions.resolveSession(step.sessionId);
    assert.ok(sessions.resolveSession(step.sessionId) instanceof Promise);
    const full = await sessions.createSession(alice, "full");
    assert.equal(full.session.expiresAt.getTime() - clock.now().getTime(), POLICY.sessionMaxAgeMs);
  });

  it("ends a session left idle for the idle timeout, and keeps one in use", async () => {
    const sessions = sessionsWith(0);
    const idle = await sessions.createSession(alice, "full");
    const used = await sessions.createSession(alice, "full");
    clock.advance(30 * MINUTE);
    assert.notEqual(await sessions.resolveSession(used.sessionId), null);
    clock.advance(40 * MINUTE);
    assert.equal(await sessions.resolveSession(idle.sessionId), null);
    assert.notEqual(await sessions.resolveSession(used.sessionId), null);
  });

  it("ends a session at its maximum age however much it is used", async () => {
    const sessions = sessionsWith(0);
    const { sessionId } = await sessions.createSession(alice, "full");
    for (let elapsed = 0; elapsed < POLICY.sessionMaxAgeMs; elapsed += 30 * MINUTE) {
      assert.notEqual(await sessions.resolveSession(sessionId), null, `alive after ${elapsed} ms`);
      clock.advance(30 * MINUTE);
    }
    assert.equal(await sessions.resolveSession(sessionId), null);
  });

  it("writes a session's last-seen time to the store at most once a minute", async () => {
    const sessions = sessionsWith(0);
    const { sessionId, session } = await sessions.createSession(alice, "full");
    const lastSeen = async () => (await store.sessions.get(session.idHash))?.lastSeenAt.getTime();
    clock.advance(MINUTE);
    const touched = clock.now().getTime();
    await sessions.resolveSession(sessionId);
    assert.equal(await lastSeen(), touched);
    clock.advance(MINUTE / 2);
    await sessions.resolveSession(sessionId);
    assert.equal(await lastSeen(), touched);
    clock.advance(MINUTE / 2);
    await sessions.resolveSession(sessionId);
    assert.equal(await lastSeen(), clock.now().getTime());
  });

  it("signs out: the session resolves no more, and the listeners hear its key and its user", async () => {
    const sessions = sessionsWith();
    const heard = listenTo(sessions);
    const { sessionId, session } = await sessions.createSession(alice, "full");
    await sessions.resolveSession(sessionId);
    await sessions.signOut(sessionId);
    assert.equal(await sessions.resolveSession(sessionId), null);
    assert.equal(await store.sessions.get(session.idHash), undefined);
    assert.deepEqual(heard, [[session.idHash, alice.id]]);
  });

  it("ends every session of a user at once, and the listeners hear user:<id>", async () => {
    const sessions = sessionsWith();
    const heard = listenTo(sessions);
    const bob = await store.users.create({ name: "bob", admin: false });
    const ids = await Promise.all([
      sessions.createSession(alice, "full"),
      sessions.createSession(alice, "totp"),
      sessions.createSession(bob, "full"),
    ]);
    for (const { sessionId } of ids) await sessions.resolveSession(sessionId);
    await sessions.endUserSessions(alice.id);
    const after = await Promise.all(ids.map(({ sessionId }) => sessions.resolveSession(sessionId)));
    assert.deepEqual(
      after.map((s) => s?.user.name ?? null),
      [null, null, "bob"],
    );
    assert.deepEqual(heard, [[`user:${alice.id}`, alice.id]]);
  });

  it("counts a sign-out on another replica once asked whether the session is still valid", async () => {
    const here = sessionsWith();
    const there = sessionsWith();
    const { sessionId, session } = await here.createSession(alice, "full");
    await here.resolveSession(sessionId);
    await there.signOut(sessionId);
    // The cache answers for at most its TTL: that is the documented bound on another replica's sign-out.
    assert.notEqual(here.resolveSession(sessionId), null);
    assert.equal(await here.isSessionValid(session.idHash, false), false);
    assert.equal(await here.resolveSession(sessionId), null);
  });

  it("reads the account afresh once told to forget a user's cached sessions", async () => {
    const sessions = sessionsWith();
    const { sessionId } = await sessions.createSession(alice, "full");
    await sessions.resolveSession(sessionId);
    await store.users.update(alice.id, { disabled: true });
    assert.notEqual(sessions.resolveSession(sessionId), null);
    sessions.forgetUser(alice.id);
    assert.equal(await sessions.resolveSession(sessionId), null);
  });
});
