import { ratio, summarize, type Summary } from "./stats.js";

export interface Figure {
  readonly unit: string;
  readonly summary: Summary;
}

/** One subject (Slipway, an anchor, the bare server) in one test of one group. */
export interface Row {
  readonly group: string;
  readonly test: string;
  readonly subject: string;
  /** The figure that ratios are taken on. */
  readonly primary: { readonly name: string; readonly higherIsBetter: boolean } & Figure;
  /** Everything else measured, by name: "p50", "p99", "CPU proxy", ... */
  readonly figures: Readonly<Record<string, Figure>>;
  readonly note?: string;
}

export function figureOf(values: readonly number[], unit: string): Figure {
  return { unit, summary: summarize(values) };
}

export interface TargetCheck {
  readonly id: string;
  /** The target as the issue words it. */
  readonly target: string;
  /** What was measured, in words and figures. */
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}

export const SLIPWAY = "slipway";

export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : abs >= 1 ? 2 : 3);
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

function range(s: Summary): string {
  return s.n > 1 ? `${fmt(s.min)}–${fmt(s.max)}` : "";
}

/** "vs chp5 6.1× req/s, 0.21× p99" for Slipway's rows; empty for the anchors'. */
export function ratioText(row: Row, rows: readonly Row[]): string {
  if (row.subject !== SLIPWAY) return "";
  const parts: string[] = [];
  for (const other of rows) {
    if (other.group !== row.group || other.test !== row.test || other.subject === row.subject) continue;
    const bits = [
      `${fmt(ratio(row.primary.summary.median, other.primary.summary.median), 2)}× ${row.primary.name}`,
    ];
    const p99 = row.figures["p99"]?.summary.median;
    const otherP99 = other.figures["p99"]?.summary.median;
    if (p99 !== undefined && otherP99 !== undefined) bits.push(`${fmt(ratio(p99, otherP99), 2)}× p99`);
    parts.push(`vs ${other.subject} ${bits.join(", ")}`);
  }
  return parts.join("; ");
}

const COLUMNS = [
  "group",
  "test",
  "subject",
  "figure",
  "median",
  "min–max",
  "p50 ms",
  "p99 ms",
  "CPU",
  "ratios",
];

function cpuText(row: Row): string {
  const parts: string[] = [];
  for (const [name, figure] of Object.entries(row.figures)) {
    if (name.startsWith("CPU ")) {
      const m = figure.summary.median;
      parts.push(`${name.slice(4)} ${fmt(m, Math.abs(m) >= 100 ? 0 : undefined)}`);
    }
  }
  const unit = Object.entries(row.figures).find(([name]) => name.startsWith("CPU "))?.[1].unit;
  return parts.length > 0 ? `${parts.join(", ")} ${unit ?? ""}`.trim() : "";
}

export function tableCells(rows: readonly Row[]): string[][] {
  return rows.map((row) => [
    row.group,
    row.test,
    row.subject,
    `${row.primary.name} (${row.primary.unit})`,
    fmt(row.primary.summary.median),
    range(row.primary.summary),
    row.figures["p50"] ? fmt(row.figures["p50"].summary.median) : "",
    row.figures["p99"] ? fmt(row.figures["p99"].summary.median) : "",
    cpuText(row),
    ratioText(row, rows),
  ]);
}

/** The one table, for a terminal. */
export function textTable(rows: readonly Row[]): string {
  const cells = [COLUMNS, ...tableCells(rows)];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(cells[0] ?? []),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** Every figure of every row, for the Markdown report: min / **median** / max. */
export function detailTable(rows: readonly Row[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    const all: [string, Figure][] = [[row.primary.name, row.primary], ...Object.entries(row.figures)];
    for (const [name, figure] of all) {
      const s = figure.summary;
      body.push([
        row.group,
        row.test,
        row.subject,
        `${name} (${figure.unit})`,
        `${fmt(s.min)} / **${fmt(s.median)}** / ${fmt(s.max)}`,
        String(s.n),
      ]);
    }
  }
  return markdownTable(["group", "test", "subject", "figure", "min / median / max", "n"], body);
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return markdownTable(
    ["target", "measured", "met"],
    checks.map((c) => [
      c.target,
      c.measured,
      c.met === undefined ? "not measured" : c.met ? "yes" : "**no**",
    ]),
  );
}

export function targetsText(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => `${c.met === undefined ? "  ?  " : c.met ? " met " : "MISS "} ${c.target}: ${c.measured}`)
    .join("\n");
}
