import type { FirstAdminGate, HttpContext } from "../http/context.js";
import type { Store } from "../ports/store.js";
import { GroupsService } from "../services/groups-service.js";
import { VERSION } from "../version.js";
import type { Assembly } from "./assembly.js";
import type { HubMetrics } from "./hub-metrics.js";
import type { PublicOrigin } from "./public-origin.js";

/** The services built before it, which the routes and pages use as they are. */
type ServiceParts = Pick<
  HttpContext,
  | "authenticator"
  | "signIn"
  | "audit"
  | "identity"
  | "sessions"
  | "tokens"
  | "users"
  | "servers"
  | "spawnOptions"
  | "cookies"
>;

/** What every route and page gets: the services, and the edge's settings read from the configuration. */
export function hubHttpContext(
  { config, log }: Assembly,
  parts: ServiceParts & {
    readonly store: Store;
    readonly origin: PublicOrigin;
    readonly firstAdmin: FirstAdminGate;
    readonly metrics: HubMetrics;
    readonly proxy: { closeSession(key: string): void };
    readonly slowSpawnWaitMs: number | undefined;
  },
): HttpContext {
  const { store, origin, metrics, proxy, slowSpawnWaitMs, ...services } = parts;
  return {
    ...services,
    groups: new GroupsService({ store, audit: parts.audit, log: log("groups") }),
    logoutClearCookies: config.auth.logoutClearCookies,
    get publicOrigin() {
      return origin.value;
    },
    trustForwarded: config.hub.trustForwardedHeaders,
    log: log("http"),
    version: VERSION,
    metrics: () => metrics.render(),
    closeSessionSockets: (key) => proxy.closeSession(key),
    slowSpawnWaitMs: slowSpawnWaitMs ?? 10_000,
  };
}
