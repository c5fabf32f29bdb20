import type { JobStatus } from "../../ports/scheduler.js";
import { pendingReasonInWords } from "./slurm-reasons.js";
import type { AccountedJob, QueuedJob } from "./slurm-parsers.js";

/** Long states by what they mean for a server (scheduler-interfaces.md §6, "State mapping"). */
export const QUEUED_STATES: ReadonlySet<string> = new Set([
  "PENDING",
  "REQUEUED",
  "CONFIGURING",
  "RESIZING",
  "REQUEUE_HOLD",
  "SUSPENDED",
  "STOPPED",
]);
export const RUNNING_STATES: ReadonlySet<string> = new Set([
  "RUNNING",
  "COMPLETING",
  "STAGE_OUT",
  "SIGNALING",
]);

/**
 * Where a job squeue lists is, in the scheduler port's words: waiting (the pending reason in
 * words), running (on its BatchHost, until its time limit), or ended (a finished job squeue still
 * holds for MinJobAge).
 */
export function statusOfQueued(job: QueuedJob, now: number): JobStatus {
  if (QUEUED_STATES.has(job.state)) {
    return {
      state: "queued",
      queue: job.partition,
      reason: pendingReasonInWords(job.reason),
      ...(job.start !== null ? { expectedStart: job.start } : {}),
    };
  }
  if (RUNNING_STATES.has(job.state)) {
    const endsAt = endOf(job, now);
    return {
      state: "running",
      host: job.batchHost,
      nodes: job.nodes,
      ...(job.gres !== null ? { resources: job.gres.replace(/^gres:/, "") } : {}),
      ...(job.start !== null ? { startedAt: job.start } : {}),
      ...(endsAt !== undefined ? { endsAt } : {}),
    };
  }
  return { state: "ended", ...endingOf(job) };
}

/** When Slurm will end a running job: squeue's end time (start + limit), else now + time left. */
function endOf(job: QueuedJob, now: number): number | undefined {
  if (job.end !== null && job.end > now) return job.end;
  return job.timeLeft !== null ? now + job.timeLeft : undefined;
}

const ENDINGS: Record<string, string> = {
  COMPLETED: "the job ended (the server exited)",
  CANCELLED: "it was cancelled",
  FAILED: "it failed",
  TIMEOUT: "it reached its time limit (walltime)",
  OUT_OF_MEMORY: "it ran out of memory",
  NODE_FAIL: "its node failed",
  BOOT_FAIL: "its node failed to boot",
  PREEMPTED: "it was preempted",
  DEADLINE: "it reached its deadline",
  REVOKED: "it was revoked",
  SPECIAL_EXIT: "it ended with a special exit",
};

export function describeEnd(jobId: string, job: QueuedJob | AccountedJob): string {
  const how = ENDINGS[job.state] ?? `it ended (${job.state})`;
  const by = "cancelledBy" in job && job.cancelledBy !== null ? ` by uid ${job.cancelledBy}` : "";
  const exit = "exitCode" in job && job.state === "FAILED" ? ` with exit code ${job.exitCode}` : "";
  return `Slurm job ${jobId} ended: ${how}${by}${exit}.`;
}

/** How a job that left the queue ended, for the server: stopped, or failed with the reason. */
export interface JobEnding {
  readonly reason: string;
  readonly failed: boolean;
}

/**
 * Only a job that completed (the server exited) or was cancelled ended without error; walltime,
 * out of memory, node failure, preemption and every other end is a failure.
 */
const NOT_FAILURES: ReadonlySet<string> = new Set(["COMPLETED", "CANCELLED"]);

/** The end of a job that squeue (within MinJobAge) or sacct still reports. */
export function endingOf(job: QueuedJob | AccountedJob): JobEnding {
  return { reason: describeEnd(job.jobId, job), failed: !NOT_FAILURES.has(job.state) };
}

/**
 * The end of a job that neither squeue nor sacct knows any more. Without accounting, the exit
 * record the job's agent wrote (its exit code, undefined when there is none) is all there is.
 */
export function endingOfMissing(jobId: string, accounting: boolean, exitCode: number | undefined): JobStatus {
  if (accounting) return { state: "missing", reason: `Job ${jobId} is no longer known to Slurm.` };
  return exitCode === undefined
    ? {
        state: "missing",
        reason: `Job ${jobId} left the queue; the cluster keeps no accounting to say how it ended.`,
      }
    : {
        state: "ended",
        reason: `Job ${jobId} ended; the server exited with code ${exitCode}.`,
        failed: exitCode !== 0,
      };
}
