import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ApiToken } from "../../domain/types.js";
import { at, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

function token(userId: number, id: string, createdAt: Date): ApiToken & { hash: string } {
  return {
    id,
    userId,
    hash: `hash-of-${id}`,
    prefix: id.slice(0, 6),
    note: `note for ${id} ✓`,
    scopes: ["read:servers!user=alice", "servers!server=alice/"],
    createdAt,
    expiresAt: at(86_400_000),
    lastActivity: null,
  };
}

function withoutHash(t: ApiToken & { hash: string }): ApiToken {
  const { hash: _hash, ...rest } = t;
  return rest;
}

export function tokenStoreContract(withStore: WithStore): void {
  describe("API tokens", () => {
    it(
      "finds a token by the hash of its secret, exactly as created",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const created = token(alice.id, "tAAAAAA", T0);
        await store.tokens.create(created);
        assert.deepEqual(await store.tokens.getByHash(created.hash), created);
        assert.equal(await store.tokens.getByHash("hash-of-nothing"), undefined);
        const forever = { ...token(alice.id, "tBBBBBB", T0), expiresAt: null, scopes: [] };
        await store.tokens.create(forever);
        assert.deepEqual(await store.tokens.getByHash(forever.hash), forever);
      }),
    );

    it(
      "refuses a token for a missing user as user_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(store.tokens.create(token(999, "tAAAAAA", T0)), "user_not_found");
      }),
    );

    it(
      "shows and deletes a token only for its owner",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        const created = token(alice.id, "tAAAAAA", T0);
        await store.tokens.create(created);
        assert.deepEqual(await store.tokens.get(alice.id, "tAAAAAA"), withoutHash(created));
        assert.equal(await store.tokens.get(bob.id, "tAAAAAA"), undefined);
        assert.equal(await store.tokens.delete(bob.id, "tAAAAAA"), false);
        assert.equal(await store.tokens.delete(alice.id, "tAAAAAA"), true);
        assert.equal(await store.tokens.delete(alice.id, "tAAAAAA"), false);
        assert.equal(await store.tokens.get(alice.id, "tAAAAAA"), undefined);
      }),
    );

    it(
      "lists a user's tokens oldest first, without their hashes",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        const newer = token(alice.id, "tNEWER0", at(2_000));
        const older = token(alice.id, "tOLDER0", at(1_000));
        await store.tokens.create(newer);
        await store.tokens.create(older);
        await store.tokens.create(token(bob.id, "tBOB000", at(0)));
        const listed = await store.tokens.listForUser(alice.id);
        assert.deepEqual(listed, [withoutHash(older), withoutHash(newer)]);
        assert.ok(listed.every((t) => !("hash" in t)));
        assert.deepEqual(await store.tokens.listForUser(999), []);
      }),
    );

    it(
      "records token use in batches, only ever moving it forward",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.tokens.create(token(alice.id, "tAAAAAA", T0));
        await store.tokens.create(token(alice.id, "tBBBBBB", T0));
        await store.tokens.touch([
          { id: "tAAAAAA", at: at(5_000) },
          { id: "tAAAAAA", at: at(3_000) },
          { id: "tBBBBBB", at: at(1_000) },
          { id: "tMISSING", at: at(1_000) },
        ]);
        await store.tokens.touch([{ id: "tBBBBBB", at: at(500) }]);
        assert.deepEqual((await store.tokens.get(alice.id, "tAAAAAA"))?.lastActivity, at(5_000));
        assert.deepEqual((await store.tokens.get(alice.id, "tBBBBBB"))?.lastActivity, at(1_000));
      }),
    );
  });
}
