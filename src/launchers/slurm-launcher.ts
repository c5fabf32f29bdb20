import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import {
  slurmCancelResultSchema,
  slurmLogTailResultSchema,
  slurmSubmitResultSchema,
  type SlurmJob,
} from "../helper/protocol.js";
import { systemClock, type Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec, Launcher, PollResult } from "../ports/launcher.js";
import type { JobLookup, JobStatusBatcher } from "../schedulers/slurm/job-status-batcher.js";
import type { SchedulerMetrics, SlurmClient } from "../schedulers/slurm/slurm-client.js";
import {
  describePending,
  describeRunning,
  duration,
  endingOf,
  endingOfMissing,
  QUEUED_STATES,
  RUNNING_STATES,
  type JobEnding,
} from "../schedulers/slurm/slurm-job-state.js";
import type { QueuedJob } from "../schedulers/slurm/slurm-parsers.js";
import type { SlurmHelperClient } from "./slurm-helper-client.js";
import { httpStatus } from "./http-status.js";

export interface SlurmLauncherOptions {
  readonly cluster: string;
  readonly client: SlurmClient;
  readonly batcher: JobStatusBatcher;
  readonly helper: SlurmHelperClient;
  readonly hubId: string;
  /** argv of Jupyter on the compute nodes. */
  readonly command: readonly string[];
  readonly workDir: string;
  readonly python: string;
  readonly agent: string;
  /** The hub's origin as the compute nodes reach it. */
  readonly callbackUrl: () => string;
  /** Key of the HMAC that makes each attempt's one-time callback credential. */
  readonly callbackKey: Buffer;
  /** Seconds a server may wait in each partition's queue. */
  readonly queueLimit: (partition: string) => number;
  /** A local target offered when the queue limit is reached, or undefined. */
  readonly localFallback: string | undefined;
  readonly metrics: SchedulerMetrics;
  readonly clock?: Clock;
}

const optionsSchema = z.object({
  partition: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  gpus: z.int().min(0),
  cpus: z.int().min(1),
  memory: z.int().min(1),
  runtime: z.int().min(1),
});

const stateSchema = z.object({
  jobId: z.string().regex(/^[1-9]\d{0,9}$/),
  serverId: z.int().positive(),
  partition: z.string(),
  submittedAt: z.int(),
  port: z.int().min(1).max(65535).optional(),
  /** When Slurm ends the running job (its time limit), epoch seconds; absent when unlimited. */
  endsAt: z.int().positive().optional(),
});
type SlurmState = z.infer<typeof stateSchema>;

function toJson(s: SlurmState): JsonObject {
  const out: JsonObject = {
    jobId: s.jobId,
    serverId: s.serverId,
    partition: s.partition,
    submittedAt: s.submittedAt,
  };
  if (s.port !== undefined) out["port"] = s.port;
  if (s.endsAt !== undefined) out["endsAt"] = s.endsAt;
  return out;
}

/** When Slurm will end a running job: squeue's end time (start + limit), else now + time left. */
function endOf(job: QueuedJob, now: number): number | undefined {
  if (job.end !== null && job.end > now) return job.end;
  return job.timeLeft !== null ? now + job.timeLeft : undefined;
}

const PROBE_TIMEOUT_MS = 5_000;
const FAILURE_LOG_LINES = 40;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs Jupyter servers as Slurm batch jobs, submitted and cancelled as the user through
 * slipway-helper, followed through one batched squeue per cluster per tick (JobStatusBatcher).
 * The job's agent reports only its port; the host is Slurm's BatchHost.
 */
export class SlurmLauncher implements Launcher {
  readonly kind = "slurm";
  private readonly clock: Clock;

  constructor(private readonly options: SlurmLauncherOptions) {
    this.clock = options.clock ?? systemClock;
  }

  credentialFor(serverId: number, attemptId: string): string {
    return createHmac("sha256", this.options.callbackKey)
      .update(`slurm-callback:${serverId}:${attemptId}`)
      .digest("base64url");
  }

