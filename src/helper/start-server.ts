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

async function launch(
  req: StartRequest,
  dir: ServerDir,
  socket: string,
  cwd: string,
  ctx: HelperContext,
): Promise<StartResult> {
  const [file, ...args] = req.command;
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
  const exitedEarly = async () => {
    await exit;
    return new HelperFailure(
      "exited",
      `The server process ${describeExit(exited)} before it listened.`,
      await tail(dir, req),
    );
  };

  // The start time recorded next to the pid is what tells this process from a later one that
  // reuses the number. A process already exited and reaped has nothing to record.
  const st = pid === undefined ? undefined : await ctx.proc.stat(pid);
  if (pid === undefined || st === undefined) throw await exitedEarly();
  const identity = { pid, startTime: st.startTime };
  await dir.writePid(identity);

  const deadline = ctx.now() + req.startTimeoutMs;
  const backoff = new Backoff(LISTEN_FIRST_MS, LISTEN_MAX_MS);
  const logWrites = watchLog(dir.logPath);
  try {
    for (;;) {
      // The socket's directory is new and only this user can add to it: a socket there is the
      // server's. It may be bound a moment before it listens; the hub's first probe waits for that.
      if (await isSocket(socket)) {
        return { pid, startTime: identity.startTime, socket, logPath: dir.logPath, dir: dir.dir };
      }
      if (exited !== undefined) throw await exitedEarly();
      if (ctx.now() >= deadline) {
        // startServer stops the process when this throws.
        throw new HelperFailure(
          "timeout",
          `The server did not listen within ${Math.round(req.startTimeoutMs / 1000)} s.`,
          await tail(dir, req),
        );
      }
      const wake = new AbortController();
      await Promise.race([ctx.sleep(backoff.next(), wake.signal), exit, logWrites.next()]);
      wake.abort();
    }
  } finally {
    logWrites.close();
  }
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
