import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

describe("the REST API", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let adminToken: string;
  let aliceToken: string;

  const call = (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => tokenFetch(hub.url, token, method, path, body, headers);

  const userCount = async () => {
    const res = await call(adminToken, "GET", "/hub/api/users?limit=200", undefined, {
      accept: "application/jupyterhub-pagination+json",
    });
    const body = (await res.json()) as { _pagination: { total: number } };
    return body._pagination.total;
  };

  before(async () => {
    hub = await startTestHub({}, { name: "api" });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    adminToken = await apiToken(admin);
    aliceToken = await apiToken(alice);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("tells its version without authentication", async () => {
    const res = await fetch(`${hub.url}/hub/api/`);
    assert.equal(res.status, 200);
    assert.match(((await res.json()) as { version: string }).version, /^\d+\.\d+\.\d+/);
  });

  it("says who a token belongs to, with JupyterHub's field names", async () => {
    for (const scheme of ["token", "Bearer"]) {
      const res = await fetch(`${hub.url}/hub/api/user`, {
        headers: { authorization: `${scheme} ${aliceToken}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body["name"], "alice");
      assert.equal(body["admin"], false);
      assert.equal(body["kind"], "user");
      assert.ok(Array.isArray(body["scopes"]));
      for (const key of ["servers", "created", "last_activity", "pending", "server"])
        assert.ok(key in body, key);
    }
  });

  it("refuses an unknown or malformed token with 401 and a code", async () => {
    for (const header of ["token slw_nope", "token ", "Basic abc", `token ${aliceToken}x`]) {
      const res = await fetch(`${hub.url}/hub/api/user`, { headers: { authorization: header } });
      assert.equal(res.status, 401, header);
      assert.deepEqual(Object.keys((await res.json()) as object).sort(), ["code", "message", "status"]);
    }
  });

  it("lists users to admins with JupyterHub's pagination, and not to users", async () => {
    const res = await call(adminToken, "GET", "/hub/api/users?limit=1", undefined, {
      accept: "application/jupyterhub-pagination+json",
    });
    assert.equal(res.status, 200);
    const page = (await res.json()) as {
      items: { name: string }[];
      _pagination: { offset: number; limit: number; total: number; next: { offset: number } | null };
    };
    assert.equal(page.items.length, 1);
    assert.equal(page._pagination.total, 2);
    assert.equal(page._pagination.next?.offset, 1);
    const plain = await call(adminToken, "GET", "/hub/api/users");
    assert.deepEqual(
      ((await plain.json()) as { name: string }[]).map((u) => u.name),
      ["admin", "alice"],
    );
    const refused = await call(aliceToken, "GET", "/hub/api/users");
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { code: string }).code, "forbidden");
  });

  it("creates users in bulk, each with a one-time set-up link", async () => {
    const res = await call(adminToken, "POST", "/hub/api/users", { usernames: ["carol", "dave"] });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { name: string; setup_url: string }[];
    assert.deepEqual(
      created.map((u) => u.name),
      ["carol", "dave"],
    );
    for (const u of created) assert.match(u.setup_url, /\/hub\/setup\/[A-Za-z0-9_-]{43}$/);
    const again = await call(adminToken, "POST", "/hub/api/users/carol", {});
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { code: string }).code, "user_exists");
  });

  it("creates no user at all when one name of a bulk request is bad", async () => {
    const before = await userCount();
    for (const usernames of [
      ["frank", "Bad Name"],
      ["grace", "admin"],
    ]) {
      const res = await call(adminToken, "POST", "/hub/api/users", { usernames });
      assert.ok(res.status === 400 || res.status === 409, usernames.join());
    }
    assert.equal(await userCount(), before);
  });

  it("filters users by server state before paging, as JupyterHub does", async () => {
    const res = await call(adminToken, "GET", "/hub/api/users?state=inactive&limit=1", undefined, {
      accept: "application/jupyterhub-pagination+json",
    });
    const page = (await res.json()) as { items: { name: string }[]; _pagination: { total: number } };
    assert.equal(page.items.length, 1);
    assert.equal(page._pagination.total, await userCount());
    const active = await call(adminToken, "GET", "/hub/api/users?state=active", undefined, {
      accept: "application/jupyterhub-pagination+json",
    });
    assert.equal(((await active.json()) as { _pagination: { total: number } })._pagination.total, 0);
  });

  it("takes activity reports and refuses times far in the future", async () => {
    const now = new Date().toISOString();
    assert.equal(
      (await call(aliceToken, "POST", "/hub/api/users/alice/activity", { last_activity: now })).status,
      204,
    );
    const me = (await (await call(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      last_activity: string;
    };
    assert.equal(me.last_activity, now);
    const future = new Date(Date.now() + 2 * 3600_000).toISOString();
    const refused = await call(aliceToken, "POST", "/hub/api/users/alice/activity", {
      last_activity: future,
    });
    assert.equal(refused.status, 400);
  });

  it("lets a user read themselves but hides other users (404, not 403)", async () => {
    assert.equal((await call(aliceToken, "GET", "/hub/api/users/alice")).status, 200);
    const other = await call(aliceToken, "GET", "/hub/api/users/admin");
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, "user_not_found");
  });

  it("refuses a user who tries to make themselves admin", async () => {
    const res = await call(aliceToken, "PATCH", "/hub/api/users/alice", { admin: true });
    assert.equal(res.status, 403);
    const check = await call(adminToken, "GET", "/hub/api/users/alice");
    assert.equal(((await check.json()) as { admin: boolean }).admin, false);
  });

  it("answers bad input with a 4xx and a stable code, and writes nothing", async () => {
    const before = await userCount();
    const cases: { body: string; type?: string; status: number; code: string; path?: string }[] = [
      { body: "{not json", status: 400, code: "invalid_json" },
      { body: JSON.stringify({ usernames: ["eve"], shell: "/bin/sh" }), status: 400, code: "unknown_field" },
      { body: JSON.stringify({ usernames: ["Eve!"] }), status: 400, code: "invalid_user_name" },
      { body: JSON.stringify({ usernames: ["../etc"] }), status: 400, code: "invalid_user_name" },
      { body: JSON.stringify({ usernames: "eve" }), status: 400, code: "validation_failed" },
      { body: JSON.stringify({ usernames: ["x".repeat(100_000)] }), status: 413, code: "body_too_large" },
      { body: "usernames=eve", type: "text/plain", status: 415, code: "unsupported_media_type" },
    ];
    for (const c of cases) {
      const res = await fetch(`${hub.url}${c.path ?? "/hub/api/users"}`, {
        method: "POST",
        headers: { authorization: `token ${adminToken}`, "content-type": c.type ?? "application/json" },
        body: c.body,
      });
      assert.equal(res.status, c.status, c.body.slice(0, 60));
      const body = (await res.json()) as { code: string; message: string; status: number };
      assert.equal(body.code, c.code, c.body.slice(0, 60));
      assert.equal(body.status, c.status);
      assert.ok(body.message.length > 10);
    }
    assert.equal(await userCount(), before);
  });

  it("refuses invalid and reserved server names before anything is written", async () => {
    for (const [name, code] of [
      ["Bad", "invalid_server_name"],
      ["x".repeat(31), "invalid_server_name"],
      ["api", "reserved_server_name"],
      ["files", "reserved_server_name"],
      ["tree", "reserved_server_name"],
      ["lab", "reserved_server_name"],
    ] as const) {
      const res = await call(aliceToken, "POST", `/hub/api/users/alice/servers/${name}`, {});
      assert.equal(res.status, 400, name);
      assert.equal(((await res.json()) as { code: string }).code, code, name);
    }
    const me = (await (await call(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      servers: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(me.servers), []);
  });

  it("refuses unknown launch options with 400 and starts nothing", async () => {
    for (const body of [
      { cmd: "sh" },
      { target: "elsewhere" },
      { target: "local\n#SBATCH --uid=0" },
      { prologue: "x" },
    ]) {
      const res = await call(aliceToken, "POST", "/hub/api/users/alice/servers/one", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const code = ((await res.json()) as { code: string }).code;
      assert.ok(code === "unknown_field" || code === "invalid_option", code);
    }
    const me = (await (await call(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      servers: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(me.servers), []);
  });

  it("creates, lists and revokes tokens; a revoked token stops working at once", async () => {
    const created = await call(aliceToken, "POST", "/hub/api/users/alice/tokens", {
      note: "ci",
      expires_in: 3600,
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as {
      id: string;
      token: string;
      expires_at: string;
      scopes: string[];
    };
    assert.match(body.token, /^slw_/);
    assert.ok(body.expires_at);
    const list = (await (await call(aliceToken, "GET", "/hub/api/users/alice/tokens")).json()) as {
      api_tokens: { id: string; token?: string }[];
    };
    assert.ok(list.api_tokens.some((t) => t.id === body.id));
    assert.ok(
      list.api_tokens.every((t) => t.token === undefined),
      "token secrets are never listed",
    );
    assert.equal((await call(body.token, "GET", "/hub/api/user")).status, 200);
    assert.equal((await call(aliceToken, "DELETE", `/hub/api/users/alice/tokens/${body.id}`)).status, 204);
    assert.equal((await call(body.token, "GET", "/hub/api/user")).status, 401);
  });

  it("refuses a token with scopes beyond its owner's", async () => {
    const res = await call(aliceToken, "POST", "/hub/api/users/alice/tokens", { scopes: ["admin:users"] });
    assert.equal(res.status, 403);
    const narrow = await call(aliceToken, "POST", "/hub/api/users/alice/tokens", {
      scopes: ["read:users!user=alice"],
    });
    assert.equal(narrow.status, 201);
    const token = ((await narrow.json()) as { token: string }).token;
    assert.equal((await call(token, "GET", "/hub/api/users/alice")).status, 200);
    const start = await call(token, "POST", "/hub/api/users/alice/server", {});
    assert.equal(start.status, 403, "a read-only token cannot start a server");
  });

  /** Creates a token with `token`'s credential; the answer's status, code and scopes. */
  const mint = async (token: string, owner: string, scopes?: string[]) => {
    const res = await call(token, "POST", `/hub/api/users/${owner}/tokens`, scopes ? { scopes } : {});
    const body = (await res.json()) as { token?: string; scopes?: string[]; code?: string; message?: string };
    if (body.token !== undefined) rememberSecret(body.token);
    return { status: res.status, ...body };
  };

  it("lets a token limited to `tokens` create tokens with no other scope", async () => {
    const limited = await apiToken(alice, ["tokens!user=alice"]);
    const child = await mint(limited, "alice");
    assert.equal(child.status, 201);
    assert.deepEqual(
      child.scopes,
      ["tokens!user=alice"],
      "inherit is the requester's scopes, not the owner's",
    );
    assert.ok(child.token);
    // 404, not 403: without read:users or read:servers it may not even see alice's servers.
    assert.equal((await call(child.token, "POST", "/hub/api/users/alice/server", {})).status, 404);
    assert.equal((await call(child.token, "GET", "/hub/api/users/alice")).status, 404);
    const reach = await mint(limited, "alice", ["access:servers!user=alice"]);
    assert.equal(reach.status, 403);
    assert.equal(reach.code, "scope_not_held");
    assert.match(reach.message ?? "", /access:servers!user=alice/);
    for (const scopes of [["self"], ["inherit"]]) {
      const again = await mint(limited, "alice", scopes);
      assert.equal(again.status, 201, scopes[0]);
      assert.deepEqual(again.scopes, ["tokens!user=alice"], scopes[0]);
    }
  });

  it("keeps an admin's `tokens`-only token from creating admin tokens", async () => {
    const name = admin.account.name;
    const limited = await apiToken(admin, ["tokens"]);
    const child = await mint(limited, name);
    assert.equal(child.status, 201);
    assert.deepEqual(child.scopes, ["tokens"]);
    assert.ok(child.token);
    assert.equal((await call(child.token, "GET", "/hub/api/users")).status, 403);
    const escalate = await mint(limited, name, ["admin:users", "access:servers"]);
    assert.equal(escalate.status, 403);
    assert.equal(escalate.code, "scope_not_held");
  });

  it("gives a token an admin creates for another user what both hold, no more", async () => {
    const limited = await apiToken(admin, ["tokens", "read:users"]);
    const forAlice = await mint(limited, "alice");
    assert.equal(forAlice.status, 201);
    assert.deepEqual(forAlice.scopes, ["read:users!user=alice", "tokens!user=alice"]);
    const beyond = await mint(limited, "alice", ["servers!user=alice"]);
    assert.equal(beyond.status, 403);
    assert.equal(beyond.code, "scope_not_held");
    const full = await mint(adminToken, "alice");
    assert.equal(full.status, 201);
    const aliceHolds = (await (await call(aliceToken, "GET", "/hub/api/user")).json()) as {
      scopes: string[];
    };
    assert.deepEqual(full.scopes, aliceHolds.scopes, "a full admin gives alice everything alice holds");
    const ownerLacks = await mint(adminToken, "alice", ["admin:users"]);
    assert.equal(ownerLacks.status, 403);
    assert.equal(ownerLacks.code, "scope_not_held");
  });

  it("gives a token made on the token page everything its signed-in owner holds", async () => {
    const created = await alice.client.api("POST", "/hub/api/users/alice/tokens", { note: "page" });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { token: string; scopes: string[] };
    rememberSecret(body.token);
    const aliceHolds = (await (await call(aliceToken, "GET", "/hub/api/user")).json()) as {
      scopes: string[];
    };
    assert.deepEqual(body.scopes, aliceHolds.scopes);
  });

  it("disabling a user ends their API access", async () => {
    const bob = await addUser(hub, admin.client, "bob");
    const bobToken = await apiToken(bob);
    assert.equal((await call(bobToken, "GET", "/hub/api/user")).status, 200);
    assert.equal((await call(adminToken, "PATCH", "/hub/api/users/bob", { disabled: true })).status, 200);
    assert.equal((await call(bobToken, "GET", "/hub/api/user")).status, 401);
    assert.equal((await bob.client.api("GET", "/hub/api/user")).status, 401);
  });
});
