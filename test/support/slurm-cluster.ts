import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { slurmTargetSchema, type ConfigInput } from "../../src/config/schema.js";
import { HelperClient } from "../../src/launchers/helper-client.js";
import type { Clock } from "../../src/ports/clock.js";
import type { ProcessRunner, RunResult } from "../../src/ports/process-runner.js";
import { SlurmClient, type SlurmCommands } from "../../src/schedulers/slurm/slurm-client.js";
import { SlurmScheduler } from "../../src/schedulers/slurm/slurm-scheduler.js";
import { REPO, userSocketDir } from "./test-hub.js";

export const STAGE = process.env["SLIPWAY_TEST_STAGE_DIR"] ?? "";
const enabled = process.env["SLIPWAY_TEST_SLURM"] === "1" && STAGE !== "";

/**
 * Why a suite on the real Slurm cluster is skipped, or undefined when it runs. Under CI a missing
 * cluster is a failure, not a skip: the suite registers a failing test instead.
 */
export function slurmSkipReason(suite: string): string | undefined {
  if (enabled) return undefined;
  const reason =
    "Skipped: needs the Slurm test cluster (SLIPWAY_TEST_SLURM=1 and SLIPWAY_TEST_STAGE_DIR, as `make test` sets).";
  if (process.env["CI"]) {
    describe(suite, () => {
      it("has its prerequisites", () => assert.fail(reason));
    });
  }
  return reason;
}

/** A hub configuration for the test cluster: a `lab` Slurm target and a `local` pool. */
export function slurmHubConfig(
  lab: Record<string, unknown> = {},
  servers: Record<string, unknown> = {},
): ConfigInput {
  return {
    servers: {
      runAs: "user",
      helper: join(STAGE, "dist/src/helper/cli.js"),
      socketDir: userSocketDir(),
      startTimeout: 120,
      pollInterval: 2,
      ...servers,
      targets: {
        local: { type: "local" },
        lab: {
          type: "slurm",
          cluster: "lab",
          pollInterval: 2,
          partitions: { debug: { queueLimit: 600 }, gpu: { queueLimit: 600 } },
          defaults: { memoryMb: 512 },
          agent: join(STAGE, "job/slipway-job.py"),
          localFallback: "local",
          ...lab,
        },
      },
    },
  };
}

/** The id a hub keeps in its data directory; its jobs are named `slipway-<hub id>-<server id>`. */
export function hubIdOf(dataDir: string): string {
  return readFileSync(join(dataDir, "hub-id"), "utf8").trim();
}

export interface SlurmJobRow {
  readonly jobId: string;
  readonly name: string;
  readonly state: string;
  readonly comment: string;
  readonly user: string;
}

/** Every job Slurm still lists (finished ones too, for MinJobAge), read as root outside the hub. */
export function allJobs(): SlurmJobRow[] {
  const out = execFileSync("squeue", ["-h", "-t", "all", "-o", "%A|%j|%T|%k|%u"], {
    encoding: "utf8",
  });
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const [jobId = "", name = "", state = "", comment = "", user = ""] = line.split("|");
      return { jobId, name, state, comment, user };
    });
}

/** The jobs of one hub (by the job name it gives them). */
export function hubJobs(dataDir: string): SlurmJobRow[] {
  const prefix = `slipway-${hubIdOf(dataDir)}-`;
  return allJobs().filter((j) => j.name.startsWith(prefix));
}

const LIVE = new Set(["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"]);

export function isLive(job: SlurmJobRow): boolean {
  return LIVE.has(job.state);
}

/** Cancels, as root, whatever a hub left in the queue (teardown only). */
export function cancelHubJobs(dataDir: string): void {
  let ids: string[];
  try {
    ids = hubJobs(dataDir)
      .filter(isLive)
      .map((j) => j.jobId);
  } catch {
    return;
  }
  if (ids.length > 0) execFileSync("scancel", ids);
}

/** Fills the `debug` partition (all 16 CPUs of cpu1) with a job of bob's; returns its id once it runs. */
export async function fillDebugAsBob(): Promise<string> {
  const out = execFileSync(
    "sudo",
    [
      "-n",
      "-u",
      "bob",
      "sbatch",
      "--parsable",
      "-p",
      "debug",
      "-c",
      "16",
      "-J",
      "slipway-test-filler",
      "-o",
      "/dev/null",
      "--wrap",
      "sleep 600",
    ],
    { encoding: "utf8", cwd: "/tmp" },
  );
  const jobId = out.trim().split(";")[0] ?? "";
  assert.match(jobId, /^\d+$/);
  await until(() => allJobs().find((j) => j.jobId === jobId)?.state === "RUNNING", 60_000, "bob's job runs");
  return jobId;
}

export function cancelJob(jobId: string | undefined): void {
  if (jobId !== undefined) execFileSync("scancel", [jobId]);
}

/**
 * Waits until `check` holds. Slurm and the hub's monitor are outside processes that announce
 * nothing to the test, so observing them takes polling: bounded by `timeoutMs`, every 250 ms.
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting until ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Brings the test cluster up again (idempotent), e.g. after a suite stopped slurmctld. */
export function slurmUp(): void {
  execFileSync(join(REPO, "scripts/slurm-up.sh"), [], { stdio: "ignore" });
}

export interface ServerModel {
  ready: boolean;
  user_options: Record<string, unknown>;
  slipway: { state: string; reason: string | null; status_unknown: string | null };
}

