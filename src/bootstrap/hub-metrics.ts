import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ServerState } from "../domain/server-state.js";
import type { ProxyMetrics } from "../proxy/proxy.js";

/** What a cluster's scheduler client and launcher report (the `SchedulerMetrics` of a target). */
export interface ClusterMetrics {
  call(command: string, outcome: string, seconds: number): void;
  queueWait(seconds: number): void;
}

/**
 * The hub's Prometheus metrics (`/hub/metrics`), and the sinks the parts report to, so that no
 * part knows prom-client. `activeServers` is read at every scrape.
 */
export class HubMetrics {
  readonly #registry = new Registry();
  readonly proxy: ProxyMetrics;
  readonly #schedulerCalls: Counter<"cluster" | "command" | "outcome">;
  readonly #schedulerLatency: Histogram<"cluster" | "command">;
  readonly #queueWaits: Histogram<"cluster">;
  readonly #credentialChecks: Counter<"outcome">;

  constructor(activeServers: () => Promise<readonly { readonly state: ServerState }[]>) {
    const registers = [this.#registry];
    collectDefaultMetrics({ register: this.#registry, prefix: "slipway_" });
    const proxyRequests = new Counter({
      name: "slipway_proxy_requests_total",
      help: "Requests proxied to user servers, by status class",
      labelNames: ["status"],
      registers,
    });
    const proxyUpgrades = new Counter({
      name: "slipway_proxy_websocket_upgrades_total",
      help: "Websocket upgrades through the proxy, by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.proxy = {
      request: (status) => proxyRequests.inc({ status }),
      upgrade: (outcome) => proxyUpgrades.inc({ outcome }),
    };
    this.#schedulerCalls = new Counter({
      name: "slipway_scheduler_calls_total",
      help: "Scheduler commands run by the hub, by cluster, command and outcome",
      labelNames: ["cluster", "command", "outcome"],
      registers,
    });
    this.#schedulerLatency = new Histogram({
      name: "slipway_scheduler_call_seconds",
      help: "How long scheduler commands took",
      labelNames: ["cluster", "command"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#queueWaits = new Histogram({
      name: "slipway_scheduler_queue_wait_seconds",
      help: "How long servers' jobs waited in the queue before they ran",
      labelNames: ["cluster"],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    const servers = new Gauge({
      name: "slipway_servers",
      help: "Servers by lifecycle state",
      labelNames: ["state"],
      registers,
      collect: async () => {
        servers.reset();
        for (const s of await activeServers()) servers.inc({ state: s.state });
      },
    });
    this.#credentialChecks = new Counter({
      name: "slipway_credential_checks_total",
      help: "Checks of the sessions and tokens behind open websockets, by outcome",
      labelNames: ["outcome"],
      registers,
    });
  }

  /** The sink of one cluster's scheduler commands and queue waits. */
  cluster(cluster: string): ClusterMetrics {
    return {
      call: (command, outcome, seconds) => {
        this.#schedulerCalls.inc({ cluster, command, outcome });
        this.#schedulerLatency.observe({ cluster, command }, seconds);
      },
      queueWait: (seconds) => this.#queueWaits.observe({ cluster }, seconds),
    };
  }

  /** Counts one check of the credential behind open websockets. */
  credentialChecked(outcome: "valid" | "ended" | "error"): void {
    this.#credentialChecks.inc({ outcome });
  }

  /** The exposition for `/hub/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}
