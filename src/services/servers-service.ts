import { randomUUID } from "node:crypto";
import { SlipwayError } from "../domain/errors.js";
import { assertServerName } from "../domain/names.js";
import { isActive, isStarting } from "../domain/server-state.js";
import type { JsonObject, Server, ServerEvent, User } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { Clock } from "../ports/clock.js";
import type { Launcher } from "../ports/launcher.js";
import type { Logger } from "../ports/logger.js";
import type { Notifier } from "../ports/notifier.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { actedEntry, unaudited, type ActedBy } from "./acted-by.js";
import type { Randomness } from "./identity-service.js";
import { LaunchDriver } from "./launch-driver.js";
import type { RouteSink } from "../ports/route-sink.js";
import { ServerJournal, STOPPABLE_STATES } from "./server-journal.js";
import { ServerMonitor } from "./server-monitor.js";
import type { SpawnOptions } from "./spawn-options.js";

export type { RouteSink } from "../ports/route-sink.js";

/** Why a server stopped, as the audit trail records it (`reason` of a `server_stopped` event). */
export type StopCode = "stopped_by_user" | "stopped_by_admin" | "account_disabled" | "account_deleted";

export interface ServersPolicy {
  readonly namedServerLimit: number;
  readonly startTimeoutMs: number;
  readonly pollIntervalMs: number;
}

/**
 * The durable server lifecycle. Every state change is a compare-and-set in the store, written
 * before the hub acts on it, so a hub killed at any instant finds on restart what it was doing
 * and adopts or cleans it up (ARCHITECTURE.md, invariant 1).
 *
 * This is the public face: queries, and the commands that validate a request and write its
 * first transition. The work behind them lives in three parts it builds and wires together:
 * `ServerJournal` (transitions, events, notifications), `LaunchDriver` (launches and stops
 * this process runs) and `ServerMonitor` (polling, adoption after a restart, job callbacks).
 */
export class ServersService {
  readonly #store: Store;
  readonly #launchers: ReadonlyMap<string, Launcher>;
  readonly #options: SpawnOptions;
  readonly #clock: Clock;
  readonly #sealer: Sealer;
  readonly #random: Randomness;
  readonly #notifier: Notifier;
  readonly #log: Logger;
  readonly #audit: AuditLog;
  readonly #policy: ServersPolicy;
  readonly #journal: ServerJournal;
  readonly #driver: LaunchDriver;
  readonly #monitor: ServerMonitor;

