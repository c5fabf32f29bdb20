import { join } from "node:path";
import { loadOrCreateKey } from "../auth/secret-box.js";
import type { Config } from "../config/schema.js";
import { detectJupyterCommand } from "../launchers/detect-jupyter-command.js";
import { LocalLauncher } from "../launchers/local-launcher.js";
import { NodeProcessRunner } from "../launchers/node-process-runner.js";
import type { Launcher } from "../ports/launcher.js";
import type { ProcessRunner } from "../ports/process-runner.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { SpawnOptions, type TargetConfig } from "../services/spawn-options.js";
import type { Assembly } from "./assembly.js";
import type { HubMetrics } from "./hub-metrics.js";
import { hubIdFor } from "./hub-id.js";
import type { Installation } from "./installation.js";
import { prepareSocketDir } from "./socket-dir.js";

type TargetSettings = Config["servers"]["targets"][string];

export interface LauncherParts {
  readonly installation: Installation;
  /** Tests' replacements: the helper's argv (over `servers.helper`), the scheduler commands' runner. */
  readonly options: { readonly helperArgv?: readonly string[]; readonly schedulerRunner?: ProcessRunner };
  /** Readiness checks over the proxy's own channels. */
  readonly probe: TargetProbe;
  /** Batch jobs call back to the hub's public origin, known only once it listens. */
  readonly origin: { readonly value: string };
  readonly metrics: HubMetrics;
}

export interface Launchers {
  /** The launcher of each configured target, by name. */
  readonly launchers: ReadonlyMap<string, Launcher>;
  /** The targets as the spawn form offers them. */
  readonly spawnOptions: SpawnOptions;
}

/** What every target's launcher shares. */
interface Shared {
  readonly runner: ProcessRunner;
  readonly helperArgv: readonly string[];
  readonly command: readonly string[];
  readonly hubId: string;
  readonly socketDir: string;
  readonly callbackKey: Buffer;
}

interface BuiltTarget {
  readonly launcher: Launcher;
  readonly target: TargetConfig;
}

/**
 * A launcher for each target of `servers.targets`, in the configuration's order. Slurm's code is
 * loaded only when a Slurm target is configured, so a hub without one never reads it. Of this
 * process's environment, PATH finds Jupyter and, with LANG, is handed on to the helper.
 */
export async function buildLaunchers(assembly: Assembly, parts: LauncherParts): Promise<Launchers> {
  const { servers } = assembly.config;
  const shared = await sharedByTargets(assembly, parts);
  const launchers = new Map<string, Launcher>();
  const targets: TargetConfig[] = [];
  for (const [name, target] of Object.entries(servers.targets)) {
    const built =
      target.type === "local"
        ? localTarget(name, target, shared, assembly, parts)
        : await slurmTarget(name, target, shared, assembly, parts);
    launchers.set(name, built.launcher);
    targets.push(built.target);
  }
  return { launchers, spawnOptions: new SpawnOptions(targets, servers.defaultTarget) };
}

async function sharedByTargets({ config, dataDir }: Assembly, parts: LauncherParts): Promise<Shared> {
  const { servers } = config;
  const helperArgv =
    parts.options.helperArgv ??
    (servers.helper ? [process.execPath, servers.helper] : parts.installation.helperArgv);
  const command = servers.command ?? detectJupyterCommand(process.env["PATH"]);
  if (!command) {
    throw new Error(
      "No Jupyter found on PATH (looked for jupyter-lab, jupyter-notebook, jupyter-server): install one or set servers.command.",
    );
  }
  const runner = new NodeProcessRunner();
  const hubId = await hubIdFor(dataDir);
  const socketDir = servers.socketDir ?? join(dataDir, "sockets");
  await prepareSocketDir(socketDir, servers.runAs);
  const callbackKey = await loadOrCreateKey(join(dataDir, "callback.key"));
  return { runner, helperArgv, command, hubId, socketDir, callbackKey };
}

function localTarget(
  name: string,
  target: Extract<TargetSettings, { type: "local" }>,
  shared: Shared,
  { config: { servers } }: Assembly,
  { probe }: LauncherParts,
): BuiltTarget {
  const launcher = new LocalLauncher({
    runner: shared.runner,
    helperArgv: [...shared.helperArgv],
    runAs: servers.runAs,
    hubId: shared.hubId,
    command: [...shared.command],
    workDir: servers.workDir,
    socketDir: shared.socketDir,
    probe,
    startTimeoutMs: servers.startTimeout * 1000,
    stopTimeoutMs: servers.stopTimeout * 1000,
  });
  const { displayName, description } = target;
  return { launcher, target: { name, type: "local", displayName, description } };
}

async function slurmTarget(
  name: string,
  target: Extract<TargetSettings, { type: "slurm" }>,
  shared: Shared,
  { config, clock, disposables }: Assembly,
  parts: LauncherParts,
): Promise<BuiltTarget> {
  const { slurmTarget: build } = await import("./slurm-target.js");
  const built = build({
    name,
    target,
    servers: config.servers,
    clock,
    runner: shared.runner,
    schedulerRunner: parts.options.schedulerRunner ?? shared.runner,
    helperArgv: shared.helperArgv,
    env: helperEnvironment(),
    hubId: shared.hubId,
    command: shared.command,
    defaultAgent: parts.installation.jobAgent,
    origin: () => parts.origin.value,
    callbackKey: shared.callbackKey,
    probe: parts.probe,
    metrics: parts.metrics.cluster(target.cluster),
  });
  disposables.add(() => built.close());
  return built;
}

/** The only variables of the hub's environment that the helper gets. */
function helperEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  const { PATH, LANG } = process.env;
  if (PATH !== undefined) env["PATH"] = PATH;
  if (LANG !== undefined) env["LANG"] = LANG;
  return env;
}
