import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import type { LaunchSpec } from "../ports/launcher.js";
import { detectJupyterCommand, LocalLauncher } from "./local-launcher.js";
import {
  helperArgvAs,
  lookUpUser,
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

const alice = lookUpUser("alice");
const bob = lookUpUser("bob");
const jupyter = detectJupyterCommand(process.env["PATH"]);

function canSudoTo(user: string): boolean {
  try {
    execFileSync("sudo", ["-n", "-u", user, "--", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** How to run the helper as alice, or why this suite cannot run here. */
function prerequisites(): { argv: readonly string[] } | { reason: string } {
  if (alice === undefined || bob === undefined) {
    return { reason: "the Unix users alice and bob do not exist" };
  }
  if (jupyter === undefined) return { reason: "Jupyter is not installed" };
  if (!canSudoTo("alice")) return { reason: "`sudo -n -u alice` is not allowed for this account" };
  return helperArgvAs("alice");
}

const ready = prerequisites();
const reason = "reason" in ready ? ready.reason : undefined;
// In CI the setup creates the users and runs as root, so a missing prerequisite is a failure.
if (reason !== undefined && process.env["CI"]) {
  describe("LocalLauncher running servers as the signed-in user through sudo", () => {
    it("has its prerequisites", () => assert.fail(`Cannot run the multi-user suite: ${reason}.`));
  });
}

describe(
  "LocalLauncher running servers as the signed-in user through sudo",
  { skip: reason === undefined ? false : `Skipped: ${reason}.`, timeout: 120_000 },
  () => {
    let local: LocalLauncher;
    const spec: LaunchSpec = {
      serverId: uniqueServerId(),
      attemptId: randomUUID(),
      userName: "alice",
      serverName: "gpu",
      baseUrl: "/user/alice/gpu/",
      token: randomBytes(24).toString("hex"),
      options: {},
    };
    const home = alice?.home ?? "/nonexistent";
    const dir = join(home, ".slipway", "servers", `${TEST_HUB_ID}-${spec.serverId}`);
    const persisted: JsonObject[] = [];
    let state: JsonObject = {};
    let pid = 0;
    let target: ServerTarget = { kind: "unix", socket: "/nowhere" };

    before(async () => {
      local = new LocalLauncher({
        runner: new NodeProcessRunner(),
        helperArgv: "argv" in ready ? ready.argv : [],
        runAs: "user",
        hubId: TEST_HUB_ID,
        command: jupyter ?? [],
        workDir: "~",
        socketDir: await testSocketDir("user"),
        probe: testProbe,
        startTimeoutMs: 30_000,
        stopTimeoutMs: 5_000,
        clock: testClock,
      });
      const recorded = recordingContext();
      const result = await local.start(spec, {
        ...recorded.ctx,
        persist: async (s) => {
          persisted.push(s);
        },
      });
      state = result.state;
      target = result.target;
      pid = Number(state["pid"]);
    });

    after(async () => {
      for (const s of persisted) await local.stop("alice", s).catch(() => undefined);
      await removeServerDir(home, spec.serverId);
    });

    it("runs the server process as alice", async () => {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      assert.equal(Number(uids?.[1]), alice?.uid);
      assert.equal(Number(uids?.[2]), alice?.uid);
    });

    it("keeps the server's files in alice's home, owned by her and private to her", async () => {
      const d = await stat(dir);
      assert.equal(d.uid, alice?.uid);
      assert.equal(d.mode & 0o777, 0o700);
      for (const name of ["jupyter_config.json", "server.log", "attempt", "pid"]) {
        const f = await stat(join(dir, name));
        assert.equal(f.uid, alice?.uid, `${name} is alice's`);
        assert.equal(f.mode & 0o777, 0o600, `${name} is 0600`);
      }
    });

    it("does not let bob read alice's token", () => {
      assert.throws(() =>
        execFileSync("sudo", ["-n", "-u", "bob", "--", "cat", join(dir, "jupyter_config.json")], {
          stdio: "ignore",
        }),
      );
    });

    it("serves alice's token on the reported socket, which the hub's account can reach", async () => {
      assert.equal(await statusOf(target, `${spec.baseUrl}api/status`, spec.token), 200);
    });

    it("keeps the socket in a directory of alice's that bob can neither replace nor add to", async () => {
      assert.equal(target.kind, "unix");
      const socket = target.kind === "unix" ? target.socket : "";
      const where = join(socket, "..");
      assert.equal((await stat(where)).uid, alice?.uid);
      const asBob = (...argv: string[]) =>
        execFileSync("sudo", ["-n", "-u", "bob", "--", ...argv], { stdio: "ignore" });
      assert.throws(() => asBob("rm", "-rf", where), "bob removed alice's socket directory");
      assert.throws(() => asBob("mv", where, `${where}.bob`), "bob renamed alice's socket directory");
      assert.throws(
        () =>
          asBob(
            "python3",
            "-c",
            `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(`${where}/other.sock`)})`,
          ),
        "bob bound a socket in alice's directory",
      );
      assert.ok((await stat(socket)).isSocket());
      assert.equal(await statusOf(target, `${spec.baseUrl}api/status`, spec.token), 200);
    });

    it("polls the server without the helper, and finds it from the attempt only as alice", async () => {
      assert.equal((await local.poll("alice", state)).status, "running");
      assert.deepEqual(await local.recover("alice", spec.attemptId, spec.serverId), state);
      assert.equal(await local.recover("bob", spec.attemptId, spec.serverId), undefined);
    });

    it("refuses to let bob's helper stop alice's server", async () => {
      await assert.rejects(local.stop("bob", state));
      assert.equal((await local.poll("alice", state)).status, "running");
    });

    it("stops the server as alice and then reports it gone, with its token and socket removed", async () => {
      await local.stop("alice", state);
      assert.equal((await local.poll("alice", state)).status, "gone");
      await assert.rejects(stat(join(dir, "jupyter_config.json")), { code: "ENOENT" });
      const socket = target.kind === "unix" ? target.socket : "";
      await assert.rejects(stat(join(socket, "..")), { code: "ENOENT" });
    });
  },
);
