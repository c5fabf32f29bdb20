import { stringField } from "../models/is-record.js";

/** The hub's REST API as the signed-in page calls it: same-origin, with the session's XSRF token. */
export interface HubApi {
  call(method: string, path: string, body?: unknown): Promise<Response>;
}

export function hubApi(xsrf: string): HubApi {
  return {
    call(method, path, body) {
      const headers: Record<string, string> = { "X-XSRF-Token": xsrf, Accept: "application/json" };
      const init: RequestInit = { method, headers, credentials: "same-origin" };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(path, init);
    },
  };
}

/** A string field of a JSON reply; undefined when the body is no JSON object or lacks the field. */
export async function replyField(res: Response, key: string): Promise<string | undefined> {
  try {
    return stringField(await res.json(), key);
  } catch {
    return undefined;
  }
}

/** What to tell the user about a refused call: the hub's message, or the status without one. */
export async function errorText(res: Response): Promise<string> {
  return (await replyField(res, "message")) ?? `HTTP ${res.status}`;
}
