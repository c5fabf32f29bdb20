import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ServerState } from "../domain/server-state.js";
import type { JsonObject, Server, ServerTarget, User } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { LaunchContext, LaunchResult, LaunchSpec, Launcher, PollResult } from "../ports/launcher.js";
import type { Logger } from "../ports/logger.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { TargetProbe } from "../ports/target-probe.js";
import { InProcessNotifier } from "../store/in-process-notifier.js";
import { openStore } from "../store/open-store.js";
import type { RouteSink } from "../ports/route-sink.js";
import { AuditService } from "./audit-service.js";
import { ServersService, type ServersPolicy } from "./servers-service.js";
import { SpawnOptions } from "./spawn-options.js";

/** When every test's hub starts; whole seconds, so that reasons and ages read plainly. */
export const T0 = new Date(Date.UTC(2026, 0, 5, 9, 0, 0));

export const POLICY: ServersPolicy = { namedServerLimit: 3, startTimeoutMs: 30_000, pollIntervalMs: 60_000 };

/** A clock that stands still until the test moves it; its timers run only as it moves past them. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers: { readonly at: number; readonly seq: number; readonly fn: () => void }[] = [];

  constructor(start: Date) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.#now + ms, seq: this.#seq++, fn };
    this.#timers.push(timer);
    return {
      cancel: () => {
        const i = this.#timers.indexOf(timer);
        if (i >= 0) this.#timers.splice(i, 1);
      },
    };
  }

  /** Moves time on by `ms`, running each timer that falls due on the way, earliest (then oldest) first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.#now = due.at;
      due.fn();
    }
    this.#now = end;
  }
}

/** One call of a scripted method, for the test to answer. */
export interface Call<A, R> {
  readonly args: A;
  resolve(value: R): void;
  reject(error: Error): void;
}

/**
 * The calls of one launcher method. Each waits for the test to answer it (`next()`), unless an
 * automatic answer is set, in which case it is answered at once.
 */
export class Calls<A, R> {
  /** The arguments of every call, in order, however it was answered. */
  readonly made: A[] = [];
  #auto: ((args: A) => R) | undefined;
  readonly #unanswered: Call<A, R>[] = [];
  readonly #takers: ((call: Call<A, R>) => void)[] = [];

  constructor(auto?: (args: A) => R) {
    this.#auto = auto;
  }

  /** Answers every later call at once with `answer` (which may throw, to fail the call). */
  answerWith(answer: (args: A) => R): void {
    this.#auto = answer;
  }

  /** Leaves every later call for the test to answer through `next()`. */
  hold(): void {
    this.#auto = undefined;
  }

  /** The next call not yet taken, as soon as it is made. */
  next(): Promise<Call<A, R>> {
    const call = this.#unanswered.shift();
    if (call) return Promise.resolve(call);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  call(args: A): Promise<R> {
    this.made.push(args);
    const auto = this.#auto;
    if (auto) return Promise.resolve().then(() => auto(args));
    return new Promise<R>((resolve, reject) => {
      const call = { args, resolve, reject };
      const taker = this.#takers.shift();
      if (taker) taker(call);
      else this.#unanswered.push(call);
    });
  }
}

export interface StartArgs {
  readonly spec: LaunchSpec;
  readonly ctx: LaunchContext;
}

export interface StateArgs {
  readonly userName: string;
  readonly state: JsonObject;
}

export interface RecoverArgs {
  readonly userName: string;
  readonly attemptId: string;
  readonly serverId: number;
}

/** Where the server of launch number `n` listens. */
export function socket(n: number): ServerTarget {
  return { kind: "unix", socket: `/run/slipway-test/${n}.sock` };
}

/** The one-time callback credential the scripted launcher gives an attempt. */
export function callbackCredential(attemptId: string): string {
  return `callback-${attemptId}`;
}

/**
 * A launcher whose every answer the test gives. `start` and `poll` wait for the test; `recover`
 * finds nothing, and `stop`, `release` and `logTail` succeed, unless the test scripts otherwise.
 * Like a real launcher, a start rejects as soon as its launch is aborted.
 */
export class ScriptedLauncher implements Launcher {
  readonly kind = "scripted";
  readonly starts = new Calls<StartArgs, LaunchResult>();
  readonly polls = new Calls<StateArgs, PollResult>();
  readonly recovers = new Calls<RecoverArgs, JsonObject | undefined>(() => undefined);
  readonly stops = new Calls<StateArgs, void>(() => undefined);
  readonly releases = new Calls<StateArgs, void>(() => undefined);
  readonly logTails = new Calls<StateArgs, string>(({ state }) => `log of ${JSON.stringify(state)}`);

