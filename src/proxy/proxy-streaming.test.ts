import assert from "node:assert/strict";
import { Agent } from "node:http";
import type { Socket } from "node:net";
import { after, before, it } from "node:test";
import { assertTookPath, describeOnBothPaths, serveOnPath } from "./both-paths-fixture.js";
import type { ProxyMetrics, StatusClass, UpgradeOutcome } from "./proxy-metrics.js";
import {
  ONE_MIB,
  ORIGIN,
  pattern,
  route,
  send,
  startBackend,
  startGateway,
  type Gateway,
} from "./proxy-test-fixture.js";
import {
  RawClient,
  exchange,
  headerValues,
  readSlowly,
  startRawBackend,
  urlOf,
  type RawBackend,
  type RawRequest,
} from "./raw-http-fixture.js";

const ALICE = { cookie: "slipway-session=alice" };
const COOKIE_LINE = "Cookie: slipway-session=alice\r\n";
/** Larger than the kernel's socket buffers on both sides, so that the relay's writes back up. */
const LARGE = pattern(8 * 1024 * 1024 + 17);

/** `LARGE` in chunks of uneven sizes, so that chunk boundaries fall anywhere in the proxy's reads. */
function chunkedLarge(): Buffer {
  const parts: Buffer[] = [];
  let size = 1;
  for (let at = 0; at < LARGE.length; size = (size * 7 + 12345) % 150000) {
    const chunk = LARGE.subarray(at, at + size + 1);
    parts.push(
      Buffer.from(`${chunk.length.toString(16)}\r\n`, "latin1"),
      chunk,
      Buffer.from("\r\n", "latin1"),
    );
    at += chunk.length;
  }
  parts.push(Buffer.from("0\r\n\r\n", "latin1"));
  return Buffer.concat(parts);
}

function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: hub.example\r\n${COOKIE_LINE}${extra}\r\n`;
}

/** Scripted answers of a user's server, by path. */
function respond(request: RawRequest, socket: Socket): void {
  const path = urlOf(request).slice("/user/alice/".length).split("?")[0];
  switch (path) {
    case "length":
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
      return;
    case "slow":
      setTimeout(() => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow`), 30);
      return;
    case "large":
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${LARGE.length}\r\n\r\n`);
      socket.write(LARGE);
      return;
    case "large-chunked":
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      socket.write(chunkedLarge());
      return;
    case "stale":
      // Keeps the first request's connection, then drops it on the next request without a word,
      // as a server that timed the idle connection out just as the proxy reused it.
      if (request.onConnection > 0) socket.destroy();
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return;
    default: {
      // Echo: the head the server received, then the body.
      const echoed = Buffer.concat([Buffer.from(`${request.head}\r\n\r\n`, "latin1"), request.body]);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${echoed.length}\r\n\r\n`);
      socket.write(echoed);
    }
  }
}

describeOnBothPaths("the proxy's streaming and connection reuse", (path) => {
  const suite = serveOnPath(path, startBackend);

  it("reuses connections to a user's server across requests", async () => {
    const before = suite.server.connections;
    const mark = suite.gateway.nodeHttp.length;
    for (let i = 0; i < 20; i += 1) {
      const reply = await send(suite.gateway.port, `/user/alice/api/n${i}`, { headers: ALICE });
      assert.equal(reply.status, 200);
    }
    assert.ok(
      suite.server.connections - before <= 2,
      `${suite.server.connections - before} connections for 20 requests`,
    );
    assertTookPath(path, suite.gateway, mark, 20);
  });

  it("passes a 1 MiB response through intact", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/big", { headers: ALICE });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, ONE_MIB);
    assert.ok(reply.body.equals(pattern(ONE_MIB)));
  });

  it("passes a 1 MiB request body through intact, with a length or chunked", async () => {
    const body = pattern(ONE_MIB);
    const sized = await send(suite.gateway.port, "/user/alice/api/upload", {
      method: "POST",
      headers: { ...ALICE, origin: ORIGIN, "content-length": body.length },
      body,
    });
    assert.ok(sized.body.equals(body));
    const chunked = await send(suite.gateway.port, "/user/alice/api/upload", {
      method: "PUT",
      headers: { ...ALICE, origin: ORIGIN, "transfer-encoding": "chunked" },
      body,
    });
    assert.equal(chunked.status, 200);
    assert.ok(chunked.body.equals(body));
  });

  it(
    "relays an early answer to an upload and keeps the client's connection usable",
    { timeout: 10_000 },
    async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const body = pattern(ONE_MIB);
        const early = await send(suite.gateway.port, "/user/alice/api/early", {
          method: "POST",
          headers: { ...ALICE, origin: ORIGIN, "content-length": body.length },
          body,
          agent,
        });
        assert.equal(early.status, 413);
        const next = await send(suite.gateway.port, "/user/alice/api/status", { headers: ALICE, agent });
        assert.equal(next.status, 200);
        assert.equal(suite.server.requests.at(-1)?.url, "/user/alice/api/status");
      } finally {
        agent.destroy();
      }
    },
  );
});

