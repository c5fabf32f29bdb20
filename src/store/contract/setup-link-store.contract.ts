import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

export function setupLinkStoreContract(withStore: WithStore): void {
  describe("set-up links", () => {
    it(
      "gives the link's user on the first use and nothing after",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.setupLinks.create({ hash: "link", userId: alice.id, expiresAt: at(60_000) });
        assert.equal(await store.setupLinks.consume("link", at(1_000)), alice.id);
        assert.equal(await store.setupLinks.consume("link", at(2_000)), undefined);
        assert.equal(await store.setupLinks.consume("never-issued", T0), undefined);
      }),
    );

    it(
      "refuses a link from the moment it expires",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.setupLinks.create({ hash: "link", userId: alice.id, expiresAt: at(60_000) });
        assert.equal(await store.setupLinks.consume("link", at(60_000)), undefined);
        assert.equal(await store.setupLinks.consume("link", at(59_999)), alice.id);
      }),
    );

    it(
      "lets exactly one of several concurrent uses of a link succeed",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.setupLinks.create({ hash: "link", userId: alice.id, expiresAt: at(60_000) });
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.setupLinks.consume("link", at(1_000))),
        );
        assert.deepEqual(
          results.filter((r) => r !== undefined),
          [alice.id],
        );
      }),
    );

    it(
      "refuses a link for a missing user as user_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(
          store.setupLinks.create({ hash: "link", userId: 999, expiresAt: at(60_000) }),
          "user_not_found",
        );
      }),
    );
  });
}
