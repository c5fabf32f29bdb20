import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { slurmTargetSchema } from "../config/schema.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import { launchTlsSchema } from "../helper/protocol.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchSpec, PollResult } from "../ports/launcher.js";
import type { ProcessRunner, RunResult } from "../ports/process-runner.js";
import { JobStatusBatcher } from "../schedulers/slurm/job-status-batcher.js";
import { SlurmClient, type SlurmCommands } from "../schedulers/slurm/slurm-client.js";
import { makeLaunchCertificate } from "./launch-certificate.js";
import { SlurmHelperClient } from "./slurm-helper-client.js";
import { SlurmLauncher } from "./slurm-launcher.js";

/** Slurm's commands where a configuration that names none finds them. */
const COMMANDS: SlurmCommands = slurmTargetSchema.parse({
  type: "slurm",
  partitions: { debug: {} },
}).commands;
const ATTEMPT = "11111111-2222-4333-8444-555555555555";
const PORT = 41_279;
/** Real time, with timers that keep the test's process alive until the batched query has run. */
const clock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};
const ok = (stdout: string): RunResult => ({ code: 0, signal: null, stdout, stderr: "", timedOut: false });

/** squeue's line for job 42 of alice's, running on cpu1 (the format of SQUEUE_FORMAT). */
const RUNNING = `42|RUNNING|None|1795598576|1795602176|1795598570|59:00|cpu1|cpu1|debug|alice|N/A|slipway-abcd1234-7|slipway-attempt:${ATTEMPT}\n`;

/** Slurm's commands and the helper, as the launcher runs them; records every helper call. */
class FakeCluster implements ProcessRunner {
  readonly helperCalls: { argv: readonly string[]; verb: string; request: string }[] = [];
  certificateInJobDir: string | undefined;

  async run(argv: readonly string[], options?: { stdin?: string }): Promise<RunResult> {
    if (argv[0] === COMMANDS.squeue) return ok(RUNNING);
    const verb = argv.at(-1) ?? "";
    this.helperCalls.push({ argv, verb, request: options?.stdin ?? "" });
    if (verb === "slurm-submit")
      return ok(JSON.stringify({ ok: true, result: { jobId: "42", logPath: "/l", dir: "/d" } }));
    if (verb === "slurm-cancel") return ok(JSON.stringify({ ok: true, result: { cancelled: true } }));
    const result = {
      text: "",
      ...(this.certificateInJobDir ? { certificate: this.certificateInJobDir } : {}),
    };
    return ok(JSON.stringify({ ok: true, result }));
  }
}

function launcherOn(cluster: FakeCluster, probe: (target: ServerTarget) => number | undefined = () => 200) {
  const client = new SlurmClient({ runner: cluster, commands: COMMANDS, timeoutMs: 1000 });
  const batcher = new JobStatusBatcher(client, clock, { minIntervalMs: 0, gatherMs: 0 });
  const launcher = new SlurmLauncher({
    cluster: "lab",
    client,
    batcher,
    helper: new SlurmHelperClient({
      runner: cluster,
      helperArgv: ["/node", "/helper.js"],
      runAs: "hub",
      env: {},
    }),
    hubId: "abcd1234",
    command: ["/usr/bin/jupyter", "lab"],
    workDir: "~",
    python: "/usr/bin/python3",
    agent: "/opt/slipway/job/slipway-job.py",
    callbackUrl: () => "http://hub.example:8000",
    callbackKey: Buffer.alloc(32, 1),
    queueLimit: () => 600,
    localFallback: undefined,
    metrics: { call: () => undefined, queueWait: () => undefined },
    probe: async (target) => probe(target),
    clock,
  });
  return { launcher, close: () => batcher.close() };
}

/** The key and certificate a `slurm-submit` request carried, as the helper validates them. */
function submittedTls(request: string) {
  return z.object({ tls: launchTlsSchema }).parse(JSON.parse(request)).tls;
}

const SPEC: LaunchSpec = {
  serverId: 7,
  attemptId: ATTEMPT,
  userName: "alice",
  serverName: "",
  baseUrl: "/user/alice/",
  token: "t".repeat(43),
  options: { partition: "debug", gpus: 0, cpus: 1, memory: 512, runtime: 20 },
};

