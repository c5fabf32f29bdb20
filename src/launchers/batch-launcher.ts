import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject } from "../domain/types.js";
import { systemClock, type Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec, Launcher, PollResult } from "../ports/launcher.js";
import type { JobResources, Scheduler } from "../ports/scheduler.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { describeQueued, describeRunning, queueLimitReason, WITHOUT_TLS_REASON } from "./batch-job-words.js";
import { BatchStart } from "./batch-start.js";
import { batchStateJson, batchTarget, parseBatchState, type BatchState } from "./batch-state.js";
import { makeLaunchCertificate, type LaunchCertificate } from "./launch-certificate.js";

export interface BatchLauncherOptions {
  readonly scheduler: Scheduler;
  /** argv of Jupyter on the compute nodes. */
  readonly command: readonly string[];
  readonly workDir: string;
  /** The hub's origin as the compute nodes reach it. */
  readonly callbackUrl: () => string;
  /** Key of the HMAC that makes each attempt's one-time callback credential. */
  readonly callbackKey: Buffer;
  /** Seconds a server may wait in each queue. */
  readonly queueLimit: (queue: string) => number;
  /** A local target offered when the queue limit is reached, or undefined. */
  readonly localFallback: string | undefined;
  readonly metrics: { queueWait(seconds: number): void };
  /** Asks a server for a status over the channel the proxy uses (TLS pinned to the launch's certificate). */
  readonly probe: TargetProbe;
  readonly clock?: Clock;
}

/** The spawn form's values for a batch target (validated there against the partition's limits). */
const optionsSchema = z.object({
  partition: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  gpus: z.int().min(0),
  cpus: z.int().min(1),
  memory: z.int().min(1),
  runtime: z.int().min(1),
});

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs Jupyter servers as batch jobs of any scheduler behind the `Scheduler` port: submitted and
 * cancelled as the user, followed through the scheduler's one batched query per cluster and
 * tick. The job's agent reports only its port; the host is the scheduler's. Any account on the
 * cluster can bind that port once the server exits, so the server speaks TLS with a key made for
 * this launch, and the hub accepts only the launch's certificate there (invariant 9).
 */
export class BatchLauncher implements Launcher {
  readonly kind: string;
  private readonly clock: Clock;

  constructor(private readonly options: BatchLauncherOptions) {
    this.kind = options.scheduler.kind;
    this.clock = options.clock ?? systemClock;
  }

  private get scheduler(): Scheduler {
    return this.options.scheduler;
  }

  credentialFor(serverId: number, attemptId: string): string {
    return createHmac("sha256", this.options.callbackKey)
      .update(`${this.scheduler.kind}-callback:${serverId}:${attemptId}`)
      .digest("base64url");
  }

  verifyCallback(serverId: number, attemptId: string, credential: string): boolean {
    const expected = Buffer.from(this.credentialFor(serverId, attemptId));
    const given = Buffer.from(credential);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private now(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  async start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
    const resources = this.resourcesOf(spec.options);
    ctx.progress(`Submitting a job to ${resources.queue}`, 10);
    const tls = await this.certificateFor(resources);
    const jobId = await this.submit(spec, resources, tls);
    const state: BatchState = {
      jobId,
      serverId: spec.serverId,
      queue: resources.queue,
      submittedAt: this.now(),
      certificate: tls.certificate,
    };
    // The job id right after the scheduler gave it (invariant 1), before any wait.
    await ctx.persist(batchStateJson(state));
    await ctx.phase("queued", `Submitted as ${this.scheduler.label} job ${jobId} to ${resources.queue}`);
    const deps = {
      ...this.options,
      clock: this.clock,
      cancel: (s: BatchState) => this.stop(spec.userName, batchStateJson(s)),
    };
    try {
      return await new BatchStart(deps, spec, ctx, state).follow();
    } catch (err) {
      await this.stop(spec.userName, batchStateJson(state)).catch(() => undefined);
      throw err;
    }
  }

  private resourcesOf(options: JsonObject): JobResources {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new SlipwayError(
        "invalid_option",
        `The launch options are not valid for ${this.scheduler.label}.`,
      );
    }
    const o = parsed.data;
    return { queue: o.partition, cpus: o.cpus, memoryMb: o.memory, gpus: o.gpus, minutes: o.runtime };
  }

