import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_RESPONSE_HEADERS, parseResponseHead, type ResponseHead } from "./response-head.js";

/** Parses `head`, which must hold its CRLF CRLF (what follows it is body). */
function parse(head: string): ResponseHead | string {
  const bytes = Buffer.from(head, "latin1");
  const end = bytes.indexOf("\r\n\r\n");
  assert.notEqual(end, -1, "a test head needs its CRLF CRLF");
  return parseResponseHead(bytes, end);
}

function accepted(head: string): ResponseHead {
  const parsed = parse(head);
  if (typeof parsed === "string") assert.fail(`refused: ${parsed}`);
  return parsed;
}

function lines(count: number): string {
  return "X-H: v\r\n".repeat(count);
}

describe("parseResponseHead on a status line", () => {
  it("reads status, reason, headers in order and the head's length", () => {
    const head =
      "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Empty:\r\nContent-Length:  5 \r\n\r\nhello";
    const parsed = accepted(head);
    assert.equal(parsed.status, 201);
    assert.equal(parsed.reason, "Created");
    assert.deepEqual(parsed.raw, ["Content-Type", "text/plain", "X-Empty", "", "Content-Length", "5"]);
    assert.equal(parsed.contentLength, 5);
    assert.equal(parsed.chunked, false);
    assert.equal(parsed.close, false);
    assert.equal(parsed.headLength, head.indexOf("hello"));
  });

  for (const [form, head, reason] of [
    ["no reason phrase", "HTTP/1.1 204\r\n\r\n", ""],
    ["an empty reason phrase", "HTTP/1.1 204 \r\n\r\n", ""],
    ["spaces inside the reason phrase", "HTTP/1.1 404 Not  Found \r\n\r\n", "Not  Found "],
    ["a tab and obs-text in the reason phrase", "HTTP/1.1 200 \tD\xe9j\xe0 vu\r\n\r\n", "\tD\xe9j\xe0 vu"],
  ]) {
    it(`accepts ${form ?? ""} and keeps it as sent`, () => {
      assert.equal(accepted(head ?? "").reason, reason);
    });
  }

  it("accepts every three-digit status from 100 to 999", () => {
    assert.equal(accepted("HTTP/1.1 100 Continue\r\n\r\n").status, 100);
    assert.equal(accepted("HTTP/1.1 999 Odd\r\n\r\n").status, 999);
  });

  it("reads HTTP/1.0 as closing unless it says keep-alive", () => {
    assert.equal(accepted("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").close, true);
    assert.equal(accepted("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").close, false);
    assert.equal(accepted("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").close, true);
  });

  for (const [why, head] of [
    ["HTTP/2", "HTTP/2 200 OK\r\n\r\n"],
    ["HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n"],
    ["HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n"],
    ["HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n"],
    ["a lower-case version", "http/1.1 200 OK\r\n\r\n"],
    ["a line before the status line", "\r\nHTTP/1.1 200 OK\r\n\r\n"],
    ["two spaces before the status", "HTTP/1.1  200 OK\r\n\r\n"],
    ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n"],
    ["a status below 100", "HTTP/1.1 099 Odd\r\n\r\n"],
    ["a four-digit status", "HTTP/1.1 2000 OK\r\n\r\n"],
    ["a letter in the status", "HTTP/1.1 2O0 OK\r\n\r\n"],
    ["a control byte in the reason phrase", "HTTP/1.1 200 O\x01K\r\n\r\n"],
    ["a bare CR in the reason phrase", "HTTP/1.1 200 O\rK\r\n\r\n"],
    ["a status line ended by a bare LF", "HTTP/1.1 200 OK\nX: y\r\n\r\n"],
  ]) {
    it(`refuses ${why ?? ""}`, () => {
      assert.equal(typeof parse(head ?? ""), "string");
    });
  }
});

