import { assertServerName } from "../domain/names.js";
import type { RouteTable } from "./route-table.js";
import type { ProxyLog, ProxyRoute, ResolveMiss } from "./types.js";

/** The segment after the owner, if it may name a named server (reserved names never do). */
export function namedServerCandidate(next: string): string | undefined {
  if (next === "") return undefined;
  try {
    assertServerName(next);
    return next;
  } catch {
    return undefined;
  }
}

/**
 * Asks the store about a route the table does not have: once per miss, once for a burst of
 * misses on the same path, and caches what it learns unless the table changed meanwhile.
 */
export class MissResolver {
  private readonly pending = new Map<string, Promise<ProxyRoute | undefined>>();

  constructor(
    private readonly resolveMiss: ResolveMiss,
    private readonly routes: RouteTable,
    private readonly log: ProxyLog,
  ) {}

  resolve(owner: string, candidate: string | undefined): Promise<ProxyRoute | undefined> {
    const key = candidate === undefined ? owner : `${owner}/${candidate}`;
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = this.lookUp(owner, candidate).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async lookUp(owner: string, candidate: string | undefined): Promise<ProxyRoute | undefined> {
    const changesBefore = this.routes.changes;
    const route = await this.resolveMiss(owner, candidate);
    if (route === undefined) return undefined;
    // A resolver that answered for someone else's server must not open a way into it.
    if (route.owner !== owner || (route.serverName !== "" && route.serverName !== candidate)) {
      this.log.error(
        { owner, serverName: candidate ?? "", answeredOwner: route.owner, answeredServer: route.serverName },
        "resolveMiss answered for another server; ignored",
      );
      return undefined;
    }
    // If the table changed meanwhile (a stop, a restart), the answer may already be stale:
    // serve this request with it but leave caching to the next miss.
    if (this.routes.changes === changesBefore) {
      try {
        this.routes.setRoute(route);
      } catch (error) {
        // Not the caller's fault: a malformed route from the store is the hub's bug (500).
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`resolveMiss returned an unusable route: ${reason}`, { cause: error });
      }
    }
    return route;
  }
}
