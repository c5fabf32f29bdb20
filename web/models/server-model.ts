import { isRecord } from "./is-record.js";

/**
 * The part of the hub's server model (`serverModel` in src/http/presenters.ts, sent by the REST
 * API and the user's event stream) that the pages read; the JupyterHub fields beside it are not
 * used here and so not checked.
 */
export interface ServerModel {
  readonly name: string;
  readonly url: string;
  readonly slipway: {
    readonly state: string;
    readonly reason: string | null;
    readonly target: string;
    readonly status_unknown: string | null;
    /** When the scheduler ends the running server (its job's time limit); null when none. */
    readonly ends_at?: string | null;
  };
}

export function isServerModel(value: unknown): value is ServerModel {
  if (!isRecord(value) || typeof value["name"] !== "string" || typeof value["url"] !== "string") return false;
  const s = value["slipway"];
  return (
    isRecord(s) &&
    typeof s["state"] === "string" &&
    typeof s["target"] === "string" &&
    (s["reason"] === null || typeof s["reason"] === "string") &&
    (s["status_unknown"] === null || typeof s["status_unknown"] === "string") &&
    (s["ends_at"] === undefined || s["ends_at"] === null || typeof s["ends_at"] === "string")
  );
}
