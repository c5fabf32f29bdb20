import { SlipwayError } from "../domain/errors.js";
import { assertServerName, assertUserName } from "../domain/names.js";
import { sameTarget, type ServerTarget } from "../domain/types.js";
import { RouteTrie } from "./route-trie.js";
import type { ProxyRoute } from "./types.js";

function routeKey(owner: string, serverName: string): string[] {
  return serverName === "" ? [owner] : [owner, serverName];
}

/** Linux's `sun_path` holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

function assertTarget(target: ServerTarget): void {
  if (target.kind === "unix") {
    const length = Buffer.byteLength(target.socket);
    if (!target.socket.startsWith("/") || length > MAX_SOCKET_PATH || target.socket.includes("\0")) {
      throw new SlipwayError(
        "bad_request",
        "A route's socket must be an absolute path of at most 107 bytes.",
      );
    }
    return;
  }
  const { host, port, certificate } = target;
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535 || certificate === "") {
    throw new SlipwayError(
      "bad_request",
      "A TLS route needs a host, a port from 1 to 65535 and a certificate.",
    );
  }
}

function sameDestination(a: ProxyRoute, b: ProxyRoute): boolean {
  return a.serverId === b.serverId && sameTarget(a.target, b.target) && a.token === b.token;
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

  /**
   * `onRetired` hears of every route removed or replaced by one with another destination,
   * `onAdded` of every route that reaches a destination anew.
   */
  constructor(
    private readonly onRetired: (route: ProxyRoute) => void,
    private readonly onAdded: (route: ProxyRoute) => void = () => undefined,
  ) {}

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
    assertTarget(route.target);
    const key = routeKey(route.owner, route.serverName);
    const previous = this.trie.get(key);
    this.trie.set(key, route);
    this.changed(route.owner);
    if (previous !== undefined && sameDestination(previous, route)) return;
    if (previous !== undefined) this.onRetired(previous);
    this.onAdded(route);
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
