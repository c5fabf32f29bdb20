import type { MachineInfo } from "./machine.js";
import type { BenchOptions } from "./options.js";
import {
  detailTable,
  markdownTable,
  tableCells,
  targetsTable,
  type Row,
  type TargetCheck,
} from "./report.js";

export interface BenchResult {
  readonly startedAt: string;
  readonly seconds: number;
  readonly options: BenchOptions;
  readonly machine: MachineInfo & { readonly loadAverageAtEnd: string };
  readonly versions: Record<string, string>;
  readonly rows: readonly Row[];
  readonly targets: readonly TargetCheck[];
  readonly notes: readonly string[];
  readonly failures: readonly { group: string; error: string }[];
}

export function markdownReport(r: BenchResult): string {
  const o = r.options;
  const lines = [
    `# Slipway benchmark, ${r.startedAt}${o.quick ? " (quick)" : ""}`,
    "",
    `Machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, ` +
      `Debian ${r.machine.debian}; load average (1, 5, 15 min) ${r.machine.loadAverage.split(" ").slice(0, 3).join(" ")} ` +
      `at the start, ${r.machine.loadAverageAtEnd.split(" ").slice(0, 3).join(" ")} at the end.`,
    "",
    `Settings: ${o.runs} measured run(s) per figure, ${o.durationSeconds} s per load run, ${o.warmupSeconds} s ` +
      `warm-up; ${o.concurrentSpawns} spawns at once; groups ${o.only.join(", ")}; ${r.seconds} s in all. ` +
      "Load generators, hubs, proxies and servers share the machine's cores: compare ratios within this run.",
    "",
    "Versions:",
    "",
    ...Object.entries(r.versions).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "## Targets",
    "",
    targetsTable(r.targets),
    "",
    "## Results (medians; ratios are Slipway's median over the anchor's, same run)",
    "",
    markdownTable(
      ["group", "test", "subject", "figure", "median", "min–max", "p50 ms", "p99 ms", "CPU", "ratios"],
      tableCells(r.rows),
    ),
    "",
    "## Every figure (min / median / max)",
    "",
    detailTable(r.rows),
    "",
  ];
  const rowNotes = r.rows.filter((row) => row.note !== undefined);
  if (r.notes.length > 0 || rowNotes.length > 0) {
    lines.push("## Notes", "");
    for (const n of r.notes) lines.push(`- ${n}`);
    for (const row of rowNotes)
      lines.push(`- ${row.group} / ${row.test} / ${row.subject}: ${row.note ?? ""}`);
    lines.push("");
  }
  if (r.failures.length > 0) {
    lines.push("## Failures", "");
    for (const f of r.failures) lines.push(`### ${f.group}`, "", "```", f.error, "```", "");
  }
  return lines.join("\n");
}
