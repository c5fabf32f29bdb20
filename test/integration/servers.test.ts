import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { executeOnKernel, tryWebsocket } from "../support/jupyter-kernel.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { startServer } from "../support/start-server.js";
import { tokenFetch } from "../support/token-fetch.js";

interface ServerModel {
  name: string;
  ready: boolean;
  pending: string | null;
  url: string;
  progress_url: string;
  slipway: { state: string; reason: string | null };
}

describe("servers through the hub and its proxy (local launcher, real Jupyter)", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceToken: string;
  let bobToken: string;

  const as = (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => tokenFetch(hub.url, token, method, path, body, headers);

  before(async () => {
    hub = await startTestHub({}, { name: "servers" });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    bob = await addUser(hub, admin.client, "bob");
    aliceToken = await apiToken(alice);
    bobToken = await apiToken(bob);
  });

  after(async () => {
    for (const [token, path] of [
      [aliceToken, "/hub/api/users/alice/server"],
      [aliceToken, "/hub/api/users/alice/servers/analysis"],
    ] as const) {
      await as(token, "DELETE", path).catch(() => undefined);
    }
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("starts the default server: 201 once ready (202 while pending), with JupyterHub's server model", async () => {
    const started = await startServer(hub.url, aliceToken, "alice");
    const answered = started.model as ServerModel;
    if (started.status === 201) assert.equal(answered.ready, true);
    else assert.equal(answered.pending, "spawn");
    const me = (await (await as(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      servers: Record<string, ServerModel>;
    };
    const ready = me.servers[""];
    assert.equal(ready?.ready, true);
    assert.equal(ready?.pending, null);
    assert.equal(ready?.url, "/user/alice/");
    assert.equal(ready?.slipway.state, "running");
  });

  it("streams progress in JupyterHub's event shape, ending with ready and the url", async () => {
    const res = await as(aliceToken, "GET", "/hub/api/users/alice/server/progress");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter((chunk) => chunk.startsWith("data: "))
      .map(
        (chunk) =>
          JSON.parse(chunk.slice(6)) as { progress: number; ready?: boolean; url?: string; message: string },
      );
    assert.ok(events.length >= 2);
    const last = events.at(-1);
    assert.equal(last?.ready, true);
    assert.equal(last?.url, "/user/alice/");
    assert.equal(last?.progress, 100);
  });

  it("proxies the contents API, and the server sees the hub's token, not the caller's", async () => {
    const res = await as(aliceToken, "GET", "/user/alice/api/contents");
    assert.equal(res.status, 200);
    const body = (await res.json()) as { type: string };
    assert.equal(body.type, "directory");
  });

  it("runs code on a kernel over the proxied websocket", async () => {
    const started = await as(aliceToken, "POST", "/user/alice/api/kernels", { name: "python3" });
    assert.equal(started.status, 201);
    const kernel = (await started.json()) as { id: string };
    const wsUrl = `${hub.url.replace("http", "ws")}/user/alice/api/kernels/${kernel.id}/channels`;
    const out = await executeOnKernel(wsUrl, "print(6*7)", { authorization: `token ${aliceToken}` });
    assert.equal(out.trim(), "42");
    assert.equal((await as(aliceToken, "DELETE", `/user/alice/api/kernels/${kernel.id}`)).status, 204);
  });

  it("serves the notebook pages through a signed-in browser session", async () => {
    const res = await alice.client.request("/user/alice/tree", { headers: { accept: "text/html" } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });

  it("keeps bob out of alice's server by every spelling of the path, over HTTP and websocket", async () => {
    const paths = [
      "/user/alice/api/contents",
      "/user/alice/",
      "/user/bob/..%2F..%2Fuser/alice/api/contents",
      "/user/bob%2F..%2Falice/api/contents",
      "/user/./alice/api/contents",
      "/user/bob/../alice/api/contents",
      "//user/alice/api/contents",
      "/USER/alice/api/contents",
      "/user/%61lice/api/contents",
      "/user/alice%2Fapi/contents",
    ];
    for (const path of paths) {
      const credentials: Record<string, string>[] = [
        { authorization: `token ${bobToken}` },
        { cookie: bob.client.cookieHeader() },
      ];
      for (const headers of credentials) {
        const res = await fetch(hub.url + path, { headers, redirect: "manual" });
        assert.ok([400, 403, 404].includes(res.status), `${path} answered ${res.status}`);
        const text = await res.text();
        assert.doesNotMatch(text, /"type":\s*"directory"/, path);
      }
    }
    const ws = `${hub.url.replace("http", "ws")}/user/alice/api/kernels/x/channels`;
    assert.equal(await tryWebsocket(ws, { authorization: `token ${bobToken}` }), 403);
    assert.equal(await tryWebsocket(ws, { cookie: bob.client.cookieHeader(), origin: hub.url }), 403);
    assert.equal(await tryWebsocket(ws, {}), 401);
  });

  it("refuses cookie-authenticated websockets from another origin", async () => {
    const ws = `${hub.url.replace("http", "ws")}/user/alice/api/kernels/x/channels`;
    for (const origin of ["https://evil.example", `${hub.url}.evil.com`, "http://127.0.0.1:9"]) {
      assert.equal(await tryWebsocket(ws, { cookie: alice.client.cookieHeader(), origin }), 403, origin);
    }
  });

  it("starts a named server next to the default one", async () => {
    await startServer(hub.url, aliceToken, "alice", "analysis", {});
    const status = await as(aliceToken, "GET", "/user/alice/analysis/api/status");
    assert.equal(status.status, 200);
    const me = (await (await as(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      servers: Record<string, ServerModel>;
    };
    assert.deepEqual(Object.keys(me.servers).sort(), ["", "analysis"]);
  });

  it("stops a server: its route goes, HTML gets a page offering a start and the API a 503", async () => {
    const res = await as(aliceToken, "DELETE", "/hub/api/users/alice/servers/analysis");
    assert.ok(res.status === 204 || res.status === 202);
    const api = await as(aliceToken, "GET", "/user/alice/analysis/api/status");
    // With the named server gone, the path belongs to the default server's API again.
    assert.equal(api.status, 404);
    await as(aliceToken, "DELETE", "/hub/api/users/alice/server");
    const afterStop = await as(aliceToken, "GET", "/user/alice/api/status");
    assert.equal(afterStop.status, 503);
    assert.equal(((await afterStop.json()) as { code: string }).code, "server_not_running");
    const page = await alice.client.request("/user/alice/tree", { headers: { accept: "text/html" } });
    assert.equal(page.status, 503);
    assert.match(await page.text(), /\/hub\/spawn\/alice/);
  });

  it("deletes a named server with remove: true", async () => {
    const res = await as(aliceToken, "DELETE", "/hub/api/users/alice/servers/analysis", { remove: true });
    assert.equal(res.status, 204);
    const me = (await (await as(aliceToken, "GET", "/hub/api/users/alice")).json()) as {
      servers: Record<string, ServerModel>;
    };
    assert.ok(!("analysis" in me.servers));
  });

  it("stops the servers of a user an admin disables, and ends their sessions", async () => {
    await startServer(hub.url, bobToken, "bob");
    const res = await admin.client.api("PATCH", "/hub/api/users/bob", { disabled: true });
    assert.equal(res.status, 200);
    const bobModel = (await (await admin.client.api("GET", "/hub/api/users/bob")).json()) as {
      servers: Record<string, ServerModel>;
    };
    assert.equal(bobModel.servers[""]?.slipway.state, "stopped");
    assert.match(bobModel.servers[""]?.slipway.reason ?? "", /disabled/);
    assert.equal((await bob.client.api("GET", "/hub/api/user")).status, 401);
    assert.equal((await as(bobToken, "GET", "/user/bob/api/status")).status, 401);
  });
});
