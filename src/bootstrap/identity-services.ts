import { PasswordHasher } from "../auth/password-hasher.js";
import { newToken, sha256Hex } from "../auth/random-token.js";
import { Totp } from "../auth/totp.js";
import { identityPolicy } from "../config/policies.js";
import type { AuditLog } from "../ports/audit.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import { IdentityService, type Randomness } from "../services/identity-service.js";
import { SessionService } from "../services/session-service.js";
import { TokenService } from "../services/token-service.js";
import type { Assembly } from "./assembly.js";

/** The hub's tokens: 256 bits from the CSPRNG, found again by their SHA-256. */
export function hubRandomness(): Randomness {
  return { token: () => newToken(32), sha256: sha256Hex };
}

export interface IdentityServices {
  readonly identity: IdentityService;
  readonly sessions: SessionService;
  readonly tokens: TokenService;
}

/**
 * Accounts, sessions and API tokens, as the hub and its administrative commands both use them.
 * Sessions and tokens are cached for `proxy.routeCacheTtl` unless `cacheTtlMs` says otherwise
 * (0 for one-off commands).
 */
export function identityServices(
  { config, clock, log }: Assembly,
  parts: { store: Store; sealer: Sealer; random: Randomness; audit: AuditLog; cacheTtlMs?: number },
): IdentityServices {
  const { store, random } = parts;
  const cacheTtlMs = parts.cacheTtlMs ?? config.proxy.routeCacheTtl * 1000;
  const policy = identityPolicy(config, cacheTtlMs);
  const sessions = new SessionService({ store, clock, random, log: log("identity"), policy });
  const identity = new IdentityService({
    store,
    clock,
    hasher: new PasswordHasher(),
    totp: new Totp(),
    sealer: parts.sealer,
    random,
    log: log("identity"),
    policy,
    sessions,
  });
  const tokens = new TokenService({
    store,
    clock,
    random,
    log: log("tokens"),
    audit: parts.audit,
    maxExpiresInSeconds: config.tokens.maxExpiresIn,
    cacheTtlMs,
  });
  return { identity, sessions, tokens };
}
