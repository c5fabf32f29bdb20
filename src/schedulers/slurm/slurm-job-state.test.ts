import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { endingOf, endingOfMissing, statusOfQueued } from "./slurm-job-state.js";
import { parseSacct, parseSqueue } from "./slurm-parsers.js";

/** A finished job as squeue still lists it within MinJobAge, in the hub's SQUEUE_FORMAT. */
function squeued(state: string, reason = "None") {
  const [job] = parseSqueue(
    `41|${state}|${reason}|1795598576|1795598876|1795598570|0:00|gpu1|gpu1|gpu|alice|gres:gpu:1|slipway-h-7|slipway-attempt:x\n`,
  );
  assert.ok(job);
  return job;
}

/** The same job as `sacct -X -P -n -o JobIDRaw,State,ExitCode,Start,End,NodeList,Reason` reports it. */
function accounted(state: string, exit = "0:0") {
  const [job] = parseSacct(`41|${state}|${exit}|1795598576|1795598876|gpu1|None\n`);
  assert.ok(job);
  return job;
}

describe("how a Slurm job's end becomes the server's end", () => {
  it("stops the server, without failure, when the job completed (the server exited)", () => {
    assert.deepEqual(endingOf(squeued("COMPLETED")), {
      reason: "Slurm job 41 ended: the job ended (the server exited).",
      failed: false,
    });
  });

  it("stops the server when the job was cancelled, and names who cancelled it when accounting says", () => {
    assert.deepEqual(endingOf(squeued("CANCELLED")), {
      reason: "Slurm job 41 ended: it was cancelled.",
      failed: false,
    });
    assert.deepEqual(endingOf(accounted("CANCELLED by 1001", "0:15")), {
      reason: "Slurm job 41 ended: it was cancelled by uid 1001.",
      failed: false,
    });
  });

  it("fails the server with the reason in words for walltime, memory, node and boot failures", () => {
    const cases: [string, string][] = [
      ["TIMEOUT", "it reached its time limit (walltime)"],
      ["OUT_OF_MEMORY", "it ran out of memory"],
      ["NODE_FAIL", "its node failed"],
      ["BOOT_FAIL", "its node failed to boot"],
      ["PREEMPTED", "it was preempted"],
      ["DEADLINE", "it reached its deadline"],
    ];
    for (const [state, words] of cases) {
      assert.deepEqual(endingOf(squeued(state)), { reason: `Slurm job 41 ended: ${words}.`, failed: true });
      assert.deepEqual(endingOf(accounted(state)), { reason: `Slurm job 41 ended: ${words}.`, failed: true });
    }
  });

  it("fails the server with the exit code when accounting reports a failed job", () => {
    assert.deepEqual(endingOf(accounted("FAILED", "3:0")), {
      reason: "Slurm job 41 ended: it failed with exit code 3.",
      failed: true,
    });
    assert.deepEqual(endingOf(squeued("FAILED", "NonZeroExitCode")), {
      reason: "Slurm job 41 ended: it failed.",
      failed: true,
    });
  });

  it("fails the server on a state it does not know, and says which", () => {
    assert.deepEqual(endingOf(squeued("REVOKED")), {
      reason: "Slurm job 41 ended: it was revoked.",
      failed: true,
    });
    assert.deepEqual(endingOf(squeued("SOMETHING_NEW")), {
      reason: "Slurm job 41 ended: it ended (SOMETHING_NEW).",
      failed: true,
    });
  });

  it("without accounting, ends the server by the exit record the job left, failing only a non-zero exit", () => {
    assert.deepEqual(endingOfMissing("41", false, 0), {
      state: "ended",
      reason: "Job 41 ended; the server exited with code 0.",
      failed: false,
    });
    assert.deepEqual(endingOfMissing("41", false, 137), {
      state: "ended",
      reason: "Job 41 ended; the server exited with code 137.",
      failed: true,
    });
    assert.deepEqual(endingOfMissing("41", false, undefined), {
      state: "missing",
      reason: "Job 41 left the queue; the cluster keeps no accounting to say how it ended.",
    });
  });

  it("says a job accounting no longer knows is missing", () => {
    assert.deepEqual(endingOfMissing("41", true, undefined), {
      state: "missing",
      reason: "Job 41 is no longer known to Slurm.",
    });
  });
});

describe("where a job squeue lists is, in the scheduler port's words", () => {
  const NOW = 1795598600;

  it("gives a pending job's queue, its reason in words with Slurm's code, and the expected start", () => {
    assert.deepEqual(statusOfQueued(squeued("PENDING", "Resources"), NOW), {
      state: "queued",
      queue: "gpu",
      reason: "waiting for resources (CPUs, memory or GPUs) to become free (Resources)",
      expectedStart: 1795598576,
    });
  });

  it("gives a running job's BatchHost, its GPUs and when its time limit ends it", () => {
    assert.deepEqual(statusOfQueued(squeued("RUNNING"), NOW), {
      state: "running",
      host: "gpu1",
      nodes: "gpu1",
      resources: "gpu:1",
      startedAt: 1795598576,
      endsAt: 1795598876,
    });
  });

  it("gives a finished job squeue still holds as ended", () => {
    assert.deepEqual(statusOfQueued(squeued("TIMEOUT"), NOW), {
      state: "ended",
      reason: "Slurm job 41 ended: it reached its time limit (walltime).",
      failed: true,
    });
  });
});
