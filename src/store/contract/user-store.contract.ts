import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { at, countWinners, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

export function userStoreContract(withStore: WithStore): void {
  describe("users", () => {
    it(
      "creates a user and finds it by id and by name",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: true });
        assert.deepEqual(alice, {
          id: alice.id,
          name: "alice",
          admin: true,
          zone: "internal",
          displayName: null,
          email: null,
          disabled: false,
          createdAt: T0,
          lastActivity: null,
          totpEnrolled: false,
          hasPassword: false,
        });
        assert.deepEqual(await store.users.getById(alice.id), alice);
        assert.deepEqual(await store.users.getByName("alice"), alice);
        assert.equal(await store.users.getByName("bob"), undefined);
        assert.equal(await store.users.getById(alice.id + 1000), undefined);
      }),
    );

    it(
      "finds many users by name at once, leaving out the names nobody has",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: true });
        await store.users.create({ name: "bob", admin: false });
        const carol = await store.users.create({ name: "carol", admin: false });
        const found = await store.users.getByNames(["carol", "nobody", "alice", "carol"]);
        assert.deepEqual(
          found.sort((a, b) => a.id - b.id),
          [alice, carol],
        );
        assert.deepEqual(await store.users.getByNames([]), []);
        assert.deepEqual(await store.users.getByNames(["nobody"]), []);
      }),
    );

    it(
      "finds users by name among thousands of names",
      withStore(async ({ store }) => {
        const dan = await store.users.create({ name: "dan", admin: false });
        const eve = await store.users.create({ name: "eve", admin: false });
        const names = Array.from({ length: 2500 }, (_, i) => `user${i}`);
        names.splice(10, 0, "dan");
        names.push("eve");
        const found = await store.users.getByNames(names);
        assert.deepEqual(
          found.map((u) => u.id).sort((a, b) => a - b),
          [dan.id, eve.id],
        );
      }),
    );

    it(
      "refuses a second user with a taken name as user_exists",
      withStore(async ({ store }) => {
        await store.users.create({ name: "alice", admin: false });
        await rejectsWithCode(store.users.create({ name: "alice", admin: true }), "user_exists");
        assert.equal(await store.users.count(), 1);
      }),
    );

    it(
      "lets exactly one of several concurrent creations of a name succeed",
      withStore(async ({ store }) => {
        const attempts = Array.from({ length: 6 }, () => store.users.create({ name: "carol", admin: false }));
        assert.equal((await countWinners(attempts, "user_exists")).length, 1);
      }),
    );

    it(
      "never hands out the id of a deleted user again",
      withStore(async ({ store }) => {
        const first = await store.users.create({ name: "alice", admin: false });
        await store.users.delete(first.id);
        const second = await store.users.create({ name: "alice", admin: false });
        assert.ok(second.id > first.id);
      }),
    );

    it(
      "lists users by id a page at a time, with the total",
      withStore(async ({ store }) => {
        const names = ["eve", "bob", "dan", "alice", "carol"];
        const ids: number[] = [];
        for (const name of names) ids.push((await store.users.create({ name, admin: false })).id);
        const page = await store.users.list({ offset: 1, limit: 2 });
        assert.equal(page.total, 5);
        assert.deepEqual(
          page.items.map((u) => u.name),
          ["bob", "dan"],
        );
        assert.deepEqual(
          (await store.users.list({ offset: 0, limit: 100 })).items.map((u) => u.id),
          [...ids].sort((a, b) => a - b),
        );
        assert.deepEqual(await store.users.list({ offset: 5, limit: 10 }), { items: [], total: 5 });
        assert.equal(await store.users.count(), 5);
      }),
    );

    it(
      "updates the admin and disabled flags and returns the new user",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const promoted = await store.users.update(alice.id, { admin: true });
        assert.deepEqual(
          { admin: promoted.admin, disabled: promoted.disabled },
          { admin: true, disabled: false },
        );
        const disabled = await store.users.update(alice.id, { disabled: true });
        assert.deepEqual(
          { admin: disabled.admin, disabled: disabled.disabled },
          { admin: true, disabled: true },
        );
        assert.deepEqual(await store.users.update(alice.id, {}), disabled);
        assert.deepEqual(await store.users.getById(alice.id), disabled);
      }),
    );

    it(
      "refuses to update a missing user as user_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(store.users.update(999, { admin: true }), "user_not_found");
        await rejectsWithCode(store.users.update(999, {}), "user_not_found");
        await rejectsWithCode(store.users.setPassword(999, "hash"), "user_not_found");
        await rejectsWithCode(store.users.setTotp(999, "sealed"), "user_not_found");
      }),
    );

    it(
      "keeps the password hash and TOTP seed as credentials, showing only flags on the user",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        assert.deepEqual(await store.users.getCredentials(alice.id), {
          userId: alice.id,
          passwordHash: null,
          totpSecretSealed: null,
          totpLastStep: null,
        });
        await store.users.setPassword(alice.id, "$argon2id$hash");
        await store.users.setTotp(alice.id, "sealed-seed");
        const user = await store.users.getById(alice.id);
        assert.equal(user?.hasPassword, true);
        assert.equal(user?.totpEnrolled, true);
        assert.deepEqual(await store.users.getCredentials(alice.id), {
          userId: alice.id,
          passwordHash: "$argon2id$hash",
          totpSecretSealed: "sealed-seed",
          totpLastStep: null,
        });
        await store.users.setTotp(alice.id, null);
        assert.equal((await store.users.getById(alice.id))?.totpEnrolled, false);
        assert.equal(await store.users.getCredentials(12345), undefined);
      }),
    );

    it(
      "accepts each TOTP step once, and never one at or before the last accepted",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.users.setTotp(alice.id, "sealed-seed");
        const step = 57_000_000; // a time step of the 2020s
        assert.equal(await store.users.consumeTotpStep(alice.id, step), true);
        assert.equal(await store.users.consumeTotpStep(alice.id, step), false);
        assert.equal(await store.users.consumeTotpStep(alice.id, step - 1), false);
        assert.equal(await store.users.consumeTotpStep(alice.id, step + 1), true);
        assert.equal((await store.users.getCredentials(alice.id))?.totpLastStep, step + 1);
        assert.equal(await store.users.consumeTotpStep(999, step), false);
      }),
    );

    it(
      "lets exactly one of several concurrent uses of the same TOTP step succeed",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.users.setTotp(alice.id, "sealed-seed");
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.users.consumeTotpStep(alice.id, 57_000_000)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      }),
    );

    it(
      "forgets the last used step when the TOTP seed is set again",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.users.setTotp(alice.id, "first-seed");
        assert.equal(await store.users.consumeTotpStep(alice.id, 57_000_000), true);
        await store.users.setTotp(alice.id, "second-seed");
        assert.equal((await store.users.getCredentials(alice.id))?.totpLastStep, null);
        assert.equal(await store.users.consumeTotpStep(alice.id, 56_999_999), true);
      }),
    );

    it(
      "records activity in batches, only ever moving it forward",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        await store.users.recordActivity([
          { userId: alice.id, at: at(5_000) },
          { userId: alice.id, at: at(9_000) },
          { userId: alice.id, at: at(7_000) },
          { userId: bob.id, at: at(1_000) },
          { userId: 999, at: at(1_000) },
        ]);
        assert.deepEqual((await store.users.getById(alice.id))?.lastActivity, at(9_000));
        assert.deepEqual((await store.users.getById(bob.id))?.lastActivity, at(1_000));
        await store.users.recordActivity([
          { userId: alice.id, at: at(8_000) },
          { userId: bob.id, at: at(2_000) },
        ]);
        assert.deepEqual((await store.users.getById(alice.id))?.lastActivity, at(9_000));
        assert.deepEqual((await store.users.getById(bob.id))?.lastActivity, at(2_000));
        await store.users.recordActivity([]);
      }),
    );

    it(
      "deletes a user with its sessions, tokens, set-up links, servers and events",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        for (const user of [alice, bob]) {
          await store.sessions.create({
            idHash: `session-${user.name}`,
            userId: user.id,
            stage: "full",
            xsrfToken: "x",
            createdAt: T0,
            lastSeenAt: T0,
            expiresAt: at(3_600_000),
          });
          await store.tokens.create({
            id: `token-${user.name}`,
            userId: user.id,
            hash: `hash-${user.name}`,
            prefix: "abcdef",
            note: "",
            scopes: [],
            createdAt: T0,
            expiresAt: null,
            lastActivity: null,
          });
          await store.setupLinks.create({
            hash: `link-${user.name}`,
            userId: user.id,
            expiresAt: at(60_000),
          });
          const server = await store.servers.create({
            userId: user.id,
            name: "",
            displayName: "",
            target: "local",
          });
          await store.servers.appendEvent({
            serverId: server.id,
            at: T0,
            state: "stopped",
            progress: 0,
            message: "",
          });
        }
        const aliceServer = await store.servers.get(alice.id, "");
        assert.ok(aliceServer);

        await store.users.delete(alice.id);
        await store.users.delete(alice.id); // already gone: nothing to do

        assert.equal(await store.users.getById(alice.id), undefined);
        assert.equal(await store.sessions.get("session-alice"), undefined);
        assert.equal(await store.tokens.getByHash("hash-alice"), undefined);
        assert.equal(await store.setupLinks.consume("link-alice", T0), undefined);
        assert.equal(await store.servers.getById(aliceServer.id), undefined);
        assert.deepEqual(await store.servers.listEvents(aliceServer.id, 0), []);

        assert.ok(await store.sessions.get("session-bob"));
        assert.ok(await store.tokens.getByHash("hash-bob"));
        const bobServer = await store.servers.get(bob.id, "");
        assert.ok(bobServer);
        assert.equal((await store.servers.listEvents(bobServer.id, 0)).length, 1);
        assert.equal(await store.setupLinks.consume("link-bob", T0), bob.id);
      }),
    );
  });
}
