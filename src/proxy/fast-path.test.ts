import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  RawClient,
  headerValues,
  startRawBackend,
  urlOf,
  type RawBackend,
  type RawRequest,
} from "./fast-path-fixture.js";
import { ORIGIN, pattern, route, startGateway, type Gateway } from "./proxy-test-fixture.js";

const COOKIE = "slipway-session=alice";
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
  return `GET ${path} HTTP/1.1\r\nHost: hub.example\r\nCookie: ${COOKIE}\r\n${extra}\r\n`;
}

/** Scripted answers of a user's server, by path. */
function respond(request: RawRequest, socket: Socket): void {
  const url = urlOf(request);
  const head = request.head.startsWith("HEAD ");
  const path = url.slice("/user/alice/".length).split("?")[0];
  switch (path) {
    case "length":
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n${head ? "" : "hello"}`,
      );
      return;
    case "chunked":
      socket.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhel",
      );
      setImmediate(() => socket.write("lo\r\n6\r\n world\r\n0"));
      setImmediate(() => setImmediate(() => socket.write("\r\nX-Trailer: t\r\n\r\n")));
      return;
    case "close":
      socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server closes");
      return;
    case "no-content":
      socket.write("HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n");
      return;
    case "not-modified":
      socket.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n');
      return;
    case "hints":
      socket.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
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
    case "cookies":
      socket.write(
        "HTTP/1.1 200 OK\r\nSet-Cookie: slipway-session=planted; Path=/\r\nSet-Cookie: _xsrf=ok; Path=/\r\n" +
          "Connection: x-private\r\nX-Private: hop\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    default: {
      // Echo: the head the server received, then the body.
      const echoed = Buffer.concat([Buffer.from(`${request.head}\r\n\r\n`, "latin1"), request.body]);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${echoed.length}\r\n\r\n`);
      socket.write(echoed);
    }
  }
}

