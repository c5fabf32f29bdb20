import { assertTransition, statesBefore, type ServerState } from "../domain/server-state.js";
import type { Server } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { Notifier } from "../ports/notifier.js";
import type { ServerPatch, Store } from "../ports/store.js";

/** The states of a launch that has not yet reached `running` (the domain's `isStarting`, by its table). */
export const LAUNCHING_STATES: readonly ServerState[] = statesBefore("running");
/** The states a stop or an ended job moves a server out of: a launch, or a running server. */
export const STOPPABLE_STATES: readonly ServerState[] = statesBefore("stopping");

/**
 * The written record of server lifecycles: compare-and-set transitions in the store (optionally
 * checked against the attempt they were decided on), progress events, and the notification that
 * tells pages and other replicas a server changed. The service, the launch driver and the monitor
 * write transitions through it, so each one that lands is announced once (invariants 1 and 7),
 * and each is checked against the domain's table of transitions before anything is written.
 */
export class ServerJournal {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #notifier: Notifier;

  constructor(deps: { store: Store; clock: Clock; notifier: Notifier }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#notifier = deps.notifier;
  }

  /** The server as the store has it now, if it is still on the attempt `seen` was read on. */
  async sameAttempt(seen: Server): Promise<Server | undefined> {
    const now = await this.#store.servers.getById(seen.id);
    return now !== undefined && now.attemptId === seen.attemptId ? now : undefined;
  }

  /** A transition for the attempt `seen` was read on only: the store checks the attempt in the same write. */
  async transitionAttempt(
    seen: Server,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
  ): Promise<Server | undefined> {
    assertTransition(from, to);
    const attemptId = seen.attemptId ?? undefined;
    if (attemptId === undefined) {
      // Servers from before attempts were recorded: compare the state read with no attempt.
      const now = await this.sameAttempt(seen);
      return now && from.includes(now.state) ? this.transition(seen.id, [now.state], to, patch) : undefined;
    }
    const next = await this.#store.servers.transition(seen.id, from, to, patch, this.#clock.now(), attemptId);
    if (next) await this.publish(seen.id);
    return next;
  }

  /**
   * Moves the server to `to` if it is in one of `from`, whatever its attempt; announces the change.
   * Throws (`internal`) before writing if the table forbids a move from any of `from` to `to`.
   */
  async transition(
    id: number,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
  ): Promise<Server | undefined> {
    assertTransition(from, to);
    const next = await this.#store.servers.transition(id, from, to, patch, this.#clock.now());
    if (next) await this.publish(id);
    return next;
  }

  /** Appends a progress event (what the spawn page shows) and announces it. */
  async event(server: Server, state: ServerState, progress: number, message: string): Promise<void> {
    await this.#store.servers.appendEvent({
      serverId: server.id,
      at: this.#clock.now(),
      state,
      progress,
      message: message.slice(0, 2000),
    });
    await this.publish(server.id);
  }

  /** Tells every replica (and this one's pages) that the server changed. */
  async publish(id: number): Promise<void> {
    await this.#notifier.publish({ topic: "server", id });
  }
}
