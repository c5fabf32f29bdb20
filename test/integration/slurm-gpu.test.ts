import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { executeOnKernel } from "../support/jupyter-kernel.js";
import { hubJobs, until } from "../support/slurm-cluster.js";
import { removeDir, startTestHub, userSocketDir, type TestHub } from "../support/test-hub.js";

const stage = process.env["SLIPWAY_TEST_STAGE_DIR"];
const enabled = process.env["SLIPWAY_TEST_SLURM"] === "1" && stage !== undefined;
const reason = enabled
  ? undefined
  : "Skipped: needs the Slurm test cluster (SLIPWAY_TEST_SLURM=1 and SLIPWAY_TEST_STAGE_DIR, as `make test` sets).";
if (!enabled && process.env["CI"]) {
  describe("Slurm servers on the test cluster", () => {
    it("has its prerequisites", () => assert.fail(reason));
  });
}

interface ServerModel {
  ready: boolean;
  user_options: Record<string, unknown>;
  slipway: { state: string; reason: string | null; status_unknown: string | null; ends_at: string | null };
  state: { jobId?: string };
}

describe("Slurm servers on the test cluster", { skip: reason ?? false, timeout: 300_000 }, () => {
  let hub: TestHub;
  let alice: SignedIn;
  let aliceToken: string;
  let bobToken: string;

  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(hub.url + path, {
      method,
      headers: {
        authorization: `token ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    hub = await startTestHub(
      {
        servers: {
          runAs: "user",
          helper: join(stage ?? "", "dist/src/helper/cli.js"),
          socketDir: userSocketDir(),
          startTimeout: 120,
          pollInterval: 2,
          targets: {
            local: { type: "local" },
            lab: {
              type: "slurm",
              cluster: "lab",
              pollInterval: 2,
              partitions: { debug: { queueLimit: 600 }, gpu: { queueLimit: 600 } },
              defaults: { memoryMb: 512 },
              agent: join(stage ?? "", "job/slipway-job.py"),
              localFallback: "local",
            },
          },
        },
      },
      { name: "slurm-gpu", slowSpawnWaitMs: 60_000 },
    );
    const admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    const bob = await addUser(hub, admin.client, "bob");
    aliceToken = await apiToken(alice);
    bobToken = await apiToken(bob);
  });

  after(async () => {
    await as(aliceToken, "DELETE", "/hub/api/users/alice/servers/gpu").catch(() => undefined);
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("offers bob only the partitions his groups allow, and refuses a forced gpu with 400 and a code", async () => {
    const model = (await (await as(bobToken, "GET", "/hub/api/users/bob/spawn-options")).json()) as {
      targets: { name: string; partitions?: { name: string }[] }[];
    };
    const lab = model.targets.find((t) => t.name === "lab");
    assert.deepEqual(
      lab?.partitions?.map((p) => p.name),
      ["debug"],
    );
    const aliceModel = (await (await as(aliceToken, "GET", "/hub/api/users/alice/spawn-options")).json()) as {
      targets: { name: string; partitions?: { name: string; maxGpus: number }[] }[];
    };
    const aliceLab = aliceModel.targets.find((t) => t.name === "lab");
    assert.deepEqual(
      aliceLab?.partitions?.map((p) => [p.name, p.maxGpus]),
      [
        ["debug", 0],
        ["gpu", 4],
      ],
    );
    const res = await as(bobToken, "POST", "/hub/api/users/bob/servers/gpu", {
      target: "lab",
      partition: "gpu",
      gpus: 1,
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_option");
    assert.match(body.message, /debug/);
  });

  it("refuses hostile option values and unknown keys with 400, submitting nothing", async () => {
    for (const bad of [
      { target: "lab", partition: "debug\n#SBATCH --uid=0" },
      { target: "lab", partition: "$(id)" },
      { target: "lab", cpus: "1\n#SBATCH --uid=0" },
      { target: "lab", memory: "'512'" },
      { target: "lab", cmd: "id" },
      { target: "lab", prologue: "id" },
      { target: "lab", keepvars: "ALL" },
      { target: "lab", exec_prefix: "sudo" },
    ]) {
      const res = await as(aliceToken, "POST", "/hub/api/users/alice/servers/bad", bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const code = ((await res.json()) as { code: string }).code;
      assert.ok(code === "invalid_option" || code === "unknown_field", code);
    }
    const jobs = execFileSync("squeue", ["-h", "-u", "alice", "-n", "bad", "-o", "%A"], { encoding: "utf8" });
    assert.equal(jobs.trim(), "");
  });

  it("starts alice's server on gpu with 1 GPU, and a cell through the proxy sees CUDA_VISIBLE_DEVICES", async () => {
    const res = await as(aliceToken, "POST", "/hub/api/users/alice/servers/gpu", {
      target: "lab",
      partition: "gpu",
      gpus: 1,
      runtime: 30,
    });
    assert.ok(res.status === 201 || res.status === 202, `${res.status} ${await res.clone().text()}`);
    const deadline = Date.now() + 120_000;
    let model: ServerModel | undefined;
    while (Date.now() < deadline) {
      model = (await (await as(aliceToken, "GET", "/hub/api/users/alice/servers/gpu")).json()) as ServerModel;
      if (model.ready || model.slipway.state === "failed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(model?.slipway.state, "running", model?.slipway.reason ?? "");
    assert.deepEqual(model?.user_options, {
      target: "lab",
      partition: "gpu",
      gpus: 1,
      cpus: 1,
      memory: 512,
      runtime: 30,
    });
    const started = await as(aliceToken, "POST", "/user/alice/gpu/api/kernels", { name: "python3" });
    assert.equal(started.status, 201);
    const kernel = (await started.json()) as { id: string };
    const ws = `${hub.url.replace("http", "ws")}/user/alice/gpu/api/kernels/${kernel.id}/channels`;
    const out = await executeOnKernel(ws, "import os; print(os.environ.get('CUDA_VISIBLE_DEVICES'))", {
      authorization: `token ${aliceToken}`,
    });
    assert.match(out.trim(), /^\d+(,\d+)*$/);
  });

  it("shows the job's log one call away", async () => {
    const res = await as(aliceToken, "GET", "/hub/api/users/alice/servers/gpu/log");
    assert.equal(res.status, 200);
    const body = (await res.json()) as { log: string };
    assert.equal(typeof body.log, "string");
  });

  it("says when the job's time limit ends the server, and follows a limit changed on the cluster", async () => {
    const modelNow = async () =>
      (await (await as(aliceToken, "GET", "/hub/api/users/alice/servers/gpu")).json()) as ServerModel;
    const endsAt = Date.parse((await modelNow()).slipway.ends_at ?? "");
    assert.ok(Number.isFinite(endsAt), "a running Slurm server has an end time");
    const left = (endsAt - Date.now()) / 60_000;
    assert.ok(left > 25 && left <= 30, `about the 30 minutes asked for, not ${left.toFixed(1)}`);
    const job = hubJobs(hub.dataDir).find((j) => j.state === "RUNNING" && j.user === "alice");
    assert.ok(job, "alice's job runs");
    execFileSync("scontrol", ["update", `JobId=${job.jobId}`, "TimeLimit=45"]);
    const moved = await until(
      async () => {
        const later = Date.parse((await modelNow()).slipway.ends_at ?? "");
        return Math.round((later - endsAt) / 60_000) === 15 ? later : undefined;
      },
      30_000,
      "the end time follows the new limit",
    );
    assert.ok(moved > endsAt);
  });

  it("refuses a second port report and any body but {port}", async () => {
    const res = await fetch(`${hub.url}/hub/api/batch/servers/1/port`, {
      method: "POST",
      headers: { authorization: `token ${"x".repeat(43)}`, "content-type": "application/json" },
      body: JSON.stringify({ port: 1, ip: "169.254.169.254", exec_prefix: "x;", cmd: "y" }),
    });
    assert.equal(res.status, 400);
    const forged = await fetch(`${hub.url}/hub/api/batch/servers/1/port`, {
      method: "POST",
      headers: { authorization: `token ${"x".repeat(43)}`, "content-type": "application/json" },
      body: JSON.stringify({ port: 1 }),
    });
    assert.equal(forged.status, 403);
  });

  it("stops the server by cancelling its job", async () => {
    const res = await as(aliceToken, "DELETE", "/hub/api/users/alice/servers/gpu");
    assert.ok(res.status === 204 || res.status === 202);
    const model = (await (
      await as(aliceToken, "GET", "/hub/api/users/alice/servers/gpu")
    ).json()) as ServerModel;
    assert.ok(["stopped", "stopping"].includes(model.slipway.state));
  });
});
