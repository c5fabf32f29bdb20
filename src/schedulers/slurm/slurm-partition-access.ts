import type { PartitionChoice, PartitionSource } from "../../services/spawn-options.js";
import type { PartitionWithGpus, SlurmClient } from "./slurm-client.js";

export interface ConfiguredPartition {
  readonly displayName?: string | undefined;
  readonly queueLimit: number;
  readonly maxCpus?: number | undefined;
  readonly maxMemoryMb?: number | undefined;
  readonly maxGpus?: number | undefined;
}

/**
 * Whether a user may submit to a partition, from the partition's own lists (AllowGroups,
 * AllowAccounts, DenyAccounts) rather than a hand-kept copy. The user's Slurm accounts are not
 * looked up: a partition limited to some accounts is not offered, so what is offered is always
 * something sbatch accepts.
 */
export function mayUse(partition: PartitionWithGpus, groups: readonly string[]): boolean {
  if (!partition.up || partition.rootOnly || partition.hidden) return false;
  if (partition.allowAccounts !== null) return false;
  if (partition.allowGroups === null) return true;
  return partition.allowGroups.some((g) => groups.includes(g));
}

/**
 * The per-user partitions of one cluster: configured partitions the user may use, with bounds
 * from the configuration narrowed by the partition (MaxTime, GPUs per node). Partitions and
 * groups are cached for `ttlMs`, so changes on the cluster show without a restart.
 */
export class SlurmPartitionAccess implements PartitionSource {
  #partitions: { at: number; value: Promise<PartitionWithGpus[]>; failed?: boolean } | undefined;
  readonly #groups = new Map<string, { at: number; value: Promise<string[]>; failed?: boolean }>();

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
    const out: PartitionChoice[] = [];
    for (const [name, conf] of Object.entries(this.config.partitions)) {
      const p = all.find((x) => x.name === name);
      if (!p || !mayUse(p, groups)) continue;
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
}
