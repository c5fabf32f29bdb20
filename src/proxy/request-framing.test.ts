import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { it } from "node:test";
import {
  assertTookPath,
  describeOnBothPaths,
  serveOnPath,
  type ProxyPath,
  type Served,
} from "./both-paths-fixture.js";
import { ORIGIN } from "./proxy-test-fixture.js";
import {
  RawClient,
  headerValues,
  startRawBackend,
  untilClosed,
  urlOf,
  type RawBackend,
  type RawRequest,
} from "./raw-http-fixture.js";

/*
 * How the front door reads a request's framing, on both paths: every head it cannot forward
 * without doubt about where the request ends or what it says is answered by the front door and
 * puts no byte on any server. Each refusal checks the harm: what the servers received.
 */

const ALICE = "Cookie: slipway-session=alice\r\n";
/** What an attacker hides behind a body: a request to bob's server, with alice's cookie. */
const SMUGGLED = `GET /user/bob/smuggled HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`;
/** `node:http`'s own limit, which the fast path takes as its own. */
const MAX_HEAD = 16 * 1024;

function get(path: string, extra = ""): string {
  return `GET /user/alice/${path} HTTP/1.1\r\nHost: a\r\n${ALICE}${extra}\r\n`;
}

function post(extra: string, body: string): string {
  return `POST /user/alice/echo HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\n${extra}\r\n${body}`;
}

/** `count` header lines in all, Host and Cookie included; `short` ones (`a:`) fit 2000 in 16 KiB. */
function withHeaderLines(count: number, short = false): string {
  let extra = "";
  for (let i = 2; i < count; i += 1) extra += short ? "a:\r\n" : `X-Line-${i}: ${i}\r\n`;
  return get("echo", extra);
}

const CHUNKED_HELLO = "5\r\nhello\r\n0\r\n\r\n";

/** Heads `node:http` answers 400 (the fast path hands each to it), never forwarded. */
const BAD_REQUESTS: readonly (readonly [string, string])[] = [
  ["whitespace before a colon", `GET /user/alice/x HTTP/1.1\r\nHost : a\r\n${ALICE}\r\n`],
  ["an obs-fold", get("x", "X-A: b\r\n c\r\n")],
  ["bare LF line ends", `GET /user/alice/x HTTP/1.1\nHost: a\n${ALICE.replace("\r\n", "\n")}\n`],
  ["a NUL in a value", get("x", "X: a\0b\r\n")],
  ["no Host", `GET /user/alice/x HTTP/1.1\r\n${ALICE}\r\n`],
  // A field name is a token (RFC 9110 5.1); anything else in one is a 400 (RFC 9112 5).
  ["a space in a header name", get("x", "Bad Name: x\r\n")],
  ["a parenthesis in a header name", get("x", "X(a): b\r\n")],
  ["a slash in a header name", get("x", "X/a: b\r\n")],
  ["a quoted header name", get("x", '"X": b\r\n')],
  ["braces in a header name", get("x", "X{a}: b\r\n")],
  ["a DEL in a header name", get("x", "X\x7fa: b\r\n")],
  ["a non-ASCII byte in a header name", get("x", "X\xe9: b\r\n")],
  ["a NUL in a header name", get("x", "X\0a: b\r\n")],
  ["an empty header name", get("x", ": b\r\n")],
  // Framing in doubt (RFC 9112 6.3): the next request could start anywhere.
  [
    "both Content-Length and Transfer-Encoding",
    post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", `0\r\n\r\n${SMUGGLED}`),
  ],
  ["two Content-Lengths", post(`Content-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n`, SMUGGLED)],
  ["an empty Content-Length", post("Content-Length: \r\n", SMUGGLED)],
  ["a Content-Length past 2^53", post("Content-Length: 99999999999999999999\r\n", SMUGGLED)],
  ["a signed Content-Length", post("Content-Length: +5\r\n", `hello${SMUGGLED}`)],
  ["a Content-Length list", post("Content-Length: 5, 5\r\n", `hello${SMUGGLED}`)],
  [
    "Transfer-Encoding: chunked, identity",
    post("Transfer-Encoding: chunked, identity\r\n", `${CHUNKED_HELLO}${SMUGGLED}`),
  ],
  ["Transfer-Encoding: identity", post("Transfer-Encoding: identity\r\n", `${CHUNKED_HELLO}${SMUGGLED}`)],
  ["Transfer-Encoding: gzip", post("Transfer-Encoding: gzip\r\n", `hello${SMUGGLED}`)],
  [
    "Transfer-Encoding: chunked, chunked",
    post("Transfer-Encoding: chunked, chunked\r\n", `${CHUNKED_HELLO}${SMUGGLED}`),
  ],
  ["an empty Transfer-Encoding", post("Transfer-Encoding: \r\n", `${CHUNKED_HELLO}${SMUGGLED}`)],
  [
    "chunked in two Transfer-Encoding headers",
    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", `${CHUNKED_HELLO}${SMUGGLED}`),
  ],
];

