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

/** A span of seconds in words: `40 s`, `12 min`, `2.5 h`. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function describePending(job: QueuedJob, waitedSeconds: number): string {
  const expected =
    job.start !== null ? `; expected to start at ${new Date(job.start * 1000).toISOString()}` : "";
  return `Job ${job.jobId} is queued in ${job.partition}: ${pendingReasonInWords(job.reason)}${expected}; waited ${duration(waitedSeconds)}`;
}

export function describeRunning(job: QueuedJob): string {
  const gpus = job.gres !== null ? `, ${job.gres.replace(/^gres:/, "")}` : "";
  const left = job.timeLeft !== null ? `, ${duration(job.timeLeft)} left` : "";
  return `Job ${job.jobId} runs on ${job.batchHost ?? job.nodes ?? "a node"}${gpus}${left}`;
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
export function endingOfMissing(jobId: string, accounting: boolean, exitCode: number | undefined): JobEnding {
  if (accounting) return { reason: `Job ${jobId} is no longer known to Slurm.`, failed: false };
  return exitCode === undefined
    ? {
        reason: `Job ${jobId} left the queue; the cluster keeps no accounting to say how it ended.`,
        failed: false,
      }
    : { reason: `Job ${jobId} ended; the server exited with code ${exitCode}.`, failed: exitCode !== 0 };
}
