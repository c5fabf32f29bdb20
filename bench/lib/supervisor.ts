import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readStat } from "./proc.js";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Keep the output in memory too (for `waitForOutput`); it always goes to the log file. */
  readonly capture?: boolean;
  /** Open Node's IPC channel (the child is a Node program that uses `process.send`). */
  readonly ipc?: boolean;
}

/** A process this run started; it runs in its own process group so that group can be ended. */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private output = "";
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly pid: number,
    readonly logFile: string,
    capture: boolean,
  ) {
    const log = createWriteStream(logFile);
    const onData = (chunk: Buffer) => {
      if (capture && this.output.length < 1_000_000) this.output += chunk.toString("utf8");
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get text(): string {
    return this.output;
  }

  /** Resolves with the first match of `pattern` in the output; fails on exit or after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (!this.running)
        throw new Error(`${this.name} exited before printing ${pattern}; see ${this.logFile}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves with the time it took to exit, in ms. */
  async stop(graceMs = 5000): Promise<number> {
    const started = performance.now();
    if (!this.running) return 0;
    signalGroup(this.pid, "SIGTERM");
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      signalGroup(this.pid, "SIGKILL");
      await this.exited;
    }
    return performance.now() - started;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A process started by someone else on our behalf (a hub's launcher): ended if it outlives us. */
interface Adopted {
  readonly pid: number;
  readonly startTime: number;
  readonly name: string;
}

/**
 * Everything a scenario starts goes through here, so that everything is stopped at the end,
 * also when the scenario fails or the run is interrupted.
 */
export class Supervisor {
  private readonly processes = new Set<ManagedProcess>();
  private readonly adopted = new Map<number, Adopted>();
  private counter = 0;

  constructor(readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ManagedProcess {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: true,
      stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    const logFile = join(this.logDir, `${String(this.counter++).padStart(3, "0")}-${name}.log`);
    const managed = new ManagedProcess(name, child, child.pid, logFile, options.capture ?? false);
    this.processes.add(managed);
    void managed.exited.then(() => this.processes.delete(managed));
    return managed;
  }

  /** Runs a command to completion within `timeoutMs`; returns its stdout. */
  async run(name: string, command: string, args: readonly string[], timeoutMs: number): Promise<string> {
    const proc = this.start(name, command, args, { capture: true });
    const timer = setTimeout(() => void proc.stop(1000), timeoutMs);
    const exit = await proc.exited;
    clearTimeout(timer);
    if (exit.code !== 0) {
      throw new Error(`${name} failed (${exit.code ?? exit.signal}): ${proc.text.slice(-2000)}`);
    }
    return proc.text;
  }

  /** Records a process started elsewhere (a user's server), to be ended at cleanup if still there. */
  adopt(pid: number, name: string): void {
    const stat = readStat(pid);
    if (stat !== undefined) this.adopted.set(pid, { pid, startTime: stat.startTime, name });
  }

  /** Ends every process still running: managed groups first, then adopted processes. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop(5000)));
    for (const entry of this.adopted.values()) {
      if (readStat(entry.pid)?.startTime !== entry.startTime) continue;
      signalGroup(entry.pid, "SIGTERM");
    }
    await sleep(this.adopted.size > 0 ? 500 : 0);
    for (const entry of this.adopted.values()) {
      if (readStat(entry.pid)?.startTime === entry.startTime) signalGroup(entry.pid, "SIGKILL");
    }
    this.adopted.clear();
  }

  /** Last resort on process exit: SIGKILL, synchronously, to whatever is left. */
  killAllNow(): void {
    for (const p of this.processes) if (p.running) signalGroup(p.pid, "SIGKILL");
    for (const entry of this.adopted.values()) {
      if (readStat(entry.pid)?.startTime === entry.startTime) signalGroup(entry.pid, "SIGKILL");
    }
  }
}
