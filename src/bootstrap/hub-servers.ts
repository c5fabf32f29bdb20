import { serversPolicy } from "../config/policies.js";
import type { AuditLog } from "../ports/audit.js";
import type { Notifier } from "../ports/notifier.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { TargetProbe } from "../ports/target-probe.js";
import type { Randomness } from "../services/identity-service.js";
import { ServersService, type RouteSink } from "../services/servers-service.js";
import type { Assembly } from "./assembly.js";
import type { Launchers } from "./launchers.js";

/**
 * The servers' durable lifecycle over the configured launchers, announcing running servers in the
 * proxy's route table. Closing it stops the monitor and the launches in flight.
 */
export function hubServers(
  { config, clock, log, disposables }: Assembly,
  parts: Launchers & {
    store: Store;
    sealer: Sealer;
    random: Randomness;
    notifier: Notifier;
    audit: AuditLog;
    /** Where running servers are announced. */
    proxy: { readonly routes: RouteSink };
    probe: TargetProbe;
  },
): ServersService {
  const { store, launchers, sealer, random, notifier, probe } = parts;
  const servers = new ServersService({
    store,
    launchers,
    options: parts.spawnOptions,
    clock,
    sealer,
    random,
    notifier,
    routes: parts.proxy.routes,
    probe,
    log: log("servers"),
    audit: parts.audit,
    policy: serversPolicy(config),
  });
  disposables.add(() => servers.close());
  return servers;
}
