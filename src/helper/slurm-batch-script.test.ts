import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeLaunchCertificate } from "../launchers/launch-certificate.js";
import { slurmJobSchema, slurmSubmitRequestSchema } from "./protocol.js";
import { BATCH_SCRIPT_TEMPLATE, renderBatchScript, type BatchScriptValues } from "./slurm-batch-script.js";

const golden = (name: string) => readFileSync(join(import.meta.dirname, "golden", name), "utf8");

const values: BatchScriptValues = {
  job: { partition: "gpu", cpus: 2, memoryMb: 4096, gpus: 1, minutes: 90 },
  jobName: "slipway-abcd1234-7",
  attemptId: "11111111-2222-4333-8444-555555555555",
  logPath: "/home/alice/.slipway/jobs/abcd1234-7/job.log",
  workDir: "/home/alice",
  python: "/usr/bin/python3",
  agent: "/opt/slipway/job/slipway-job.py",
  jobDir: "/home/alice/.slipway/jobs/abcd1234-7",
};

const tls = await makeLaunchCertificate({ now: new Date(), seconds: 3600 });
const otherTls = await makeLaunchCertificate({ now: new Date(), seconds: 3600 });

const request = {
  hub: "abcd1234",
  serverId: 7,
  attemptId: values.attemptId,
  baseUrl: "/user/alice/",
  token: "t".repeat(43),
  credential: "c".repeat(43),
  tls,
  callbackUrl: "http://127.0.0.1:8000",
  command: ["/usr/bin/jupyter", "lab"],
  workDir: "~",
  job: values.job,
  python: values.python,
  agent: values.agent,
  sbatch: "/usr/bin/sbatch",
};

describe("the batch-script template", () => {
  it("renders the GPU job byte for byte as the golden file", () => {
    assert.equal(renderBatchScript(values), golden("slurm-job-gpu.sh"));
  });

  it("renders a job without GPUs without a --gres line", () => {
    const script = renderBatchScript({ ...values, job: { ...values.job, partition: "debug", gpus: 0 } });
    assert.equal(script, golden("slurm-job-cpu.sh"));
    assert.doesNotMatch(script, /--gres/);
  });

  it("differs from the template only where a validated value was filled in", () => {
    const script = renderBatchScript(values);
    // Put each value back as its placeholder: what remains must be the template itself.
    let back = script
      .replace("#SBATCH --gres=gpu:1\n", "{{gpuLine}}")
      .replace(
        `exec ${values.python} ${values.agent} ${values.jobDir}`,
        "exec {{python}} {{agent}} {{jobDir}}",
      );
    const swaps: [string, string][] = [
      [`=${values.jobName}\n`, "={{jobName}}\n"],
      [`:${values.attemptId}\n`, ":{{attemptId}}\n"],
      [`=${values.job.partition}\n`, "={{partition}}\n"],
      [`--time=${values.job.minutes}\n`, "--time={{minutes}}\n"],
      [`--cpus-per-task=${values.job.cpus}\n`, "--cpus-per-task={{cpus}}\n"],
      [`--mem=${values.job.memoryMb}M\n`, "--mem={{memoryMb}}M\n"],
      [`--output=${values.logPath}\n`, "--output={{logPath}}\n"],
      [`--chdir=${values.workDir}\n`, "--chdir={{workDir}}\n"],
    ];
    for (const [from, to] of swaps) back = back.replace(from, to);
    assert.equal(back, BATCH_SCRIPT_TEMPLATE);
  });

  const hostile = [
    "1\n#SBATCH --uid=0",
    "$(id)",
    "`id`",
    ";id",
    "gpu' --uid=0 '",
    'gpu" --uid=0 "',
    "gpu\u2028#SBATCH --uid=0",
    "gpu\0",
    "gpu --uid=0",
    "../../etc",
  ];

  it("refuses hostile values at the protocol and again at rendering", () => {
    for (const bad of hostile) {
      assert.ok(!slurmJobSchema.safeParse({ ...values.job, partition: bad }).success, JSON.stringify(bad));
      assert.throws(
        () => renderBatchScript({ ...values, job: { ...values.job, partition: bad } }),
        JSON.stringify(bad),
      );
      assert.throws(() => renderBatchScript({ ...values, workDir: `/home/${bad}` }), JSON.stringify(bad));
      assert.throws(() => renderBatchScript({ ...values, jobName: bad }), JSON.stringify(bad));
    }
    for (const n of [1.5, -1, Number.NaN, 1e20]) {
      assert.throws(() => renderBatchScript({ ...values, job: { ...values.job, cpus: n } }), String(n));
    }
  });

  it("refuses a submit request with unknown keys or a hostile path", () => {
    assert.ok(slurmSubmitRequestSchema.safeParse(request).success);
    for (const key of ["cmd", "prologue", "keepvars", "exec_prefix"]) {
      assert.ok(!slurmSubmitRequestSchema.safeParse({ ...request, [key]: "id" }).success, key);
      assert.ok(
        !slurmSubmitRequestSchema.safeParse({ ...request, job: { ...request.job, [key]: "id" } }).success,
        key,
      );
    }
    for (const bad of hostile) {
      assert.ok(!slurmSubmitRequestSchema.safeParse({ ...request, python: `/usr/bin/${bad}` }).success, bad);
    }
  });

  it("refuses TLS material other than one PEM key and its own certificate, and never repeats the key", () => {
    const body = (pem: string) => pem.split("\n")[1] ?? "";
    const cases: Record<string, unknown> = {
      "another launch's key": { ...tls, key: otherTls.key },
      "another launch's certificate": { ...tls, certificate: otherTls.certificate },
      "text before the key": { ...tls, key: `junk\n${tls.key}` },
      "a second certificate after the first": { ...tls, certificate: tls.certificate + otherTls.certificate },
      "a key in another armour": { ...tls, key: tls.key.replaceAll("PRIVATE KEY", "EC PRIVATE KEY") },
      "armour around no certificate": {
        ...tls,
        certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      },
      "an extra key": { ...tls, ca: tls.certificate },
      "no certificate": { key: tls.key },
      "no key": { certificate: tls.certificate },
    };
    for (const [what, bad] of Object.entries(cases)) {
      const parsed = slurmSubmitRequestSchema.safeParse({ ...request, tls: bad });
      assert.ok(!parsed.success, what);
      assert.ok(!parsed.error.message.includes(body(tls.key)), `the refusal of ${what} shows the key`);
    }
    assert.ok(!slurmSubmitRequestSchema.safeParse({ ...request, tls: undefined }).success, "no tls at all");
  });
});
