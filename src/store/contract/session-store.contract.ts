import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Session } from "../../domain/types.js";
import { at, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

function session(userId: number, idHash: string, expiresAt: Date): Session {
  return {
    idHash,
    userId,
    stage: "totp",
    xsrfToken: `xsrf-${idHash}`,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt,
  };
}

export function sessionStoreContract(withStore: WithStore): void {
  describe("sessions", () => {
    it(
      "keeps a session by the hash of its id, exactly as created",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const created = session(alice.id, "h1", at(3_600_000));
        await store.sessions.create(created);
        assert.deepEqual(await store.sessions.get("h1"), created);
        assert.equal(await store.sessions.get("h2"), undefined);
      }),
    );

    it(
      "refuses a session for a missing user as user_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(store.sessions.create(session(999, "h1", at(1))), "user_not_found");
      }),
    );

    it(
      "moves last-seen forward on touch and changes the stage",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.sessions.create(session(alice.id, "h1", at(3_600_000)));
        await store.sessions.touch("h1", at(60_000));
        await store.sessions.touch("h1", at(30_000));
        await store.sessions.setStage("h1", "full");
        const stored = await store.sessions.get("h1");
        assert.deepEqual(stored?.lastSeenAt, at(60_000));
        assert.equal(stored?.stage, "full");
        await store.sessions.touch("missing", at(1));
        await store.sessions.setStage("missing", "full");
      }),
    );

    it(
      "deletes one session, or all of a user's, saying how many went",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        await store.sessions.create(session(alice.id, "a1", at(3_600_000)));
        await store.sessions.create(session(alice.id, "a2", at(3_600_000)));
        await store.sessions.create(session(alice.id, "a3", at(3_600_000)));
        await store.sessions.create(session(bob.id, "b1", at(3_600_000)));
        await store.sessions.delete("a1");
        assert.equal(await store.sessions.get("a1"), undefined);
        assert.equal(await store.sessions.deleteForUser(alice.id), 2);
        assert.equal(await store.sessions.deleteForUser(alice.id), 0);
        assert.ok(await store.sessions.get("b1"));
      }),
    );

    it(
      "deletes the sessions that expired by now, including one expiring this very moment",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const now = at(10_000);
        await store.sessions.create(session(alice.id, "past", at(9_999)));
        await store.sessions.create(session(alice.id, "now", now));
        await store.sessions.create(session(alice.id, "future", at(10_001)));
        assert.equal(await store.sessions.deleteExpired(now), 2);
        assert.ok(await store.sessions.get("future"));
        assert.equal(await store.sessions.get("now"), undefined);
      }),
    );
  });
}
