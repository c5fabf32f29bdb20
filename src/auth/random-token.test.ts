import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constantTimeEqual, newApiToken, newToken, sha256Hex } from "./random-token.js";

describe("newToken", () => {
  it("returns 32 random bytes as 43 base64url characters by default", () => {
    const token = newToken();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token, "base64url").length, 32);
    assert.notEqual(token, newToken());
  });

  it("refuses fewer than 128 bits", () => {
    assert.match(newToken(16), /^[A-Za-z0-9_-]{22}$/);
    assert.throws(() => newToken(15), RangeError);
    assert.throws(() => newToken(16.5), RangeError);
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 'abc' vector", () => {
    assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("constantTimeEqual", () => {
  it("is true only for equal strings, including strings of different lengths", () => {
    assert.equal(constantTimeEqual("slw_abc", "slw_abc"), true);
    assert.equal(constantTimeEqual("", ""), true);
    assert.equal(constantTimeEqual("slw_abc", "slw_abd"), false);
    assert.equal(constantTimeEqual("slw_abc", "slw_ab"), false);
    assert.equal(constantTimeEqual("", "x".repeat(10_000)), false);
  });
});

describe("newApiToken", () => {
  it("returns slw_ and 43 characters, its 8-character prefix and its SHA-256", () => {
    const { token, prefix, hash } = newApiToken();
    assert.match(token, /^slw_[A-Za-z0-9_-]{43}$/);
    assert.equal(prefix, token.slice(4, 12));
    assert.equal(hash, sha256Hex(token));
    assert.notEqual(newApiToken().token, token);
  });
});
