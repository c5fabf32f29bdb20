import type { Clock } from "../ports/clock.js";

/** One job's part of a batched answer, or why there is none. */
export type BatchAnswer<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * One batched query of a cluster: the answer for every id asked (an id left out of the map is
 * answered "no answer", i.e. unknown). Throws when the scheduler could not be asked.
 */
export type BatchQuery<T> = (jobIds: readonly string[]) => Promise<ReadonlyMap<string, T>>;

interface Waiter<T> {
  readonly jobId: string;
  readonly resolve: (answer: BatchAnswer<T>) => void;
}

export interface BatchTiming {
  /** At least this long between two queries: the cluster's poll interval. */
  readonly minIntervalMs: number;
  /** How long the first question waits for others to join it. */
  readonly gatherMs: number;
}

/**
 * Coalesces every job-status question of one cluster into one query per poll interval
 * (architecture invariant 3), whatever the scheduler: Slurm's squeue plus sacct, HTCondor's
 * condor_q plus condor_history. Questions asked while a query runs, or sooner than
 * `minIntervalMs` after the last one, wait for the next query, which answers them all. A failed
 * query answers every waiting question with its reason, never with a guess.
 */
export class JobStatusBatcher<T> {
  #waiting: Waiter<T>[] = [];
  #timer: { cancel(): void } | undefined;
  #running = false;
  #lastQueryAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly query: BatchQuery<T>,
    private readonly clock: Clock,
    private readonly timing: BatchTiming,
  ) {}

  status(jobId: string): Promise<BatchAnswer<T>> {
    return new Promise((resolve) => {
      this.#waiting.push({ jobId, resolve });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined || this.#waiting.length === 0) return;
    const now = this.clock.now().getTime();
    const wait = Math.max(this.timing.gatherMs, this.#lastQueryAt + this.timing.minIntervalMs - now);
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
    let answers: ReadonlyMap<string, T> = new Map();
    let failure: string | undefined;
    try {
      answers = await this.query(ids);
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    } finally {
      this.#running = false;
    }
    for (const w of batch) {
      const value = answers.get(w.jobId);
      w.resolve(value !== undefined ? { ok: true, value } : { ok: false, reason: failure ?? "no answer" });
    }
    this.#schedule();
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.resolve({ ok: false, reason: "the hub is shutting down" });
  }
}
