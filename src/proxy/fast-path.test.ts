import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { fakeAuthenticate, pattern, route, startGateway, type Gateway } from "./proxy-test-fixture.js";
import {
  RawClient,
  exchange,
  readSlowly,
  startRawBackend,
  untilClosed,
  urlOf,
  type RawBackend,
  type RawRequest,
} from "./raw-http-fixture.js";

/*
 * What only the fast path does: serving requests without `node:http`, handing a connection over
 * mid-stream, keeping read buffers. How it answers is checked against `node:http`, case by case,
 * in the suites that run on both paths (`describeOnBothPaths`).
 */

const COOKIE = "slipway-session=alice";
const LARGE = pattern(8 * 1024 * 1024 + 17);

function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: hub.example\r\nCookie: ${COOKIE}\r\n${extra}\r\n`;
}

/** Scripted answers of a user's server, by path. */
function respond(request: RawRequest, socket: Socket): void {
  const path = urlOf(request).slice("/user/alice/".length).split("?")[0];
  switch (path) {
    case "length":
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
      return;
    case "close":
      socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server closes");
      return;
    case "large":
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${LARGE.length}\r\n\r\n`);
      socket.write(LARGE);
      return;
    default: {
      const echoed = Buffer.from(`${request.head}\r\n\r\n`, "latin1");
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${echoed.length}\r\n\r\n`);
      socket.write(echoed);
    }
  }
}

describe("the front door's fast path", () => {
  let backend: RawBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startRawBackend(respond);
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  it("relays a response without node:http", async () => {
    const reply = await exchange(gateway.port, get("/user/alice/length"));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "hello");
    assert.deepEqual(gateway.nodeHttp, []);
  });

  // On purpose unlike node:http, which chunks such a body anew and keeps the connection: the fast
  // path relays the server's bytes as they come and cannot tell the client where they end.
  it("relays a response that ends when the server closes, then closes the client's connection", async () => {
    const client = await RawClient.connect(gateway.port);
    client.write(get("/user/alice/close"));
    const reply = await client.response();
    assert.equal(reply.body.toString(), "until the server closes");
    assert.equal(reply.header("connection"), "close");
    await client.closed;
  });

  it("hands a connection to node:http at the first request it does not take, bytes and all", async () => {
    const before = gateway.nodeHttp.length;
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(get("/user/alice/length"));
      assert.equal((await client.response()).body.toString(), "hello");
      client.write(get("/hub/home"));
      const hub = await client.response();
      assert.equal(hub.status, 404);
      assert.equal(gateway.appHits.at(-1), "/hub/home");
      client.write(get("/user/alice/length"));
      assert.equal((await client.response()).body.toString(), "hello");
      // Pipelined across the hand-off: both answered, in order.
      client.write(get("/user/alice/echo?a") + get("/hub/x") + get("/user/alice/echo?b"));
      assert.match((await client.response()).body.toString(), /echo\?a /);
      assert.equal((await client.response()).status, 404);
      assert.match((await client.response()).body.toString(), /echo\?b /);
    } finally {
      client.socket.destroy();
    }
    assert.deepEqual(gateway.nodeHttp.slice(before), [
      "/hub/home",
      "/user/alice/length",
      "/user/alice/echo?a",
      "/hub/x",
      "/user/alice/echo?b",
    ]);
  });

  it("hands a request with pipelined bytes after it to node:http without losing them", async () => {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(get("/hub/a") + get("/user/alice/length") + get("/hub/b"));
      assert.equal((await client.response()).status, 404);
      assert.equal((await client.response()).body.toString(), "hello");
      assert.equal((await client.response()).status, 404);
    } finally {
      client.socket.destroy();
    }
  });

  it("keeps the read buffers of large responses for the next ones until the hub lets go of them", async () => {
    gateway.proxy.releaseSpareBuffers();
    const large = get("/user/alice/large", "Connection: close\r\n");
    const replies = await Promise.all([readSlowly(gateway.port, large), readSlowly(gateway.port, large)]);
    assert.ok(replies.every((reply) => reply.length > LARGE.length));
    assert.ok(gateway.proxy.spareBufferBytes > 0, "no read buffer came back to the stock");
    gateway.proxy.releaseSpareBuffers();
    assert.equal(gateway.proxy.spareBufferBytes, 0);
    const again = await exchange(gateway.port, get("/user/alice/large"));
    assert.equal(again.status, 200);
  });
});

describe("the fast path with an asynchronous authenticate", () => {
  let backend: RawBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startRawBackend(respond);
    const authenticate = fakeAuthenticate(["alice"]);
    gateway = await startGateway({ authenticate: (req) => Promise.resolve(authenticate(req)) });
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  it("waits for the answer and forwards on the fast path", async () => {
    const reply = await exchange(gateway.port, get("/user/alice/length"));
    assert.equal(reply.status, 200);
    assert.deepEqual(gateway.nodeHttp, []);
  });

  it("gives a refused request to node:http, which answers it", async () => {
    const answer = await untilClosed(gateway.port, "GET /user/alice/x HTTP/1.1\r\nHost: a\r\n\r\n", true);
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.deepEqual(gateway.nodeHttp, ["/user/alice/x"]);
  });
});

describe("the fast path's closing", () => {
  let backend: RawBackend;

  before(async () => {
    backend = await startRawBackend(respond);
  });

  after(async () => {
    await backend.close();
  });

  it("closeAll destroys connections served by the fast path", async () => {
    const gateway = await startGateway();
    try {
      gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
      const client = await RawClient.connect(gateway.port);
      client.write(get("/user/alice/x"));
      assert.equal((await client.response()).status, 200);
      gateway.frontDoor.closeAll();
      await client.closed;
    } finally {
      await gateway.close();
    }
  });

  it("close destroys idle fast-path connections and stops listening", async () => {
    const gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
    const client = await RawClient.connect(gateway.port);
    client.write(get("/user/alice/x"));
    assert.equal((await client.response()).status, 200);
    const closing = gateway.close();
    await Promise.all([client.closed, closing, once(gateway.frontDoor.server, "close")]);
  });
});
