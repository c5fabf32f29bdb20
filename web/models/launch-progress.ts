import { isRecord, stringField } from "./is-record.js";

/** One event of a launch's progress stream (JupyterHub's shape; `progressEvent` in src/http/routes/api-servers.ts). */
export interface LaunchProgress {
  readonly progress: number | undefined;
  readonly message: string | undefined;
  readonly ready: boolean;
  readonly failed: boolean;
  /** Where the ready server lives. */
  readonly url: string | undefined;
}

/** The progress event in `value`, keeping only the fields of the right type; null for no object. */
export function launchProgressOf(value: unknown): LaunchProgress | null {
  if (!isRecord(value)) return null;
  const progress = value["progress"];
  return {
    progress: typeof progress === "number" ? progress : undefined,
    message: stringField(value, "message"),
    ready: value["ready"] === true,
    failed: value["failed"] === true,
    url: stringField(value, "url"),
  };
}
