import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { removeDir, startTestHub } from "../support/test-hub.js";

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe("the data directory and the database", () => {
  const made: string[] = [];
  let umask: number;

  /** A fresh parent directory (0700, from mkdtemp), removed after the suite. */
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-perm-"));
    made.push(dir);
    return dir;
  };

  // The usual umask 022 is what made the database 0644; the hub must not depend on a stricter one.
  before(() => {
    umask = process.umask(0o022);
  });

  after(() => {
    process.umask(umask);
    for (const dir of made) removeDir(dir);
  });

  it("creates the data directory 0700 and every file in it 0600, the database's -wal and -shm too", async () => {
    const dataDir = join(scratch(), "data");
    const hub = await startTestHub({}, { dataDir, name: "perm-fresh" });
    try {
      assert.equal(modeOf(dataDir), 0o700);
      const files = ["slipway.sqlite", "slipway.sqlite-wal", "slipway.sqlite-shm", "secret.key"];
      files.push("callback.key", "hub-id", "first-admin.json");
      for (const name of files) {
        assert.ok(existsSync(join(dataDir, name)), `${name} exists`);
        assert.equal(modeOf(join(dataDir, name)).toString(8), "600", name);
      }
    } finally {
      await hub.stop();
    }
  });

  it("refuses a data directory that others may read, saying which chmod fixes it, and writes nothing", async () => {
    for (const mode of [0o755, 0o750, 0o703]) {
      const dataDir = scratch();
      chmodSync(dataDir, mode);
      await assert.rejects(startTestHub({}, { dataDir, name: "perm-dir" }), (error: Error) => {
        assert.ok(error.message.includes(dataDir), error.message);
        assert.ok(error.message.includes(`chmod 700 ${dataDir}`), error.message);
        return true;
      });
      assert.ok(!existsSync(join(dataDir, "slipway.sqlite")), "no database was made");
      assert.ok(!existsSync(join(dataDir, "secret.key")), "no key was made");
    }
  });

  it("accepts a data directory that others may only pass through (0711)", async () => {
    const dataDir = scratch();
    chmodSync(dataDir, 0o711);
    const hub = await startTestHub({}, { dataDir, name: "perm-traverse" });
    await hub.stop();
    assert.equal(modeOf(join(dataDir, "slipway.sqlite")), 0o600);
  });

  it("refuses a database, or a -wal beside it, that others may read", async () => {
    for (const name of ["slipway.sqlite", "slipway.sqlite-wal"]) {
      const dataDir = scratch();
      const first = await startTestHub({}, { dataDir, name: "perm-db" });
      await first.stop();
      const file = join(dataDir, name);
      if (!existsSync(file)) writeFileSync(file, "");
      chmodSync(file, 0o644);
      await assert.rejects(startTestHub({}, { dataDir, name: "perm-db" }), (error: Error) => {
        assert.ok(error.message.includes(`chmod 600 ${file}`), error.message);
        return true;
      });
      assert.equal(modeOf(file), 0o644, "the hub does not quietly change it");
    }
  });
});
