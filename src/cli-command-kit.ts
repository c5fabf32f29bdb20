import type { Command } from "commander";
import type { AdminServices } from "./bootstrap/admin-services.js";
import type { Config } from "./config/schema.js";

/** The options every administrative command takes. */
export interface CommonOptions {
  config?: string;
  dataDir: string;
}

/** What an administrative command works with: the store and services, and the configuration. */
export type AdminDeps = AdminServices & { config: Config; dataDir: string };

/** What `src/cli.ts` lends the modules that define commands of their own. */
export interface CommandKit {
  /** Adds `--config` and `--data-dir` to a command. */
  common(cmd: Command): Command;
  /** Opens the store and services for the length of `fn`, and closes them after. */
  withStore<T>(options: CommonOptions, fn: (deps: AdminDeps) => Promise<T>): Promise<T>;
}

/** A repeatable option's values, in order: `--group a --group b`. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
