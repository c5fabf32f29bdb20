import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import WebSocket from "ws";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import { startServer } from "../support/start-server.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const IDLE_TIMEOUT_S = 600;

/** Sends kernel_info_request on a kernel's channels and resolves with the reply: traffic from the browser's side. */
function kernelInfo(ws: WebSocket): Promise<void> {
  const msgId = randomUUID();
  const reply = new Promise<void>((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(String(data)) as { msg_type?: string; parent_header?: { msg_id?: string } };
      if (msg.msg_type === "kernel_info_reply" && msg.parent_header?.msg_id === msgId) {
        ws.off("message", onMessage);
        resolve();
      }
    };
    ws.on("message", onMessage);
  });
  ws.send(
    JSON.stringify({
      header: {
        msg_id: msgId,
        username: "test",
        session: randomUUID(),
        msg_type: "kernel_info_request",
        version: "5.3",
        date: new Date().toISOString(),
      },
      parent_header: {},
      metadata: {},
      content: {},
      channel: "shell",
      buffers: [],
    }),
  );
  return reply;
}

describe("websockets whose session or token ends without a sign-out (real Jupyter)", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let admin: SignedIn;
  let wes: SignedIn;
  let adminToken: string;
  let token: string;
  let kernel: string;

  const channels = () => `${hub.url.replace("http", "ws")}/user/wes/api/kernels/${kernel}/channels`;

  /** The hub's own count of credential checks with this outcome, from /hub/metrics. */
  const checks = async (outcome: "valid" | "ended"): Promise<number> => {
    const res = await fetch(`${hub.url}/hub/metrics`, { headers: { authorization: `token ${adminToken}` } });
    assert.equal(res.status, 200);
    const line = (await res.text())
      .split("\n")
      .find((l) => l.startsWith(`slipway_credential_checks_total{outcome="${outcome}"}`));
    return line === undefined ? 0 : Number(line.split(" ").pop());
  };
  /** Resolves once the hub has made `count` more checks with this outcome (it checks every second here). */
  const moreChecks = async (outcome: "valid" | "ended", count: number): Promise<void> => {
    const target = (await checks(outcome)) + count;
    while ((await checks(outcome)) < target) await delay(50);
  };

  before(async () => {
    hub = await startTestHub(
      {
        auth: { sessionIdleTimeout: IDLE_TIMEOUT_S },
        proxy: { credentialCheckInterval: 1 },
        servers: { pollInterval: 3600 },
      },
      { name: "websocket-credentials", clock },
    );
    admin = await firstAdmin(hub);
    adminToken = await apiToken(admin);
    wes = await addUser(hub, admin.client, "wes");
    token = await apiToken(wes);
    await startServer(hub.url, token, "wes");
    const created = await fetch(`${hub.url}/user/wes/api/kernels`, {
      method: "POST",
      headers: { authorization: `token ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "python3" }),
    });
    assert.equal(created.status, 201);
    kernel = ((await created.json()) as { id: string }).id;
  });

  after(async () => {
    await fetch(`${hub.url}/hub/api/users/wes/server`, {
      method: "DELETE",
      headers: { authorization: `token ${token}` },
    }).catch(() => undefined);
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it(
    "keeps a notebook in use open past the idle timeout, closes it once the session has been idle, and closes an expired token's",
    { timeout: 60_000 },
    async () => {
      const short = await wes.client.api("POST", "/hub/api/users/wes/tokens", {
        note: "short",
        expires_in: 300,
      });
      assert.equal(short.status, 201);
      const shortToken = ((await short.json()) as { token: string }).token;
      rememberSecret(shortToken);

      const bySession = new WebSocket(channels(), {
        headers: { cookie: wes.client.cookieHeader(), origin: hub.url },
      });
      const byToken = new WebSocket(channels(), { headers: { authorization: `token ${shortToken}` } });
      await Promise.all([once(bySession, "open"), once(byToken, "open")]);
      const tokenClosed = once(byToken, "close");
      const sessionClosed = once(bySession, "close");

      // 400 s on: the short token has expired; the session is within its idle time and in use.
      clock.advance(400_000);
      await kernelInfo(bySession);
      await moreChecks("valid", 2);
      await tokenClosed;
      assert.equal(bySession.readyState, WebSocket.OPEN);

      // 800 s after sign-in, 400 s after the notebook was last used: still open.
      clock.advance(400_000);
      await moreChecks("valid", 2);
      assert.equal(bySession.readyState, WebSocket.OPEN);

      // Past the idle timeout since the last use: the session has ended, and its websocket with it.
      clock.advance((IDLE_TIMEOUT_S + 100) * 1000);
      await sessionClosed;
      assert.ok((await checks("ended")) >= 2);
      const page = await fetch(`${hub.url}/user/wes/api/status`, {
        headers: { cookie: wes.client.cookieHeader() },
      });
      assert.equal(page.status, 401, "the session is over for requests too");
    },
  );
});
