import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import type { LaunchContext, LaunchSpec } from "../ports/launcher.js";
import type {
  CancelOutcome,
  FindOutcome,
  JobFiles,
  JobRef,
  JobStatus,
  Scheduler,
  ServerJobRequest,
  SubmitOutcome,
} from "../ports/scheduler.js";
import { BatchLauncher } from "./batch-launcher.js";
import { makeLaunchCertificate } from "./launch-certificate.js";

const ATTEMPT = "11111111-2222-4333-8444-555555555555";
const PORT = 41_279;
const NOW = 1_795_598_600;
const RUNNING: JobStatus = {
  state: "running",
  host: "cpu1",
  nodes: "cpu1",
  startedAt: NOW - 4,
  endsAt: NOW + 3540,
};

/** A scheduler whose answers the test scripts; it records what the launcher asks of it. */
class ScriptedScheduler implements Scheduler {
  readonly kind = "slurm";
  readonly label = "Slurm";
  readonly submitted: ServerJobRequest[] = [];
  readonly cancelled: JobRef[] = [];
  statuses: JobStatus[] = [RUNNING];
  submitOutcome: SubmitOutcome = { state: "submitted", jobId: "42" };
  certificateInJobDir: string | undefined;

  async submit(request: ServerJobRequest): Promise<SubmitOutcome> {
    this.submitted.push(request);
    return this.submitOutcome;
  }
  async status(): Promise<JobStatus> {
    return (this.statuses.length > 1 ? this.statuses.shift() : this.statuses[0]) ?? RUNNING;
  }
  async cancel(job: JobRef): Promise<CancelOutcome> {
    this.cancelled.push(job);
    return { state: "cancelled" };
  }
  async find(): Promise<FindOutcome> {
    return { state: "found", job: { jobId: "42", queue: "debug", submittedAt: NOW - 10 } };
  }
  async jobFiles(): Promise<JobFiles> {
    return { log: "", ...(this.certificateInJobDir ? { certificate: this.certificateInJobDir } : {}) };
  }
  close(): void {}
}

function launcherOn(
  scheduler: ScriptedScheduler,
  probe: (target: ServerTarget) => number | undefined = () => 200,
): BatchLauncher {
  return new BatchLauncher({
    scheduler,
    command: ["/usr/bin/jupyter", "lab"],
    workDir: "~",
    callbackUrl: () => "http://hub.example:8000",
    callbackKey: Buffer.alloc(32, 1),
    queueLimit: () => 600,
    localFallback: "local",
    metrics: { queueWait: () => undefined },
    probe: async (target) => probe(target),
    clock: { now: () => new Date(NOW * 1000), setTimeout: () => ({ cancel: () => undefined }) },
  });
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

/** A launch context whose job's agent reports PORT at once; `said` gets what the launcher said, in order. */
function contextRecording(said: string[], persisted: JsonObject[] = []): LaunchContext {
  return {
    persist: async (state) => {
      said.push("persist");
      persisted.push(state);
    },
    phase: async (phase, detail) => {
      said.push(`${phase}: ${detail}`);
    },
    progress: () => undefined,
    signal: new AbortController().signal,
    reportedPort: async () => PORT,
  };
}

const STORED = { jobId: "42", serverId: 7, queue: "debug", submittedAt: NOW - 10, port: PORT };

describe("BatchLauncher and the launch's TLS key", () => {
  it("hands the key to the scheduler only, stores only the certificate, and routes over TLS pinned to it", async () => {
    const scheduler = new ScriptedScheduler();
    const probed: ServerTarget[] = [];
    const launcher = launcherOn(scheduler, (target) => {
      probed.push(target);
      return 200;
    });
    const persisted: JsonObject[] = [];
    const result = await launcher.start(SPEC, contextRecording([], persisted));
    const tls = scheduler.submitted[0]?.tls;
    assert.ok(tls);
    const keyBody = tls.key.split("\n")[1] ?? "";
    assert.ok(keyBody.length > 32);

    const target = { kind: "tls", host: "cpu1", port: PORT, certificate: tls.certificate };
    assert.deepEqual(result.target, target);
    assert.deepEqual(probed, [target], "readiness is checked over the same pinned channel");
    for (const state of [...persisted, result.state]) {
      assert.equal(state["certificate"], tls.certificate);
      assert.ok(!JSON.stringify(state).includes(keyBody), "the key is in the stored state");
    }
  });

  it("makes a fresh key for every launch", async () => {
    const scheduler = new ScriptedScheduler();
    const launcher = launcherOn(scheduler);
    await launcher.start(SPEC, contextRecording([]));
    await launcher.start(SPEC, contextRecording([]));
    const keys = scheduler.submitted.map((request) => request.tls.key);
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0], keys[1]);
  });

  it("routes a stored running job to its host and port over TLS pinned to its certificate", async () => {
    const { certificate } = await makeLaunchCertificate({ now: new Date(), seconds: 60 });
    const polled = await launcherOn(new ScriptedScheduler()).poll("alice", { ...STORED, certificate });
    assert.equal(polled.status, "running");
    assert.deepEqual(polled.status === "running" ? polled.target : undefined, {
      kind: "tls",
      host: "cpu1",
      port: PORT,
      certificate,
    });
  });

  it("never routes a job stored before servers spoke TLS: gone, cancelled, not failed", async () => {
    const polled = await launcherOn(new ScriptedScheduler()).poll("alice", STORED);
    assert.ok(polled.status === "gone");
    assert.equal(polled.cancel, true);
    assert.equal(polled.failed, false);
    assert.match(polled.reason, /listened without TLS.*stopped; start it again/);
  });

  it("adopts an interrupted launch with the certificate its job directory holds", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.certificateInJobDir = (
      await makeLaunchCertificate({ now: new Date(), seconds: 60 })
    ).certificate;
    const launcher = launcherOn(scheduler);
    const recovered = await launcher.recover("alice", ATTEMPT, 7);
    assert.equal(recovered?.["certificate"], scheduler.certificateInJobDir);
    assert.equal((await launcher.poll("alice", { ...recovered, port: PORT })).status, "running");
  });
});

