import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SecretBox, SecretBoxError, loadOrCreateKey } from "./secret-box.js";

const SHAPE = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/;

/** Flips one bit of the byte at `index` in a base64url part. */
function flipBit(part: string, index: number): string {
  const bytes = Buffer.from(part, "base64url");
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString("base64url");
}

describe("SecretBox", () => {
  const box = new SecretBox(randomBytes(32));

  it("opens what it sealed", () => {
    for (const plain of ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "", "jupyter-token-é-😀"]) {
      const sealed = box.seal(plain);
      assert.match(sealed, SHAPE);
      assert.equal(box.open(sealed), plain);
    }
  });

  it("seals the same string differently each time, because each seal has a fresh IV", () => {
    assert.notEqual(box.seal("seed"), box.seal("seed"));
  });

  it("does not show the plaintext in the sealed value", () => {
    const sealed = box.seal("JBSWY3DPEHPK3PXP");
    assert.ok(!sealed.includes("JBSWY3DPEHPK3PXP"));
    assert.ok(!Buffer.from(sealed.split(".")[2] ?? "", "base64url").includes("JBSWY3DPEHPK3PXP"));
  });

  it("throws a clear error when the ciphertext, the tag or the IV was altered", () => {
    const [version, iv, body] = box.seal("a TOTP seed").split(".");
    assert.ok(version !== undefined && iv !== undefined && body !== undefined);
    const tagStart = Buffer.from(body, "base64url").length - 16;
    const tampered = [
      `${version}.${iv}.${flipBit(body, 0)}`,
      `${version}.${iv}.${flipBit(body, tagStart)}`,
      `${version}.${flipBit(iv, 0)}.${body}`,
    ];
    for (const sealed of tampered) {
      assert.throws(() => box.open(sealed), { name: "SecretBoxError", message: /failed authentication/ });
    }
  });

  it("refuses a value sealed with another key", () => {
    const other = new SecretBox(randomBytes(32));
    assert.throws(() => box.open(other.seal("x")), SecretBoxError);
  });

  it("refuses a truncated tag instead of accepting a shorter one", () => {
    const [version, iv, body] = box.seal("x").split(".");
    const short = Buffer.from(body ?? "", "base64url")
      .subarray(0, -4)
      .toString("base64url");
    assert.throws(() => box.open(`${version}.${iv}.${short}`), SecretBoxError);
  });

  it("refuses malformed values with a SecretBoxError, never another exception", () => {
    const sealed = box.seal("x");
    const malformed = [
      "",
      "v1",
      "v1..",
      "v2" + sealed.slice(2),
      `${sealed}.extra`,
      sealed.replace(/\.[^.]+$/, ".!!!!"),
      `v1.${Buffer.alloc(8).toString("base64url")}.${sealed.split(".")[2]}`,
      "x".repeat(100_000),
    ];
    for (const value of malformed) {
      assert.throws(() => box.open(value), SecretBoxError, `refuses ${JSON.stringify(value.slice(0, 40))}`);
    }
  });

  it("refuses a key that is not 32 bytes", () => {
    assert.throws(() => new SecretBox(randomBytes(16)), RangeError);
  });
});

describe("loadOrCreateKey", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-key-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a 32-byte key file with mode 0600 and returns the same key next time", async () => {
    const path = join(dir, "created.key");
    const first = await loadOrCreateKey(path);
    assert.equal(first.length, 32);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await readFile(path, "utf8")).trim(), first.toString("base64"));
    assert.deepEqual(await loadOrCreateKey(path), first);
  });

  it("gives concurrent callers one and the same key, and leaves no temporary file behind", async () => {
    const sub = join(dir, "race");
    await mkdir(sub);
    const path = join(sub, "race.key");
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey(path)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.deepEqual(await readdir(sub), ["race.key"]);
  });

  it("refuses a key file that others can read, and says how to fix it", async () => {
    const path = join(dir, "open.key");
    await writeFile(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    await chmod(path, 0o644);
    await assert.rejects(loadOrCreateKey(path), /mode 0644.*chmod 600/s);
  });

  it("refuses a key file that its group can read", async () => {
    const path = join(dir, "group.key");
    await writeFile(path, randomBytes(32).toString("base64"), { mode: 0o600 });
    await chmod(path, 0o640);
    await assert.rejects(loadOrCreateKey(path), /mode 0640/);
  });

  it("refuses a key file that does not hold a 32-byte base64 key, rather than replacing it", async () => {
    const path = join(dir, "short.key");
    await writeFile(path, randomBytes(16).toString("base64"), { mode: 0o600 });
    await assert.rejects(loadOrCreateKey(path), /does not hold a base64-encoded 32-byte key/);
    assert.equal((await readFile(path, "utf8")).length, 24, "the file is left as it was");
  });

  it("refuses a directory in place of the key file", async () => {
    const path = join(dir, "a-directory");
    await mkdir(path, { mode: 0o700 });
    await assert.rejects(loadOrCreateKey(path), /not a regular file/);
  });
});
