import type { User } from "../domain/types.js";
import type { Store } from "../ports/store.js";
import type { ProxyRoute, ResolveMiss } from "../proxy/proxy.js";
import type { Disposer } from "./disposables.js";

/** What knows servers' routes and can check on a server: the servers service. */
export interface RouteSource {
  routeFor(owner: User, serverName: string): Promise<ProxyRoute | undefined>;
  recheck(serverId: number): void;
}

/**
 * The proxy's port to the servers service. The proxy is built first, because the servers
 * service is built on it (it announces routes in the proxy's table and probes servers over the
 * proxy's channels); so the proxy is handed this port instead of the service, and the service
 * subscribes to it once it exists (`serve`). Without a subscriber a miss finds no route and a
 * report about a server goes unheard, as for a stopped server; the hub subscribes before it
 * reconciles or listens, and unsubscribes when it closes.
 */
export class RouteMisses {
  readonly #users: Pick<Store["users"], "getByName">;
  #source: RouteSource | undefined;

  constructor(users: Pick<Store["users"], "getByName">) {
    this.#users = users;
  }

  /** The proxy's `resolveMiss`: the route of the named server if it runs, else of the default server. */
  readonly resolve: ResolveMiss = async (owner, serverName) => {
    const source = this.#source;
    const user = source && (await this.#users.getByName(owner));
    if (!source || !user) return undefined;
    if (serverName !== undefined) {
      const named = await source.routeFor(user, serverName);
      if (named) return named;
    }
    return source.routeFor(user, "");
  };

  /** The proxy's `onTargetError` and `onTargetLost`: the server is checked at once, not at the next poll. */
  readonly recheck = (route: ProxyRoute): void => {
    this.#source?.recheck(route.serverId);
  };

  /** Makes `source` answer from now on; the disposer stops it. */
  serve(source: RouteSource): Disposer {
    this.#source = source;
    return () => {
      if (this.#source === source) this.#source = undefined;
    };
  }
}
