import type { ActivityMeter } from "./activity-meter.js";
import type { HeaderRewriter } from "./header-rewriter.js";
import type { ProxyMetrics } from "./proxy-metrics.js";
import type { ProxyRoute } from "./types.js";

/** What forwarding to a user's server (HTTP or websocket) shares with the gate. */
export interface TargetContext {
  readonly rewriter: HeaderRewriter;
  readonly activity: ActivityMeter;
  readonly metrics: ProxyMetrics;
  /** Logs the failure (without a stack when it is a known network error) and tells the hub. */
  reportTargetError(route: ProxyRoute, error: Error): void;
}
