import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, User } from "../domain/types.js";
import type { PartitionChoice, PartitionSource } from "../ports/partition-source.js";

/** Part of the form model the pages render. */
export type { PartitionChoice } from "../ports/partition-source.js";

export interface LocalTargetDescription {
  readonly name: string;
  readonly type: "local";
  readonly displayName: string;
  readonly description: string;
}

export interface SlurmTargetConfig {
  readonly name: string;
  readonly type: "slurm";
  readonly displayName: string;
  readonly description: string;
  readonly defaults: { cpus: number; memoryMb: number; gpus: number; runtimeMinutes: number };
  /** A local target offered when the queue limit is reached. */
  readonly localFallback: string | undefined;
  readonly partitions: PartitionSource;
  /** Seconds before a server's time limit at which its owner is warned. */
  readonly walltimeWarnings: readonly number[];
}

export type TargetConfig = LocalTargetDescription | SlurmTargetConfig;

export interface SlurmTargetDescription {
  readonly name: string;
  readonly type: "slurm";
  readonly displayName: string;
  readonly description: string;
  readonly partitions: readonly PartitionChoice[];
  readonly defaults: { cpus: number; memoryMb: number; gpus: number; runtimeMinutes: number };
  readonly localFallback: string | null;
  /** Set when the scheduler could not be asked: nothing can be offered until it answers. */
  readonly unavailable: string | null;
}

export type TargetDescription = LocalTargetDescription | SlurmTargetDescription;

/** The per-user form model: only what this user may choose. */
export interface SpawnFormModel {
  readonly targets: readonly TargetDescription[];
  readonly defaultTarget: string;
}

export interface ValidatedLaunch {
  readonly target: string;
  /** The normalised `user_options` that are stored and shown back. */
  readonly userOptions: JsonObject;
}

/** A whole number given as a JSON number or as digits (forms send strings). */
const whole = z.union([
  z.int(),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform((s) => Number.parseInt(s, 10)),
]);

const baseSchema = z.looseObject({ target: z.string().max(64).optional() });

function refuse(error: z.ZodError): never {
  const issue = error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new SlipwayError(
      "unknown_field",
      `Unknown launch option: ${issue.keys.map((k) => k.slice(0, 32)).join(", ")}`,
    );
  }
  throw new SlipwayError(
    "invalid_option",
    `Launch option ${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "not valid"}`,
  );
}

/**
 * Whether a user may run on a target. Local servers and batch jobs without a container give a
 * shell on the centre's own machines, so they are open to its internal accounts only: an external
 * account (a guest from a federation) is never offered one.
 */
function openTo(target: TargetConfig, user: User): boolean {
  return user.zone === "internal" || !HOST_SHELL_TYPES.has(target.type);
}

/** Target types whose servers run on the centre's machines without a container. */
const HOST_SHELL_TYPES: ReadonlySet<string> = new Set(["local", "slurm"]);

/**
 * Turns the configured targets into a per-user model and validates what comes back against the
 * same model. Unknown keys are refused, so a form or API value can never reach a launcher
 * unchecked (invariant 4). Slurm partitions come from the scheduler's own access lists.
 */
export class SpawnOptions {
  readonly #targets: readonly TargetConfig[];
  readonly #defaultTarget: string;

  constructor(targets: readonly TargetConfig[], defaultTarget: string) {
    this.#targets = targets;
    this.#defaultTarget = defaultTarget;
  }

