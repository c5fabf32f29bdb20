import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PasswordHasher } from "./password-hasher.js";
import type { ScryptCost, ScryptKdf } from "./password-hasher.js";

const ENCODED = /^scrypt\$32768\$8\$1\$([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=)$/;

/** A KDF that records its calls and returns zeros, for tests about what work is done. */
function recordingKdf(): { kdf: ScryptKdf; calls: { password: string; keylen: number; cost: ScryptCost }[] } {
  const calls: { password: string; keylen: number; cost: ScryptCost }[] = [];
  const kdf: ScryptKdf = (password, _salt, keylen, cost) => {
    calls.push({ password, keylen, cost });
    return Promise.resolve(Buffer.alloc(keylen));
  };
  return { kdf, calls };
}

describe("PasswordHasher", () => {
  const hasher = new PasswordHasher();

  it("verifies the password it hashed", async () => {
    const encoded = await hasher.hash("correct horse battery staple");
    assert.equal(await hasher.verify("correct horse battery staple", encoded), true);
  });

  it("refuses a wrong password", async () => {
    const encoded = await hasher.hash("correct horse battery staple");
    assert.equal(await hasher.verify("correct horse battery stapLe", encoded), false);
    assert.equal(await hasher.verify("", encoded), false);
  });

  it("writes scrypt$N$r$p with a 16-byte salt and a 32-byte hash", async () => {
    const match = ENCODED.exec(await hasher.hash("pw"));
    assert.ok(match, "the encoding has the documented shape");
    assert.equal(Buffer.from(match[1] ?? "", "base64").length, 16);
    assert.equal(Buffer.from(match[2] ?? "", "base64").length, 32);
  });

  it("gives two different hashes for the same password, because each has its own salt", async () => {
    const [a, b] = await Promise.all([hasher.hash("same"), hasher.hash("same")]);
    assert.notEqual(a, b);
    assert.notEqual(a?.split("$")[4], b?.split("$")[4]);
  });

  it("accepts a password typed in another Unicode normal form", async () => {
    const encoded = await hasher.hash("caf\u00e9");
    assert.equal(await hasher.verify("cafe\u0301", encoded), true);
  });

  it("treats a malformed or out-of-bounds encoding as a mismatch, never an error", async () => {
    const good = await hasher.hash("pw");
    const [, , , , salt, hash] = good.split("$");
    const bad = [
      "",
      "scrypt",
      "not a hash at all",
      good.replace("scrypt$", "bcrypt$"),
      `${good}$extra`,
      `${good}\n`,
      `scrypt$032768$8$1$${salt}$${hash}`, // leading zero
      `scrypt$30000$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$1073741824$8$1$${salt}$${hash}`, // 2^30: would need 1 TiB
      `scrypt$32768$0$1$${salt}$${hash}`,
      `scrypt$32768$8$99$${salt}$${hash}`,
      `scrypt$32768$8$1$${salt}$${hash?.slice(0, -4)}`, // truncated hash, a prefix of the right one
      `scrypt$32768$8$1$QUJD$${hash}`, // 3-byte salt
      `scrypt$32768$8$1$${salt}$${hash?.replace(/=$/, "")}`, // non-canonical base64
      `scrypt$32768$8$1$${salt}$!${hash?.slice(1)}`,
    ];
    for (const encoded of bad) {
      assert.equal(await hasher.verify("pw", encoded), false, `refuses ${JSON.stringify(encoded)}`);
    }
  });

  it("verifies with the cost stored in the hash, so old hashes keep working after a cost change", async () => {
    const older = new PasswordHasher({ cost: { N: 2 ** 14, r: 8, p: 1 } });
    const encoded = await older.hash("pw");
    assert.match(encoded, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await hasher.verify("pw", encoded), true);
  });

  it("asks for a re-hash only when the parameters differ from the current ones or the hash is unreadable", async () => {
    const older = new PasswordHasher({ cost: { N: 2 ** 14, r: 8, p: 1 } });
    assert.equal(hasher.needsRehash(await hasher.hash("pw")), false);
    assert.equal(hasher.needsRehash(await older.hash("pw")), true);
    assert.equal(hasher.needsRehash("garbage"), true);
  });

  it("spends one key derivation at the current cost when the user does not exist", async () => {
    const { kdf, calls } = recordingKdf();
    const probe = new PasswordHasher({ kdf });
    await probe.verifyDummy();
    await probe.verify("pw", await new PasswordHasher().hash("pw"));
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0]?.cost, calls[1]?.cost);
    assert.equal(calls[0]?.keylen, calls[1]?.keylen);
    assert.deepEqual(calls[0]?.cost, { N: 32768, r: 8, p: 1 });
  });

  it("does not run the key derivation at all for a malformed hash", async () => {
    const { kdf, calls } = recordingKdf();
    assert.equal(await new PasswordHasher({ kdf }).verify("pw", "scrypt$1$1$1$x$y"), false);
    assert.equal(calls.length, 0);
  });

  it("refuses to be built with an unusable cost", () => {
    assert.throws(() => new PasswordHasher({ cost: { N: 1000, r: 8, p: 1 } }), RangeError);
    assert.throws(() => new PasswordHasher({ cost: { N: 2 ** 22, r: 8, p: 1 } }), RangeError);
    assert.throws(() => new PasswordHasher({ cost: { N: 2 ** 15, r: 0, p: 1 } }), RangeError);
  });
});
