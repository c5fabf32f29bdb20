import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, ServerTarget } from "../domain/types.js";
import { Backoff } from "../helper/backoff.js";
import { systemHelperContext } from "../helper/helper-context.js";
import { ProcReader } from "../helper/proc-reader.js";
import { systemClock, type Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec, Launcher, PollResult } from "../ports/launcher.js";
import type { ProcessRunner } from "../ports/process-runner.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { HelperCallError, HelperClient, InProcessHelperChannel, type RunAs } from "./helper-client.js";

export { detectJupyterCommand } from "./detect-jupyter-command.js";

export interface LocalLauncherOptions {
  readonly runner: ProcessRunner;
  /**
   * How to run slipway-helper, e.g. `[process.execPath, "/opt/slipway/dist/src/helper/cli.js"]`.
   * Needed for `runAs: "user"` only: as the hub's own account, the helper's code runs in-process.
   */
  readonly helperArgv?: readonly string[];
  /** hub: servers run as the hub's account. user: as the signed-in user, via `sudo -n -u`. */
  readonly runAs: RunAs;
  /** Identifies this hub installation in the user's server folders (`~/.slipway/servers/<hubId>-<id>`). */
  readonly hubId: string;
  /** argv of the server, e.g. `["jupyter", "lab"]`; the helper adds only `--config=<file>`. */
  readonly command: readonly string[];
  /** Absolute, `~` or `~/sub`; `~` is the home of the account the server runs as. */
  readonly workDir: string;
  /**
   * Where servers' sockets go, each in a directory of its owner's: prepared by the hub, 0700 for
   * `runAs: "hub"`, sticky and writable by all (01733) for `runAs: "user"`.
   */
  readonly socketDir: string;
  /** Asks a server's socket for a status, as the proxy would connect to it. */
  readonly probe: TargetProbe;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** PATH and LANG handed to servers that run as the hub. Default: those of this process. */
  readonly helperEnv?: Readonly<Record<string, string>>;
  readonly proc?: ProcReader;
  readonly clock?: Clock;
}

/** Node's start-up, sudo and the helper's own work, on top of the time the verb itself may take. */
const HELPER_MARGIN_MS = 15_000;
/** find, poll and log-tail only read a few files. */
const QUICK_CALL_MS = 30_000;
/** The helper waits this long after SIGKILL, on top of the grace period. */
const KILL_WAIT_MS = 5_000;
/**
 * Readiness probes: the first goes out as soon as the port is known (a listening Jupyter queues
 * it and answers once its loop runs); further ones, after a refusal or a 5xx, soon and then less
 * often.
 */
const PROBE_FIRST_DELAY_MS = 10;
const PROBE_MAX_DELAY_MS = 200;
const PROBE_TIMEOUT_MS = 5_000;
/** Even a start whose process took the whole timeout to listen gets this long to answer HTTP. */
const MIN_ANSWER_MS = 10_000;
const FAILURE_LOG_LINES = 40;

/** What is persisted per server. Enough to poll and stop it without the helper's files. */
const stateSchema = z.object({
  serverId: z.int().positive(),
  pid: z.int().min(1),
  startTime: z.int().nonnegative(),
  socket: z.string().optional(),
  /** Set when the state was recovered before the server had its socket: `find` learns it later. */
  attemptId: z.string().optional(),
  /** A server started by a version that listened on a TCP port, which another account can take over. */
  port: z.int().optional(),
  logPath: z.string(),
});

type LocalState = z.infer<typeof stateSchema>;

function toJson(s: LocalState): JsonObject {
  const out: JsonObject = { serverId: s.serverId, pid: s.pid, startTime: s.startTime, logPath: s.logPath };
  if (s.socket !== undefined) out["socket"] = s.socket;
  if (s.attemptId !== undefined) out["attemptId"] = s.attemptId;
  return out;
}

function socketTarget(socket: string): ServerTarget {
  return { kind: "unix", socket };
}

const GONE: PollResult = { status: "gone", reason: "the server process exited", failed: false };
const UNSAFE_LEGACY: PollResult = {
  status: "gone",
  reason:
    "The server listened on a TCP port, which another account could take over; it was stopped. Start it again.",
  failed: false,
  cancel: true,
};

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withLog(text: string, log: string): string {
  return log.trim() === "" ? text : `${text}\nLast lines of the server's log:\n${log}`;
}

/**
 * Runs Jupyter servers as processes on this machine through slipway-helper. The process is
 * detached from the hub (own session), so a hub that exits or restarts leaves it running and
 * adopts it again from the persisted state, or from the attempt id through `recover`.
 *
 * The persisted pid means something only on the machine that started it: replicas on other
 * machines must not poll another's local servers.
 */
export class LocalLauncher implements Launcher {
  readonly kind = "local";
  private readonly helper: HelperClient;
  private readonly proc: ProcReader;
  private readonly clock: Clock;

