import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { isSlipwayError } from "../domain/errors.js";
import { ActivityMeter } from "./activity-meter.js";
import { parseUserPath, type CanonicalUserPath, type RejectedUserPath } from "./canonical-path.js";
import { FastForwarder } from "./fast-forwarder.js";
import { Gate, isVerdict, NOT_AUTHENTICATED, NOT_RUNNING, type Verdict } from "./gate.js";
import { gateFailure, type GateFailure } from "./gate-failure.js";
import { redirectTo, refuseUpgrade, replyWithError } from "./gate-replies.js";
import { refuseUpgradeForHeadFault, replyToHeadFault, requestHeadFault } from "./head-fault.js";
import { HeaderRewriter } from "./header-rewriter.js";
import { HttpForwarder } from "./http-forwarder.js";
import { MissResolver } from "./miss-resolver.js";
import { defaultNotRunning } from "./not-running.js";
import { OriginPolicy } from "./origin-policy.js";
import type { ProxyOptions } from "./proxy-options.js";
import { nullProxyMetrics, statusClass, type ProxyMetrics } from "./proxy-metrics.js";
import { RouteTable } from "./route-table.js";
import type { TargetContext } from "./target-context.js";
import { TargetPins } from "./target-connection.js";
import { asError, reportTargetError } from "./target-error-report.js";
import { TargetWatch } from "./target-watch.js";
import { TunnelRegistry, type OpenCredential } from "./tunnel-registry.js";
import type {
  ActivityRecord,
  GateRequest,
  NotRunningHandler,
  ProxyLog,
  ProxyPrincipal,
  ProxyRoute,
} from "./types.js";
import { WebSocketTunnel } from "./websocket-tunnel.js";

export type {
  ActivityRecord,
  CredentialRequest,
  GateHeaders,
  GateRequest,
  NotRunningHandler,
  ProxyAuthenticate,
  ProxyLog,
  ProxyPrincipal,
  ProxyRoute,
  ResolveMiss,
} from "./types.js";
export type { ProxyMetrics, StatusClass, UpgradeOutcome } from "./proxy-metrics.js";
export { nullProxyMetrics } from "./proxy-metrics.js";
export { defaultNotRunning } from "./not-running.js";
export type { RouteTable } from "./route-table.js";
export type { OpenCredential } from "./tunnel-registry.js";
export type { ProxyOptions } from "./proxy-options.js";

const silentLog: ProxyLog = Object.freeze({ warn(): void {}, error(): void {} });

const NOT_FOUND = gateFailure("not_found");
const NOT_WEBSOCKET = gateFailure("bad_request", "Only websocket upgrades are proxied.");
const INTERNAL = gateFailure("internal");

function pathFailure(rejection: RejectedUserPath): GateFailure {
  return rejection.code === "not_found" ? NOT_FOUND : gateFailure("bad_request", rejection.reason);
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return req.method === "GET" && upgrade !== undefined && upgrade.toLowerCase() === "websocket";
}

/**
 * The gate to users' servers (architecture invariant 6): every `/user/...` request and
 * websocket is parsed once into its canonical path, authenticated, origin-checked and
 * authorized before anything reaches a server; then forwarded on that same path with the
 * server's token in place of the caller's credentials. With the route and the credential
 * cached, a request passes without a single await.
 */
export class Proxy {
  readonly routes: RouteTable;

  private readonly gate: Gate;
  private readonly notRunning: NotRunningHandler;
  private readonly onTargetError: ((route: ProxyRoute, error: Error) => void) | undefined;
  private readonly metrics: ProxyMetrics;
  private readonly log: ProxyLog;
  private readonly loginPath: string;
  private readonly activity: ActivityMeter;
  private readonly tunnels = new TunnelRegistry();
  private readonly context: TargetContext;
  private readonly forwarder: HttpForwarder;
  private readonly fast: FastForwarder;
  private readonly watch: TargetWatch;
  /** How the proxy, and the hub's readiness probes, connect to servers (invariant 9). */
  readonly pins = new TargetPins();

