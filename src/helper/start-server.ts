import { spawn } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { lstat, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { Backoff } from "./backoff.js";
import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import { jupyterConfig } from "./jupyter-config.js";
import type { StartRequest, StartResult } from "./protocol.js";
import { readLogTail } from "./read-log-tail.js";
import { ServerDir } from "./server-dir.js";
import { terminateProcess } from "./terminate-process.js";

/**
 * How often the kernel is asked whether the new process listens yet: soon at first, then less
 * often. Jupyter writes its log right after it binds, so a write to the log asks at once too.
 */
const LISTEN_FIRST_MS = 10;
const LISTEN_MAX_MS = 200;
/** Grace for a process left by an earlier attempt of the same server. */
const LEFTOVER_GRACE_MS = 5000;
const LOG_TAIL_LINES = 40;

export function expandWorkDir(workDir: string, home: string): string {
  if (workDir === "~") return home;
  if (workDir.startsWith("~/")) return join(home, workDir.slice(2));
  return workDir;
}

/** The whole environment of the server: nothing of the hub's (or sudo's) leaks through. */
export function serverEnvironment(ctx: HelperContext, runtimeDir: string): Record<string, string> {
  return {
    PATH: ctx.path,
    HOME: ctx.user.home,
    USER: ctx.user.name,
    LOGNAME: ctx.user.name,
    LANG: ctx.lang,
    SHELL: ctx.user.shell,
    JUPYTER_RUNTIME_DIR: runtimeDir,
  };
}

/**
 * Starts a detached Jupyter server and resolves once it listens. The process gets its own
 * session (setsid), so it outlives the helper and the hub, and a restarted hub adopts it.
 */
export async function startServer(req: StartRequest, ctx: HelperContext): Promise<StartResult> {
  const dir = new ServerDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  await dir.prepare();

  // One server id has at most one process: a leftover of an earlier attempt would otherwise be
  // orphaned once the pid file names the new one.
  const leftover = await dir.readPid();
  if (leftover !== undefined) await terminateProcess(leftover, LEFTOVER_GRACE_MS, ctx);
  await dir.removePid();

  const cwd = expandWorkDir(req.workDir, ctx.user.home);
  const cwdStat = await stat(cwd).catch(() => undefined);
  if (!cwdStat?.isDirectory()) {
    throw new HelperFailure("failed", `The working directory ${cwd} does not exist.`);
  }

  await dir.resetRuntime();
  try {
    const socket = await dir.createSocket(req.socketDir);
    await dir.writeConfig(
      jupyterConfig({
        token: req.token,
        baseUrl: req.baseUrl,
        rootDir: cwd,
        allowRoot: ctx.user.uid === 0,
        listen: { socket },
      }),
    );
    await dir.writeAttempt(req.attemptId);
    return await launch(req, dir, socket, cwd, ctx);
  } catch (err) {
    // Whatever went wrong, neither a half-started process nor the token stays behind.
    const started = await dir.readPid();
    if (started !== undefined) await terminateProcess(started, LEFTOVER_GRACE_MS, ctx);
    await dir.removePid();
    await dir.removeSecrets();
    throw err;
  }
}

/** Spawns the server, records its pid, and resolves once it listens on `socket`. */
async function launch(
  req: StartRequest,
  dir: ServerDir,
  socket: string,
  cwd: string,
  ctx: HelperContext,
): Promise<StartResult> {
  const server = await spawnAndRecord(req, dir, cwd, ctx);
  await waitForSocket(server, socket, req, dir, ctx);
  return { pid: server.pid, startTime: server.startTime, socket, logPath: dir.logPath, dir: dir.dir };
}

/** A process just spawned: its pid (none when it was gone before one could be read) and its end. */
interface SpawnedProcess {
  readonly pid: number | undefined;
  /** Resolves when the process exits. */
  readonly exit: Promise<void>;
  /** How it ended; undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
}

/** The server's process once recorded: its pid, and the start time that tells it from a later one. */
interface ServerProcess extends SpawnedProcess {
  readonly pid: number;
  readonly startTime: number;
}

/**
 * Spawns the server in a session of its own, its output in its log, and writes its pid and start
 * time to the server's directory.
 */
async function spawnAndRecord(
  req: StartRequest,
  dir: ServerDir,
  cwd: string,
  ctx: HelperContext,
): Promise<ServerProcess> {
  const child = await spawnDetached(req.command, dir, cwd, ctx);
  // The start time recorded next to the pid is what tells this process from a later one that
  // reuses the number. A process already exited and reaped has nothing to record.
  const st = child.pid === undefined ? undefined : await ctx.proc.stat(child.pid);
  if (child.pid === undefined || st === undefined) throw await exitedEarly(child, dir, req);
  const identity = { pid: child.pid, startTime: st.startTime };
  await dir.writePid(identity);
  return { ...identity, exit: child.exit, exitStatus: child.exitStatus };
}

/** Runs `command` detached, with the server's environment and its output in its log. */
async function spawnDetached(
  command: readonly string[],
  dir: ServerDir,
  cwd: string,
  ctx: HelperContext,
): Promise<SpawnedProcess> {
  const [file, ...args] = command;
  if (file === undefined) throw new HelperFailure("bad_request", "The command is empty.");
  const log = await open(dir.logPath, "w", 0o600);
  let child;
  try {
    child = spawn(file, [...args, `--config=${dir.configPath}`], {
      cwd,
      env: serverEnvironment(ctx, dir.runtimeDir),
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      shell: false,
    });
  } catch (err) {
    await log.close();
    throw err;
  }
  // Listeners go on before the first await: "spawn" and "error" fire on the next tick.
  let exited: ExitStatus | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawned = new Promise<number | undefined>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid));
    child.once("error", (err) =>
      reject(new HelperFailure("failed", `Could not run ${file}: ${err.message}`)),
    );
  });
  let pid;
  try {
    pid = await spawned;
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
  child.unref();
  return { pid, exit, exitStatus: () => exited };
}

