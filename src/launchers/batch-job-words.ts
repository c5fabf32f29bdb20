import type { JobStatus } from "../ports/scheduler.js";

type Queued = Extract<JobStatus, { state: "queued" }>;
type Running = Extract<JobStatus, { state: "running" }>;

/** A span of seconds in words: `40 s`, `12 min`, `2.5 h`. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** `Job 42 is queued in debug: <the reason in words> (<code>); expected to start at …; waited 12 s`. */
export function describeQueued(jobId: string, status: Queued, waitedSeconds: number): string {
  const expected =
    status.expectedStart !== undefined
      ? `; expected to start at ${new Date(status.expectedStart * 1000).toISOString()}`
      : "";
  return `Job ${jobId} is queued in ${status.queue}: ${status.reason}${expected}; waited ${duration(waitedSeconds)}`;
}

/** `Job 42 runs on cpu1, gpu:1, 59 min left`. */
export function describeRunning(jobId: string, status: Running, now: number): string {
  const extra = status.resources !== undefined ? `, ${status.resources}` : "";
  const left = status.endsAt !== undefined ? `, ${duration(status.endsAt - now)} left` : "";
  return `Job ${jobId} runs on ${status.host ?? status.nodes ?? "a node"}${extra}${left}`;
}

/** Why a job that waited its queue's whole limit was cancelled, and where else the server may run. */
export function queueLimitReason(
  jobId: string,
  queue: string,
  limitSeconds: number,
  localFallback: string | undefined,
): string {
  return (
    `Job ${jobId} waited ${duration(limitSeconds)} in the queue of ${queue}, the limit there, and was cancelled.` +
    (localFallback ? ` You can start the server on ${localFallback} (this machine) instead.` : "")
  );
}

/** What a server of an earlier version, which listened without TLS, gets: stopped, never routed. */
export const WITHOUT_TLS_REASON =
  "This server's job was started by an earlier version of Slipway and listened without TLS, so " +
  "the hub cannot tell it from another account's process on its port; it was stopped; start it again.";

/** The reason of a failed start, with the last lines of the job's log when there are any. */
export function withJobLog(reason: string, log: string): string {
  return log.trim() === "" ? reason : `${reason}\nLast lines of the job's log:\n${log}`;
}
