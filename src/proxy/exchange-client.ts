import type { Socket } from "node:net";
import type { TargetContext } from "./target-context.js";
import type { UpstreamPool } from "./upstream-pool.js";

/** The client connection an exchange answers on. */
export interface ExchangeClient {
  readonly socket: Socket;
  /** `Connection` and `Keep-Alive` lines for a response after which the connection stays open. */
  readonly keepAliveLines: string;
  /** Stop reading the request body for now (the server is not taking it as fast). */
  pauseBody(): void;
  resumeBody(): void;
  /** The answer is complete; `keep`: the connection may carry another request. */
  exchangeDone(keep: boolean): void;
}

/** What every exchange shares: the pool, the rewriter and counters, the `Date` clock. */
export interface ExchangeShared {
  readonly pool: UpstreamPool;
  readonly context: TargetContext;
  date(): string;
}
