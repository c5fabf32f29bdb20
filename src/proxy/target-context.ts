import type { ActivityMeter } from "./activity-meter.js";
import type { HeaderRewriter } from "./header-rewriter.js";
import type { ProxyMetrics } from "./proxy-metrics.js";
import type { TargetPins } from "./target-connection.js";
import type { ProxyRoute } from "./types.js";

/** What forwarding to a user's server (HTTP or websocket) shares with the gate. */
export interface TargetContext {
  readonly rewriter: HeaderRewriter;
  readonly activity: ActivityMeter;
  readonly metrics: ProxyMetrics;
  /** How every connection to a server is made (invariant 9). */
  readonly pins: TargetPins;
  /** Logs the failure (without a stack when it is a known network error) and tells the hub. */
  reportTargetError(route: ProxyRoute, error: Error): void;
}

/**
 * Bytes queued on one side of a relay before the other side stops reading. Well above a socket's
 * 16 KiB mark, which a single 64 KiB read already passes: pausing at it would stop and start
 * reading on every read.
 */
export const RELAY_HIGH_WATER = 512 * 1024;
