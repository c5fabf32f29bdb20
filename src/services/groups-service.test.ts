import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import pino from "pino";
import { isSlipwayError, type ErrorCode } from "../domain/errors.js";
import type { AuditEntry, AuditLog } from "../ports/audit.js";
import type { Store } from "../ports/store.js";
import { openStore } from "../store/open-store.js";
import type { ActedBy } from "./acted-by.js";
import { GroupsService } from "./groups-service.js";

const ADMIN: ActedBy = { actor: "root", address: "192.0.2.7" };
const CLI: ActedBy = { actor: null, via: "cli" };

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isSlipwayError(err) && err.code === code);
}

describe("GroupsService", () => {
  let store: Store;
  let recorded: AuditEntry[];
  let groups: GroupsService;

  const memberNames = async (name: string) => (await groups.get(name)).members.map((m) => m.user);
  const groupNames = async () => (await groups.list(0, 100)).items.map((g) => g.name);

  beforeEach(async () => {
    store = await openStore("sqlite::memory:");
    await store.migrate();
    for (const name of ["alice", "bob", "carol"]) await store.users.create({ name, admin: false });
    recorded = [];
    const audit: AuditLog = {
      record: async (entry) => {
        recorded.push(entry);
      },
    };
    groups = new GroupsService({ store, audit, log: pino({ level: "silent" }) });
  });

  afterEach(() => store.close());

  it("creates a group with its members, and records who did it", async () => {
    const made = await groups.create("gpu", ["bob", "alice", "bob"], ADMIN);
    assert.equal(made.name, "gpu");
    assert.deepEqual(made.members, [
      { user: "alice", source: "admin" },
      { user: "bob", source: "admin" },
    ]);
    assert.deepEqual(recorded, [
      {
        kind: "admin_action",
        actor: "root",
        subject: null,
        reason: "group_created",
        address: "192.0.2.7",
        details: { group: "gpu", users: ["bob", "alice"], users_count: 2 },
      },
    ]);
  });

  it("refuses a bad group name with invalid_group_name and writes nothing", async () => {
    for (const name of ["", "GPU", "9lives", "a b", "x".repeat(65), "gpu/../x"]) {
      await rejectsWith(groups.create(name, [], ADMIN), "invalid_group_name");
    }
    await rejectsWith(groups.createMany(["good", "Bad"], [], ADMIN), "invalid_group_name");
    assert.deepEqual(await groupNames(), []);
    assert.deepEqual(recorded, []);
  });

  it("creates no group at all when one of several exists or one user is unknown", async () => {
    await groups.create("astro", [], ADMIN);
    await rejectsWith(groups.createMany(["gpu", "astro"], [], ADMIN), "group_exists");
    await rejectsWith(groups.createMany(["gpu", "hep"], ["alice", "mallory"], ADMIN), "user_not_found");
    assert.deepEqual(await groupNames(), ["astro"]);
    const both = await groups.createMany(["gpu", "hep"], ["carol"], ADMIN);
    assert.deepEqual(
      both.map((g) => [g.name, g.members.map((m) => m.user)]),
      [
        ["gpu", ["carol"]],
        ["hep", ["carol"]],
      ],
    );
  });

  it("adds nobody when one of the names has no account", async () => {
    await groups.create("gpu", ["alice"], ADMIN);
    recorded.length = 0;
    await rejectsWith(groups.addMembers("gpu", ["bob", "mallory"], ADMIN), "user_not_found");
    assert.deepEqual(await memberNames("gpu"), ["alice"]);
    await rejectsWith(groups.removeMembers("gpu", ["alice", "mallory"], ADMIN), "user_not_found");
    assert.deepEqual(await memberNames("gpu"), ["alice"]);
    assert.deepEqual(recorded, []);
  });

  it("adds and removes in one change, checking both lists before writing either", async () => {
    await groups.create("gpu", ["alice"], ADMIN);
    await rejectsWith(
      groups.changeMembers("gpu", { add: ["bob"], remove: ["alice", "mallory"] }, ADMIN),
      "user_not_found",
    );
    await rejectsWith(
      groups.changeMembers("gpu", { add: ["bob", "carol"], remove: ["carol"] }, ADMIN),
      "validation_failed",
    );
    assert.deepEqual(await memberNames("gpu"), ["alice"]);
    const changed = await groups.changeMembers("gpu", { add: ["bob", "carol"], remove: ["alice"] }, ADMIN);
    assert.deepEqual(
      changed.members.map((m) => m.user),
      ["bob", "carol"],
    );
    assert.deepEqual(
      recorded.slice(1).map((e) => [e.reason, e.details?.["users"]]),
      [
        ["group_members_added", ["bob", "carol"]],
        ["group_members_removed", ["alice"]],
      ],
    );
  });

  it("adds members idempotently: a second add changes and records nothing", async () => {
    await groups.create("gpu", [], ADMIN);
    await groups.addMembers("gpu", ["alice", "bob"], ADMIN);
    const again = await groups.addMembers("gpu", ["bob", "alice"], ADMIN);
    assert.deepEqual(
      again.members.map((m) => m.user),
      ["alice", "bob"],
    );
    assert.deepEqual(
      recorded.map((e) => [e.reason, e.details?.["users"]]),
      [
        ["group_created", []],
        ["group_members_added", ["alice", "bob"]],
      ],
    );
  });

  it("makes a provider's membership the admin's when an admin adds the member", async () => {
    const alice = await store.users.getByName("alice");
    assert.ok(alice);
    await store.groups.setIdpMemberships(alice.id, ["gpu"]);
    assert.deepEqual((await groups.get("gpu")).members, [{ user: "alice", source: "idp" }]);
    await groups.addMembers("gpu", ["alice"], ADMIN);
    assert.deepEqual((await groups.get("gpu")).members, [{ user: "alice", source: "admin" }]);
    await store.groups.setIdpMemberships(alice.id, []);
    assert.deepEqual(await memberNames("gpu"), ["alice"], "sign-in no longer removes it");
  });

  it("removes members, and ignores names that are not members", async () => {
    await groups.create("gpu", ["alice", "bob"], ADMIN);
    const after = await groups.removeMembers("gpu", ["bob", "carol"], ADMIN);
    assert.deepEqual(
      after.members.map((m) => m.user),
      ["alice"],
    );
    assert.deepEqual(recorded.at(-1)?.details, { group: "gpu", users: ["bob"], users_count: 1 });
    const count = recorded.length;
    await groups.removeMembers("gpu", ["carol"], ADMIN);
    assert.equal(recorded.length, count);
  });

  it("deletes a group, and answers group_not_found for one that does not exist", async () => {
    await groups.create("gpu", ["alice"], ADMIN);
    await groups.delete("gpu", CLI);
    assert.deepEqual(await groupNames(), []);
    assert.deepEqual(recorded.at(-1), {
      kind: "admin_action",
      actor: null,
      subject: null,
      reason: "group_deleted",
      address: null,
      details: { group: "gpu", via: "cli" },
    });
    await rejectsWith(groups.delete("gpu", ADMIN), "group_not_found");
    await rejectsWith(groups.get("gpu"), "group_not_found");
    await rejectsWith(groups.addMembers("nope", ["alice"], ADMIN), "group_not_found");
    await rejectsWith(groups.get("Not A Name"), "group_not_found");
  });

  it("lists groups a page at a time, by name, with their members", async () => {
    for (const name of ["hep", "astro", "gpu"]) await groups.create(name, ["carol"], ADMIN);
    const first = await groups.list(0, 2);
    assert.deepEqual([first.items.map((g) => g.name), first.total], [["astro", "gpu"], 3]);
    const second = await groups.list(2, 2);
    assert.deepEqual(
      second.items.map((g) => [g.name, g.members.map((m) => m.user)]),
      [["hep", ["carol"]]],
    );
  });

  it("tells the groups of a page of users at once", async () => {
    await groups.create("gpu", ["alice", "bob"], ADMIN);
    await groups.create("astro", ["alice"], ADMIN);
    const users = await store.users.getByNames(["alice", "bob", "carol"]);
    const byId = await groups.groupsOfUsers(users);
    assert.deepEqual(users.map((u) => [u.name, byId.get(u.id)]).sort(), [
      ["alice", ["astro", "gpu"]],
      ["bob", ["gpu"]],
      ["carol", []],
    ]);
    const alice = users.find((u) => u.name === "alice");
    assert.ok(alice);
    assert.deepEqual(await groups.groupsOf(alice), ["astro", "gpu"]);
  });
});
