import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseProcStat, ProcReader } from "./proc-reader.js";

/** A stat line as the kernel writes it, with the given command name and fields 3 to 22. */
function statLine(
  pid: number,
  comm: string,
  state: string,
  ppid: number,
  pgrp: number,
  startTime: number,
): string {
  const middle = Array.from({ length: 16 }, () => "0").join(" ");
  return `${pid} (${comm}) ${state} ${ppid} ${pgrp} ${middle} ${startTime} 123456 789\n`;
}

describe("parseProcStat", () => {
  it("counts fields from the last parenthesis, so a command name with ') ' cannot shift them", () => {
    const s = parseProcStat(statLine(42, "evil) R 1 1 (name", "S", 7, 42, 987654));
    assert.deepEqual(s, { pid: 42, state: "S", ppid: 7, pgrp: 42, startTime: 987654 });
  });

  it("refuses a line that is not a stat line", () => {
    assert.equal(parseProcStat("garbage"), undefined);
  });
});

describe("ProcReader on this machine's /proc", () => {
  const proc = new ProcReader();

  it("tells this process from a process with another start time under the same pid", async () => {
    const me = await proc.stat(process.pid);
    assert.ok(me);
    assert.equal(await proc.isAlive({ pid: process.pid, startTime: me.startTime }), true);
    assert.equal(await proc.isAlive({ pid: process.pid, startTime: me.startTime + 1 }), false);
  });

  it("lists a child among this process's descendants", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    await once(child, "spawn");
    try {
      const pids = (await proc.descendants(process.pid)).map((d) => d.pid);
      assert.ok(child.pid !== undefined && pids.includes(child.pid));
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("ProcReader on a fixture /proc", () => {
  let root = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "slipway-proc-"));
    await mkdir(join(root, "500"));
    await writeFile(join(root, "500", "stat"), statLine(500, "jupyter-noteboo", "Z", 1, 500, 4242));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("counts a zombie as gone, since hosts whose pid 1 never reaps keep them forever", async () => {
    const proc = new ProcReader(root);
    assert.equal(await proc.isAlive({ pid: 500, startTime: 4242 }), false);
  });

  it("counts a pid without a /proc entry as gone", async () => {
    const proc = new ProcReader(root);
    assert.equal(await proc.isAlive({ pid: 501, startTime: 4242 }), false);
  });
});
