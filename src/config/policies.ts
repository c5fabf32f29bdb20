import type { Config } from "./schema.js";

// The configuration in the shapes and units the services take (seconds become milliseconds).
// The services declare those shapes; TypeScript checks these against them where the composition
// root passes them in, so nothing here imports a service.

/** The identity service's policy. */
export function identityPolicy(config: Config, cacheTtlMs: number) {
  return {
    totp: config.auth.totp,
    issuer: config.auth.issuer,
    passwordMinLength: config.auth.passwordMinLength,
    sessionIdleTimeoutMs: config.auth.sessionIdleTimeout * 1000,
    sessionMaxAgeMs: config.auth.sessionMaxAge * 1000,
    setupLinkTtlMs: config.auth.setupLinkTtl * 1000,
    cacheTtlMs,
    throttle: config.auth.throttle,
  };
}

/** The servers service's policy. */
export function serversPolicy(config: Config) {
  return {
    namedServerLimit: config.servers.namedServerLimit,
    startTimeoutMs: config.servers.startTimeout * 1000,
    pollIntervalMs: config.servers.pollInterval * 1000,
  };
}

/** The rules by which a provider's identities become accounts (`auth.access` and `auth.zones`). */
export function accessPolicy(config: Config) {
  const { access, zones } = config.auth;
  return {
    allowedGroups: access.allowedGroups,
    adminGroups: access.adminGroups,
    groupMap: access.groupMap,
    createUsers: access.createUsers,
    zones: {
      default: zones.default,
      externalIdentityProviders: zones.external.identityProviders,
      externalGroups: zones.external.groups,
      externalClaimValues: zones.external.claimValues,
    },
  };
}
