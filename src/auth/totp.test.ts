import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Totp } from "./totp.js";

/** RFC 6238 Appendix B's SHA-1 seed, the ASCII string "12345678901234567890", in base32. */
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const at = (unixSeconds: number): Date => new Date(unixSeconds * 1000);

describe("Totp", () => {
  const totp = new Totp();

  it("matches the RFC 6238 Appendix B SHA-1 vectors, truncated to 6 digits", () => {
    // Appendix B gives 8-digit codes; the 6-digit code is the same value modulo 10^6 (RFC 4226 §5.3).
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [seconds, eightDigits] of vectors) {
      assert.equal(totp.codeAt(RFC_SECRET, at(seconds)), eightDigits.slice(2), `T=${seconds}`);
    }
  });

  it("accepts 287082 at 59 s and returns time step 1", () => {
    assert.equal(totp.verify(RFC_SECRET, "287082", at(59)), 1);
  });

  it("accepts the codes of one step before and one step after, and returns that step", () => {
    const now = at(1_700_000_015); // step 56666667
    const step = Math.floor(1_700_000_015 / 30);
    assert.equal(totp.verify(RFC_SECRET, totp.codeAt(RFC_SECRET, now), now), step);
    assert.equal(totp.verify(RFC_SECRET, totp.codeAt(RFC_SECRET, at(1_700_000_015 - 30)), now), step - 1);
    assert.equal(totp.verify(RFC_SECRET, totp.codeAt(RFC_SECRET, at(1_700_000_015 + 30)), now), step + 1);
  });

  it("refuses the codes of two steps before and two steps after", () => {
    const now = at(1_700_000_015);
    const window = [-30, 0, 30].map((d) => totp.codeAt(RFC_SECRET, at(1_700_000_015 + d)));
    for (const offset of [-60, 60]) {
      const code = totp.codeAt(RFC_SECRET, at(1_700_000_015 + offset));
      assert.ok(!window.includes(code), "the fixture has no accidental collision");
      assert.equal(totp.verify(RFC_SECRET, code, now), null, `offset ${offset} s`);
    }
  });

  it("refuses anything but exactly six ASCII digits", () => {
    const now = at(59);
    for (const code of [
      "",
      "28708",
      "2870820",
      "94287082",
      " 287082",
      "287082 ",
      "287082\n",
      "28708a",
      "+28708",
      "２８７０８２", // full-width digits
      "٢٨٧٠٨٢", // Arabic-Indic digits
    ]) {
      assert.equal(totp.verify(RFC_SECRET, code, now), null, `refuses ${JSON.stringify(code)}`);
    }
  });

  it("refuses a malformed code before it looks at the secret", () => {
    assert.equal(totp.verify("not base32!", "abc", at(59)), null);
  });

  it("throws on a malformed or too short secret, which is a fault on the server side", () => {
    assert.throws(() => totp.verify("not base32!", "287082", at(59)), TypeError);
    assert.throws(() => totp.verify("GEZDGNBV", "287082", at(59)), /at least 16 bytes/);
  });

  it("generates 160-bit base32 secrets that differ each time", () => {
    const a = totp.generateSecret();
    assert.match(a, /^[A-Z2-7]{32}$/);
    assert.notEqual(a, totp.generateSecret());
    assert.match(totp.codeAt(a, at(59)), /^[0-9]{6}$/);
  });

  it("builds a provisioning URI with issuer, account, SHA1, 6 digits and 30 s", () => {
    const uri = new URL(
      totp.provisioningUri({ issuer: "Slipway Hub", account: "alice", secret: RFC_SECRET }),
    );
    assert.equal(uri.protocol, "otpauth:");
    assert.equal(uri.host, "totp");
    assert.equal(decodeURIComponent(uri.pathname), "/Slipway Hub:alice");
    assert.equal(uri.searchParams.get("issuer"), "Slipway Hub");
    assert.equal(uri.searchParams.get("secret"), RFC_SECRET);
    assert.equal(uri.searchParams.get("algorithm"), "SHA1");
    assert.equal(uri.searchParams.get("digits"), "6");
    assert.equal(uri.searchParams.get("period"), "30");
  });

  it("refuses a colon in the issuer or account, which would change the label", () => {
    assert.throws(() => totp.provisioningUri({ issuer: "Evil:Bank", account: "alice", secret: RFC_SECRET }));
    assert.throws(() => totp.provisioningUri({ issuer: "Slipway", account: "a:b", secret: RFC_SECRET }));
  });

  it("renders the URI as an SVG QR code that does not spell out the secret", async () => {
    const uri = totp.provisioningUri({ issuer: "Slipway", account: "alice", secret: RFC_SECRET });
    const svg = await totp.qrSvg(uri);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.ok(!svg.includes(RFC_SECRET));
  });
});
