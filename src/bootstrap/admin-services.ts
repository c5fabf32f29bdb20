import { join } from "node:path";
import pino from "pino";
import { newToken, sha256Hex } from "../auth/random-token.js";
import { loadOrCreateKey, SecretBox } from "../auth/secret-box.js";
import { PasswordHasher } from "../auth/password-hasher.js";
import { Totp } from "../auth/totp.js";
import { identityPolicy } from "../config/policies.js";
import type { Config } from "../config/schema.js";
import { systemClock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import { IdentityService } from "../services/identity-service.js";
import { TokenService } from "../services/token-service.js";
import { openStore } from "../store/open-store.js";
import { prepareDataDir } from "./data-dir.js";

export interface AdminServices {
  readonly store: Store;
  readonly identity: IdentityService;
  readonly tokens: TokenService;
  close(): Promise<void>;
}

/**
 * The store and identity services alone, for the administrative commands that need no running
 * hub (`slipway user add`, `slipway token create`). Warnings go to stderr, output to stdout.
 */
export async function openAdminServices(config: Config, dataDir: string): Promise<AdminServices> {
  await prepareDataDir(dataDir);
  const log = pino({ level: "warn" }, pino.destination(2));
  const store = await openStore(config.database.url ?? `sqlite:${join(dataDir, "slipway.sqlite")}`);
  try {
    await store.migrate();
    const sealer = new SecretBox(await loadOrCreateKey(join(dataDir, "secret.key")));
    const random = { token: () => newToken(32), sha256: sha256Hex };
    const identity = new IdentityService({
      store,
      clock: systemClock,
      hasher: new PasswordHasher(),
      totp: new Totp(),
      sealer,
      random,
      log,
      policy: identityPolicy(config, 0),
    });
    const tokens = new TokenService({
      store,
      clock: systemClock,
      random,
      log,
      maxExpiresInSeconds: config.tokens.maxExpiresIn,
      cacheTtlMs: 0,
    });
    return { store, identity, tokens, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