/** A launch context whose job's agent reports PORT at once; `persisted` gets each stored state. */
function contextRecording(persisted: JsonObject[]): LaunchContext {
  return {
    persist: async (state) => {
      persisted.push(state);
    },
    phase: async () => undefined,
    progress: () => undefined,
    signal: new AbortController().signal,
    reportedPort: async () => PORT,
  };
}

const STORED = { jobId: "42", serverId: 7, partition: "debug", submittedAt: 1795598570, port: PORT };

describe("SlurmLauncher and the launch's TLS key", () => {
  it("hands the key to the helper on stdin only, stores only the certificate, and routes over TLS pinned to it", async () => {
    const cluster = new FakeCluster();
    const probed: ServerTarget[] = [];
    const { launcher, close } = launcherOn(cluster, (target) => {
      probed.push(target);
      return 200;
    });
    const persisted: JsonObject[] = [];
    try {
      const result = await launcher.start(SPEC, contextRecording(persisted));
      const submit = cluster.helperCalls.find((c) => c.verb === "slurm-submit");
      assert.ok(submit);
      const tls = submittedTls(submit.request);
      const keyBody = tls.key.split("\n")[1] ?? "";
      assert.ok(keyBody.length > 32);
      assert.ok(!submit.argv.join(" ").includes(keyBody), "the key is in the helper's argv");

      const target = { kind: "tls", host: "cpu1", port: PORT, certificate: tls.certificate };
      assert.deepEqual(result.target, target);
      assert.deepEqual(probed, [target], "readiness is checked over the same pinned channel");
      for (const state of [...persisted, result.state]) {
        assert.equal(state["certificate"], tls.certificate);
        assert.ok(!JSON.stringify(state).includes(keyBody), "the key is in the stored state");
      }
    } finally {
      close();
    }
  });

  it("makes a fresh key for every launch", async () => {
    const cluster = new FakeCluster();
    const { launcher, close } = launcherOn(cluster);
    try {
      await launcher.start(SPEC, contextRecording([]));
      await launcher.start(SPEC, contextRecording([]));
      const keys = cluster.helperCalls
        .filter((c) => c.verb === "slurm-submit")
        .map((c) => submittedTls(c.request).key);
      assert.equal(keys.length, 2);
      assert.notEqual(keys[0], keys[1]);
    } finally {
      close();
    }
  });

  it("routes a stored running job to BatchHost:port over TLS pinned to its certificate", async () => {
    const { certificate } = await makeLaunchCertificate({ now: new Date(), seconds: 60 });
    const { launcher, close } = launcherOn(new FakeCluster());
    try {
      const polled = await launcher.poll("alice", { ...STORED, certificate });
      assert.equal(polled.status, "running");
      assert.deepEqual(polled.status === "running" ? polled.target : undefined, {
        kind: "tls",
        host: "cpu1",
        port: PORT,
        certificate,
      });
    } finally {
      close();
    }
  });

  it("never routes a job stored before servers spoke TLS: gone, cancelled, not failed", async () => {
    const { launcher, close } = launcherOn(new FakeCluster());
    try {
      const polled: PollResult = await launcher.poll("alice", STORED);
      assert.equal(polled.status, "gone");
      assert.ok(polled.status === "gone");
      assert.equal(polled.cancel, true);
      assert.equal(polled.failed, false);
      assert.match(polled.reason, /listened without TLS.*stopped; start it again/);
    } finally {
      close();
    }
  });

  it("adopts an interrupted launch with the certificate its job directory holds", async () => {
    const cluster = new FakeCluster();
    cluster.certificateInJobDir = (await makeLaunchCertificate({ now: new Date(), seconds: 60 })).certificate;
    const { launcher, close } = launcherOn(cluster);
    try {
      const recovered = await launcher.recover("alice", ATTEMPT, 7);
      assert.equal(recovered?.["certificate"], cluster.certificateInJobDir);
      const polled = await launcher.poll("alice", { ...recovered, port: PORT });
      assert.equal(polled.status, "running");
    } finally {
      close();
    }
  });
});
