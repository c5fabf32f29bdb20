import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { systemClock, type Clock } from "../ports/clock.js";
import type { ProcessRunner, RunOptions, RunResult } from "../ports/process-runner.js";

export interface NodeProcessRunnerOptions {
  /** Per stream; what a program writes beyond this is read and dropped. */
  readonly maxOutputBytes?: number;
  /** After a timeout the program gets SIGTERM, then SIGKILL this much later. */
  readonly killGraceMs?: number;
  readonly clock?: Clock;
}

const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;

/** Collects a stream up to a byte limit, draining the rest so the writer never blocks. */
function capture(stream: Readable, limit: number): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (chunk: Buffer) => {
    if (size >= limit) return;
    const part = chunk.subarray(0, limit - size);
    chunks.push(part);
    size += part.length;
  });
  return () => Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs programs with `child_process.spawn` and an argv array, never a shell. Rejects only when
 * the program cannot be started at all (e.g. not found); any exit, however bad, resolves.
 */
export class NodeProcessRunner implements ProcessRunner {
  private readonly maxOutputBytes: number;
  private readonly killGraceMs: number;
  private readonly clock: Clock;

  constructor(options: NodeProcessRunnerOptions = {}) {
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.clock = options.clock ?? systemClock;
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new Error("Cannot run an empty argv."));
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(file, args, {
        shell: false,
        stdio: ["pipe", "pipe", "pipe"],
        ...(options.env !== undefined ? { env: { ...options.env } } : {}),
      });
      const stdout = capture(child.stdout, this.maxOutputBytes);
      const stderr = capture(child.stderr, this.maxOutputBytes);
      const timers: { cancel(): void }[] = [];
      let timedOut = false;
      let started = false;

      child.once("spawn", () => {
        started = true;
      });
      child.once("error", (err) => {
        // After a successful start, errors come from kill() on a process already gone.
        if (started) return;
        for (const t of timers) t.cancel();
        reject(new Error(`Could not run ${file}: ${err.message}`));
      });
      child.once("exit", () => {
        // A grandchild that inherited the pipes could hold "close" back forever.
        timers.push(
          this.clock.setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, this.killGraceMs),
        );
      });
      child.once("close", (code, signal) => {
        for (const t of timers) t.cancel();
        resolve({ code, signal, stdout: stdout(), stderr: stderr(), timedOut });
      });

      if (options.timeoutMs !== undefined) {
        timers.push(
          this.clock.setTimeout(() => {
            timedOut = true;
            // SIGTERM first: sudo relays it to the program, while a SIGKILLed sudo would not.
            child.kill("SIGTERM");
            timers.push(this.clock.setTimeout(() => child.kill("SIGKILL"), this.killGraceMs));
          }, options.timeoutMs),
        );
      }

      // A program that exits without reading its stdin makes the write fail with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.stdin ?? "");
    });
  }
}
