import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import {
  cancelHubJobs,
  cancelJob,
  fillDebugAsBob,
  hubJobs,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "the job callback";
const skip = slurmSkipReason(SUITE);

interface Queued {
  readonly serverId: string;
  readonly attemptId: string;
}

describe(SUITE, { skip: skip ?? false, timeout: 240_000 }, () => {
  let hub: TestHub;
  let token = "";
  let filler: string | undefined;
  let key: Buffer;
  const servers = new Map<string, Queued>();

  const credentialFor = (serverId: string, attemptId: string) =>
    createHmac("sha256", key).update(`slurm-callback:${serverId}:${attemptId}`).digest("base64url");
  const report = (serverId: string, credential: string, body: unknown) =>
    fetch(`${hub.url}/hub/api/batch/servers/${serverId}/port`, {
      method: "POST",
      headers: { authorization: `token ${credential}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  before(async () => {
    hub = await startTestHub(slurmHubConfig(), { name: "slurm-callback", slowSpawnWaitMs: 1_000 });
    const admin = await firstAdmin(hub);
    token = await apiToken(await addUser(hub, admin.client, "alice"));
    key = Buffer.from(readFileSync(join(hub.dataDir, "callback.key"), "utf8").trim(), "base64");
    // Queued behind bob's job, the servers' agents never run: the test is the only caller.
    filler = await fillDebugAsBob();
    for (const name of ["one", "two"]) {
      const res = await tokenFetch(hub.url, token, "POST", `/hub/api/users/alice/servers/${name}`, {
        target: "lab",
        partition: "debug",
        runtime: 10,
      });
      assert.equal(res.status, 202, await res.text());
      await until(
        async () => (await serverModelOf(hub.url, token, "alice", name)).slipway.state === "queued",
        60_000,
        `${name} is queued`,
      );
    }
    for (const job of hubJobs(hub.dataDir)) {
      const serverId = job.name.split("-").at(-1) ?? "";
      servers.set(serverId, { serverId, attemptId: job.comment.replace(/^slipway-attempt:/, "") });
    }
    assert.equal(servers.size, 2);
  });

  after(async () => {
    cancelJob(filler);
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  it("refuses anything but {port}, another server's or attempt's credential, and a second use", async () => {
    const [one, two] = [...servers.values()];
    assert.ok(one && two);
    const credential = credentialFor(one.serverId, one.attemptId);
    rememberSecret(credential);

    for (const body of [
      { port: 8888, ip: "169.254.169.254" },
      { port: 8888, host: "evil.example" },
      { port: "8888" },
      { port: 0 },
      { port: 70_000 },
      {},
      [8888],
    ]) {
      const res = await report(one.serverId, credential, body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const other = await report(two.serverId, credential, { port: 8888 });
    assert.equal(other.status, 403, "one server's credential is refused for another server");
    const forged = credentialFor(one.serverId, "00000000-0000-4000-8000-000000000000");
    const wrongAttempt = await report(one.serverId, forged, { port: 8888 });
    assert.equal(wrongAttempt.status, 403, "another attempt's credential is refused");
    const noToken = await fetch(`${hub.url}/hub/api/batch/servers/${one.serverId}/port`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ port: 8888 }),
    });
    assert.equal(noToken.status, 401);

    const first = await report(one.serverId, credential, { port: 8888 });
    assert.equal(first.status, 204, "the server's own credential with {port} is accepted once");
    const second = await report(one.serverId, credential, { port: 8889 });
    assert.equal(second.status, 403, "and refused the second time");
  });
});
