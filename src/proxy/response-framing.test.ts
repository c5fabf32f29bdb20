import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { it } from "node:test";
import { describeOnBothPaths, serveOnPath } from "./both-paths-fixture.js";
import {
  RawClient,
  codeOf,
  startRawBackend,
  urlOf,
  type RawRequest,
  type RawResponse,
} from "./raw-http-fixture.js";

/*
 * How the proxy reads a user's server's response, on both paths: relayed by its framing when
 * that framing is sound, a 502 when it is in doubt (the server is reported), and never a byte
 * of one response taken for part of another. Each case checks what the client received.
 */

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** Responses whose framing is in doubt or that are not HTTP/1.1 at all: each is a 502. */
const BROKEN: Readonly<Record<string, string>> = {
  "two Content-Lengths of the same value":
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
  "two different Content-Lengths": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
  "a Content-Length list": "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
  "Content-Length with Transfer-Encoding":
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  // The coding's name would be lost and its bytes relayed as if they were the body.
  "Transfer-Encoding: gzip, chunked":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "Transfer-Encoding: gzip": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
  "chunked in two Transfer-Encoding headers":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "a 101 to a request that asked for no upgrade":
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw bytes",
  "an HTTP/2.0 status line": "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "an HTTP/1.2 status line": "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "an HTTP/0.9 status line": "HTTP/0.9 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "a two-digit status": "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok",
  "a control byte in the reason phrase": "HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok",
  "an obs-fold": "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
  "whitespace before a colon": "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
  "a non-token header name": "HTTP/1.1 200 OK\r\nX(a): b\r\nContent-Length: 2\r\n\r\nok",
  "a control byte in a header value": "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\nok",
  "a bare CR in a header value": "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok",
  "bare LF line ends": "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
  "a head over 64 KiB": `HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
  "more than 500 header lines": `HTTP/1.1 200 OK\r\n${"X-H: v\r\n".repeat(600)}Content-Length: 2\r\n\r\nok`,
};

/** Responses relayed as the server framed them, by path. */
const SOUND: Readonly<Record<string, string>> = {
  length: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
  "no-content": "HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n",
  "not-modified": 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
  hints: `HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n${OK}`,
  "big-head": `HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`,
  // Bodies the server sends where none may be, and bytes past the end of a body.
  "204-with-body": "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kind: none\r\n\r\nhello",
  "head-with-body": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
  "more-than-length": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more",
  "second-response":
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!",
  "after-chunked":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
};

/** Scripted answers of a user's server, by path; the name of a broken one is its path. */
function respond(request: RawRequest, socket: Socket, late?: (written: Promise<void>) => void): void {
  const path = decodeURIComponent(urlOf(request).slice("/user/alice/case/".length));
  const scripted = SOUND[path] ?? BROKEN[path];
  if (scripted !== undefined) {
    socket.write(Buffer.from(scripted, "latin1"));
    return;
  }
  switch (path) {
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
    case "cut-length":
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
      setImmediate(() => socket.destroy());
      return;
    case "cut-chunked":
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwo");
      setImmediate(() => socket.destroy());
      return;
    case "bad-chunk":
      socket.write(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5 \r\nworld\r\n0\r\n\r\n",
      );
      return;
    case "late":
      // The response, then (once it is relayed and the connection idle) one nobody asked for.
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
      late?.(
        new Promise((resolve) => {
          setTimeout(
            () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!", () => resolve()),
            20,
          );
        }),
      );
      return;
    default:
      socket.write(OK);
  }
}

function get(path: string, method = "GET"): string {
  // Below a `case/` segment: the routing part of a path may hold no encoded byte.
  return `${method} /user/alice/case/${encodeURIComponent(path)} HTTP/1.1\r\nHost: a\r\nCookie: slipway-session=alice\r\n\r\n`;
}

interface Exchanged {
  readonly first: RawResponse;
  readonly second: RawResponse;
  /** Bytes that came after the second response. */
  readonly unread: number;
}

/** Sends a request for `name`, then one for `next`, on one connection of its own; reads both answers. */
async function twoOnOneConnection(port: number, name: string, method = "GET"): Promise<Exchanged> {
  const client = await RawClient.connect(port);
  try {
    client.write(get(name, method));
    const first = await client.response(method);
    client.write(get("next"));
    const second = await client.response();
    return { first, second, unread: client.unread.length };
  } finally {
    client.socket.destroy();
  }
}

describeOnBothPaths("the proxy relaying a soundly framed response", (path) => {
  const suite = serveOnPath(path, () => startRawBackend((request, socket) => respond(request, socket)));

  it("relays a response framed by Content-Length", async () => {
    const { first } = await twoOnOneConnection(suite.gateway.port, "length");
    assert.equal(first.status, 200);
    assert.equal(first.header("content-length"), "5");
    assert.equal(first.body.toString(), "hello");
  });

  it("relays a chunked response, split anywhere, whole and without its trailers", async () => {
    const { first, second } = await twoOnOneConnection(suite.gateway.port, "chunked");
    assert.equal(first.header("transfer-encoding"), "chunked");
    assert.equal(first.body.toString(), "hello world");
    assert.equal(first.header("x-trailer"), undefined);
    assert.equal(second.body.toString(), "ok");
  });

  it("relays a response that ends when the server closes, whole", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(get("close"));
      assert.equal((await client.response()).body.toString(), "until the server closes");
    } finally {
      client.socket.destroy();
    }
  });

  it("answers HEAD, 204 and 304 with no body and keeps the connection", async () => {
    const head = await twoOnOneConnection(suite.gateway.port, "length", "HEAD");
    assert.equal(head.first.header("content-length"), "5");
    assert.equal(head.first.body.length, 0);
    const none = await twoOnOneConnection(suite.gateway.port, "no-content");
    assert.equal(none.first.status, 204);
    assert.equal(none.first.header("x-kind"), "none");
    assert.equal(none.second.body.toString(), "ok");
    const same = await twoOnOneConnection(suite.gateway.port, "not-modified");
    assert.equal(same.first.status, 304);
    assert.equal(same.second.body.toString(), "ok");
  });

  it("drops an informational 103 and relays the final response", async () => {
    const { first } = await twoOnOneConnection(suite.gateway.port, "hints");
    assert.equal(first.status, 200);
    assert.equal(first.body.toString(), "ok");
  });

  it("relays a head of 20 KiB", async () => {
    const { first } = await twoOnOneConnection(suite.gateway.port, "big-head");
    assert.equal(first.status, 200);
    assert.equal(first.header("x-big")?.length, 20_000);
  });
});

describeOnBothPaths("the proxy refusing a response whose framing is in doubt", (path) => {
  const suite = serveOnPath(path, () => startRawBackend((request, socket) => respond(request, socket)));

  for (const what of Object.keys(BROKEN)) {
    it(`answers 502 to a response with ${what}, reports the server and keeps the client's connection`, async () => {
      const reported = suite.gateway.targetErrors.length;
      const { first, second } = await twoOnOneConnection(suite.gateway.port, what);
      assert.equal(first.status, 502);
      assert.equal(codeOf(first.body), "server_unreachable");
      assert.equal(suite.gateway.targetErrors.length, reported + 1);
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), "ok");
    });
  }

  for (const name of ["cut-length", "cut-chunked", "bad-chunk"]) {
    it(`cuts the client off when the response breaks mid-body (${name}), never ending it cleanly`, async () => {
      const client = await RawClient.connect(suite.gateway.port);
      client.write(get(name));
      await assert.rejects(client.response(), /closed before the response was complete/);
      await client.closed;
    });
  }
});

