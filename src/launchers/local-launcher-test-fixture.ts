import { execFileSync } from "node:child_process";
import { rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext } from "../ports/launcher.js";

/**
 * Shared by the launcher tests. The helper runs from source through tsx (dist/ may not be
 * built); both are under a world-readable tree, so the same argv works for sudo'd users.
 */
export const helperArgv: readonly string[] = [
  process.execPath,
  "--import",
  import.meta.resolve("tsx"),
  fileURLToPath(new URL("../helper/cli.ts", import.meta.url)),
];

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
}

export function recordingContext(signal: AbortSignal = new AbortController().signal): RecordingContext {
  const persisted: JsonObject[] = [];
  const progress: string[] = [];
  return {
    persisted,
    progress,
    ctx: {
      persist: async (state) => {
        persisted.push(state);
      },
      progress: (m) => progress.push(m),
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

/** Removes a server's directory and, when nothing else is left, the helper's directories above it. */
export async function removeServerDir(home: string, serverId: number): Promise<void> {
  await rm(join(home, ".slipway", "servers", String(serverId)), { recursive: true, force: true });
  await rmdir(join(home, ".slipway", "servers")).catch(() => undefined);
  await rmdir(join(home, ".slipway")).catch(() => undefined);
}
