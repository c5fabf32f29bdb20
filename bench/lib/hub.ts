import { setTimeout as sleep } from "node:timers/promises";
import { http, json, waitFor200, type HttpAnswer } from "./http.js";
import type { ManagedProcess } from "./supervisor.js";

/** A hub under test, Slipway or JupyterHub, as the scenarios see it: a URL, an admin token, processes. */
export interface Hub {
  readonly kind: "slipway" | "jupyterhub";
  /** Public URL: the one port users reach (Slipway's front door; JupyterHub's proxy). */
  readonly url: string;
  /** An API token with admin rights. */
  readonly token: string;
  readonly process: ManagedProcess;
  /** The processes that make up the hub including its proxy (JupyterHub: hub and CHP). */
  hubPids(): { hub: number; proxy: number | undefined };
  /** Creates users `names`; whatever is fastest that still ends in the same database rows. */
  addUsers(names: readonly string[]): Promise<void>;
}

export function api(
  hub: Hub,
  method: string,
  path: string,
  body?: unknown,
  accept?: string,
): Promise<HttpAnswer> {
  return http(hub.url + path, {
    method,
    headers: { authorization: `token ${hub.token}`, ...(accept ? { accept } : {}) },
    body,
    timeoutMs: 120_000,
  });
}

/** Creates users through `POST /hub/api/users`, `batch` names per request. */
export async function addUsersThroughApi(hub: Hub, names: readonly string[], batch: number): Promise<void> {
  for (let i = 0; i < names.length; i += batch) {
    const res = await api(hub, "POST", "/hub/api/users", { usernames: names.slice(i, i + batch) });
    if (res.status !== 201)
      throw new Error(`creating users answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
}

export interface SpawnTiming {
  /** Seconds from the start request until the POST answered. */
  readonly postSeconds: number;
  /** Seconds from the start request until `/user/<name>/api/status` answered 200 through the hub's proxy. */
  readonly readySeconds: number;
  readonly status: number;
}

/**
 * Starts `user`'s default server and times it to the first 200 through the public URL. Both hubs
 * answer the POST only once the server is up (or after their slow-spawn wait, with 202), so the
 * polling starts when the POST answers and does not load the machine while the server starts.
 */
export async function spawnAndWait(
  hub: Hub,
  user: string,
  pollMs: number,
  timeoutMs: number,
): Promise<SpawnTiming> {
  const t0 = performance.now();
  const res = await api(hub, "POST", `/hub/api/users/${user}/server`);
  const posted = performance.now();
  if (res.status !== 201 && res.status !== 202) {
    throw new Error(`starting ${user}'s server answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  const ready = await waitFor200(`${hub.url}/user/${user}/api/status`, {
    headers: { authorization: `token ${hub.token}` },
    timeoutMs,
    intervalMs: pollMs,
  });
  return { postSeconds: (posted - t0) / 1000, readySeconds: (ready - t0) / 1000, status: res.status };
}

interface ServerSummary {
  readonly state?: Record<string, unknown>;
  /** Slipway lists stopped servers too, marked `stopped`; JupyterHub leaves them out. */
  readonly stopped: boolean;
}

interface UserModel {
  readonly servers: Record<string, ServerSummary>;
  readonly pending: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function userModel(hub: Hub, user: string): Promise<UserModel> {
  const res = await api(hub, "GET", `/hub/api/users/${user}`);
  if (res.status !== 200) throw new Error(`reading ${user} answered ${res.status}`);
  const body = json(res);
  if (!isRecord(body) || !isRecord(body["servers"])) throw new Error(`unexpected user model for ${user}`);
  const servers: Record<string, ServerSummary> = {};
  for (const [name, model] of Object.entries(body["servers"])) {
    const state = isRecord(model) ? model["state"] : undefined;
    const stopped = isRecord(model) && model["stopped"] === true;
    servers[name] = isRecord(state) ? { state, stopped } : { stopped };
  }
  const pending = body["pending"];
  return { servers, pending: typeof pending === "string" ? pending : null };
}

/** The pid of `user`'s default server as the hub recorded it (admins see the launcher state). */
export async function serverPid(hub: Hub, user: string): Promise<number | undefined> {
  const model = await userModel(hub, user);
  const pid = model.servers[""]?.state?.["pid"];
  return typeof pid === "number" ? pid : undefined;
}

/** Stops `user`'s default server and waits until the hub reports it gone. */
export async function stopAndWait(hub: Hub, user: string, timeoutMs: number): Promise<void> {
  const res = await api(hub, "DELETE", `/hub/api/users/${user}/server`);
  if (res.status !== 202 && res.status !== 204 && res.status !== 400) {
    throw new Error(`stopping ${user}'s server answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const model = await userModel(hub, user);
    const server = model.servers[""];
    if (model.pending === null && (server === undefined || server.stopped)) return;
    if (performance.now() > deadline) throw new Error(`${user}'s server did not stop within ${timeoutMs} ms`);
    await sleep(100);
  }
}
