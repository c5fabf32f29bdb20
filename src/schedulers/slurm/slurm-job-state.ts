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
