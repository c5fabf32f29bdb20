import type { PartitionChoice, PartitionSource } from "../../ports/partition-source.js";
import type { PartitionWithGpus, SlurmClient } from "./slurm-client.js";
import type { PartitionInfo, UserAccounts } from "./slurm-parsers.js";

export interface ConfiguredPartition {
  readonly displayName?: string | undefined;
  readonly queueLimit: number;
  readonly maxCpus?: number | undefined;
  readonly maxMemoryMb?: number | undefined;
  readonly maxGpus?: number | undefined;
}

/**
 * The account a job of this user runs under, as far as the hub knows it: sbatch is never given
 * `--account`, so it is the user's default account (null: the user has none, or the cluster keeps
 * no accounting, and the job has no account). `unknown`: accounting could not be asked.
 */
export type JobAccount =
  { readonly known: true; readonly account: string | null } | { readonly known: false };

/** Whether the partition's account lists matter at all (then the user's account must be looked up). */
export function limitsAccounts(partition: PartitionInfo): boolean {
  return partition.allowAccounts !== null || partition.denyAccounts.length > 0;
}

/**
 * Whether a user may submit to a partition, from the partition's own lists rather than a
 * hand-kept copy, the way slurmctld decides (job_mgr.c, `_valid_job_part_acct`): AllowGroups
 * against the user's groups; AllowAccounts, when set, admits only a job whose account is listed
 * (a job with no account is refused) and then DenyAccounts is ignored; otherwise DenyAccounts
 * refuses a listed account and lets a job with no account through. While the user's account is
 * unknown, a partition limited by accounts is not offered: only what sbatch surely accepts is.
 */
export function mayUse(partition: PartitionInfo, groups: readonly string[], account: JobAccount): boolean {
  if (!partition.up || partition.rootOnly || partition.hidden) return false;
  if (partition.allowGroups !== null && !partition.allowGroups.some((g) => groups.includes(g))) return false;
  if (partition.allowAccounts !== null) {
    return account.known && account.account !== null && partition.allowAccounts.includes(account.account);
  }
  if (partition.denyAccounts.length > 0) {
    return account.known && (account.account === null || !partition.denyAccounts.includes(account.account));
  }
  return true;
}

/**
 * The per-user partitions of one cluster: configured partitions the user may use, with bounds
 * from the configuration narrowed by the partition (MaxTime, GPUs per node). Partitions, groups
 * and accounts are cached for `ttlMs`, so changes on the cluster show without a restart; a user's
 * accounts are looked up only when a configured partition limits accounts.
 */
export class SlurmPartitionAccess implements PartitionSource {
  #partitions: { at: number; value: Promise<PartitionWithGpus[]>; failed?: boolean } | undefined;
  readonly #groups = new Map<string, { at: number; value: Promise<string[]>; failed?: boolean }>();
  readonly #accounts = new Map<string, { at: number; value: Promise<UserAccounts>; failed?: boolean }>();

  constructor(
    private readonly client: SlurmClient,
    private readonly config: {
      readonly partitions: Readonly<Record<string, ConfiguredPartition>>;
      readonly maxCpus: number;
      readonly maxMemoryMb: number;
      readonly maxRuntimeMinutes: number;
      readonly defaultRuntimeMinutes: number;
      readonly ttlMs: number;
      readonly now: () => number;
    },
  ) {}

  #cached<T>(
    entry: { at: number; value: Promise<T>; failed?: boolean } | undefined,
    load: () => Promise<T>,
  ): { at: number; value: Promise<T>; failed?: boolean } {
    const now = this.config.now();
    if (entry && !entry.failed && now - entry.at < this.config.ttlMs) return entry;
    const fresh: { at: number; value: Promise<T>; failed?: boolean } = { at: now, value: load() };
    // A failed look-up is not kept: the next request asks again.
    fresh.value.catch(() => {
      fresh.failed = true;
    });
    return fresh;
  }

  async partitionsFor(userName: string): Promise<readonly PartitionChoice[]> {
    const parts = this.#cached(this.#partitions, () => this.client.partitions());
    this.#partitions = parts;
    const groupEntry = this.#cached(this.#groups.get(userName), () => this.client.groupsOf(userName));
    this.#groups.set(userName, groupEntry);
    const [all, groups] = await Promise.all([parts.value, groupEntry.value]);
    const configured = Object.entries(this.config.partitions).flatMap(([name, conf]) => {
      const p = all.find((x) => x.name === name);
      return p ? [{ name, conf, p }] : [];
    });
    const account = configured.some(({ p }) => limitsAccounts(p))
      ? await this.#accountOf(userName)
      : { known: false as const };
    const out: PartitionChoice[] = [];
    for (const { name, conf, p } of configured) {
      if (!mayUse(p, groups, account)) continue;
      const maxRuntime = Math.min(
        this.config.maxRuntimeMinutes,
        p.maxTime === null ? Number.POSITIVE_INFINITY : Math.floor(p.maxTime / 60),
      );
      out.push({
        name,
        displayName: conf.displayName ?? name,
        maxGpus: Math.min(p.gpusPerNode, conf.maxGpus ?? p.gpusPerNode),
        maxCpus: Math.min(conf.maxCpus ?? this.config.maxCpus, p.totalCpus ?? Number.POSITIVE_INFINITY),
        maxMemoryMb: conf.maxMemoryMb ?? this.config.maxMemoryMb,
        maxRuntimeMinutes: maxRuntime,
        defaultRuntimeMinutes: Math.min(
          maxRuntime,
          p.defaultTime === null ? this.config.defaultRuntimeMinutes : Math.floor(p.defaultTime / 60),
        ),
        queueLimit: conf.queueLimit,
      });
    }
    return out;
  }

  /** The user's job account; a failed look-up counts as unknown (and is asked again next time). */
  async #accountOf(userName: string): Promise<JobAccount> {
    const entry = this.#cached(this.#accounts.get(userName), () => this.client.accountsOf(userName));
    this.#accounts.set(userName, entry);
    try {
      return { known: true, account: (await entry.value).defaultAccount };
    } catch {
      return { known: false };
    }
  }
}
