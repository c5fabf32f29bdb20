import { SlipwayError } from "../domain/errors.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec } from "../ports/launcher.js";
import type { JobRef, JobStatus, Scheduler } from "../ports/scheduler.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { describeQueued, describeRunning, queueLimitReason, withJobLog } from "./batch-job-words.js";
import { batchStateJson, batchTarget, type BatchState } from "./batch-state.js";

/** What following one start needs of its launcher. */
export interface BatchStartDeps {
  readonly scheduler: Scheduler;
  /** Seconds a server may wait in each queue. */
  readonly queueLimit: (queue: string) => number;
  readonly localFallback: string | undefined;
  readonly metrics: { queueWait(seconds: number): void };
  readonly probe: TargetProbe;
  readonly clock: Clock;
  /** Cancels the job (the queue limit was reached). */
  readonly cancel: (state: BatchState) => Promise<void>;
}

const PROBE_TIMEOUT_MS = 5_000;
const FAILURE_LOG_LINES = 40;

/**
 * One submitted job, followed until its server answers: through the queue (the reason in words;
 * the start timeout does not run, the queue's own limit does), then while it runs (the node from
 * the scheduler, the port from the job's callback, the server checked over TLS pinned to the
 * launch's certificate). Every status comes from the scheduler's batched query; an unknown one
 * only says so and waits for the next.
 */
export class BatchStart {
  #state: BatchState;
  #port: number | undefined;
  #host: string | undefined;
  #queued = true;
  readonly #ref: JobRef;
  readonly #aborted: Promise<void>;

  constructor(
    private readonly deps: BatchStartDeps,
    private readonly spec: LaunchSpec,
    private readonly ctx: LaunchContext,
    submitted: BatchState,
  ) {
    this.#state = submitted;
    this.#ref = { jobId: submitted.jobId, userName: spec.userName, serverId: spec.serverId };
    this.#aborted = new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async follow(): Promise<LaunchResult> {
    const reported = this.ctx.reportedPort().then((p) => {
      this.#port = p;
    });
    let next = this.deps.scheduler.status(this.#ref);
    for (;;) {
      const status = await Promise.race([next, this.#aborted.then(() => undefined)]);
      if (status === undefined || this.ctx.signal.aborted) {
        throw new SlipwayError("launch_failed", "The start was cancelled.");
      }
      next = this.deps.scheduler.status(this.#ref);
      await this.#take(status);
      const ready = await this.#answers();
      if (ready) return ready;
      // Wait for the next batched look-up, or the callback if it has not come yet.
      const waits: Promise<unknown>[] = [next, this.#aborted];
      if (this.#port === undefined) waits.push(reported);
      await Promise.race(waits);
      const early = await this.#answers();
      if (early) return early;
    }
  }

  /** Acts on one status: says where the launch is, or throws when the job is over. */
  async #take(status: JobStatus): Promise<void> {
    const now = Math.floor(this.deps.clock.now().getTime() / 1000);
    const { jobId, queue, submittedAt } = this.#state;
    switch (status.state) {
      case "unknown":
        this.ctx.progress(
          `The scheduler does not answer (${status.reason}); waiting`,
          this.#queued ? 30 : 60,
        );
        return;
      case "queued": {
        const limit = this.deps.queueLimit(queue);
        if (now - submittedAt >= limit) {
          await this.deps.cancel(this.#state);
          throw new SlipwayError(
            "launch_failed",
            queueLimitReason(jobId, queue, limit, this.deps.localFallback),
          );
        }
        await this.ctx.phase("queued", describeQueued(jobId, status, now - submittedAt));
        return;
      }
      case "running":
        if (this.#queued) {
          this.#queued = false;
          this.deps.metrics.queueWait(Math.max(0, (status.startedAt ?? now) - submittedAt));
        }
        this.#host = status.host ?? undefined;
        this.#state = { ...this.#state, endsAt: status.endsAt };
        await this.ctx.phase("starting", describeRunning(jobId, status, now));
        return;
      case "ended":
      case "missing":
        throw await this.#ended(status.reason);
    }
  }

  async #ended(reason: string): Promise<SlipwayError> {
    const { userName, serverId } = this.spec;
    const log = await this.deps.scheduler
      .jobFiles(userName, serverId, FAILURE_LOG_LINES)
      .then((files) => files.log)
      .catch(() => "");
    return new SlipwayError("launch_failed", withJobLog(reason, log), { logTail: log });
  }

  /**
   * The hub checks that the server answers before it routes to it (threats §5a.16), over TLS
   * pinned to the launch's certificate: whatever else listens on the port gets no request.
   */
  async #answers(): Promise<LaunchResult | undefined> {
    const [host, port] = [this.#host, this.#port];
    if (host === undefined || port === undefined) return undefined;
    const target = batchTarget(this.#state, host, port);
    if (target === undefined) return undefined;
    const status = await this.deps.probe(
      target,
      `${this.spec.baseUrl}api/status`,
      this.spec.token,
      PROBE_TIMEOUT_MS,
    );
    if (status !== 200) return undefined;
    this.ctx.progress("The server is ready", 100);
    return { state: batchStateJson({ ...this.#state, port }), target };
  }
}
