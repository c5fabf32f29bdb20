import { randomBytes, randomUUID } from "node:crypto";
import type { JsonObject } from "../../domain/types.js";
import type { Clock } from "../../ports/clock.js";
import type { LaunchContext, LaunchPhase, LaunchSpec } from "../../ports/launcher.js";

/** What a launcher said through its context, in order. */
export type Said =
  | { readonly kind: "persist"; readonly state: JsonObject }
  | { readonly kind: "phase"; readonly phase: LaunchPhase; readonly detail: string }
  | { readonly kind: "progress"; readonly message: string; readonly progress: number };

export interface RecordedLaunchOptions {
  /** The server being launched. */
  readonly spec: LaunchSpec;
  /** As the launch driver's: aborts the launch unless it answers in time; paused while queued. */
  readonly startTimeoutMs: number;
  /** The port the job's callback reports, for batch launchers. */
  readonly reportedPort?: Promise<number>;
  readonly clock: Clock;
}

/**
 * A launch context like the one the launch driver gives, recording what the launcher says:
 * its start timeout runs from the start, stops while the launch is queued and starts afresh
 * when it leaves the queue, and aborts the launch when it runs out.
 */
export class RecordedLaunch {
  readonly said: Said[] = [];
  readonly #controller = new AbortController();
  #timer: { cancel(): void };
  #queued = false;

  constructor(private readonly options: RecordedLaunchOptions) {
    this.#timer = options.clock.setTimeout(() => this.#controller.abort(), options.startTimeoutMs);
  }

  get ctx(): LaunchContext {
    return {
      signal: this.#controller.signal,
      persist: async (state) => {
        this.said.push({ kind: "persist", state });
      },
      phase: async (phase, detail) => {
        this.said.push({ kind: "phase", phase, detail });
        if (phase === "queued") {
          this.#timer.cancel();
          this.#queued = true;
        } else if (this.#queued) {
          this.#queued = false;
          this.#restart();
        }
      },
      progress: (message, progress) => {
        this.said.push({ kind: "progress", message, progress });
      },
      reportedPort: () => this.options.reportedPort ?? new Promise<number>(() => undefined),
    };
  }

  #restart(): void {
    this.#timer = this.options.clock.setTimeout(() => this.#controller.abort(), this.options.startTimeoutMs);
  }

  get spec(): LaunchSpec {
    return this.options.spec;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  persisted(): JsonObject[] {
    return this.said.flatMap((s) => (s.kind === "persist" ? [s.state] : []));
  }

  phases(): LaunchPhase[] {
    return this.said.flatMap((s) => (s.kind === "phase" ? [s.phase] : []));
  }

  /** Ends the start timeout of a launch that is over. */
  done(): void {
    this.#timer.cancel();
  }
}

/** A launch of `userName`'s default server `serverId`, as a new attempt with a token of its own. */
export function freshSpec(userName: string, serverId: number, options: JsonObject): LaunchSpec {
  return {
    serverId,
    attemptId: randomUUID(),
    userName,
    serverName: "",
    baseUrl: `/user/${userName}/`,
    token: randomBytes(24).toString("hex"),
    options,
  };
}
