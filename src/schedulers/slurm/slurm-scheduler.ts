import {
  slurmCancelResultSchema,
  slurmLogTailResultSchema,
  slurmSubmitResultSchema,
  type SlurmJob,
} from "../../helper/protocol.js";
import type { Clock } from "../../ports/clock.js";
import type {
  CancelOutcome,
  FindOutcome,
  JobFiles,
  JobRef,
  JobStatus,
  Scheduler,
  ServerJobRequest,
  SubmitOutcome,
} from "../../ports/scheduler.js";
import { JobStatusBatcher, type BatchTiming } from "../job-status-batcher.js";
import { helperAnswered, messageOf, type UserHelper } from "../user-helper.js";
import type { SlurmClient } from "./slurm-client.js";
import { slurmLookups, type JobLookup } from "./slurm-job-lookup.js";
import { endingOf, endingOfMissing, statusOfQueued } from "./slurm-job-state.js";

export interface SlurmSchedulerOptions {
  /** The hub's own read-only calls (squeue, sacct), as the hub's account. */
  readonly client: SlurmClient;
  /** Submits, cancels and reads job directories as the job's owner. */
  readonly helper: UserHelper;
  /** Names this hub's jobs (`slipway-<hub>-<serverId>`) and their directories. */
  readonly hubId: string;
  /** Python and the job agent, as the compute nodes see them. */
  readonly python: string;
  readonly agent: string;
  readonly clock: Clock;
  /** One squeue per `minIntervalMs` at most: the cluster's poll interval. */
  readonly timing: BatchTiming;
}

/** sbatch itself gives up after 30 s when slurmctld is down; the helper and sudo need a little more. */
const SUBMIT_TIMEOUT_MS = 60_000;
const CANCEL_TIMEOUT_MS = 45_000;
const READ_TIMEOUT_MS = 30_000;

/**
 * Slurm behind the scheduler port. Jobs are submitted and cancelled as the user through
 * slipway-helper (`sbatch --parsable` with the fixed template on stdin, `scancel <id>`); every
 * status question of the cluster joins one squeue per poll interval, plus sacct for the jobs
 * that left the queue (JobStatusBatcher). A job carries `slipway-<hub>-<serverId>` as its name
 * and `slipway-attempt:<uuid>` as its comment, which is how `find` recognises an attempt.
 */
export class SlurmScheduler implements Scheduler {
  readonly kind = "slurm";
  readonly label = "Slurm";
  readonly #batcher: JobStatusBatcher<JobLookup>;

  constructor(private readonly options: SlurmSchedulerOptions) {
    this.#batcher = new JobStatusBatcher(slurmLookups(options.client), options.clock, options.timing);
  }

  async submit(request: ServerJobRequest): Promise<SubmitOutcome> {
    const { resources } = request;
    const job: SlurmJob = {
      partition: resources.queue,
      cpus: resources.cpus,
      memoryMb: resources.memoryMb,
      gpus: resources.gpus,
      minutes: resources.minutes,
    };
    try {
      const submitted = await this.options.helper.call(
        request.userName,
        "slurm-submit",
        {
          hub: this.options.hubId,
          serverId: request.serverId,
          attemptId: request.attemptId,
          baseUrl: request.baseUrl,
          token: request.token,
          credential: request.callbackCredential,
          tls: request.tls,
          callbackUrl: request.callbackUrl,
          command: [...request.command],
          workDir: request.workDir,
          job,
          python: this.options.python,
          agent: this.options.agent,
          sbatch: this.options.client.commands.sbatch,
        },
        slurmSubmitResultSchema,
        SUBMIT_TIMEOUT_MS,
      );
      return { state: "submitted", jobId: submitted.jobId };
    } catch (err) {
      return { state: helperAnswered(err) ? "refused" : "unknown", reason: messageOf(err) };
    }
  }

  async status(ref: JobRef): Promise<JobStatus> {
    const answer = await this.#batcher.status(ref.jobId);
    if (!answer.ok) return { state: "unknown", reason: answer.reason };
    const lookup = answer.value;
    switch (lookup.kind) {
      case "queue":
        return statusOfQueued(lookup.job, Math.floor(this.options.clock.now().getTime() / 1000));
      case "accounting":
        return { state: "ended", ...endingOf(lookup.job) };
      case "missing":
        return endingOfMissing(
          ref.jobId,
          lookup.accounting,
          lookup.accounting ? undefined : await this.#exitCode(ref),
        );
      case "unknown":
        return { state: "unknown", reason: lookup.reason };
    }
  }

  /** The exit record the job's agent wrote, the only word on a job's end without accounting. */
  async #exitCode(ref: JobRef): Promise<number | undefined> {
    try {
      return (await this.jobFiles(ref.userName, ref.serverId, 1)).exitCode;
    } catch {
      return undefined;
    }
  }

  async cancel(ref: JobRef): Promise<CancelOutcome> {
    try {
      await this.options.helper.call(
        ref.userName,
        "slurm-cancel",
        { jobId: ref.jobId, scancel: this.options.client.commands.scancel },
        slurmCancelResultSchema,
        CANCEL_TIMEOUT_MS,
      );
      return { state: "cancelled" };
    } catch (err) {
      return { state: "unknown", reason: messageOf(err) };
    }
  }

  async find(userName: string, serverId: number, attemptId: string): Promise<FindOutcome> {
    let jobs;
    try {
      jobs = await this.options.client.jobsNamed(userName, `slipway-${this.options.hubId}-${serverId}`);
    } catch (err) {
      return { state: "unknown", reason: messageOf(err) };
    }
    const job = jobs.find((j) => j.comment === `slipway-attempt:${attemptId}`);
    if (!job) return { state: "none" };
    return {
      state: "found",
      job: {
        jobId: job.jobId,
        queue: job.partition,
        ...(job.submit !== null ? { submittedAt: job.submit } : {}),
      },
    };
  }

  async jobFiles(userName: string, serverId: number, lines: number): Promise<JobFiles> {
    const read = await this.options.helper.call(
      userName,
      "slurm-log-tail",
      { hub: this.options.hubId, serverId, lines },
      slurmLogTailResultSchema,
      READ_TIMEOUT_MS,
    );
    return {
      log: read.text,
      ...(read.exitCode !== undefined ? { exitCode: read.exitCode } : {}),
      ...(read.certificate !== undefined ? { certificate: read.certificate } : {}),
    };
  }

  close(): void {
    this.#batcher.close();
  }
}
