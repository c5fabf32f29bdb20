import type { ProcessRunner, RunResult } from "../../ports/process-runner.js";
import {
  isAccountingDisabled,
  isAccountingStorageUnsupported,
  isInvalidJobIdError,
  JOB_ID,
  parseClusterName,
  parseGpusPerPartition,
  parseGroups,
  parsePartitions,
  parseSacct,
  parseSqueue,
  parseUserAccounts,
  SACCT_FORMAT,
  SACCTMGR_USER_FORMAT,
  SINFO_GRES_FORMAT,
  SQUEUE_FORMAT,
  type AccountedJob,
  type PartitionInfo,
  type QueuedJob,
  type UserAccounts,
} from "./slurm-parsers.js";

export interface SlurmCommands {
  readonly sbatch: string;
  readonly squeue: string;
  readonly sacct: string;
  readonly scancel: string;
  readonly scontrol: string;
  readonly sinfo: string;
  readonly sacctmgr: string;
}

export type SlurmCommand = keyof SlurmCommands | "id";
export type CallOutcome = "ok" | "error" | "timeout";

/** Where the client reports each call; a null object when metrics are off. */
export interface SchedulerMetrics {
  call(command: string, outcome: CallOutcome, seconds: number): void;
  queueWait(seconds: number): void;
}

export const noSchedulerMetrics: SchedulerMetrics = { call: () => undefined, queueWait: () => undefined };

/** The scheduler could not be asked, or did not answer: `unknown`, never "gone" (invariant 2). */
export class SchedulerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchedulerUnavailable";
  }
}

export interface PartitionWithGpus extends PartitionInfo {
  readonly gpusPerNode: number;
}

/** A Unix user name as the hub's users have them; anything else is never passed to a command. */
const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** sacct takes about 50 ids per call (scheduler-interfaces.md §6). */
const SACCT_CHUNK = 50;

function brief(run: RunResult): string {
  return (run.stderr.trim().split("\n").at(-1) ?? "").slice(0, 300) || `exit code ${run.code}`;
}

/**
 * The hub's own read-only calls to Slurm's command-line tools, as the hub's account (squeue,
 * sacct, scontrol and sinfo show every user's jobs unless PrivateData hides them). Submitting
 * and cancelling happen as the user, through slipway-helper. Every failure or timeout throws
 * `SchedulerUnavailable`; every output is parsed and validated before use.
 */
export class SlurmClient {
  #clusterName: string | undefined;

  constructor(
    private readonly options: {
      readonly runner: ProcessRunner;
      readonly commands: SlurmCommands;
      readonly timeoutMs: number;
      readonly metrics?: SchedulerMetrics;
      readonly now?: () => number;
      /** The environment of every call; SLURM_TIME_FORMAT=%s is always added. */
      readonly env?: Readonly<Record<string, string>>;
    },
  ) {}

  get commands(): SlurmCommands {
    return this.options.commands;
  }

