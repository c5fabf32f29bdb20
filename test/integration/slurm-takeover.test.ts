import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeLaunchCertificate } from "../../src/launchers/launch-certificate.js";
import { TargetPins } from "../../src/proxy/target-connection.js";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { SQUATTER_ANSWER, startSquatter, type Squatter } from "../support/port-squatter.js";
import {
  cancelHubJobs,
  hasEnded,
  hubJobs,
  isLive,
  jobDirOf,
  jobProcesses,
  reportedPort,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { startServer } from "../support/start-server.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "the port of alice's exited Slurm server, taken over by bob";
const skip = slurmSkipReason(SUITE);

/** A connection from this process, pinned to `certificate` as the proxy pins it: how it ended. */
function pinnedHandshake(host: string, port: number, certificate: string): Promise<"completed" | "refused"> {
  return new Promise((resolve) => {
    const socket = new TargetPins().connect({ kind: "tls", host, port, certificate });
    socket.once("secureConnect", () => {
      socket.destroy();
      resolve("completed");
    });
    socket.once("error", () => resolve("refused"));
  });
}

interface Exited {
  readonly port: number;
  readonly certificate: string;
  /** Every secret a request of alice's carries or the proxy adds: none may reach bob. */
  readonly secrets: readonly string[];
  /** Lets the job's agent go on: it sees Jupyter gone, and the job ends. */
  resume(): void;
}

describe(SUITE, { skip: skip ?? false, timeout: 300_000 }, () => {
  let hub: TestHub;
  let alice: SignedIn;
  let token = "";
  const stoppedAgents = new Set<number>();
  const squatters: Squatter[] = [];

  before(async () => {
    hub = await startTestHub(slurmHubConfig(), { name: "slurm-takeover", slowSpawnWaitMs: 2_000 });
    const admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    token = await apiToken(alice);
    await alice.client.refreshXsrf();
  });

  after(async () => {
    for (const pid of stoppedAgents) process.kill(pid, "SIGCONT");
    await Promise.all(squatters.map((s) => s.stop()));
    await hub.stop();
    cancelHubJobs(hub.dataDir);
    removeDir(hub.dataDir);
  });

  /**
   * Starts alice's server `name` as a Slurm job, checks that her requests reach it, then kills
   * her Jupyter alone: the job's agent is stopped first, so the job (and the hub's route) stays
   * while the port is free, the moment another account can bind it.
   */
  async function exitedServer(name: string): Promise<Exited> {
    const before = new Set(hubJobs(hub.dataDir).map((j) => j.jobId));
    await startServer(hub.url, token, "alice", name, { target: "lab", partition: "debug", runtime: 20 });
    const job = hubJobs(hub.dataDir).find((j) => isLive(j) && !before.has(j.jobId));
    assert.ok(job, "alice's server runs as a job");
    const jobDir = jobDirOf(hub.dataDir, "alice", job);
    const config: unknown = JSON.parse(readFileSync(join(jobDir, "jupyter_config.json"), "utf8"));
    const serverToken =
      typeof config === "object" &&
      config !== null &&
      "ServerApp" in config &&
      typeof config.ServerApp === "object" &&
      config.ServerApp !== null &&
      "token" in config.ServerApp &&
      typeof config.ServerApp.token === "string"
        ? config.ServerApp.token
        : "";
    assert.ok(serverToken.length >= 32);
    rememberSecret(serverToken);
    const port = reportedPort(jobDir);
    const certificate = readFileSync(join(jobDir, "server.crt"), "utf8");

    // While alice's Jupyter runs, her requests reach it, and it holds the pinned key.
    const ok = await tokenFetch(hub.url, token, "GET", `/user/alice/${name}/api/status`);
    assert.equal(ok.status, 200, await ok.text());
    assert.equal(await pinnedHandshake("cpu1", port, certificate), "completed");

    const { agent, jupyter } = jobProcesses(jobDir);
    process.kill(agent, "SIGSTOP");
    stoppedAgents.add(agent);
    process.kill(jupyter, "SIGKILL");
    // The kernel closes a process's sockets as it exits; /proc has no event to await.
    await until(() => hasEnded(jupyter), 30_000, "alice's Jupyter has exited");
    assert.equal(
      hubJobs(hub.dataDir).find((j) => j.jobId === job.jobId)?.state,
      "RUNNING",
      "the job still runs, so nothing has told the hub yet",
    );
    const cookies = [...alice.client.cookies.values()];
    return {
      port,
      certificate,
      secrets: [serverToken, token, ...cookies],
      resume: () => {
        process.kill(agent, "SIGCONT");
        stoppedAgents.delete(agent);
      },
    };
  }

  /** alice asks for her server, with her API token and with her browser session. */
  async function aliceAsks(name: string): Promise<void> {
    const api = await tokenFetch(hub.url, token, "GET", `/user/alice/${name}/api/status`);
    const apiText = await api.text();
    assert.ok([502, 503].includes(api.status), `the API request answered ${api.status}: ${apiText}`);
    assert.ok(!apiText.includes(SQUATTER_ANSWER), "bob's server answered alice's API request");
    const page = await alice.client.page(`/user/alice/${name}/tree`);
    assert.ok([502, 503].includes(page.res.status), `the page answered ${page.res.status}`);
    assert.ok(!page.html.includes(SQUATTER_ANSWER), "bob's server answered alice's browser");
  }

  /** Once Slurm says the job ended, alice sees her server ended too, and no request goes to bob. */
  async function endsForAlice(name: string, exited: Exited, squatter: Squatter): Promise<void> {
    exited.resume();
    const model = await until(
      async () => {
        const m = await serverModelOf(hub.url, token, "alice", name);
        return ["failed", "stopped"].includes(m.slipway.state) ? m : undefined;
      },
      90_000,
      `alice's server ${name} is shown as ended`,
    );
    assert.ok(model.slipway.reason, "with the reason beside it");
    const api = await tokenFetch(hub.url, token, "GET", `/user/alice/${name}/api/status`);
    assert.equal(api.status, 503, "no route is left to the port");
    assert.ok(!squatter.events.some((e) => e.event === "request" || e.event === "handshake"));
  }

  it("bob's TLS server on the freed port completes no handshake and receives no byte of alice's requests", async () => {
    const exited = await exitedServer("tls-squat");
    const bobs = await makeLaunchCertificate({ now: new Date(), seconds: 3600 });
    const squatter = await startSquatter("bob", exited.port, bobs);
    squatters.push(squatter);

    await aliceAsks("tls-squat");
    // The proxy's own pin, dialled directly: bob's server is there, and is refused.
    assert.equal(await pinnedHandshake("cpu1", exited.port, exited.certificate), "refused");
    await squatter.seen("handshake-failed");

    assert.ok(
      squatter.events.some((e) => e.event === "connection"),
      "bob's server was dialled",
    );
    assert.deepEqual(
      squatter.events.filter((e) => e.event === "handshake" || e.event === "data"),
      [],
      "bob's server completed a handshake or read data",
    );
    await endsForAlice("tls-squat", exited, squatter);
  });

  it("bob's plain HTTP server on the freed port gets at most a ClientHello: no request line, token or cookie", async () => {
    const exited = await exitedServer("plain-squat");
    const squatter = await startSquatter("bob", exited.port);
    squatters.push(squatter);

    await aliceAsks("plain-squat");
    assert.equal(await pinnedHandshake("cpu1", exited.port, exited.certificate), "refused");

    const received = squatter.received();
    assert.ok(received.length > 0, "bob's server was dialled and read what came");
    assert.equal(received[0], 0x16, "what bob read opens a TLS handshake record");
    assert.deepEqual(
      squatter.events.filter((e) => e.event === "request"),
      [],
      "bob's server read an HTTP request",
    );
    const text = received.toString("latin1");
    assert.doesNotMatch(text, /HTTP\/1\.[01]|^GET |cookie|authorization/im);
    for (const secret of exited.secrets) {
      assert.ok(!text.includes(secret), "a secret of alice's reached bob's server");
    }
    await endsForAlice("plain-squat", exited, squatter);
  });
});
