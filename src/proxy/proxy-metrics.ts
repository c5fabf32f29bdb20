export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx";

/** `closed` follows every `opened`, so opened minus closed is the number of open websockets. */
export type UpgradeOutcome = "opened" | "refused" | "failed" | "closed";

/** Where the proxy counts what it does; the hub backs it with prom-client. */
export interface ProxyMetrics {
  /** One HTTP request under `/user/` was answered, by the user's server or by the gate. */
  request(statusClass: StatusClass): void;
  /** A websocket was piped to its server, refused by the gate, failed at the server, or closed after opening. */
  upgrade(outcome: UpgradeOutcome): void;
}

/** Counts nothing, so the proxy never has to ask whether metrics are on. */
export const nullProxyMetrics: ProxyMetrics = Object.freeze({
  request(): void {},
  upgrade(): void {},
});

const CLASSES: readonly StatusClass[] = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

export function statusClass(status: number): StatusClass {
  return CLASSES[Math.trunc(status / 100)] ?? "5xx";
}
