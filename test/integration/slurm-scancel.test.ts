import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  cancelHubJobs,
  hubJobs,
  isLive,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { startServer } from "../support/start-server.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "a server's job cancelled outside Slipway";
const skip = slurmSkipReason(SUITE);

describe(SUITE, { skip: skip ?? false, timeout: 240_000 }, () => {
  let hub: TestHub;
  let token = "";

  before(async () => {
    hub = await startTestHub(slurmHubConfig(), { name: "slurm-scancel", slowSpawnWaitMs: 2_000 });
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
  });

  after(async () => {
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  it("marks the server stopped with the reason and removes its route", async () => {
    await startServer(hub.url, token, "alice", "outside", { target: "lab", partition: "debug", runtime: 20 });
    const status = await tokenFetch(hub.url, token, "GET", "/user/alice/outside/api/status");
    assert.equal(status.status, 200);
    const job = hubJobs(hub.dataDir).find(isLive);
    assert.ok(job, "the server's job is in the queue");

    execFileSync("scancel", [job.jobId]);

    const model = await until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", "outside");
        return m.slipway.state === "stopped" || m.slipway.state === "failed" ? m : undefined;
      },
      60_000,
      "the hub notices the cancelled job",
    );
    assert.equal(model.slipway.state, "stopped");
    assert.match(model.slipway.reason ?? "", new RegExp(`job ${job.jobId} ended: it was cancelled`));
    const gone = await tokenFetch(hub.url, token, "GET", "/user/alice/outside/api/status");
    assert.equal(gone.status, 503, "the route is removed: a stopped server answers API calls with 503");
  });
});