  verifyCallback(serverId: number, attemptId: string, credential: string): boolean {
    const expected = Buffer.from(this.credentialFor(serverId, attemptId));
    const given = Buffer.from(credential);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private jobName(serverId: number): string {
    return `slipway-${this.options.hubId}-${serverId}`;
  }

  async start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
    const parsed = optionsSchema.safeParse(spec.options);
    if (!parsed.success)
      throw new SlipwayError("invalid_option", "The launch options are not valid for Slurm.");
    const o = parsed.data;
    const job: SlurmJob = {
      partition: o.partition,
      cpus: o.cpus,
      memoryMb: o.memory,
      gpus: o.gpus,
      minutes: o.runtime,
    };
    ctx.progress(`Submitting a job to ${o.partition}`, 10);
    let submitted;
    try {
      submitted = await this.options.helper.call(
        spec.userName,
        "slurm-submit",
        {
          hub: this.options.hubId,
          serverId: spec.serverId,
          attemptId: spec.attemptId,
          baseUrl: spec.baseUrl,
          token: spec.token,
          credential: this.credentialFor(spec.serverId, spec.attemptId),
          callbackUrl: this.options.callbackUrl(),
          command: [...this.options.command],
          workDir: this.options.workDir,
          job,
          python: this.options.python,
          agent: this.options.agent,
          sbatch: this.options.client.commands.sbatch,
        },
        slurmSubmitResultSchema,
        60_000,
      );
    } catch (err) {
      throw new SlipwayError("launch_failed", `Slurm refused the job: ${message(err)}`);
    }
    const state: SlurmState = {
      jobId: submitted.jobId,
      serverId: spec.serverId,
      partition: o.partition,
      submittedAt: Math.floor(this.clock.now().getTime() / 1000),
    };
    await ctx.phase?.("queued", `Submitted as Slurm job ${state.jobId} to ${o.partition}`);
    await ctx.persist(toJson(state));
    try {
      return await this.follow(spec, ctx, state);
    } catch (err) {
      await this.stop(spec.userName, toJson(state)).catch(() => undefined);
      throw err;
    }
  }

  private async follow(spec: LaunchSpec, ctx: LaunchContext, submitted: SlurmState): Promise<LaunchResult> {
    let state = submitted;
    let port: number | undefined;
    const reported = ctx.reportedPort?.().then((p) => {
      port = p;
    });
    const aborted = new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    let host: string | undefined;
    const limit = this.options.queueLimit(state.partition);
    let queued = true;
    let next = this.options.batcher.status(state.jobId);
    for (;;) {
      const lookup = await Promise.race([next, aborted.then(() => undefined)]);
      if (lookup === undefined || ctx.signal.aborted) {
        throw new SlipwayError("launch_failed", "The start was cancelled.");
      }
      next = this.options.batcher.status(state.jobId);
      const now = Math.floor(this.clock.now().getTime() / 1000);
      if (lookup.kind === "unknown") {
        ctx.progress(`The scheduler does not answer (${lookup.reason}); waiting`, queued ? 30 : 60);
      } else if (lookup.kind === "queue" && QUEUED_STATES.has(lookup.job.state)) {
        const waited = now - state.submittedAt;
        if (waited >= limit) {
          await this.stop(spec.userName, toJson(state));
          throw new SlipwayError("launch_failed", this.queueLimitReason(state, limit));
        }
        await ctx.phase?.("queued", describePending(lookup.job, waited));
      } else if (lookup.kind === "queue" && RUNNING_STATES.has(lookup.job.state)) {
        if (queued) {
          queued = false;
          this.options.metrics.queueWait(Math.max(0, (lookup.job.start ?? now) - state.submittedAt));
        }
        host = lookup.job.batchHost ?? undefined;
        state = { ...state, endsAt: endOf(lookup.job, now) };
        await ctx.phase?.("starting", describeRunning(lookup.job));
      } else {
        throw await this.ended(spec.userName, state, lookup);
      }
      const ready = await this.answers(spec, state, host, port);
      if (ready) {
        ctx.progress("The server is ready", 100);
        return ready;
      }
      // Wait for the next batched look-up, or the callback if it has not come yet.
      const waits: Promise<unknown>[] = [next, aborted];
      if (port === undefined && reported !== undefined) waits.push(reported);
      await Promise.race(waits);
      const early = await this.answers(spec, state, host, port);
      if (early) {
        ctx.progress("The server is ready", 100);
        return early;
      }
    }
  }

  /** The hub checks that the server answers before it routes to it (threats §5a.16). */
  private async answers(
    spec: LaunchSpec,
    state: SlurmState,
    host: string | undefined,
    port: number | undefined,
  ): Promise<LaunchResult | undefined> {
    if (host === undefined || port === undefined) return undefined;
    const status = await httpStatus(host, port, `${spec.baseUrl}api/status`, spec.token, PROBE_TIMEOUT_MS);
    if (status !== 200) return undefined;
    const target: ServerTarget = { host, port };
    return { state: toJson({ ...state, port }), target };
  }

  private queueLimitReason(state: SlurmState, limit: number): string {
    const fallback = this.options.localFallback;
    return (
      `Job ${state.jobId} waited ${duration(limit)} in the queue of ${state.partition}, the limit there, and was cancelled.` +
      (fallback ? ` You can start the server on ${fallback} (this machine) instead.` : "")
    );
  }

