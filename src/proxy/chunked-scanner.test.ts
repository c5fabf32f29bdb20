import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChunkedScanner, LAST_CHUNK } from "./chunked-scanner.js";

/** Feeds `body` in the given pieces; returns what would be relayed, or "malformed". */
function relay(pieces: Buffer[]): { relayed: string; consumed: number } | "malformed" {
  const scanner = new ChunkedScanner();
  let relayed = "";
  let consumed = 0;
  for (const piece of pieces) {
    if (!scanner.scan(piece)) return "malformed";
    if (scanner.relay !== undefined) relayed += scanner.relay.toString("latin1");
    consumed += scanner.consumed;
    if (scanner.done) return { relayed: relayed + LAST_CHUNK.toString("latin1"), consumed };
  }
  return { relayed, consumed: -1 };
}

const BODY = '5;ext="v"\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n';
const RELAYED = '5;ext="v"\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n';

describe("ChunkedScanner", () => {
  it("relays the chunks as they are, drops trailers and finds the end however the body is split", () => {
    const bytes = Buffer.from(BODY, "latin1");
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      for (let second = cut; second <= bytes.length; second += 7) {
        const pieces = [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)];
        assert.deepEqual(
          relay(pieces),
          { relayed: RELAYED, consumed: bytes.length },
          `cut at ${cut}, ${second}`,
        );
      }
    }
  });

  it("stops at the body's end and leaves what follows", () => {
    const result = relay([Buffer.from("2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", "latin1")]);
    assert.deepEqual(result, { relayed: "2\r\nok\r\n0\r\n\r\n", consumed: 12 });
  });

  for (const [why, body] of [
    ["a size with a space", "5 \r\nhello\r\n0\r\n\r\n"],
    ["a signed size", "+5\r\nhello\r\n0\r\n\r\n"],
    ["an empty size", "\r\nhello\r\n0\r\n\r\n"],
    ["a size line ended by a bare LF", "5\nhello\r\n0\r\n\r\n"],
    ["data longer than its size", "5\r\nhello!\r\n0\r\n\r\n"],
    ["a bare LF after the data", "5\r\nhello\n0\r\n\r\n"],
    ["a size too large", "fffffffffffffff\r\n"],
    ["a control byte in an extension", "5;a\x01\r\nhello\r\n0\r\n\r\n"],
    ["a trailer ended by a bare LF", "0\r\nX: y\n\r\n"],
  ]) {
    it(`refuses ${why}`, () => {
      assert.equal(relay([Buffer.from(body ?? "", "latin1")]), "malformed");
    });
  }
});