/** Transfer codings the proxy does not implement (RFC 9112 6.1): 501, never forwarded. */
const UNSUPPORTED_CODINGS: readonly (readonly [string, string])[] = [
  [
    "Transfer-Encoding: gzip, chunked",
    post("Transfer-Encoding: gzip, chunked\r\n", `${CHUNKED_HELLO}${SMUGGLED}`),
  ],
  [
    "gzip and chunked in two Transfer-Encoding headers",
    post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", `${CHUNKED_HELLO}${SMUGGLED}`),
  ],
];

function respond(request: RawRequest, socket: Socket): void {
  const line = request.head.split("\r\n")[0] ?? "";
  const delay = urlOf(request).endsWith("/slow") ? 30 : 0;
  const body = `${line}|${request.body.toString("latin1")}`;
  setTimeout(
    () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
    delay,
  );
}

/** Alice's and bob's servers behind one stand-in, on `path`. */
function serveAliceAndBob(path: ProxyPath): Served<RawBackend> {
  return serveOnPath(path, () => startRawBackend(respond), { owners: ["alice", "bob"] });
}

/** Sends `bytes`, returns all the front door said before it closed, and checks no server heard a byte. */
async function refused(suite: Served<RawBackend>, bytes: string, halfClose = false): Promise<string> {
  const before = suite.server.bytes;
  const answer = await untilClosed(suite.gateway.port, bytes, halfClose);
  assert.equal(suite.server.bytes, before, "a server received bytes of a refused request");
  return answer;
}

describeOnBothPaths("the front door's refusal of a malformed or ambiguous request head", (path) => {
  const suite = serveAliceAndBob(path);

  for (const [what, head] of BAD_REQUESTS) {
    it(`answers 400 to a head with ${what} and forwards nothing`, async () => {
      assert.match(await refused(suite, head), /^HTTP\/1\.1 400 /);
    });
  }

  for (const [what, head] of UNSUPPORTED_CODINGS) {
    it(`answers 501 to ${what}, closes the connection and forwards nothing`, async () => {
      const answer = await refused(suite, head);
      assert.match(answer, /^HTTP\/1\.1 501 /);
      assert.deepEqual(headerValues(answer, "connection"), ["close"]);
    });
  }
});

describeOnBothPaths("the front door's reading of a request body", (path) => {
  const suite = serveAliceAndBob(path);

  it("forwards a body sent with Transfer-Encoding: Chunked in any case, framed anew", async () => {
    const seen = suite.server.requests.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(post("Transfer-Encoding: Chunked\r\n", CHUNKED_HELLO));
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.deepEqual(headerValues(suite.server.requests[seen]?.head ?? "", "transfer-encoding"), [
        "chunked",
      ]);
    } finally {
      client.socket.destroy();
    }
  });

  it("reads a Content-Length of twenty digits, leading zeros and all, as its value", async () => {
    const seen = suite.server.requests.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(post("Content-Length: 00000000000000000005\r\n", `hello${get("after")}`));
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.equal((await client.response()).body.toString(), "GET /user/alice/after HTTP/1.1|");
      assert.deepEqual(suite.server.requests.slice(seen).map(urlOf), [
        "/user/alice/echo",
        "/user/alice/after",
      ]);
    } finally {
      client.socket.destroy();
    }
  });

  it("reads a body by its Content-Length only: what follows is the next request, and goes through the gate", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(post("Content-Length: 5\r\n", `hello${SMUGGLED}`));
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.equal((await client.response()).status, 403);
      assert.ok(!suite.server.requests.some((r) => urlOf(r).includes("smuggled")));
    } finally {
      client.socket.destroy();
    }
  });

  it("forwards a chunked body framed anew, and reads the request after it as the next one", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(post("Transfer-Encoding: chunked\r\n", `${CHUNKED_HELLO}${get("after")}`));
      assert.equal((await client.response()).body.toString(), "POST /user/alice/echo HTTP/1.1|hello");
      assert.equal((await client.response()).body.toString(), "GET /user/alice/after HTTP/1.1|");
    } finally {
      client.socket.destroy();
    }
  });
});