export function isServerModel(value: unknown): value is ServerModel {
  return (
    typeof value === "object" &&
    value !== null &&
    "slipway" in value &&
    typeof value.slipway === "object" &&
    value.slipway !== null &&
    "state" in value.slipway
  );
}

/** The server model as its owner sees it, validated. */
export async function serverModelOf(
  base: string,
  token: string,
  user: string,
  server: string,
): Promise<ServerModel> {
  const res = await fetch(`${base}/hub/api/users/${user}/servers/${server}`, {
    headers: { authorization: `token ${token}` },
  });
  const body: unknown = await res.json();
  if (!isServerModel(body)) throw new Error(`not a server model: ${JSON.stringify(body)}`);
  return body;
}

/** `~/.slipway/jobs/<hub id>-<server id>/` of a job of `user`'s (the test users' homes are /home/<name>). */
export function jobDirOf(dataDir: string, user: string, job: SlurmJobRow): string {
  const serverId = job.name.split("-").at(-1) ?? "";
  return join("/home", user, ".slipway/jobs", `${hubIdOf(dataDir)}-${serverId}`);
}

/** The port the job's agent reported to the hub, from the job's log (read as root). */
export function reportedPort(jobDir: string): number {
  const match = /reported port (\d+) to the hub/.exec(readFileSync(join(jobDir, "job.log"), "utf8"));
  if (!match?.[1]) throw new Error(`the agent in ${jobDir} reported no port`);
  return Number.parseInt(match[1], 10);
}

function commandLine(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The parent of a process, field 4 of /proc/<pid>/stat (after the command in parentheses). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10);
}

/**
 * The processes of a server's job, found as root through /proc: Jupyter, known by its
 * `--config=` in the job's directory, and the job agent it runs under.
 */
export function jobProcesses(jobDir: string): { readonly agent: number; readonly jupyter: number } {
  const config = `--config=${join(jobDir, "jupyter_config.json")}`;
  const pid = readdirSync("/proc").find((p) => /^\d+$/.test(p) && commandLine(p).includes(config));
  if (pid === undefined) throw new Error(`no Jupyter runs with ${config}`);
  const jupyter = Number.parseInt(pid, 10);
  const agent = parentOf(jupyter);
  if (!commandLine(String(agent)).some((arg) => arg.endsWith("slipway-job.py"))) {
    throw new Error(`Jupyter ${jupyter} does not run under the job agent`);
  }
  return { agent, jupyter };
}

/** Whether a process has ended: gone, or a zombie (its sockets are closed either way). */
export function hasEnded(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Slurm's commands where a configuration that names none finds them. */
export const SLURM_COMMANDS: SlurmCommands = slurmTargetSchema.parse({
  type: "slurm",
  partitions: { debug: {} },
}).commands;

/** Real time, with timers that keep the test's process alive while a batched query is due. */
export const liveClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

const TIMED_OUT: RunResult = { code: null, signal: "SIGTERM", stdout: "", stderr: "", timedOut: true };

/**
 * Runs Slurm's commands and the helper for real, counting the batched squeue calls (those with
 * `-j`); during an outage every command times out, as they do while slurmctld is down.
 */
export class ClusterRunner implements ProcessRunner {
  readonly #real: ProcessRunner;
  #outage = false;
  statusQueries = 0;

  constructor(real: ProcessRunner) {
    this.#real = real;
  }

  outage(on: boolean): void {
    this.#outage = on;
  }

  async run(argv: readonly string[], options?: Parameters<ProcessRunner["run"]>[1]): Promise<RunResult> {
    if (this.#outage) return TIMED_OUT;
    if (argv[0]?.endsWith("/squeue") && argv.includes("-j")) this.statusQueries += 1;
    return this.#real.run(argv, options);
  }
}

/** A hub id of its own for a suite's jobs (`slipway-<hub id>-<server id>`), so that no run meets another's. */
export function freshHubId(prefix: string): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

/**
 * The Slurm adapter as the hub builds it, on the test cluster: the helper from the staged build
 * run as each user through sudo, the staged job agent, one squeue per second.
 */
export function testClusterScheduler(runner: ProcessRunner, hubId: string): SlurmScheduler {
  const env: Record<string, string> = {};
  if (process.env["PATH"] !== undefined) env["PATH"] = process.env["PATH"];
  return new SlurmScheduler({
    client: new SlurmClient({ runner, commands: SLURM_COMMANDS, timeoutMs: 15_000 }),
    helper: new HelperClient({
      runner,
      helperArgv: [process.execPath, join(STAGE, "dist/src/helper/cli.js")],
      runAs: "user",
      env,
    }),
    hubId,
    python: "/usr/bin/python3",
    agent: join(STAGE, "job/slipway-job.py"),
    clock: liveClock,
    timing: { minIntervalMs: 1_000, gatherMs: 50 },
  });
}

/** Cancels, as root, the jobs of a suite's hub id that still run, and removes their directories. */
export function removeHubJobs(hubId: string, user: string, serverIds: readonly number[]): void {
  const ids = allJobs()
    .filter((j) => j.name.startsWith(`slipway-${hubId}-`) && isLive(j))
    .map((j) => j.jobId);
  if (ids.length > 0) execFileSync("scancel", ids);
  for (const id of serverIds) {
    rmSync(join("/home", user, ".slipway/jobs", `${hubId}-${id}`), { recursive: true, force: true });
  }
}

/** A server id no other test (or earlier run) uses. */
export function uniqueServerId(): number {
  return 100_000_000 + Math.floor(Math.random() * 900_000_000);
}