  constructor(options: ProxyOptions) {
    this.notRunning = options.notRunning ?? defaultNotRunning;
    this.onTargetError = options.onTargetError;
    this.metrics = options.metrics ?? nullProxyMetrics;
    this.log = options.log ?? silentLog;
    this.loginPath = options.loginPath ?? "/hub/login";
    this.activity = new ActivityMeter(options.now);
    this.watch = new TargetWatch({
      pins: this.pins,
      onLost: (route) => options.onTargetLost?.(route),
    });
    this.routes = new RouteTable(
      (route) => {
        this.watch.unwatch(route);
        this.tunnels.closeServer(route.serverId);
      },
      (route) => this.watch.watch(route),
    );
    this.gate = new Gate({
      authenticate: options.authenticate,
      origins: new OriginPolicy(options.allowedOrigins),
      routes: this.routes,
      misses: new MissResolver(options.resolveMiss, this.routes, this.log),
    });
    this.context = {
      rewriter: new HeaderRewriter({
        hubCookieNames: options.hubCookieNames,
        trustForwarded: options.trustForwarded ?? false,
        ...(options.identityHeaders !== undefined && { identityHeaders: options.identityHeaders }),
      }),
      activity: this.activity,
      metrics: this.metrics,
      pins: this.pins,
      reportTargetError: (route, error) => this.reportTargetError(route, error),
    };
    const maxSocketsPerTarget = options.maxSocketsPerTarget ?? 256;
    this.forwarder = new HttpForwarder({ context: this.context, maxSocketsPerTarget });
    this.fast = new FastForwarder({ context: this.context, maxSocketsPerTarget });
  }

  /** Number of open websockets. */
  get openWebSockets(): number {
    return this.tunnels.size;
  }

  /** The `request` listener for URLs starting with `/user/`. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const fault = requestHeadFault(req.rawHeaders);
    if (fault !== undefined) {
      this.metrics.request(statusClass(replyToHeadFault(req, res, fault)));
      return;
    }
    const path = parseUserPath(req.url ?? "");
    if (!path.ok) {
      this.refuse(req, res, pathFailure(path));
      return;
    }
    const principal = this.gate.authenticate(req);
    if (principal instanceof Promise) {
      void principal.then((resolved) => this.decideRequest(req, res, path, resolved));
      return;
    }
    this.decideRequest(req, res, path, principal);
  }

  /** The `upgrade` listener for URLs starting with `/user/`. Nothing is upgraded before the gate passes. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removed its own error listener when it handed the socket over.
    socket.on("error", destroyOnError);
    const fault = requestHeadFault(req.rawHeaders);
    if (fault !== undefined) {
      refuseUpgradeForHeadFault(socket, fault);
      this.metrics.upgrade("refused");
      return;
    }
    const path = parseUserPath(req.url ?? "");
    if (!path.ok) {
      this.refuseUpgrade(socket, pathFailure(path));
      return;
    }
    if (!isWebSocketUpgrade(req)) {
      this.refuseUpgrade(socket, NOT_WEBSOCKET);
      return;
    }
    const principal = this.gate.authenticate(req);
    if (principal instanceof Promise) {
      void principal.then((resolved) => this.decideUpgrade(req, socket, head, path, resolved));
      return;
    }
    this.decideUpgrade(req, socket, head, path, principal);
  }

  /**
   * The front door's fast path: the same gate, for a request head the front door parsed itself.
   * Only a request that would be forwarded gets a route; anything else (`undefined`) goes to
   * {@link handleRequest} through `node:http`, which answers it as it answers every request.
   */
  admitFast(
    req: GateRequest & { readonly url: string },
  ): ProxyRoute | undefined | Promise<ProxyRoute | undefined> {
    const path = parseUserPath(req.url);
    if (!path.ok) return undefined;
    const principal = this.gate.authenticate(req);
    if (principal instanceof Promise)
      return principal.then((resolved) => this.fastRoute(req, path, resolved));
    return this.fastRoute(req, path, principal);
  }

  /** Forwards what {@link admitFast} let through over the front door's own connections. */
  get fastForwarder(): FastForwarder {
    return this.fast;
  }

  /** Closes the websockets opened with this session or token (sign-out, revocation). */
  closeSession(sessionKey: string): number {
    return this.tunnels.closeSession(sessionKey);
  }

  /** Closes the websockets the user opened and those into the user's servers (disable, delete). */
  /** Credentials holding websockets open, and whether each was used since the last call. */
  takeCredentialUse(): OpenCredential[] {
    return this.tunnels.takeCredentialUse();
  }

  closeUser(userName: string): number {
    return this.tunnels.closeUser(userName);
  }

  /** Activity since the last call, one record per server; the hub writes it to the store. */
  drainActivity(): ActivityRecord[] {
    return this.activity.drain();
  }

  /** Bytes of read buffers kept for the next large response. */
  get spareBufferBytes(): number {
    return this.fast.pool.spareBytes;
  }

  /** Lets go of the read buffers kept for large responses, for when the hub goes quiet. */
  releaseSpareBuffers(): void {
    this.fast.pool.releaseSpareBuffers();
  }

