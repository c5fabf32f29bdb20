import assert from "node:assert/strict";
import { it } from "node:test";
import { assertTookPath, describeOnBothPaths, serveOnPath, serveRoutesOnPath } from "./both-paths-fixture.js";
import { ORIGIN, openWebSocket, send, startBackend } from "./proxy-test-fixture.js";

const ALICE_COOKIE = { cookie: "slipway-session=alice" };

describeOnBothPaths("the proxy as the gate between users", (path) => {
  const suite = serveRoutesOnPath(path, { alice: ["alice", ""], bob: ["bob", ""] });

  function assertBobUntouched(): void {
    assert.equal(suite.server("bob").requests.length, 0, "bob's server saw a request");
    assert.equal(suite.server("bob").connections, 0, "bob's server saw a connection");
  }

  it("lets alice reach her own server", async () => {
    const mark = suite.gateway.nodeHttp.length;
    const reply = await send(suite.gateway.port, "/user/alice/api/status", { headers: ALICE_COOKIE });
    assert.equal(reply.status, 200);
    assert.equal(suite.server("alice").requests.at(-1)?.url, "/user/alice/api/status");
    assertTookPath(path, suite.gateway, mark);
  });

  it("refuses every spelling of bob's path with alice's credentials before it reaches bob's server", async () => {
    const spellings: [string, number[]][] = [
      ["/user/bob/", [403]],
      ["/user/bob/api/contents", [403]],
      ["/user/alice/..%2F..%2Fuser/bob/", [400]],
      ["/user/alice%2F..%2Fbob/", [400]],
      ["/user/./bob", [400]],
      ["/user/./bob/", [400]],
      ["/user/alice/../bob/", [400]],
      ["/user/alice/../../user/bob/", [400]],
      ["/user/alice/%2e%2e/%2e%2e/user/bob/", [400]],
      ["/user/alice/%2E%2E%2Fbob/", [400]],
      ["/user/alice/lab/..%2F..%2F..%2Fuser%2Fbob/", [400]],
      ["/user/alice\\..\\bob/", [400]],
      ["/user//bob/", [400]],
      ["/user/%62ob/", [400]],
      ["/user/Bob/", [404]],
      ["//user/bob", [404]],
      ["//user/bob/", [404]],
      ["/USER/bob", [404]],
      ["/USER/bob/", [404]],
      ["/User/bob/", [404]],
    ];
    for (const [spelling, statuses] of spellings) {
      for (const headers of [ALICE_COOKIE, { authorization: "token tok-alice" }]) {
        const reply = await send(suite.gateway.port, spelling, { headers });
        assert.ok(statuses.includes(reply.status), `${spelling} answered ${reply.status}`);
      }
    }
    assertBobUntouched();
  });

  it("routes on the path alone, whatever Host says", async () => {
    const reply = await send(suite.gateway.port, "/user/bob/", {
      headers: { ...ALICE_COOKIE, host: "bob.hub.example" },
    });
    assert.equal(reply.status, 403);
    assertBobUntouched();
  });

  it("sends /USER/ and //user/ to the web app, not the proxy", async () => {
    suite.gateway.appHits.length = 0;
    await send(suite.gateway.port, "/USER/bob/", { headers: ALICE_COOKIE });
    await send(suite.gateway.port, "//user/bob/", { headers: ALICE_COOKIE });
    assert.deepEqual(suite.gateway.appHits, ["/USER/bob/", "//user/bob/"]);
  });
});

