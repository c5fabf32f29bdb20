import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino, { type DestinationStream } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { logRedaction } from "./auth/log-redaction.js";
import { LocalAuthenticator } from "./auth/local-authenticator.js";
import { PasswordHasher } from "./auth/password-hasher.js";
import { newToken, sha256Hex } from "./auth/random-token.js";
import { loadOrCreateKey, SecretBox } from "./auth/secret-box.js";
import { Totp } from "./auth/totp.js";
import { identityPolicy } from "./config/policies.js";
import type { Config } from "./config/schema.js";
import { CredentialSweep } from "./bootstrap/credential-sweep.js";
import { prepareDataDir } from "./bootstrap/data-dir.js";
import { firstAdminGate } from "./bootstrap/first-admin-gate.js";
import { hubIdFor } from "./bootstrap/hub-id.js";
import { startIdleCollector } from "./bootstrap/idle-collector.js";
import { proxyAuthentication } from "./bootstrap/proxy-authentication.js";
import { prepareSocketDir } from "./bootstrap/socket-dir.js";
import type { SlurmTarget } from "./bootstrap/slurm-target.js";
import { buildApp } from "./http/app.js";
import type { HttpContext } from "./http/context.js";
import { cookieNames, HUB_COOKIE_NAMES } from "./http/cookies.js";
import { detectJupyterCommand } from "./launchers/detect-jupyter-command.js";
import { LocalLauncher } from "./launchers/local-launcher.js";
import { NodeProcessRunner } from "./launchers/node-process-runner.js";
import { systemClock, type Clock } from "./ports/clock.js";
import type { Launcher } from "./ports/launcher.js";
import type { Logger } from "./ports/logger.js";
import type { ProcessRunner } from "./ports/process-runner.js";
import { createFrontDoor, type FrontDoor } from "./proxy/front-door.js";
import { Proxy } from "./proxy/proxy.js";
import { targetStatus } from "./proxy/target-status.js";
import { IdentityService, type Randomness } from "./services/identity-service.js";
import { ServersService } from "./services/servers-service.js";
import { SpawnOptions, type TargetConfig } from "./services/spawn-options.js";
import { TokenService } from "./services/token-service.js";
import { UsersService } from "./services/users-service.js";
import { InProcessNotifier } from "./store/in-process-notifier.js";
import { openStore } from "./store/open-store.js";
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
  readonly log: Logger;
  close(): Promise<void>;
}

const here = fileURLToPath(new URL(".", import.meta.url));
/** dist/src/main.js → dist/web/static; src/main.ts (tsx) → dist/web/static too. */
function defaultStaticDir(): string {
  return here.includes(`${"dist"}/src`)
    ? resolve(here, "../web/static")
    : resolve(here, "../dist/web/static");
}

/** The job agent next to this installation: dist/src → job/, or src → job/ under tsx. */
function defaultJobAgent(): string {
  return here.includes(`${"dist"}/src`)
    ? resolve(here, "../../job/slipway-job.py")
    : resolve(here, "../job/slipway-job.py");
}

function defaultHelperArgv(): string[] {
  const built = here.includes(`${"dist"}/src`);
  return built
    ? [process.execPath, join(here, "helper/cli.js")]
    : [process.execPath, "--import", "tsx", join(here, "helper/cli.ts")];
}

