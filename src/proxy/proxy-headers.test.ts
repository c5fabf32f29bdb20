import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { BOTH_PATHS, assertTookPath, describeOnBothPaths, serveOnPath } from "./both-paths-fixture.js";
import {
  ONE_MIB,
  ORIGIN,
  echoedHeaders,
  route,
  send,
  startBackend,
  startGateway,
  type Gateway,
} from "./proxy-test-fixture.js";
import {
  exchange,
  headerValues,
  startRawBackend,
  urlOf,
  type RawBackend,
  type RawRequest,
} from "./raw-http-fixture.js";

const ALICE = { cookie: "slipway-session=alice" };

describeOnBothPaths("the proxy's rewriting of headers", (path) => {
  const suite = serveOnPath(path, startBackend);

  it("strips the hub's cookies, keeps Jupyter's own and sends the server's token instead of the caller's", async () => {
    const mark = suite.gateway.nodeHttp.length;
    const reply = await send(suite.gateway.port, "/user/alice/api/status", {
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
    assertTookPath(path, suite.gateway, mark);
  });

  it("drops the Cookie header when only hub cookies were sent", async () => {
    const seen = echoedHeaders(await send(suite.gateway.port, "/user/alice/x", { headers: ALICE }));
    assert.equal(seen["cookie"], undefined);
    assert.equal(seen["authorization"], "token server-token-1");
  });

  it("drops a front door's identity headers in every spelling, so no server takes them as the truth", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/x", {
      headers: {
        ...ALICE,
        "x-remote-user": "bob",
        remote_user: "bob",
        X_Remote_Groups: "admins",
        "x-remote-zone": "internal",
        "x-remote-note": "kept",
      },
    });
    const seen = echoedHeaders(reply);
    for (const name of ["x-remote-user", "remote_user", "x_remote_groups", "x-remote-zone"]) {
      assert.equal(seen[name], undefined, name);
    }
    assert.equal(seen["x-remote-note"], "kept");
  });

  it("overwrites X-Forwarded-* sent by the client and keeps Host", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/x", {
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
    const reply = await send(suite.gateway.port, "/user/alice/x", {
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
    const reply = await send(suite.gateway.port, "/user/alice/x", { headers: ALICE });
    assert.deepEqual(reply.headers["set-cookie"], ["_xsrf=server-xsrf; Path=/"]);
  });

  it("forwards the path and query exactly as the client sent them", async () => {
    await send(suite.gateway.port, "/user/alice/api/contents/dir%2Fa%20b.ipynb?content=1&x=%2e%2e", {
      headers: ALICE,
    });
    assert.equal(
      suite.server.requests.at(-1)?.url,
      "/user/alice/api/contents/dir%2Fa%20b.ipynb?content=1&x=%2e%2e",
    );
  });

  it("answers HEAD without a body", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/big", { method: "HEAD", headers: ALICE });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-length"], String(ONE_MIB));
    assert.equal(reply.body.length, 0);
  });
});

