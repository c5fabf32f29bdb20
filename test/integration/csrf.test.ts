import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import { codeFor, field, hiddenField, HubClient, signIn } from "../support/hub-client.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const STEP = 30_000;

interface Write {
  readonly method: "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
}

/**
 * A request with exactly these headers. fetch() cannot send them all: it replaces any
 * `Sec-Fetch-Mode` with `cors`, and the no-cors case is the one JupyterHub let through.
 */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; code: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        let code: string | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === "object" && parsed !== null && "code" in parsed) code = String(parsed.code);
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Writes an admin's browser could be tricked into (CVE-2020-36191: add or delete users). */
const WRITES: readonly Write[] = [
  { method: "POST", path: "/hub/api/users/mallory", body: { admin: true } },
  { method: "POST", path: "/hub/api/users", body: { usernames: ["mallory"] } },
  { method: "PATCH", path: "/hub/api/users/alice", body: { admin: true } },
  { method: "DELETE", path: "/hub/api/users/bob" },
  { method: "POST", path: "/hub/api/users/admin/tokens", body: { note: "forged" } },
  { method: "PUT", path: "/hub/api/users/alice/servers/forged", body: { display_name: "forged" } },
  { method: "POST", path: "/hub/api/users/alice/servers/forged", body: {} },
  { method: "DELETE", path: "/hub/api/users/alice/server" },
];

