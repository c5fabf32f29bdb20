import { readFile, stat } from "node:fs/promises";
import { LocalAuthenticator } from "../auth/local-authenticator.js";
import { OidcAuthenticator, type OidcSettings } from "../auth/oidc-authenticator.js";
import { TrustedHeaderAuthenticator } from "../auth/trusted-header-authenticator.js";
import { accessPolicy } from "../config/policies.js";
import type { Config } from "../config/schema.js";
import type { AuditLog } from "../ports/audit.js";
import type { Authenticator } from "../ports/authenticator.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { IdentityService, Randomness } from "../services/identity-service.js";
import type { SessionService } from "../services/session-service.js";
import { SignInService } from "../services/sign-in-service.js";
import type { Assembly } from "./assembly.js";

/** How often expired sign-in states and used logout-token ids are deleted. */
const CLEANUP_INTERVAL_MS = 10 * 60_000;

export interface Authentication {
  readonly authenticator: Authenticator;
  readonly signIn: SignInService;
}

/** The configured way of signing in (`auth.type`), and the service that turns identities into sessions. */
export async function authentication(
  hub: Assembly,
  parts: {
    store: Store;
    sealer: Sealer;
    random: Randomness;
    identity: IdentityService;
    sessions: SessionService;
    audit: AuditLog;
    /** The public origin, once the listener is bound (port 0 in tests). */
    origin: () => string;
  },
): Promise<Authentication> {
  const { config, log } = hub;
  const authenticator = await chooseAuthenticator(hub, parts);
  const signIn = new SignInService({
    store: parts.store,
    sessions: parts.sessions,
    sealer: parts.sealer,
    audit: parts.audit,
    policy: accessPolicy(config),
    method: authenticator.kind,
    log: log("identity"),
    clock: hub.clock,
  });
  return { authenticator, signIn };
}

async function chooseAuthenticator(
  hub: Assembly,
  parts: Parameters<typeof authentication>[1],
): Promise<Authenticator> {
  const { auth } = hub.config;
  if (auth.type === "trusted-header" && auth.trustedHeader) {
    return new TrustedHeaderAuthenticator({
      ...auth.trustedHeader,
      ...(auth.trustedHeader.groupsHeader === undefined
        ? {}
        : { groupsHeader: auth.trustedHeader.groupsHeader }),
    });
  }
  if (auth.type === "oidc" && auth.oidc) {
    const { store, sealer, random } = parts;
    const secret = await readClientSecret(auth.oidc.clientSecretFile);
    const sweep = setInterval(() => {
      const now = hub.clock.now();
      void Promise.all([store.signInStates.deleteExpired(now), store.usedTokenIds.deleteExpired(now)]).catch(
        () => undefined,
      );
    }, CLEANUP_INTERVAL_MS);
    sweep.unref();
    hub.disposables.add(() => clearInterval(sweep));
    return new OidcAuthenticator({
      settings: oidcSettings(hub.config, secret, parts.origin),
      pending: {
        put: (handle, state, ttlMs) =>
          store.signInStates.put(
            random.sha256(handle),
            sealer.seal(state),
            new Date(hub.clock.now().getTime() + ttlMs),
          ),
        take: async (handle) => {
          const sealed = await store.signInStates.take(random.sha256(handle), hub.clock.now());
          return sealed === undefined ? undefined : sealer.open(sealed);
        },
      },
      usedIds: { use: (key, expiresAt) => store.usedTokenIds.use(random.sha256(key), expiresAt) },
      randomHandle: () => random.token(),
      log: hub.log("oidc"),
    });
  }
  return new LocalAuthenticator(parts.identity);
}

function oidcSettings(config: Config, clientSecret: string, origin: () => string): OidcSettings {
  const oidc = config.auth.oidc;
  if (!oidc) throw new Error("auth.oidc is not configured");
  const issuer = new URL(oidc.issuer);
  if (issuer.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(issuer.hostname)) {
    throw new Error(
      `auth.oidc.issuer ${oidc.issuer}: a provider is reached over https (http only on loopback, for tests)`,
    );
  }
  const { zones } = config.auth;
  return {
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret,
    scopes: oidc.scopes,
    claims: {
      ...oidc.claims,
      identityProvider: zones.identityProviderClaim,
      ...(zones.zoneClaim !== undefined && { zone: zones.zoneClaim }),
    },
    acrValues: oidc.acrValues,
    autoLogin: oidc.autoLogin,
    buttonLabel: oidc.buttonLabel,
    clockToleranceSeconds: oidc.clockTolerance,
    loginTimeoutMs: oidc.loginTimeout * 1000,
    endSession: oidc.endSession,
    logoutTokenType: oidc.logoutTokenType,
    signingAlgorithm: oidc.signingAlgorithm,
    redirectUri: () => `${origin()}/hub/oauth_callback`,
    postLogoutRedirectUri: () => `${origin()}/hub/logged-out`,
  };
}

/** The client secret, from a file only the hub's account can read; never from the configuration. */
async function readClientSecret(path: string): Promise<string> {
  const info = await stat(path).catch((error: unknown) => {
    throw new Error(
      `auth.oidc.clientSecretFile ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  if ((info.mode & 0o077) !== 0) {
    throw new Error(`auth.oidc.clientSecretFile ${path} is readable by others: chmod 600 ${path}`);
  }
  const secret = (await readFile(path, "utf8")).trim();
  if (secret.length === 0) throw new Error(`auth.oidc.clientSecretFile ${path} is empty`);
  return secret;
}
