import { describeTarget } from "../domain/types.js";
import { networkErrorCode } from "./known-network-error.js";
import type { ProxyLog, ProxyRoute } from "./types.js";

export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Logs that a user's server did not answer, or answered something the proxy could not relay (a
 * known network error as a warning without a stack), and tells the hub's hook, whose own failure
 * is logged and goes no further.
 */
export function reportTargetError(
  log: ProxyLog,
  hook: ((route: ProxyRoute, error: Error) => void) | undefined,
  route: ProxyRoute,
  error: Error,
): void {
  const fields = {
    serverId: route.serverId,
    owner: route.owner,
    serverName: route.serverName,
    target: describeTarget(route.target),
  };
  const code = networkErrorCode(error);
  if (code !== undefined) log.warn({ ...fields, code }, "user's server did not answer");
  else log.error({ ...fields, err: error }, "proxying to a user's server failed");
  if (hook === undefined) return;
  try {
    hook(route, error);
  } catch (hookError) {
    log.error({ err: asError(hookError) }, "onTargetError failed");
  }
}