  /** Closes every websocket and pooled connection. */
  close(): void {
    this.watch.close();
    this.tunnels.closeAll();
    this.forwarder.close();
    this.fast.close();
  }

  private fastRoute(
    req: GateRequest,
    path: CanonicalUserPath,
    principal: ProxyPrincipal | null | Verdict,
  ): ProxyRoute | undefined {
    if (principal !== null && isVerdict(principal)) return undefined;
    const verdict = this.gate.admit(req, path, principal, false);
    return verdict.kind === "forward" ? verdict.route : undefined;
  }

  private decideRequest(
    req: IncomingMessage,
    res: ServerResponse,
    path: CanonicalUserPath,
    principal: ProxyPrincipal | null | Verdict,
  ): void {
    if (principal !== null && isVerdict(principal)) this.answerRequest(req, res, path, principal);
    else this.answerRequest(req, res, path, this.gate.admit(req, path, principal, false));
  }

  private answerRequest(
    req: IncomingMessage,
    res: ServerResponse,
    path: CanonicalUserPath,
    verdict: Verdict,
  ): void {
    if (res.writableEnded || res.destroyed) return;
    switch (verdict.kind) {
      case "forward":
        this.forwarder.forward(req, res, verdict.route, path.url);
        return;
      case "refuse":
        this.refuse(req, res, verdict.failure);
        return;
      case "login":
        // `path.url` starts with `/user/`, so `next` stays on this site.
        redirectTo(res, `${this.loginPath}?next=${encodeURIComponent(path.url)}`);
        this.metrics.request("3xx");
        return;
      case "miss":
        void this.gate
          .resolve(path, verdict.candidate, verdict.principal)
          .then((resolved) => this.answerRequest(req, res, path, resolved));
        return;
      case "not-running":
        this.replyNotRunning(req, res, path.owner, verdict.serverName);
        return;
      case "error":
        this.refuse(req, res, this.failureOf(verdict.error));
        return;
    }
  }

  private replyNotRunning(
    req: IncomingMessage,
    res: ServerResponse,
    owner: string,
    serverName: string,
  ): void {
    res.once("finish", () => this.metrics.request(statusClass(res.statusCode)));
    try {
      const done = this.notRunning(req, res, owner, serverName);
      if (done instanceof Promise) done.catch((error: unknown) => this.failRequest(req, res, error));
    } catch (error) {
      this.failRequest(req, res, error);
    }
  }

  private refuse(req: IncomingMessage, res: ServerResponse, failure: GateFailure): void {
    replyWithError(req, res, failure);
    this.metrics.request(statusClass(failure.status));
  }

  private failRequest(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    this.refuse(req, res, this.failureOf(error));
  }

  private decideUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: CanonicalUserPath,
    principal: ProxyPrincipal | null | Verdict,
  ): void {
    const verdict =
      principal !== null && isVerdict(principal) ? principal : this.gate.admit(req, path, principal, true);
    this.answerUpgrade(req, socket, head, path, verdict);
  }

  private answerUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: CanonicalUserPath,
    verdict: Verdict,
  ): void {
    if (socket.destroyed) return;
    switch (verdict.kind) {
      case "forward": {
        // Registered before the server answers, so a sign-out during the handshake still closes it.
        const tunnel = new WebSocketTunnel(
          socket,
          verdict.route,
          verdict.principal,
          this.context,
          this.tunnels,
        );
        this.tunnels.add(tunnel);
        tunnel.open(req, path.url, head);
        return;
      }
      case "refuse":
        this.refuseUpgrade(socket, verdict.failure);
        return;
      case "login":
        this.refuseUpgrade(socket, NOT_AUTHENTICATED);
        return;
      case "miss":
        void this.gate
          .resolve(path, verdict.candidate, verdict.principal)
          .then((resolved) => this.answerUpgrade(req, socket, head, path, resolved));
        return;
      case "not-running":
        this.refuseUpgrade(socket, NOT_RUNNING);
        return;
      case "error":
        this.refuseUpgrade(socket, this.failureOf(verdict.error));
        return;
    }
  }

  private refuseUpgrade(socket: Duplex, failure: GateFailure): void {
    refuseUpgrade(socket, failure);
    this.metrics.upgrade("refused");
  }

  private failureOf(error: unknown): GateFailure {
    if (isSlipwayError(error)) {
      if (error.status >= 500) this.log.warn({ code: error.code }, error.message);
      return gateFailure(error.code, error.message);
    }
    this.log.error({ err: asError(error) }, "the proxy's gate failed");
    return INTERNAL;
  }

  private reportTargetError(route: ProxyRoute, error: Error): void {
    reportTargetError(this.log, this.onTargetError, route, error);
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}
