import type { IdentityPolicy } from "../services/identity-service.js";
import type { Config } from "./schema.js";

/** The identity service's policy from the configuration (seconds become milliseconds). */
export function identityPolicy(config: Config, cacheTtlMs: number): IdentityPolicy {
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
