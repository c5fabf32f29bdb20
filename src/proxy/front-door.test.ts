import assert from "node:assert/strict";
import { once } from "node:events";
import { createConnection } from "node:net";
import { after, before, describe, it } from "node:test";
import { createFrontDoor, type FrontDoor, type FrontDoorProxy } from "./front-door.js";
import {
  ORIGIN,
  openWebSocket,
  route,
  send,
  startBackend,
  startGateway,
  type Backend,
} from "./proxy-test-fixture.js";

describe("the front door", () => {
  let door: FrontDoor;
  let port: number;
  const proxied: string[] = [];
  const upgraded: string[] = [];
  const app: string[] = [];
  const proxy: FrontDoorProxy = {
    handleRequest(req, res) {
      proxied.push(req.url ?? "");
      res.end("proxy");
    },
    handleUpgrade(req, socket) {
      upgraded.push(req.url ?? "");
      socket.destroy();
    },
  };

  before(async () => {
    door = createFrontDoor({
      proxy,
      app: (req, res) => {
        app.push(req.url ?? "");
        res.end("app");
      },
    });
    const address = await door.listen(0, "127.0.0.1");
    assert.equal(address.address, "127.0.0.1");
    port = address.port;
  });

  after(async () => {
    await door.close();
  });

  it("sends paths that start with exactly /user/ to the proxy and everything else to the web app", async () => {
    for (const path of ["/user/alice/", "/user/alice/lab?x=1", "/user/"]) {
      assert.equal((await send(port, path)).body.toString(), "proxy", path);
    }
    for (const path of [
      "/",
      "/hub/home",
      "/user",
      "/USER/alice/",
      "//user/alice/",
      "/users/alice/",
      "/hub/user/alice/",
    ]) {
      assert.equal((await send(port, path)).body.toString(), "app", path);
    }
    assert.deepEqual(proxied, ["/user/alice/", "/user/alice/lab?x=1", "/user/"]);
    assert.deepEqual(app, [
      "/",
      "/hub/home",
      "/user",
      "/USER/alice/",
      "//user/alice/",
      "/users/alice/",
      "/hub/user/alice/",
    ]);
  });

  it("sends /user/ upgrades to the proxy", async () => {
    await openWebSocket(port, "/user/alice/api/kernels/x/channels", { origin: ORIGIN }).catch(
      () => undefined,
    );
    assert.deepEqual(upgraded, ["/user/alice/api/kernels/x/channels"]);
  });

  it("answers other upgrades with 404, since the web app has no websockets", async () => {
    for (const path of ["/hub/api/events", "/USER/alice/api/kernels/x/channels"]) {
      const attempt = await openWebSocket(port, path, { origin: ORIGIN });
      assert.equal(attempt.opened ? 0 : attempt.status, 404, path);
    }
    assert.equal(upgraded.length, 1);
  });
});

describe("closing the front door", () => {
  let alice: Backend;

  before(async () => {
    alice = await startBackend();
  });

  after(async () => {
    await alice.close();
  });

  it("destroys idle keep-alive connections and open websockets", async () => {
    const gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
    const attempt = await openWebSocket(gateway.port, "/user/alice/api/kernels/x/channels", {
      cookie: "slipway-session=alice",
      origin: ORIGIN,
    });
    assert.ok(attempt.opened);
    const accepted = once(gateway.frontDoor.server, "connection");
    const idle = createConnection(gateway.port, "127.0.0.1");
    await accepted;
    const closedSocket = once(attempt.socket, "close");
    const closedIdle = once(idle, "close");
    await gateway.frontDoor.close();
    await Promise.all([closedSocket, closedIdle]);
    assert.equal(gateway.proxy.openWebSockets, 0);
    gateway.proxy.close();
  });

  it("closeAll destroys connections and leaves the listener up", async () => {
    const gateway = await startGateway();
    try {
      const accepted = once(gateway.frontDoor.server, "connection");
      const idle = createConnection(gateway.port, "127.0.0.1");
      await accepted;
      const closedIdle = once(idle, "close");
      gateway.frontDoor.closeAll();
      await closedIdle;
      assert.equal((await send(gateway.port, "/hub/")).status, 404);
    } finally {
      await gateway.close();
    }
  });
});
