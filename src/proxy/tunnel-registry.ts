import type { WebSocketTunnel } from "./websocket-tunnel.js";

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
