/**
 * Slipway's benchmark suite: `make bench` (or `node --import tsx bench/run.ts [--quick]
 * [--only <groups>]`). Installs what it needs, measures Slipway and the anchors in one run on
 * this machine, prints one table and writes bench/results/<timestamp>.{json,md}.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTools } from "./lib/install.js";
import { distBuiltAt, machineInfo, versions } from "./lib/machine.js";
import { parseOptions, USAGE, type BenchOptions } from "./lib/options.js";
import { REPO, RESULTS, SLIPWAY_CLI } from "./lib/paths.js";
import { markdownReport } from "./lib/markdown-report.js";
import { textTable, targetsText, type Row } from "./lib/report.js";
import { Supervisor } from "./lib/supervisor.js";
import { evaluateTargets } from "./lib/targets.js";
import { audit } from "./scenarios/audit.js";
import type { BenchContext, Scenario } from "./scenarios/context.js";
import { coldStart } from "./scenarios/cold-start.js";
import { hubApi } from "./scenarios/hub-api.js";
import { memory } from "./scenarios/memory.js";
import { proxyJupyter } from "./scenarios/proxy-jupyter.js";
import { proxyTrivial } from "./scenarios/proxy-trivial.js";
import { spawnLatency } from "./scenarios/spawn.js";

const SCENARIOS: readonly Scenario[] = [
  proxyTrivial,
  proxyJupyter,
  spawnLatency,
  hubApi,
  coldStart,
  memory,
  audit,
];

const t0 = performance.now();
function log(message: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${s}s] ${message}\n`);
}

function ensureBuilt(): void {
  if (existsSync(SLIPWAY_CLI)) return;
  log("dist/ is missing: building Slipway (npm run build)");
  const out = spawnSync("npm", ["run", "--silent", "build"], { cwd: REPO, stdio: "inherit" });
  if (out.status !== 0) throw new Error("npm run build failed");
}

async function main(options: BenchOptions): Promise<number> {
  const startedAt = new Date();
  const machineAtStart = machineInfo();
  ensureBuilt();
  const builtAt = distBuiltAt();
  const tools = ensureTools(log, options.skipInstall);
  for (const note of tools.notes) log(`note: ${note}`);
  const runDir = mkdtempSync(join(tmpdir(), "slipway-bench-"));
  const rows: Row[] = [];
  const notes: string[] = [...tools.notes];
  const failures: { group: string; error: string }[] = [];
  let current: Supervisor | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything this run started`);
    current?.killAllNow();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", () => current?.killAllNow());

  for (const scenario of SCENARIOS.filter((s) => options.only.includes(s.group))) {
    const tmp = join(runDir, scenario.group);
    mkdirSync(tmp, { recursive: true });
    const supervisor = new Supervisor(join(tmp, "logs"));
    current = supervisor;
    const ctx: BenchContext = {
      options,
      supervisor,
      tmp,
      tools,
      log: (m) => log(`[${scenario.group}] ${m}`),
      addRow: (row) => rows.push(row),
      note: (text) => notes.push(`${scenario.group}: ${text}`),
    };
    const began = performance.now();
    log(`== ${scenario.group}: ${scenario.title}`);
    try {
      await scenario.run(ctx);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ group: scenario.group, error });
      log(`!! ${scenario.group} failed: ${error}`);
    } finally {
      await supervisor.stopAll();
      current = undefined;
    }
    log(`== ${scenario.group} took ${((performance.now() - began) / 1000).toFixed(0)} s`);
  }

  const builtAtEnd = distBuiltAt();
  if (builtAtEnd !== builtAt) {
    notes.push(
      `dist/ was rebuilt during the run (${builtAt}, then ${builtAtEnd}): later groups ran the newer build`,
    );
  }
  const targets = evaluateTargets(rows);
  const finishedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/[:]/g, "-")
    .replace(/\.\d+Z$/, "Z");
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    options,
    machine: { ...machineAtStart, loadAverageAtEnd: machineInfo().loadAverage },
    versions: { ...versions(), "dist built": builtAt },
    rows,
    targets,
    notes,
    failures,
  };
  mkdirSync(RESULTS, { recursive: true });
  const base = join(RESULTS, `${stamp}${options.quick ? "-quick" : ""}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownReport(result));

  process.stdout.write(`\n${textTable(rows)}\n\nTargets (ratios from this run):\n${targetsText(targets)}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nFailed groups: ${failures.map((f) => f.group).join(", ")} (logs in ${runDir})\n`);
  }
  process.stdout.write(`\nResults: ${base}.json and .md (${result.seconds} s)\n`);
  if (!options.keepTemp && failures.length === 0) rmSync(runDir, { recursive: true, force: true });
  else log(`temporary files and logs kept in ${runDir}`);
  return failures.length > 0 ? 1 : 0;
}

let parsed: BenchOptions | "help";
try {
  parsed = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
if (parsed === "help") {
  process.stdout.write(`${USAGE}\n`);
} else {
  process.exitCode = await main(parsed);
}
