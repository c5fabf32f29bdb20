import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { RawClient, startRawBackend, urlOf, type RawBackend, type RawRequest } from "./fast-path-fixture.js";
import { ORIGIN, fakeAuthenticate, route, startGateway, type Gateway } from "./proxy-test-fixture.js";

const ALICE = "Cookie: slipway-session=alice\r\n";

function respond(request: RawRequest, socket: Socket): void {
  const path = urlOf(request).slice("/user/alice/".length);
  switch (path) {
    case "cut-length":
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
      setImmediate(() => socket.destroy());
      return;
    case "cut-chunked":
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwo");
      setImmediate(() => socket.destroy());
      return;
    case "both-framings":
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
      return;
    case "bad-chunk":
      socket.write(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5 \r\nworld\r\n0\r\n\r\n",
      );
      return;
    case "stale":
      // Keeps the first request's connection, then drops it on the next request without a word,
      // as a server that timed the idle connection out just as the proxy reused it.
      if (request.onConnection > 0) socket.destroy();
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return;
    default: {
      const body = `${request.head.split("\r\n")[0] ?? ""}|${request.body.toString("latin1")}`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  }
}

async function exchangeRaw(port: number, bytes: string): Promise<string> {
  const client = await RawClient.connect(port);
  client.write(bytes);
  client.socket.end();
  await client.closed;
  return client.unread.toString("latin1");
}

describe("the fast path against request smuggling and malformed heads", () => {
  let backend: RawBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startRawBackend(respond);
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
    gateway.proxy.routes.setRoute(route(2, "bob", "", backend.target));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  for (const [name, head] of [
    ["whitespace before a colon", `GET /user/alice/x HTTP/1.1\r\nHost : a\r\n${ALICE}\r\n`],
    ["a space in a header name", `GET /user/alice/x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n${ALICE}\r\n`],
    ["an obs-fold", `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}X-A: b\r\n c\r\n\r\n`],
    ["bare LF line ends", `GET /user/alice/x HTTP/1.1\nHost: a\n${ALICE.replace("\r\n", "\n")}\n`],
    ["a NUL in a value", `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}X: a\0b\r\n\r\n`],
    ["no Host", `GET /user/alice/x HTTP/1.1\r\n${ALICE}\r\n`],
  ]) {
    it(`hands a head with ${name} to node:http, which answers 400, and forwards nothing`, async () => {
      const before = backend.requests.length;
      const answer = await exchangeRaw(gateway.port, head ?? "");
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.equal(backend.requests.length, before);
    });
  }

  it("never forwards a request with both Content-Length and Transfer-Encoding", async () => {
    const before = backend.requests.length;
    const answer = await exchangeRaw(
      gateway.port,
      `POST /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\nContent-Length: 5\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /user/bob/smuggled HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(backend.requests.length, before);
  });

  it("never forwards a request with two Content-Lengths", async () => {
    const before = backend.requests.length;
    const answer = await exchangeRaw(
      gateway.port,
      `POST /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\nContent-Length: 0\r\n` +
        "Content-Length: 44\r\n\r\nGET /user/bob/smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(backend.requests.length, before);
  });

  it("forwards a chunked request body through node:http, which frames it anew", async () => {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(
        `POST /user/alice/echo HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `5\r\nhello\r\n0\r\n\r\nGET /user/alice/after HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`,
      );
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.equal((await client.response()).body.toString(), "GET /user/alice/after HTTP/1.1|");
    } finally {
      client.socket.destroy();
    }
  });

  it("reads a body by its Content-Length only: what follows is the next request, and goes through the gate", async () => {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(
        `POST /user/alice/echo HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\nContent-Length: 5\r\n\r\n` +
          `helloGET /user/bob/smuggled HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`,
      );
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.equal((await client.response()).status, 403);
      assert.ok(!backend.requests.some((r) => urlOf(r).includes("smuggled")));
    } finally {
      client.socket.destroy();
    }
  });
});

