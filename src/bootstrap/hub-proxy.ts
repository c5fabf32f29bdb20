import { HUB_COOKIE_NAMES } from "../http/cookies.js";
import { Proxy } from "../proxy/proxy.js";
import type { Config } from "../config/schema.js";
import type { Assembly } from "./assembly.js";
import type { HubMetrics } from "./hub-metrics.js";
import { proxyAuthentication } from "./proxy-authentication.js";
import type { PublicOrigin } from "./public-origin.js";
import type { RouteMisses } from "./route-misses.js";

/**
 * The proxy to users' servers, checking the hub's own credentials (architecture invariant 6).
 * Its misses and its reports about servers go to `misses`, which the servers service serves.
 */
export function hubProxy(
  { config, clock, log }: Assembly,
  parts: {
    /** The API tokens and sessions it accepts, and the cookie sessions come in. */
    credentials: Parameters<typeof proxyAuthentication>[0];
    misses: RouteMisses;
    metrics: HubMetrics;
    origin: PublicOrigin;
  },
): Proxy {
  const { misses } = parts;
  return new Proxy({
    authenticate: proxyAuthentication(parts.credentials),
    resolveMiss: misses.resolve,
    allowedOrigins: parts.origin.allowed,
    hubCookieNames: HUB_COOKIE_NAMES,
    trustForwarded: config.hub.trustForwardedHeaders,
    identityHeaders: identityHeadersOf(config),
    now: () => clock.now(),
    log: log("proxy"),
    onTargetError: misses.recheck,
    onTargetLost: misses.recheck,
    metrics: parts.metrics.proxy,
  });
}

/** The headers the configured front door names the user with, which no user's server may see. */
function identityHeadersOf(config: Config): string[] {
  const header = config.auth.trustedHeader;
  if (!header) return [];
  return [header.userHeader, header.groupsHeader, header.zoneHeader].filter(
    (h): h is string => h !== undefined,
  );
}
