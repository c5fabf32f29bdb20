import type { JsonObject } from "../../domain/types.js";
import type {
  PartitionChoice,
  SlurmTargetDescription,
  SpawnFormModel,
  TargetDescription,
} from "../../services/spawn-options.js";
import { html, type Html } from "../html.js";

/** Values a spawn URL's query or a server's last `user_options` may suggest; all untrusted. */
export type Suggestion = Readonly<Record<string, unknown>>;

/** The field values shown for one Slurm target, all within what the model allows. */
export interface SlurmFormValues {
  readonly partition: string;
  readonly gpus: number;
  readonly cpus: number;
  readonly memory: number;
  readonly runtime: number;
}

interface Bound {
  readonly min: number;
  readonly max: number;
  readonly def: number;
}

const clamp = (v: number, min: number, max: number) => Math.min(Math.max(v, min), max);

/** Bounds and defaults per field, the same ones `SpawnOptions.validate` applies. */
export function partitionBounds(
  t: SlurmTargetDescription,
  p: PartitionChoice,
): Record<"gpus" | "cpus" | "memory" | "runtime", Bound> {
  const d = t.defaults;
  return {
    gpus: { min: 0, max: p.maxGpus, def: clamp(d.gpus, 0, p.maxGpus) },
    cpus: { min: 1, max: p.maxCpus, def: clamp(d.cpus, 1, p.maxCpus) },
    memory: { min: 1, max: p.maxMemoryMb, def: clamp(d.memoryMb, 1, p.maxMemoryMb) },
    runtime: {
      min: 1,
      max: p.maxRuntimeMinutes,
      def: clamp(Math.min(d.runtimeMinutes, p.defaultRuntimeMinutes), 1, p.maxRuntimeMinutes),
    },
  };
}

/** A whole number given as a number or as digits (a query string), else undefined. */
function wholeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^\d{1,9}$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/**
 * The values to show for a Slurm target: each suggestion (earlier ones win) is taken only when
 * the model allows it — a partition the user may use, a number within that partition's bounds —
 * and otherwise the default applies.
 */
export function slurmFormValues(
  t: SlurmTargetDescription,
  suggestions: readonly Suggestion[],
): SlurmFormValues {
  const wantedPartition = suggestions
    .map((s) => s["partition"])
    .find((v) => typeof v === "string" && t.partitions.some((p) => p.name === v));
  const p = t.partitions.find((c) => c.name === wantedPartition) ?? t.partitions[0];
  if (!p) return { partition: "", gpus: 0, cpus: 1, memory: 1, runtime: 1 };
  const bounds = partitionBounds(t, p);
  const pick = (field: keyof typeof bounds) => {
    const b = bounds[field];
    for (const s of suggestions) {
      const v = wholeOf(s[field]);
      if (v !== undefined && v >= b.min && v <= b.max) return v;
    }
    return b.def;
  };
  return {
    partition: p.name,
    gpus: pick("gpus"),
    cpus: pick("cpus"),
    memory: pick("memory"),
    runtime: pick("runtime"),
  };
}

/** What web/app.ts needs to update the dependent fields when the partition changes. */
function clientModel(t: SlurmTargetDescription) {
  return {
    partitions: t.partitions.map((p) => {
      const b = partitionBounds(t, p);
      return {
        name: p.name,
        gpus: b.gpus,
        cpus: b.cpus,
        memory: b.memory,
        runtime: b.runtime,
      };
    }),
  };
}

function numberField(
  name: string,
  label: string,
  unit: string,
  value: number,
  bound: Bound,
  hidden: boolean,
): Html {
  return html`<label data-field="${name}" ${hidden ? html`hidden` : ""}
    >${label}
    <input
      type="number"
      name="${name}"
      inputmode="numeric"
      required
      step="1"
      min="${bound.min}"
      max="${bound.max}"
      value="${value}"
      ${hidden ? html`disabled` : ""}
    />
    <span class="muted" data-role="limit">${unit}, at most ${bound.max}</span></label
  >`;
}

function slurmFields(t: SlurmTargetDescription, values: SlurmFormValues, active: boolean): Html {
  const p = t.partitions.find((c) => c.name === values.partition);
  const body =
    t.unavailable !== null
      ? html`<p class="error" role="status">${t.unavailable}</p>`
      : !p
        ? html`<p class="error" role="status">You may not submit to any partition of ${t.displayName}.</p>`
        : (() => {
            const b = partitionBounds(t, p);
            return html`<label
                >Partition
                <select name="partition" data-role="partition">
                  ${t.partitions.map(
                    (c) =>
                      html`<option value="${c.name}" ${c.name === p.name ? html`selected` : ""}>
                        ${c.displayName}${c.maxGpus > 0 ? ` (up to ${c.maxGpus} GPUs)` : ""}
                      </option>`,
                  )}
                </select></label
              >
              ${numberField("gpus", "GPUs", "GPUs", values.gpus, b.gpus, p.maxGpus === 0)}
              ${numberField("cpus", "CPUs", "CPUs", values.cpus, b.cpus, false)}
              ${numberField("memory", "Memory", "MiB", values.memory, b.memory, false)}
              ${numberField("runtime", "Runtime", "minutes", values.runtime, b.runtime, false)}`;
          })();
  return html`<fieldset
    class="target-fields"
    data-target-fields="${t.name}"
    data-model="${JSON.stringify(clientModel(t))}"
    ${active ? "" : html`hidden disabled`}
  >
    <legend>${t.displayName}</legend>
    ${body}
  </fieldset>`;
}

function offerable(t: TargetDescription): boolean {
  return t.type === "local" || (t.unavailable === null && t.partitions.length > 0);
}

/**
 * The spawn form's fields: the target choice and, per Slurm target, its partition, GPUs, CPUs,
 * memory and runtime. Only the selected target's fieldset is enabled, so only its values are
 * submitted. `query` (the spawn URL's parameters) wins over `last` (the server's last
 * `user_options`); both are used only where the model allows them.
 */
export function spawnFormFields(model: SpawnFormModel, query: Suggestion, last: JsonObject): Html {
  const known = (v: unknown): v is string => typeof v === "string" && model.targets.some((t) => t.name === v);
  // A spawn URL may name only a partition: the cluster that offers it is then the target.
  const byPartition = model.targets.find(
    (t) => t.type === "slurm" && t.partitions.some((p) => p.name === query["partition"]),
  )?.name;
  const candidates = [query["target"], byPartition, last["target"], model.defaultTarget].filter(known);
  const selected =
    candidates.find((name) => model.targets.some((t) => t.name === name && offerable(t))) ?? candidates[0];
  return html`<fieldset>
      <legend>Where to run</legend>
      ${model.targets.map(
        (t) =>
          html`<label class="choice"
            ><input
              type="radio"
              name="target"
              value="${t.name}"
              ${t.name === selected ? html`checked` : ""}
            />
            <strong>${t.displayName}</strong> <span class="muted">${t.description}</span></label
          >`,
      )}
    </fieldset>
    ${model.targets.map((t) => {
      if (t.type !== "slurm") return "";
      const suggestions = [
        ...(t.name === selected ? [query] : []),
        ...(last["target"] === t.name ? [last] : []),
      ];
      return slurmFields(t, slurmFormValues(t, suggestions), t.name === selected);
    })}`;
}
