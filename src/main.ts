import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino, { type DestinationStream } from "pino";
import { logRedaction } from "./auth/log-redaction.js";
import { startActivityFlush } from "./bootstrap/activity-flush.js";
import type { Assembly } from "./bootstrap/assembly.js";
import { startCredentialSweep } from "./bootstrap/credential-sweep.js";
import { prepareDataDir } from "./bootstrap/data-dir.js";
import { Disposables } from "./bootstrap/disposables.js";
import { firstAdminGate, offerFirstAdmin } from "./bootstrap/first-admin-gate.js";
import { HubMetrics } from "./bootstrap/hub-metrics.js";
import { hubAudit } from "./bootstrap/hub-audit.js";
import { hubHttpContext } from "./bootstrap/http-context.js";
import { hubProxy } from "./bootstrap/hub-proxy.js";
import { hubServers } from "./bootstrap/hub-servers.js";
import { openHubStore, openSealer } from "./bootstrap/hub-store.js";
import { authentication } from "./bootstrap/authentication.js";
import { hubRandomness, identityServices } from "./bootstrap/identity-services.js";
import { startHubIdleCollector } from "./bootstrap/idle-collector.js";
import { installationAround } from "./bootstrap/installation.js";
import { buildLaunchers } from "./bootstrap/launchers.js";
import { PublicOrigin } from "./bootstrap/public-origin.js";
import { RouteMisses } from "./bootstrap/route-misses.js";
import { closeSocketsOnSignOut } from "./bootstrap/signed-out-sockets.js";
import { buildWebApp } from "./bootstrap/web-app.js";
import type { Config } from "./config/schema.js";
import { cookieNames } from "./http/cookies.js";
import { systemClock, type Clock } from "./ports/clock.js";
import type { Logger } from "./ports/logger.js";
import type { ProcessRunner } from "./ports/process-runner.js";
import { targetStatus } from "./proxy/target-status.js";
import { UsersService } from "./services/users-service.js";
import { InProcessNotifier } from "./store/in-process-notifier.js";
import { VERSION } from "./version.js";

export interface HubOptions {
  readonly config: Config;
  readonly dataDir: string;
  /** Where logs go (default: stdout). */
  readonly logDestination?: DestinationStream;
  readonly clock?: Clock;
  /** argv that runs slipway-helper (default: this installation's). */
  readonly helperArgv?: readonly string[];
  /** Runs scheduler commands (default: a NodeProcessRunner); tests wrap it to count calls. */
  readonly schedulerRunner?: ProcessRunner;
  /** How long the API waits for a server to come up before answering 202 (JupyterHub: 10 s). */
  readonly slowSpawnWaitMs?: number;
}

export interface RunningHub {
  readonly url: string;
  readonly port: number;
  /** Set on a first start with no users: the one-time link that creates the first admin. */
  readonly firstAdminUrl: string | undefined;
  /** When no account exists and people sign in elsewhere: how the first admin comes to be. */
  readonly firstAdminHint: string | undefined;
  readonly log: Logger;
  close(): Promise<void>;
}

/**
 * The composition root: the only place that picks concrete implementations. Each part registers
 * its disposer as it is made; `close`, or a start that fails half-way, unwinds them in reverse.
 */
export async function startHub(options: HubOptions): Promise<RunningHub> {
  const disposables = new Disposables();
  try {
    return await wireHub(options, disposables);
  } catch (error) {
    await disposables.close().catch(() => undefined);
    throw error;
  }
}

