/** One partition as a user may choose it, with the bounds that apply there. */
export interface PartitionChoice {
  readonly name: string;
  readonly displayName: string;
  /** 0 when the partition's nodes have no GPU GRES: the form shows no GPU field then. */
  readonly maxGpus: number;
  readonly maxCpus: number;
  readonly maxMemoryMb: number;
  readonly maxRuntimeMinutes: number;
  readonly defaultRuntimeMinutes: number;
  /** Seconds a server may wait in this queue before it is cancelled. */
  readonly queueLimit: number;
}

/** The partitions of a cluster that one user may submit to (from the scheduler, cached briefly). */
export interface PartitionSource {
  partitionsFor(userName: string): Promise<readonly PartitionChoice[]>;
}
