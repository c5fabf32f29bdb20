import { randomUUID } from "node:crypto";
import { SlipwayError } from "../domain/errors.js";
import { assertServerName, serverPrefix } from "../domain/names.js";
import { isActive, isStarting, type ServerState } from "../domain/server-state.js";
import type { JsonObject, Server, ServerEvent, ServerTarget, User } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { Launcher, PollResult } from "../ports/launcher.js";
import type { Logger } from "../ports/logger.js";
import type { Notifier } from "../ports/notifier.js";
import type { Sealer } from "../ports/security.js";
import type { ServerPatch, Store } from "../ports/store.js";
import type { Randomness } from "./identity-service.js";
import type { SpawnOptions } from "./spawn-options.js";

/** Where running servers are announced; the proxy's route table implements it. */
export interface RouteSink {
  setRoute(route: {
    serverId: number;
    owner: string;
    serverName: string;
    target: ServerTarget;
    token: string;
  }): void;
  removeRoute(owner: string, serverName: string): void;
}

/** Checks that a Jupyter server answers at its target with its token. */
export type ReadinessProbe = (target: ServerTarget, baseUrl: string, token: string) => Promise<boolean>;

export interface ServersPolicy {
  readonly namedServerLimit: number;
  readonly startTimeoutMs: number;
  readonly pollIntervalMs: number;
}

const ACTIVE_STATES: readonly ServerState[] = ["requested", "submitting", "queued", "starting", "running"];
const LAUNCHING_STATES: readonly ServerState[] = ["requested", "submitting", "queued", "starting"];

interface Inflight {
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** Resolves the launch's `reportedPort()` when the job's agent calls back. */
  readonly onPort: (port: number) => void;
}

/**
 * The durable server lifecycle. Every state change is a compare-and-set in the store, written
 * before the hub acts on it, so a hub killed at any instant finds on restart what it was doing
 * and adopts or cleans it up (ARCHITECTURE.md, invariant 1).
 */
