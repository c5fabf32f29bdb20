import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { z } from "zod";
import type { Verb } from "../../helper/protocol.js";
import type { Clock } from "../../ports/clock.js";
import type { ProcessRunner, RunResult } from "../../ports/process-runner.js";
import type { UserHelper } from "../user-helper.js";
import { SlurmClient } from "./slurm-client.js";
import { SLURM_TEST_COMMANDS } from "./slurm-test-commands.js";
import { SlurmScheduler } from "./slurm-scheduler.js";

const COMMANDS = SLURM_TEST_COMMANDS;
const ATTEMPT = "11111111-2222-4333-8444-555555555555";
/** A moment while job 41 runs; real timers, which keep the process alive until a query has run. */
const clock: Clock = {
  now: () => new Date(1795598600_000),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};
const ok = (stdout: string): RunResult => ({ code: 0, signal: null, stdout, stderr: "", timedOut: false });
const failed = (stderr: string): RunResult => ({
  code: 1,
  signal: null,
  stdout: "",
  stderr,
  timedOut: false,
});
const TIMED_OUT: RunResult = { code: null, signal: "SIGTERM", stdout: "", stderr: "", timedOut: true };

/** squeue's lines (SQUEUE_FORMAT) for alice's jobs 41 (running on cpu1) and 42 (pending). */
const RUNNING_41 = `41|RUNNING|None|1795598576|1795602176|1795598570|59:00|cpu1|cpu1|debug|alice|gres:gpu:1|slipway-hub1-7|slipway-attempt:${ATTEMPT}\n`;
const PENDING_42 = `42|PENDING|Priority|N/A|N/A|1795598570|1:00:00|||debug|alice|N/A|slipway-hub1-8|slipway-attempt:other\n`;

/** Slurm's read-only commands as the hub runs them: answers by command, records every argv. */
class RecordedSlurm implements ProcessRunner {
  readonly calls: (readonly string[])[] = [];
  constructor(private readonly answers: Partial<Record<string, RunResult>>) {}

  async run(argv: readonly string[]): Promise<RunResult> {
    this.calls.push(argv);
    return this.answers[argv[0] ?? ""] ?? failed("no answer recorded");
  }

  ran(command: string): (readonly string[])[] {
    return this.calls.filter((argv) => argv[0] === command);
  }
}

class HelperRefusal extends Error {
  readonly failure = { code: "failed" as const, message: "" };
}

/** The helper as the user: records each verb, answers from a script (or throws what it is given). */
class ScriptedHelper implements UserHelper {
  readonly calls: { userName: string; verb: Verb; request: object }[] = [];
  constructor(private readonly answer: (verb: Verb) => unknown) {}

  async call<S extends z.ZodType>(
    userName: string,
    verb: Verb,
    request: object,
    resultSchema: S,
  ): Promise<z.output<S>> {
    this.calls.push({ userName, verb, request });
    const answer = this.answer(verb);
    if (answer instanceof Error) throw answer;
    return resultSchema.parse(answer);
  }
}

function schedulerOn(slurm: RecordedSlurm, helper = new ScriptedHelper(() => ({ text: "" }))) {
  const client = new SlurmClient({ runner: slurm, commands: COMMANDS, timeoutMs: 1000 });
  return new SlurmScheduler({
    client,
    helper,
    hubId: "hub1",
    python: "/usr/bin/python3",
    agent: "/opt/slipway/job/slipway-job.py",
    clock,
    timing: { minIntervalMs: 0, gatherMs: 20 },
  });
}

const ref = (jobId: string) => ({ jobId, userName: "alice", serverId: 7 });