/** The composition root: the only place that picks concrete implementations. */
export async function startHub(options: HubOptions): Promise<RunningHub> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(options.dataDir);
  await prepareDataDir(dataDir);

  const logger = pino(
    { level: config.logging.level, redact: logRedaction(), base: { app: "slipway" } },
    options.logDestination ?? pino.destination(1),
  );
  const log: Logger = logger;

  // With port 0 the origin is known only once bound; everything reads it through `origin`.
  const origin = {
    value: new URL(config.hub.publicUrl ?? `http://${config.hub.host}:${config.hub.port}`).origin,
  };
  const allowedOrigins = [origin.value];
  const secure = origin.value.startsWith("https:");
  const cookies = cookieNames(secure);

  const sealer = new SecretBox(await loadOrCreateKey(join(dataDir, "secret.key")));
  const store = await openStore(config.database.url ?? `sqlite:${join(dataDir, "slipway.sqlite")}`);
  await store.migrate();
  const notifier = new InProcessNotifier();
  const random: Randomness = { token: () => newToken(32), sha256: sha256Hex };
  const cacheTtlMs = config.proxy.routeCacheTtl * 1000;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slipway_" });
  const proxyRequests = new Counter({
    name: "slipway_proxy_requests_total",
    help: "Requests proxied to user servers, by status class",
    labelNames: ["status"],
    registers: [registry],
  });
  const proxyUpgrades = new Counter({
    name: "slipway_proxy_websocket_upgrades_total",
    help: "Websocket upgrades through the proxy, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });

  const identity = new IdentityService({
    store,
    clock,
    hasher: new PasswordHasher(),
    totp: new Totp(),
    sealer,
    random,
    log: log.child({ part: "identity" }),
    policy: identityPolicy(config, cacheTtlMs),
  });
  const tokens = new TokenService({
    store,
    clock,
    random,
    log: log.child({ part: "tokens" }),
    maxExpiresInSeconds: config.tokens.maxExpiresIn,
    cacheTtlMs,
  });

  const proxyAuthenticate = proxyAuthentication({ tokens, identity, sessionCookie: cookies.session });

  // The proxy and the servers service need each other; the proxy reaches it through this box.
  const late: { servers?: ServersService } = {};
  const proxy = new Proxy({
    authenticate: proxyAuthenticate,
    resolveMiss: async (owner, serverName) => {
      const user = await store.users.getByName(owner);
      const servers = late.servers;
      if (!user || !servers) return undefined;
      if (serverName !== undefined) {
        const named = await servers.routeFor(user, serverName);
        if (named) return named;
      }
      return servers.routeFor(user, "");
    },
    allowedOrigins,
    hubCookieNames: HUB_COOKIE_NAMES,
    trustForwarded: config.hub.trustForwardedHeaders,
    now: () => clock.now(),
    log: log.child({ part: "proxy" }),
    onTargetError: (route) => late.servers?.recheck(route.serverId),
    onTargetLost: (route) => late.servers?.recheck(route.serverId),
    metrics: {
      request: (status) => proxyRequests.inc({ status }),
      upgrade: (outcome) => proxyUpgrades.inc({ outcome }),
    },
  });

  const helperArgv =
    options.helperArgv ??
    (config.servers.helper ? [process.execPath, config.servers.helper] : defaultHelperArgv());
  const command = config.servers.command ?? detectJupyterCommand(process.env["PATH"]);
  if (!command) {
    throw new Error(
      "No Jupyter found on PATH (looked for jupyter-lab, jupyter-notebook, jupyter-server): install one or set servers.command.",
    );
  }
  const runner = new NodeProcessRunner();
  const hubId = await hubIdFor(dataDir);
  const probe = targetStatus(proxy.pins);
  const socketDir = config.servers.socketDir ?? join(dataDir, "sockets");
  await prepareSocketDir(socketDir, config.servers.runAs);
  const launchers = new Map<string, Launcher>();
  const targetConfigs: TargetConfig[] = [];
  const schedulerCalls = new Counter({
    name: "slipway_scheduler_calls_total",
    help: "Scheduler commands run by the hub, by cluster, command and outcome",
    labelNames: ["cluster", "command", "outcome"],
    registers: [registry],
  });
  const schedulerLatency = new Histogram({
    name: "slipway_scheduler_call_seconds",
    help: "How long scheduler commands took",
    labelNames: ["cluster", "command"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const queueWaits = new Histogram({
    name: "slipway_scheduler_queue_wait_seconds",
    help: "How long servers' jobs waited in the queue before they ran",
    labelNames: ["cluster"],
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  });
  const slurmTargets: SlurmTarget[] = [];
  const callbackKey = await loadOrCreateKey(join(dataDir, "callback.key"));
  const helperEnv: Record<string, string> = {};
  if (process.env["PATH"] !== undefined) helperEnv["PATH"] = process.env["PATH"];
  if (process.env["LANG"] !== undefined) helperEnv["LANG"] = process.env["LANG"];
  for (const [name, target] of Object.entries(config.servers.targets)) {
    if (target.type === "local") {
      targetConfigs.push({
        name,
        type: "local",
        displayName: target.displayName,
        description: target.description,
      });
      launchers.set(
        name,
        new LocalLauncher({
          runner,
          helperArgv: [...helperArgv],
          runAs: config.servers.runAs,
          hubId,
          command: [...command],
          workDir: config.servers.workDir,
          socketDir,
          probe,
          startTimeoutMs: config.servers.startTimeout * 1000,
          stopTimeoutMs: config.servers.stopTimeout * 1000,
        }),
      );
      continue;
    }
    // Slurm's code is loaded only when a Slurm target is configured.
    const { slurmTarget } = await import("./bootstrap/slurm-target.js");
    const cluster = target.cluster;
    const built = slurmTarget({
      name,
      target,
      servers: config.servers,
      clock,
      runner,
      schedulerRunner: options.schedulerRunner ?? runner,
      helperArgv,
      env: helperEnv,
      hubId,
      command,
      defaultAgent: defaultJobAgent(),
      origin: () => origin.value,
      callbackKey,
      probe,
      metrics: {
        call: (cmd, outcome, seconds) => {
          schedulerCalls.inc({ cluster, command: cmd, outcome });
          schedulerLatency.observe({ cluster, command: cmd }, seconds);
        },
        queueWait: (seconds) => queueWaits.observe({ cluster }, seconds),
      },
    });
    targetConfigs.push(built.target);
    launchers.set(name, built.launcher);
    slurmTargets.push(built);
  }
  const spawnOptions = new SpawnOptions(targetConfigs, config.servers.defaultTarget);
  const servers = new ServersService({
    store,
    launchers,
    options: spawnOptions,
    clock,
    sealer,
    random,
    notifier,
    routes: proxy.routes,
    probe,
    log: log.child({ part: "servers" }),
    policy: {
      namedServerLimit: config.servers.namedServerLimit,
      startTimeoutMs: config.servers.startTimeout * 1000,
      pollIntervalMs: config.servers.pollInterval * 1000,
    },
  });
  const serversGauge = new Gauge({
    name: "slipway_servers",
    help: "Servers by lifecycle state",
    labelNames: ["state"],
    registers: [registry],
    collect: async () => {
      serversGauge.reset();
      for (const s of await store.servers.listActive()) serversGauge.inc({ state: s.state });
    },
  });
  const users = new UsersService({ store, identity, servers, tokens, log: log.child({ part: "users" }) });

  tokens.onRevoke((tokenId) => proxy.closeSession(tokenId));
  identity.onSessionEnd((key, userId) => {
    if (!key.startsWith("user:")) {
      proxy.closeSession(key);
      return;
    }
    store.users.getById(userId).then(
      (u) => u && proxy.closeUser(u.name),
      () => undefined,
    );
  });

  late.servers = servers;
  const gate = firstAdminGate(dataDir, random, () => store.users.count());
  const firstAdminSecret = (await store.users.count()) === 0 ? await gate.issue() : undefined;

  const ctx: HttpContext = {
    authenticator: new LocalAuthenticator(identity),
    identity,
    tokens,
    users,
    servers,
    spawnOptions,
    cookies,
    get publicOrigin() {
      return origin.value;
    },
    trustForwarded: config.hub.trustForwardedHeaders,
    firstAdmin: gate,
    log: log.child({ part: "http" }),
    version: VERSION,
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    closeSessionSockets: (key) => proxy.closeSession(key),
    slowSpawnWaitMs: options.slowSpawnWaitMs ?? 10_000,
  };

  let frontDoor: FrontDoor | undefined;
  const app = await buildApp(ctx, {
    staticDir: defaultStaticDir(),
    hsts: secure,
    serverFactory: (handler) => {
      frontDoor = createFrontDoor({ proxy, app: handler });
      return frontDoor.server;
    },
  });

  // Routes are rebuilt from the store, and interrupted launches adopted, before we take traffic.
  // The clock's timers are unref'd and nothing listens yet: without this handle, a reconcile
  // waiting for the scheduler's batched answer would let the process exit silently.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    await servers.reconcile();
  } finally {
    clearInterval(keepAlive);
  }
  await app.listen({ port: config.hub.port, host: config.hub.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.hub.port;
  if (!config.hub.publicUrl) {
    origin.value = `http://${config.hub.host.includes(":") ? `[${config.hub.host}]` : config.hub.host}:${port}`;
    allowedOrigins.splice(0, allowedOrigins.length, origin.value);
  }
  servers.startMonitor();

  const flushActivity = async () => {
    const seen = proxy.drainActivity();
    if (seen.length > 0) {
      await store.servers.recordActivity(seen.map((a) => ({ serverId: a.serverId, at: a.at })));
      const byUser = new Map<string, Date>();
      for (const a of seen) byUser.set(a.userName, a.at);
      const entries = [];
      for (const [name, at] of byUser) {
        const u = await store.users.getByName(name);
        if (u) entries.push({ userId: u.id, at });
      }
      await store.users.recordActivity(entries);
    }
    const tokenUse = tokens.drainActivity();
    if (tokenUse.length > 0) await store.tokens.touch(tokenUse);
  };
  const credentialChecks = new Counter({
    name: "slipway_credential_checks_total",
    help: "Checks of the sessions and tokens behind open websockets, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const credentialSweep = new CredentialSweep({
    openCredentials: () => proxy.takeCredentialUse(),
    sessionValid: (idHash, used) => identity.isSessionValid(idHash, used),
    tokenValid: (owner, id) => tokens.isTokenValid(owner, id),
    close: (key) => proxy.closeSession(key),
    clock,
    intervalMs: config.proxy.credentialCheckInterval * 1000,
    log: log.child({ part: "proxy" }),
    checked: (outcome) => credentialChecks.inc({ outcome }),
  });
  credentialSweep.start();

  const activityTimer = setInterval(() => {
    flushActivity().catch((err: unknown) => log.warn({ err }, "could not record activity"));
  }, config.proxy.activityFlushInterval * 1000);
  activityTimer.unref();
  const idleCollector = startIdleCollector({
    intervalMs: 2000,
    busyAbove: 0.2,
    quietBelow: 0.05,
    beforeCollect: () => proxy.releaseSpareBuffers(),
    log: log.child({ part: "memory" }),
  });

  const url = config.hub.publicUrl
    ? origin.value
    : `http://${config.hub.host.includes(":") ? `[${config.hub.host}]` : config.hub.host}:${port}`;
  log.info({ event: "hub_started", url, dataDir, version: VERSION }, "Slipway is listening");

  return {
    url,
    port,
    firstAdminUrl: firstAdminSecret ? `${origin.value}/hub/first-admin/${firstAdminSecret}` : undefined,
    log,
    async close() {
      clearInterval(activityTimer);
      idleCollector.stop();
      await credentialSweep.stop();
      await servers.close();
      for (const target of slurmTargets) target.close();
      await flushActivity().catch(() => undefined);
      frontDoor?.closeAll();
      await app.close();
      await store.close();
      logger.flush();
    },
  };
}
