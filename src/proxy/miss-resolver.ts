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

/** A store look-up in progress, and the owner's route changes when it started. */
interface LookUp {
  readonly changes: number;
  readonly answer: Promise<ProxyRoute | undefined>;
}

/**
 * Asks the store about a route the table does not have: once per miss, once for a burst of
 * misses on the same path, and caches what it learns unless the owner's routes changed meanwhile.
 * A miss joins a look-up in progress only if the owner's routes have not changed since it
 * started; otherwise its answer may predate the change (a stop, a restart) and a new one starts.
 */
export class MissResolver {
  private readonly pending = new Map<string, LookUp>();

  constructor(
    private readonly resolveMiss: ResolveMiss,
    private readonly routes: RouteTable,
    private readonly log: ProxyLog,
  ) {}

  resolve(owner: string, candidate: string | undefined): Promise<ProxyRoute | undefined> {
    const key = candidate === undefined ? owner : `${owner}/${candidate}`;
    const changes = this.routes.changesOf(owner);
    const pending = this.pending.get(key);
    if (pending !== undefined && pending.changes === changes) return pending.answer;
    const lookUp: LookUp = { changes, answer: this.lookUp(owner, candidate, changes) };
    this.pending.set(key, lookUp);
    const forget = (): void => {
      if (this.pending.get(key) === lookUp) this.pending.delete(key);
    };
    lookUp.answer.then(forget, forget);
    return lookUp.answer;
  }

  private async lookUp(
    owner: string,
    candidate: string | undefined,
    changesBefore: number,
  ): Promise<ProxyRoute | undefined> {
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
    // If the owner's routes changed meanwhile (a stop, a restart), the answer may already be
    // stale: serve the requests that asked before the change with it, but cache nothing.
    if (this.routes.changesOf(owner) === changesBefore) {
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
