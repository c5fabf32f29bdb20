import type { Tools } from "../lib/install.js";
import type { BenchOptions, GroupName } from "../lib/options.js";
import type { Row } from "../lib/report.js";
import type { Supervisor } from "../lib/supervisor.js";

/** What a scenario gets from the runner. */
export interface BenchContext {
  readonly options: BenchOptions;
  /** Starts and, at the end of the scenario (also on failure), stops every process. */
  readonly supervisor: Supervisor;
  /** A fresh temporary directory for this scenario. */
  readonly tmp: string;
  readonly tools: Tools;
  log(message: string): void;
  addRow(row: Row): void;
  /** A remark that goes into the report (a method, a caveat, an anchor that could not run). */
  note(text: string): void;
}

export interface Scenario {
  readonly group: GroupName;
  readonly title: string;
  run(ctx: BenchContext): Promise<void>;
}
