import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { NodeProcessRunner } from "../launchers/node-process-runner.js";

const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const runner = new NodeProcessRunner();

async function helper(verb: string, request: unknown): Promise<{ code: number | null; stdout: string }> {
  const stdin = typeof request === "string" ? request : JSON.stringify(request);
  const r = await runner.run([process.execPath, "--import", import.meta.resolve("tsx"), cli, verb], {
    stdin,
    timeoutMs: 30_000,
  });
  return { code: r.code, stdout: r.stdout };
}

const token = "s3cret-token-that-must-not-leak";
const validStart = {
  hub: "helpertest",
  serverId: 7,
  attemptId: randomUUID(),
  baseUrl: "/user/alice/",
  token,
  command: ["jupyter", "notebook"],
  workDir: "~",
  startTimeoutMs: 1000,
};

describe("slipway-helper's request checks", { timeout: 120_000 }, () => {
  it("rejects a request with an unknown key, with exit code 2", async () => {
    const r = await helper("start", { ...validStart, env: { LD_PRELOAD: "/tmp/x.so" } });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /"code":"bad_request"/);
    assert.match(r.stdout, /Unrecognized key/);
  });

  for (const baseUrl of [
    "/user/Alice/",
    "/user/alice",
    "/user/alice/../bob/",
    "/hub/",
    "/user/alice/lab/tree/",
  ]) {
    it(`rejects the base URL ${baseUrl} with exit code 2, without repeating the token`, async () => {
      const r = await helper("start", { ...validStart, baseUrl });
      assert.equal(r.code, 2);
      assert.match(r.stdout, /baseUrl/);
      assert.ok(!r.stdout.includes(token));
    });
  }

  for (const workDir of ["relative/dir", "~alice", "/home/alice/../bob", ""]) {
    it(`rejects the working directory ${JSON.stringify(workDir)} with exit code 2`, async () => {
      const r = await helper("start", { ...validStart, workDir });
      assert.equal(r.code, 2);
      assert.match(r.stdout, /workDir/);
    });
  }

  it("rejects a server id that is not a positive integer", async () => {
    const r = await helper("find", { hub: "helpertest", serverId: "7/../../etc", attemptId: randomUUID() });
    assert.equal(r.code, 2);
  });

  it("rejects an unknown verb with exit code 2", async () => {
    const r = await helper("exec", {});
    assert.equal(r.code, 2);
    assert.match(r.stdout, /Unknown verb/);
  });

  it("rejects input that is not JSON with exit code 2", async () => {
    const r = await helper("poll", "pid=1");
    assert.equal(r.code, 2);
    assert.match(r.stdout, /not valid JSON/);
  });

  it("answers a poll of a process that is not the recorded one with alive: false", async () => {
    // This test process is alive, but it started long after boot: a start time of 0 is not it.
    const r = await helper("poll", { pid: process.pid, startTime: 0 });
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, result: { alive: false } });
  });
});
