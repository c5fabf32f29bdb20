import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { apiToken, firstAdmin } from "../support/accounts.js";
import { spawnHubProcess } from "../support/hub-process.js";
import { executeOnKernel } from "../support/jupyter-kernel.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { startServer } from "../support/start-server.js";
import { tokenFetch } from "../support/token-fetch.js";
import { HubClient, completeSetup } from "../support/hub-client.js";

interface UserModel {
  servers: Record<
    string,
    { ready: boolean; state: { pid?: number }; slipway: { state: string; reason: string | null } }
  >;
}

const as = (base: string, token: string, method: string, path: string, body?: unknown) =>
  tokenFetch(base, token, method, path, body);

/** True once the process is gone or a zombie (it can no longer serve anything). */
function isDead(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return / Z /.test(readFileSync(stat, "utf8"));
  } catch {
    return true;
  }
}

/** Waits for an external process to die; it is not our child, so there is no exit event to await. */
async function untilDead(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isDead(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("a hub restarted while servers run", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "slipway-restart-"));
  let hub: TestHub | undefined;
  let token = "";

  after(async () => {
    if (hub) {
      await as(hub.url, token, "DELETE", "/hub/api/users/admin/server").catch(() => undefined);
      await hub.stop();
    }
    removeDir(dataDir);
  });

  it("adopts a running server on restart, and its kernel keeps its state", async () => {
    hub = await startTestHub({}, { dataDir, name: "restart-a" });
    const admin = await firstAdmin(hub);
    token = await apiToken(admin);
    await startServer(hub.url, token, "admin");
    const kernel = (await (
      await as(hub.url, token, "POST", "/user/admin/api/kernels", { name: "python3" })
    ).json()) as {
      id: string;
    };
    const channels = (base: string) =>
      `${base.replace("http", "ws")}/user/admin/api/kernels/${kernel.id}/channels`;
    await executeOnKernel(channels(hub.url), "x = 41", { authorization: `token ${token}` });
    await hub.stop();

    hub = await startTestHub({}, { dataDir, name: "restart-b" });
    const kernels = await as(hub.url, token, "GET", "/user/admin/api/kernels");
    assert.equal(kernels.status, 200, "the route is back before the hub takes traffic");
    assert.ok(((await kernels.json()) as { id: string }[]).some((k) => k.id === kernel.id));
    const out = await executeOnKernel(channels(hub.url), "print(x + 1)", { authorization: `token ${token}` });
    assert.equal(out.trim(), "42");
  });

  it("marks a server that died while the hub was down as stopped, with the reason", async () => {
    assert.ok(hub);
    const me = (await (await as(hub.url, token, "GET", "/hub/api/users/admin")).json()) as UserModel;
    const pid = me.servers[""]?.state.pid;
    assert.ok(typeof pid === "number" && pid > 1, "admins see the launcher state");
    await hub.stop();
    process.kill(-pid, "SIGKILL");
    await untilDead(pid);

    hub = await startTestHub({}, { dataDir, name: "restart-c" });
    const after = (await (await as(hub.url, token, "GET", "/hub/api/users/admin")).json()) as UserModel;
    assert.equal(after.servers[""]?.slipway.state, "stopped");
    assert.match(after.servers[""]?.slipway.reason ?? "", /exited|stopped|gone/i);
    const status = await as(hub.url, token, "GET", "/user/admin/api/status");
    assert.equal(status.status, 503);
  });
});

describe("a hub killed while a server starts", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "slipway-kill-"));
  let url = "";
  let token = "";
  let stop: (() => Promise<void>) | undefined;

  after(async () => {
    if (url) await as(url, token, "DELETE", "/hub/api/users/admin/server").catch(() => undefined);
    await stop?.();
    removeDir(dataDir);
  });

  it("adopts the interrupted launch on restart: nothing orphaned, nothing stuck pending", async () => {
    const config = { servers: { pollInterval: 1 } };
    const first = await spawnHubProcess(dataDir, config);
    assert.ok(first.firstAdminUrl);
    const client = new HubClient(first.url);
    const account = await completeSetup(
      client,
      new URL(first.firstAdminUrl).pathname,
      { name: "admin", password: "pw-admin-correct-horse" },
      { askName: true },
    );
    token = await apiToken({ client, account });
    // The API answers 202 at once when asked not to wait; the hub dies mid-launch.
    const res = await as(first.url, token, "POST", "/hub/api/users/admin/server");
    assert.ok(res.status === 201 || res.status === 202);
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await spawnHubProcess(dataDir, config);
    url = second.url;
    stop = async () => {
      second.child.kill("SIGTERM");
      await second.exited;
    };
    // Follow the server until it settles, through the progress stream (an event, not a sleep).
    const progress = await as(url, token, "GET", "/hub/api/users/admin/server/progress");
    const text = await progress.text();
    assert.match(text, /"ready":true/, text);
    const me = (await (await as(url, token, "GET", "/hub/api/users/admin")).json()) as UserModel;
    assert.equal(me.servers[""]?.slipway.state, "running");
    assert.equal((await as(url, token, "GET", "/user/admin/api/status")).status, 200);
  });
});