  constructor(deps: {
    store: Store;
    launchers: ReadonlyMap<string, Launcher>;
    options: SpawnOptions;
    clock: Clock;
    sealer: Sealer;
    random: Randomness;
    notifier: Notifier;
    routes: RouteSink;
    /** Whether an adopted server answers before it gets a route. */
    probe: TargetProbe;
    log: Logger;
    /** Where starts and stops are recorded (none when left out). */
    audit?: AuditLog;
    policy: ServersPolicy;
  }) {
    this.#store = deps.store;
    this.#launchers = deps.launchers;
    this.#options = deps.options;
    this.#clock = deps.clock;
    this.#sealer = deps.sealer;
    this.#random = deps.random;
    this.#notifier = deps.notifier;
    this.#log = deps.log;
    this.#audit = deps.audit ?? unaudited;
    this.#policy = deps.policy;
    this.#journal = new ServerJournal(deps);
    this.#driver = new LaunchDriver({ ...deps, journal: this.#journal });
    this.#monitor = new ServerMonitor({
      ...deps,
      audit: this.#audit,
      journal: this.#journal,
      driver: this.#driver,
    });
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
    return this.#monitor.unknownReason(serverId);
  }

  events(serverId: number, afterSeq: number): Promise<ServerEvent[]> {
    return this.#store.servers.listEvents(serverId, afterSeq);
  }

  /** The route of a running server, for the proxy's cache misses. */
  async routeFor(owner: User, serverName: string) {
    const server = await this.#store.servers.get(owner.id, serverName);
    if (!server || server.state !== "running" || !server.endpoint || !server.tokenSealed) {
      return undefined;
    }
    return {
      serverId: server.id,
      owner: owner.name,
      serverName: server.name,
      target: server.endpoint,
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
      const created = await this.#store.servers.create({
        userId: user.id,
        name,
        displayName: (displayName ?? name).slice(0, 80),
        target,
      });
      await this.#journal.publish(created.id);
      return created;
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
    await this.#journal.publish(server.id);
    return updated ?? server;
  }

  /**
   * Starts a server. Validation happens before anything is written, so a refused request leaves
   * nothing behind. Resolves once the launch is under way (or already running). `by` is who
   * asked (the owner unless said otherwise), for the audit trail.
   */
  async start(
    user: User,
    name: string,
    rawOptions: unknown,
    by: ActedBy = { actor: user.name },
  ): Promise<Server> {
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
    const requested = await this.#journal.transition(server.id, ["stopped", "failed"], "requested", {
      userOptions: launch.userOptions,
      target: launch.target,
      attemptId,
      tokenSealed: this.#sealer.seal(token),
      launcherState: {},
      endpoint: null,
      reason: null,
      startedAt: null,
    });
    if (!requested) {
      const now = await this.get(user, name);
      if (now.state === "stopping") throw new SlipwayError("server_busy");
      return now;
    }
    await this.#journal.event(requested, "requested", 0, "Server requested");
    this.#log.info(
      { event: "server_requested", user: user.name, server: name, attemptId, target: launch.target },
      "server requested",
    );
    await this.#audit.record(
      actedEntry(by, {
        kind: "server_started",
        subject: user.name,
        details: { server: name, target: launch.target, attemptId },
      }),
    );
    this.#driver.run(requested, launcher, token);
    return requested;
  }

  /** Stops a server; `by` is who asked (the owner unless said otherwise), and says the reason. */
  async stop(user: User, name: string, reason?: string, by: ActedBy = { actor: user.name }): Promise<Server> {
    const server = await this.get(user, name);
    const byOwner = by.actor === user.name;
    const why = reason ?? (byOwner ? "Stopped by the user" : "Stopped by an admin");
    const stopped = await this.#driver.stop(server, why);
    await this.#recordStop(server, by, byOwner ? "stopped_by_user" : "stopped_by_admin");
    return stopped;
  }

  /** Stops every active server of `user` (an admin disabled or deleted the account). */
  async stopAllFor(user: User, reason: string, by: ActedBy, code: StopCode): Promise<void> {
    for (const server of await this.#store.servers.listForUser(user.id)) {
      if (!isActive(server.state)) continue;
      await this.#driver.stop(server, reason);
      await this.#recordStop(server, by, code);
    }
  }

  async remove(user: User, name: string, by: ActedBy = { actor: user.name }): Promise<void> {
    const server = await this.get(user, name);
    if (isActive(server.state)) {
      await this.#driver.stop(server, "Deleted by the user");
      const code = by.actor === user.name ? "stopped_by_user" : "stopped_by_admin";
      await this.#recordStop(server, by, code, { removed: true });
    }
    await this.#store.servers.delete(server.id);
    await this.#journal.publish(server.id);
  }

  /** A stop of a server that was starting or running; one already stopping was recorded when it began. */
  async #recordStop(server: Server, by: ActedBy, code: StopCode, extra: JsonObject = {}): Promise<void> {
    if (!STOPPABLE_STATES.includes(server.state)) return;
    await this.#audit.record(
      actedEntry(by, {
        kind: "server_stopped",
        subject: server.userName,
        reason: code,
        details: { server: server.name, target: server.target, ...extra },
      }),
    );
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

  /** The last lines of a server's log (a batch job's output), for its owner. */
  async logTail(user: User, name: string, lines: number): Promise<string> {
    const server = await this.get(user, name);
    const launcher = this.#launchers.get(server.target);
    if (!launcher || Object.keys(server.launcherState).length === 0) return "";
    return launcher.logTail(server.userName, server.launcherState, lines);
  }

  // --- monitoring and adoption (ServerMonitor) -----------------------------------------------

  /**
   * Checks every active server once: adopts what a previous hub process launched, notices
   * servers that ended, and finishes interrupted stops. Run at start-up before the hub reports
   * ready, then every poll interval.
   */
  reconcile(): Promise<void> {
    return this.#monitor.reconcile();
  }

  /** Starts the periodic monitor (after one reconcile has run). */
  startMonitor(): void {
    this.#monitor.start();
  }

  /** Re-checks one server now (the proxy saw its target refuse a connection). */
  recheck(serverId: number): void {
    this.#monitor.recheck(serverId);
  }

  /** A batch job's callback with its port and one-time credential (see `ServerMonitor`). */
  reportJobPort(serverId: number, credential: string, port: number): Promise<void> {
    return this.#monitor.reportJobPort(serverId, credential, port);
  }

  /** Stops the monitor, then aborts the launches in flight and waits for them to clean up. */
  async close(): Promise<void> {
    await this.#monitor.close();
    await this.#driver.close();
  }
}
