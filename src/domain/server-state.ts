import { SlipwayError } from "./errors.js";

/**
 * The durable lifecycle of a server. Every transition is written to the store before the
 * hub acts on it, so a hub killed at any instant can adopt or clean up what it launched.
 */
export const SERVER_STATES = [
  "requested",
  "submitting",
  "queued",
  "starting",
  "running",
  "stopping",
  "stopped",
  "failed",
] as const;

export type ServerState = (typeof SERVER_STATES)[number];

/**
 * Every move the hub makes, and no other; the services write each transition through a check
 * against this table (`assertTransition`). Why some moves skip a state:
 * - `requested`/`submitting` → `running`: a launcher may answer before it says where its launch
 *   is, and a launch found running after a restart is adopted from whichever launching state the
 *   store holds.
 * - any launching state → `stopped`/`failed`: a stop, a failed or timed-out launch, a job that
 *   ended on its own, a launch a restarted hub could not find.
 * - `stopping` → only `stopped`: a stop that fails stays `stopping` until the monitor finishes it.
 * - `stopped`/`failed` → only `requested`, with a new attempt id.
 */
const TRANSITIONS: Record<ServerState, readonly ServerState[]> = {
  requested: ["submitting", "running", "stopping", "stopped", "failed"],
  submitting: ["queued", "starting", "running", "stopping", "stopped", "failed"],
  queued: ["starting", "running", "stopping", "stopped", "failed"],
  starting: ["running", "stopping", "stopped", "failed"],
  running: ["stopping", "stopped", "failed"],
  stopping: ["stopped"],
  stopped: ["requested"],
  failed: ["requested"],
};

export function canTransition(from: ServerState, to: ServerState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states a server may move to `to` from, in lifecycle order. */
export function statesBefore(to: ServerState): readonly ServerState[] {
  return SERVER_STATES.filter((from) => canTransition(from, to));
}

/**
 * Throws unless a server in any of `from` may move to `to`. A compare-and-set names the states
 * it accepts before it knows which one the store holds, so each of them must be allowed: a
 * transition outside the table is a defect in the hub, refused before anything is written.
 */
export function assertTransition(from: readonly ServerState[], to: ServerState): void {
  const illegal = from.find((state) => !canTransition(state, to));
  if (illegal !== undefined) {
    throw new SlipwayError("internal", `A server cannot move from ${illegal} to ${to}.`, {
      transition: "illegal",
      from: illegal,
      to,
    });
  }
}

/** States in which a launcher may own a live process or job. */
export function isActive(state: ServerState): boolean {
  return state !== "stopped" && state !== "failed";
}

/** States in which the server is on its way up (JupyterHub's `pending: "spawn"`). */
export function isStarting(state: ServerState): boolean {
  return state === "requested" || state === "submitting" || state === "queued" || state === "starting";
}