export class ServersService {
  readonly #store: Store;
  readonly #launchers: ReadonlyMap<string, Launcher>;
  readonly #options: SpawnOptions;
  readonly #clock: Clock;
  readonly #sealer: Sealer;
  readonly #random: Randomness;
  readonly #notifier: Notifier;
  readonly #routes: RouteSink;
  readonly #probe: ReadinessProbe;
  readonly #log: Logger;
  readonly #policy: ServersPolicy;
  readonly #inflight = new Map<number, Inflight>();
  readonly #unknown = new Map<number, string>();
  /** `<serverId>:<attemptId>` whose callback was used, so a credential works once. */
  readonly #callbacksUsed = new Set<string>();
  #pollTimer: { cancel(): void } | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  constructor(deps: {
    store: Store;
    launchers: ReadonlyMap<string, Launcher>;
    options: SpawnOptions;
    clock: Clock;
    sealer: Sealer;
    random: Randomness;
    notifier: Notifier;
    routes: RouteSink;
    probe: ReadinessProbe;
    log: Logger;
    policy: ServersPolicy;
  }) {
    this.#store = deps.store;
    this.#launchers = deps.launchers;
    this.#options = deps.options;
    this.#clock = deps.clock;
    this.#sealer = deps.sealer;
    this.#random = deps.random;
    this.#notifier = deps.notifier;
    this.#routes = deps.routes;
    this.#probe = deps.probe;
    this.#log = deps.log;
    this.#policy = deps.policy;
  }

  // --- queries -------------------------------------------------------------------------------

  list(user: User): Promise<Server[]> {
    return this.#store.servers.listForUser(user.id);
  }

  listForUsers(userIds: readonly number[]): Promise<Server[]> {
    return this.#store.servers.listForUsers(userIds);
  }

  async get(user: User, name: string): Promise<Server> {
    const server = await this.#store.servers.get(user.id, name);
    if (!server) throw new SlipwayError("server_not_found");
    return server;
  }

  find(user: User, name: string): Promise<Server | undefined> {
    return this.#store.servers.get(user.id, name);
  }

  /** Calls `listener` whenever the server changes (on this replica or, via the notifier, another). */
  subscribe(serverId: number, listener: () => void): () => void {
    return this.#notifier.subscribe((note) => {
      if (note.topic === "server" && note.id === serverId) listener();
    });
  }

  /** Records activity reported through the API (JupyterHub's `POST /users/{name}/activity`). */
  async recordActivity(
    user: User,
    lastActivity: string | undefined,
    servers: Readonly<Record<string, { last_activity: string }>>,
  ): Promise<void> {
    if (lastActivity !== undefined) {
      await this.#store.users.recordActivity([{ userId: user.id, at: new Date(lastActivity) }]);
    }
    const entries = [];
    for (const [name, value] of Object.entries(servers)) {
      const server = await this.#store.servers.get(user.id, name);
      if (server) entries.push({ serverId: server.id, at: new Date(value.last_activity) });
    }
    if (entries.length > 0) await this.#store.servers.recordActivity(entries);
  }

  /** Calls `listener` with the id of every server that changes. */
  subscribeAll(listener: (serverId: number) => void): () => void {
    return this.#notifier.subscribe((note) => {
      if (note.topic === "server" && typeof note.id === "number") listener(note.id);
    });
  }

  getById(serverId: number): Promise<Server | undefined> {
    return this.#store.servers.getById(serverId);
  }

  /** The last scheduler or launcher doubt about a server, if its state could not be checked. */
  unknownReason(serverId: number): string | undefined {
    return this.#unknown.get(serverId);
  }

  events(serverId: number, afterSeq: number): Promise<ServerEvent[]> {
    return this.#store.servers.listEvents(serverId, afterSeq);
  }

  /** The route of a running server, for the proxy's cache misses. */
  async routeFor(owner: User, serverName: string) {
    const server = await this.#store.servers.get(owner.id, serverName);
    if (!server || server.state !== "running" || !server.host || !server.port || !server.tokenSealed) {
      return undefined;
    }
    return {
      serverId: server.id,
      owner: owner.name,
      serverName: server.name,
      target: { host: server.host, port: server.port },
      token: this.#sealer.open(server.tokenSealed),
    };
  }

  // --- commands ------------------------------------------------------------------------------

  /** Creates a stopped named server (JupyterHub's PUT), or returns the existing one. */
  async ensure(user: User, name: string, displayName?: string): Promise<Server> {
    assertServerName(name);
    const existing = await this.#store.servers.get(user.id, name);
    if (existing) return existing;
    if (name !== "") {
      const named = (await this.#store.servers.listForUser(user.id)).filter((s) => s.name !== "");
      if (named.length >= this.#policy.namedServerLimit) {
        throw new SlipwayError(
          "too_many_servers",
          `You can have at most ${this.#policy.namedServerLimit} named servers.`,
        );
      }
    }
    const target = (await this.#options.validate(user, {})).target;
    try {
      return await this.#store.servers.create({
        userId: user.id,
        name,
        displayName: (displayName ?? name).slice(0, 80),
        target,
      });
    } catch (err) {
      // Another request created it between our read and our insert: use theirs.
      const raced = await this.#store.servers.get(user.id, name);
      if (raced) return raced;
      throw err;
    }
  }

  async rename(user: User, name: string, displayName: string): Promise<Server> {
    const server = await this.get(user, name);
    const updated = await this.#store.servers.update(server.id, { displayName: displayName.slice(0, 80) });
    await this.#publish(server.id);
    return updated ?? server;
  }

  /**
   * Starts a server. Validation happens before anything is written, so a refused request leaves
   * nothing behind. Resolves once the launch is under way (or already running).
   */
  async start(user: User, name: string, rawOptions: unknown): Promise<Server> {
    assertServerName(name);
    const launch = await this.#options.validate(user, rawOptions);
    const launcher = this.#launchers.get(launch.target);
    if (!launcher) throw new SlipwayError("invalid_option", `No launcher for target ${launch.target}.`);
    const server = await this.ensure(user, name);
    if (isActive(server.state)) {
      if (server.state === "stopping") throw new SlipwayError("server_busy");
      return server;
    }
    const token = this.#random.token();
    const attemptId = randomUUID();
    const requested = await this.#store.servers.transition(
      server.id,
      ["stopped", "failed"],
      "requested",
      {
        userOptions: launch.userOptions,
        target: launch.target,
        attemptId,
        tokenSealed: this.#sealer.seal(token),
        launcherState: {},
        host: null,
        port: null,
        reason: null,
        startedAt: null,
      },
      this.#clock.now(),
    );
    if (!requested) {
      const now = await this.get(user, name);
      if (now.state === "stopping") throw new SlipwayError("server_busy");
      return now;
    }
    await this.#event(requested, "requested", 0, "Server requested");
    this.#log.info(
      { event: "server_requested", user: user.name, server: name, attemptId, target: launch.target },
      "server requested",
    );
    this.#runLaunch(requested, launcher, token);
    return requested;
  }

  async stop(user: User, name: string, reason = "Stopped by the user"): Promise<Server> {
    const server = await this.get(user, name);
    return this.#stopServer(server, reason);
  }

  async stopAllFor(user: User, reason: string): Promise<void> {
    for (const server of await this.#store.servers.listForUser(user.id)) {
      if (isActive(server.state)) await this.#stopServer(server, reason);
    }
  }

  async remove(user: User, name: string): Promise<void> {
    const server = await this.get(user, name);
    if (isActive(server.state)) await this.#stopServer(server, "Deleted by the user");
    await this.#store.servers.delete(server.id);
    await this.#publish(server.id);
  }

  /** Resolves when the server is running (true) or has stopped or failed (false), or on timeout. */
  waitUntilSettled(serverId: number, timeoutMs: number): Promise<Server | undefined> {
    return new Promise((resolve) => {
      let finished = false;
      const finish = (value: Server | undefined) => {
        if (finished) return;
        finished = true;
        unsubscribe();
        timer.cancel();
        resolve(value);
      };
      const check = () => {
        this.#store.servers.getById(serverId).then(
          (s) => {
            if (!s || !isStarting(s.state)) finish(s);
          },
          () => finish(undefined),
        );
      };
      const unsubscribe = this.#notifier.subscribe((note) => {
        if (note.topic === "server" && note.id === serverId) check();
      });
      const timer = this.#clock.setTimeout(() => {
        this.#store.servers.getById(serverId).then(finish, () => finish(undefined));
      }, timeoutMs);
      check();
    });
  }

  // --- the launch ----------------------------------------------------------------------------

  #runLaunch(server: Server, launcher: Launcher, token: string): void {
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
    const attemptId = server.attemptId ?? "";
    const submitting = await this.#transition(server.id, ["requested"], "submitting", {});
    if (!submitting) return;
    await this.#event(submitting, "submitting", 10, "Starting the server process");
    const controller = new AbortController();
    // The start timeout does not run while the job waits in a queue (invariant 3).
    let timeout = this.#clock.setTimeout(() => controller.abort(), this.#policy.startTimeoutMs);
    let lastDetail = "";
    const onOuterAbort = () => controller.abort();
    signal.addEventListener("abort", onOuterAbort);
    let state: JsonObject = {};
    try {
      const result = await launcher.start(
        {
          serverId: server.id,
          attemptId,
          userName: server.userName,
          serverName: server.name,
          baseUrl: serverPrefix(server.userName, server.name),
          token,
          options: server.userOptions,
        },
        {
          signal: controller.signal,
          persist: async (next) => {
            state = next;
            await this.#store.servers.update(server.id, { launcherState: next });
            const starting = await this.#transition(server.id, ["submitting"], "starting", {});
            if (starting) await this.#event(starting, "starting", 50, "Waiting for the server to answer");
          },
          phase: async (phase, detail) => {
            if (phase === "queued") {
              timeout.cancel();
              const queued = await this.#transition(server.id, ["submitting"], "queued", { reason: detail });
              if (queued) await this.#event(queued, "queued", 30, detail);
              else if (detail !== lastDetail) {
                const now = await this.#store.servers.update(server.id, { reason: detail });
                if (now) await this.#event(now, now.state, 30, detail);
              }
            } else {
              const starting = await this.#transition(server.id, ["submitting", "queued"], "starting", {
                reason: detail,
              });
              if (starting) {
                timeout.cancel();
                timeout = this.#clock.setTimeout(() => controller.abort(), this.#policy.startTimeoutMs);
                await this.#event(starting, "starting", 60, detail);
              } else if (detail !== lastDetail) {
                const now = await this.#store.servers.update(server.id, { reason: detail });
                if (now) await this.#event(now, now.state, 60, detail);
              }
            }
            lastDetail = detail;
            await this.#publish(server.id);
          },
          reportedPort: () => reportedPort,
          progress: (message, progress) => {
            this.#store.servers.getById(server.id).then(
              (s) => (s ? this.#event(s, s.state, progress, message) : undefined),
              () => undefined,
            );
          },
        },
      );
      state = result.state;
      if (signal.aborted) {
        await launcher.stop(server.userName, state);
        return;
      }
      const running = await this.#transition(server.id, LAUNCHING_STATES, "running", {
        launcherState: result.state,
        host: result.target.host,
        port: result.target.port,
        startedAt: this.#clock.now(),
        reason: null,
      });
      if (!running) {
        // A stop won the race while the process came up: it must not outlive the request.
        await launcher.stop(server.userName, state);
        return;
      }
      this.#routes.setRoute({
        serverId: running.id,
        owner: running.userName,
        serverName: running.name,
        target: result.target,
        token,
      });
      await this.#event(running, "running", 100, "Server ready");
      this.#log.info({ event: "server_running", user: running.userName, server: running.name }, "ready");
    } catch (err) {
      if (signal.aborted) return; // stopped on purpose: #stopServer finishes the job
      const reason = controller.signal.aborted
        ? `The server did not start within ${Math.round(this.#policy.startTimeoutMs / 1000)} s`
        : err instanceof Error
          ? err.message
          : String(err);
      this.#log.warn({ event: "server_failed", serverId: server.id, reason }, "launch failed");
      try {
        const found = Object.keys(state).length
          ? state
          : await launcher.recover(server.userName, attemptId, server.id);
        if (found) await launcher.stop(server.userName, found);
      } catch (cleanupErr) {
        this.#log.warn({ err: cleanupErr, serverId: server.id }, "could not clean up a failed launch");
      }
      const failed = await this.#transition(server.id, LAUNCHING_STATES, "failed", {
        reason: reason.slice(0, 2000),
      });
      if (failed) await this.#event(failed, "failed", 100, reason);
    } finally {
      timeout.cancel();
      signal.removeEventListener("abort", onOuterAbort);
    }
  }

  async #stopServer(server: Server, reason: string): Promise<Server> {
    const stopping = await this.#transition(server.id, ACTIVE_STATES, "stopping", { reason });
    if (!stopping) {
      const current = await this.#store.servers.getById(server.id);
      if (!current) throw new SlipwayError("server_not_found");
      if (current.state === "stopping") return this.#finishStop(current, reason);
      return current;
    }
    await this.#event(stopping, "stopping", 50, "Stopping");
    this.#routes.removeRoute(stopping.userName, stopping.name);
    const inflight = this.#inflight.get(server.id);
    if (inflight) {
      inflight.controller.abort();
      await inflight.done;
    }
    return this.#finishStop(stopping, reason);
  }

  async #finishStop(server: Server, reason: string): Promise<Server> {
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
    const stopped = await this.#transition(server.id, ["stopping"], "stopped", {
      reason,
      host: null,
      port: null,
      tokenSealed: null,
    });
    if (stopped) {
      await this.#event(stopped, "stopped", 100, reason);
      this.#log.info(
        { event: "server_stopped", user: stopped.userName, server: stopped.name, reason },
        "stopped",
      );
    }
    return stopped ?? fresh;
  }

  // --- monitoring and adoption ---------------------------------------------------------------

  /**
   * Checks every active server once: adopts what a previous hub process launched, notices
   * servers that ended, and finishes interrupted stops. Run at start-up before the hub reports
   * ready, then every poll interval.
   */
  async reconcile(): Promise<void> {
    const active = await this.#store.servers.listActive();
    await Promise.all(
      active
        .filter((s) => !this.#inflight.has(s.id))
        .map((s) =>
          this.#reconcileOne(s).catch((err: unknown) => {
            this.#log.warn({ err, serverId: s.id }, "could not check server");
          }),
        ),
    );
  }

  async #reconcileOne(server: Server): Promise<void> {
    const launcher = this.#launchers.get(server.target);
    if (!launcher) {
      const failed = await this.#transition(server.id, ACTIVE_STATES, "failed", {
        reason: `Target ${server.target} is no longer configured`,
      });
      if (failed) await this.#event(failed, "failed", 100, failed.reason ?? "");
      return;
    }
    if (server.state === "stopping") {
      await this.#finishStop(server, server.reason ?? "Stopped");
      return;
    }
    let state = server.launcherState;
    if (Object.keys(state).length === 0) {
      // The hub stopped between writing its intent and storing the launcher's answer.
      const found = server.attemptId
        ? await launcher.recover(server.userName, server.attemptId, server.id)
        : undefined;
      if (!found) {
        // A launch cut short may still be under way (its helper outlives the hub): give it the
        // start timeout before declaring it failed, so nothing it starts is left orphaned.
        const age = this.#clock.now().getTime() - server.stateChangedAt.getTime();
        if (age < this.#policy.startTimeoutMs) return;
        const failed = await this.#transitionAttempt(server, LAUNCHING_STATES, "failed", {
          reason: "The hub restarted while starting the server, and the server never came up; start it again",
        });
        if (failed) await this.#event(failed, "failed", 100, failed.reason ?? "");
        return;
      }
      state = found;
      if (
        !(await this.#store.servers.update(
          server.id,
          { launcherState: found },
          server.attemptId ?? undefined,
        ))
      ) {
        return;
      }
      this.#log.info({ event: "server_adopted", serverId: server.id }, "adopted an interrupted launch");
    }
    const result = await launcher.poll(server.userName, state);
    await this.#applyPoll(server, state, result);
  }

  /**
   * Acts on a poll of `server` as it was read before the poll. By now it may have been stopped,
   * or stopped and started again as a new attempt with another port: a verdict on the attempt
   * that was polled must never end, re-route or overwrite a newer one (each change below is
   * checked against the attempt the store holds now).
   */
  async #applyPoll(server: Server, state: JsonObject, result: PollResult): Promise<void> {
    switch (result.status) {
      case "unknown": {
        // Unknown is not dead (invariant 2): keep the server and its route, say so, retry later.
        const wasKnown = !this.#unknown.has(server.id);
        this.#unknown.set(server.id, result.reason);
        // Pages show "status unknown" live (server events), so say when it starts and ends.
        if (wasKnown) await this.#publish(server.id);
        return;
      }
      case "pending":
        await this.#statusKnown(server.id);
        if (result.detail !== undefined && result.detail !== server.reason) {
          await this.#store.servers.update(server.id, { reason: result.detail.slice(0, 2000) });
          await this.#publish(server.id);
        }
        return;
      case "gone": {
        await this.#statusKnown(server.id);
        if (!(await this.#sameAttempt(server))) return;
        if (result.cancel) {
          const launcher = this.#launchers.get(server.target);
          // If the cancel fails, the job is still there: try again next time.
          if (launcher) await launcher.stop(server.userName, state);
        }
        const to = result.failed ? "failed" : "stopped";
        const ended = await this.#transitionAttempt(server, ACTIVE_STATES, to, {
          reason: result.reason,
          host: null,
          port: null,
          tokenSealed: null,
        });
        // Only the polled attempt's route: a newer attempt may be running under this name.
        const now = ended ?? (await this.#sameAttempt(server));
        if (now && now.state !== "running") this.#routes.removeRoute(server.userName, server.name);
        if (ended) {
          await this.#event(ended, to, 100, result.reason);
          this.#log.info(
            { event: "server_ended", serverId: server.id, reason: result.reason },
            "server ended",
          );
        }
        return;
      }
      case "running": {
        await this.#statusKnown(server.id);
        const target =
          result.target ??
          (server.host && server.port ? { host: server.host, port: server.port } : undefined);
        if (!target || !server.tokenSealed) return;
        if (result.state !== undefined && server.state === "running") {
          // What the launcher learnt while the server runs (a batch job's new end time): pages follow it.
          const updated = await this.#store.servers.update(
            server.id,
            { launcherState: result.state },
            server.attemptId ?? undefined,
          );
          if (updated) await this.#publish(server.id);
        }
        const token = this.#sealer.open(server.tokenSealed);
        if (server.state !== "running") {
          // Adopting a launch that was interrupted: it must answer before it gets a route.
          if (!(await this.#probe(target, serverPrefix(server.userName, server.name), token))) return;
          const running = await this.#transitionAttempt(server, LAUNCHING_STATES, "running", {
            launcherState: result.state ?? state,
            host: target.host,
            port: target.port,
            startedAt: this.#clock.now(),
          });
          if (!running) return;
          await this.#event(running, "running", 100, "Server ready");
        }
        // Read again right before routing, with no await in between: a stop that began during
        // the poll removed the route after it marked the server stopping, and a route set from
        // the older read would outlive that removal (and, after a restart, shadow the new port).
        const current = await this.#sameAttempt(server);
        if (current?.state !== "running") return;
        this.#routes.setRoute({
          serverId: server.id,
          owner: server.userName,
          serverName: server.name,
          target,
          token,
        });
        return;
      }
    }
  }

  /**
   * The job callback (threats §5a.16): the agent of a batch job reports only its port, with the
   * one-time credential of its own server and attempt. The host is not taken from the caller:
   * the launcher reads it from the scheduler, and the server must answer before it gets a route.
   */
  async reportJobPort(serverId: number, credential: string, port: number): Promise<void> {
    const server = await this.#store.servers.getById(serverId);
    const launcher = server ? this.#launchers.get(server.target) : undefined;
    if (
      !server ||
      !launcher?.verifyCallback ||
      !server.attemptId ||
      !launcher.verifyCallback(server.id, server.attemptId, credential)
    ) {
      throw new SlipwayError("forbidden", "This credential does not belong to a server that is starting.");
    }
    const key = `${server.id}:${server.attemptId}`;
    if (this.#callbacksUsed.has(key) || typeof server.launcherState["port"] === "number") {
      throw new SlipwayError("forbidden", "The port of this attempt was reported already.");
    }
    if (!LAUNCHING_STATES.includes(server.state)) {
      throw new SlipwayError("forbidden", "This server is not starting.");
    }
    if (typeof server.launcherState["jobId"] !== "string") {
      // The hub has not recorded the job yet (the agent was quicker): the agent tries again.
      throw new SlipwayError("server_busy", "The hub has not recorded this job yet; try again.");
    }
    this.#callbacksUsed.add(key);
    await this.#store.servers.update(server.id, { launcherState: { ...server.launcherState, port } });
    this.#log.info({ event: "job_port_reported", serverId, port }, "job reported its port");
    const inflight = this.#inflight.get(server.id);
    if (inflight) inflight.onPort(port);
    else this.recheck(server.id);
  }

  /** The last lines of a server's log (a batch job's output), for its owner. */
  async logTail(user: User, name: string, lines: number): Promise<string> {
    const server = await this.get(user, name);
    const launcher = this.#launchers.get(server.target);
    if (!launcher || Object.keys(server.launcherState).length === 0) return "";
    return launcher.logTail(server.userName, server.launcherState, lines);
  }

  /** Starts the periodic monitor (after one reconcile has run). */
  startMonitor(): void {
    const schedule = () => {
      if (this.#closed) return;
      // Jitter spreads the polls of many hubs and avoids lock-step load on launchers.
      const jitter = 0.9 + Math.random() * 0.2;
      this.#pollTimer = this.#clock.setTimeout(() => {
        this.#polling = this.reconcile().finally(schedule);
      }, this.#policy.pollIntervalMs * jitter);
    };
    schedule();
  }

  /** Re-checks one server now (the proxy saw its target refuse a connection). */
  recheck(serverId: number): void {
    if (this.#inflight.has(serverId)) return;
    this.#store.servers
      .getById(serverId)
      .then((s) => (s && isActive(s.state) ? this.#reconcileOne(s) : undefined))
      .catch((err: unknown) => this.#log.warn({ err, serverId }, "re-check failed"));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pollTimer?.cancel();
    await this.#polling;
    for (const inflight of this.#inflight.values()) inflight.controller.abort();
    await Promise.all([...this.#inflight.values()].map((i) => i.done));
  }

  // --- plumbing ------------------------------------------------------------------------------

  /** The server as the store has it now, if it is still on the attempt `seen` was read on. */
  async #sameAttempt(seen: Server): Promise<Server | undefined> {
    const now = await this.#store.servers.getById(seen.id);
    return now !== undefined && now.attemptId === seen.attemptId ? now : undefined;
  }

  /** A transition for the attempt `seen` was read on only: the store checks the attempt in the same write. */
  async #transitionAttempt(
    seen: Server,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
  ): Promise<Server | undefined> {
    const attemptId = seen.attemptId ?? undefined;
    if (attemptId === undefined) {
      // Servers from before attempts were recorded: compare the state read with no attempt.
      const now = await this.#sameAttempt(seen);
      return now && from.includes(now.state) ? this.#transition(seen.id, [now.state], to, patch) : undefined;
    }
    const next = await this.#store.servers.transition(seen.id, from, to, patch, this.#clock.now(), attemptId);
    if (next) await this.#publish(seen.id);
    return next;
  }

  async #transition(
    id: number,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
  ): Promise<Server | undefined> {
    const next = await this.#store.servers.transition(id, from, to, patch, this.#clock.now());
    if (next) await this.#publish(id);
    return next;
  }

  async #event(server: Server, state: ServerState, progress: number, message: string): Promise<void> {
    await this.#store.servers.appendEvent({
      serverId: server.id,
      at: this.#clock.now(),
      state,
      progress,
      message: message.slice(0, 2000),
    });
    await this.#publish(server.id);
  }

  async #statusKnown(id: number): Promise<void> {
    if (this.#unknown.delete(id)) await this.#publish(id);
  }

  async #publish(id: number): Promise<void> {
    await this.#notifier.publish({ topic: "server", id });
  }
}
