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

const TRANSITIONS: Record<ServerState, readonly ServerState[]> = {
  requested: ["submitting", "stopping", "stopped", "failed"],
  submitting: ["queued", "starting", "stopping", "stopped", "failed"],
  queued: ["starting", "running", "stopping", "stopped", "failed"],
  starting: ["running", "stopping", "stopped", "failed"],
  running: ["stopping", "stopped", "failed"],
  stopping: ["stopped", "failed"],
  stopped: ["requested"],
  failed: ["requested"],
};

export function canTransition(from: ServerState, to: ServerState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States in which a launcher may own a live process or job. */
export function isActive(state: ServerState): boolean {
  return state !== "stopped" && state !== "failed";
}

/** States in which the server is on its way up (JupyterHub's `pending: "spawn"`). */
export function isStarting(state: ServerState): boolean {
  return state === "requested" || state === "submitting" || state === "queued" || state === "starting";
}