describe("BatchLauncher's way through the queue", () => {
  it("stores the job id before it waits, says queued with the reason in words, then starting", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.statuses = [
      { state: "queued", queue: "debug", reason: "waiting for resources (Resources)" },
      RUNNING,
    ];
    const said: string[] = [];
    await launcherOn(scheduler).start(SPEC, contextRecording(said));
    assert.deepEqual(said, [
      "persist",
      "queued: Submitted as Slurm job 42 to debug",
      "queued: Job 42 is queued in debug: waiting for resources (Resources); waited 0 s",
      "starting: Job 42 runs on cpu1, 59 min left",
    ]);
  });

  it("cancels a job that waited its queue's whole limit, says so and offers the local target", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.statuses = [{ state: "queued", queue: "debug", reason: "held (JobHeldAdmin)" }];
    const polled = await launcherOn(scheduler).poll("alice", { ...STORED, submittedAt: NOW - 600 });
    assert.deepEqual(polled, {
      status: "gone",
      reason:
        "Job 42 waited 10 min in the queue of debug, the limit there, and was cancelled. You can start the server on local (this machine) instead.",
      failed: true,
      cancel: true,
    });
  });

  it("reads a state stored when the queue was called the partition", async () => {
    const { certificate } = await makeLaunchCertificate({ now: new Date(), seconds: 60 });
    const { queue, ...rest } = STORED;
    const polled = await launcherOn(new ScriptedScheduler()).poll("alice", {
      ...rest,
      partition: queue,
      certificate,
    });
    assert.equal(polled.status, "running");
  });

  it("keeps a server whose status is unknown: unknown, never gone", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.statuses = [{ state: "unknown", reason: "squeue did not answer within 5000 ms" }];
    assert.deepEqual(await launcherOn(scheduler).poll("alice", STORED), {
      status: "unknown",
      reason: "the scheduler does not answer: squeue did not answer within 5000 ms",
    });
  });

  it("fails a start the scheduler refused, with its reason, and stores nothing", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.submitOutcome = {
      state: "refused",
      reason: "Invalid account or account/partition combination",
    };
    const said: string[] = [];
    await assert.rejects(launcherOn(scheduler).start(SPEC, contextRecording(said)), (err: unknown) => {
      assert.ok(isSlipwayError(err));
      assert.equal(err.code, "launch_failed");
      assert.equal(err.message, "Slurm refused the job: Invalid account or account/partition combination");
      return true;
    });
    assert.deepEqual(said, []);
  });
});
