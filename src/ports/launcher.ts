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

/** Where a batch launch is: waiting in the scheduler's queue, or running and coming up. */
export type LaunchPhase = "queued" | "starting";

export interface LaunchContext {
  /**
   * Persists launcher state (pid, job id) as soon as it is known, before waiting further. From
   * `submitting` it moves the server to `starting`; a queued server stays queued.
   */
  persist(state: JsonObject): Promise<void>;
  progress: LaunchProgress;
  readonly signal: AbortSignal;
  /**
   * Batch launchers: the server waits in the queue (`queued`, with the reason in words; the
   * start timeout does not run) or its job runs (`starting`; the start timeout starts now).
   */
  phase?(phase: LaunchPhase, detail: string): Promise<void>;
  /** Batch launchers: resolves with the port the job's agent reported through the callback. */
  reportedPort?(): Promise<number>;
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
  /** Starts the server and resolves once it listens. Persists state through `ctx.persist` early. */
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