  private async run(command: SlurmCommand, argv: readonly string[]): Promise<RunResult> {
    const now = this.options.now ?? (() => performance.now());
    const metrics = this.options.metrics ?? noSchedulerMetrics;
    const began = now();
    let run: RunResult;
    try {
      run = await this.options.runner.run(argv, {
        timeoutMs: this.options.timeoutMs,
        env: { ...this.options.env, SLURM_TIME_FORMAT: "%s" },
      });
    } catch (err) {
      metrics.call(command, "error", (now() - began) / 1000);
      throw new SchedulerUnavailable(
        `could not run ${command}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const seconds = (now() - began) / 1000;
    metrics.call(command, run.timedOut ? "timeout" : run.code === 0 ? "ok" : "error", seconds);
    if (run.timedOut)
      throw new SchedulerUnavailable(`${command} did not answer within ${this.options.timeoutMs} ms`);
    return run;
  }

  private parse<T>(command: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      throw new SchedulerUnavailable(`${command}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** One `squeue` for all the given jobs, finished ones included while Slurm still holds them. */
  async queue(jobIds: readonly string[]): Promise<QueuedJob[]> {
    const ids = [...new Set(jobIds)].filter((id) => JOB_ID.test(id));
    if (ids.length === 0) return [];
    const { squeue } = this.options.commands;
    const run = await this.run("squeue", [
      squeue,
      "-h",
      "-t",
      "all",
      "-j",
      ids.join(","),
      "-o",
      SQUEUE_FORMAT,
    ]);
    if (run.code !== 0) {
      if (ids.length === 1 && isInvalidJobIdError(run.stderr)) return [];
      throw new SchedulerUnavailable(`squeue failed: ${brief(run)}`);
    }
    const jobs = this.parse("squeue", () => parseSqueue(run.stdout));
    return jobs.filter((j) => ids.includes(j.jobId));
  }

  /** Jobs of `user` named `name`, for finding a job by the attempt id in its comment. */
  async jobsNamed(user: string, name: string): Promise<QueuedJob[]> {
    const { squeue } = this.options.commands;
    const run = await this.run("squeue", [
      squeue,
      "-h",
      "-t",
      "all",
      "-u",
      user,
      "-n",
      name,
      "-o",
      SQUEUE_FORMAT,
    ]);
    if (run.code !== 0) throw new SchedulerUnavailable(`squeue failed: ${brief(run)}`);
    return this.parse("squeue", () => parseSqueue(run.stdout)).filter(
      (j) => j.name === name && j.user === user,
    );
  }

  /** Final states from accounting; `disabled` when the cluster keeps none. */
  async accounting(jobIds: readonly string[]): Promise<AccountedJob[] | "disabled"> {
    const ids = [...new Set(jobIds)].filter((id) => JOB_ID.test(id));
    const out: AccountedJob[] = [];
    const { sacct } = this.options.commands;
    for (let i = 0; i < ids.length; i += SACCT_CHUNK) {
      const chunk = ids.slice(i, i + SACCT_CHUNK);
      const run = await this.run("sacct", [
        sacct,
        "-X",
        "-P",
        "-n",
        "-a",
        "-o",
        SACCT_FORMAT,
        "-j",
        chunk.join(","),
      ]);
      if (run.code !== 0) {
        if (isAccountingDisabled(run.stdout + run.stderr)) return "disabled";
        throw new SchedulerUnavailable(`sacct failed: ${brief(run)}`);
      }
      out.push(...this.parse("sacct", () => parseSacct(run.stdout)));
    }
    return out;
  }

  /** Partitions with their access lists and limits, and the GPUs per node of each. */
  async partitions(): Promise<PartitionWithGpus[]> {
    const { scontrol, sinfo } = this.options.commands;
    const parts = await this.run("scontrol", [scontrol, "show", "partition", "-o"]);
    if (parts.code !== 0) throw new SchedulerUnavailable(`scontrol failed: ${brief(parts)}`);
    const gres = await this.run("sinfo", [sinfo, "-h", "-o", SINFO_GRES_FORMAT]);
    if (gres.code !== 0) throw new SchedulerUnavailable(`sinfo failed: ${brief(gres)}`);
    const partitions = this.parse("scontrol", () => parsePartitions(parts.stdout));
    const gpus = this.parse("sinfo", () => parseGpusPerPartition(gres.stdout));
    return partitions.map((p) => ({ ...p, gpusPerNode: gpus.get(p.name) ?? 0 }));
  }

  /**
   * The user's Slurm accounts, as AllowAccounts/DenyAccounts compare them. Without slurmdbd a job
   * has no account (sbatch is never given `--account`), which is what this returns then.
   */
  async accountsOf(user: string): Promise<UserAccounts> {
    if (!USER_NAME.test(user)) return { defaultAccount: null, accounts: [] };
    const { sacctmgr } = this.options.commands;
    // Default accounts are per cluster, and one slurmdbd may keep several clusters.
    const cluster = await this.clusterName();
    const run = await this.run("sacctmgr", [
      sacctmgr,
      "-n",
      "-P",
      "show",
      "user",
      // `name=` so that no user name can be read as one of sacctmgr's keywords.
      `name=${user}`,
      `cluster=${cluster}`,
      "withassoc",
      `format=${SACCTMGR_USER_FORMAT}`,
    ]);
    if (run.code !== 0) {
      if (isAccountingStorageUnsupported(run.stdout + run.stderr))
        return { defaultAccount: null, accounts: [] };
      throw new SchedulerUnavailable(`sacctmgr failed: ${brief(run)}`);
    }
    return this.parse("sacctmgr", () => parseUserAccounts(run.stdout));
  }

  /** Slurm's ClusterName (`scontrol show config`), read once: it changes only with the cluster. */
  async clusterName(): Promise<string> {
    if (this.#clusterName !== undefined) return this.#clusterName;
    const { scontrol } = this.options.commands;
    const run = await this.run("scontrol", [scontrol, "show", "config"]);
    if (run.code !== 0) throw new SchedulerUnavailable(`scontrol failed: ${brief(run)}`);
    this.#clusterName = this.parse("scontrol", () => parseClusterName(run.stdout));
    return this.#clusterName;
  }

  /** The user's Unix groups (names), as AllowGroups compares them. */
  async groupsOf(user: string): Promise<string[]> {
    if (!USER_NAME.test(user)) return [];
    const run = await this.run("id", ["id", "-Gn", "--", user]);
    if (run.code !== 0) return [];
    return parseGroups(run.stdout);
  }
}
