import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchSpec } from "../ports/launcher.js";
import type { ProcessRunner } from "../ports/process-runner.js";
import { ProcReader } from "../helper/proc-reader.js";
import { detectJupyterCommand, LocalLauncher, type LocalLauncherOptions } from "./local-launcher.js";
import {
  CONFIGURED_SOCKET,
  recordingContext,
  removeServerDir,
  statusOf,
  TEST_HUB_ID,
  testClock,
  testProbe,
  testSocketDir,
  uniqueServerId,
} from "./local-launcher-test-fixture.js";

const jupyter = detectJupyterCommand(process.env["PATH"]);
const me = userInfo();
const skip =
  jupyter === undefined && !process.env["CI"]
    ? "Jupyter is not installed on this machine (it is in CI)."
    : false;

/** A process runner that must not be used: as the hub's account, no helper program runs. */
class RefusingRunner implements ProcessRunner {
  calls = 0;
  run(): never {
    this.calls += 1;
    throw new Error("no program should be run");
  }
}

const socketDir = await testSocketDir("hub");

function launcher(overrides: Partial<LocalLauncherOptions> = {}): LocalLauncher {
  return new LocalLauncher({
    runner: new RefusingRunner(),
    runAs: "hub",
    hubId: TEST_HUB_ID,
    command: jupyter ?? ["jupyter-is-missing"],
    workDir: "~",
    socketDir,
    probe: testProbe,
    startTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
    clock: testClock,
    ...overrides,
  });
}

function spec(serverId: number): LaunchSpec {
  return {
    serverId,
    attemptId: randomUUID(),
    userName: me.username,
    serverName: "",
    baseUrl: `/user/${me.username}/`,
    token: randomBytes(24).toString("hex"),
    options: {},
  };
}

const launcherSource = fileURLToPath(new URL("./local-launcher.ts", import.meta.url));
const fixtureSource = fileURLToPath(new URL("./local-launcher-test-fixture.ts", import.meta.url));

/**
 * Starts a server from a separate Node process that then exits, as a hub would that stops or
 * crashes right after a start, and returns what that launcher persisted.
 */
async function startFromProcessThatExits(s: LaunchSpec, command: readonly string[]): Promise<JsonObject> {
  const script = `
    const { LocalLauncher } = await import(${JSON.stringify(launcherSource)});
    const { recordingContext, testClock, testProbe } = await import(${JSON.stringify(fixtureSource)});
    const spec = JSON.parse(await new Promise((resolve) => {
      let text = "";
      process.stdin.on("data", (c) => (text += c)).on("end", () => resolve(text));
    }));
    const l = new LocalLauncher({
      runner: { run: () => { throw new Error("no program should be run"); } },
      runAs: "hub", hubId: ${JSON.stringify(TEST_HUB_ID)}, command: ${JSON.stringify(command)},
      workDir: "~", socketDir: ${JSON.stringify(socketDir)}, probe: testProbe,
      startTimeoutMs: 30000, stopTimeoutMs: 5000, clock: testClock,
    });
    const { state } = await l.start(spec, recordingContext().ctx);
    process.stdout.write(JSON.stringify(state));
  `;
  const child = promisify(execFile)(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), "--input-type=module", "-e", script],
    { timeout: 60_000 },
  );
  // The spec (with the token) goes through stdin, as a real hub would never put it in argv.
  child.child.stdin?.end(JSON.stringify(s));
  const { stdout } = await child;
  const parsed: unknown = JSON.parse(stdout);
  assert.ok(isJsonObject(parsed), "the launcher printed its state");
  return parsed;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

