import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { it } from "node:test";
import { assertTookPath, describeOnBothPaths, serveOnPath } from "./both-paths-fixture.js";
import { ORIGIN } from "./proxy-test-fixture.js";
import {
  RawClient,
  codeOf,
  exchange,
  headerValues,
  startRawBackend,
  urlOf,
  type RawRequest,
} from "./raw-http-fixture.js";

const ALICE = "Cookie: slipway-session=alice\r\n";
/** What an attacker hides in a body: a second request, without credentials, with headers of theirs. */
const SMUGGLED = "GET /user/alice/smuggled HTTP/1.1\r\nHost: a\r\nX-Attacker: 1\r\n\r\n";

/**
 * Set-Cookie lines a user's server might send to plant a hub cookie (fixation), each a spelling a
 * browser stores, and sends back, as one of the hub's cookies (RFC 6265bis 5.6, 5.7, 5.8.3).
 */
const PLANTED = [
  // No name: stored as name "" and value "slipway-session=planted", sent back as `slipway-session=planted`.
  "=slipway-session=planted; Path=/",
  " = slipway-session=planted",
  "==slipway-session=planted",
  "slipway-session",
  "Slipway-Session=planted; Path=/",
  "SLIPWAY-SESSION=planted",
  " slipway-session =planted",
  "\tslipway-session\t=planted",
  "__Host-slipway-session=planted; Path=/; Secure",
  "__HOST-slipway-session=planted; Path=/; Secure",
  "__host-Slipway-Session=planted; Path=/; Secure",
  "__Secure-slipway-session=planted; Secure",
  "__SECURE-_slipway_xsrf=planted; Secure",
  "=__Host-slipway-session=planted",
  "_Slipway_Xsrf=planted",
];
/** Cookies of the server's own that only look like the hub's. */
const OWN = [
  "_xsrf=server-xsrf; Path=/",
  "slipway-sessions=own",
  "x=slipway-session=own",
  "a=1; slipway-session=own",
  "__Host-_xsrf=own; Path=/; Secure",
];

