import { SlipwayError } from "../domain/errors.js";
import { serverPrefix } from "../domain/names.js";
import { isActive } from "../domain/server-state.js";
import type { JsonObject, Server } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { Clock } from "../ports/clock.js";
import type { Launcher, PollResult } from "../ports/launcher.js";
import type { Logger } from "../ports/logger.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { TargetProbe } from "../ports/target-probe.js";
import type { LaunchDriver } from "./launch-driver.js";
import type { RouteSink } from "../ports/route-sink.js";
import { STOPPABLE_STATES, LAUNCHING_STATES, type ServerJournal } from "./server-journal.js";

/** A poll's answer of one status. */
type Poll<S extends PollResult["status"]> = Extract<PollResult, { readonly status: S }>;

/** How long an adopted server gets to answer its readiness probe. */
const ADOPT_PROBE_TIMEOUT_MS = 2000;

/**
 * Watches the servers this process is not launching: polls their launchers, adopts what a
 * previous hub process launched, notices servers that ended, finishes interrupted stops, and
 * takes the port a batch job reports through its callback. It owns the periodic poll, the
 * servers whose status is unknown right now (unknown is not dead, invariant 2) and the spent
 * callback credentials.
 */
export class ServerMonitor {
  readonly #store: Store;
  readonly #journal: ServerJournal;
  readonly #driver: LaunchDriver;
  readonly #launchers: ReadonlyMap<string, Launcher>;
  readonly #clock: Clock;
  readonly #sealer: Sealer;
  readonly #routes: RouteSink;
  readonly #probe: TargetProbe;
  readonly #log: Logger;
  readonly #audit: AuditLog;
  readonly #policy: { readonly startTimeoutMs: number; readonly pollIntervalMs: number };
  readonly #unknown = new Map<number, string>();
  /** `<serverId>:<attemptId>` whose callback was used, so a credential works once. */
  readonly #callbacksUsed = new Set<string>();
  #pollTimer: { cancel(): void } | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  constructor(deps: {
    store: Store;
    journal: ServerJournal;
    driver: LaunchDriver;
    launchers: ReadonlyMap<string, Launcher>;
    clock: Clock;
    sealer: Sealer;
    routes: RouteSink;
    probe: TargetProbe;
    log: Logger;
    audit: AuditLog;
    policy: { readonly startTimeoutMs: number; readonly pollIntervalMs: number };
  }) {
    this.#store = deps.store;
    this.#journal = deps.journal;
    this.#driver = deps.driver;
    this.#launchers = deps.launchers;
    this.#clock = deps.clock;
    this.#sealer = deps.sealer;
    this.#routes = deps.routes;
    this.#probe = deps.probe;
    this.#log = deps.log;
    this.#audit = deps.audit;
    this.#policy = deps.policy;
  }

  /** The last scheduler or launcher doubt about a server, if its state could not be checked. */
  unknownReason(serverId: number): string | undefined {
    return this.#unknown.get(serverId);
  }

  /** Checks every active server once, except those this process is launching. */
  async reconcile(): Promise<void> {
    const active = await this.#store.servers.listActive();
    await Promise.all(
      active
        .filter((s) => !this.#driver.inFlight(s.id))
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
      // Nothing can poll or stop it any more: say so, and never leave it routed or half-stopped.
      const reason = `Target ${server.target} is no longer configured`;
      const ended =
        server.state === "stopping"
          ? await this.#journal.transition(server.id, ["stopping"], "stopped", {
              reason,
              endpoint: null,
              tokenSealed: null,
            })
          : await this.#journal.transition(server.id, STOPPABLE_STATES, "failed", {
              reason,
              endpoint: null,
              tokenSealed: null,
            });
      this.#routes.removeRoute(server.userName, server.name);
      if (ended) await this.#journal.event(ended, ended.state, 100, reason);
      return;
    }
    if (server.state === "stopping") {
      await this.#driver.finishStop(server, server.reason ?? "Stopped");
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
        const failed = await this.#journal.transitionAttempt(server, LAUNCHING_STATES, "failed", {
          reason: "The hub restarted while starting the server, and the server never came up; start it again",
        });
        if (failed) await this.#journal.event(failed, "failed", 100, failed.reason ?? "");
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
      case "unknown":
        return this.#pollUnknown(server, result);
      case "pending":
        return this.#pollPending(server, result);
      case "gone":
        return this.#pollGone(server, state, result);
      case "running":
        return this.#pollRunning(server, state, result);
    }
  }

  /** Unknown is not dead (invariant 2): keep the server and its route, say so, retry later. */
  async #pollUnknown(server: Server, result: Poll<"unknown">): Promise<void> {
    const wasKnown = !this.#unknown.has(server.id);
    this.#unknown.set(server.id, result.reason);
    // Pages show "status unknown" live (server events), so say when it starts and ends.
    if (wasKnown) await this.#journal.publish(server.id);
  }

  /** Still on its way up: what it waits for (a queue, a node) becomes its reason. */
  async #pollPending(server: Server, result: Poll<"pending">): Promise<void> {
    await this.#statusKnown(server.id);
    if (result.detail !== undefined && result.detail !== server.reason) {
      await this.#store.servers.update(server.id, { reason: result.detail.slice(0, 2000) });
      await this.#journal.publish(server.id);
    }
  }

  /** Positively gone: the polled attempt ends (cancelled first if asked), and loses its route. */
  async #pollGone(server: Server, state: JsonObject, result: Poll<"gone">): Promise<void> {
    await this.#statusKnown(server.id);
    if (!(await this.#journal.sameAttempt(server))) return;
    if (result.cancel) {
      const launcher = this.#launchers.get(server.target);
      // If the cancel fails, the job is still there: try again next time.
      if (launcher) await launcher.stop(server.userName, state);
    }
    const to = result.failed ? "failed" : "stopped";
    const ended = await this.#journal.transitionAttempt(server, STOPPABLE_STATES, to, {
      reason: result.reason,
      endpoint: null,
      tokenSealed: null,
    });
    // Only the polled attempt's route: a newer attempt may be running under this name.
    const now = ended ?? (await this.#journal.sameAttempt(server));
    if (now && now.state !== "running") this.#routes.removeRoute(server.userName, server.name);
    if (ended) {
      await this.#journal.event(ended, to, 100, result.reason);
      this.#log.info({ event: "server_ended", serverId: server.id, reason: result.reason }, "server ended");
      await this.#recordEnd(server, result);
      await this.#release(server, state);
    }
  }

  /** Nobody stopped it: the process exited or the job ended (its time limit, a failure, scancel). */
  async #recordEnd(server: Server, result: Poll<"gone">): Promise<void> {
    await this.#audit.record({
      kind: "server_stopped",
      actor: null,
      subject: server.userName,
      reason: result.failed ? "failed" : "ended",
      details: { server: server.name, target: server.target, message: result.reason.slice(0, 300) },
    });
  }

  /**
   * Running: what the launcher learnt is stored, an adopted launch becomes running once it
   * answers, and the route is set if the polled attempt still runs.
   */
  async #pollRunning(server: Server, state: JsonObject, result: Poll<"running">): Promise<void> {
    await this.#statusKnown(server.id);
    const target = result.target ?? server.endpoint ?? undefined;
    if (!target || !server.tokenSealed) return;
    if (result.state !== undefined && server.state === "running") {
      // What the launcher learnt while the server runs (a batch job's new end time): pages follow it.
      const updated = await this.#store.servers.update(
        server.id,
        { launcherState: result.state },
        server.attemptId ?? undefined,
      );
      if (updated) await this.#journal.publish(server.id);
    }
    const token = this.#sealer.open(server.tokenSealed);
    if (server.state !== "running") {
      // Adopting a launch that was interrupted: it must answer before it gets a route.
      const path = `${serverPrefix(server.userName, server.name)}api/status`;
      if ((await this.#probe(target, path, token, ADOPT_PROBE_TIMEOUT_MS)) !== 200) return;
      const running = await this.#journal.transitionAttempt(server, LAUNCHING_STATES, "running", {
        launcherState: result.state ?? state,
        endpoint: target,
        startedAt: this.#clock.now(),
      });
      if (!running) return;
      await this.#journal.event(running, "running", 100, "Server ready");
    }
    // Read again right before routing, with no await in between: a stop that began during
    // the poll removed the route after it marked the server stopping, and a route set from
    // the older read would outlive that removal (and, after a restart, shadow the new port).
    const current = await this.#journal.sameAttempt(server);
    if (current?.state !== "running") return;
    this.#routes.setRoute({
      serverId: server.id,
      owner: server.userName,
      serverName: server.name,
      target,
      token,
    });
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
    // The launch in flight here waits for the port; otherwise (a launch adopted after a restart,
    // or one running on another replica) a poll now finds the server.
    if (!this.#driver.deliverPort(server.id, port)) this.recheck(server.id);
  }

  /** Starts the periodic poll; each round starts an interval after the previous one ended. */
  start(): void {
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

  /** Re-checks one server now, unless this process is launching it. */
  recheck(serverId: number): void {
    if (this.#driver.inFlight(serverId)) return;
    this.#store.servers
      .getById(serverId)
      .then((s) => (s && isActive(s.state) ? this.#reconcileOne(s) : undefined))
      .catch((err: unknown) => this.#log.warn({ err, serverId }, "re-check failed"));
  }

  /** Stops the periodic poll and waits for a round under way to end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pollTimer?.cancel();
    await this.#polling;
  }

  /** Best effort: a release that fails leaves files the next start of the server replaces. */
  async #release(server: Server, state: JsonObject): Promise<void> {
    const launcher = this.#launchers.get(server.target);
    try {
      await launcher?.release?.(server.userName, state);
    } catch (err) {
      this.#log.warn({ err, serverId: server.id }, "could not remove what the ended server left");
    }
  }

  async #statusKnown(id: number): Promise<void> {
    if (this.#unknown.delete(id)) await this.#journal.publish(id);
  }
}
