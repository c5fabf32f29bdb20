import { SlipwayError } from "../domain/errors.js";
import { assertServerName, assertUserName } from "../domain/names.js";
import { RouteTrie } from "./route-trie.js";
import type { ProxyRoute } from "./types.js";

function routeKey(owner: string, serverName: string): string[] {
  return serverName === "" ? [owner] : [owner, serverName];
}

function sameDestination(a: ProxyRoute, b: ProxyRoute): boolean {
  return (
    a.serverId === b.serverId &&
    a.target.host === b.target.host &&
    a.target.port === b.target.port &&
    a.token === b.token
  );
}

/**
 * The proxy's routes, keyed `[owner]` for a default server and `[owner, serverName]` for a
 * named one, so a longest-prefix match of `[owner, next segment]` finds the named server when
 * it is routed and the default server otherwise.
 */
export class RouteTable {
  private readonly trie = new RouteTrie<ProxyRoute>();
  private changeCount = 0;
  /** For each owner whose routes ever changed: `changeCount` at the latest change. */
  private readonly lastChange = new Map<string, number>();

  /** `onRetired` hears of every route removed or replaced by one with another destination. */
  constructor(private readonly onRetired: (route: ProxyRoute) => void) {}

  /**
   * Grows on every change to `owner`'s routes (and on no one else's), so that a store look-up
   * about `owner` that raced a change can tell its answer may be stale.
   */
  changesOf(owner: string): number {
    return this.lastChange.get(owner) ?? 0;
  }

  get size(): number {
    return this.trie.size;
  }

  /** Adds or replaces the route of `route.owner`'s server `route.serverName`. */
  setRoute(route: ProxyRoute): void {
    assertUserName(route.owner);
    assertServerName(route.serverName);
    const { host, port } = route.target;
    if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SlipwayError("bad_request", "A route needs a host and a port from 1 to 65535.");
    }
    const key = routeKey(route.owner, route.serverName);
    const previous = this.trie.get(key);
    this.trie.set(key, route);
    this.changed(route.owner);
    if (previous !== undefined && !sameDestination(previous, route)) this.onRetired(previous);
  }

  /** Returns whether a route was there. Its open websockets are closed. */
  removeRoute(owner: string, serverName: string): boolean {
    const removed = this.trie.delete(routeKey(owner, serverName));
    this.changed(owner);
    if (removed === undefined) return false;
    this.onRetired(removed);
    return true;
  }

  private changed(owner: string): void {
    // One count for all owners, so an owner's figure never comes back to an earlier value.
    this.changeCount += 1;
    this.lastChange.set(owner, this.changeCount);
  }

  getRoute(owner: string, serverName: string): ProxyRoute | undefined {
    return this.trie.get(routeKey(owner, serverName));
  }

  listRoutes(): ProxyRoute[] {
    return [...this.trie.values()];
  }

  /** The route for `/user/<owner>/<next>/...`: the named server `next` if routed, else the default server. */
  match(owner: string, next: string): ProxyRoute | undefined {
    return this.trie.match(next === "" ? [owner] : [owner, next])?.value;
  }
}