describe("the front door's fast path", () => {
  let backend: RawBackend;
  let gateway: Gateway;
  /** Requests `node:http` parsed; the fast path parses its own. */
  let viaNodeHttp: string[];

  before(async () => {
    backend = await startRawBackend(respond);
    gateway = await startGateway();
    gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
    viaNodeHttp = [];
    gateway.frontDoor.server.on("request", (req: { url?: string }) => viaNodeHttp.push(req.url ?? ""));
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  async function exchange(
    request: string,
    method = "GET",
  ): Promise<Awaited<ReturnType<RawClient["response"]>>> {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(request);
      return await client.response(method);
    } finally {
      client.socket.destroy();
    }
  }

  it("relays a response framed by Content-Length without node:http", async () => {
    const before = viaNodeHttp.length;
    const reply = await exchange(get("/user/alice/length"));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "hello");
    assert.equal(reply.header("content-length"), "5");
    assert.equal(viaNodeHttp.length, before);
  });

  it("relays a chunked response, split anywhere, whole and without its trailers", async () => {
    const reply = await exchange(get("/user/alice/chunked"));
    assert.equal(reply.header("transfer-encoding"), "chunked");
    assert.equal(reply.body.toString(), "hello world");
  });

  it("relays a response that ends when the server closes, then closes the client's connection", async () => {
    const client = await RawClient.connect(gateway.port);
    client.write(get("/user/alice/close"));
    const reply = await client.response();
    assert.equal(reply.body.toString(), "until the server closes");
    assert.equal(reply.header("connection"), "close");
    await client.closed;
  });

  it("answers HEAD, 204 and 304 with no body and keeps the connection", async () => {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write("HEAD /user/alice/length HTTP/1.1\r\nHost: a\r\nCookie: slipway-session=alice\r\n\r\n");
      const head = await client.response("HEAD");
      assert.equal(head.header("content-length"), "5");
      client.write(get("/user/alice/no-content"));
      const none = await client.response();
      assert.equal(none.status, 204);
      assert.equal(none.header("x-kind"), "none");
      client.write(get("/user/alice/not-modified"));
      const same = await client.response();
      assert.equal(same.status, 304);
      client.write(get("/user/alice/length"));
      assert.equal((await client.response()).body.toString(), "hello");
      assert.equal(client.unread.length, 0, "bytes beyond the responses reached the client");
    } finally {
      client.socket.destroy();
    }
  });

  it("drops an informational 103 and relays the final response", async () => {
    const reply = await exchange(get("/user/alice/hints"));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "ok");
  });

  it("forwards a request body by its Content-Length", async () => {
    const body = Buffer.alloc(300_000, 7);
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(
        `POST /user/alice/upload HTTP/1.1\r\nHost: a\r\nCookie: ${COOKIE}\r\nOrigin: ${ORIGIN}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      client.write(body);
      const reply = await client.response();
      assert.equal(reply.status, 200);
      assert.ok(reply.body.subarray(reply.body.length - body.length).equals(body));
      assert.ok(backend.requests.at(-1)?.body.equals(body));
    } finally {
      client.socket.destroy();
    }
  });

  it("answers pipelined requests strictly in order", async () => {
    const client = await RawClient.connect(gateway.port);
    try {
      client.write(get("/user/alice/slow") + get("/user/alice/length") + get("/user/alice/echo?n=3"));
      assert.equal((await client.response()).body.toString(), "slow");
      assert.equal((await client.response()).body.toString(), "hello");
      assert.match((await client.response()).body.toString(), /^GET \/user\/alice\/echo\?n=3 /);
    } finally {
      client.socket.destroy();
    }
  });

  it("hands a connection to node:http at the first request it does not take, bytes and all", async () => {
    const before = viaNodeHttp.length;
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
    assert.deepEqual(viaNodeHttp.slice(before), [
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

  it("never lets the hub's cookies or the caller's Authorization reach the server; sends the server's token", async () => {
    const reply = await exchange(
      "GET /user/alice/echo HTTP/1.1\r\nHost: a\r\nAuthorization: token tok-alice\r\n" +
        "Cookie: __Host-slipway-session=s1; _xsrf=jupyter; slipway-session=s2; _slipway_xsrf=x\r\n\r\n",
    );
    assert.equal(reply.status, 200);
    const seen = backend.requests.at(-1)?.head ?? "";
    assert.deepEqual(headerValues(seen, "authorization"), ["token server-token-1"]);
    assert.deepEqual(headerValues(seen, "cookie"), ["_xsrf=jupyter"]);
    assert.deepEqual(headerValues(seen, "x-forwarded-for"), ["127.0.0.1"]);
    assert.deepEqual(headerValues(seen, "x-forwarded-proto"), ["http"]);
    assert.deepEqual(headerValues(seen, "host"), ["a"]);
  });

  it("drops the hub's cookies a server sets, and hop-by-hop headers", async () => {
    const reply = await exchange(get("/user/alice/cookies"));
    assert.deepEqual(headerValues(reply.head, "set-cookie"), ["_xsrf=ok; Path=/"]);
    assert.equal(reply.header("x-private"), undefined);
  });

  it("closes the connection after a response when the client asked to", async () => {
    const client = await RawClient.connect(gateway.port);
    client.write(get("/user/alice/length", "Connection: close\r\n"));
    const reply = await client.response();
    assert.equal(reply.header("connection"), "close");
    await client.closed;
  });

  /** Reads one response to `path`, taking each chunk only after the event loop has turned. */
  async function slowRead(path: string): Promise<Buffer> {
    const client = await RawClient.connect(gateway.port);
    const socket = client.socket;
    socket.removeAllListeners("data");
    const chunks: Buffer[] = [];
    let received = 0;
    const whole = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= LARGE.length) resolve();
        socket.pause();
        setImmediate(() => socket.resume());
      });
    });
    client.write(get(path, "Connection: close\r\n"));
    await Promise.race([whole, client.closed]);
    await client.closed;
    return Buffer.concat(chunks);
  }

  it("relays large responses whole and unaltered to clients that read slowly, several at once", async () => {
    const replies = await Promise.all([
      slowRead("/user/alice/large"),
      slowRead("/user/alice/large-chunked"),
      slowRead("/user/alice/large"),
      slowRead("/user/alice/large-chunked"),
    ]);
    for (const reply of replies) {
      const end = reply.indexOf("\r\n\r\n");
      const head = reply.subarray(0, end).toString("latin1");
      let body = reply.subarray(end + 4);
      if (headerValues(head, "transfer-encoding")[0] === "chunked") {
        const parts: Buffer[] = [];
        for (;;) {
          const lineEnd = body.indexOf("\r\n");
          const size = parseInt(body.subarray(0, lineEnd).toString("latin1"), 16);
          if (size === 0) break;
          parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
          body = body.subarray(lineEnd + 2 + size + 2);
        }
        body = Buffer.concat(parts);
      }
      assert.equal(body.length, LARGE.length);
      assert.ok(body.equals(LARGE), "the body differs from what the server sent");
    }
  });

  it("keeps the read buffers of large responses for the next ones until the hub lets go of them", async () => {
    gateway.proxy.releaseSpareBuffers();
    await Promise.all([slowRead("/user/alice/large"), slowRead("/user/alice/large-chunked")]);
    assert.ok(gateway.proxy.spareBufferBytes > 0, "no read buffer came back to the stock");
    gateway.proxy.releaseSpareBuffers();
    assert.equal(gateway.proxy.spareBufferBytes, 0);
    const again = await exchange(get("/user/alice/large"));
    assert.equal(again.status, 200);
  });

  it("counts activity as the node:http path does", async () => {
    gateway.proxy.drainActivity();
    gateway.clock = new Date("2026-04-01T08:00:00Z");
    await exchange(get("/user/alice/length"));
    assert.deepEqual(gateway.proxy.drainActivity(), [
      { serverId: 1, userName: "alice", at: new Date("2026-04-01T08:00:00Z") },
    ]);
  });
});
