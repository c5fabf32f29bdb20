import type { ProxyMetrics } from "./proxy-metrics.js";
import type { NotRunningHandler, ProxyAuthenticate, ProxyLog, ProxyRoute, ResolveMiss } from "./types.js";

/** What the hub gives the proxy: `src/main.ts` wires in the store, sessions, metrics and log. */
export interface ProxyOptions {
  readonly authenticate: ProxyAuthenticate;
  /** Asked once per route miss; a route it returns is cached in `routes`. */
  readonly resolveMiss: ResolveMiss;
  /** Origins whose pages may send cookie-authenticated writes and websockets, e.g. `http://127.0.0.1:8000`. */
  readonly allowedOrigins: readonly string[];
  /** The hub's cookie names, stripped before forwarding. */
  readonly hubCookieNames: readonly string[];
  /** The clock that stamps activity. */
  readonly now: () => Date;
  /** Keep the client's `X-Forwarded-*` headers: only behind a front proxy that overwrites them. */
  readonly trustForwarded?: boolean;
  /** A front door's identity headers (lower-case), dropped before a request reaches a server. */
  readonly identityHeaders?: readonly string[];
  /** Answers requests for servers without a route; defaults to `defaultNotRunning`. */
  readonly notRunning?: NotRunningHandler;
  /** Told when a routed server did not answer, so the hub can check whether it still runs. */
  readonly onTargetError?: (route: ProxyRoute, error: Error) => void;
  /**
   * Told when the connection the proxy keeps open to each routed server closed (its process may
   * have exited), so the hub can check at once rather than at its next poll.
   */
  readonly onTargetLost?: (route: ProxyRoute) => void;
  readonly metrics?: ProxyMetrics;
  readonly log?: ProxyLog;
  /** Where unauthenticated browsers are sent, with `?next=`. Default `/hub/login`. */
  readonly loginPath?: string;
  /** Pooled keep-alive connections per user's server. Default 256. */
  readonly maxSocketsPerTarget?: number;
}
