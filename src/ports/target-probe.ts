import type { ServerTarget } from "../domain/types.js";

/**
 * The HTTP status of `GET <path>` sent to a server's target with its Jupyter token, or undefined
 * when no answer came (refused, reset, timed out, or a TLS peer without the launch's key).
 */
export type TargetProbe = (
  target: ServerTarget,
  path: string,
  token: string,
  timeoutMs: number,
) => Promise<number | undefined>;
