import type { Config } from "../config/schema.js";
import { BatchLauncher } from "../launchers/batch-launcher.js";
import { HelperClient } from "../launchers/helper-client.js";
import type { Clock } from "../ports/clock.js";
import type { Launcher } from "../ports/launcher.js";
import type { ProcessRunner } from "../ports/process-runner.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { SlurmClient, type SchedulerMetrics } from "../schedulers/slurm/slurm-client.js";
import { SlurmPartitionAccess } from "../schedulers/slurm/slurm-partition-access.js";
import { SlurmScheduler } from "../schedulers/slurm/slurm-scheduler.js";
import type { TargetConfig } from "../services/spawn-options.js";

type SlurmTargetSettings = Extract<Config["servers"]["targets"][string], { type: "slurm" }>;

export interface SlurmTargetDeps {
  readonly name: string;
  readonly target: SlurmTargetSettings;
  readonly servers: Config["servers"];
  readonly clock: Clock;
  /** Runs the helper (sudo when servers run as their users). */
  readonly runner: ProcessRunner;
  /** Runs squeue, sacct, sinfo, scontrol. */
  readonly schedulerRunner: ProcessRunner;
  readonly helperArgv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly hubId: string;
  /** The Jupyter command when the target names none. */
  readonly command: readonly string[];
  /** The job agent installed with the hub, when the target names none. */
  readonly defaultAgent: string;
  /** The hub's public origin, known only once it listens. */
  readonly origin: () => string;
  readonly callbackKey: Buffer;
  readonly metrics: SchedulerMetrics;
  /** Readiness checks over the proxy's own channels (TLS pinned to each launch's certificate). */
  readonly probe: TargetProbe;
}

export interface SlurmTarget {
  readonly launcher: Launcher;
  readonly target: TargetConfig;
  /** Stops the target's batched status queries. */
  close(): void;
}

/**
 * One Slurm target: the Slurm adapter of the scheduler port (its client, and the batched status
 * query shared by its servers), the partition access its users have, and the batch launcher
 * over that adapter. In a module of its own, which `main.ts` imports only when the configuration
 * has a Slurm target, so a hub without one never loads it.
 */
export function slurmTarget(deps: SlurmTargetDeps): SlurmTarget {
  const { name, target, servers, clock, metrics } = deps;
  const client = new SlurmClient({
    runner: deps.schedulerRunner,
    commands: target.commands,
    timeoutMs: target.commandTimeout * 1000,
    metrics,
    env: { ...deps.env },
  });
  const scheduler = new SlurmScheduler({
    client,
    helper: new HelperClient({
      runner: deps.runner,
      helperArgv: [...deps.helperArgv],
      runAs: servers.runAs,
      env: { ...deps.env },
    }),
    hubId: deps.hubId,
    python: target.python,
    agent: target.agent ?? deps.defaultAgent,
    clock,
    timing: {
      // Exactly one query per interval (invariant 3): launches in flight ask again as soon as
      // they have an answer, and the monitor's jittered tick joins the next query.
      minIntervalMs: target.pollInterval * 1000,
      gatherMs: 50,
    },
  });
  const access = new SlurmPartitionAccess(client, {
    partitions: target.partitions,
    maxCpus: target.maxCpus,
    maxMemoryMb: target.maxMemoryMb,
    maxRuntimeMinutes: target.maxRuntimeMinutes,
    defaultRuntimeMinutes: target.defaults.runtimeMinutes,
    ttlMs: target.partitionCacheTtl * 1000,
    now: () => clock.now().getTime(),
  });
  const callbackUrl = target.callbackUrl;
  const launcher = new BatchLauncher({
    scheduler,
    command: [...(target.command ?? deps.command)],
    workDir: servers.workDir,
    callbackUrl: () => callbackUrl ?? deps.origin(),
    callbackKey: deps.callbackKey,
    queueLimit: (partition) => target.partitions[partition]?.queueLimit ?? 3600,
    localFallback: target.localFallback,
    metrics,
    probe: deps.probe,
    clock,
  });
  return {
    launcher,
    target: {
      name,
      type: "slurm",
      displayName: target.displayName,
      description: target.description,
      defaults: target.defaults,
      localFallback: target.localFallback,
      partitions: access,
      walltimeWarnings: target.walltimeWarnings,
    },
    close: () => scheduler.close(),
  };
}
