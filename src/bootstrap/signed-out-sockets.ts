import type { Store } from "../ports/store.js";
import type { Disposer } from "./disposables.js";

export interface SignedOutSocketsDeps {
  readonly tokens: { onRevoke(listener: (tokenId: string) => void): () => void };
  /** Tells of every session that ends: its key, or `user:<id>` for all of a user's. */
  readonly sessions: { onSessionEnd(listener: (credentialKey: string, userId: number) => void): () => void };
  readonly users: Pick<Store["users"], "getById">;
  /** The proxy's websockets opened with one session or token, and with any of a user's. */
  readonly sockets: { closeSession(key: string): void; closeUser(userName: string): void };
}

/**
 * Closes the websockets a credential opened as soon as it ends on this replica: a revoked token,
 * a session signed out, or every session of a user (`user:<id>` keys: disabled or deleted), whose
 * name the proxy's index is keyed by. Returns the disposer that stops listening.
 */
export function closeSocketsOnSignOut(deps: SignedOutSocketsDeps): Disposer {
  const { sockets } = deps;
  const stopRevokes = deps.tokens.onRevoke((tokenId) => sockets.closeSession(tokenId));
  const stopSessionEnds = deps.sessions.onSessionEnd((key, userId) => {
    if (!key.startsWith("user:")) {
      sockets.closeSession(key);
      return;
    }
    deps.users.getById(userId).then(
      (u) => u && sockets.closeUser(u.name),
      () => undefined,
    );
  });
  return () => {
    stopRevokes();
    stopSessionEnds();
  };
}