  private async ended(userName: string, state: SlurmState, lookup: JobLookup): Promise<SlipwayError> {
    const log = await this.logTail(userName, toJson(state), FAILURE_LOG_LINES).catch(() => "");
    const reason = await this.endReason(userName, state, lookup);
    const text = log.trim() === "" ? reason : `${reason}\nLast lines of the job's log:\n${log}`;
    return new SlipwayError("launch_failed", text, { logTail: log });
  }

  private async endReason(userName: string, state: SlurmState, lookup: JobLookup): Promise<string> {
    return (await this.ending(userName, state, lookup)).reason;
  }

  /** How a job that left the queue ended, and whether that is a failure. */
  private async ending(userName: string, state: SlurmState, lookup: JobLookup): Promise<JobEnding> {
    if (lookup.kind === "queue" || lookup.kind === "accounting") return endingOf(lookup.job);
    if (lookup.kind === "missing") {
      const exit = lookup.accounting ? undefined : await this.exitCode(userName, state);
      return endingOfMissing(state.jobId, lookup.accounting, exit);
    }
    return { reason: `Job ${state.jobId} is no longer known to Slurm.`, failed: false };
  }

  private async exitCode(userName: string, state: SlurmState): Promise<number | undefined> {
    try {
      const r = await this.options.helper.call(
        userName,
        "slurm-log-tail",
        { hub: this.options.hubId, serverId: state.serverId, lines: 1 },
        slurmLogTailResultSchema,
        30_000,
      );
      return r.exitCode;
    } catch {
      return undefined;
    }
  }

  async poll(userName: string, raw: JsonObject): Promise<PollResult> {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) return { status: "unknown", reason: "the launcher state is not readable" };
    const state = parsed.data;
    const lookup = await this.options.batcher.status(state.jobId);
    if (lookup.kind === "unknown")
      return { status: "unknown", reason: `the scheduler does not answer: ${lookup.reason}` };
    const now = Math.floor(this.clock.now().getTime() / 1000);
    if (lookup.kind === "queue" && QUEUED_STATES.has(lookup.job.state)) {
      const limit = this.options.queueLimit(state.partition);
      if (now - state.submittedAt >= limit) {
        return { status: "gone", reason: this.queueLimitReason(state, limit), failed: true, cancel: true };
      }
      return { status: "pending", detail: describePending(lookup.job, now - state.submittedAt) };
    }
    if (lookup.kind === "queue" && RUNNING_STATES.has(lookup.job.state)) {
      const host = lookup.job.batchHost;
      if (host === null || state.port === undefined) {
        return { status: "pending", detail: describeRunning(lookup.job) };
      }
      // The time limit can change while the job runs (`scontrol update TimeLimit=`).
      const endsAt = endOf(lookup.job, now);
      return {
        status: "running",
        target: { host, port: state.port },
        ...(endsAt !== state.endsAt ? { state: toJson({ ...state, endsAt }) } : {}),
      };
    }
    const { reason, failed } = await this.ending(userName, state, lookup);
    return { status: "gone", reason, failed };
  }

  async recover(userName: string, attemptId: string, serverId: number): Promise<JsonObject | undefined> {
    let jobs;
    try {
      jobs = await this.options.client.jobsNamed(userName, this.jobName(serverId));
    } catch (err) {
      throw new SlipwayError("internal", `Could not look for the job: ${message(err)}`);
    }
    const job = jobs.find((j) => j.comment === `slipway-attempt:${attemptId}`);
    if (!job) return undefined;
    return toJson({
      jobId: job.jobId,
      serverId,
      partition: job.partition,
      submittedAt: job.submit ?? Math.floor(this.clock.now().getTime() / 1000),
    });
  }

  async stop(userName: string, raw: JsonObject): Promise<void> {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) return;
    try {
      await this.options.helper.call(
        userName,
        "slurm-cancel",
        { jobId: parsed.data.jobId, scancel: this.options.client.commands.scancel },
        slurmCancelResultSchema,
        45_000,
      );
    } catch (err) {
      throw new SlipwayError("internal", `Could not cancel job ${parsed.data.jobId}: ${message(err)}`);
    }
  }

  async logTail(userName: string, raw: JsonObject, lines: number): Promise<string> {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) return "";
    const capped = Math.max(1, Math.min(10_000, Math.floor(lines)));
    const r = await this.options.helper.call(
      userName,
      "slurm-log-tail",
      { hub: this.options.hubId, serverId: parsed.data.serverId, lines: capped },
      slurmLogTailResultSchema,
      30_000,
    );
    return r.text;
  }
}