async function wireHub(options: HubOptions, disposables: Disposables): Promise<RunningHub> {
  const { config } = options;
  const { hub, logger } = await assemble(options, disposables);
  const { dataDir, log } = hub;
  const installation = installationAround(fileURLToPath(new URL(".", import.meta.url)));
  const origin = new PublicOrigin(config.hub);
  const cookies = cookieNames(origin.secure);

  const sealer = await openSealer(dataDir);
  const store = await openHubStore(hub);
  const audit = await hubAudit(hub, store);
  const notifier = new InProcessNotifier();
  const random = hubRandomness();
  const metrics = new HubMetrics(() => store.servers.listActive());
  const { identity, sessions, tokens } = identityServices(hub, { store, sealer, random, audit });
  const { authenticator, signIn } = await authentication(hub, {
    store,
    sealer,
    random,
    identity,
    sessions,
    audit,
    origin: () => origin.value,
  });
  const misses = new RouteMisses(store.users);
  const stillVouches = authenticator.stillVouches?.bind(authenticator);
  const credentials = {
    tokens,
    sessions,
    sessionCookie: cookies.session,
    ...(stillVouches && { stillVouches }),
  };
  const proxy = hubProxy(hub, { credentials, misses, metrics, origin });
  const probe = targetStatus(proxy.pins);
  const launchers = await buildLaunchers(hub, { installation, options, probe, origin, metrics });
  const servers = hubServers(hub, { ...launchers, store, sealer, random, notifier, audit, proxy, probe });
  disposables.add(misses.serve(servers));
  const setupLinks = authenticator.capabilities.keepsPasswords;
  const users = new UsersService({
    store,
    identity,
    sessions,
    servers,
    tokens,
    audit,
    log: log("users"),
    setupLinks,
  });
  disposables.add(closeSocketsOnSignOut({ tokens, sessions, users: store.users, sockets: proxy }));
  startActivityFlush(hub, { proxy, tokens, store });

  const gate = firstAdminGate(dataDir, random, () => store.users.count());
  const firstAdmin = await offerFirstAdmin(gate, {
    noAccounts: (await store.users.count()) === 0,
    keepsPasswords: authenticator.capabilities.keepsPasswords,
  });
  const ctx = hubHttpContext(hub, {
    ...{ authenticator, signIn, audit, identity, sessions, tokens, users, servers, cookies },
    spawnOptions: launchers.spawnOptions,
    store,
    origin,
    firstAdmin: gate,
    metrics,
    proxy,
    slowSpawnWaitMs: options.slowSpawnWaitMs,
  });
  const web = await buildWebApp(hub, ctx, proxy, { staticDir: installation.staticDir, hsts: origin.secure });

  await keptAlive(() => servers.reconcile());
  const port = await web.listen();
  origin.settle(port);
  servers.startMonitor();
  startCredentialSweep(hub, { proxy, sessions, tokens, metrics });
  startHubIdleCollector(hub, proxy);

  logger.info({ event: "hub_started", url: origin.value, dataDir, version: VERSION }, "Slipway is listening");
  return {
    url: origin.value,
    port,
    firstAdminUrl: firstAdmin.secret && `${origin.value}/hub/first-admin/${firstAdmin.secret}`,
    firstAdminHint: firstAdmin.hint,
    log: logger,
    close: () => keptAlive(() => disposables.close()),
  };
}

/** The data directory, made or checked, and the hub's log: what every part is built with. */
async function assemble(
  options: HubOptions,
  disposables: Disposables,
): Promise<{ hub: Assembly; logger: pino.Logger }> {
  const dataDir = resolve(options.dataDir);
  await prepareDataDir(dataDir);
  const logger = pino(
    { level: options.config.logging.level, redact: logRedaction(), base: { app: "slipway" } },
    options.logDestination ?? pino.destination(1),
  );
  disposables.add(() => logger.flush());
  const log = (part: string): Logger => logger.child({ part });
  const clock = options.clock ?? systemClock;
  return { hub: { config: options.config, dataDir, clock, log, disposables }, logger };
}

/**
 * Work the hub must finish while nothing else may keep the process up: the reconcile before it
 * takes traffic, and its close after the listeners are gone. The clock's timers are unref'd;
 * without this handle, a reconcile or a stop waiting for the scheduler's batched answer would let
 * the process exit (or a test runner give up) half-way.
 */
async function keptAlive<T>(work: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    return await work();
  } finally {
    clearInterval(keepAlive);
  }
}