describeOnBothPaths("the front door's limits on a request head", (path) => {
  const suite = serveAliceAndBob(path);

  it("forwards a head of exactly the size limit", async () => {
    const base = get("echo", "X-Pad: \r\n");
    const head = get("echo", `X-Pad: ${"p".repeat(MAX_HEAD - base.length)}\r\n`);
    assert.equal(head.length, MAX_HEAD);
    const mark = suite.gateway.nodeHttp.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(head);
      assert.equal((await client.response()).status, 200);
      assertTookPath(path, suite.gateway, mark);
    } finally {
      client.socket.destroy();
    }
  });

  it("answers 431 to a head over the size limit and forwards nothing", async () => {
    const answer = await refused(suite, get("echo", `X-Pad: ${"p".repeat(MAX_HEAD + 4096)}\r\n`));
    assert.match(answer, /^HTTP\/1\.1 431 /);
  });

  it("forwards a head of 100 header lines with every one of them", async () => {
    const seen = suite.server.requests.length;
    const mark = suite.gateway.nodeHttp.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(withHeaderLines(100));
      assert.equal((await client.response()).status, 200);
      assertTookPath(path, suite.gateway, mark);
      const head = suite.server.requests[seen]?.head ?? "";
      assert.deepEqual(headerValues(head, "x-line-99"), ["99"]);
      assert.equal(head.match(/\r\nX-Line-/g)?.length, 98);
    } finally {
      client.socket.destroy();
    }
  });

  // Past 2000, node:http would drop the rest unseen (its `maxHeadersCount`).
  for (const lines of [101, 2100]) {
    it(`answers 431 to a head of ${lines} header lines, closes the connection and forwards nothing`, async () => {
      const answer = await refused(suite, withHeaderLines(lines, true));
      assert.match(answer, /^HTTP\/1\.1 431 /);
      assert.deepEqual(headerValues(answer, "connection"), ["close"]);
    });
  }

  it("answers 431 to a websocket handshake of 101 header lines and upgrades nothing", async () => {
    const handshake = withHeaderLines(96).replace(
      "\r\n\r\n",
      `\r\nOrigin: ${ORIGIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.match(await refused(suite, handshake), /^HTTP\/1\.1 431 /);
  });
});

/*
 * A client's FIN ends its connection on both paths, as `node:http` ends it: what is written goes
 * out, nothing more is forwarded or answered.
 */
describeOnBothPaths("the front door and a client that half-closes", (path) => {
  const suite = serveAliceAndBob(path);

  it("still gets the answer to a request the gate refused before its FIN", async () => {
    const answer = await refused(suite, `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n\r\n`, true);
    assert.match(answer, /^HTTP\/1\.1 401 /);
  });

  it("gets nothing more after its FIN: the connection closes before a forwarded request is answered", async () => {
    const answer = await untilClosed(suite.gateway.port, get("slow"), true);
    assert.equal(answer, "");
  });

  it("never gets a request pipelined before its FIN past the gate: bob's server hears nothing", async () => {
    const answer = await untilClosed(suite.gateway.port, get("slow") + SMUGGLED, true);
    assert.equal(answer, "");
    assert.ok(!suite.server.requests.some((r) => urlOf(r).startsWith("/user/bob/")));
  });

  it("gets 400 for a head its FIN cut off, which is never forwarded", async () => {
    const answer = await refused(suite, `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}`, true);
    assert.match(answer, /^HTTP\/1\.1 400 /);
  });
});

describeOnBothPaths("the front door's deadline for a request head", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respond), {
    server: { headersTimeout: 300, keepAliveTimeout: 60_000, connectionsCheckingInterval: 50 },
  });

  it("answers 408 and closes when a head trickles in too slowly, and forwards nothing", async () => {
    const client = await RawClient.connect(suite.gateway.port);
    client.write("GET /user/alice/x HTTP/1.1\r\nHost: a\r\n");
    // Each byte on its own, well within any idle timeout: only the deadline for the whole head stops it.
    const drip = setInterval(() => client.socket.write("X"), 20);
    await client.closed;
    clearInterval(drip);
    assert.match(client.unread.toString("latin1"), /^HTTP\/1\.1 408 /);
    assert.equal(suite.server.bytes, 0);
  });
});
