import type { BatchQuery } from "../job-status-batcher.js";
import type { SlurmClient } from "./slurm-client.js";
import type { AccountedJob, QueuedJob } from "./slurm-parsers.js";

/** What one batched look-up of Slurm says about one job. */
export type JobLookup =
  | { readonly kind: "queue"; readonly job: QueuedJob }
  | { readonly kind: "accounting"; readonly job: AccountedJob }
  /** Neither squeue nor sacct knows it (or the cluster keeps no accounting). */
  | { readonly kind: "missing"; readonly accounting: boolean }
  /** squeue answered, sacct (asked about the jobs that left the queue) did not. */
  | { readonly kind: "unknown"; readonly reason: string };

/**
 * One cluster's batched query: one `squeue` for every job asked about, then one `sacct` (in
 * chunks of 50 ids) for those that left the queue, where accounting exists. A failed squeue
 * throws (every answer is unknown); a failed sacct leaves only the jobs it was asked about unknown.
 */
export function slurmLookups(client: SlurmClient): BatchQuery<JobLookup> {
  return async (ids) => {
    const answers = new Map<string, JobLookup>();
    for (const job of await client.queue(ids)) answers.set(job.jobId, { kind: "queue", job });
    const gone = ids.filter((id) => !answers.has(id));
    if (gone.length === 0) return answers;
    try {
      const accounted = await client.accounting(gone);
      if (accounted === "disabled") {
        for (const id of gone) answers.set(id, { kind: "missing", accounting: false });
      } else {
        for (const job of accounted) answers.set(job.jobId, { kind: "accounting", job });
        for (const id of gone) if (!answers.has(id)) answers.set(id, { kind: "missing", accounting: true });
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      for (const id of gone) answers.set(id, { kind: "unknown", reason });
    }
    return answers;
  };
}
