import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SlurmTargetDescription, SpawnFormModel } from "../../services/spawn-options.js";
import { slurmFormValues, spawnFormFields } from "./spawn-form.js";

const partition = (name: string, maxGpus: number) => ({
  name,
  displayName: name,
  maxGpus,
  maxCpus: 4,
  maxMemoryMb: 4096,
  maxRuntimeMinutes: 120,
  defaultRuntimeMinutes: 60,
  queueLimit: 600,
});

const lab: SlurmTargetDescription = {
  name: "lab",
  type: "slurm",
  displayName: "Lab <cluster>",
  description: "",
  partitions: [partition("debug", 0), partition("gpu", 2)],
  defaults: { cpus: 1, memoryMb: 512, gpus: 0, runtimeMinutes: 90 },
  localFallback: "local",
  unavailable: null,
};

const model: SpawnFormModel = {
  targets: [{ name: "local", type: "local", displayName: "This machine", description: "" }, lab],
  defaultTarget: "local",
};

describe("the spawn form", () => {
  it("takes a partition and numbers from the spawn URL when the partition allows them", () => {
    const values = slurmFormValues(lab, [{ partition: "gpu", gpus: "1", runtime: "100" }]);
    assert.deepEqual(values, { partition: "gpu", gpus: 1, cpus: 1, memory: 512, runtime: 100 });
  });

  it("ignores a partition the user may not use and numbers beyond the partition's bounds", () => {
    const values = slurmFormValues(lab, [
      { partition: "secret", gpus: "1", cpus: "99", memory: "1\n#SBATCH" },
    ]);
    assert.deepEqual(values, { partition: "debug", gpus: 0, cpus: 1, memory: 512, runtime: 60 });
  });

  it("prefers the URL's values to the server's last options, and falls back to the last ones", () => {
    const values = slurmFormValues(lab, [
      { cpus: "3" },
      { target: "lab", partition: "gpu", gpus: 2, cpus: 2, memory: 1024 },
    ]);
    assert.deepEqual(values, { partition: "gpu", gpus: 2, cpus: 3, memory: 1024, runtime: 60 });
  });

  it("selects the Slurm target from the URL, hides GPUs where the partition has none, and escapes the model", () => {
    const out = spawnFormFields(model, { target: "lab" }, {}).value;
    assert.match(out, /value="lab"\s+checked/);
    assert.match(out, /data-field="gpus" hidden/);
    assert.match(out, /data-model="\{&quot;partitions&quot;:\[/);
    assert.ok(!out.includes("<cluster>"));
  });

  it("selects the cluster that offers a partition the spawn URL names, even without a target", () => {
    const out = spawnFormFields(model, { partition: "gpu", gpus: "2" }, {}).value;
    assert.match(out, /value="lab"\s+checked/);
    assert.match(out, /<option value="gpu"\s+selected/);
    assert.match(out, /name="gpus"[^>]*value="2"/);
  });

  it("ignores a target, partition and numbers the user may not have, and keeps the defaults", () => {
    const out = spawnFormFields(model, { target: "elsewhere", partition: "secret", cpus: "-1" }, {}).value;
    assert.match(out, /value="local"\s+checked/);
    assert.match(out, /data-target-fields="lab"[^>]*hidden disabled/);
    assert.ok(!out.includes("secret") && !out.includes("elsewhere"));
  });

  it("keeps the plain local form when the local target is chosen: the Slurm fields are disabled", () => {
    const out = spawnFormFields(model, {}, {}).value;
    assert.match(out, /value="local"\s+checked/);
    assert.match(out, /data-target-fields="lab"[^>]*hidden disabled/);
  });
});
