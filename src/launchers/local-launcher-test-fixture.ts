import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareSocketDir } from "../bootstrap/socket-dir.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchPhase } from "../ports/launcher.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { TargetPins } from "../proxy/target-connection.js";
import { targetStatus } from "../proxy/target-status.js";

const tsxLoader = import.meta.resolve("tsx");
const helperSource = fileURLToPath(new URL("../helper/cli.ts", import.meta.url));

/**
 * The helper run from source through tsx, since dist/ may not be built. tsx is given by absolute
 * URL so that it resolves whatever the working directory.
 */
export const helperArgv: readonly string[] = [process.execPath, "--import", tsxLoader, helperSource];

/**
 * How to run the helper as another user, or why it cannot be. In CI (`make test`) the build is
 * staged into a root-owned, world-readable directory named by SLIPWAY_TEST_STAGE_DIR, because the
 * checkout may sit where the test users cannot reach (a clone under /root). Otherwise the source
 * is used when that user can read it.
 */
export function helperArgvAs(user: string): { argv: readonly string[] } | { reason: string } {
  const stage = process.env["SLIPWAY_TEST_STAGE_DIR"];
  if (stage) {
    const cli = join(stage, "dist", "src", "helper", "cli.js");
    if (existsSync(cli)) return { argv: [process.execPath, cli] };
    return { reason: `${cli} is missing (run npm run build, then scripts/stage-world-readable.sh)` };
  }
  const files = [helperSource, fileURLToPath(tsxLoader)];
  try {
    const test = files.flatMap((f, i) => (i === 0 ? ["-r", f] : ["-a", "-r", f]));
    execFileSync("sudo", ["-n", "-u", user, "--", "test", ...test], { stdio: "ignore" });
    return { argv: helperArgv };
  } catch {
    return {
      reason: `${user} cannot read ${files.join(" or ")}; set SLIPWAY_TEST_STAGE_DIR to a staged build`,
    };
  }
}

/** Real timers that keep the test process alive while a start waits between probes. */
export const testClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

export interface RecordingContext {
  readonly ctx: LaunchContext;
  readonly persisted: JsonObject[];
  readonly progress: string[];
  /** Each `phase` the launcher said, with its detail. */
  readonly phases: { readonly phase: LaunchPhase; readonly detail: string }[];
}

export function recordingContext(signal: AbortSignal = new AbortController().signal): RecordingContext {
  const persisted: JsonObject[] = [];
  const progress: string[] = [];
  const phases: { phase: LaunchPhase; detail: string }[] = [];
  return {
    persisted,
    progress,
    phases,
    ctx: {
      persist: async (state) => {
        persisted.push(state);
      },
      progress: (m) => progress.push(m),
      phase: async (phase, detail) => {
        phases.push({ phase, detail });
      },
      // Only batch jobs report a port through the hub's callback.
      reportedPort: () => new Promise<number>(() => undefined),
      signal,
    },
  };
}

/** A server id no other test (or earlier run) uses, so directories never collide. */
export function uniqueServerId(): number {
  return 100_000_000 + Math.floor(Math.random() * 900_000_000);
}

/** Waits for a condition on another process, for which no event exists (there is no pidfd in Node). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("The condition did not hold in time.");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export function lookUpUser(name: string): PasswdEntry | undefined {
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
  const f = line.split(":");
  const [uid, gid, home] = [f[2], f[3], f[5]];
  if (uid === undefined || gid === undefined || home === undefined) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/** The hub id the launcher tests use, so their folders never meet a real hub's. */
export const TEST_HUB_ID = "launchertest";

/** Removes a server's directory and, when nothing else is left, the helper's directories above it. */
export async function removeServerDir(home: string, serverId: number): Promise<void> {
  await rm(join(home, ".slipway", "servers", `${TEST_HUB_ID}-${serverId}`), { recursive: true, force: true });
  await rmdir(join(home, ".slipway", "servers")).catch(() => undefined);
  await rmdir(join(home, ".slipway")).catch(() => undefined);
}

/** Asks a server as the hub's proxy reaches it. */
export const testProbe: TargetProbe = targetStatus(new TargetPins());

/** `GET <path>` with `token` on a server's socket: the status, or undefined without an answer. */
export function statusOf(target: ServerTarget, path: string, token: string): Promise<number | undefined> {
  return testProbe(target, path, token, 5000);
}

/**
 * A socket directory as the hub prepares it: 0700 for servers that run as the hub, sticky 01733
 * for servers that run as users, under a fresh directory in /tmp that everyone may pass.
 */
export async function testSocketDir(runAs: "hub" | "user"): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), "slipway-sock-"));
  if (runAs === "user") await chmod(parent, 0o711);
  const dir = join(parent, "s");
  await prepareSocketDir(dir, runAs);
  return dir;
}

/**
 * For stand-ins written in JavaScript: the socket the helper's `--config=<file>` tells the
 * server to listen on, as an expression to put in a `node -e` script.
 */
export const CONFIGURED_SOCKET =
  "JSON.parse(require('fs').readFileSync(process.argv.find((a) => a.startsWith('--config=')).slice(9), 'utf8')).ServerApp.sock";
