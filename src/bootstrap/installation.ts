import { join, resolve } from "node:path";

/** Where this installation keeps what the hub serves and runs besides its own code. */
export interface Installation {
  /** The browser app, served at `/hub/static/`. */
  readonly staticDir: string;
  /** The job agent a batch job runs, when a target names none. */
  readonly jobAgent: string;
  /** The argv that runs slipway-helper, when `servers.helper` names none. */
  readonly helperArgv: readonly string[];
}

/**
 * The installation around `entryDir`, the directory of the hub's entry module: `dist/src/` when
 * built (the bundle's chunks all sit there), `src/` when run from source with tsx. Both find
 * `dist/web/static` and `job/`.
 */
export function installationAround(entryDir: string): Installation {
  const built = entryDir.includes(`${"dist"}/src`);
  return built
    ? {
        staticDir: resolve(entryDir, "../web/static"),
        jobAgent: resolve(entryDir, "../../job/slipway-job.py"),
        helperArgv: [process.execPath, join(entryDir, "helper/cli.js")],
      }
    : {
        staticDir: resolve(entryDir, "../dist/web/static"),
        jobAgent: resolve(entryDir, "../job/slipway-job.py"),
        helperArgv: [process.execPath, "--import", "tsx", join(entryDir, "helper/cli.ts")],
      };
}
