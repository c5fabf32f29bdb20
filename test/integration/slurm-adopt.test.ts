import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { addUser, apiToken } from "../support/accounts.js";
import { completeSetup, HubClient } from "../support/hub-client.js";
import { spawnHubProcess, type HubProcess } from "../support/hub-process.js";
import {
  cancelHubJobs,
  hubIdOf,
  hubJobs,
  isLive,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
} from "../support/slurm-cluster.js";
import { removeDir } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "a hub killed right after sbatch";
const skip = slurmSkipReason(SUITE);

/** A port free now; the restarted hub listens where the job's agent will call back. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe(SUITE, { skip: skip ?? false, timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "slipway-slurm-adopt-"));
  let running: HubProcess | undefined;

  after(async () => {
    if (running) {
      running.child.kill("SIGTERM");
      await running.exited;
    }
    cancelHubJobs(dataDir);
    removeDir(dataDir);
  });

  it("adopts the job on restart: running, never orphaned", async () => {
    const config = { ...slurmHubConfig(), hub: { port: await freePort() } };
    const first = await spawnHubProcess(dataDir, config);
    running = first;
    assert.ok(first.firstAdminUrl);
    const client = new HubClient(first.url);
    await completeSetup(
      client,
      new URL(first.firstAdminUrl).pathname,
      { name: "admin", password: "pw-admin-correct-horse" },
      { askName: true },
    );
    const token = await apiToken(await addUser(first, client, "alice"));
    const prefix = `slipway-${hubIdOf(dataDir)}-`;

    const started = tokenFetch(first.url, token, "POST", "/hub/api/users/alice/servers/adopt", {
      target: "lab",
      partition: "debug",
      runtime: 20,
    }).catch(() => undefined); // the hub dies before it answers
    // Kill the hub the moment Slurm lists the job with its attempt comment: the store write of the
    // job id races this, and the test asserts the same outcome whichever side wins. squeue is an
    // outside process with no event to await, so it is polled every 20 ms, for at most 60 s.
    const deadline = Date.now() + 60_000;
    let job;
    while (!job) {
      job = hubJobs(dataDir).find(
        (j) => j.name.startsWith(prefix) && j.comment.startsWith("slipway-attempt:"),
      );
      if (job || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.child.kill("SIGKILL");
    await first.exited;
    await started;
    assert.ok(job, "the job was submitted");

    const second = await spawnHubProcess(dataDir, config);
    running = second;
    const progress = await tokenFetch(
      second.url,
      token,
      "GET",
      "/hub/api/users/alice/servers/adopt/progress",
    );
    const text = await progress.text();
    assert.match(text, /"ready":true/, text);
    const model = await serverModelOf(second.url, token, "alice", "adopt");
    assert.equal(model.slipway.state, "running");
    assert.equal((await tokenFetch(second.url, token, "GET", "/user/alice/adopt/api/status")).status, 200);

    const jobs = hubJobs(dataDir).filter((j) => j.name.startsWith(prefix));
    assert.deepEqual(
      jobs.map((j) => [j.jobId, j.state]),
      [[job.jobId, "RUNNING"]],
      "exactly the one job, adopted and running",
    );
    await tokenFetch(second.url, token, "DELETE", "/hub/api/users/alice/servers/adopt");
    assert.ok(!hubJobs(dataDir).some((j) => j.jobId === job.jobId && isLive(j) && j.state !== "COMPLETING"));
  });
});
