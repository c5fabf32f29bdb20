import { errorText } from "../api/hub-api.js";
import { pendingPage, serverApiPath } from "../api/hub-paths.js";
import {
  isNumberField,
  NUMBER_FIELDS,
  partitionModels,
  type PartitionModel,
} from "../models/partition-model.js";
import type { PageContext } from "./page-context.js";

/** Shows the GPU field only where the partition has GPUs, and bounds every number by it. */
function applyPartition(fields: HTMLFieldSetElement, partitions: readonly PartitionModel[]): void {
  const select = fields.querySelector<HTMLSelectElement>('select[name="partition"]');
  const p = partitions.find((c) => c.name === select?.value);
  if (!p) return;
  for (const name of NUMBER_FIELDS) {
    const bound = p[name];
    const label = fields.querySelector<HTMLElement>(`[data-field="${name}"]`);
    const input = label?.querySelector<HTMLInputElement>("input");
    if (!label || !input) continue;
    const absent = bound.max < bound.min || (name === "gpus" && bound.max === 0);
    label.hidden = absent;
    input.disabled = absent;
    input.min = String(bound.min);
    input.max = String(bound.max);
    const current = /^\d+$/.test(input.value) ? Number(input.value) : bound.def;
    input.value = String(Math.min(Math.max(current, bound.min), bound.max));
    const limit = label.querySelector<HTMLElement>('[data-role="limit"]');
    if (limit) limit.textContent = limit.textContent.replace(/\d+$/, String(bound.max));
  }
}

/** Shows only the chosen target's fields, and each Slurm partition's limits as it is chosen. */
function followChoices(form: HTMLFormElement): void {
  const targetFields = [...form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-target-fields]")];
  // Only the chosen target's fieldset is enabled, so only its values are submitted.
  const showTarget = () => {
    const chosen = form.querySelector<HTMLInputElement>('input[name="target"]:checked')?.value;
    for (const fields of targetFields) {
      const active = fields.dataset["targetFields"] === chosen;
      fields.hidden = !active;
      fields.disabled = !active;
    }
  };
  for (const fields of targetFields) {
    const partitions = partitionModels(fields.dataset["model"]);
    fields
      .querySelector('select[name="partition"]')
      ?.addEventListener("change", () => applyPartition(fields, partitions));
  }
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "target") showTarget();
  });
  showTarget();
}

/** The form's values as the API takes them: numbers as JSON numbers; anything else as typed, to be refused there. */
function spawnOptions(form: HTMLFormElement): Record<string, string | number> {
  const options: Record<string, string | number> = {};
  for (const [key, value] of new FormData(form)) {
    const text = String(value);
    options[key] = isNumberField(key) && /^\d{1,9}$/.test(text) ? Number(text) : text;
  }
  return options;
}

/** The spawn form: starts the server with the chosen options, then follows its progress. */
export function initSpawn(ctx: PageContext): void {
  const form = document.getElementById("spawn-form");
  if (!(form instanceof HTMLFormElement)) return;
  followChoices(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const user = form.dataset["user"] ?? ctx.user;
    const server = form.dataset["server"] ?? "";
    const options = spawnOptions(form);
    const error = document.getElementById("spawn-error");
    void (async () => {
      if (error) error.textContent = "";
      const res = await ctx.api.call("POST", serverApiPath(user, server), options);
      if (res.status === 201 || res.status === 202) {
        window.location.assign(pendingPage(user, server));
      } else if (error) {
        error.textContent = await errorText(res);
      }
    })();
  });
}