  /** Valid while the job may wait in the queue and then run for its whole time limit. */
  private async certificateFor(resources: JobResources): Promise<LaunchCertificate> {
    try {
      return await makeLaunchCertificate({
        now: this.clock.now(),
        seconds: this.options.queueLimit(resources.queue) + resources.minutes * 60,
      });
    } catch (err) {
      throw new SlipwayError("launch_failed", `Could not make the server's TLS key: ${message(err)}`);
    }
  }

  private async submit(spec: LaunchSpec, resources: JobResources, tls: LaunchCertificate): Promise<string> {
    const outcome = await this.scheduler.submit({
      userName: spec.userName,
      serverId: spec.serverId,
      attemptId: spec.attemptId,
      baseUrl: spec.baseUrl,
      token: spec.token,
      callbackUrl: this.options.callbackUrl(),
      callbackCredential: this.credentialFor(spec.serverId, spec.attemptId),
      tls,
      command: this.options.command,
      workDir: this.options.workDir,
      resources,
    });
    const label = this.scheduler.label;
    switch (outcome.state) {
      case "submitted":
        return outcome.jobId;
      case "refused":
        throw new SlipwayError("launch_failed", `${label} refused the job: ${outcome.reason}`);
      case "unknown":
        // A job may exist all the same: the launch driver looks for it by the attempt id.
        throw new SlipwayError("launch_failed", `${label} did not confirm the job: ${outcome.reason}`);
    }
  }

  async poll(userName: string, raw: JsonObject): Promise<PollResult> {
    const state = parseBatchState(raw);
    if (state === undefined) return { status: "unknown", reason: "the launcher state is not readable" };
    const status = await this.scheduler.status({ jobId: state.jobId, userName, serverId: state.serverId });
    const now = this.now();
    switch (status.state) {
      case "unknown":
        return { status: "unknown", reason: `the scheduler does not answer: ${status.reason}` };
      case "queued": {
        const limit = this.options.queueLimit(state.queue);
        if (now - state.submittedAt >= limit) {
          const reason = queueLimitReason(state.jobId, state.queue, limit, this.options.localFallback);
          return { status: "gone", reason, failed: true, cancel: true };
        }
        return { status: "pending", detail: describeQueued(state.jobId, status, now - state.submittedAt) };
      }
      case "running": {
        if (status.host === null || state.port === undefined) {
          return { status: "pending", detail: describeRunning(state.jobId, status, now) };
        }
        const target = batchTarget(state, status.host, state.port);
        if (target === undefined)
          return { status: "gone", reason: WITHOUT_TLS_REASON, failed: false, cancel: true };
        // The time limit can change while the job runs (`scontrol update TimeLimit=`).
        const endsAt = status.endsAt;
        return {
          status: "running",
          target,
          ...(endsAt !== state.endsAt ? { state: batchStateJson({ ...state, endsAt }) } : {}),
        };
      }
      case "ended":
        return { status: "gone", reason: status.reason, failed: status.failed };
      case "missing":
        return { status: "gone", reason: status.reason, failed: false };
    }
  }

  async recover(userName: string, attemptId: string, serverId: number): Promise<JsonObject | undefined> {
    const found = await this.scheduler.find(userName, serverId, attemptId);
    if (found.state === "unknown") {
      throw new SlipwayError("internal", `Could not look for the job: ${found.reason}`);
    }
    if (found.state === "none") return undefined;
    // The hub stopped before it stored the certificate it made for this launch; the helper wrote
    // it next to the key before submitting, and no other submission of this server has run since.
    let certificate;
    try {
      certificate = (await this.scheduler.jobFiles(userName, serverId, 1)).certificate;
    } catch (err) {
      throw new SlipwayError("internal", `Could not read the job's certificate: ${message(err)}`);
    }
    return batchStateJson({
      jobId: found.job.jobId,
      serverId,
      queue: found.job.queue,
      submittedAt: found.job.submittedAt ?? this.now(),
      certificate,
    });
  }

  async stop(userName: string, raw: JsonObject): Promise<void> {
    const state = parseBatchState(raw);
    if (state === undefined) return;
    const outcome = await this.scheduler.cancel({ jobId: state.jobId, userName, serverId: state.serverId });
    if (outcome.state === "unknown") {
      throw new SlipwayError("internal", `Could not cancel job ${state.jobId}: ${outcome.reason}`);
    }
  }

  async logTail(userName: string, raw: JsonObject, lines: number): Promise<string> {
    const state = parseBatchState(raw);
    if (state === undefined) return "";
    const capped = Math.max(1, Math.min(10_000, Math.floor(lines)));
    return (await this.scheduler.jobFiles(userName, state.serverId, capped)).log;
  }
}
