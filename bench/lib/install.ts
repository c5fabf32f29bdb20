import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { CHP4_BIN, CHP5_BIN, DEPS, JUPYTER, NGINX_BIN, SYSTEM_PYTHON } from "./paths.js";
import { z } from "zod";

/** What this machine can run, after installing what was missing. */
export interface Tools {
  readonly wrk: boolean;
  readonly jupyterhub: boolean;
  readonly jupyterServer: boolean;
  readonly chp5: boolean;
  readonly chp4: boolean;
  readonly nginx: boolean;
  readonly notes: readonly string[];
}

const DEBIAN_PACKAGES = [
  "wrk",
  "jupyterhub",
  "python3-jupyter-server",
  "python3-ipykernel",
  "nginx-light",
] as const;

function installed(pkg: string): boolean {
  const out = spawnSync("dpkg-query", ["-W", "-f=${db:Status-Status}", pkg], { encoding: "utf8" });
  return out.status === 0 && out.stdout.trim() === "installed";
}

function hasCandidate(pkg: string): boolean {
  const out = spawnSync("apt-cache", ["policy", pkg], { encoding: "utf8" });
  const candidate = /Candidate:\s*(\S+)/.exec(out.stdout)?.[1];
  return candidate !== undefined && candidate !== "(none)";
}

function run(command: string, args: readonly string[], log: (m: string) => void): boolean {
  log(`$ ${command} ${args.join(" ")}`);
  const out = spawnSync(command, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return out.status === 0;
}

const packageJson = z.object({ version: z.string() });

export function chp5Version(): string | undefined {
  const file = CHP5_BIN.replace(/bin\/configurable-http-proxy$/, "package.json");
  if (!existsSync(file)) return undefined;
  return packageJson.parse(JSON.parse(readFileSync(file, "utf8"))).version;
}

/**
 * Installs, idempotently: wrk, JupyterHub (with Debian's CHP 4.5.3), jupyter_server,
 * ipykernel and nginx from Debian; configurable-http-proxy 5.x from npm into bench/.deps. Fast when all
 * is there already. What cannot be had is reported, and the figures that need it are skipped.
 */
export function ensureTools(log: (m: string) => void, skipInstall: boolean): Tools {
  const notes: string[] = [];
  if (!skipInstall) {
    const missing = DEBIAN_PACKAGES.filter((p) => !installed(p));
    if (missing.length > 0) {
      if (process.getuid?.() !== 0) {
        notes.push(
          `not root: cannot install ${missing.join(", ")} (apt-get install -y ${missing.join(" ")})`,
        );
      } else {
        if (!missing.every(hasCandidate)) run("apt-get", ["update", "-qq"], log);
        const available = missing.filter(hasCandidate);
        for (const pkg of missing.filter((p) => !available.includes(p))) {
          notes.push(`Debian has no package ${pkg} here; the figures that need it are skipped`);
        }
        if (available.length > 0 && !run("apt-get", ["install", "-y", "-qq", ...available], log)) {
          notes.push(`apt-get install ${available.join(" ")} failed`);
        }
      }
    }
    const version = chp5Version();
    if (version === undefined || !version.startsWith("5.")) {
      const ok = run(
        "npm",
        [
          "install",
          "--prefix",
          DEPS,
          "--no-audit",
          "--no-fund",
          "--ignore-scripts",
          "configurable-http-proxy@5",
        ],
        log,
      );
      if (!ok) notes.push("npm install configurable-http-proxy@5 failed");
    }
  }
  const tools: Tools = {
    wrk: installed("wrk"),
    jupyterhub: installed("jupyterhub") && existsSync("/usr/bin/jupyterhub"),
    jupyterServer: existsSync(JUPYTER) && existsSync(SYSTEM_PYTHON),
    chp5: chp5Version()?.startsWith("5.") === true,
    chp4: existsSync(CHP4_BIN),
    nginx: existsSync(NGINX_BIN),
    notes,
  };
  if (!tools.wrk) notes.push("wrk is missing: the HTTP load figures cannot be measured");
  return tools;
}