describeOnBothPaths("the proxy's answers to requests it refuses", (path) => {
  const suite = serveRoutesOnPath(path, { alice: ["alice", ""], bob: ["bob", ""] });

  it("answers a refusal with a JSON error body", async () => {
    const reply = await send(suite.gateway.port, "/user/bob/", { headers: ALICE_COOKIE });
    assert.equal(reply.status, 403);
    assert.match(String(reply.headers["content-type"]), /^application\/json/);
    assert.deepEqual(reply.json(), {
      status: 403,
      code: "forbidden",
      message: "You may not use this server.",
    });
  });

  it("answers a refusal to a browser with a small HTML page", async () => {
    const reply = await send(suite.gateway.port, "/user/bob/", {
      headers: { ...ALICE_COOKIE, accept: "text/html" },
    });
    assert.equal(reply.status, 403);
    assert.match(String(reply.headers["content-type"]), /^text\/html/);
    assert.match(String(reply.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.match(reply.body.toString(), /<h1>Forbidden<\/h1>/);
  });

  it("answers a bad path with 400 and says why", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/%2e%2e/x", { headers: ALICE_COOKIE });
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.json(), {
      status: 400,
      code: "bad_request",
      message: "The /user/<name>/<server>/ part of the path has an encoded character or a backslash.",
    });
  });

  it("sends an unauthenticated browser to the login page with the path to come back to", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/lab/tree?reset=1", {
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, "/hub/login?next=%2Fuser%2Falice%2Flab%2Ftree%3Freset%3D1");
  });

  it("answers an unauthenticated API client with 401 JSON", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/contents", {
      headers: { accept: "application/json" },
    });
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json(), {
      status: 401,
      code: "not_authenticated",
      message: "Sign in or send a valid API token.",
    });
  });

  it("does not accept ?token= as a credential", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/contents?token=tok-alice");
    assert.equal(reply.status, 401);
  });

  it("answers an unauthenticated POST from a browser with 401, not a redirect", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/contents", {
      method: "POST",
      headers: { accept: "text/html" },
      body: "{}",
    });
    assert.equal(reply.status, 401);
  });
});

describeOnBothPaths("the proxy's same-origin rule for cookie-authenticated writes", (path) => {
  const suite = serveOnPath(path, startBackend);

  const foreignOrigins = [
    "https://evil.example",
    "http://127.0.0.1:8000.evil.com",
    "http://127.0.0.1:9999",
    "null",
  ];

  for (const origin of foreignOrigins) {
    it(`refuses a cookie-authenticated POST from Origin ${origin}`, async () => {
      const before = suite.server.requests.length;
      const reply = await send(suite.gateway.port, "/user/alice/api/contents", {
        method: "POST",
        headers: { ...ALICE_COOKIE, origin },
        body: "{}",
      });
      assert.equal(reply.status, 403);
      assert.equal(reply.code(), "cross_origin");
      assert.equal(suite.server.requests.length, before);
    });
  }

  it("passes a cookie-authenticated POST from the hub's own origin", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/contents", {
      method: "POST",
      headers: { ...ALICE_COOKIE, origin: ORIGIN },
      body: "hello",
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "hello");
  });

  it("passes a cookie-authenticated POST without Origin only when fetch metadata says same-origin", async () => {
    const plain = await send(suite.gateway.port, "/user/alice/api/x", {
      method: "POST",
      headers: ALICE_COOKIE,
      body: "a",
    });
    assert.equal(plain.status, 403, "no proof of origin at all");
    const noCors = await send(suite.gateway.port, "/user/alice/api/x", {
      method: "POST",
      headers: { ...ALICE_COOKIE, "sec-fetch-site": "same-origin", "sec-fetch-mode": "no-cors" },
      body: "a",
    });
    assert.equal(noCors.status, 403, "no-cors");
    const sameOrigin = await send(suite.gateway.port, "/user/alice/api/x", {
      method: "POST",
      headers: { ...ALICE_COOKIE, "sec-fetch-site": "same-origin" },
      body: "a",
    });
    assert.equal(sameOrigin.status, 200);
    for (const site of ["cross-site", "same-site", "none"]) {
      const reply = await send(suite.gateway.port, "/user/alice/api/x", {
        method: "POST",
        headers: { ...ALICE_COOKIE, "sec-fetch-site": site },
        body: "a",
      });
      assert.equal(reply.status, 403, site);
    }
  });

  it("refuses a cross-site PUT and DELETE too", async () => {
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const reply = await send(suite.gateway.port, "/user/alice/api/contents/x", {
        method,
        headers: { ...ALICE_COOKIE, origin: "https://evil.example" },
      });
      assert.equal(reply.status, 403, method);
    }
  });

  it("lets a cookie-authenticated GET through whatever its Origin", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/status", {
      headers: { ...ALICE_COOKIE, origin: "https://evil.example" },
    });
    assert.equal(reply.status, 200);
  });

  it("lets a token-authenticated POST through from any origin", async () => {
    const reply = await send(suite.gateway.port, "/user/alice/api/contents", {
      method: "POST",
      headers: {
        authorization: "token tok-alice",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
      body: "from a script",
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "from a script");
  });
});