  constructor(private readonly options: LocalLauncherOptions) {
    if (options.command.length === 0) throw new Error("The server command is empty.");
    const env: Record<string, string> = {};
    if (process.env["PATH"] !== undefined) env["PATH"] = process.env["PATH"];
    if (process.env["LANG"] !== undefined) env["LANG"] = process.env["LANG"];
    const helperEnv = options.helperEnv ?? env;
    if (options.runAs === "user" && options.helperArgv === undefined) {
      throw new Error("Servers that run as users need the helper's argv.");
    }
    const clientOptions = {
      runner: options.runner,
      helperArgv: options.helperArgv ?? [],
      runAs: options.runAs,
      env: helperEnv,
    };
    // As the hub's own account, nothing needs another process: the helper's verbs run here
    // (a helper program per call cost more than the rest of a start, and CPU that the
    // starting servers need).
    this.helper =
      options.runAs === "hub"
        ? new HelperClient(clientOptions, new InProcessHelperChannel(systemHelperContext(helperEnv)))
        : new HelperClient(clientOptions);
    this.proc = options.proc ?? new ProcReader();
    this.clock = options.clock ?? systemClock;
  }

  async start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
    const { startTimeoutMs } = this.options;
    const began = this.clock.now().getTime();
    this.throwIfAborted(ctx.signal);
    ctx.progress("Launching the server on this machine", 10);
    let started;
    try {
      started = await this.helper.start(
        spec.userName,
        {
          hub: this.options.hubId,
          serverId: spec.serverId,
          attemptId: spec.attemptId,
          baseUrl: spec.baseUrl,
          token: spec.token,
          command: [...this.options.command],
          workDir: this.options.workDir,
          socketDir: this.options.socketDir,
          startTimeoutMs,
        },
        startTimeoutMs + HELPER_MARGIN_MS,
      );
    } catch (err) {
      // Without an answer from the helper (it timed out or was killed), a process it started may
      // be running; the attempt id finds it.
      if (!(err instanceof HelperCallError && err.failure !== undefined)) await this.abandon(spec);
      const log = err instanceof HelperCallError ? (err.failure?.logTail ?? "") : "";
      const text = withLog(`The server could not be started: ${message(err)}`, log);
      throw new SlipwayError("launch_failed", text, { logTail: log });
    }
    const state: LocalState = {
      serverId: spec.serverId,
      pid: started.pid,
      startTime: started.startTime,
      socket: started.socket,
      logPath: started.logPath,
    };
    const target = socketTarget(started.socket);
    // Sent before the state is stored: the server needs longer to answer than the store to write.
    const firstProbe = this.probe(spec, target);
    try {
      await ctx.persist(toJson(state));
      await ctx.phase("starting", "The server process listens on its socket; waiting for it to answer");
      const deadline = Math.max(began + startTimeoutMs, this.clock.now().getTime() + MIN_ANSWER_MS);
      await this.waitForAnswer(spec, state, target, deadline, ctx.signal, firstProbe);
    } catch (err) {
      // A process the caller will not hear about (not recorded, or never answering) is stopped
      // here rather than left running unseen.
      await this.stop(spec.userName, toJson(state)).catch(() => undefined);
      throw err;
    }
    ctx.progress("The server is ready", 100);
    return { state: toJson(state), target };
  }

  async poll(userName: string, raw: JsonObject): Promise<PollResult> {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) return { status: "unknown", reason: "the launcher state is not readable" };
    const state = parsed.data;
    // /proc/<pid>/stat is world-readable, so the common case needs no sudo; only the port, and
    // the verdict "gone" when servers run as other users, need the owner: under a /proc mounted
    // with hidepid, another user's live process looks exactly like a missing one.
    const seen = await this.proc.isAlive(state).catch(() => undefined);
    if (seen === false && this.options.runAs === "hub") return GONE;
    if (seen !== true) {
      try {
        const r = await this.helper.poll(
          userName,
          { pid: state.pid, startTime: state.startTime },
          QUICK_CALL_MS,
        );
        if (!r.alive) return GONE;
      } catch (err) {
        return { status: "unknown", reason: `could not check the server process: ${message(err)}` };
      }
    }
    if (state.socket !== undefined) return { status: "running", target: socketTarget(state.socket) };
    if (state.port !== undefined) return UNSAFE_LEGACY;
    return this.socketOf(userName, state);
  }

  /** A server adopted before it had its socket: the helper's `find` tells once it has one. */
  private async socketOf(userName: string, state: LocalState): Promise<PollResult> {
    const waiting: PollResult = {
      status: "pending",
      detail: "The server process has not opened its socket yet.",
    };
    if (state.attemptId === undefined) return waiting;
    try {
      const found = await this.helper.find(
        userName,
        { hub: this.options.hubId, serverId: state.serverId, attemptId: state.attemptId },
        QUICK_CALL_MS,
      );
      if (!found.found || found.socket === undefined) return waiting;
      const next = { ...state, socket: found.socket };
      return { status: "running", target: socketTarget(found.socket), state: toJson(next) };
    } catch (err) {
      return { status: "unknown", reason: `could not look for the server's socket: ${message(err)}` };
    }
  }

  async recover(userName: string, attemptId: string, serverId: number): Promise<JsonObject | undefined> {
    let r;
    try {
      r = await this.helper.find(userName, { hub: this.options.hubId, serverId, attemptId }, QUICK_CALL_MS);
    } catch (err) {
      // Not "nothing found": the caller must not conclude the attempt left nothing behind.
      throw new SlipwayError("internal", `Could not look for the server process: ${message(err)}`);
    }
    if (!r.found) return undefined;
    const { pid, startTime, socket, logPath } = r;
    return toJson({
      serverId,
      pid,
      startTime,
      logPath,
      ...(socket !== undefined ? { socket } : { attemptId }),
    });
  }

  async stop(userName: string, raw: JsonObject): Promise<void> {
    const parsed = stateSchema.safeParse(raw);
    // Without a recorded process there is nothing this launcher started to stop.
    if (!parsed.success) return;
    const { serverId, pid, startTime } = parsed.data;
    const graceMs = this.options.stopTimeoutMs;
    try {
      await this.helper.stop(
        userName,
        { hub: this.options.hubId, serverId, pid, startTime, graceMs },
        graceMs + KILL_WAIT_MS + HELPER_MARGIN_MS,
      );
    } catch (err) {
      throw new SlipwayError("internal", `Could not stop the server process: ${message(err)}`);
    }
  }

  /** A process that exited by itself left its token files and socket: stopping it removes them. */
  release(userName: string, raw: JsonObject): Promise<void> {
    return this.stop(userName, raw);
  }

  async logTail(userName: string, raw: JsonObject, lines: number): Promise<string> {
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) return "";
    const capped = Math.max(1, Math.min(10_000, Math.floor(lines)));
    try {
      return (
        await this.helper.logTail(
          userName,
          { hub: this.options.hubId, serverId: parsed.data.serverId, lines: capped },
          QUICK_CALL_MS,
        )
      ).text;
    } catch (err) {
      throw new SlipwayError("internal", `Could not read the server's log: ${message(err)}`);
    }
  }

  /** Stops whatever an attempt left running; best effort, for a start that is failing anyway. */
  private async abandon(spec: LaunchSpec): Promise<void> {
    try {
      const found = await this.recover(spec.userName, spec.attemptId, spec.serverId);
      if (found !== undefined) await this.stop(spec.userName, found);
    } catch {
      // The start fails either way; a later recover of this attempt finds what is left.
    }
  }

  private probe(spec: LaunchSpec, target: ServerTarget): Promise<number | undefined> {
    return this.options.probe(target, `${spec.baseUrl}api/status`, spec.token, PROBE_TIMEOUT_MS);
  }

  /** Polls `<baseUrl>api/status` with the token until it answers 200: listening is not serving. */
  private async waitForAnswer(
    spec: LaunchSpec,
    state: LocalState,
    target: ServerTarget,
    deadline: number,
    signal: AbortSignal,
    firstProbe: Promise<number | undefined>,
  ): Promise<void> {
    const path = `${spec.baseUrl}api/status`;
    const backoff = new Backoff(PROBE_FIRST_DELAY_MS, PROBE_MAX_DELAY_MS);
    for (let probe = firstProbe; ; probe = this.probe(spec, target)) {
      this.throwIfAborted(signal);
      const status = await probe;
      if (status === 200) return;
      // A 4xx will not turn into a 200 by waiting: wrong base URL or a token the server ignores.
      if (status !== undefined && status >= 400 && status < 500) {
        throw await this.failure(spec, state, `The server answered ${status} to ${path}.`);
      }
      if ((await this.poll(spec.userName, toJson(state))).status === "gone") {
        throw await this.failure(spec, state, "The server process exited before it answered.");
      }
      if (this.clock.now().getTime() >= deadline) {
        throw await this.failure(spec, state, `The server did not answer on ${path} in time.`);
      }
      await this.delay(backoff.next(), signal);
    }
  }

  private async failure(spec: LaunchSpec, state: LocalState, text: string): Promise<SlipwayError> {
    const log = await this.logTail(spec.userName, toJson(state), FAILURE_LOG_LINES).catch(() => "");
    return new SlipwayError("launch_failed", withLog(text, log), { logTail: log });
  }

  private throwIfAborted(signal: AbortSignal): void {
    if (signal.aborted) throw new SlipwayError("launch_failed", "The start was cancelled.");
  }

  private delay(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