describe(
  "LocalLauncher as the hub's own account runs the helper's code in-process",
  { skip, timeout: 120_000 },
  () => {
    const started = new Map<number, JsonObject>();
    after(async () => {
      const l = launcher();
      for (const [id, st] of started) {
        await l.stop(me.username, st).catch(() => undefined);
        await removeServerDir(me.homedir, id);
      }
    });

    it("starts, polls, finds, reads and stops a server without running any program but the server", async () => {
      const runner = new RefusingRunner();
      const l = launcher({ runner });
      const s = spec(uniqueServerId());
      const { state, target } = await l.start(s, recordingContext().ctx);
      started.set(s.serverId, state);
      assert.equal(await statusOf(target, `${s.baseUrl}api/status`, s.token), 200);
      assert.equal((await l.poll(me.username, state)).status, "running");
      assert.deepEqual(await l.recover(me.username, s.attemptId, s.serverId), state);
      assert.match(await l.logTail(me.username, state, 20), /Jupyter/);
      await l.stop(me.username, state);
      assert.equal((await l.poll(me.username, state)).status, "gone");
      assert.equal(runner.calls, 0);
    });

    it("leaves a server that outlives the process that started it, which a new launcher adopts and stops", async () => {
      assert.ok(jupyter);
      const s = spec(uniqueServerId());
      const state = await startFromProcessThatExits(s, jupyter);
      started.set(s.serverId, state);
      const pid = Number(state["pid"]);
      const target: ServerTarget = { kind: "unix", socket: String(state["socket"]) };

      // The process that started it is gone; the server still serves, in a session of its own.
      const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
      assert.equal(Number(fields[3]), pid, "the server leads its own session");
      assert.equal(await statusOf(target, `${s.baseUrl}api/status`, s.token), 200);

      // The token is only in the 0600 config inside the 0700 folder, never in argv or environment.
      const dir = join(me.homedir, ".slipway", "servers", `${TEST_HUB_ID}-${s.serverId}`);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(dir, "jupyter_config.json"))).mode & 0o777, 0o600);
      assert.ok((await readFile(join(dir, "jupyter_config.json"), "utf8")).includes(s.token));
      assert.ok(!(await readFile(`/proc/${pid}/cmdline`, "utf8")).includes(s.token));
      assert.ok(!(await readFile(`/proc/${pid}/environ`, "utf8")).includes(s.token));
      assert.ok(!(await readFile(join(dir, "server.log"), "utf8")).includes(s.token));

      const next = launcher();
      assert.deepEqual(await next.recover(me.username, s.attemptId, s.serverId), state);
      assert.deepEqual(await next.poll(me.username, state), {
        status: "running",
        target,
      });
      await next.stop(me.username, state);
      assert.equal((await next.poll(me.username, state)).status, "gone");
      await assert.rejects(stat(join(dir, "jupyter_config.json")), { code: "ENOENT" });
    });
  },
);

/**
 * A clock that records every wait the launcher asks for and lets it pass at once, so the
 * sequence of waits is exact whatever the machine's speed.
 */
class RecordingClock implements Clock {
  #now = Date.now();
  readonly waits: number[] = [];
  now(): Date {
    return new Date(this.#now);
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    this.waits.push(ms);
    const t = setImmediate(() => {
      this.#now += ms;
      fn();
    });
    return { cancel: () => clearImmediate(t) };
  }
}

describe("LocalLauncher's readiness probes", { timeout: 60_000 }, () => {
  it("probes as soon as the port is known, then soon again, backing off while the server is not ready", async () => {
    // Listens at once, answers 503 to its first five requests, then 200.
    const script = [
      "let n = 0;",
      "require('http').createServer((q, r) => { r.statusCode = ++n <= 5 ? 503 : 200; r.end('{}'); })",
      `  .listen(${CONFIGURED_SOCKET});`,
    ].join("\n");
    const clock = new RecordingClock();
    const l = launcher({ command: [process.execPath, "-e", script, "--"], clock });
    const s = spec(uniqueServerId());
    const { state } = await l.start(s, recordingContext().ctx);
    try {
      // Six probes: the first with no wait, then waits that double from 10 ms.
      assert.deepEqual(clock.waits, [10, 20, 40, 80, 160]);
    } finally {
      await l.stop(me.username, state);
      await removeServerDir(me.homedir, s.serverId);
    }
  });
});

describe("LocalLauncher and a server started before servers had sockets", () => {
  it("stops a live server that listens on a TCP port instead of routing to it", async () => {
    const self = await new ProcReader().stat(process.pid);
    assert.ok(self, "this process has a stat line");
    // What an earlier version persisted: a live process (here, this one) and its port.
    const legacy = {
      serverId: 1,
      pid: process.pid,
      startTime: self.startTime,
      port: 8888,
      logPath: "/dev/null",
    };
    const result = await launcher().poll(me.username, legacy);
    assert.equal(result.status, "gone");
    assert.ok(result.status === "gone" && result.cancel === true, "the monitor is told to stop it");
  });
});