describeOnBothPaths("the proxy's gate for websockets", (path) => {
  const suite = serveRoutesOnPath(path, { alice: ["alice", ""], bob: ["bob", ""] });

  const channels = "/user/bob/api/kernels/x/channels";

  it("refuses a websocket to bob's kernel with alice's cookie with 403 before any upgrade", async () => {
    const attempt = await openWebSocket(suite.gateway.port, channels, { ...ALICE_COOKIE, origin: ORIGIN });
    assert.equal(attempt.opened, false);
    assert.equal(attempt.opened ? 0 : attempt.status, 403);
    assert.equal(suite.server("bob").upgradeRequests.length, 0);
    assert.equal(suite.server("bob").connections, 0);
  });

  it("refuses a websocket to bob's kernel with alice's token with 403", async () => {
    const attempt = await openWebSocket(suite.gateway.port, channels, { authorization: "token tok-alice" });
    assert.equal(attempt.opened ? 0 : attempt.status, 403);
    assert.equal(suite.server("bob").connections, 0);
  });

  it("refuses a websocket on a disguised path to bob's server", async () => {
    for (const spelling of [
      "/user/alice/..%2F..%2Fuser/bob/api/kernels/x/channels",
      "/user/alice%2F..%2Fbob/x",
    ]) {
      const attempt = await openWebSocket(suite.gateway.port, spelling, { ...ALICE_COOKIE, origin: ORIGIN });
      assert.equal(attempt.opened ? 0 : attempt.status, 400, spelling);
    }
    assert.equal(suite.server("bob").connections, 0);
  });

  it("answers a websocket with no credentials with 401", async () => {
    const attempt = await openWebSocket(suite.gateway.port, "/user/alice/api/kernels/x/channels", {
      origin: ORIGIN,
    });
    assert.equal(attempt.opened ? 0 : attempt.status, 401);
    assert.equal(suite.server("alice").upgradeRequests.length, 0);
  });

  for (const origin of ["https://evil.example", "http://127.0.0.1:8000.evil.com", "http://127.0.0.1:9999"]) {
    it(`refuses a cookie-authenticated websocket from Origin ${origin}`, async () => {
      const attempt = await openWebSocket(suite.gateway.port, "/user/alice/api/kernels/x/channels", {
        ...ALICE_COOKIE,
        origin,
      });
      assert.equal(attempt.opened, false);
      if (!attempt.opened) {
        assert.equal(attempt.status, 403);
        assert.equal(attempt.code, "cross_origin");
      }
      assert.equal(suite.server("alice").upgradeRequests.length, 0);
    });
  }

  it("refuses a cookie-authenticated websocket with no Origin", async () => {
    const attempt = await openWebSocket(
      suite.gateway.port,
      "/user/alice/api/kernels/x/channels",
      ALICE_COOKIE,
    );
    assert.equal(attempt.opened ? 0 : attempt.status, 403);
    assert.equal(suite.server("alice").upgradeRequests.length, 0);
  });

  it("opens a token-authenticated websocket from any origin", async () => {
    const attempt = await openWebSocket(suite.gateway.port, "/user/alice/api/kernels/x/channels", {
      authorization: "token tok-alice",
      origin: "https://evil.example",
    });
    assert.equal(attempt.opened, true);
    if (attempt.opened) attempt.socket.terminate();
  });
});