  /** The states of the processes and jobs it was asked to stop, in order. */
  get stopped(): JsonObject[] {
    return this.stops.made.map((s) => s.state);
  }

  /** The states of the ended servers whose leftovers it was asked to remove, in order. */
  get released(): JsonObject[] {
    return this.releases.made.map((s) => s.state);
  }

  start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
    return new Promise((resolve, reject) => {
      ctx.signal.addEventListener("abort", () => reject(new Error("the launch was aborted")), { once: true });
      this.starts.call({ spec, ctx }).then(resolve, reject);
    });
  }

  poll(userName: string, state: JsonObject): Promise<PollResult> {
    return this.polls.call({ userName, state });
  }

  recover(userName: string, attemptId: string, serverId: number): Promise<JsonObject | undefined> {
    return this.recovers.call({ userName, attemptId, serverId });
  }

  stop(userName: string, state: JsonObject): Promise<void> {
    return this.stops.call({ userName, state });
  }

  release(userName: string, state: JsonObject): Promise<void> {
    return this.releases.call({ userName, state });
  }

  logTail(userName: string, state: JsonObject): Promise<string> {
    return this.logTails.call({ userName, state });
  }

  verifyCallback(_serverId: number, attemptId: string, credential: string): boolean {
    return credential === callbackCredential(attemptId);
  }
}

/** The route table as the proxy keeps it (one target per server, last write wins), and its removals. */
export class RecordingRoutes implements RouteSink {
  readonly table = new Map<string, { readonly serverId: number; readonly target: ServerTarget }>();
  readonly removed: string[] = [];
  readonly #waiting = new Map<string, (target: ServerTarget) => void>();

  setRoute(route: { serverId: number; owner: string; serverName: string; target: ServerTarget }): void {
    const key = `${route.owner}/${route.serverName}`;
    this.table.set(key, { serverId: route.serverId, target: route.target });
    this.#waiting.get(key)?.(route.target);
    this.#waiting.delete(key);
  }

  /** The target of the next route set for the server, when it is set. */
  nextRoute(owner: string, serverName: string): Promise<ServerTarget> {
    return new Promise((resolve) => this.#waiting.set(`${owner}/${serverName}`, resolve));
  }

  removeRoute(owner: string, serverName: string): void {
    this.removed.push(`${owner}/${serverName}`);
    this.table.delete(`${owner}/${serverName}`);
  }

  targetOf(owner: string, serverName: string): ServerTarget | undefined {
    return this.table.get(`${owner}/${serverName}`)?.target;
  }
}

/** Keeps what the services log, so that a test can say nothing went wrong unnoticed. */
class RecordingLogger implements Logger {
  readonly errors: object[] = [];
  info(): void {}
  warn(): void {}
  debug(): void {}
  error(obj: object): void {
    this.errors.push(obj);
  }
  child(): Logger {
    return this;
  }
}

/** The hub's sealer lives in src/auth; this one keeps the token readable for the assertions. */
const sealer: Sealer = {
  seal: (plain) => `sealed:${plain}`,
  open: (sealed) => sealed.slice("sealed:".length),
};

/** One hub process: its service and everything it was built with. */
export interface Hub {
  readonly service: ServersService;
  readonly clock: ManualClock;
  readonly launcher: ScriptedLauncher;
  readonly routes: RecordingRoutes;
  /** The readiness probe's answer (an HTTP status, or undefined for none), and what it was asked. */
  readonly probe: { status: number | undefined; readonly asked: ServerTarget[] };
}

/**
 * Alice and her servers on an in-memory SQLite store, with hubs over it that the test drives:
 * every launcher answer and every tick of the clock come from the test.
 */
export class ServersWorld {
  readonly store: Store;
  readonly alice: User;
  readonly notifier = new InProcessNotifier();
  readonly #hubs: Hub[] = [];
  readonly #log = new RecordingLogger();
  #tokens = 0;

  private constructor(store: Store, alice: User) {
    this.store = store;
    this.alice = alice;
  }

  static async open(): Promise<ServersWorld> {
    const store = await openStore("sqlite::memory:");
    await store.migrate();
    const alice = await store.users.create({ name: "alice", admin: false });
    return new ServersWorld(store, alice);
  }

