import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ConfigInput } from "../../src/config/schema.js";
import { addUsersThroughApi, type Hub } from "./hub.js";
import { waitFor200 } from "./http.js";
import { SLIPWAY_CLI } from "./paths.js";
import type { ManagedProcess, Supervisor } from "./supervisor.js";

/** Runs a `slipway` CLI command (from dist) on `dataDir` and returns what it printed. */
export async function slipwayCli(
  supervisor: Supervisor,
  dataDir: string,
  args: readonly string[],
): Promise<string> {
  return supervisor.run(
    "slipway-cli",
    process.execPath,
    [SLIPWAY_CLI, ...args, "--data-dir", dataDir],
    60_000,
  );
}

/** Creates the admin `name` in `dataDir` with the CLI and returns an API token for it. */
export async function createSlipwayAdmin(
  supervisor: Supervisor,
  dataDir: string,
  name: string,
): Promise<string> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await slipwayCli(supervisor, dataDir, ["user", "add", name, "--admin"]);
  const token = (await slipwayCli(supervisor, dataDir, ["token", "create", name, "--note", "bench"])).trim();
  if (!/^\S{20,}$/.test(token)) throw new Error(`unexpected token output: ${token.slice(0, 80)}`);
  return token;
}

export interface SlipwayStart {
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  readonly token: string;
  readonly config?: ConfigInput;
  readonly readyTimeoutMs?: number;
}

export class SlipwayHub implements Hub {
  readonly kind = "slipway";

  constructor(
    readonly process: ManagedProcess,
    readonly url: string,
    readonly token: string,
    readonly dataDir: string,
    /** performance.now() when `/hub/health` first answered 200. */
    readonly readyAt: number,
    readonly startedAt: number,
  ) {}

  hubPids(): { hub: number; proxy: number | undefined } {
    return { hub: this.process.pid, proxy: undefined };
  }

  addUsers(names: readonly string[]): Promise<void> {
    return addUsersThroughApi(this, names, 1000);
  }
}

/** Starts `slipway serve` from dist and waits until `/hub/health` answers 200 (polled every 5 ms). */
export async function startSlipway(supervisor: Supervisor, options: SlipwayStart): Promise<SlipwayHub> {
  const configFile = join(options.dataDir, "bench-config.yaml");
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const config: ConfigInput = { ...options.config, hub: { host: "127.0.0.1", port: options.port } };
  writeFileSync(configFile, stringify(config));
  const startedAt = performance.now();
  const proc = supervisor.start(
    options.name,
    process.execPath,
    [
      SLIPWAY_CLI,
      "serve",
      "--config",
      configFile,
      "--data-dir",
      options.dataDir,
      "--port",
      String(options.port),
    ],
    { capture: true },
  );
  const url = `http://127.0.0.1:${options.port}`;
  const readyAt = await Promise.race([
    waitFor200(`${url}/hub/health`, { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 5 }),
    proc.exited.then((exit) => {
      throw new Error(
        `the hub exited (${exit.code ?? exit.signal}) before it was ready; see ${proc.logFile}`,
      );
    }),
  ]);
  return new SlipwayHub(proc, url, options.token, options.dataDir, readyAt, startedAt);
}