/**
 * Waits until the server's socket appears: at growing intervals, and at once when the server
 * writes to its log or exits. Fails when it exits first or the start timeout passes.
 */
async function waitForSocket(
  server: ServerProcess,
  socket: string,
  req: StartRequest,
  dir: ServerDir,
  ctx: HelperContext,
): Promise<void> {
  const deadline = ctx.now() + req.startTimeoutMs;
  const backoff = new Backoff(LISTEN_FIRST_MS, LISTEN_MAX_MS);
  const logWrites = watchLog(dir.logPath);
  try {
    for (;;) {
      // The socket's directory is new and only this user can add to it: a socket there is the
      // server's. It may be bound a moment before it listens; the hub's first probe waits for that.
      if (await isSocket(socket)) return;
      if (server.exitStatus() !== undefined) throw await exitedEarly(server, dir, req);
      if (ctx.now() >= deadline) {
        // startServer stops the process when this throws.
        throw new HelperFailure(
          "timeout",
          `The server did not listen within ${Math.round(req.startTimeoutMs / 1000)} s.`,
          await tail(dir, req),
        );
      }
      const wake = new AbortController();
      await Promise.race([ctx.sleep(backoff.next(), wake.signal), server.exit, logWrites.next()]);
      wake.abort();
    }
  } finally {
    logWrites.close();
  }
}

/** Once the process has exited: the failure to report, with the end of its log. */
async function exitedEarly(
  server: SpawnedProcess,
  dir: ServerDir,
  req: StartRequest,
): Promise<HelperFailure> {
  await server.exit;
  return new HelperFailure(
    "exited",
    `The server process ${describeExit(server.exitStatus())} before it listened.`,
    await tail(dir, req),
  );
}

async function isSocket(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isSocket() ?? false;
}

interface LogWrites {
  /** Resolves at the next write to the log (never, where the file system cannot tell). */
  next(): Promise<void>;
  close(): void;
}

/** Writes to the server's log, through inotify: each may be the line that follows the bind. */
function watchLog(path: string): LogWrites {
  let wake: (() => void) | undefined;
  let missed = false;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, { persistent: false }, () => {
      if (wake === undefined) missed = true;
      wake?.();
      wake = undefined;
    });
    // Polling alone still finds the port.
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return {
    next: () => {
      if (missed) {
        missed = false;
        return Promise.resolve();
      }
      if (watcher === undefined) return new Promise<void>(() => undefined);
      return new Promise<void>((resolve) => {
        wake = resolve;
      });
    },
    close: () => watcher?.close(),
  };
}

interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function describeExit(status: ExitStatus | undefined): string {
  if (status === undefined) return "exited";
  return status.signal !== null ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

function tail(dir: ServerDir, req: StartRequest): Promise<string> {
  return readLogTail(dir.logPath, LOG_TAIL_LINES, req.token);
}
