import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { validateConfig } from "../../src/config/load-config.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { startHub, type RunningHub } from "../../src/main.js";
import type { Clock } from "../../src/ports/clock.js";
import type { ProcessRunner } from "../../src/ports/process-runner.js";
import { keepAuditTrail } from "./audit-trail-copy.js";

export const REPO = resolve(import.meta.dirname, "../..");
/** Every hub a suite starts logs here; the log-secrets suite reads it all at the end. */
export const LOG_DIR = join(REPO, ".test-logs");

/** Records a secret the tests handled, so the log scan can prove it never reached a log. */
export function rememberSecret(secret: string): void {
  mkdirSync(LOG_DIR, { recursive: true });
  appendFileSync(join(LOG_DIR, "secrets.txt"), `${secret}\n`);
}

export interface TestHub extends RunningHub {
  readonly dataDir: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

let counter = 0;

/** Boots a real hub on 127.0.0.1, port 0, with a fresh data directory. */
export async function startTestHub(
  input: ConfigInput = {},
  options: {
    dataDir?: string;
    slowSpawnWaitMs?: number;
    name?: string;
    clock?: Clock;
    /** Runs the hub's scheduler commands (tests wrap the real one to count calls). */
    schedulerRunner?: ProcessRunner;
  } = {},
): Promise<TestHub> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "slipway-test-"));
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${options.name ?? "hub"}-${process.pid}-${counter++}.log`);
  const result = validateConfig({
    ...input,
    hub: { host: "127.0.0.1", port: 0, ...input.hub },
    logging: { level: "debug", ...input.logging },
  });
  if (!result.ok) throw new Error(`test configuration is not valid: ${result.errors.join("; ")}`);
  const hub = await startHub({
    config: result.config,
    dataDir,
    logDestination: pino.destination({ dest: logFile, sync: true }),
    slowSpawnWaitMs: options.slowSpawnWaitMs ?? 10_000,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.schedulerRunner ? { schedulerRunner: options.schedulerRunner } : {}),
  });
  return {
    ...hub,
    close: hub.close,
    dataDir,
    logFile,
    /** Closes the hub and keeps a copy of its audit trail for the secrets suite. */
    async stop() {
      await hub.close();
      await keepAuditTrail(result.config.database.url, dataDir, logFile);
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A socket directory that servers run as other Unix users can reach: under a fresh 0711
 * directory in /tmp (a test's data directory is 0700, as it should be).
 */
export function userSocketDir(): string {
  const parent = mkdtempSync(join(tmpdir(), "slipway-sock-"));
  chmodSync(parent, 0o711);
  return join(parent, "s");
}
