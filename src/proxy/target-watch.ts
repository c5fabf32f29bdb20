import type { Socket } from "node:net";
import { sameTarget } from "../domain/types.js";
import type { TargetPins } from "./target-connection.js";
import type { ProxyRoute } from "./types.js";

/** After a watch connection was lost while the server still runs: try again soon, then less often. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
/** A connection that lasted this long was a healthy one: the next loss retries soon again. */
const HEALTHY_MS = 60_000;

interface Watched {
  route: ProxyRoute;
  socket: Socket | undefined;
  timer: NodeJS.Timeout | undefined;
  openedAt: number;
  retryMs: number;
}

export interface TargetWatchOptions {
  readonly pins: TargetPins;
  /** The server's side of the connection closed: its process may have exited. */
  readonly onLost: (route: ProxyRoute) => void;
  readonly now?: () => number;
  /** Delays before connecting again to a server that still runs. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
}

/**
 * Holds one idle connection to each routed server. The kernel closes it the moment the server's
 * process ends, however it ends (Jupyter's Quit, a crash, the OOM killer), so the hub hears of
 * the exit at once and can take the route away, instead of at its next poll. A server that
 * closes an idle connection but still runs is connected to again, after a growing delay.
 */
export class TargetWatch {
  private readonly watched = new Map<number, Watched>();
  private readonly now: () => number;
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly options: TargetWatchOptions) {
    this.now = options.now ?? Date.now;
    this.firstRetryMs = options.retry?.firstMs ?? FIRST_RETRY_MS;
    this.maxRetryMs = options.retry?.maxMs ?? MAX_RETRY_MS;
  }

  get size(): number {
    return this.watched.size;
  }

  watch(route: ProxyRoute): void {
    const current = this.watched.get(route.serverId);
    if (current !== undefined && sameTarget(current.route.target, route.target)) {
      current.route = route;
      return;
    }
    if (current !== undefined) this.drop(current);
    const entry: Watched = {
      route,
      socket: undefined,
      timer: undefined,
      openedAt: 0,
      retryMs: this.firstRetryMs,
    };
    this.watched.set(route.serverId, entry);
    this.open(entry);
  }

  unwatch(route: ProxyRoute): void {
    const current = this.watched.get(route.serverId);
    if (current === undefined || !sameTarget(current.route.target, route.target)) return;
    this.watched.delete(route.serverId);
    this.drop(current);
  }

  close(): void {
    for (const entry of this.watched.values()) this.drop(entry);
    this.watched.clear();
  }

  private open(entry: Watched): void {
    entry.timer = undefined;
    const socket = this.options.pins.connect(entry.route.target);
    entry.socket = socket;
    entry.openedAt = this.now();
    // The watch alone must not keep the hub's process alive.
    socket.unref();
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.once("close", () => this.lost(entry, socket));
  }

  private lost(entry: Watched, socket: Socket): void {
    if (this.watched.get(entry.route.serverId) !== entry || entry.socket !== socket) return;
    entry.socket = undefined;
    entry.retryMs = this.now() - entry.openedAt >= HEALTHY_MS ? this.firstRetryMs : entry.retryMs;
    const delay = entry.retryMs;
    entry.retryMs = Math.min(entry.retryMs * 2, this.maxRetryMs);
    entry.timer = setTimeout(() => this.open(entry), delay);
    entry.timer.unref();
    this.options.onLost(entry.route);
  }

  private drop(entry: Watched): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    const socket = entry.socket;
    entry.socket = undefined;
    socket?.destroy();
  }
}
