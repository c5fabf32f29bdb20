import type { ActivityRecord, ProxyRoute } from "./types.js";

interface Entry {
  readonly serverId: number;
  readonly userName: string;
  at: Date;
}

/**
 * Last activity per server, kept in memory and taken in batches, so proxied traffic never
 * waits on the store (configurable-http-proxy's `last_activity`, without its per-request write).
 */
export class ActivityMeter {
  private entries = new Map<number, Entry>();

  constructor(private readonly now: () => Date) {}

  record(route: ProxyRoute): void {
    const at = this.now();
    const entry = this.entries.get(route.serverId);
    if (entry === undefined)
      this.entries.set(route.serverId, { serverId: route.serverId, userName: route.owner, at });
    else if (at > entry.at) entry.at = at;
  }

  /** Everything recorded since the last drain, one record per server with its latest time. */
  drain(): ActivityRecord[] {
    const taken = this.entries;
    this.entries = new Map();
    return [...taken.values()];
  }
}
