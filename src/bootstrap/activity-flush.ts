import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";
import type { ActivityRecord } from "../proxy/proxy.js";
import type { Assembly } from "./assembly.js";

export interface ActivityFlushDeps {
  /** What the proxy saw since the last call: one record per request or websocket message. */
  readonly serverActivity: () => readonly ActivityRecord[];
  /** The API tokens used since the last call. */
  readonly tokenUse: () => readonly { id: string; at: Date }[];
  readonly store: {
    readonly servers: Pick<Store["servers"], "recordActivity">;
    readonly users: Pick<Store["users"], "getByNames" | "recordActivity">;
    readonly tokens: Pick<Store["tokens"], "touch">;
  };
  readonly intervalMs: number;
  readonly log: Logger;
}

/**
 * Writes the activity the proxy and the token service count in memory to the store, in batches
 * (servers', their owners' and tokens' `last_activity`), every `intervalMs` and once more when
 * stopped. Owners are found with one query per flush, not one per user.
 */
export class ActivityFlush {
  readonly #deps: ActivityFlushDeps;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: ActivityFlushDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.#deps.log.warn({ err }, "could not record activity"));
    }, this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is left; a failure to write it is not reported. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush().catch(() => undefined);
  }

  async flush(): Promise<void> {
    const { store } = this.#deps;
    const seen = this.#deps.serverActivity();
    if (seen.length > 0) {
      await store.servers.recordActivity(seen.map((a) => ({ serverId: a.serverId, at: a.at })));
      const byUser = new Map<string, Date>();
      for (const a of seen) byUser.set(a.userName, a.at);
      const users = await store.users.getByNames([...byUser.keys()]);
      await store.users.recordActivity(
        users.flatMap((u) => {
          const at = byUser.get(u.name);
          return at === undefined ? [] : [{ userId: u.id, at }];
        }),
      );
    }
    const tokenUse = this.#deps.tokenUse();
    if (tokenUse.length > 0) await store.tokens.touch(tokenUse);
  }
}

/** Flushes the proxy's and the token service's activity every `proxy.activityFlushInterval`. */
export function startActivityFlush(
  { config, log, disposables }: Assembly,
  parts: {
    proxy: { drainActivity(): readonly ActivityRecord[] };
    tokens: { drainActivity(): readonly { id: string; at: Date }[] };
    store: ActivityFlushDeps["store"];
  },
): ActivityFlush {
  const { proxy, tokens, store } = parts;
  const flush = new ActivityFlush({
    serverActivity: () => proxy.drainActivity(),
    tokenUse: () => tokens.drainActivity(),
    store,
    intervalMs: config.proxy.activityFlushInterval * 1000,
    log: log("activity"),
  });
  flush.start();
  disposables.add(() => flush.stop());
  return flush;
}
