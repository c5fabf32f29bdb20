import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { removeDir, rememberSecret, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const PAGINATION = "application/jupyterhub-pagination+json";

interface GroupModel {
  kind: string;
  name: string;
  users: string[];
  properties: object;
  roles: string[];
}

describe("the group API", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let adminToken: string;
  let aliceToken: string;

  const call = (token: string, method: string, path: string, body?: unknown, headers = {}) =>
    tokenFetch(hub.url, token, method, path, body, headers);
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  const codeOf = async (res: Response) => (await json<{ code: string }>(res)).code;
  const group = async (name: string) => call(adminToken, "GET", `/hub/api/groups/${name}`);
  const membersOf = async (name: string) => (await json<GroupModel>(await group(name))).users;
  const groupNames = async () =>
    (await json<GroupModel[]>(await call(adminToken, "GET", "/hub/api/groups?limit=200"))).map((g) => g.name);
  /** An admin's token that holds only `scopes`. */
  const tokenWith = async (scopes: string[]) => {
    const res = await call(adminToken, "POST", "/hub/api/users/admin/tokens", { scopes });
    assert.equal(res.status, 201);
    const { token } = await json<{ token: string }>(res);
    rememberSecret(token);
    return token;
  };

  before(async () => {
    hub = await startTestHub({}, { name: "groups" });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    adminToken = await apiToken(admin);
    aliceToken = await apiToken(alice);
    const made = await call(adminToken, "POST", "/hub/api/users", { usernames: ["carol", "dave"] });
    assert.equal(made.status, 201);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("creates a group with members and answers with JupyterHub's group model", async () => {
    const res = await call(adminToken, "POST", "/hub/api/groups/physics", { users: ["carol", "alice"] });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), {
      kind: "group",
      name: "physics",
      users: ["alice", "carol"],
      properties: {},
      roles: [],
      slipway: { idp_users: [] },
    });
    const read = await group("physics");
    assert.equal(read.status, 200);
    assert.deepEqual((await json<GroupModel>(read)).users, ["alice", "carol"]);
    const empty = await call(adminToken, "POST", "/hub/api/groups/empty");
    assert.equal(empty.status, 201, "the body is optional");
    assert.deepEqual((await json<GroupModel>(empty)).users, []);
  });

  it("refuses a group that exists with 409 group_exists", async () => {
    const res = await call(adminToken, "POST", "/hub/api/groups/physics", {});
    assert.equal(res.status, 409);
    assert.equal(await codeOf(res), "group_exists");
    assert.deepEqual(await membersOf("physics"), ["alice", "carol"]);
  });

  it("refuses bad names with 400 invalid_group_name, and creates none of a bulk request", async () => {
    const before = await groupNames();
    for (const name of ["Physics", "9lives", "a%20b", "x".repeat(65), "caf%C3%A9"]) {
      const res = await call(adminToken, "POST", `/hub/api/groups/${name}`, {});
      assert.equal(res.status, 400, name);
      assert.equal(await codeOf(res), "invalid_group_name", name);
    }
    const bulk = await call(adminToken, "POST", "/hub/api/groups", { groups: ["fine", "Not Fine"] });
    assert.equal(bulk.status, 400);
    assert.equal(await codeOf(bulk), "invalid_group_name");
    const clash = await call(adminToken, "POST", "/hub/api/groups", { groups: ["fine", "physics"] });
    assert.equal(clash.status, 409);
    assert.deepEqual(await groupNames(), before);
  });

  it("answers bad bodies with 400 and a code", async () => {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/hub/api/groups/newgroup", { members: ["alice"] }, "unknown_field"],
      ["POST", "/hub/api/groups/newgroup", { users: "alice" }, "validation_failed"],
      ["POST", "/hub/api/groups", { groups: [] }, "validation_failed"],
      ["POST", "/hub/api/groups/physics/users", {}, "validation_failed"],
      ["POST", "/hub/api/groups/physics/users", "{not json", "invalid_json"],
    ];
    for (const [method, path, body, code] of cases) {
      const res = await call(adminToken, method, path, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(await codeOf(res), code);
    }
    assert.equal((await group("newgroup")).status, 404);
  });

  it("answers an unknown user with 404 user_not_found and writes nothing", async () => {
    const create = await call(adminToken, "POST", "/hub/api/groups/newgroup", {
      users: ["alice", "mallory"],
    });
    assert.equal(create.status, 404);
    assert.equal(await codeOf(create), "user_not_found");
    assert.equal(await codeOf(await group("newgroup")), "group_not_found");
    const bulk = await call(adminToken, "POST", "/hub/api/groups", {
      groups: ["g1", "g2"],
      users: ["mallory"],
    });
    assert.equal(bulk.status, 404);
    const add = await call(adminToken, "POST", "/hub/api/groups/physics/users", {
      users: ["dave", "mallory"],
    });
    assert.equal(add.status, 404);
    assert.equal(await codeOf(add), "user_not_found");
    const remove = await call(adminToken, "DELETE", "/hub/api/groups/physics/users", {
      users: ["alice", "mallory"],
    });
    assert.equal(remove.status, 404);
    assert.deepEqual(await membersOf("physics"), ["alice", "carol"]);
    assert.ok(!(await groupNames()).includes("g1"));
  });

  it("creates several groups at once, each with the same members", async () => {
    const res = await call(adminToken, "POST", "/hub/api/groups", {
      groups: ["astro", "hep"],
      users: ["dave"],
    });
    assert.equal(res.status, 201);
    assert.deepEqual(
      (await json<GroupModel[]>(res)).map((g) => [g.kind, g.name, g.users]),
      [
        ["group", "astro", ["dave"]],
        ["group", "hep", ["dave"]],
      ],
    );
  });

  it("adds members idempotently and removes them, answering with the group", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await call(adminToken, "POST", "/hub/api/groups/physics/users", {
        users: ["dave", "dave"],
      });
      assert.equal(res.status, 200);
      assert.deepEqual((await json<GroupModel>(res)).users, ["alice", "carol", "dave"]);
    }
    const res = await call(adminToken, "DELETE", "/hub/api/groups/physics/users", {
      users: ["dave", "admin"],
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await json<GroupModel>(res)).users, ["alice", "carol"], "a non-member is ignored");
    const unknown = await call(adminToken, "POST", "/hub/api/groups/nope/users", { users: ["dave"] });
    assert.equal(unknown.status, 404);
    assert.equal(await codeOf(unknown), "group_not_found");
  });

  it("lists groups by name with JupyterHub's pagination", async () => {
    const res = await call(adminToken, "GET", "/hub/api/groups?limit=2", undefined, { accept: PAGINATION });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/jupyterhub-pagination\+json/);
    const page = await json<{
      items: GroupModel[];
      _pagination: {
        offset: number;
        limit: number;
        total: number;
        next: { offset: number; url: string } | null;
      };
    }>(res);
    assert.deepEqual(
      page.items.map((g) => g.name),
      ["astro", "empty"],
    );
    assert.deepEqual([page._pagination.offset, page._pagination.limit, page._pagination.total], [0, 2, 4]);
    assert.deepEqual(page._pagination.next, { offset: 2, limit: 2, url: "/hub/api/groups?offset=2&limit=2" });
    const last = await call(adminToken, "GET", "/hub/api/groups?offset=2&limit=2", undefined, {
      accept: PAGINATION,
    });
    const lastPage = await json<{ items: GroupModel[]; _pagination: { next: unknown } }>(last);
    assert.deepEqual(
      lastPage.items.map((g) => [g.name, g.users]),
      [
        ["hep", ["dave"]],
        ["physics", ["alice", "carol"]],
      ],
    );
    assert.equal(lastPage._pagination.next, null);
    assert.deepEqual(
      await groupNames(),
      ["astro", "empty", "hep", "physics"],
      "a bare list without the header",
    );
    const bad = await call(adminToken, "GET", "/hub/api/groups?offset=-1");
    assert.equal(bad.status, 400);
  });

  it("shows each user's groups and zone in the user model", async () => {
    const one = await json<{ groups: string[]; slipway: Record<string, unknown> }>(
      await call(adminToken, "GET", "/hub/api/users/alice"),
    );
    assert.deepEqual(one.groups, ["physics"]);
    assert.deepEqual(
      [one.slipway["zone"], one.slipway["display_name"], one.slipway["email"]],
      ["internal", null, null],
    );
    const list = await json<{ name: string; groups: string[] }[]>(
      await call(adminToken, "GET", "/hub/api/users"),
    );
    assert.deepEqual(
      list.map((u) => [u.name, u.groups]),
      [
        ["admin", []],
        ["alice", ["physics"]],
        ["carol", ["physics"]],
        ["dave", ["astro", "hep"]],
      ],
    );
    const me = await json<{ groups: string[] }>(await call(aliceToken, "GET", "/hub/api/user"));
    assert.deepEqual(me.groups, ["physics"]);
  });

  it("refuses users without group scopes with 403, as JupyterHub does, and changes nothing", async () => {
    const attempts: [string, string, unknown][] = [
      ["GET", "/hub/api/groups", undefined],
      ["GET", "/hub/api/groups/physics", undefined],
      ["POST", "/hub/api/groups/mine", {}],
      ["POST", "/hub/api/groups", { groups: ["mine"] }],
      ["DELETE", "/hub/api/groups/physics", undefined],
      ["POST", "/hub/api/groups/physics/users", { users: ["alice"] }],
      ["DELETE", "/hub/api/groups/physics/users", { users: ["carol"] }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(aliceToken, method, path, body);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(await codeOf(res), "forbidden");
    }
    const unauthenticated = await fetch(`${hub.url}/hub/api/groups`);
    assert.equal(unauthenticated.status, 401);
    assert.deepEqual(await groupNames(), ["astro", "empty", "hep", "physics"]);
    assert.deepEqual(await membersOf("physics"), ["alice", "carol"]);
    const mint = await call(aliceToken, "POST", "/hub/api/users/alice/tokens", { scopes: ["read:groups"] });
    assert.equal(mint.status, 403);
    assert.equal(await codeOf(mint), "scope_not_held");
  });

  it("holds tokens to JupyterHub's group scopes and what they imply", async () => {
    const reader = await tokenWith(["read:groups"]);
    assert.equal((await call(reader, "GET", "/hub/api/groups/physics")).status, 200);
    assert.equal(
      (await call(reader, "GET", "/hub/api/groups")).status,
      403,
      "read:groups is not list:groups",
    );
    assert.equal(
      (await call(reader, "POST", "/hub/api/groups/physics/users", { users: ["dave"] })).status,
      403,
    );

    const manager = await tokenWith(["groups"]);
    assert.equal((await call(manager, "GET", "/hub/api/groups")).status, 200);
    assert.equal((await call(manager, "GET", "/hub/api/groups/physics")).status, 200);
    assert.equal(
      (await call(manager, "POST", "/hub/api/groups/physics/users", { users: ["dave"] })).status,
      200,
    );
    assert.equal(
      (await call(manager, "DELETE", "/hub/api/groups/physics/users", { users: ["dave"] })).status,
      200,
    );
    assert.equal((await call(manager, "POST", "/hub/api/groups/mine", {})).status, 403);
    assert.equal((await call(manager, "DELETE", "/hub/api/groups/empty")).status, 403);

    const deleter = await tokenWith(["delete:groups"]);
    assert.equal(
      (await call(deleter, "POST", "/hub/api/groups/physics/users", { users: ["dave"] })).status,
      403,
    );
    const groupAdmin = await tokenWith(["admin:groups"]);
    for (const name of ["mine", "yours"]) {
      assert.equal((await call(groupAdmin, "POST", `/hub/api/groups/${name}`, {})).status, 201);
    }
    assert.equal((await call(groupAdmin, "DELETE", "/hub/api/groups/mine")).status, 204);
    assert.equal((await call(groupAdmin, "GET", "/hub/api/groups/yours")).status, 200);
    assert.equal((await call(deleter, "DELETE", "/hub/api/groups/yours")).status, 204);
  });

  it("deletes a group with 204, and answers 404 group_not_found after", async () => {
    const res = await call(adminToken, "DELETE", "/hub/api/groups/empty");
    assert.equal(res.status, 204);
    const again = await call(adminToken, "DELETE", "/hub/api/groups/empty");
    assert.equal(again.status, 404);
    assert.equal(await codeOf(again), "group_not_found");
    assert.equal((await group("empty")).status, 404);
  });

  it("refuses a cookie-authenticated change without the XSRF token", async () => {
    const res = await admin.client.request("/hub/api/groups/sneaky", {
      method: "POST",
      headers: { "content-type": "application/json", origin: hub.url, "sec-fetch-site": "same-origin" },
      body: "{}",
    });
    assert.equal(res.status, 403);
    assert.equal(await codeOf(res), "csrf_failed");
    const withXsrf = await admin.client.api("POST", "/hub/api/groups/sneaky", {});
    assert.equal(withXsrf.status, 201, "the hub's own pages may");
  });
});
