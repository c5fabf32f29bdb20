import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cpus, totalmem, release } from "node:os";
import { z } from "zod";
import { chp5Version } from "./install.js";
import { CHP4_BIN, DEBIAN_NODE_PATH, NGINX_BIN, REPO, SYSTEM_PYTHON } from "./paths.js";

function out(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  // Some tools (wrk) print their version and exit non-zero: take the first line printed either way.
  const r = spawnSync(command, args, { encoding: "utf8", env: env ?? process.env });
  const text = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly debian: string;
  readonly loadAverage: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    debian: readText("/etc/debian_version"),
    loadAverage: readText("/proc/loadavg"),
  };
}

const pkg = z.object({ version: z.string() });

export function versions(): Record<string, string> {
  const slipway = pkg.parse(JSON.parse(readFileSync(`${REPO}/package.json`, "utf8"))).version;
  const commit = out("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]);
  const dirty =
    out("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"]) !== "" ? "+changes" : "";
  return {
    slipway: `${slipway} (${commit}${dirty})`,
    node: process.version,
    "configurable-http-proxy (npm)": chp5Version() ?? "not installed",
    "configurable-http-proxy (Debian)": out(process.execPath, [CHP4_BIN, "--version"], {
      ...process.env,
      NODE_PATH: DEBIAN_NODE_PATH,
    }),
    jupyterhub: out("/usr/bin/jupyterhub", ["--version"]),
    jupyter_server: out(SYSTEM_PYTHON, ["-c", "import jupyter_server; print(jupyter_server.__version__)"]),
    ipykernel: out(SYSTEM_PYTHON, ["-c", "import ipykernel; print(ipykernel.__version__)"]),
    python: out(SYSTEM_PYTHON, ["--version"]),
    wrk: out("wrk", ["--version"]),
    nginx: out(NGINX_BIN, ["-v"]),
  };
}

/** When dist/ was last built (the newest file under dist/src): the code a run measured. */
export function distBuiltAt(): string {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  try {
    walk(join(REPO, "dist/src"));
  } catch {
    return "missing";
  }
  return new Date(newest).toISOString();
}
