import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  cancelHubJobs,
  hubIdOf,
  hubJobs,
  isLive,
  jobProcesses,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { startServer } from "../support/start-server.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "alice's job secrets, as bob sees the cluster";
const skip = slurmSkipReason(SUITE);

/** Runs a fixed argv as bob; a command that fails still shows what it printed before failing. */
function asBob(argv: readonly string[]): string {
  try {
    return execFileSync("sudo", ["-n", "-u", "bob", ...argv], {
      encoding: "utf8",
      cwd: "/tmp",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const out = err instanceof Error && "stdout" in err ? err.stdout : "";
    const errOut = err instanceof Error && "stderr" in err ? err.stderr : "";
    return `${typeof out === "string" ? out : ""}${typeof errOut === "string" ? errOut : ""}`;
  }
}

describe(SUITE, { skip: skip ?? false, timeout: 240_000 }, () => {
  let hub: TestHub;
  let token = "";
  let jobId = "";
  let serverToken = "";
  let credential = "";
  /** The base64 body of the launch's TLS key (its PEM armour is no secret). */
  let tlsKey = "";
  let jobDir = "";

  before(async () => {
    hub = await startTestHub(slurmHubConfig(), { name: "slurm-secrets", slowSpawnWaitMs: 2_000 });
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
    await addUser(hub, admin.client, "bob");
    await startServer(hub.url, token, "alice", "private", { target: "lab", partition: "debug", runtime: 20 });
    const job = hubJobs(hub.dataDir).find(isLive);
    assert.ok(job);
    jobId = job.jobId;
    const serverId = job.name.split("-").at(-1) ?? "";
    const attemptId = job.comment.replace(/^slipway-attempt:/, "");
    // The secrets are learnt the way only root and the hub can: the token from alice's 0600
    // Jupyter config (this test runs as root), the credential recomputed from the hub's own key.
    jobDir = join("/home/alice/.slipway/jobs", `${hubIdOf(hub.dataDir)}-${serverId}`);
    const config: unknown = JSON.parse(readFileSync(join(jobDir, "jupyter_config.json"), "utf8"));
    const found =
      typeof config === "object" && config !== null && "ServerApp" in config ? config.ServerApp : undefined;
    serverToken =
      typeof found === "object" && found !== null && "token" in found && typeof found.token === "string"
        ? found.token
        : "";
    assert.ok(serverToken.length >= 32, "the token is in alice's Jupyter config");
    const key = Buffer.from(readFileSync(join(hub.dataDir, "callback.key"), "utf8").trim(), "base64");
    credential = createHmac("sha256", key)
      .update(`slurm-callback:${serverId}:${attemptId}`)
      .digest("base64url");
    tlsKey = readFileSync(join(jobDir, "server.key"), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("-----"))
      .join("");
    assert.ok(tlsKey.length > 100, "the launch's key is in alice's job directory");
    rememberSecret(serverToken);
    rememberSecret(credential);
    for (const line of tlsKey.match(/.{1,64}/g) ?? []) rememberSecret(line);
    // The recomputed credential is the real one: the hub refuses it now only as already used.
    const reuse = await fetch(`${hub.url}/hub/api/batch/servers/${serverId}/port`, {
      method: "POST",
      headers: { authorization: `token ${credential}`, "content-type": "application/json" },
      body: JSON.stringify({ port: 1 }),
    });
    assert.equal(reuse.status, 403);
    assert.match(await reuse.text(), /reported already/);
  });

  after(async () => {
    await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/alice/servers/private").catch(() => undefined);
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  const noSecret = (what: string, text: string) => {
    assert.ok(!text.includes(serverToken), `${what} shows alice's server token`);
    assert.ok(!text.includes(credential), `${what} shows alice's callback credential`);
    // Any 32 characters of the key, wherever a line break fell in the text.
    const flat = text.replace(/\s/g, "");
    for (let at = 0; at + 32 <= tlsKey.length; at += 32) {
      assert.ok(!flat.includes(tlsKey.slice(at, at + 32)), `${what} shows alice's TLS key`);
    }
  };

  it("scontrol show job and squeue -o %all show bob alice's job but no secret", () => {
    const shown = asBob(["scontrol", "show", "job", jobId]);
    assert.match(shown, new RegExp(`JobId=${jobId}`));
    noSecret("scontrol show job", shown);
    const all = asBob(["squeue", "-o", "%all"]);
    assert.match(all, new RegExp(`\\|${jobId}\\|`));
    noSecret("squeue -o %all", all);
  });

  it("ps and every readable /proc/*/environ show bob no secret", () => {
    const ps = asBob(["ps", "-eo", "args"]);
    assert.match(ps, /jupyter/);
    noSecret("ps -eo args", ps);
    const environ = asBob(["sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null; true"]);
    noSecret("/proc/*/environ", environ);
  });

  it("keeps the launch's TLS key in a 0600 file of alice's, in a 0700 directory of hers", () => {
    const aliceUid = Number.parseInt(execFileSync("id", ["-u", "alice"], { encoding: "utf8" }), 10);
    const dir = statSync(jobDir);
    assert.equal(dir.uid, aliceUid);
    assert.equal(dir.mode & 0o777, 0o700);
    const key = statSync(join(jobDir, "server.key"));
    assert.equal(key.uid, aliceUid);
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(statSync(join(jobDir, "server.crt")).uid, aliceUid);
  });

  it("the job's processes carry no secret in their environment or arguments", () => {
    const { agent, jupyter } = jobProcesses(jobDir);
    for (const pid of [agent, jupyter]) {
      // Read as root: the job's own view, which bob cannot even open.
      noSecret(`the environment of job process ${pid}`, readFileSync(`/proc/${pid}/environ`, "latin1"));
      noSecret(`the arguments of job process ${pid}`, readFileSync(`/proc/${pid}/cmdline`, "latin1"));
    }
  });

  it("alice's job files are closed to bob, and the batch script holds no secret", () => {
    const files = asBob(["sh", "-c", `cat ${jobDir}/* ${jobDir}/*/* 2>&1; ls -la ${jobDir} 2>&1; true`]);
    assert.match(files, /Permission denied/);
    noSecret("alice's job files", files);
    const script = execFileSync("scontrol", ["write", "batch_script", jobId, "-"], { encoding: "utf8" });
    assert.match(script, /slipway-job\.py/);
    noSecret("the batch script", script);
  });

  it("deletes the key and the token's config when the job ends, and keeps only the public certificate", async () => {
    const stopped = await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/alice/servers/private");
    assert.ok(stopped.status < 300, await stopped.text());
    await until(
      async () => (await serverModelOf(hub.url, token, "alice", "private")).slipway.state === "stopped",
      60_000,
      "the server is stopped",
    );
    // The agent deletes them once Jupyter has exited, after scancel's SIGTERM; nothing to await.
    await until(
      () => !hubJobs(hub.dataDir).some((j) => j.jobId === jobId && isLive(j)),
      60_000,
      "the job has left the node",
    );
    assert.ok(!existsSync(join(jobDir, "server.key")), "the key outlived the job");
    assert.ok(!existsSync(join(jobDir, "jupyter_config.json")), "the token's config outlived the job");
    assert.ok(
      !existsSync(join(jobDir, "runtime")),
      "Jupyter's runtime files (with the token) outlived the job",
    );
    assert.ok(existsSync(join(jobDir, "server.crt")));
  });
});
