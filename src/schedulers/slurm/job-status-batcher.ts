import type { Clock } from "../../ports/clock.js";
import type { SlurmClient } from "./slurm-client.js";
import type { AccountedJob, QueuedJob } from "./slurm-parsers.js";

/** What one batched look-up says about one job. */
export type JobLookup =
  | { readonly kind: "queue"; readonly job: QueuedJob }
  | { readonly kind: "accounting"; readonly job: AccountedJob }
  /** Neither squeue nor sacct knows it (or the cluster keeps no accounting). */
  | { readonly kind: "missing"; readonly accounting: boolean }
  | { readonly kind: "unknown"; readonly reason: string };

interface Waiter {
  readonly jobId: string;
  readonly resolve: (r: JobLookup) => void;
}

/**
 * Coalesces every job-status question of one cluster into one `squeue` (plus one `sacct` for the
 * jobs that left the queue) per poll interval (invariant 3). Questions asked while a query runs,
 * or sooner than `minIntervalMs` after the last one, wait for the next query, which answers them
 * all. A failed query answers every waiting question with `unknown`.
 */
export class JobStatusBatcher {
  #waiting: Waiter[] = [];
  #timer: { cancel(): void } | undefined;
  #running = false;
  #lastQueryAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: SlurmClient,
    private readonly clock: Clock,
    private readonly options: {
      /** At least this long between two queries. */
      readonly minIntervalMs: number;
      /** How long the first question waits for others to join it. */
      readonly gatherMs: number;
    },
  ) {}

  status(jobId: string): Promise<JobLookup> {
    return new Promise((resolve) => {
      this.#waiting.push({ jobId, resolve });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined || this.#waiting.length === 0) return;
    const now = this.clock.now().getTime();
    const wait = Math.max(this.options.gatherMs, this.#lastQueryAt + this.options.minIntervalMs - now);
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, wait);
  }

  async #flush(): Promise<void> {
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    this.#running = true;
    this.#lastQueryAt = this.clock.now().getTime();
    const ids = [...new Set(batch.map((w) => w.jobId))];
    const answers = new Map<string, JobLookup>();
    try {
      const queued = await this.client.queue(ids);
      for (const job of queued) answers.set(job.jobId, { kind: "queue", job });
      const gone = ids.filter((id) => !answers.has(id));
      if (gone.length > 0) {
        const accounted = await this.client.accounting(gone);
        if (accounted === "disabled") {
          for (const id of gone) answers.set(id, { kind: "missing", accounting: false });
        } else {
          for (const job of accounted) answers.set(job.jobId, { kind: "accounting", job });
          for (const id of gone) if (!answers.has(id)) answers.set(id, { kind: "missing", accounting: true });
        }
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      for (const id of ids) if (!answers.has(id)) answers.set(id, { kind: "unknown", reason });
    } finally {
      this.#running = false;
    }
    for (const w of batch) w.resolve(answers.get(w.jobId) ?? { kind: "unknown", reason: "no answer" });
    this.#schedule();
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.resolve({ kind: "unknown", reason: "the hub is shutting down" });
  }
}
