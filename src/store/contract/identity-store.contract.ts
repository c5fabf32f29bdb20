import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Session } from "../../domain/types.js";
import { at, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

function idpSession(userId: number, idHash: string, subject: string, sid: string): Session {
  return {
    idHash,
    userId,
    stage: "full",
    xsrfToken: `xsrf-${idHash}`,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: at(3_600_000),
    auth: { kind: "oidc", idpIssuer: "https://idp", idpSubject: subject, idpSession: sid, stateSealed: "s" },
  };
}

/** Accounts' zones, groups, provider sessions, sign-in states and used token ids. */
export function identityStoreContract(withStore: WithStore): void {
  describe("accounts from an identity provider", () => {
    it(
      "keeps a user's zone, display name and e-mail, internal by default",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        assert.deepEqual([alice.zone, alice.displayName, alice.email], ["internal", null, null]);
        const carol = await store.users.create({
          name: "carol",
          admin: false,
          zone: "external",
          displayName: "Carol",
        });
        assert.equal((await store.users.getByName("carol"))?.zone, "external");
        const changed = await store.users.update(carol.id, { zone: "internal", email: "c@example.org" });
        assert.deepEqual(
          [changed.zone, changed.displayName, changed.email],
          ["internal", "Carol", "c@example.org"],
        );
      }),
    );

    it(
      "binds an account to one subject per issuer, and a subject to one account",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const mallory = await store.users.create({ name: "mallory", admin: false });
        assert.equal(await store.users.bindIdentity(alice.id, "https://idp", "sub-a"), true);
        assert.equal(
          await store.users.bindIdentity(alice.id, "https://idp", "sub-a"),
          true,
          "again: the same binding",
        );
        assert.equal(await store.users.bindIdentity(alice.id, "https://idp", "sub-x"), false);
        assert.equal(await store.users.bindIdentity(mallory.id, "https://idp", "sub-a"), false);
        assert.equal(await store.users.bindIdentity(alice.id, "https://other", "sub-x"), true);
        assert.equal((await store.users.findByIdentity("https://idp", "sub-a"))?.name, "alice");
        assert.equal(await store.users.findByIdentity("https://idp", "sub-x"), undefined);
        assert.equal(await store.users.identityOf(alice.id, "https://idp"), "sub-a");
        assert.equal(await store.users.identityOf(mallory.id, "https://idp"), undefined);
      }),
    );

    it(
      "keeps how a session signed in, and ends the sessions a provider names by sid or by sub",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.sessions.create(idpSession(alice.id, "a1", "sub-a", "sid-1"));
        await store.sessions.create(idpSession(alice.id, "a2", "sub-a", "sid-2"));
        await store.sessions.create(idpSession(alice.id, "a3", "sub-a", "sid-3"));
        assert.deepEqual(await store.sessions.get("a1"), idpSession(alice.id, "a1", "sub-a", "sid-1"));
        const bySid = await store.sessions.deleteForIdp({ issuer: "https://idp", session: "sid-1" });
        assert.deepEqual(bySid, [{ idHash: "a1", userId: alice.id }]);
        assert.deepEqual(
          await store.sessions.deleteForIdp({ issuer: "https://other", subject: "sub-a" }),
          [],
        );
        assert.deepEqual(
          await store.sessions.deleteForIdp({ issuer: "https://idp", subject: "sub-b", session: "sid-2" }),
          [],
          "a sid with another subject's sub ends nothing",
        );
        const bySub = await store.sessions.deleteForIdp({ issuer: "https://idp", subject: "sub-a" });
        assert.deepEqual(bySub.map((s) => s.idHash).sort(), ["a2", "a3"]);
        assert.deepEqual(await store.sessions.deleteForIdp({ issuer: "https://idp" }), []);
      }),
    );
  });

  describe("groups", () => {
    it(
      "creates, lists, finds and deletes groups; a name is taken once",
      withStore(async ({ store }) => {
        const gpu = await store.groups.create({ name: "gpu", description: "GPU users" });
        await store.groups.create({ name: "astro", description: "" });
        await rejectsWithCode(store.groups.create({ name: "gpu", description: "" }), "group_exists");
        assert.deepEqual(await store.groups.get("gpu"), gpu);
        const page = await store.groups.list({ offset: 0, limit: 1 });
        assert.deepEqual([page.items.map((g) => g.name), page.total], [["astro"], 2]);
        await store.groups.delete("astro");
        await rejectsWithCode(store.groups.delete("astro"), "group_not_found");
      }),
    );

    it(
      "adds and removes members, and says who is in what",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        const gpu = await store.groups.create({ name: "gpu", description: "" });
        const astro = await store.groups.create({ name: "astro", description: "" });
        await store.groups.addMembers(gpu.id, [bob.id, alice.id, alice.id]);
        await store.groups.addMembers(astro.id, [alice.id]);
        assert.deepEqual(await store.groups.members(gpu.id), ["alice", "bob"]);
        assert.deepEqual(await store.groups.groupsOf(alice.id), ["astro", "gpu"]);
        await store.groups.removeMembers(gpu.id, [alice.id]);
        const byUser = await store.groups.groupsOfUsers([alice.id, bob.id]);
        assert.deepEqual([byUser.get(alice.id), byUser.get(bob.id)], [["astro"], ["gpu"]]);
        await store.users.delete(bob.id);
        assert.deepEqual(await store.groups.members(gpu.id), []);
      }),
    );

    it(
      "sets a user's provider memberships exactly, creating groups, and leaves an admin's alone",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const staff = await store.groups.create({ name: "staff", description: "" });
        await store.groups.addMembers(staff.id, [alice.id]);
        await store.groups.setIdpMemberships(alice.id, ["gpu", "astro"]);
        assert.deepEqual(await store.groups.groupsOf(alice.id), ["astro", "gpu", "staff"]);
        await store.groups.setIdpMemberships(alice.id, ["astro", "staff"]);
        assert.deepEqual(await store.groups.groupsOf(alice.id), ["astro", "staff"]);
        await store.groups.setIdpMemberships(alice.id, []);
        assert.deepEqual(await store.groups.groupsOf(alice.id), ["staff"], "the admin's membership stays");
        assert.ok(await store.groups.get("gpu"), "a group outlives its last provider membership");
      }),
    );

    it(
      "says who set each membership: an admin's add takes over the provider's",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        await store.groups.setIdpMemberships(alice.id, ["gpu"]);
        await store.groups.setIdpMemberships(bob.id, ["gpu"]);
        const gpu = await store.groups.get("gpu");
        const empty = await store.groups.create({ name: "empty", description: "" });
        assert.ok(gpu);
        assert.deepEqual((await store.groups.membershipsOf([gpu.id, empty.id])).get(gpu.id), [
          { user: "alice", source: "idp" },
          { user: "bob", source: "idp" },
        ]);
        await store.groups.addMembers(gpu.id, [bob.id]);
        const after = await store.groups.membershipsOf([gpu.id, empty.id]);
        assert.deepEqual(after.get(gpu.id), [
          { user: "alice", source: "idp" },
          { user: "bob", source: "admin" },
        ]);
        assert.deepEqual(after.get(empty.id), []);
      }),
    );
  });

  describe("sign-in states and used token ids", () => {
    it(
      "gives a sign-in state once, and never after it expired",
      withStore(async ({ store }) => {
        await store.signInStates.put("h1", "sealed-1", at(60_000));
        await store.signInStates.put("h2", "sealed-2", at(60_000));
        assert.equal(await store.signInStates.take("h1", at(1000)), "sealed-1");
        assert.equal(await store.signInStates.take("h1", at(1000)), undefined);
        assert.equal(await store.signInStates.take("h2", at(60_000)), undefined);
        await store.signInStates.put("h3", "sealed-3", at(10));
        assert.equal(await store.signInStates.deleteExpired(at(10)), 1);
      }),
    );

    it(
      "records a token id once: a second use is a replay",
      withStore(async ({ store }) => {
        assert.equal(await store.usedTokenIds.use("jti-1", at(120_000)), true);
        assert.equal(await store.usedTokenIds.use("jti-1", at(120_000)), false);
        assert.equal(await store.usedTokenIds.seen("jti-1", at(119_999)), true);
        assert.equal(await store.usedTokenIds.seen("jti-1", at(120_000)), false, "not once expired");
        assert.equal(await store.usedTokenIds.seen("jti-2", at(0)), false);
        assert.equal(await store.usedTokenIds.deleteExpired(at(120_000)), 1);
        assert.equal(await store.usedTokenIds.use("jti-1", at(240_000)), true);
      }),
    );
  });

  describe("the audit trail", () => {
    it(
      "pages newest first by id and filters by user, kind and time",
      withStore(async ({ store }) => {
        for (let i = 0; i < 5; i++) {
          await store.audit.append({
            at: at(i * 1000),
            kind: i % 2 === 0 ? "sign_in" : "token_created",
            actor: i < 3 ? "alice" : "admin",
            subject: i === 4 ? "alice" : null,
            address: "127.0.0.1",
            details: { n: i },
          });
        }
        const first = await store.audit.list({}, 2);
        assert.deepEqual(
          first.items.map((e) => e.details["n"]),
          [4, 3],
        );
        assert.equal(first.hasMore, true);
        const second = await store.audit.list({ beforeId: first.items[1]?.id ?? 0 }, 10);
        assert.deepEqual(
          second.items.map((e) => e.details["n"]),
          [2, 1, 0],
        );
        assert.equal(second.hasMore, false);
        const alice = await store.audit.list({ user: "alice", kinds: ["sign_in"] }, 10);
        assert.deepEqual(
          alice.items.map((e) => e.details["n"]),
          [4, 2, 0],
        );
        const window = await store.audit.list({ since: at(1000), until: at(3000) }, 10);
        assert.deepEqual(
          window.items.map((e) => e.details["n"]),
          [2, 1],
        );
        const event = window.items[0];
        assert.deepEqual(
          event && [event.kind, event.actor, event.subject, event.reason, event.address, event.at],
          ["sign_in", "alice", null, null, "127.0.0.1", at(2000)],
        );
      }),
    );

    it(
      "finds a user's events as actor or as subject once each, with the other filters and the cursor",
      withStore(async ({ store }) => {
        const events: [string | null, string | null, "sign_in" | "admin_action" | "server_stopped"][] = [
          ["alice", "alice", "admin_action"],
          ["admin", "alice", "admin_action"],
          ["alice", "bob", "server_stopped"],
          ["bob", "carol", "sign_in"],
          [null, "alice", "server_stopped"],
          ["alice", null, "sign_in"],
        ];
        for (const [i, [actor, subject, kind]] of events.entries()) {
          await store.audit.append({ at: at(i * 1000), kind, actor, subject, details: { n: i } });
        }
        const ns = (page: { items: { details: Record<string, unknown> }[] }) =>
          page.items.map((e) => e.details["n"]);
        assert.deepEqual(ns(await store.audit.list({ user: "alice" }, 10)), [5, 4, 2, 1, 0]);
        const first = await store.audit.list({ user: "alice" }, 2);
        assert.deepEqual([ns(first), first.hasMore], [[5, 4], true]);
        const rest = await store.audit.list({ user: "alice", beforeId: first.items[1]?.id ?? 0 }, 10);
        assert.deepEqual([ns(rest), rest.hasMore], [[2, 1, 0], false]);
        const kinds = await store.audit.list(
          { user: "alice", kinds: ["admin_action", "server_stopped"] },
          10,
        );
        assert.deepEqual(ns(kinds), [4, 2, 1, 0]);
        const window = await store.audit.list({ user: "alice", since: at(1000), until: at(5000) }, 10);
        assert.deepEqual(ns(window), [4, 2, 1]);
        assert.deepEqual(ns(await store.audit.list({ user: "carol" }, 10)), [3]);
        assert.deepEqual(ns(await store.audit.list({ user: "nobody" }, 10)), []);
      }),
    );
  });
}