describeOnBothPaths("the proxy behind a trusted front proxy", (path) => {
  const suite = serveOnPath(path, startBackend, { proxy: { trustForwarded: true } });

  it("keeps X-Forwarded-* from the front proxy and appends the peer to X-Forwarded-For", async () => {
    const seen = echoedHeaders(
      await send(suite.gateway.port, "/user/alice/x", {
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

/** Responses that name hop-by-hop headers of their own, by path. */
const HOP_BY_HOP_RESPONSES: Readonly<Record<string, string>> = {
  "two-connections":
    "HTTP/1.1 200 OK\r\nConnection: x-first\r\nX-First: 1\r\nConnection: x-second\r\nX-Second: 2\r\n" +
    "X-Kept: 3\r\nContent-Length: 2\r\n\r\nok",
  "one-connection-two-names":
    "HTTP/1.1 200 OK\r\nConnection: X-First , keep-alive,x-second\r\nX-First: 1\r\nx-second: 2\r\n" +
    "X-Kept: 3\r\nContent-Length: 2\r\n\r\nok",
  "standard-hops":
    "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nProxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\n" +
    "Trailer: X-T\r\nUpgrade: h2c\r\nX-Kept: 3\r\nContent-Length: 2\r\n\r\nok",
};

function respondWithHops(request: RawRequest, socket: Socket): void {
  const name = urlOf(request).slice("/user/alice/".length);
  socket.write(HOP_BY_HOP_RESPONSES[name] ?? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

describeOnBothPaths("the proxy's dropping of a response's hop-by-hop headers", (path) => {
  const suite = serveOnPath(path, () => startRawBackend(respondWithHops));

  async function responseTo(name: string) {
    return exchange(
      suite.gateway.port,
      `GET /user/alice/${name} HTTP/1.1\r\nHost: a\r\nCookie: slipway-session=alice\r\n\r\n`,
    );
  }

  it("drops the headers named in each of two Connection headers, not only in the last", async () => {
    const reply = await responseTo("two-connections");
    assert.equal(reply.status, 200);
    assert.deepEqual(headerValues(reply.head, "x-first"), []);
    assert.deepEqual(headerValues(reply.head, "x-second"), []);
    assert.deepEqual(headerValues(reply.head, "x-kept"), ["3"]);
  });

  it("drops every header one Connection header names, in any case and spacing", async () => {
    const reply = await responseTo("one-connection-two-names");
    assert.deepEqual(headerValues(reply.head, "x-first"), []);
    assert.deepEqual(headerValues(reply.head, "x-second"), []);
    assert.deepEqual(headerValues(reply.head, "x-kept"), ["3"]);
  });

  it("drops the standard hop-by-hop headers and passes the server's Connection on to nobody", async () => {
    const reply = await responseTo("standard-hops");
    for (const name of ["proxy-connection", "proxy-authenticate", "trailer", "upgrade"])
      assert.deepEqual(headerValues(reply.head, name), [], name);
    // The proxy's own keep-alive lines, not the server's.
    assert.doesNotMatch(reply.head, /timeout=1/);
    assert.deepEqual(headerValues(reply.head, "x-kept"), ["3"]);
  });
});

/** Requests whose forwarded heads are compared between the two paths, by what they exercise. */
const HEADS: readonly (readonly [string, string])[] = [
  [
    "a plain GET",
    "GET /user/alice/plain HTTP/1.1\r\nHost: hub:8000\r\nCookie: slipway-session=alice\r\nAccept: */*\r\n\r\n",
  ],
  [
    "a token-authenticated GET with hub cookies, ?token= and a hop named in Connection",
    "GET /user/alice/tree?x=1&token=t&%74oken=u HTTP/1.1\r\nHost: hub:8000\r\nAuthorization: token tok-alice\r\n" +
      "Cookie: _xsrf=j; slipway-session=x; __Host-slipway-session=y\r\nConnection: keep-alive, x-hop\r\n" +
      "X-Hop: 1\r\nTE: trailers\r\nKeep-Alive: 5\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=x\r\n" +
      "User-Agent: t\r\nUser-Agent: u\r\n\r\n",
  ],
  [
    "a POST with a body",
    `POST /user/alice/upload HTTP/1.1\r\nHost: hub\r\nCookie: slipway-session=alice\r\nOrigin: ${ORIGIN}\r\n` +
      "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
  ],
  [
    "a DELETE with a body",
    `DELETE /user/alice/x HTTP/1.1\r\nHost: hub\r\nCookie: slipway-session=alice\r\nOrigin: ${ORIGIN}\r\n` +
      "Content-Length: 3\r\n\r\nabc",
  ],
  ["a HEAD", "HEAD /user/alice/h HTTP/1.1\r\nHost: [::1]:8000\r\nCookie: slipway-session=alice\r\n\r\n"],
];

describe("the head a user's server receives", () => {
  let backend: RawBackend;
  const gateways: Gateway[] = [];

  before(async () => {
    backend = await startRawBackend((_request, socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    );
    for (const path of BOTH_PATHS) {
      const gateway = await startGateway({}, { fastPath: path.fastPath });
      gateway.proxy.routes.setRoute(route(1, "alice", "", backend.target));
      gateways.push(gateway);
    }
  });

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await backend.close();
  });

  for (const [what, request] of HEADS) {
    it(`is the same, byte for byte, on both paths for ${what}`, async () => {
      const received: string[] = [];
      for (const [i, path] of BOTH_PATHS.entries()) {
        const gateway = gateways[i];
        assert.ok(gateway !== undefined);
        const seen = backend.requests.length;
        const mark = gateway.nodeHttp.length;
        const reply = await exchange(gateway.port, request, request.startsWith("HEAD") ? "HEAD" : "GET");
        assert.equal(reply.status, 200);
        assertTookPath(path, gateway, mark);
        const requests = backend.requests.slice(seen);
        assert.equal(requests.length, 1);
        received.push(`${requests[0]?.head ?? ""}\r\n\r\n${requests[0]?.body.toString("latin1") ?? ""}`);
      }
      assert.equal(received[1], received[0]);
    });
  }
});