  async model(user: User): Promise<SpawnFormModel> {
    const open = this.#targets.filter((t) => openTo(t, user));
    const targets = await Promise.all(open.map((t) => this.#describe(t, user)));
    const defaultTarget = open.some((t) => t.name === this.#defaultTarget)
      ? this.#defaultTarget
      : (open[0]?.name ?? "");
    return { targets, defaultTarget };
  }

  async #describe(t: TargetConfig, user: User): Promise<TargetDescription> {
    if (t.type === "local") return t;
    let partitions: readonly PartitionChoice[] = [];
    let unavailable: string | null = null;
    try {
      partitions = await t.partitions.partitionsFor(user.name);
    } catch (err) {
      unavailable = `The cluster's scheduler does not answer (${err instanceof Error ? err.message : String(err)}).`;
    }
    return {
      name: t.name,
      type: "slurm",
      displayName: t.displayName,
      description: t.description,
      partitions,
      defaults: t.defaults,
      localFallback: t.localFallback ?? null,
      unavailable,
    };
  }

  async validate(user: User, raw: unknown): Promise<ValidatedLaunch> {
    const base = baseSchema.safeParse(raw ?? {});
    if (!base.success) refuse(base.error);
    const name = base.data.target ?? this.#defaultTarget;
    const config = this.#targets.find((t) => t.name === name);
    if (!config) {
      throw new SlipwayError(
        "invalid_option",
        `Launch option target: must be one of: ${this.#targets.map((t) => t.name).join(", ")}`,
      );
    }
    if (!openTo(config, user)) throw new SlipwayError("target_not_allowed");
    if (config.type === "local") {
      const parsed = z.strictObject({ target: z.string().optional() }).safeParse(raw ?? {});
      if (!parsed.success) refuse(parsed.error);
      return { target: name, userOptions: { target: name } };
    }
    return this.#validateSlurm(user, config, raw ?? {});
  }

  async #validateSlurm(user: User, config: SlurmTargetConfig, raw: unknown): Promise<ValidatedLaunch> {
    const shape = z.strictObject({
      target: z.string().optional(),
      partition: z.string().max(64).optional(),
      gpus: whole.optional(),
      cpus: whole.optional(),
      memory: whole.optional(),
      runtime: whole.optional(),
    });
    const parsed = shape.safeParse(raw);
    if (!parsed.success) refuse(parsed.error);
    let partitions: readonly PartitionChoice[];
    try {
      partitions = await config.partitions.partitionsFor(user.name);
    } catch {
      throw new SlipwayError("scheduler_unavailable");
    }
    const wanted = parsed.data.partition ?? partitions[0]?.name;
    const p = partitions.find((c) => c.name === wanted);
    if (!p) {
      throw new SlipwayError(
        "invalid_option",
        partitions.length === 0
          ? `You may not submit to any partition of ${config.displayName}.`
          : `Launch option partition: you may use ${partitions.map((c) => c.name).join(", ")}.`,
      );
    }
    const d = config.defaults;
    const pick = (field: string, value: number | undefined, def: number, min: number, max: number) => {
      const v = value ?? Math.min(Math.max(def, min), max);
      if (v < min || v > max) {
        throw new SlipwayError(
          "invalid_option",
          max < min
            ? `Launch option ${field}: not available in partition ${p.name}.`
            : `Launch option ${field}: must be between ${min} and ${max} in partition ${p.name}.`,
        );
      }
      return v;
    };
    const gpus = pick("gpus", parsed.data.gpus, d.gpus, 0, p.maxGpus);
    const cpus = pick("cpus", parsed.data.cpus, d.cpus, 1, p.maxCpus);
    const memory = pick("memory", parsed.data.memory, d.memoryMb, 1, p.maxMemoryMb);
    const runtime = pick(
      "runtime",
      parsed.data.runtime,
      Math.min(d.runtimeMinutes, p.defaultRuntimeMinutes),
      1,
      p.maxRuntimeMinutes,
    );
    return {
      target: config.name,
      userOptions: { target: config.name, partition: p.name, gpus, cpus, memory, runtime },
    };
  }

  /** The targets that run servers as batch jobs, which keep a log for their owner. */
  batchTargets(): string[] {
    return this.#targets.filter((t) => t.type === "slurm").map((t) => t.name);
  }

  isBatchTarget(name: string): boolean {
    return this.batchTargets().includes(name);
  }

  /** Per batch target, the seconds before a server's time limit at which its owner is warned. */
  walltimeWarnings(): Record<string, readonly number[]> {
    const out: Record<string, readonly number[]> = {};
    for (const t of this.#targets) if (t.type === "slurm") out[t.name] = t.walltimeWarnings;
    return out;
  }

  /** The partition choice a validated launch names, for the launcher's queue limit. */
  async partitionOf(
    userName: string,
    target: string,
    partition: string,
  ): Promise<PartitionChoice | undefined> {
    const config = this.#targets.find((t) => t.name === target);
    if (config?.type !== "slurm") return undefined;
    return (await config.partitions.partitionsFor(userName)).find((p) => p.name === partition);
  }
}
