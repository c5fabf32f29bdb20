/**
 * A batch system (Slurm, HTCondor) as the batch launcher and the workflows see it: jobs of
 * notebook servers submitted as their users, followed through one batched query per cluster and
 * poll interval, cancelled, and found again after a restart. Job ids are the scheduler's own
 * text (`1234`, `6100.0`); times are epoch seconds.
 *
 * Unknown is a first-class answer (architecture invariant 2): a query that fails or times out
 * says `unknown`, never "gone", so nothing is stopped, unrouted or cancelled for it. The methods
 * that ask the scheduler resolve with an outcome rather than throw for the scheduler's trouble.
 */

/** What a server's job asks for; the scheduler checks each value again before it submits. */
export interface JobResources {
  /** Where the job waits (a Slurm partition). */
  readonly queue: string;
  readonly cpus: number;
  readonly memoryMb: number;
  readonly gpus: number;
  /** The job's time limit (walltime). */
  readonly minutes: number;
}

/**
 * One server's job, submitted as `userName` from the scheduler's fixed template (architecture
 * invariant 4): every value is validated again, none can add a line or a flag. The token, the
 * callback credential and the TLS key are secrets: they reach the job only in files readable by
 * its owner, never its argv, environment, name or comment (invariant 5).
 */
export interface ServerJobRequest {
  readonly userName: string;
  readonly serverId: number;
  /** Put on the job (its name or comment) so that `find` sees it after a restart (invariant 1). */
  readonly attemptId: string;
  /** `/user/<name>/` or `/user/<name>/<server>/`. */
  readonly baseUrl: string;
  readonly token: string;
  /** The hub's origin as the job's agent reaches it, to report its port. */
  readonly callbackUrl: string;
  readonly callbackCredential: string;
  /** The launch's key pair: the server speaks TLS with it, the hub pins the certificate (invariant 9). */
  readonly tls: { readonly key: string; readonly certificate: string };
  /** argv of Jupyter on the compute node; the job's agent adds only `--config=<file>`. */
  readonly command: readonly string[];
  readonly workDir: string;
  readonly resources: JobResources;
}

export type SubmitOutcome =
  | { readonly state: "submitted"; readonly jobId: string }
  /** The scheduler (or the helper's checks) said no: nothing was submitted. */
  | { readonly state: "refused"; readonly reason: string }
  /** No answer came: a job may exist; `find` with the attempt id tells. */
  | { readonly state: "unknown"; readonly reason: string };

/** A job of a server's, as the status and cancel calls name it. */
export interface JobRef {
  readonly jobId: string;
  readonly userName: string;
  readonly serverId: number;
}

/** Where a job is, in words that do not depend on the scheduler. */
export type JobStatus =
  /** Waiting: `reason` in words a user understands, with the scheduler's own code. */
  | {
      readonly state: "queued";
      readonly queue: string;
      readonly reason: string;
      /** The scheduler's estimate, when it has one. */
      readonly expectedStart?: number;
    }
  | {
      readonly state: "running";
      /** The node the job's server listens on, once the scheduler names it. */
      readonly host: string | null;
      /** The nodes it runs on, in the scheduler's words, for people. */
      readonly nodes: string | null;
      /** What it was given beyond CPUs and memory (`gpu:1`), for people. */
      readonly resources?: string;
      readonly startedAt?: number;
      /** When the scheduler ends it (its time limit); absent when unlimited. */
      readonly endsAt?: number;
    }
  /** It ended: why, and whether that is a failure (walltime, memory, node, exit code) or not. */
  | { readonly state: "ended"; readonly reason: string; readonly failed: boolean }
  /** The scheduler no longer knows it and keeps nothing that says how it ended. */
  | { readonly state: "missing"; readonly reason: string }
  /** The scheduler could not be asked, or did not answer. Never a reason to stop anything. */
  | { readonly state: "unknown"; readonly reason: string };

export type CancelOutcome =
  /** Asked and accepted: the job ends (a job that had already ended counts too). */
  { readonly state: "cancelled" } | { readonly state: "unknown"; readonly reason: string };

export interface FoundJob {
  readonly jobId: string;
  readonly queue: string;
  readonly submittedAt?: number;
}

export type FindOutcome =
  | { readonly state: "found"; readonly job: FoundJob }
  | { readonly state: "none" }
  | { readonly state: "unknown"; readonly reason: string };

/** What a server's job keeps in its owner's job directory, read back as that user. */
export interface JobFiles {
  /** The last lines of the job's output, the server's token redacted. */
  readonly log: string;
  /** The agent's own exit record, when the job got that far. */
  readonly exitCode?: number;
  /** The certificate of the job's last submission (public). */
  readonly certificate?: string;
}

export interface Scheduler {
  /** `slurm`, `htcondor`: a launcher of its jobs has this kind. */
  readonly kind: string;
  /** Its name in messages to people: `Slurm`, `HTCondor`. */
  readonly label: string;
  /** Submits as the user, through the helper (the hub never submits as itself). */
  submit(request: ServerJobRequest): Promise<SubmitOutcome>;
  /**
   * The job's status. Every question asked of one cluster within a poll interval is answered by
   * one batched query (architecture invariant 3); a job that left the queue is resolved from the
   * scheduler's records, or from the exit record its agent wrote.
   */
  status(job: JobRef): Promise<JobStatus>;
  /** Cancels as the job's owner; idempotent. */
  cancel(job: JobRef): Promise<CancelOutcome>;
  /** The job an attempt submitted, found by the server and attempt it carries. */
  find(userName: string, serverId: number, attemptId: string): Promise<FindOutcome>;
  /** The job directory's log tail, exit record and certificate; throws when they cannot be read. */
  jobFiles(userName: string, serverId: number, lines: number): Promise<JobFiles>;
  /** Stops the batched queries; questions still waiting are answered `unknown`. */
  close(): void;
}
