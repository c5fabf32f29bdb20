import assert from "node:assert/strict";
import { Agent } from "node:http";
import { after, before, describe, it } from "node:test";
import type { ProxyMetrics, StatusClass, UpgradeOutcome } from "./proxy-metrics.js";
import {
  ONE_MIB,
  ORIGIN,
  echoedHeaders,
  fakeAuthenticate,
  pattern,
  route,
  send,
  startBackend,
  startGateway,
  type Backend,
  type Gateway,
} from "./proxy-test-fixture.js";
import { closedSocket } from "./socket-fixture.js";

const ALICE = { cookie: "slipway-session=alice" };

describe("the proxy's routing of default and named servers", () => {
  let home: Backend;
  let gpu: Backend;
  let gateway: Gateway;

  before(async () => {
    home = await startBackend();
    gpu = await startBackend();
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", home.target));
    gateway.proxy.routes.setRoute(route(2, "alice", "gpu", gpu.target));
  });

  after(async () => {
    await gateway.close();
    await home.close();
    await gpu.close();
  });

  it("sends /user/alice/gpu/... to the named server and everything else to the default server", async () => {
    await send(gateway.port, "/user/alice/gpu/lab/tree", { headers: ALICE });
    await send(gateway.port, "/user/alice/gpu", { headers: ALICE });
    await send(gateway.port, "/user/alice/lab/tree/gpu", { headers: ALICE });
    await send(gateway.port, "/user/alice/gpux/", { headers: ALICE });
    await send(gateway.port, "/user/alice/", { headers: ALICE });
    assert.deepEqual(
      gpu.requests.map((r) => r.url),
      ["/user/alice/gpu/lab/tree", "/user/alice/gpu"],
    );
    assert.deepEqual(
      home.requests.map((r) => r.url),
      ["/user/alice/lab/tree/gpu", "/user/alice/gpux/", "/user/alice/"],
    );
  });

  it("falls back to the default server once the named route is removed", async () => {
    gateway.proxy.routes.removeRoute("alice", "gpu");
    await send(gateway.port, "/user/alice/gpu/lab", { headers: ALICE });
    assert.equal(home.requests.at(-1)?.url, "/user/alice/gpu/lab");
    assert.equal(gpu.requests.length, 2);
    gateway.proxy.routes.setRoute(route(2, "alice", "gpu", gpu.target));
  });

  it("refuses a named route whose name would hide a path of the default server", () => {
    assert.throws(() => gateway.proxy.routes.setRoute(route(3, "alice", "api", gpu.target)), {
      code: "reserved_server_name",
    });
    assert.throws(() => gateway.proxy.routes.setRoute(route(3, "Alice", "", gpu.target)), {
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

describe("the proxy's rewriting of headers", () => {
  let alice: Backend;
  let gateway: Gateway;

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("strips the hub's cookies, keeps Jupyter's own and sends the server's token instead of the caller's", async () => {
    const reply = await send(gateway.port, "/user/alice/api/status", {
      headers: {
        authorization: "token tok-alice",
        cookie:
          "__Host-slipway-session=s1; _xsrf=jupyter-xsrf; slipway-session=s2; _slipway_xsrf=x; " +
          "username-127-0-0-1=abc; slipway-session=tossed",
      },
    });
    assert.equal(reply.status, 200);
    const seen = echoedHeaders(reply);
    assert.equal(seen["cookie"], "_xsrf=jupyter-xsrf; username-127-0-0-1=abc");
    assert.equal(seen["authorization"], "token server-token-1");
  });

  it("drops the Cookie header when only hub cookies were sent", async () => {
    const seen = echoedHeaders(await send(gateway.port, "/user/alice/x", { headers: ALICE }));
    assert.equal(seen["cookie"], undefined);
    assert.equal(seen["authorization"], "token server-token-1");
  });

  it("overwrites X-Forwarded-* sent by the client and keeps Host", async () => {
    const reply = await send(gateway.port, "/user/alice/x", {
      headers: {
        ...ALICE,
        host: "hub.example:8000",
        "x-forwarded-for": "6.6.6.6",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "1",
        forwarded: "for=6.6.6.6",
      },
    });
    const seen = echoedHeaders(reply);
    assert.equal(seen["host"], "hub.example:8000");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen["x-forwarded-host"], "hub.example:8000");
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.equal(seen["x-forwarded-port"], "8000");
    assert.equal(seen["forwarded"], undefined);
  });

  it("drops hop-by-hop headers both ways, including those named in Connection", async () => {
    const reply = await send(gateway.port, "/user/alice/x", {
      headers: {
        ...ALICE,
        connection: "keep-alive, x-secret-hop",
        "x-secret-hop": "1",
        "proxy-authorization": "p",
        te: "trailers",
      },
    });
    const seen = echoedHeaders(reply);
    assert.equal(seen["x-secret-hop"], undefined);
    assert.equal(seen["proxy-authorization"], undefined);
    assert.equal(seen["te"], undefined);
    assert.equal(reply.headers["x-private"], undefined, "a response header named in Connection leaked");
  });

  it("removes hub cookies a user's server tries to set and keeps its own", async () => {
    const reply = await send(gateway.port, "/user/alice/x", { headers: ALICE });
    assert.deepEqual(reply.headers["set-cookie"], ["_xsrf=server-xsrf; Path=/"]);
  });

  it("forwards the path and query exactly as the client sent them", async () => {
    await send(gateway.port, "/user/alice/api/contents/dir%2Fa%20b.ipynb?content=1&x=%2e%2e", {
      headers: ALICE,
    });
    assert.equal(alice.requests.at(-1)?.url, "/user/alice/api/contents/dir%2Fa%20b.ipynb?content=1&x=%2e%2e");
  });

  it("answers HEAD without a body", async () => {
    const reply = await send(gateway.port, "/user/alice/big", { method: "HEAD", headers: ALICE });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-length"], String(ONE_MIB));
    assert.equal(reply.body.length, 0);
  });
});

describe("the proxy behind a trusted front proxy", () => {
  let alice: Backend;
  let gateway: Gateway;

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway({ trustForwarded: true });
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("keeps X-Forwarded-* from the front proxy and appends the peer to X-Forwarded-For", async () => {
    const seen = echoedHeaders(
      await send(gateway.port, "/user/alice/x", {
        headers: {
          ...ALICE,
          "x-forwarded-for": "192.0.2.7",
          "x-forwarded-proto": "https",
          "x-forwarded-host": "jupyter.example.org",
        },
      }),
    );
    assert.equal(seen["x-forwarded-for"], "192.0.2.7, 127.0.0.1");
    assert.equal(seen["x-forwarded-proto"], "https");
    assert.equal(seen["x-forwarded-host"], "jupyter.example.org");
    assert.equal(typeof seen["x-forwarded-port"], "string");
  });
});

describe("the proxy's streaming and connection reuse", () => {
  let alice: Backend;
  let gateway: Gateway;

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("reuses connections to a user's server across requests", async () => {
    const before = alice.connections;
    for (let i = 0; i < 20; i += 1) {
      const reply = await send(gateway.port, `/user/alice/api/n${i}`, { headers: ALICE });
      assert.equal(reply.status, 200);
    }
    assert.ok(alice.connections - before < 20, `${alice.connections - before} connections for 20 requests`);
    assert.ok(alice.connections - before <= 2);
  });

  it("passes a 1 MiB response through intact", async () => {
    const reply = await send(gateway.port, "/user/alice/big", { headers: ALICE });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, ONE_MIB);
    assert.ok(reply.body.equals(pattern(ONE_MIB)));
  });

  it("passes a 1 MiB request body through intact, with a length or chunked", async () => {
    const body = pattern(ONE_MIB);
    const sized = await send(gateway.port, "/user/alice/api/upload", {
      method: "POST",
      headers: { ...ALICE, origin: ORIGIN, "content-length": body.length },
      body,
    });
    assert.ok(sized.body.equals(body));
    const chunked = await send(gateway.port, "/user/alice/api/upload", {
      method: "PUT",
      headers: { ...ALICE, origin: ORIGIN, "transfer-encoding": "chunked" },
      body,
    });
    assert.equal(chunked.status, 200);
    assert.ok(chunked.body.equals(body));
  });
});

describe("the proxy when a server answers before reading the body", () => {
  let alice: Backend;
  let gateway: Gateway;

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", alice.target));
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("relays the early answer and keeps the client's connection usable", { timeout: 10_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = pattern(ONE_MIB);
      const early = await send(gateway.port, "/user/alice/api/early", {
        method: "POST",
        headers: { ...ALICE, origin: ORIGIN, "content-length": body.length },
        body,
        agent,
      });
      assert.equal(early.status, 413);
      const next = await send(gateway.port, "/user/alice/api/status", { headers: ALICE, agent });
      assert.equal(next.status, 200);
      assert.equal(alice.requests.at(-1)?.url, "/user/alice/api/status");
    } finally {
      agent.destroy();
    }
  });
});

describe("the proxy's activity and metrics", () => {
  let alice: Backend;
  let gateway: Gateway;
  const requests: StatusClass[] = [];
  const upgrades: UpgradeOutcome[] = [];
  const metrics: ProxyMetrics = {
    request: (statusClass) => requests.push(statusClass),
    upgrade: (outcome) => upgrades.push(outcome),
  };

  before(async () => {
    alice = await startBackend();
    gateway = await startGateway({ metrics });
    gateway.proxy.routes.setRoute(route(7, "alice", "", alice.target));
  });

  after(async () => {
    await gateway.close();
    await alice.close();
  });

  it("counts a successful response as activity of the server's owner at the clock's time", async () => {
    gateway.proxy.drainActivity();
    gateway.clock = new Date("2026-02-01T10:00:00Z");
    await send(gateway.port, "/user/alice/api/status", { headers: ALICE });
    gateway.clock = new Date("2026-02-01T10:05:00Z");
    await send(gateway.port, "/user/alice/api/status", { headers: ALICE });
    assert.deepEqual(gateway.proxy.drainActivity(), [
      { serverId: 7, userName: "alice", at: new Date("2026-02-01T10:05:00Z") },
    ]);
    assert.deepEqual(gateway.proxy.drainActivity(), []);
  });

  it("does not count a 404 or a refused request as activity", async () => {
    gateway.proxy.drainActivity();
    const missing = await send(gateway.port, "/user/alice/missing", { headers: ALICE });
    assert.equal(missing.status, 404);
    const refused = await send(gateway.port, "/user/alice/api/status");
    assert.equal(refused.status, 401);
    assert.deepEqual(gateway.proxy.drainActivity(), []);
  });

  it("counts requests by status class", async () => {
    requests.length = 0;
    await send(gateway.port, "/user/alice/api/status", { headers: ALICE });
    await send(gateway.port, "/user/alice/missing", { headers: ALICE });
    await send(gateway.port, "/user/alice/api/status", { headers: { accept: "text/html" } });
    await send(gateway.port, "/user/alice/%2e%2e/", { headers: ALICE });
    assert.deepEqual(requests, ["2xx", "4xx", "3xx", "4xx"]);
  });
});

describe("the proxy when a user's server is down", () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await startGateway();
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

describe("the proxy on a route miss", () => {
  let alice: Backend;
  let gateway: Gateway;
  let answer: { route: ReturnType<typeof route> | undefined };
  let lookups: number;

  before(async () => {
    alice = await startBackend();
    answer = { route: undefined };
    lookups = 0;
    gateway = await startGateway({
      resolveMiss: (owner, serverName) => {
        lookups += 1;
        gateway.misses.push({ owner, serverName });
        return Promise.resolve(answer.route);
      },
    });
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
    const second = await send(gateway.port, "/user/alice/gpu/lab", { headers: ALICE });
    assert.equal(second.status, 200);
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

describe("the proxy with a hub-supplied not-running page and an asynchronous authenticate", () => {
  let gateway: Gateway;
  const calls: [string, string][] = [];

  before(async () => {
    const authenticate = fakeAuthenticate(["alice"]);
    gateway = await startGateway({
      authenticate: (req) => Promise.resolve(authenticate(req)),
      notRunning: (_req, res, owner, serverName) => {
        calls.push([owner, serverName]);
        res.writeHead(503, { "content-type": "text/plain" });
        res.end("start it?");
      },
    });
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
});