function respond(request: RawRequest, socket: Socket): void {
  if (urlOf(request).endsWith("/cookies")) {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    for (const cookie of [...PLANTED, ...OWN]) head += `Set-Cookie: ${cookie}\r\n`;
    socket.write(`${head}\r\n`);
    return;
  }
  socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

/**
 * Every case runs through a front door with the fast path and one without it, so a request is
 * treated the same whichever way it takes (the fast path hands some requests to `node:http`).
 */

describeOnBothPaths("the proxy forwarding bodies on GET, HEAD, DELETE and OPTIONS", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respond));
  for (const method of ["GET", "HEAD", "DELETE", "OPTIONS"]) {
    const head = `${method} /user/alice/body HTTP/1.1\r\nHost: a\r\n${ALICE}Origin: ${ORIGIN}\r\n`;
    const chunked = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;

    it(`forwards a chunked ${method} body framed, so the server never reads it as a request`, async () => {
      const seen = suite.server.requests.length;
      const reply = await exchange(
        suite.gateway.port,
        `${head}Transfer-Encoding: chunked\r\n\r\n${chunked}`,
        method,
      );
      assert.equal(reply.status, 200);
      const received = suite.server.requests.slice(seen);
      assert.deepEqual(received.map(urlOf), ["/user/alice/body"]);
      assert.equal(received[0]?.body.toString("latin1"), SMUGGLED);
      assert.deepEqual(headerValues(received[0]?.head ?? "", "transfer-encoding"), ["chunked"]);
      assert.deepEqual(headerValues(received[0]?.head ?? "", "content-length"), []);
    });

    it(`forwards a ${method} body with its Content-Length, so the server never reads it as a request`, async () => {
      const seen = suite.server.requests.length;
      const mark = suite.gateway.nodeHttp.length;
      const reply = await exchange(
        suite.gateway.port,
        `${head}Content-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
        method,
      );
      assert.equal(reply.status, 200);
      const received = suite.server.requests.slice(seen);
      assert.deepEqual(received.map(urlOf), ["/user/alice/body"]);
      assert.equal(received[0]?.body.toString("latin1"), SMUGGLED);
      assert.deepEqual(headerValues(received[0]?.head ?? "", "content-length"), [String(SMUGGLED.length)]);
      assert.deepEqual(headerValues(received[0]?.head ?? "", "transfer-encoding"), []);
      assertTookPath(path, suite.gateway, mark);
    });
  }
});

describeOnBothPaths("the proxy given a second Host", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respond));
  for (const [name, hosts] of [
    ["the same Host twice", "Host: a\r\nHost: a\r\n"],
    ["two different Hosts", "Host: a\r\nHost: evil.example\r\n"],
    ["two Hosts apart", `Host: a\r\nAccept: */*\r\nhost: evil.example\r\n`],
  ]) {
    it(`answers 400 duplicate_host to a request with ${name} and forwards nothing`, async () => {
      const seen = suite.server.requests.length;
      const reply = await exchange(suite.gateway.port, `GET /user/alice/x HTTP/1.1\r\n${hosts}${ALICE}\r\n`);
      assert.equal(reply.status, 400);
      assert.equal(codeOf(reply.body), "duplicate_host");
      assert.equal(suite.server.requests.length, seen);
    });
  }

  it("answers 400 duplicate_host to a websocket handshake with two Hosts and upgrades nothing", async () => {
    const seen = suite.server.requests.length;
    const reply = await exchange(
      suite.gateway.port,
      "GET /user/alice/api/kernels/k/channels HTTP/1.1\r\nHost: a\r\nHost: evil.example\r\n" +
        `${ALICE}Origin: ${ORIGIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.equal(reply.status, 400);
    assert.equal(codeOf(reply.body), "duplicate_host");
    assert.equal(suite.server.requests.length, seen);
  });

  it("still forwards a request with one Host", async () => {
    const reply = await exchange(suite.gateway.port, `GET /user/alice/x HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
    assert.equal(reply.status, 200);
  });
});

describeOnBothPaths("the proxy forwarding URLs with ?token=", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respond));
  for (const [sent, forwarded] of [
    ["/user/alice/tree?token=abc", "/user/alice/tree"],
    ["/user/alice/tree?token=abc&token=def", "/user/alice/tree"],
    [
      "/user/alice/api/contents/a%20b?content=1&token=abc&path=x%2Fy&token=&Token=keep&tokens=keep",
      "/user/alice/api/contents/a%20b?content=1&path=x%2Fy&Token=keep&tokens=keep",
    ],
    // Jupyter decodes parameter names (Python's parse_qs) before it looks for `token`.
    ["/user/alice/tree?%74oken=abc&x=%2e%2E&t%6Fken=def&x=+", "/user/alice/tree?x=%2e%2E&x=+"],
    ["/user/alice/tree?a=token%3Dabc&b=1", "/user/alice/tree?a=token%3Dabc&b=1"],
    ["/user/alice/tree?token", "/user/alice/tree"],
  ]) {
    it(`forwards ${sent} as ${forwarded}`, async () => {
      const seen = suite.server.requests.length;
      const reply = await exchange(suite.gateway.port, `GET ${sent} HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`);
      assert.equal(reply.status, 200);
      assert.deepEqual(suite.server.requests.slice(seen).map(urlOf), [forwarded]);
    });
  }

  it("removes ?token= from the path of a websocket handshake", async () => {
    const seen = suite.server.requests.length;
    const client = await RawClient.connect(suite.gateway.port);
    try {
      client.write(
        "GET /user/alice/api/kernels/k/channels?session_id=s&token=abc HTTP/1.1\r\nHost: a\r\n" +
          `${ALICE}Origin: ${ORIGIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      await client.response();
      assert.deepEqual(suite.server.requests.slice(seen).map(urlOf), [
        "/user/alice/api/kernels/k/channels?session_id=s",
      ]);
    } finally {
      client.socket.destroy();
    }
  });

  it("sends an unauthenticated browser to the login page with a next= that has no token", async () => {
    const reply = await exchange(
      suite.gateway.port,
      "GET /user/alice/lab?token=abc&reset=1 HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\n\r\n",
    );
    assert.equal(reply.status, 302);
    assert.equal(reply.header("location"), "/hub/login?next=%2Fuser%2Falice%2Flab%3Freset%3D1");
  });

  it("offers the spawn page of a server that is not running with a next= that has no token", async () => {
    const reply = await exchange(
      suite.gateway.port,
      "GET /user/carol/lab?token=abc HTTP/1.1\r\nHost: a\r\nCookie: slipway-session=carol\r\nAccept: text/html\r\n\r\n",
    );
    assert.equal(reply.status, 503);
    assert.match(reply.body.toString(), /href="\/hub\/spawn\/carol\?next=%2Fuser%2Fcarol%2Flab"/);
  });
});

describeOnBothPaths(
  "the proxy and hub cookies in every spelling a browser or a parser reads as one",
  (path) => {
    const suite = serveOnPath(path, () => startRawBackend(respond));
    it("drops every Set-Cookie that would set or overwrite a hub cookie and keeps the server's own", async () => {
      const reply = await exchange(
        suite.gateway.port,
        `GET /user/alice/cookies HTTP/1.1\r\nHost: a\r\n${ALICE}\r\n`,
      );
      assert.equal(reply.status, 200);
      assert.deepEqual(headerValues(reply.head, "set-cookie"), OWN);
    });

    it("keeps hub cookies in any spelling out of the Cookie header the server receives", async () => {
      const seen = suite.server.requests.length;
      const cookie = [
        "slipway-session=alice",
        "Slipway-Session=x",
        " __HOST-slipway-session=x",
        "=slipway-session=x",
        "slipway-session",
        "__Secure-slipway-session=x",
        "_SLIPWAY_XSRF=x",
        "_xsrf=keep",
        "slipway-sessions=keep",
        "x=slipway-session",
      ].join("; ");
      const reply = await exchange(
        suite.gateway.port,
        `GET /user/alice/x HTTP/1.1\r\nHost: a\r\nCookie: ${cookie}\r\n\r\n`,
      );
      assert.equal(reply.status, 200);
      const received = suite.server.requests.slice(seen);
      assert.equal(received.length, 1);
      assert.deepEqual(headerValues(received[0]?.head ?? "", "cookie"), [
        "_xsrf=keep; slipway-sessions=keep; x=slipway-session",
      ]);
    });
  },
);
