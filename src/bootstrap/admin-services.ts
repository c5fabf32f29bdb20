import pino from "pino";
import type { Config } from "../config/schema.js";
import { systemClock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import { AuditService } from "../services/audit-service.js";
import type { Assembly } from "./assembly.js";
import { prepareDataDir } from "./data-dir.js";
import { Disposables } from "./disposables.js";
import { openHubStore, openSealer } from "./hub-store.js";
import { hubRandomness, identityServices, type IdentityServices } from "./identity-services.js";

export interface AdminServices extends IdentityServices {
  readonly store: Store;
  /** What the commands do is recorded as the hub's own actions would be, with `via: "cli"`. */
  readonly audit: AuditService;
  close(): Promise<void>;
}

/**
 * The store and identity services alone, for the administrative commands that need no running
 * hub (`slipway user add`, `slipway token create`). Warnings go to stderr, output to stdout.
 */
export async function openAdminServices(config: Config, dataDir: string): Promise<AdminServices> {
  await prepareDataDir(dataDir);
  const log = pino({ level: "warn" }, pino.destination(2));
  const disposables = new Disposables();
  const assembly: Assembly = { config, dataDir, clock: systemClock, log: () => log, disposables };
  try {
    const store = await openHubStore(assembly);
    const sealer = await openSealer(dataDir);
    const audit = new AuditService({ store, clock: systemClock, log });
    const random = hubRandomness();
    const services = identityServices(assembly, { store, sealer, random, audit, cacheTtlMs: 0 });
    return { store, audit, ...services, close: () => disposables.close() };
  } catch (error) {
    await disposables.close();
    throw error;
  }
}
