import type { WebSocketTunnel } from "./websocket-tunnel.js";

/** A session or API token that has websockets open through the proxy. */
export interface OpenCredential {
  readonly sessionKey: string;
  readonly via: "cookie" | "token";
  /** Whose credential it is. */
  readonly userName: string;
  /** The browser sent something on one of its websockets since the last look. */
  readonly used: boolean;
}

function addTo<K>(index: Map<K, Set<WebSocketTunnel>>, key: K, tunnel: WebSocketTunnel): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(tunnel);
}

function removeFrom<K>(index: Map<K, Set<WebSocketTunnel>>, key: K, tunnel: WebSocketTunnel): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(tunnel);
  if (set.size === 0) index.delete(key);
}

function closeAllIn(set: ReadonlySet<WebSocketTunnel> | undefined): number {
  if (set === undefined) return 0;
  // Closing removes a tunnel from the very set being walked; walk a copy.
  const tunnels = [...set];
  for (const tunnel of tunnels) tunnel.close();
  return tunnels.length;
}

/**
 * Every tunnel the gate has let through, indexed so that signing out closes the session's
 * websockets, disabling a user closes everything they use or own, and a retired route closes
 * the websockets into that server.
 */
export class TunnelRegistry {
  private readonly all = new Set<WebSocketTunnel>();
  private readonly bySession = new Map<string, Set<WebSocketTunnel>>();
  private readonly byUser = new Map<string, Set<WebSocketTunnel>>();
  private readonly byServer = new Map<number, Set<WebSocketTunnel>>();

  get size(): number {
    return this.all.size;
  }

  add(tunnel: WebSocketTunnel): void {
    this.all.add(tunnel);
    addTo(this.bySession, tunnel.principal.sessionKey, tunnel);
    addTo(this.byUser, tunnel.principal.userName, tunnel);
    addTo(this.byUser, tunnel.route.owner, tunnel);
    addTo(this.byServer, tunnel.route.serverId, tunnel);
  }

  remove(tunnel: WebSocketTunnel): void {
    if (!this.all.delete(tunnel)) return;
    removeFrom(this.bySession, tunnel.principal.sessionKey, tunnel);
    removeFrom(this.byUser, tunnel.principal.userName, tunnel);
    removeFrom(this.byUser, tunnel.route.owner, tunnel);
    removeFrom(this.byServer, tunnel.route.serverId, tunnel);
  }

  /**
   * The credentials that hold websockets open, each with whether the browser sent anything on
   * them since the last call, so a periodic check can end the tunnels of sessions that have
   * timed out or ended elsewhere, and count a notebook in use as use of its session.
   */
  takeCredentialUse(): OpenCredential[] {
    const out: OpenCredential[] = [];
    for (const [sessionKey, set] of this.bySession) {
      let used = false;
      let first: WebSocketTunnel | undefined;
      for (const tunnel of set) {
        first ??= tunnel;
        if (tunnel.clientSent) used = true;
        tunnel.clientSent = false;
      }
      if (first === undefined) continue;
      out.push({ sessionKey, via: first.principal.via, userName: first.principal.userName, used });
    }
    return out;
  }

  closeSession(sessionKey: string): number {
    return closeAllIn(this.bySession.get(sessionKey));
  }

  /** Tunnels opened by the user and tunnels into the user's servers. */
  closeUser(userName: string): number {
    return closeAllIn(this.byUser.get(userName));
  }

  closeServer(serverId: number): number {
    return closeAllIn(this.byServer.get(serverId));
  }

  closeAll(): number {
    return closeAllIn(this.all);
  }
}