describe("parseResponseHead on header lines", () => {
  for (const [why, line] of [
    ["an obs-fold (a line that starts with a space)", "X-A: a\r\n b\r\n"],
    ["an obs-fold (a line that starts with a tab)", "X-A: a\r\n\tb\r\n"],
    ["whitespace before the colon", "X-A : a\r\n"],
    ["no colon", "X-A a\r\n"],
    ["an empty name", ": a\r\n"],
    ["a non-token byte in the name", "X(a): b\r\n"],
    ["a non-ASCII byte in the name", "X\xe9: b\r\n"],
    ["a NUL in the value", "X-A: a\0b\r\n"],
    ["a control byte in the value", "X-A: a\x7fb\r\n"],
    ["a bare CR in the value", "X-A: a\rb\r\n"],
    ["a line ended by a bare LF", "X-A: a\nX-B: b\r\n"],
  ]) {
    it(`refuses ${why ?? ""}`, () => {
      assert.equal(
        parse(`HTTP/1.1 200 OK\r\n${line ?? ""}Content-Length: 0\r\n\r\n`),
        "malformed header line",
      );
    });
  }

  it("keeps repeated headers repeated, in order", () => {
    const parsed = accepted("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nVary: x\r\nset-cookie: b=2\r\n\r\n");
    assert.deepEqual(parsed.raw, ["Set-Cookie", "a=1", "Vary", "x", "set-cookie", "b=2"]);
  });

  it("reads every Connection header, not only the last", () => {
    const parsed = accepted("HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: x-private\r\n\r\n");
    assert.equal(parsed.close, true);
  });

  it(`accepts ${MAX_RESPONSE_HEADERS} header lines and refuses one more`, () => {
    assert.equal(
      accepted(`HTTP/1.1 200 OK\r\n${lines(MAX_RESPONSE_HEADERS)}\r\n`).raw.length,
      MAX_RESPONSE_HEADERS * 2,
    );
    assert.equal(parse(`HTTP/1.1 200 OK\r\n${lines(MAX_RESPONSE_HEADERS + 1)}\r\n`), "malformed header line");
  });
});

describe("parseResponseHead on a body's framing", () => {
  it("reads Content-Length, with leading zeros, and -1 without one", () => {
    assert.equal(accepted("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").contentLength, 0);
    assert.equal(accepted("HTTP/1.1 200 OK\r\ncontent-length: 007\r\n\r\n").contentLength, 7);
    assert.equal(accepted("HTTP/1.1 200 OK\r\n\r\n").contentLength, -1);
  });

  it("reads chunked in any case", () => {
    const parsed = accepted("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assert.equal(parsed.chunked, true);
    assert.equal(parsed.contentLength, -1);
  });

  for (const [why, headers, reason] of [
    [
      "two Content-Lengths of the same value",
      "Content-Length: 5\r\nContent-Length: 5\r\n",
      "more than one Content-Length",
    ],
    [
      "two different Content-Lengths",
      "Content-Length: 5\r\ncontent-length: 6\r\n",
      "more than one Content-Length",
    ],
    ["a Content-Length list", "Content-Length: 5, 5\r\n", "malformed Content-Length"],
    ["a signed Content-Length", "Content-Length: +5\r\n", "malformed Content-Length"],
    ["an empty Content-Length", "Content-Length:\r\n", "malformed Content-Length"],
    ["a Content-Length of 16 digits", "Content-Length: 1000000000000000\r\n", "malformed Content-Length"],
    [
      "two Transfer-Encodings",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
      "more than one Transfer-Encoding",
    ],
    [
      "Transfer-Encoding: gzip, chunked",
      "Transfer-Encoding: gzip, chunked\r\n",
      "a transfer coding other than chunked",
    ],
    [
      "Transfer-Encoding: chunked, gzip",
      "Transfer-Encoding: chunked, gzip\r\n",
      "a transfer coding other than chunked",
    ],
    ["an empty Transfer-Encoding", "Transfer-Encoding:\r\n", "a transfer coding other than chunked"],
    [
      "Content-Length with Transfer-Encoding",
      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
      "Content-Length with Transfer-Encoding",
    ],
  ]) {
    it(`refuses ${why ?? ""}`, () => {
      assert.equal(parse(`HTTP/1.1 200 OK\r\n${headers ?? ""}\r\n`), reason);
    });
  }
});
