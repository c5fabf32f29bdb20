import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, TlsTarget } from "../domain/types.js";
import {
  certificatePem,
  slurmCancelResultSchema,
  slurmLogTailResultSchema,
  slurmSubmitResultSchema,
  type SlurmJob,
  type SlurmLogTailResult,
} from "../helper/protocol.js";
import { systemClock, type Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec, Launcher, PollResult } from "../ports/launcher.js";
import type { TargetProbe } from "../ports/target-probe.js";
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
import { makeLaunchCertificate } from "./launch-certificate.js";
import type { SlurmHelperClient } from "./slurm-helper-client.js";

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
  /** Asks a server for a status over the channel the proxy uses (TLS pinned to the launch's certificate). */
  readonly probe: TargetProbe;
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
  /**
   * The launch's certificate (public; its key is only in the job's directory): the one peer the
   * hub accepts on `BatchHost:port`. Absent in states stored before servers spoke TLS.
   */
  certificate: certificatePem.optional(),
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
  if (s.certificate !== undefined) out["certificate"] = s.certificate;
  if (s.endsAt !== undefined) out["endsAt"] = s.endsAt;
  return out;
}

/** Where the proxy reaches the job's server; none without the launch's certificate. */
function targetOf(state: SlurmState, host: string, port: number): TlsTarget | undefined {
  return state.certificate === undefined
    ? undefined
    : { kind: "tls", host, port, certificate: state.certificate };
}

/** When Slurm will end a running job: squeue's end time (start + limit), else now + time left. */
function endOf(job: QueuedJob, now: number): number | undefined {
  if (job.end !== null && job.end > now) return job.end;
  return job.timeLeft !== null ? now + job.timeLeft : undefined;
}

const PROBE_TIMEOUT_MS = 5_000;
const FAILURE_LOG_LINES = 40;

/** What a server of an earlier version, which listened without TLS, gets: stopped, never routed. */
const WITHOUT_TLS_REASON =
  "This server's job was started by an earlier version of Slipway and listened without TLS, so " +
  "the hub cannot tell it from another account's process on its port; it was stopped; start it again.";

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs Jupyter servers as Slurm batch jobs, submitted and cancelled as the user through
 * slipway-helper, followed through one batched squeue per cluster per tick (JobStatusBatcher).
 * The job's agent reports only its port; the host is Slurm's BatchHost. Any account on the
 * cluster can bind that port once the server exits, so the server speaks TLS with a key made for
 * this launch, and the hub accepts only the launch's certificate there (invariant 9).
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
    let tls;
    try {
      // Valid while the job may wait in the queue and then run for its whole time limit.
      tls = await makeLaunchCertificate({
        now: this.clock.now(),
        seconds: this.options.queueLimit(o.partition) + o.runtime * 60,
      });
    } catch (err) {
      throw new SlipwayError("launch_failed", `Could not make the server's TLS key: ${message(err)}`);
    }
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
          tls,
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
      certificate: tls.certificate,
    };
    // The job id right after sbatch gave it (invariant 1), before any wait.
    await ctx.persist(toJson(state));
    await ctx.phase("queued", `Submitted as Slurm job ${state.jobId} to ${o.partition}`);
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
    const reported = ctx.reportedPort().then((p) => {
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
        await ctx.phase("queued", describePending(lookup.job, waited));
      } else if (lookup.kind === "queue" && RUNNING_STATES.has(lookup.job.state)) {
        if (queued) {
          queued = false;
          this.options.metrics.queueWait(Math.max(0, (lookup.job.start ?? now) - state.submittedAt));
        }
        host = lookup.job.batchHost ?? undefined;
        state = { ...state, endsAt: endOf(lookup.job, now) };
        await ctx.phase("starting", describeRunning(lookup.job));
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
      if (port === undefined) waits.push(reported);
      await Promise.race(waits);
      const early = await this.answers(spec, state, host, port);
      if (early) {
        ctx.progress("The server is ready", 100);
        return early;
      }
    }
  }

  /**
   * The hub checks that the server answers before it routes to it (threats §5a.16), over TLS
   * pinned to the launch's certificate: whatever else listens on the port gets no request.
   */
  private async answers(
    spec: LaunchSpec,
    state: SlurmState,
    host: string | undefined,
    port: number | undefined,
  ): Promise<LaunchResult | undefined> {
    if (host === undefined || port === undefined) return undefined;
    const target = targetOf(state, host, port);
    if (target === undefined) return undefined;
    const status = await this.options.probe(
      target,
      `${spec.baseUrl}api/status`,
      spec.token,
      PROBE_TIMEOUT_MS,
    );
    if (status !== 200) return undefined;
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
      return (await this.readJobDir(userName, state.serverId, 1)).exitCode;
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
      const target = targetOf(state, host, state.port);
      if (target === undefined)
        return { status: "gone", reason: WITHOUT_TLS_REASON, failed: false, cancel: true };
      // The time limit can change while the job runs (`scontrol update TimeLimit=`).
      const endsAt = endOf(lookup.job, now);
      return {
        status: "running",
        target,
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
    // The hub stopped before it stored the certificate it made for this launch; the helper wrote
    // it next to the key before sbatch, and no other submission of this server has run since.
    let certificate;
    try {
      certificate = (await this.readJobDir(userName, serverId, 1)).certificate;
    } catch (err) {
      throw new SlipwayError("internal", `Could not read the job's certificate: ${message(err)}`);
    }
    return toJson({
      jobId: job.jobId,
      serverId,
      partition: job.partition,
      submittedAt: job.submit ?? Math.floor(this.clock.now().getTime() / 1000),
      certificate,
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
    return (await this.readJobDir(userName, parsed.data.serverId, capped)).text;
  }

  /** What the job left in its directory: the log's last lines, the exit record, the certificate. */
  private readJobDir(userName: string, serverId: number, lines: number): Promise<SlurmLogTailResult> {
    return this.options.helper.call(
      userName,
      "slurm-log-tail",
      { hub: this.options.hubId, serverId, lines },
      slurmLogTailResultSchema,
      30_000,
    );
  }
}