  /** A world with one hub open on it, as most tests start. */
  static async withHub(): Promise<{ world: ServersWorld; hub: Hub }> {
    const world = await ServersWorld.open();
    return { world, hub: world.openHub() };
  }

  /**
   * A hub process on this store, its clock at `start`. To play a hub killed and started again,
   * open a second one: the first is left exactly where it was (its clock never moves again, and
   * its launcher never answers), as a dead process would be.
   */
  openHub(start: Date = T0): Hub {
    const clock = new ManualClock(start);
    const launcher = new ScriptedLauncher();
    const routes = new RecordingRoutes();
    const probe: Hub["probe"] = { status: 200, asked: [] };
    const targetProbe: TargetProbe = async (target) => {
      probe.asked.push(target);
      return probe.status;
    };
    const service = new ServersService({
      store: this.store,
      launchers: new Map([["here", launcher]]),
      options: new SpawnOptions(
        [{ name: "here", type: "local", displayName: "Here", description: "" }],
        "here",
      ),
      clock,
      sealer,
      random: {
        token: () => `jupyter-token-${++this.#tokens}`,
        sha256: (value) => createHash("sha256").update(value).digest("hex"),
      },
      notifier: this.notifier,
      routes,
      probe: targetProbe,
      log: this.#log,
      // The trail lands in this world's store, where tests read it.
      audit: new AuditService({ store: this.store, clock, log: this.#log }),
      policy: POLICY,
    });
    const hub = { service, clock, launcher, routes, probe };
    this.#hubs.push(hub);
    return hub;
  }

  /** Alice's server `name` as the store has it now. */
  async server(name = ""): Promise<Server> {
    const server = await this.store.servers.get(this.alice.id, name);
    assert.ok(server, `alice has a server called "${name}"`);
    return server;
  }

  /** Resolves with server `id` once `test` holds of it (checked now and on each of its notifications). */
  #until(id: number, test: (server: Server) => boolean | Promise<boolean>): Promise<Server> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        this.store.servers.getById(id).then(async (s) => {
          if (done || !s || !(await test(s))) return;
          done = true;
          unsubscribe();
          resolve(s);
        }, reject);
      };
      const unsubscribe = this.notifier.subscribe((note) => {
        if (note.topic === "server" && note.id === id) check();
      });
      check();
    });
  }

  /**
   * Resolves with server `id` once an event in `state` is written after event `afterSeq`: the
   * last step of a launch, a stop or an ended server, taken after its route was set or removed.
   */
  untilEvent(id: number, state: ServerState, afterSeq = 0): Promise<Server> {
    return this.#until(id, async () =>
      (await this.store.servers.listEvents(id, afterSeq)).some((e) => e.state === state),
    );
  }

  /** The sequence number of the server's last event (0 for none). */
  async lastSeq(id: number): Promise<number> {
    return (await this.store.servers.listEvents(id, 0)).at(-1)?.seq ?? 0;
  }

  /** Resolves at the next notification that server `id` changed. */
  notified(id: number): Promise<void> {
    return new Promise((resolve) => {
      const unsubscribe = this.notifier.subscribe((note) => {
        if (note.topic !== "server" || note.id !== id) return;
        unsubscribe();
        resolve();
      });
    });
  }

  /** Closes every hub and the store; fails if a launch crashed (the services log that as an error). */
  async close(): Promise<void> {
    for (const hub of this.#hubs) await hub.service.close();
    await this.store.close();
    assert.deepEqual(this.#log.errors, [], "no launch crashed");
  }
}

/** Starts alice's server `name` on `hub`; returns it (requested) and the launcher's start call, unanswered. */
export async function beginStart(
  hub: Hub,
  user: User,
  name = "",
): Promise<{ server: Server; start: Call<StartArgs, LaunchResult> }> {
  const server = await hub.service.start(user, name, {});
  return { server, start: await hub.launcher.starts.next() };
}

/**
 * Starts alice's server `name` and brings it up as launch number `n` (state persisted, process
 * running, server answering), and waits for the launch to end: its route set and its last event written.
 */
export async function bringUp(world: ServersWorld, hub: Hub, n: number, name = ""): Promise<Server> {
  const { server, start } = await beginStart(hub, world.alice, name);
  const seq = await world.lastSeq(server.id);
  const state = { pid: n };
  await start.args.ctx.persist(state);
  await start.args.ctx.phase?.("starting", "The server process runs");
  start.resolve({ state, target: socket(n) });
  return world.untilEvent(server.id, "running", seq);
}
