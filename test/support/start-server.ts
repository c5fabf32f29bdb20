import { tokenFetch } from "./token-fetch.js";

export interface StartedServer {
  /** The status the start request answered: 201 (ready within the API's wait) or 202 (pending). */
  readonly status: number;
  /** The server model in that answer. */
  readonly model: unknown;
}

function serverPath(user: string, server: string): string {
  return server === "" ? `/hub/api/users/${user}/server` : `/hub/api/users/${user}/servers/${server}`;
}

/**
 * Starts a server through the REST API and returns once it is ready. A start still pending when
 * the API answers (202, e.g. on a loaded machine) is followed through its progress stream, which
 * ends with the ready or failed event: no polling, no fixed wait.
 */
export async function startServer(
  base: string,
  token: string,
  user: string,
  server = "",
  options?: unknown,
): Promise<StartedServer> {
  const path = serverPath(user, server);
  const res = await tokenFetch(base, token, "POST", path, options);
  const text = await res.text();
  if (res.status !== 201 && res.status !== 202)
    throw new Error(`starting ${path} answered ${res.status}: ${text}`);
  if (res.status === 202) {
    const progress = await tokenFetch(base, token, "GET", `${path}/progress`);
    const events = await progress.text();
    if (!events.includes('"ready":true')) throw new Error(`${path} did not become ready:\n${events}`);
  }
  return { status: res.status, model: JSON.parse(text) };
}
