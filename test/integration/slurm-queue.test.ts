import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  allJobs,
  cancelHubJobs,
  cancelJob,
  fillDebugAsBob,
  hubJobs,
  isLive,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
  type ServerModel,
} from "../support/slurm-cluster.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "a server queued behind a full partition";
const skip = slurmSkipReason(SUITE);
/** Short enough to reach in a test, long enough to see the server queued first. */
const QUEUE_LIMIT_S = 20;

describe(SUITE, { skip: skip ?? false, timeout: 300_000 }, () => {
  let hub: TestHub;
  let token = "";
  let filler: string | undefined;

  const request = (server: string) =>
    tokenFetch(hub.url, token, "POST", `/hub/api/users/alice/servers/${server}`, {
      target: "lab",
      partition: "debug",
      runtime: 20,
    });
  const queued = (server: string) =>
    until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", server);
        return m.slipway.state === "queued" && /is queued/.test(m.slipway.reason ?? "") ? m : undefined;
      },
      60_000,
      `${server} is queued`,
    );

  before(async () => {
    hub = await startTestHub(
      slurmHubConfig({
        partitions: { debug: { queueLimit: QUEUE_LIMIT_S }, gpu: { queueLimit: 600 } },
      }),
      { name: "slurm-queue", slowSpawnWaitMs: 2_000 },
    );
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
    filler = await fillDebugAsBob();
  });

  after(async () => {
    cancelJob(filler);
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  it("shows Slurm's pending reason in words and the job id, and cancels the job while queued", async () => {
    const res = await request("waits");
    assert.equal(res.status, 202, await res.text());
    const model: ServerModel = await queued("waits");
    const match = /^Job (\d+) is queued in debug: (.+) \((\w+)\)/.exec(model.slipway.reason ?? "");
    assert.ok(match, model.slipway.reason ?? "no reason");
    const [, jobId = "", words = "", code = ""] = match;
    const job = allJobs().find((j) => j.jobId === jobId);
    assert.equal(job?.state, "PENDING");
    assert.equal(job?.user, "alice");
    assert.ok(["Resources", "Priority", "None"].includes(code), code);
    assert.match(words, /\w+ \w+/, "the reason is in words, not only Slurm's code");
    assert.match(model.slipway.reason ?? "", /waited \d+ s/);

    const stop = await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/alice/servers/waits");
    assert.ok(stop.status === 202 || stop.status === 204, String(stop.status));
    await until(() => !allJobs().some((j) => j.jobId === jobId && isLive(j)), 30_000, "the job is gone");
    const after = await serverModelOf(hub.url, token, "alice", "waits");
    assert.equal(after.slipway.state, "stopped");
  });

  it("cancels a job that reaches the partition's queue limit, says why, and offers the local pool", async () => {
    const res = await request("limited");
    assert.equal(res.status, 202, await res.text());
    await queued("limited");
    const jobId = hubJobs(hub.dataDir).find((j) => j.state === "PENDING")?.jobId;
    assert.ok(jobId);
    const failed = await until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", "limited");
        return m.slipway.state === "failed" ? m : undefined;
      },
      (QUEUE_LIMIT_S + 60) * 1000,
      "the queue limit is reached",
    );
    assert.match(
      failed.slipway.reason ?? "",
      new RegExp(
        `^Job ${jobId} waited ${QUEUE_LIMIT_S} s in the queue of debug, the limit there, and was cancelled\\. You can start the server on local`,
      ),
    );
    await until(() => !allJobs().some((j) => j.jobId === jobId && isLive(j)), 30_000, "the job is gone");
  });
});
