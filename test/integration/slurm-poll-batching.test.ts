import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NodeProcessRunner } from "../../src/launchers/node-process-runner.js";
import type { ProcessRunner } from "../../src/ports/process-runner.js";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  cancelHubJobs,
  cancelJob,
  fillDebugAsBob,
  hubJobs,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "one squeue per poll interval";
const skip = slurmSkipReason(SUITE);
const SERVERS = 50;
const INTERVAL_S = 2;

interface SqueueCall {
  readonly at: number;
  readonly jobIds: readonly string[];
}

describe(SUITE, { skip: skip ?? false, timeout: 600_000 }, () => {
  let hub: TestHub;
  let token = "";
  let filler: string | undefined;
  const calls: SqueueCall[] = [];
  const real = new NodeProcessRunner();
  // Every scheduler command the hub runs goes through here; squeue calls are recorded as run.
  const counting: ProcessRunner = {
    run(argv, options) {
      if (argv[0]?.endsWith("/squeue")) {
        const j = argv.indexOf("-j");
        calls.push({ at: performance.now(), jobIds: j >= 0 ? (argv[j + 1] ?? "").split(",") : [] });
      }
      return real.run(argv, options);
    },
  };

  before(async () => {
    hub = await startTestHub(
      slurmHubConfig({ pollInterval: INTERVAL_S }, { namedServerLimit: SERVERS + 5 }),
      { name: "slurm-poll-batching", slowSpawnWaitMs: 500, schedulerRunner: counting },
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

  it(`covers ${SERVERS} tracked jobs with exactly one squeue per interval`, async () => {
    for (let i = 0; i < SERVERS; i++) {
      const res = await tokenFetch(hub.url, token, "POST", `/hub/api/users/alice/servers/q${i}`, {
        target: "lab",
        partition: "debug",
        runtime: 10,
      });
      assert.ok(res.status === 201 || res.status === 202, `${res.status} ${await res.text()}`);
    }
    const jobs = await until(
      () => {
        const pending = hubJobs(hub.dataDir).filter((j) => j.state === "PENDING");
        return pending.length === SERVERS ? pending : undefined;
      },
      300_000,
      `all ${SERVERS} jobs are queued`,
    );
    const ids = new Set(jobs.map((j) => j.jobId));
    // From the first query that covers every job on, count the next few.
    const first = await until(
      () => calls.findIndex((c) => c.jobIds.length === SERVERS && c.jobIds.every((id) => ids.has(id))) + 1,
      30_000,
      "one squeue covers every job",
    );
    const observed = await until(
      () => (calls.length >= first + 5 ? calls.slice(first - 1, first + 5) : undefined),
      60_000,
      "five more intervals pass",
    );
    for (const call of observed) {
      assert.deepEqual(new Set(call.jobIds), ids, "each squeue asks about every tracked job");
    }
    for (let i = 1; i < observed.length; i++) {
      const gap = ((observed[i]?.at ?? 0) - (observed[i - 1]?.at ?? 0)) / 1000;
      // Never two queries within one interval; never an interval skipped (2 x allows a loaded CI).
      assert.ok(gap >= INTERVAL_S - 0.05, `squeue ${i} came ${gap.toFixed(3)} s after the previous one`);
      assert.ok(gap < INTERVAL_S * 2, `squeue ${i} came ${gap.toFixed(3)} s after the previous one`);
    }
  });
});
