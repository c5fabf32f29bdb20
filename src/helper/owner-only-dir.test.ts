import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { HelperFailure } from "./helper-failure.js";
import { checkOwnerOnlyDir, prepareOwnerOnlyDirs } from "./owner-only-dir.js";

const me = userInfo().uid;

/** The uid of `bob` (scripts/test-users.sh), when this account may give him a directory. */
function otherAccount(): number | undefined {
  if (me !== 0) return undefined;
  try {
    return Number(execFileSync("id", ["-u", "bob"], { encoding: "utf8", stdio: "pipe" }).trim());
  } catch {
    return undefined;
  }
}

function refusal(level: string) {
  return (err: unknown) => {
    assert.ok(err instanceof HelperFailure, `expected a HelperFailure, got ${String(err)}`);
    assert.equal(err.code, "failed");
    assert.equal(err.message, `${level} is not a directory owned by this user`);
    return true;
  };
}

describe("the owner-only directory chain", () => {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh home, and the three levels of a server's folder under it. */
  async function chain(): Promise<{ home: string; levels: [string, string, string] }> {
    const home = await mkdtemp(join(tmpdir(), "slipway-owner-only-"));
    made.push(home);
    const base = join(home, ".slipway");
    return { home, levels: [base, join(base, "servers"), join(base, "servers", "hub-1")] };
  }

  it("creates every missing level, each 0700 and this account's", async () => {
    const { levels } = await chain();
    await prepareOwnerOnlyDirs(levels, me);
    for (const level of levels) {
      const st = await lstat(level);
      assert.ok(st.isDirectory(), level);
      assert.equal(st.uid, me);
      assert.equal(st.mode & 0o777, 0o700, level);
    }
  });

  it("creates only the levels that are missing, keeping what the others hold", async () => {
    const { levels } = await chain();
    await mkdir(levels[1], { recursive: true, mode: 0o700 });
    await writeFile(join(levels[1], "kept"), "");
    await prepareOwnerOnlyDirs(levels, me);
    assert.deepEqual((await readdir(levels[1])).sort(), ["hub-1", "kept"]);
    assert.equal((await lstat(levels[2])).mode & 0o777, 0o700);
  });

  it("puts back 0700 on a level someone widened", async () => {
    const { levels } = await chain();
    await prepareOwnerOnlyDirs(levels, me);
    await chmod(levels[0], 0o755);
    await chmod(levels[2], 0o777);
    await prepareOwnerOnlyDirs(levels, me);
    assert.equal((await lstat(levels[0])).mode & 0o777, 0o700);
    assert.equal((await lstat(levels[2])).mode & 0o777, 0o700);
  });

  it("refuses a symbolic link in place of a level, and makes nothing through it", async () => {
    const { levels } = await chain();
    const elsewhere = await mkdtemp(join(tmpdir(), "slipway-owner-only-target-"));
    made.push(elsewhere);
    await mkdir(levels[0], { mode: 0o700 });
    await symlink(elsewhere, levels[1]);
    await assert.rejects(prepareOwnerOnlyDirs(levels, me), refusal(levels[1]));
    assert.deepEqual(await readdir(elsewhere), []);
    assert.ok((await lstat(levels[1])).isSymbolicLink());
  });

  it("refuses a file in place of a level", async () => {
    const { levels } = await chain();
    await mkdir(levels[1], { recursive: true, mode: 0o700 });
    await writeFile(levels[2], "");
    await assert.rejects(prepareOwnerOnlyDirs(levels, me), refusal(levels[2]));
  });

  it(
    "refuses a level owned by another account, and leaves its mode alone",
    { skip: otherAccount() === undefined ? "needs root and the test user bob" : false },
    async () => {
      const bob = otherAccount() ?? assert.fail("no bob");
      const { levels } = await chain();
      await mkdir(levels[1], { recursive: true, mode: 0o700 });
      await chown(levels[1], bob, bob);
      await chmod(levels[1], 0o755);
      await assert.rejects(prepareOwnerOnlyDirs(levels, me), refusal(levels[1]));
      const st = await lstat(levels[1]);
      assert.equal(st.uid, bob);
      assert.equal(st.mode & 0o777, 0o755);
      assert.deepEqual(await readdir(levels[1]), []);
    },
  );

  it("refuses a directory of this account when asked for another's", async () => {
    const { levels } = await chain();
    await prepareOwnerOnlyDirs(levels, me);
    await assert.rejects(prepareOwnerOnlyDirs(levels, me + 1), refusal(levels[0]));
  });

  it("reports a missing directory as Node's ENOENT when only checking", async () => {
    const { levels } = await chain();
    await assert.rejects(checkOwnerOnlyDir(levels[2], me), { code: "ENOENT" });
  });
});
