import assert from "node:assert/strict";
import { chmod, lstat, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { prepareSocketDir } from "./socket-dir.js";

describe("prepareSocketDir", () => {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  async function fresh(mode = 0o700): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "slipway-sockdir-"));
    made.push(dir);
    await chmod(dir, mode);
    return dir;
  }

  it("makes a private directory when servers run as the hub", async () => {
    const dir = join(await fresh(), "sockets");
    await prepareSocketDir(dir, "hub");
    const st = await lstat(dir);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o7777, 0o700);
  });

  it("makes it sticky and writable by all, but not listable, when servers run as users", async () => {
    const dir = join(await fresh(0o711), "sockets");
    await prepareSocketDir(dir, "user");
    assert.equal((await lstat(dir)).mode & 0o7777, 0o1733);
  });

  it("puts back the mode of a directory someone widened", async () => {
    const dir = join(await fresh(), "sockets");
    await mkdir(dir);
    await chmod(dir, 0o777);
    await prepareSocketDir(dir, "hub");
    assert.equal((await lstat(dir)).mode & 0o7777, 0o700);
  });

  it("refuses a symbolic link in its place", async () => {
    const parent = await fresh();
    await symlink(tmpdir(), join(parent, "sockets"));
    await assert.rejects(
      prepareSocketDir(join(parent, "sockets"), "hub"),
      /not a directory owned by the hub/,
    );
  });

  it("refuses, naming the directory to open, when users could not reach their sockets", async () => {
    const parent = await fresh(0o700);
    await assert.rejects(
      prepareSocketDir(join(parent, "sockets"), "user"),
      new RegExp(`chmod o\\+x ${parent.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
  });

  it("refuses a path too long for the sockets under it", async () => {
    const dir = join(await fresh(), "x".repeat(64));
    await assert.rejects(prepareSocketDir(dir, "hub"), /longer than 64 bytes/);
  });
});
