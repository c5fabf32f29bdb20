import { isRecord } from "./is-record.js";
import { parseJson } from "./parse-json.js";

export interface FieldBound {
  readonly min: number;
  readonly max: number;
  readonly def: number;
}

/** One Slurm partition's limits (`clientModel` in src/http/pages/spawn-form.ts). */
export interface PartitionModel {
  readonly name: string;
  readonly gpus: FieldBound;
  readonly cpus: FieldBound;
  readonly memory: FieldBound;
  readonly runtime: FieldBound;
}

/** The spawn form's number fields, each bounded by the chosen partition. */
export const NUMBER_FIELDS = ["gpus", "cpus", "memory", "runtime"] as const;
export type NumberField = (typeof NUMBER_FIELDS)[number];

export function isNumberField(name: string): name is NumberField {
  return NUMBER_FIELDS.some((field) => field === name);
}

function boundOf(value: unknown): FieldBound | null {
  if (!isRecord(value)) return null;
  const { min, max, def } = value;
  return typeof min === "number" && typeof max === "number" && typeof def === "number"
    ? { min, max, def }
    : null;
}

/** The partition limits the page rendered into `data-model`; anything malformed is dropped. */
export function partitionModels(raw: string | undefined): PartitionModel[] {
  const data = parseJson(raw);
  if (!isRecord(data) || !Array.isArray(data["partitions"])) return [];
  const out: PartitionModel[] = [];
  for (const p of data["partitions"]) {
    if (!isRecord(p) || typeof p["name"] !== "string") continue;
    const gpus = boundOf(p["gpus"]);
    const cpus = boundOf(p["cpus"]);
    const memory = boundOf(p["memory"]);
    const runtime = boundOf(p["runtime"]);
    if (gpus && cpus && memory && runtime) out.push({ name: p["name"], gpus, cpus, memory, runtime });
  }
  return out;
}
