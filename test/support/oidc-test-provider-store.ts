import type { Adapter, AdapterPayload } from "oidc-provider";

interface Entry {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds; undefined for entries without a lifetime. */
  readonly expiresAt: number | undefined;
}

/** Models whose entries a grant's revocation removes (oidc-provider's own memory adapter list). */
const GRANTABLE = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
  "PreAuthorizedCode",
]);

/**
 * The test provider's storage: one per provider, so that two fixtures in one process never share
 * sessions (oidc-provider's default adapter keeps a module-level store), and it survives the
 * provider being rebuilt with new keys or clients. It also lets the fixture list and end the
 * sessions of an account, which the adapter interface cannot.
 */
export class TestProviderStore {
  readonly #entries = new Map<string, Entry>();

  /** The adapter factory for oidc-provider's `adapter` option. */
  readonly adapter = (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        const expiresAt = expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000;
        this.#entries.set(key(id), { payload, expiresAt });
      },
      find: async (id) => this.#find(key(id)),
      findByUid: async (uid) => this.#findWhere(model, (p) => p.uid === uid),
      findByUserCode: async (code) => this.#findWhere(model, (p) => p.userCode === code),
      consume: async (id) => {
        const payload = this.#find(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.#entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [k, entry] of this.#entries) {
          const entryModel = k.slice(0, k.indexOf(":"));
          if (GRANTABLE.has(entryModel) && entry.payload.grantId === grantId) this.#entries.delete(k);
        }
      },
    };
  };

  /** The live provider sessions of `accountId`, with their storage ids. */
  sessionsOf(accountId: string): { id: string; payload: AdapterPayload }[] {
    const found: { id: string; payload: AdapterPayload }[] = [];
    for (const [k, entry] of this.#entries) {
      if (!k.startsWith("Session:") || !this.#live(k, entry)) continue;
      if (entry.payload.accountId === accountId)
        found.push({ id: k.slice("Session:".length), payload: entry.payload });
    }
    return found;
  }

  /** Ends a provider session: its cookie no longer signs anyone in. */
  destroySession(id: string): void {
    this.#entries.delete(`Session:${id}`);
  }

  #find(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    return entry && this.#live(key, entry) ? entry.payload : undefined;
  }

  #findWhere(model: string, match: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const [k, entry] of this.#entries) {
      if (k.startsWith(`${model}:`) && this.#live(k, entry) && match(entry.payload)) return entry.payload;
    }
    return undefined;
  }

  #live(key: string, entry: Entry): boolean {
    if (entry.expiresAt === undefined || entry.expiresAt > Date.now()) return true;
    this.#entries.delete(key);
    return false;
  }
}
