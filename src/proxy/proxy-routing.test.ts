import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertTookPath, describeOnBothPaths, serveRoutesOnPath } from "./both-paths-fixture.js";
import {
  fakeAuthenticate,
  route,
  send,
  startBackend,
  startGateway,
  type Backend,
  type Gateway,
} from "./proxy-test-fixture.js";
import { closedSocket } from "./socket-fixture.js";

const ALICE = { cookie: "slipway-session=alice" };

describeOnBothPaths("the proxy's routing of default and named servers", (path) => {
  const suite = serveRoutesOnPath(path, { home: ["alice", ""], gpu: ["alice", "gpu"] });

  it("sends /user/alice/gpu/... to the named server and everything else to the default server", async () => {
    const mark = suite.gateway.nodeHttp.length;
    await send(suite.gateway.port, "/user/alice/gpu/lab/tree", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/gpu", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/lab/tree/gpu", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/gpux/", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/", { headers: ALICE });
    assert.deepEqual(
      suite.server("gpu").requests.map((r) => r.url),
      ["/user/alice/gpu/lab/tree", "/user/alice/gpu"],
    );
    assert.deepEqual(
      suite.server("home").requests.map((r) => r.url),
      ["/user/alice/lab/tree/gpu", "/user/alice/gpux/", "/user/alice/"],
    );
    assertTookPath(path, suite.gateway, mark, 5);
  });

  it("falls back to the default server once the named route is removed", async () => {
    suite.gateway.proxy.routes.removeRoute("alice", "gpu");
    await send(suite.gateway.port, "/user/alice/gpu/lab", { headers: ALICE });
    assert.equal(suite.server("home").requests.at(-1)?.url, "/user/alice/gpu/lab");
    assert.equal(suite.server("gpu").requests.length, 2);
    suite.gateway.proxy.routes.setRoute(route(2, "alice", "gpu", suite.server("gpu").target));
  });
});

describe("the proxy's route table", () => {
  let gateway: Gateway;
  const target = closedSocket();

  before(async () => {
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", target));
    gateway.proxy.routes.setRoute(route(2, "alice", "gpu", target));
  });

  after(async () => {
    await gateway.close();
  });

  it("refuses a named route whose name would hide a path of the default server", () => {
    assert.throws(() => gateway.proxy.routes.setRoute(route(3, "alice", "api", target)), {
      code: "reserved_server_name",
    });
    assert.throws(() => gateway.proxy.routes.setRoute(route(3, "Alice", "", target)), {
      code: "invalid_user_name",
    });
    assert.equal(gateway.proxy.routes.getRoute("alice", "api"), undefined);
  });

  it("lists, gets and removes routes", () => {
    assert.deepEqual(
      gateway.proxy.routes
        .listRoutes()
        .map((r) => r.serverId)
        .sort(),
      [1, 2],
    );
    assert.equal(gateway.proxy.routes.getRoute("alice", "gpu")?.serverId, 2);
    assert.equal(gateway.proxy.routes.removeRoute("alice", "nothing"), false);
  });
});

describeOnBothPaths("the proxy when a user's server is down", (path) => {
  let gateway: Gateway;

  before(async () => {
    gateway = await startGateway({}, { fastPath: path.fastPath });
    gateway.proxy.routes.setRoute(route(9, "alice", "", closedSocket()));
  });

  after(async () => {
    await gateway.close();
  });

  it("answers 502 JSON and tells the hub which route failed", async () => {
    const reply = await send(gateway.port, "/user/alice/api/status", { headers: ALICE });
    assert.equal(reply.status, 502);
    assert.equal(reply.code(), "server_unreachable");
    assert.equal(gateway.targetErrors.length, 1);
    assert.equal(gateway.targetErrors[0]?.route.serverId, 9);
    assert.equal(Reflect.get(gateway.targetErrors[0]?.error ?? {}, "code"), "ENOENT");
  });

  it("answers a browser with an HTML page", async () => {
    const reply = await send(gateway.port, "/user/alice/lab", { headers: { ...ALICE, accept: "text/html" } });
    assert.equal(reply.status, 502);
    assert.match(String(reply.headers["content-type"]), /^text\/html/);
  });
});

