import { SlipwayError } from "../domain/errors.js";
import { serverPrefix } from "../domain/names.js";
import type { ServerState } from "../domain/server-state.js";
import type { JsonObject, Server } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext, Launcher, LaunchPhase, LaunchResult, LaunchSpec } from "../ports/launcher.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";
import type { RouteSink } from "../ports/route-sink.js";
import { STOPPABLE_STATES, LAUNCHING_STATES, type ServerJournal } from "./server-journal.js";

interface Inflight {
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** Resolves the launch's `reportedPort()` when the job's agent calls back. */
  readonly onPort: (port: number) => void;
}

/** A launch this process runs: what it needs to finish or clean up, and the state stored so far. */
interface LaunchInProgress {
  readonly server: Server;
  readonly launcher: Launcher;
  readonly token: string;
  state: JsonObject;
}

/**
 * The start timeout of one launch. It runs from the submission, stops while the job waits in a
 * queue, and starts afresh once it leaves the queue: a queue wait is a state with a limit of its
 * own, not a timeout (architecture invariant 3).
 */
class StartTimer {
  #timer: { cancel(): void };
  #queued = false;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {
    this.#timer = clock.setTimeout(onTimeout, ms);
  }

  queued(): void {
    this.#timer.cancel();
    this.#queued = true;
  }

  starting(): void {
    if (!this.#queued) return;
    this.#queued = false;
    this.#timer = this.clock.setTimeout(this.onTimeout, this.ms);
  }

  cancel(): void {
    this.#timer.cancel();
  }
}

/**
 * Drives what this process does to a server: a launch from `requested` to `running` (or
 * `failed`), and a stop from any active state to `stopped`. It owns the launches in flight in
 * this process; the monitor leaves those alone and takes over the rest (after a restart, or on
 * another replica). A launch that a stop aborts leaves the rest of the stop to `stop()`.
 */
export class LaunchDriver {
  readonly #store: Store;
  readonly #journal: ServerJournal;
  readonly #launchers: ReadonlyMap<string, Launcher>;
  readonly #clock: Clock;
  readonly #routes: RouteSink;
  readonly #log: Logger;
  readonly #policy: { readonly startTimeoutMs: number };
  readonly #inflight = new Map<number, Inflight>();

  constructor(deps: {
    store: Store;
    journal: ServerJournal;
    launchers: ReadonlyMap<string, Launcher>;
    clock: Clock;
    routes: RouteSink;
    log: Logger;
    policy: { readonly startTimeoutMs: number };
  }) {
    this.#store = deps.store;
    this.#journal = deps.journal;
    this.#launchers = deps.launchers;
    this.#clock = deps.clock;
    this.#routes = deps.routes;
    this.#log = deps.log;
    this.#policy = deps.policy;
  }

  /** Whether this process is launching the server now. */
  inFlight(serverId: number): boolean {
    return this.#inflight.has(serverId);
  }

  /** Hands a reported port to the launch of the server in flight here; false if there is none. */
  deliverPort(serverId: number, port: number): boolean {
    const inflight = this.#inflight.get(serverId);
    if (!inflight) return false;
    inflight.onPort(port);
    return true;
  }

