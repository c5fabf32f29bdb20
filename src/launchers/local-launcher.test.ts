import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { readdir, readFile, readlink, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import type { LaunchContext, LaunchResult, LaunchSpec } from "../ports/launcher.js";
import { detectJupyterCommand, LocalLauncher, type LocalLauncherOptions } from "./local-launcher.js";
import {
  CONFIGURED_SOCKET,
  eventually,
  helperArgv,
  recordingContext,
  removeServerDir,
  statusOf,
  testClock,
  testProbe,
  testSocketDir,
  uniqueServerId,
} from "./local-launcher-test-fixture.js";
import { NodeProcessRunner } from "./node-process-runner.js";
import { TEST_HUB_ID } from "./local-launcher-test-fixture.js";

const jupyter = detectJupyterCommand(process.env["PATH"]);
const me = userInfo();
const skip =
  jupyter === undefined && !process.env["CI"]
    ? "Jupyter is not installed on this machine (it is in CI)."
    : false;

const socketDir = await testSocketDir("hub");

function launcher(overrides: Partial<LocalLauncherOptions> = {}): LocalLauncher {
  return new LocalLauncher({
    runner: new NodeProcessRunner(),
    helperArgv,
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

/** The inodes of the sockets a process holds. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

/** A pid that exists and is not a zombie (this host's pid 1 leaves zombies unreaped). */
async function isLive(pid: number): Promise<boolean> {
  const st = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return st !== "" && !/^\d+ \(.*\) [ZX] /.test(st);
}

/** Pids of live processes whose NUL-separated command line contains `needle`. */
async function processesRunning(needle: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const out: number[] = [];
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(needle) && (await isLive(pid))) out.push(pid);
  }
  return out;
}

function stateNumber(state: JsonObject, key: string): number {
  const v = state[key];
  assert.equal(typeof v, "number", `state.${key} is a number`);
  return Number(v);
}

describe(
  "LocalLauncher running servers as the hub's account, with real Jupyter",
  { skip, timeout: 120_000 },
  () => {
    const local = launcher();
    /** Every server a test tried to start, with the state it persisted, for the teardown. */
    const tried = new Map<number, JsonObject[]>();
    async function start(l: LocalLauncher, s: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
      const states: JsonObject[] = [];
      tried.set(s.serverId, states);
      return l.start(s, { ...ctx, persist: async (st) => (states.push(st), ctx.persist(st)) });
    }

    const main = spec(uniqueServerId());
    const recorded = recordingContext();
    let state: JsonObject = {};
    let target: ServerTarget = { kind: "unix", socket: "/nowhere" };
    let pid = 0;
    const dir = join(me.homedir, ".slipway", "servers", `${TEST_HUB_ID}-${main.serverId}`);

    before(async () => {
      assert.ok(jupyter, "Jupyter must be installed for this suite");
      const result = await start(local, main, recorded.ctx);
      state = result.state;
      target = result.target;
      pid = stateNumber(state, "pid");
    });

    after(async () => {
      for (const [id, states] of tried) {
        for (const st of states) await local.stop(me.username, st).catch(() => undefined);
        await removeServerDir(me.homedir, id);
      }
    });

    it("starts a server that accepts its token on the reported socket and refuses any other", async () => {
      assert.equal(await statusOf(target, `${main.baseUrl}api/status`, main.token), 200);
      assert.equal(await statusOf(target, `${main.baseUrl}api/status`, "not-the-token-0000"), 403);
    });

    it("listens on a socket in a directory of its own under the socket directory, and on no port", async () => {
      assert.equal(target.kind, "unix");
      const socket = target.kind === "unix" ? target.socket : "";
      const where = join(socket, "..");
      assert.equal(join(where, ".."), socketDir);
      assert.ok((await stat(socket)).isSocket());
      assert.equal((await stat(where)).mode & 0o777, 0o711);
      assert.equal((await stat(where)).uid, me.uid);
      const tcp = (await readFile("/proc/net/tcp", "utf8")) + (await readFile("/proc/net/tcp6", "utf8"));
      const inodes = await socketInodes(pid);
      const listening = tcp
        .split("\n")
        .map((row) => row.trim().split(/\s+/))
        .filter((f) => f[3] === "0A" && f[9] !== undefined && inodes.has(f[9]));
      assert.deepEqual(listening, [], "the server listens on a TCP port");
    });

    it("persists the process before it resolves, and reports progress", () => {
      assert.deepEqual(recorded.persisted[0], state);
      assert.ok(recorded.progress.length >= 2);
    });

    it("keeps the token in a 0600 file inside a 0700 directory", async () => {
      const config = join(dir, "jupyter_config.json");
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.equal((await stat(config)).mode & 0o777, 0o600);
      assert.ok((await readFile(config, "utf8")).includes(main.token));
    });

    it("keeps the token out of the server's argv, environment and log", async () => {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      const environ = await readFile(`/proc/${pid}/environ`, "utf8");
      const log = await readFile(join(dir, "server.log"), "utf8");
      assert.ok(cmdline.includes("--config="), "the server was given its config file");
      assert.ok(!cmdline.includes(main.token));
      assert.ok(!environ.includes(main.token));
      assert.ok(log.length > 0 && !log.includes(main.token));
    });

    it("gives the server a clean environment of its own", async () => {
      const environ = await readFile(`/proc/${pid}/environ`, "utf8");
      const names = environ
        .split("\0")
        .filter((e) => e !== "")
        .map((e) => e.slice(0, e.indexOf("=")))
        .sort();
      assert.deepEqual(names, ["HOME", "JUPYTER_RUNTIME_DIR", "LANG", "LOGNAME", "PATH", "SHELL", "USER"]);
    });

    it("runs the server in a session of its own, so it outlives the hub", async () => {
      const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
      // Fields 5 and 6 of stat: process group and session.
      assert.equal(Number(fields[2]), pid);
      assert.equal(Number(fields[3]), pid);
    });

    it("reports the running server as running", async () => {
      assert.deepEqual(await local.poll(me.username, state), {
        status: "running",
        target,
      });
    });

    it("finds the running server again from its attempt id, and nothing for another attempt", async () => {
      const found = await local.recover(me.username, main.attemptId, main.serverId);
      assert.deepEqual(found, state);
      assert.equal(await local.recover(me.username, randomUUID(), main.serverId), undefined);
    });

    it("shows the last lines of the server's log", async () => {
      const text = await local.logTail(me.username, state, 50);
      assert.match(text, /Jupyter/);
      assert.ok(!text.includes(main.token));
    });

    it("stops the server, removes its token from disk, and then reports it gone", async () => {
      await local.stop(me.username, state);
      assert.deepEqual(await local.poll(me.username, state), {
        status: "gone",
        reason: "the server process exited",
        failed: false,
      });
      await assert.rejects(stat(join(dir, "jupyter_config.json")), { code: "ENOENT" });
      await assert.rejects(stat(join(dir, "runtime")), { code: "ENOENT" });
      assert.equal(await local.recover(me.username, main.attemptId, main.serverId), undefined);
      await local.stop(me.username, state);
    });

    it("reports a server killed from outside as gone", async () => {
      const s = spec(uniqueServerId());
      const { state: st } = await start(local, s, recordingContext().ctx);
      const victim = stateNumber(st, "pid");
      process.kill(-victim, "SIGKILL");
      await eventually(async () => (await local.poll(me.username, st)).status !== "running");
      assert.equal((await local.poll(me.username, st)).status, "gone");
      await local.stop(me.username, st);
    });

    it("rejects a command that exits at once, with the tail of its log, and leaves no token behind", async () => {
      const s = spec(uniqueServerId());
      const failing = launcher({ command: ["sh", "-c", "echo 'no such option' >&2; exit 3"] });
      const recorded = recordingContext();
      await assert.rejects(start(failing, s, recorded.ctx), (err: unknown) => {
        assert.ok(isSlipwayError(err));
        assert.equal(err.code, "launch_failed");
        assert.match(err.message, /exited with code 3/);
        assert.match(err.message, /no such option/);
        return true;
      });
      assert.deepEqual(recorded.persisted, []);
      const sdir = join(me.homedir, ".slipway", "servers", `${TEST_HUB_ID}-${s.serverId}`);
      await assert.rejects(stat(join(sdir, "jupyter_config.json")), { code: "ENOENT" });
    });

    it("rejects a command that cannot be found", async () => {
      const s = spec(uniqueServerId());
      const missing = launcher({ command: ["/nonexistent/jupyter"] });
      await assert.rejects(start(missing, s, recordingContext().ctx), /Could not run \/nonexistent\/jupyter/);
    });

    it("gives up on a process that never listens within the start timeout, and stops it", async () => {
      const s = spec(uniqueServerId());
      const naps = `${process.pid}${Date.now() % 1000}`;
      const slow = launcher({
        command: ["sh", "-c", `echo starting slowly; exec sleep ${naps}`],
        startTimeoutMs: 1500,
      });
      await assert.rejects(
        start(slow, s, recordingContext().ctx),
        /did not listen within 2 s[^]*starting slowly/,
      );
      assert.deepEqual(await processesRunning(`sleep\0${naps}`), []);
    });

    it("kills a server that ignores SIGTERM after the grace period, with the kernels it started", async () => {
      const s = spec(uniqueServerId());
      // Like Jupyter, the stand-in puts its "kernel" in a session of its own, outside its group.
      const script = [
        "const cp = require('child_process');",
        "process.on('SIGTERM', () => {});",
        "const k = cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });",
        "console.log('kernel=' + k.pid);",
        `require('http').createServer((q, r) => r.end('{}')).listen(${CONFIGURED_SOCKET});`,
      ].join("\n");
      const stubborn = launcher({ command: [process.execPath, "-e", script, "--"], stopTimeoutMs: 300 });
      const { state: st } = await start(stubborn, s, recordingContext().ctx);
      const kernel = Number(/kernel=(\d+)/.exec(await stubborn.logTail(me.username, st, 10))?.[1]);
      assert.ok(kernel > 0 && (await isLive(kernel)), "the kernel runs");
      await stubborn.stop(me.username, st);
      assert.equal((await stubborn.poll(me.username, st)).status, "gone");
      assert.equal(await isLive(kernel), false);
    });

    it("stops a process that listens but does not serve the base URL, and says what it answered", async () => {
      const s = spec(uniqueServerId());
      const script = `require('http').createServer((q, s) => { s.statusCode = 404; s.end(); }).listen(${CONFIGURED_SOCKET})`;
      // "--" so that node hands the --config argument to the script instead of parsing it.
      const wrong = launcher({ command: [process.execPath, "-e", script, "--"] });
      const recorded = recordingContext();
      await assert.rejects(start(wrong, s, recorded.ctx), /answered 404/);
      const persisted = recorded.persisted[0];
      assert.ok(persisted, "the process was persisted before the HTTP check");
      assert.equal((await wrong.poll(me.username, persisted)).status, "gone");
    });
  },
);
