import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRequestHead } from "./request-head.js";

function parse(head: string): ReturnType<typeof parseRequestHead> {
  const bytes = Buffer.from(head, "latin1");
  return parseRequestHead(bytes, bytes.indexOf("\r\n\r\n"), 100);
}

describe("parseRequestHead", () => {
  it("reads a plain /user/ request: method, raw target, headers in order, the gate's headers", () => {
    const head =
      "POST /user/alice/api/x?y=%2F HTTP/1.1\r\nHost: hub:8000\r\nCookie: a=b\r\nContent-Length:  12 \r\n" +
      "Origin: http://hub:8000\r\nX-Empty:\r\n\r\nbody follows";
    const request = parse(head);
    assert.ok(request !== undefined);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/user/alice/api/x?y=%2F");
    assert.deepEqual(request.raw, [
      "Host",
      "hub:8000",
      "Cookie",
      "a=b",
      "Content-Length",
      "12",
      "Origin",
      "http://hub:8000",
      "X-Empty",
      "",
    ]);
    assert.equal(request.contentLength, 12);
    assert.equal(request.headers.cookie, "a=b");
    assert.equal(request.headers.origin, "http://hub:8000");
    assert.equal(request.close, false);
    assert.equal(request.headLength, head.indexOf("body follows"));
  });

  it("notes Connection: close", () => {
    assert.equal(
      parse("GET /user/a/ HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n")?.close,
      true,
    );
  });

  for (const [why, head] of [
    ["a path outside /user/", "GET /hub/home HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["an absolute-form target", "GET http://h/user/a/ HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["HTTP/1.0", "GET /user/a/ HTTP/1.0\r\nHost: h\r\n\r\n"],
    ["an unknown method", "PROPFIND /user/a/ HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["a lower-case method", "get /user/a/ HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["two spaces in the request line", "GET  /user/a/ HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["a non-ASCII byte in the target", "GET /user/a/\xe9 HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["no Host", "GET /user/a/ HTTP/1.1\r\nX: y\r\n\r\n"],
    ["two Hosts", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n"],
    ["a Host with a space", "GET /user/a/ HTTP/1.1\r\nHost: h i\r\n\r\n"],
    [
      "two Content-Lengths",
      "POST /user/a/ HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
    ],
    ["a signed Content-Length", "POST /user/a/ HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n"],
    ["a Content-Length list", "POST /user/a/ HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n"],
    ["Transfer-Encoding", "POST /user/a/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["Expect", "POST /user/a/ HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"],
    ["Upgrade", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"],
    ["Connection: upgrade", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n"],
    [
      "two Authorizations",
      "GET /user/a/ HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nauthorization: b\r\n\r\n",
    ],
    ["two Cookies", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n"],
    ["whitespace before a colon", "GET /user/a/ HTTP/1.1\r\nHost : h\r\n\r\n"],
    ["an obs-fold", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"],
    ["a bare CR", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"],
    ["a bare LF", "GET /user/a/ HTTP/1.1\r\nHost: h\nX: a\r\n\r\n"],
    ["a control byte", "GET /user/a/ HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n"],
    ["an empty line first", "\r\nGET /user/a/ HTTP/1.1\r\nHost: h\r\n\r\n"],
  ]) {
    it(`refuses ${why}`, () => {
      assert.equal(parse(head ?? ""), undefined);
    });
  }
});