describeOnBothPaths("the proxy's relaying on one client connection", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respond));

  it("answers pipelined requests strictly in order", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(get("/user/alice/slow") + get("/user/alice/length") + get("/user/alice/echo?n=3"));
      assert.equal((await client.response()).body.toString(), "slow");
      assert.equal((await client.response()).body.toString(), "hello");
      assert.match((await client.response()).body.toString(), /^GET \/user\/alice\/echo\?n=3 /);
    } finally {
      client.socket.destroy();
    }
  });

  it("forwards a request body by its Content-Length", async () => {
    const body = Buffer.alloc(300_000, 7);
    const mark = suite.gateway.nodeHttp.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(
        `POST /user/alice/upload HTTP/1.1\r\nHost: a\r\n${COOKIE_LINE}Origin: ${ORIGIN}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      client.write(body);
      const reply = await client.response();
      assert.equal(reply.status, 200);
      assert.ok(reply.body.subarray(reply.body.length - body.length).equals(body));
      assert.ok(suite.server.requests.at(-1)?.body.equals(body));
      assertTookPath(path, suite.gateway, mark);
    } finally {
      client.socket.destroy();
    }
  });

  it("closes the connection after a response when the client asked to", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    client.write(get("/user/alice/length", "Connection: close\r\n"));
    const reply = await client.response();
    assert.equal(reply.header("connection"), "close");
    await client.closed;
  });

  function bodyOf(reply: Buffer): Buffer {
    const end = reply.indexOf("\r\n\r\n");
    const head = reply.subarray(0, end).toString("latin1");
    let body = reply.subarray(end + 4);
    if (headerValues(head, "transfer-encoding")[0] !== "chunked") return body;
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = body.indexOf("\r\n");
      const size = parseInt(body.subarray(0, lineEnd).toString("latin1"), 16);
      if (size === 0) return Buffer.concat(parts);
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      body = body.subarray(lineEnd + 2 + size + 2);
    }
  }

  it("relays large responses whole and unaltered to clients that read slowly, two at once", async () => {
    const replies = await Promise.all(
      ["/user/alice/large", "/user/alice/large-chunked"].map((url) =>
        readSlowly(suite.gateway.port, get(url, "Connection: close\r\n")),
      ),
    );
    for (const reply of replies) {
      const body = bodyOf(reply);
      assert.equal(body.length, LARGE.length);
      assert.ok(body.equals(LARGE), "the body differs from what the server sent");
    }
  });
});

describeOnBothPaths("the proxy's one retry on a stale connection", (path) => {
  let backend: RawBackend | undefined;
  let gateway: Gateway;

  before(async () => {
    gateway = await startGateway({}, { fastPath: path.fastPath });
  });

  // A server of its own for each case, so that its pool starts empty.
  async function freshBackend(): Promise<RawBackend> {
    await backend?.close();
    const fresh = await startRawBackend(respond);
    gateway.proxy.routes.setRoute(route(1, "alice", "", fresh.target));
    backend = fresh;
    return fresh;
  }

  after(async () => {
    await gateway.close();
    await backend?.close();
  });

  it("sends a GET once more on a fresh connection when a pooled one turns out stale", async () => {
    const fresh = await freshBackend();
    const first = await exchange(gateway.port, get("/user/alice/stale"));
    assert.equal(first.status, 200);
    gateway.targetErrors.length = 0;
    const second = await exchange(gateway.port, get("/user/alice/stale"));
    assert.equal(second.status, 200);
    assert.equal(second.body.toString(), "ok");
    assert.equal(gateway.targetErrors.length, 0);
    assert.deepEqual(
      fresh.requests.map((r) => r.onConnection),
      [0, 1, 0],
    );
  });

  it("does not send a POST twice: a stale connection under it is a 502", async () => {
    const fresh = await freshBackend();
    const post = `POST /user/alice/stale HTTP/1.1\r\nHost: a\r\n${COOKIE_LINE}Origin: ${ORIGIN}\r\nContent-Length: 1\r\n\r\nx`;
    assert.equal((await exchange(gateway.port, post)).status, 200);
    assert.equal((await exchange(gateway.port, post)).status, 502);
    assert.deepEqual(
      fresh.requests.map((r) => r.onConnection),
      [0, 1],
    );
  });
});

describeOnBothPaths("the proxy's activity and metrics", (path) => {
  const requests: StatusClass[] = [];
  const upgrades: UpgradeOutcome[] = [];
  const metrics: ProxyMetrics = {
    request: (statusClass) => requests.push(statusClass),
    upgrade: (outcome) => upgrades.push(outcome),
  };
  const suite = serveOnPath(path, startBackend, { proxy: { metrics } });

  it("counts a successful response as activity of the server's owner at the clock's time", async () => {
    suite.gateway.proxy.drainActivity();
    suite.gateway.clock = new Date("2026-02-01T10:00:00Z");
    await send(suite.gateway.port, "/user/alice/api/status", { headers: ALICE });
    suite.gateway.clock = new Date("2026-02-01T10:05:00Z");
    await send(suite.gateway.port, "/user/alice/api/status", { headers: ALICE });
    assert.deepEqual(suite.gateway.proxy.drainActivity(), [
      { serverId: 1, userName: "alice", at: new Date("2026-02-01T10:05:00Z") },
    ]);
    assert.deepEqual(suite.gateway.proxy.drainActivity(), []);
  });

  it("does not count a 404 or a refused request as activity", async () => {
    suite.gateway.proxy.drainActivity();
    const missing = await send(suite.gateway.port, "/user/alice/missing", { headers: ALICE });
    assert.equal(missing.status, 404);
    const refused = await send(suite.gateway.port, "/user/alice/api/status");
    assert.equal(refused.status, 401);
    assert.deepEqual(suite.gateway.proxy.drainActivity(), []);
  });

  it("counts requests by status class", async () => {
    requests.length = 0;
    await send(suite.gateway.port, "/user/alice/api/status", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/missing", { headers: ALICE });
    await send(suite.gateway.port, "/user/alice/api/status", { headers: { accept: "text/html" } });
    await send(suite.gateway.port, "/user/alice/%2e%2e/", { headers: ALICE });
    assert.deepEqual(requests, ["2xx", "4xx", "3xx", "4xx"]);
  });
});