describe("SlurmScheduler's status of a job, from one batched query (recorded output)", () => {
  it("asks squeue once for every job, and sacct only about those that left the queue", async () => {
    const slurm = new RecordedSlurm({
      [COMMANDS.squeue]: ok(RUNNING_41 + PENDING_42),
      [COMMANDS.sacct]: ok("43|CANCELLED by 1001|0:15|1795598576|1795598876|cpu1|None\n"),
    });
    const scheduler = schedulerOn(slurm);
    try {
      const [running, pending, ended] = await Promise.all(
        ["41", "42", "43"].map((id) => scheduler.status(ref(id))),
      );
      assert.equal(running?.state, "running");
      assert.ok(running?.state === "running");
      assert.deepEqual([running.host, running.resources, running.endsAt], ["cpu1", "gpu:1", 1795602176]);
      assert.deepEqual(pending, {
        state: "queued",
        queue: "debug",
        reason: "other jobs with higher priority are ahead in the queue (Priority)",
      });
      assert.deepEqual(ended, {
        state: "ended",
        reason: "Slurm job 43 ended: it was cancelled by uid 1001.",
        failed: false,
      });
      const [squeue, ...more] = slurm.ran(COMMANDS.squeue);
      assert.deepEqual(more, []);
      assert.equal(squeue?.[squeue.indexOf("-j") + 1], "41,42,43");
      assert.deepEqual(
        slurm.ran(COMMANDS.sacct).map((argv) => argv.at(-1)),
        ["43"],
      );
    } finally {
      scheduler.close();
    }
  });

  it("says unknown, with why, when squeue times out, and keeps what squeue said when only sacct fails", async () => {
    const scheduler = schedulerOn(new RecordedSlurm({ [COMMANDS.squeue]: TIMED_OUT }));
    const halfway = schedulerOn(
      new RecordedSlurm({
        [COMMANDS.squeue]: ok(PENDING_42),
        [COMMANDS.sacct]: failed("sacct: error: slurmdbd: Connection refused"),
      }),
    );
    try {
      assert.deepEqual(await scheduler.status(ref("41")), {
        state: "unknown",
        reason: "squeue did not answer within 1000 ms",
      });
      const [queued, gone] = await Promise.all([halfway.status(ref("42")), halfway.status(ref("43"))]);
      assert.equal(queued?.state, "queued");
      assert.deepEqual(gone, {
        state: "unknown",
        reason: "sacct failed: sacct: error: slurmdbd: Connection refused",
      });
    } finally {
      scheduler.close();
      halfway.close();
    }
  });

  it("without accounting, ends a job that left the queue by the exit record its agent wrote, read as its owner", async () => {
    const noAccounting = {
      [COMMANDS.squeue]: ok(""),
      [COMMANDS.sacct]: failed("Slurm accounting storage is disabled"),
    };
    const withRecord = new ScriptedHelper(() => ({ text: "", exitCode: 3 }));
    const scheduler = schedulerOn(new RecordedSlurm(noAccounting), withRecord);
    const withoutRecord = schedulerOn(new RecordedSlurm(noAccounting));
    try {
      assert.deepEqual(await scheduler.status(ref("43")), {
        state: "ended",
        reason: "Job 43 ended; the server exited with code 3.",
        failed: true,
      });
      assert.deepEqual(withRecord.calls, [
        { userName: "alice", verb: "slurm-log-tail", request: { hub: "hub1", serverId: 7, lines: 1 } },
      ]);
      assert.deepEqual(await withoutRecord.status(ref("43")), {
        state: "missing",
        reason: "Job 43 left the queue; the cluster keeps no accounting to say how it ended.",
      });
    } finally {
      scheduler.close();
      withoutRecord.close();
    }
  });
});

describe("SlurmScheduler's submit, cancel and find, as the job's owner (recorded output)", () => {
  it("tells a submission the helper refused from one that got no answer", async () => {
    const answers: unknown[] = [
      { jobId: "44", logPath: "/l", dir: "/d" },
      new HelperRefusal("sbatch: error: Batch job submission failed: Invalid partition name specified"),
      new Error("The helper did not answer slurm-submit within 60000 ms."),
    ];
    const helper = new ScriptedHelper(() => answers.shift());
    const scheduler = schedulerOn(new RecordedSlurm({}), helper);
    const request = {
      userName: "alice",
      serverId: 7,
      attemptId: ATTEMPT,
      baseUrl: "/user/alice/",
      token: "t".repeat(43),
      callbackUrl: "http://hub.example:8000",
      callbackCredential: "c".repeat(43),
      tls: { key: "key", certificate: "certificate" },
      command: ["/usr/bin/jupyter", "lab"],
      workDir: "~",
      resources: { queue: "debug", cpus: 2, memoryMb: 512, gpus: 1, minutes: 30 },
    };
    try {
      assert.deepEqual(await scheduler.submit(request), { state: "submitted", jobId: "44" });
      assert.equal((await scheduler.submit(request)).state, "refused");
      assert.deepEqual(await scheduler.submit(request), {
        state: "unknown",
        reason: "The helper did not answer slurm-submit within 60000 ms.",
      });
      const sent = helper.calls[0];
      assert.equal(sent?.verb, "slurm-submit");
      assert.deepEqual(sent?.request && "job" in sent.request ? sent.request.job : undefined, {
        partition: "debug",
        cpus: 2,
        memoryMb: 512,
        gpus: 1,
        minutes: 30,
      });
    } finally {
      scheduler.close();
    }
  });

  it("finds an attempt's job by its name and comment, and nothing for another attempt", async () => {
    const slurm = new RecordedSlurm({ [COMMANDS.squeue]: ok(RUNNING_41 + PENDING_42) });
    const scheduler = schedulerOn(slurm);
    try {
      assert.deepEqual(await scheduler.find("alice", 7, ATTEMPT), {
        state: "found",
        job: { jobId: "41", queue: "debug", submittedAt: 1795598570 },
      });
      assert.deepEqual(await scheduler.find("alice", 7, "22222222-2222-4333-8444-555555555555"), {
        state: "none",
      });
      assert.deepEqual(slurm.calls.at(-1)?.slice(1), [
        "-h",
        "-t",
        "all",
        "-u",
        "alice",
        "-n",
        "slipway-hub1-7",
        "-o",
        "%A|%T|%r|%S|%e|%V|%L|%N|%B|%P|%u|%b|%j|%k",
      ]);
    } finally {
      scheduler.close();
    }
  });

  it("says unknown when a cancel or a look-up gets no answer", async () => {
    const helper = new ScriptedHelper(
      () => new Error("The helper did not answer slurm-cancel within 45000 ms."),
    );
    const scheduler = schedulerOn(new RecordedSlurm({ [COMMANDS.squeue]: TIMED_OUT }), helper);
    try {
      assert.deepEqual(await scheduler.cancel(ref("41")), {
        state: "unknown",
        reason: "The helper did not answer slurm-cancel within 45000 ms.",
      });
      assert.deepEqual(await scheduler.find("alice", 7, ATTEMPT), {
        state: "unknown",
        reason: "squeue did not answer within 1000 ms",
      });
    } finally {
      scheduler.close();
    }
  });
});