  /** Launches a server the service has just moved to `requested`, in the background. */
  run(server: Server, launcher: Launcher, token: string): void {
    const controller = new AbortController();
    let onPort: (port: number) => void = () => undefined;
    const port = new Promise<number>((resolve) => {
      onPort = resolve;
    });
    const done = this.#launch(server, launcher, token, controller.signal, port)
      .catch((err: unknown) => {
        this.#log.error({ err, serverId: server.id }, "launch crashed");
      })
      .finally(() => {
        if (this.#inflight.get(server.id)?.controller === controller) this.#inflight.delete(server.id);
      });
    this.#inflight.set(server.id, { controller, done, onPort });
  }

  async #launch(
    server: Server,
    launcher: Launcher,
    token: string,
    signal: AbortSignal,
    reportedPort: Promise<number>,
  ): Promise<void> {
    const journal = this.#journal;
    const submitting = await journal.transition(server.id, ["requested"], "submitting", {});
    if (!submitting) return;
    await journal.event(submitting, "submitting", 10, "Starting the server process");
    const controller = new AbortController();
    const timer = new StartTimer(this.#clock, this.#policy.startTimeoutMs, () => controller.abort());
    const onOuterAbort = () => controller.abort();
    signal.addEventListener("abort", onOuterAbort);
    const launch: LaunchInProgress = { server, launcher, token, state: {} };
    try {
      const ctx = this.#context(launch, controller.signal, timer, reportedPort);
      const result = await launcher.start(this.#specOf(server, token), ctx);
      launch.state = result.state;
      if (signal.aborted) {
        await launcher.stop(server.userName, launch.state);
        return;
      }
      await this.#finishLaunch(launch, result);
    } catch (err) {
      if (signal.aborted) return; // stopped on purpose: stop() finishes the job
      const reason = controller.signal.aborted
        ? `The server did not start within ${Math.round(this.#policy.startTimeoutMs / 1000)} s`
        : err instanceof Error
          ? err.message
          : String(err);
      await this.#failLaunch(launch, reason);
    } finally {
      timer.cancel();
      signal.removeEventListener("abort", onOuterAbort);
    }
  }

  #specOf(server: Server, token: string): LaunchSpec {
    return {
      serverId: server.id,
      attemptId: server.attemptId ?? "",
      userName: server.userName,
      serverName: server.name,
      baseUrl: serverPrefix(server.userName, server.name),
      token,
      options: server.userOptions,
    };
  }

  /**
   * What a launcher is given: `persist` only stores its state (invariant 1: the job id right
   * after the scheduler gave it), `phase` moves the server to `queued` or `starting`.
   */
  #context(
    launch: LaunchInProgress,
    signal: AbortSignal,
    timer: StartTimer,
    reportedPort: Promise<number>,
  ): LaunchContext {
    const { server } = launch;
    const phases = { lastDetail: "" };
    return {
      signal,
      persist: async (next) => {
        launch.state = next;
        await this.#store.servers.update(server.id, { launcherState: next });
      },
      phase: async (phase, detail) => {
        if (phase === "queued") timer.queued();
        else timer.starting();
        await this.#enterPhase(server.id, phase, detail, phases);
      },
      reportedPort: () => reportedPort,
      progress: (message, progress) => {
        this.#store.servers.getById(server.id).then(
          (s) => (s ? this.#journal.event(s, s.state, progress, message) : undefined),
          () => undefined,
        );
      },
    };
  }