describe("the fast path when a user's server misbehaves", () => {
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

  for (const path of ["cut-length", "cut-chunked", "bad-chunk"]) {
    it(`cuts the client off when the response breaks mid-body (${path}), never ending it cleanly`, async () => {
      const client = await RawClient.connect(gateway.port);
      client.write(`GET /user/alice/${path} HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
      await assert.rejects(client.response(), /closed before the response was complete/);
      await client.closed;
    });
  }

  it("answers 502 to a response whose framing is ambiguous and reports the server", async () => {
    gateway.targetErrors.length = 0;
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(`GET /user/alice/both-framings HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
      const reply = await client.response();
      assert.equal(reply.status, 502);
      assert.match(reply.body.toString(), /server_unreachable/);
      assert.equal(Reflect.get(gateway.targetErrors[0]?.error ?? {}, "code"), "HPE_INVALID_RESPONSE");
    } finally {
      client.socket.destroy();
    }
  });

  it("sends a GET once more on a fresh connection when a pooled one turns out stale", async () => {
    const first = await exchangeRaw(
      gateway.port,
      `GET /user/alice/stale HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`,
    );
    assert.match(first, /^HTTP\/1\.1 200 /);
    gateway.targetErrors.length = 0;
    const second = await exchangeRaw(
      gateway.port,
      `GET /user/alice/stale HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`,
    );
    assert.match(second, /^HTTP\/1\.1 200 [^]*ok$/);
    assert.equal(gateway.targetErrors.length, 0);
    assert.deepEqual(
      backend.requests.filter((r) => urlOf(r).endsWith("/stale")).map((r) => r.onConnection),
      [0, 1, 0],
    );
  });

  it("does not send a POST twice: a stale connection under it is a 502", async () => {
    // A server of its own, so that the pool starts empty.
    const fresh = await startRawBackend(respond);
    gateway.proxy.routes.setRoute(route(1, "alice", "", fresh.target));
    try {
      const post = `POST /user/alice/stale HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\nContent-Length: 1\r\n\r\nx`;
      assert.match(await exchangeRaw(gateway.port, post), /^HTTP\/1\.1 200 /);
      assert.match(await exchangeRaw(gateway.port, post), /^HTTP\/1\.1 502 /);
      assert.deepEqual(
        fresh.requests.map((r) => r.onConnection),
        [0, 1],
      );
    } finally {
      gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
      await fresh.close();
    }
  });
});

describe("the fast path's timeouts and closing", () => {
  let backend: RawBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startRawBackend(respond);
    gateway = await startGateway({}, { server: { headersTimeout: 300, keepAliveTimeout: 60_000 } });
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  it("answers 408 and closes when a head trickles in too slowly", async () => {
    const client = await RawClient.connect(gateway.port);
    client.write("GET /user/alice/x HTTP/1.1\r\nHost: a\r\n");
    // Each byte on its own, well within any idle timeout: only the deadline for the whole head stops it.
    const drip = setInterval(() => client.socket.write("X"), 20);
    await client.closed;
    clearInterval(drip);
    assert.match(client.unread.toString("latin1"), /^HTTP\/1\.1 408 /);
    assert.equal(backend.requests.length, 0);
  });

  it("closeAll destroys connections served by the fast path", async () => {
    const client = await RawClient.connect(gateway.port);
    client.write(`GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
    assert.equal((await client.response()).status, 200);
    gateway.frontDoor.closeAll();
    await client.closed;
  });

  it("close destroys idle fast-path connections and stops listening", async () => {
    const other = await startGateway();
    other.proxy.routes.setRoute(route(1, "alice", "", backend.target));
    const client = await RawClient.connect(other.port);
    client.write(`GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
    assert.equal((await client.response()).status, 200);
    const closing = other.close();
    await Promise.all([client.closed, closing, once(other.frontDoor.server, "close")]);
  });
});

describe("the fast path with an asynchronous authenticate", () => {
  let backend: RawBackend;
  let gateway: Gateway;
  const viaNodeHttp: string[] = [];

  before(async () => {
    backend = await startRawBackend(respond);
    const authenticate = fakeAuthenticate(["alice"]);
    gateway = await startGateway({ authenticate: (req) => Promise.resolve(authenticate(req)) });
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
    gateway.frontDoor.server.on("request", (req: { url?: string }) => viaNodeHttp.push(req.url ?? ""));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  it("waits for the answer and forwards on the fast path", async () => {
    const answer = await exchangeRaw(gateway.port, `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.deepEqual(viaNodeHttp, []);
  });

  it("gives a refused request to node:http, which answers it", async () => {
    const answer = await exchangeRaw(gateway.port, "GET /user/alice/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.deepEqual(viaNodeHttp, ["/user/alice/x"]);
  });
});