describeOnBothPaths("the proxy on a route miss", (path) => {
  let alice: Backend;
  let gateway: Gateway;
  let answer: { route: ReturnType<typeof route> | undefined };
  let lookups: number;

  before(async () => {
    alice = await startBackend();
    answer = { route: undefined };
    lookups = 0;
    gateway = await startGateway(
      {
        resolveMiss: (owner, serverName) => {
          lookups += 1;
          gateway.misses.push({ owner, serverName });
          return Promise.resolve(answer.route);
        },
      },
      { fastPath: path.fastPath },
    );
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("asks the store once, caches the route it gets, and forwards", async () => {
    answer.route = route(4, "alice", "", alice.target);
    const first = await send(gateway.port, "/user/alice/gpu/lab", { headers: ALICE });
    assert.equal(first.status, 200);
    assert.deepEqual(gateway.misses, [{ owner: "alice", serverName: "gpu" }]);
    // The miss went through node:http either way, and its connection stays there; on a connection
    // of its own, a request for the cached route is the fast path's.
    const mark = gateway.nodeHttp.length;
    const second = await send(gateway.port, "/user/alice/gpu/lab", { headers: ALICE, agent: false });
    assert.equal(second.status, 200);
    assertTookPath(path, gateway, mark);
    assert.equal(lookups, 1);
    assert.equal(gateway.proxy.routes.getRoute("alice", "")?.serverId, 4);
    gateway.proxy.routes.removeRoute("alice", "");
  });

  it("does not offer a reserved name to the store as a named server", async () => {
    gateway.misses.length = 0;
    answer.route = undefined;
    await send(gateway.port, "/user/alice/api/contents", { headers: ALICE });
    assert.deepEqual(gateway.misses, [{ owner: "alice", serverName: undefined }]);
  });

  it("asks the store once for a burst of requests to the same server", async () => {
    answer.route = route(4, "alice", "", alice.target);
    const before = lookups;
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => send(gateway.port, "/user/alice/tree", { headers: ALICE })),
    );
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(lookups - before, 1);
    gateway.proxy.routes.removeRoute("alice", "");
  });

  it("ignores an answer for another user's server", async () => {
    answer.route = route(5, "bob", "", alice.target);
    const requestsBefore = alice.requests.length;
    const reply = await send(gateway.port, "/user/alice/lab", { headers: ALICE });
    assert.equal(reply.status, 503);
    assert.equal(alice.requests.length, requestsBefore);
    assert.equal(gateway.proxy.routes.getRoute("bob", ""), undefined);
  });

  it("does not ask the store about a server the caller may not use", async () => {
    const before = lookups;
    const reply = await send(gateway.port, "/user/bob/lab", { headers: ALICE });
    assert.equal(reply.status, 403);
    assert.equal(lookups, before);
  });

  it("answers 503 JSON for a server that is not running", async () => {
    answer.route = undefined;
    const reply = await send(gateway.port, "/user/alice/api/kernels", { headers: ALICE });
    assert.equal(reply.status, 503);
    assert.deepEqual(reply.json(), {
      status: 503,
      code: "server_not_running",
      message: "alice's server is not running.",
    });
  });

  it("offers a browser the spawn page for a server that is not running", async () => {
    answer.route = undefined;
    const reply = await send(gateway.port, "/user/alice/gpu/lab?x=1", {
      headers: { ...ALICE, accept: "text/html" },
    });
    assert.equal(reply.status, 503);
    assert.match(
      reply.body.toString(),
      /<a class="button" href="\/hub\/spawn\/alice\/gpu\?next=%2Fuser%2Falice%2Fgpu%2Flab%3Fx%3D1">Start it<\/a>/,
    );
  });
});

describeOnBothPaths(
  "the proxy with a hub-supplied not-running page and an asynchronous authenticate",
  (path) => {
    let gateway: Gateway;
    const calls: [string, string][] = [];

    before(async () => {
      const authenticate = fakeAuthenticate(["alice"]);
      calls.length = 0;
      gateway = await startGateway(
        {
          authenticate: (req) => Promise.resolve(authenticate(req)),
          notRunning: (_req, res, owner, serverName) => {
            calls.push([owner, serverName]);
            res.writeHead(503, { "content-type": "text/plain" });
            res.end("start it?");
          },
        },
        { fastPath: path.fastPath },
      );
    });

    after(async () => {
      await gateway.close();
    });

    it("hands a stopped server's request to the hub's handler with owner and server name", async () => {
      const reply = await send(gateway.port, "/user/alice/gpu/", { headers: ALICE });
      assert.equal(reply.body.toString(), "start it?");
      assert.deepEqual(calls, [["alice", "gpu"]]);
    });

    it("refuses when the asynchronous answer is no one", async () => {
      const reply = await send(gateway.port, "/user/alice/gpu/");
      assert.equal(reply.status, 401);
    });
  },
);