  /**
   * Moves the server into `phase` with `detail` as its reason. A phase already entered only
   * updates its detail (the pending reason), when it changed; the journal announces every
   * transition and event, so nothing unchanged is announced.
   */
  async #enterPhase(
    serverId: number,
    phase: LaunchPhase,
    detail: string,
    phases: { lastDetail: string },
  ): Promise<void> {
    const journal = this.#journal;
    const progress = phase === "queued" ? 30 : 60;
    const from: readonly ServerState[] = phase === "queued" ? ["submitting"] : ["submitting", "queued"];
    const entered = await journal.transition(serverId, from, phase, { reason: detail });
    if (entered) {
      await journal.event(entered, phase, progress, detail);
    } else if (detail !== phases.lastDetail) {
      const now = await this.#store.servers.update(serverId, { reason: detail });
      if (now) await journal.event(now, now.state, progress, detail);
    }
    phases.lastDetail = detail;
  }

  /** The launcher says the server answers: `running`, and its route, unless a stop came first. */
  async #finishLaunch(launch: LaunchInProgress, result: LaunchResult): Promise<void> {
    const { server, launcher, token } = launch;
    const running = await this.#journal.transition(server.id, LAUNCHING_STATES, "running", {
      launcherState: result.state,
      endpoint: result.target,
      startedAt: this.#clock.now(),
      reason: null,
    });
    if (!running) {
      // A stop won the race while the process came up: it must not outlive the request.
      await launcher.stop(server.userName, launch.state);
      return;
    }
    this.#routes.setRoute({
      serverId: running.id,
      owner: running.userName,
      serverName: running.name,
      target: result.target,
      token,
    });
    await this.#journal.event(running, "running", 100, "Server ready");
    this.#log.info({ event: "server_running", user: running.userName, server: running.name }, "ready");
  }

  /** Stops what a failed launch left (found by its attempt id if it stored nothing), then `failed`. */
  async #failLaunch(launch: LaunchInProgress, reason: string): Promise<void> {
    const { server, launcher } = launch;
    this.#log.warn({ event: "server_failed", serverId: server.id, reason }, "launch failed");
    try {
      const found = Object.keys(launch.state).length
        ? launch.state
        : await launcher.recover(server.userName, server.attemptId ?? "", server.id);
      if (found) await launcher.stop(server.userName, found);
    } catch (cleanupErr) {
      this.#log.warn({ err: cleanupErr, serverId: server.id }, "could not clean up a failed launch");
    }
    const failed = await this.#journal.transition(server.id, LAUNCHING_STATES, "failed", {
      reason: reason.slice(0, 2000),
    });
    if (failed) await this.#journal.event(failed, "failed", 100, reason);
  }

  /** Stops an active server: `stopping` (and its route gone) first, then the launcher, then `stopped`. */
  async stop(server: Server, reason: string): Promise<Server> {
    const stopping = await this.#journal.transition(server.id, STOPPABLE_STATES, "stopping", { reason });
    if (!stopping) {
      const current = await this.#store.servers.getById(server.id);
      if (!current) throw new SlipwayError("server_not_found");
      if (current.state === "stopping") return this.finishStop(current, reason);
      return current;
    }
    await this.#journal.event(stopping, "stopping", 50, "Stopping");
    this.#routes.removeRoute(stopping.userName, stopping.name);
    const inflight = this.#inflight.get(server.id);
    if (inflight) {
      inflight.controller.abort();
      await inflight.done;
    }
    return this.finishStop(stopping, reason);
  }

  /** Ends the job of a server in `stopping` and marks it `stopped`; the monitor retries a stop that failed. */
  async finishStop(server: Server, reason: string): Promise<Server> {
    const launcher = this.#launchers.get(server.target);
    const fresh = (await this.#store.servers.getById(server.id)) ?? server;
    let state: JsonObject | undefined = fresh.launcherState;
    try {
      if (launcher) {
        if (Object.keys(state).length === 0 && fresh.attemptId) {
          state = await launcher.recover(fresh.userName, fresh.attemptId, fresh.id);
        }
        if (state && Object.keys(state).length > 0) await launcher.stop(fresh.userName, state);
      }
    } catch (err) {
      // Not knowing whether it stopped is not stopped: leave it in "stopping" for the monitor.
      this.#log.warn({ err, serverId: server.id }, "stop failed; will retry");
      return fresh;
    }
    const stopped = await this.#journal.transition(server.id, ["stopping"], "stopped", {
      reason,
      endpoint: null,
      tokenSealed: null,
    });
    if (stopped) {
      await this.#journal.event(stopped, "stopped", 100, reason);
      this.#log.info(
        { event: "server_stopped", user: stopped.userName, server: stopped.name, reason },
        "stopped",
      );
    }
    return stopped ?? fresh;
  }

  /** Aborts every launch in flight here and waits for each to clean up after itself. */
  async close(): Promise<void> {
    for (const inflight of this.#inflight.values()) inflight.controller.abort();
    await Promise.all([...this.#inflight.values()].map((i) => i.done));
  }
}
