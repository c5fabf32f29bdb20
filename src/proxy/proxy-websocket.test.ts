import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { after, before, describe, it } from "node:test";
import type { ProxyMetrics, UpgradeOutcome } from "./proxy-metrics.js";
import {
  ORIGIN,
  echo,
  openWebSocket,
  pattern,
  route,
  startBackend,
  startGateway,
  type Backend,
  type Gateway,
} from "./proxy-test-fixture.js";
import { closedSocket } from "./socket-fixture.js";
import type { WebSocket } from "ws";

const ALICE = { cookie: "slipway-session=alice; _xsrf=jupyter", origin: ORIGIN };
const CHANNELS = "/user/alice/api/kernels/k1/channels?session_id=s1";

async function open(
  port: number,
  headers: Record<string, string> = ALICE,
  path = CHANNELS,
): Promise<WebSocket> {
  const attempt = await openWebSocket(port, path, headers);
  if (!attempt.opened) throw new Error(`websocket refused with ${attempt.status}`);
  return attempt.socket;
}

describe("the proxy's websockets", () => {
  let alice: Backend;
  let gateway: Gateway;
  const upgrades: UpgradeOutcome[] = [];
  const outcomes = new EventEmitter();
  const metrics: ProxyMetrics = {
    request: () => undefined,
    upgrade: (outcome) => {
      upgrades.push(outcome);
      outcomes.emit(outcome);
    },
  };

  async function nextUpgradeOutcome(outcome: UpgradeOutcome): Promise<void> {
    await once(outcomes, outcome);
  }
  const sockets: WebSocket[] = [];

  async function tracked(headers?: Record<string, string>, path?: string): Promise<WebSocket> {
    const socket = await open(gateway.port, headers, path);
    sockets.push(socket);
    return socket;
  }

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway({ metrics });
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  after(async () => {
    for (const socket of sockets) socket.terminate();
    await gateway.close();
    await alice.close();
  });

  it("echoes 32 bytes and 64 KiB through the tunnel intact", async () => {
    const socket = await tracked();
    const small = pattern(32);
    const large = pattern(64 * 1024);
    assert.ok((await echo(socket, small)).equals(small));
    assert.ok((await echo(socket, large)).equals(large));
  });

  it("replays the handshake on the canonical path with the server's token and without hub cookies", async () => {
    await tracked({ ...ALICE, cookie: "slipway-session=alice; _xsrf=jupyter; __Host-slipway-session=x" });
    const seen = alice.upgradeRequests.at(-1);
    assert.equal(seen?.url, CHANNELS);
    assert.equal(seen?.headers.authorization, "token server-token-1");
    assert.equal(seen?.headers.cookie, "_xsrf=jupyter");
    assert.equal(seen?.headers.origin, ORIGIN);
    assert.equal(seen?.headers.host, `127.0.0.1:${gateway.port}`);
    assert.equal(seen?.headers.upgrade, "websocket");
    assert.equal(seen?.headers["x-forwarded-for"], "127.0.0.1");
  });

  it("counts websocket traffic as activity", async () => {
    const socket = await tracked();
    gateway.proxy.drainActivity();
    gateway.clock = new Date("2026-03-01T12:00:00Z");
    await echo(socket, pattern(32));
    assert.deepEqual(gateway.proxy.drainActivity(), [
      { serverId: 1, userName: "alice", at: new Date("2026-03-01T12:00:00Z") },
    ]);
  });

  it("closes the session's websockets on closeSession and leaves others open", async () => {
    const cookieSocket = await tracked();
    const tokenSocket = await tracked({ authorization: "token tok-alice" });
    const closed = once(cookieSocket, "close");
    assert.ok(gateway.proxy.closeSession("cookie:alice") >= 1);
    await closed;
    assert.ok((await echo(tokenSocket, pattern(32))).equals(pattern(32)));
  });

  it("closes every websocket of a user on closeUser", async () => {
    const cookieSocket = await tracked();
    const tokenSocket = await tracked({ authorization: "token tok-alice" });
    const closed = Promise.all([once(cookieSocket, "close"), once(tokenSocket, "close")]);
    const open = gateway.proxy.openWebSockets;
    assert.ok(open >= 2);
    assert.equal(gateway.proxy.closeUser("alice"), open);
    await closed;
    assert.equal(gateway.proxy.openWebSockets, 0);
  });

  it("closes a server's websockets when its route is removed", async () => {
    const socket = await tracked();
    const closed = once(socket, "close");
    gateway.proxy.routes.removeRoute("alice", "");
    await closed;
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  it("closes a server's websockets when its route moves to another socket", async () => {
    const socket = await tracked();
    const closed = once(socket, "close");
    gateway.proxy.routes.setRoute(route(1, "alice", "", closedSocket()));
    await closed;
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  it("keeps a server's websockets when its route is set again unchanged", async () => {
    const socket = await tracked();
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
    assert.ok((await echo(socket, pattern(32))).equals(pattern(32)));
  });

  it("forgets a websocket once the browser closes it, and closes the server's side", async () => {
    const path = "/user/alice/api/kernels/k2/channels?session_id=forgotten";
    const socket = await open(gateway.port, ALICE, path);
    const openBefore = gateway.proxy.openWebSockets;
    const serverSide = alice.nextWebSocketClose(path);
    const forgotten = nextUpgradeOutcome("closed");
    socket.terminate();
    await Promise.all([serverSide, forgotten]);
    assert.equal(gateway.proxy.openWebSockets, openBefore - 1);
  });

  it("closes the browser's side when the server goes away", async () => {
    const socket = await tracked();
    const closed = once(socket, "close");
    alice.dropWebSockets();
    await closed;
    // Every other open tunnel went down with the server too; let them finish closing.
    while (gateway.proxy.openWebSockets > 0) await nextUpgradeOutcome("closed");
  });

  it("relays the server's own refusal of a handshake", async () => {
    const attempt = await openWebSocket(gateway.port, "/user/alice/missing", ALICE);
    assert.equal(attempt.opened ? 0 : attempt.status, 404);
  });

  it("counts opened, refused and failed upgrades", async () => {
    upgrades.length = 0;
    const socket = await open(gateway.port);
    await openWebSocket(gateway.port, CHANNELS, { ...ALICE, origin: "https://evil.example" });
    await openWebSocket(gateway.port, "/user/alice/missing", ALICE);
    const closed = nextUpgradeOutcome("closed");
    socket.terminate();
    await closed;
    assert.deepEqual(upgrades, ["opened", "refused", "failed", "closed"]);
  });

  it("refuses an upgrade that is not a websocket", async () => {
    const { request } = await import("node:http");
    const req = request({
      host: "127.0.0.1",
      port: gateway.port,
      path: CHANNELS,
      headers: { ...ALICE, connection: "Upgrade", upgrade: "h2c" },
    });
    req.end();
    const [res] = await once(req, "response");
    assert.equal(Reflect.get(res ?? {}, "statusCode"), 400);
  });
});

describe("the proxy's websockets to a server that is down or not running", () => {
  let gateway: Gateway;

  before(async () => {
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(3, "alice", "", closedSocket()));
  });

  after(async () => {
    await gateway.close();
  });

  it("answers 502 and tells the hub when the server does not answer", async () => {
    const attempt = await openWebSocket(gateway.port, CHANNELS, ALICE);
    assert.equal(attempt.opened ? 0 : attempt.status, 502);
    assert.equal(gateway.targetErrors.at(-1)?.route.serverId, 3);
    assert.equal(gateway.proxy.openWebSockets, 0);
  });

  it("answers 503 for a server without a route", async () => {
    gateway.proxy.routes.removeRoute("alice", "");
    const attempt = await openWebSocket(gateway.port, CHANNELS, ALICE);
    assert.equal(attempt.opened ? 0 : attempt.status, 503);
    assert.deepEqual(gateway.misses.at(-1), { owner: "alice", serverName: undefined });
  });
});
