import { join } from "node:path";
import { loadOrCreateKey, SecretBox } from "../auth/secret-box.js";
import type { Store } from "../ports/store.js";
import { openStore } from "../store/open-store.js";
import type { Assembly } from "./assembly.js";

/**
 * The hub's store, migrated: `database.url`, or SQLite in the data directory. The one place the
 * hub and its administrative commands open it. Its disposer is registered before it migrates, so
 * a store that fails to migrate is closed with the rest.
 */
export async function openHubStore({ config, dataDir, disposables }: Assembly): Promise<Store> {
  const store = await openStore(config.database.url ?? `sqlite:${join(dataDir, "slipway.sqlite")}`);
  disposables.add(() => store.close());
  await store.migrate();
  return store;
}

/** Seals TOTP seeds and server tokens at rest with the data directory's `secret.key`. */
export async function openSealer(dataDir: string): Promise<SecretBox> {
  return new SecretBox(await loadOrCreateKey(join(dataDir, "secret.key")));
}