describe("CSRF: cookie-authenticated writes must come from the hub's own pages (threats §5a.2)", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let adminToken: string;

  const freshStep = (): Date => {
    clock.set(new Date(Math.floor(clock.now().getTime() / STEP) * STEP + STEP + 5_000));
    return clock.now();
  };

  const send = (client: HubClient, write: Write, headers: Record<string, string>, body?: string) =>
    rawRequest(
      hub.url + write.path,
      write.method,
      {
        cookie: client.cookieHeader(),
        accept: "application/json",
        ...(write.body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body ?? (write.body === undefined ? undefined : JSON.stringify(write.body)),
    );

  const asAdmin = async (path: string) => {
    const res = await fetch(hub.url + path, { headers: { authorization: `token ${adminToken}` } });
    assert.equal(res.status, 200, path);
    return res.json();
  };

  /** What any of WRITES would have changed. */
  const snapshot = async () => {
    const users = (await asAdmin("/hub/api/users")) as { name: string; admin: boolean; servers: object }[];
    const tokens = (await asAdmin("/hub/api/users/admin/tokens")) as { api_tokens: unknown[] };
    return {
      users: users.map((u) => ({ name: u.name, admin: u.admin, servers: Object.keys(u.servers) })),
      adminTokens: tokens.api_tokens.length,
    };
  };

  const refusedAll = async (client: HubClient, headers: Record<string, string>, codes: readonly string[]) => {
    const before = await snapshot();
    for (const write of WRITES) {
      const res = await send(client, write, headers);
      const label = `${write.method} ${write.path} with ${JSON.stringify(headers)}`;
      assert.equal(res.status, 403, label);
      assert.ok(codes.includes(res.code ?? ""), `${label}: ${res.code}`);
    }
    assert.deepEqual(await snapshot(), before, "a refused write changed something");
  };

  before(async () => {
    hub = await startTestHub({}, { name: "csrf", clock });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    await addUser(hub, admin.client, "bob");
    // Enrolment used codes of the real time, which may be a step ahead of this clock: start past them.
    clock.set(new Date(Date.now() + 2 * STEP));
    adminToken = await apiToken(admin);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("accepts a cookie write that carries the session's XSRF token from the hub's origin (control)", async () => {
    const res = await admin.client.api("POST", "/hub/api/users/admin/tokens", { note: "from the page" });
    assert.equal(res.status, 201);
    rememberSecret(((await res.json()) as { token: string }).token);
    const patch = await admin.client.api("PATCH", "/hub/api/users/alice", { admin: false });
    assert.equal(patch.status, 200);
  });

  it("refuses cookie writes without an XSRF token, with or without same-origin headers", async () => {
    await refusedAll(admin.client, { origin: hub.url, "sec-fetch-site": "same-origin" }, ["csrf_failed"]);
    await refusedAll(admin.client, {}, ["csrf_failed"]);
    await refusedAll(admin.client, { "x-xsrf-token": "" }, ["csrf_failed"]);
  });

  it("refuses cookie writes with the XSRF token of another session, the same user's included", async () => {
    const second = new HubClient(hub.url);
    assert.equal((await signIn(second, admin.account, freshStep())).status, 303);
    assert.notEqual(second.xsrf, admin.client.xsrf);
    const sameOrigin = { origin: hub.url, "sec-fetch-site": "same-origin" };
    await refusedAll(admin.client, { ...sameOrigin, "x-xsrf-token": second.xsrf }, ["csrf_failed"]);
    await refusedAll(admin.client, { ...sameOrigin, "x-xsrf-token": alice.client.xsrf }, ["csrf_failed"]);
  });

  it("refuses cookie writes that fetch metadata marks cross-site, same-site or no-cors, even with the right token", async () => {
    const metadatas: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "none" },
      { "sec-fetch-site": "same-origin", "sec-fetch-mode": "no-cors" },
      { "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" },
    ];
    for (const metadata of metadatas) {
      await refusedAll(admin.client, { origin: hub.url, "x-xsrf-token": admin.client.xsrf, ...metadata }, [
        "cross_origin",
        "csrf_failed",
      ]);
    }
  });

  it("refuses cookie writes from another Origin, even with the right token", async () => {
    const port = new URL(hub.url).port;
    for (const origin of [
      "https://evil.example",
      `${hub.url}.evil.com`,
      "null",
      `http://localhost:${port}`,
      `https://127.0.0.1:${port}`,
    ]) {
      await refusedAll(admin.client, { origin, "x-xsrf-token": admin.client.xsrf }, ["cross_origin"]);
    }
  });

  it("refuses text/plain and form bodies on the API, the kinds a cross-site form can send", async () => {
    const before = await snapshot();
    const write: Write = { method: "POST", path: "/hub/api/users/mallory" };
    const plain = await send(
      admin.client,
      write,
      { origin: hub.url, "x-xsrf-token": admin.client.xsrf, "content-type": "text/plain" },
      '{"admin": true}',
    );
    assert.equal(plain.status, 415);
    assert.equal(plain.code, "unsupported_media_type");
    const bearer = await fetch(`${hub.url}/hub/api/users/mallory`, {
      method: "POST",
      headers: { authorization: `token ${adminToken}`, "content-type": "text/plain" },
      body: "{}",
    });
    assert.equal(bearer.status, 415);
    const form = await send(
      admin.client,
      write,
      { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      "admin=true",
    );
    assert.equal(form.status, 403);
    const formNoOrigin = await send(
      admin.client,
      write,
      { "content-type": "application/x-www-form-urlencoded" },
      "admin=true",
    );
    assert.equal(formNoOrigin.status, 403);
    assert.deepEqual(await snapshot(), before);
  });

  it("changes nothing on GET: sign-out, user creation and server start are not reachable by a link", async () => {
    const before = await snapshot();
    const client = new HubClient(hub.url);
    assert.equal((await signIn(client, alice.account, freshStep())).status, 303);
    const logout = await client.page("/hub/logout");
    assert.equal(logout.res.status, 200);
    assert.equal((await client.api("GET", "/hub/api/user")).status, 200, "GET /hub/logout kept the session");
    for (const path of [
      "/hub/spawn",
      "/hub/spawn/alice/forged",
      "/hub/api/users/alice/server",
      "/hub/api/users/alice/servers/forged",
    ]) {
      const res = await client.request(path, { headers: { accept: "text/html" } });
      await res.body?.cancel();
      assert.ok(res.status < 500, `${path} answered ${res.status}`);
    }
    const create = await admin.client.request("/hub/api/users/visitor");
    assert.equal(create.status, 404);
    assert.deepEqual(await snapshot(), before);
  });

  it("needs no XSRF token for bearer-token writes", async () => {
    const res = await fetch(`${hub.url}/hub/api/users/admin/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ note: "script" }),
    });
    assert.equal(res.status, 201);
    rememberSecret(((await res.json()) as { token: string }).token);
  });

  it("refuses a sign-out POST without the session's XSRF token or from another origin", async () => {
    const client = new HubClient(hub.url);
    assert.equal((await signIn(client, alice.account, freshStep())).status, 303);
    const forged = [
      client.postForm("/hub/logout", {}),
      client.postForm("/hub/logout", { _xsrf: admin.client.xsrf }),
      client.postForm("/hub/logout", { _xsrf: client.xsrf }, { origin: "https://evil.example" }),
      client.postForm("/hub/logout", { _xsrf: client.xsrf }, { "sec-fetch-site": "cross-site" }),
    ];
    for (const res of await Promise.all(forged)) {
      assert.equal(res.status, 403);
      await res.body?.cancel();
    }
    assert.equal((await client.api("GET", "/hub/api/user")).status, 200);
    assert.equal((await client.postForm("/hub/logout", { _xsrf: client.xsrf })).status, 303);
    assert.equal((await client.api("GET", "/hub/api/user")).status, 401);
  });

  it("refuses the sign-in form without its XSRF cookie, with a different one, or from another origin", async () => {
    const post = (client: HubClient, xsrf: string, headers: Record<string, string> = {}) =>
      client.postForm(
        "/hub/login",
        { _xsrf: xsrf, username: "alice", password: alice.account.password },
        { accept: "application/json", ...headers },
      );
    const expectRefused = async (res: Response, code: string) => {
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { code: string }).code, code);
      assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith("slipway-session=")));
    };

    const cookieless = new HubClient(hub.url);
    await expectRefused(await post(cookieless, "A".repeat(43)), "csrf_failed");

    const mismatched = new HubClient(hub.url);
    const page = await mismatched.page("/hub/login");
    const xsrf = field(page.html, hiddenField("_xsrf"));
    await expectRefused(await post(mismatched, `${xsrf.slice(1)}x`), "csrf_failed");
    await expectRefused(await post(mismatched, xsrf, { origin: "https://evil.example" }), "cross_origin");
    await expectRefused(await post(mismatched, xsrf, { "sec-fetch-site": "cross-site" }), "cross_origin");

    const tossed = new HubClient(hub.url);
    await expectRefused(
      await post(tossed, xsrf, { cookie: `slipway-login-xsrf=${xsrf}; slipway-login-xsrf=${xsrf}` }),
      "csrf_failed",
    );

    const control = await post(mismatched, xsrf);
    assert.equal(control.status, 303);
  });

  it("refuses the one-time-code form without the pending session's XSRF token, and keeps the code usable", async () => {
    const client = new HubClient(hub.url);
    const login = await client.page("/hub/login");
    const at = freshStep();
    const password = await client.postForm("/hub/login", {
      _xsrf: field(login.html, hiddenField("_xsrf")),
      username: "alice",
      password: alice.account.password,
    });
    assert.equal(password.status, 303);
    const page = await client.page("/hub/login/totp");
    const xsrf = field(page.html, hiddenField("_xsrf"));
    const code = codeFor(alice.account.totpSecret, at);
    const form = (fields: Record<string, string>, headers: Record<string, string>) =>
      rawRequest(
        `${hub.url}/hub/login/totp`,
        "POST",
        {
          cookie: client.cookieHeader(),
          origin: hub.url,
          "sec-fetch-site": "same-origin",
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...headers,
        },
        new URLSearchParams(fields).toString(),
      );
    for (const [fields, headers] of [
      [{ _xsrf: "", code }, {}],
      [{ _xsrf: admin.client.xsrf, code }, {}],
      [{ _xsrf: xsrf, code }, { origin: "https://evil.example" }],
      [{ _xsrf: xsrf, code }, { "sec-fetch-mode": "no-cors" }],
    ] as const) {
      const res = await form(fields, headers);
      assert.equal(res.status, 403, JSON.stringify([fields._xsrf.slice(0, 4), headers]));
    }
    assert.equal((await client.postForm("/hub/login/totp", { _xsrf: xsrf, code })).status, 303);
  });

  it("refuses a set-up link form without its XSRF cookie, and leaves the link unspent", async () => {
    const created = await fetch(`${hub.url}/hub/api/users/carol`, {
      method: "POST",
      headers: { authorization: `token ${adminToken}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(created.status, 201);
    const setupPath = new URL(((await created.json()) as { setup_url: string }).setup_url).pathname;
    rememberSecret(setupPath.split("/").pop() ?? "");
    const forged = await new HubClient(hub.url).postForm(setupPath, {
      _xsrf: "A".repeat(43),
      password: "pw-carol-attacker-chosen",
      confirm: "pw-carol-attacker-chosen",
    });
    assert.equal(forged.status, 403);
    const owner = new HubClient(hub.url);
    const form = await owner.page(setupPath);
    assert.equal(form.res.status, 200);
    const done = await owner.postForm(setupPath, {
      _xsrf: field(form.html, hiddenField("_xsrf")),
      password: "pw-carol-correct-horse",
      confirm: "pw-carol-correct-horse",
    });
    assert.equal(done.status, 303, "the link still worked for its owner");
    assert.match(done.headers.get("location") ?? "", /^\/hub\/enrol-totp/);
  });

  it("refuses cookie-authenticated cross-origin writes through the proxy before any server is looked up", async () => {
    const write: Write = { method: "POST", path: "/user/alice/api/contents", body: { type: "notebook" } };
    const refused: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site", origin: hub.url },
    ];
    for (const headers of refused) {
      const res = await send(alice.client, write, headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.code, "cross_origin");
    }
    const control = await send(alice.client, write, { origin: hub.url, "sec-fetch-site": "same-origin" });
    assert.equal(control.status, 503, "control: the gate lets it through to the stopped server");
  });
});
