import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  allJobs,
  cancelHubJobs,
  hubJobs,
  isLive,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  slurmUp,
  until,
} from "../support/slurm-cluster.js";
import { startServer } from "../support/start-server.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "slurmctld stopped while a server runs";
const skip = slurmSkipReason(SUITE);
const PID_FILE = "/var/lib/slipway-slurm/run/slurmctld.pid";

function slurmctldRuns(): boolean {
  try {
    execFileSync("scontrol", ["ping"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe(SUITE, { skip: skip ?? false, timeout: 300_000 }, () => {
  let hub: TestHub;
  let token = "";

  before(async () => {
    hub = await startTestHub(slurmHubConfig({ commandTimeout: 5 }), {
      name: "slurm-outage",
      slowSpawnWaitMs: 2_000,
    });
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
  });

  after(async () => {
    slurmUp();
    await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/alice/servers/steady").catch(() => undefined);
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  it("keeps the notebook answering, says the status is unknown, cancels nothing, then resumes", async () => {
    await startServer(hub.url, token, "alice", "steady", { target: "lab", partition: "debug", runtime: 20 });
    const job = hubJobs(hub.dataDir).find(isLive);
    assert.ok(job);

    const pid = readFileSync(PID_FILE, "utf8").trim();
    assert.match(pid, /^\d+$/);
    execFileSync("kill", ["-TERM", pid]);
    await until(() => !slurmctldRuns(), 30_000, "slurmctld is down");

    const unknown = await until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", "steady");
        return m.slipway.status_unknown !== null ? m : undefined;
      },
      60_000,
      "the hub says the status is unknown",
    );
    assert.match(unknown.slipway.status_unknown ?? "", /scheduler does not answer/);
    assert.equal(unknown.slipway.state, "running");
    assert.equal(unknown.ready, true);
    // The condition under test is time passing with the controller down: let two more of the
    // hub's 2 s polls fail, then check that nothing was stopped or unrouted.
    for (let i = 0; i < 2; i++) {
      const status = await tokenFetch(hub.url, token, "GET", "/user/alice/steady/api/status");
      assert.equal(status.status, 200, "the notebook answers through the proxy");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    const during = await serverModelOf(hub.url, token, "alice", "steady");
    assert.equal(during.slipway.state, "running");
    assert.notEqual(during.slipway.status_unknown, null);

    slurmUp();
    const resumed = await until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", "steady");
        return m.slipway.status_unknown === null ? m : undefined;
      },
      60_000,
      "the status is known again",
    );
    assert.equal(resumed.slipway.state, "running");
    assert.equal(
      allJobs().find((j) => j.jobId === job.jobId)?.state,
      "RUNNING",
      "the job was never cancelled",
    );
    const status = await tokenFetch(hub.url, token, "GET", "/user/alice/steady/api/status");
    assert.equal(status.status, 200);
  });
});
