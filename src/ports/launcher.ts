import type { JsonObject, ServerTarget } from "../domain/types.js";

/** Everything a launcher needs to start one server. */
export interface LaunchSpec {
  readonly serverId: number;
  /** Unique per attempt; put on the process or job so a restarted hub can find it. */
  readonly attemptId: string;
  readonly userName: string;
  readonly serverName: string;
  /** `/user/<name>/` or `/user/<name>/<server>/`. */
  readonly baseUrl: string;
  /** The Jupyter server's token: it may only reach the server through an owner-only file. */
  readonly token: string;
  /** Validated launch options. */
  readonly options: JsonObject;
}

export type LaunchProgress = (message: string, progress: number) => void;

/**
 * Where a launch is: waiting in a scheduler's queue, or with its server's process (or job)
 * running and coming up.
 */
export type LaunchPhase = "queued" | "starting";

export interface LaunchContext {
  /**
   * Stores launcher state (pid, job id) as soon as it is known, before waiting further, so that a
   * restarted hub adopts or stops what this launch started (architecture invariant 1). It only
   * stores: where the launch is, the launcher says with `phase`.
   */
  persist(state: JsonObject): Promise<void>;
  progress: LaunchProgress;
  readonly signal: AbortSignal;
  /**
   * Every launcher says `starting` once its server's process or job runs; a batch launcher says
   * `queued` first, with the reason in words, while its job waits. The start timeout does not run
   * while a launch is queued and starts afresh when it leaves the queue (invariant 3). Saying the
   * same phase again updates its detail.
   */
  phase(phase: LaunchPhase, detail: string): Promise<void>;
  /** Resolves with the port a batch job's agent reported through the callback (never for others). */
  reportedPort(): Promise<number>;
}

export interface LaunchResult {
  readonly state: JsonObject;
  readonly target: ServerTarget;
}

export type PollResult =
  /** `state`: the launcher's state changed while running (e.g. a new end time); store it. */
  | { readonly status: "running"; readonly target?: ServerTarget; readonly state?: JsonObject }
  /** Still on its way up (queued or starting). */
  | { readonly status: "pending"; readonly detail?: string; readonly state?: JsonObject }
  /**
   * Positively gone: only this status may stop a server or remove a route. `cancel`: the job
   * still exists and must be stopped (a queue limit reached while no launch was in flight).
   */
  | { readonly status: "gone"; readonly reason: string; readonly failed: boolean; readonly cancel?: boolean }
  /** The launcher could not tell (query failed or timed out). Never a reason to stop anything. */
  | { readonly status: "unknown"; readonly reason: string };

export interface Launcher {
  readonly kind: string;
  /**
   * Starts the server and resolves once it answers. Persists state through `ctx.persist` as soon
   * as there is any, and says `ctx.phase("starting")` once the server's process or job runs.
   */
  start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult>;
  /** Reports on a server from its persisted state. */
  poll(userName: string, state: JsonObject): Promise<PollResult>;
  /**
   * Finds what an interrupted attempt left behind (the hub died before it stored the launcher
   * state), from the attempt id alone. Returns the state to adopt, or undefined if nothing runs.
   */
  recover(userName: string, attemptId: string, serverId: number): Promise<JsonObject | undefined>;
  /** Stops the server; resolves once it is gone. Idempotent. */
  stop(userName: string, state: JsonObject): Promise<void>;
  /**
   * Removes what a server that ended by itself left behind (its token files, its socket), once
   * `poll` said it is gone. Idempotent; launchers whose servers clean up after themselves omit it.
   */
  release?(userName: string, state: JsonObject): Promise<void>;
  /** The last lines of the server's log, for the user. */
  logTail(userName: string, state: JsonObject, lines: number): Promise<string>;
  /** Batch launchers: whether `credential` is the one-time callback credential of this attempt. */
  verifyCallback?(serverId: number, attemptId: string, credential: string): boolean;
}
