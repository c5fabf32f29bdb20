import type { ExchangeClient, ExchangeShared } from "./exchange-client.js";
import { FastExchange } from "./fast-exchange.js";
import type { FastRequest } from "./request-head.js";
import type { TargetContext } from "./target-context.js";
import type { ProxyRoute } from "./types.js";
import { UpstreamPool } from "./upstream-pool.js";

export interface FastForwarderOptions {
  readonly context: TargetContext;
  /** Connections kept per user's server; further requests queue. */
  readonly maxSocketsPerTarget: number;
}

/** Forwards the front door's fast-path requests over its own pool of raw keep-alive connections. */
export class FastForwarder implements ExchangeShared {
  readonly pool: UpstreamPool;
  readonly context: TargetContext;
  private dateSecond = -1;
  private dateValue = "";

  constructor(options: FastForwarderOptions) {
    this.context = options.context;
    this.pool = new UpstreamPool(options.maxSocketsPerTarget, options.context.pins);
  }

  /** Sends `request`, which the gate let through to `route`, and answers `client` with the response. */
  start(client: ExchangeClient, request: FastRequest, route: ProxyRoute): FastExchange {
    return new FastExchange(this, client, request, route);
  }

  /** The `Date` header for responses without one, formatted once a second. */
  date(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateValue = new Date(now).toUTCString();
    }
    return this.dateValue;
  }

  /** Closes pooled connections; requests in flight lose their server and are cut off or answered 502. */
  close(): void {
    this.pool.close();
  }
}