describeOnBothPaths("the proxy dropping what a server sends where nothing belongs", (path) => {
  let lateWrite: Promise<void> = Promise.resolve();
  const suite = serveOnPath(path, () =>
    startRawBackend((request, socket) =>
      respond(request, socket, (written) => {
        lateWrite = written;
      }),
    ),
  );

  /** The request after a response out of step went to the server on a connection of its own. */
  function assertFreshConnection(): void {
    assert.equal(suite.server.requests.at(-1)?.onConnection, 0, "a connection out of step was used again");
  }

  it("relays a 204 without the body the server sent, nor its Content-Length", async () => {
    const { first, second, unread } = await twoOnOneConnection(suite.gateway.port, "204-with-body");
    assert.equal(first.status, 204);
    assert.equal(first.header("x-kind"), "none");
    assert.equal(first.header("content-length"), undefined);
    assert.equal(second.body.toString(), "ok");
    assert.equal(unread, 0);
    assertFreshConnection();
  });

  it("answers HEAD without the body the server sent", async () => {
    const { first, second, unread } = await twoOnOneConnection(suite.gateway.port, "head-with-body", "HEAD");
    assert.equal(first.header("content-length"), "5");
    assert.equal(second.body.toString(), "ok");
    assert.equal(unread, 0);
    assertFreshConnection();
  });

  for (const name of ["more-than-length", "second-response", "after-chunked"]) {
    it(`relays the body and drops the bytes after it (${name})`, async () => {
      const { first, second, unread } = await twoOnOneConnection(suite.gateway.port, name);
      assert.equal(first.body.toString(), "hello");
      assert.equal(second.body.toString(), "ok");
      assert.equal(unread, 0);
      assertFreshConnection();
    });
  }

  it("never gives the next request what a server sent on its idle connection", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(get("late"));
      assert.equal((await client.response()).body.toString(), "hello");
      await lateWrite;
      // Two turns of the event loop: the proxy reads what the server sent before the next request comes.
      await new Promise(setImmediate);
      await new Promise(setImmediate);
      client.write(get("next"));
      assert.equal((await client.response()).body.toString(), "ok");
    } finally {
      client.socket.destroy();
    }
  });
});
