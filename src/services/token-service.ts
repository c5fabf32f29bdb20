import { SlipwayError } from "../domain/errors.js";
import type { Principal } from "../domain/principal.js";
import { expandRequested, intersectScopes, isWithin, parseScope, roleScopes } from "../domain/scopes.js";
import type { ApiToken, User } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";
import { actedEntry, unaudited, type ActedBy } from "./acted-by.js";
import type { Randomness } from "./identity-service.js";
import { TtlCache } from "./ttl-cache.js";

export interface NewApiToken {
  /** Shown once; only its hash is kept. */
  readonly token: string;
  readonly model: ApiToken;
}

const TOKEN_PATTERN = /^slw_[A-Za-z0-9_-]{43}$/;

/** API tokens: `Authorization: token <t>` or `Bearer <t>`, stored as SHA-256 hashes. */
export class TokenService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #random: Randomness;
  readonly #log: Logger;
  readonly #audit: AuditLog;
  readonly #maxExpiresInSeconds: number | undefined;
  readonly #cache: TtlCache<{ principal: Principal; expiresAt: number } | null>;
  readonly #revokeListeners = new Set<(tokenId: string) => void>();
  readonly #touched = new Map<string, Date>();

  constructor(deps: {
    store: Store;
    clock: Clock;
    random: Randomness;
    log: Logger;
    /** Where creations and revocations are recorded (none when left out). */
    audit?: AuditLog;
    maxExpiresInSeconds: number | undefined;
    cacheTtlMs: number;
  }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#log = deps.log;
    this.#audit = deps.audit ?? unaudited;
    this.#maxExpiresInSeconds = deps.maxExpiresInSeconds;
    this.#cache = new TtlCache({
      ttlMs: deps.cacheTtlMs,
      maxEntries: 50_000,
      now: () => deps.clock.now().getTime(),
    });
  }

  /**
   * Makes a token for `owner` on behalf of a requester holding `requesterScopes`. Its scopes must be
   * held by both (JupyterHub's rule): a credential limited to `tokens` must not mint one that
   * reaches the owner's servers. `self`/`inherit`, the default, mean everything both hold.
   * `by` is who asked, for the audit trail.
   */
  async create(
    owner: User,
    request: { note?: string; scopes?: readonly string[]; expiresIn?: number | null },
    requesterScopes: ReadonlySet<string>,
    by: ActedBy,
  ): Promise<NewApiToken> {
    const ownerScopes = roleScopes(owner.name, owner.admin);
    const inheritable = intersectScopes(requesterScopes, ownerScopes);
    const requested = expandRequested(request.scopes ?? ["inherit"], inheritable);
    for (const scope of requested) {
      if (!parseScope(scope)) {
        throw new SlipwayError("validation_failed", `Unknown scope: ${scope.slice(0, 64)}`);
      }
      if (!isWithin(ownerScopes, scope)) {
        throw new SlipwayError("scope_not_held", `A token cannot have a scope its owner lacks: ${scope}`);
      }
      if (!isWithin(requesterScopes, scope)) {
        throw new SlipwayError(
          "scope_not_held",
          `A token cannot be given a scope the credential asking for it lacks: ${scope}`,
        );
      }
    }
    let expiresIn = request.expiresIn ?? null;
    if (this.#maxExpiresInSeconds !== undefined) {
      expiresIn = Math.min(expiresIn ?? this.#maxExpiresInSeconds, this.#maxExpiresInSeconds);
    }
    const secret = this.#random.token();
    const token = `slw_${secret}`;
    const now = this.#clock.now();
    const model: ApiToken = {
      id: `t${this.#random.token().slice(0, 15)}`,
      userId: owner.id,
      prefix: secret.slice(0, 6),
      note: (request.note ?? "").slice(0, 200),
      scopes: [...requested].sort(),
      createdAt: now,
      expiresAt: expiresIn === null ? null : new Date(now.getTime() + expiresIn * 1000),
      lastActivity: null,
    };
    await this.#store.tokens.create({ ...model, hash: this.#random.sha256(token) });
    this.#log.info({ event: "token_created", user: owner.name, tokenId: model.id }, "API token created");
    await this.#audit.record(
      actedEntry(by, {
        kind: "token_created",
        subject: owner.name,
        // The id, the note and what it may do; never the token, nor its prefix.
        details: {
          tokenId: model.id,
          note: model.note,
          scopes: [...model.scopes],
          expiresAt: model.expiresAt?.toISOString() ?? null,
        },
      }),
    );
    return { token, model };
  }

  /** Parses an Authorization header value; undefined when it carries no token. */
  static fromHeader(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
    return match?.[1];
  }

  /** Synchronous when cached (the proxy's hot path), else one store look-up. */
  resolve(token: string): Principal | null | Promise<Principal | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const hash = this.#random.sha256(token);
    const cached = this.#cache.get(hash);
    if (cached !== undefined) {
      if (cached === null) return null;
      // The cache may outlive the token: its expiry is checked on every use, not only on a miss.
      if (cached.expiresAt <= this.#clock.now().getTime()) return null;
      this.#touch(cached.principal.credentialKey);
      return cached.principal;
    }
    return this.#load(hash);
  }

  async #load(hash: string): Promise<Principal | null> {
    const row = await this.#store.tokens.getByHash(hash);
    let principal: Principal | null = null;
    if (row && (row.expiresAt === null || row.expiresAt.getTime() > this.#clock.now().getTime())) {
      const user = await this.#store.users.getById(row.userId);
      if (user && !user.disabled) {
        // A token never holds more than its owner holds now (an admin demoted loses them at once).
        const owner = roleScopes(user.name, user.admin);
        const scopes = new Set(row.scopes.filter((s) => isWithin(owner, s)));
        principal = { user, scopes, via: "token", credentialKey: row.id, xsrfToken: null };
      }
    }
    this.#cache.set(
      hash,
      principal ? { principal, expiresAt: row?.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY } : null,
    );
    if (principal) this.#touch(principal.credentialKey);
    return principal;
  }

  #touch(id: string): void {
    this.#touched.set(id, this.#clock.now());
  }

  /** Token activity collected since the last call, for a batched store write. */
  drainActivity(): { id: string; at: Date }[] {
    const out = [...this.#touched].map(([id, at]) => ({ id, at }));
    this.#touched.clear();
    return out;
  }

  list(owner: User): Promise<ApiToken[]> {
    return this.#store.tokens.listForUser(owner.id);
  }

  async get(owner: User, id: string): Promise<ApiToken> {
    const token = await this.#store.tokens.get(owner.id, id);
    if (!token) throw new SlipwayError("token_not_found");
    return token;
  }

  async revoke(owner: User, id: string, by: ActedBy): Promise<void> {
    const token = await this.#store.tokens.get(owner.id, id);
    if (!token || !(await this.#store.tokens.delete(owner.id, id))) throw new SlipwayError("token_not_found");
    this.#cache.deleteWhere((p) => p !== null && p.principal.credentialKey === id);
    for (const listener of this.#revokeListeners) listener(id);
    this.#log.info({ event: "token_revoked", user: owner.name, tokenId: id }, "API token revoked");
    await this.#audit.record(
      actedEntry(by, {
        kind: "token_revoked",
        subject: owner.name,
        details: { tokenId: id, note: token.note },
      }),
    );
  }

  forgetUser(userId: number): void {
    this.#cache.deleteWhere((p) => p !== null && p.principal.user.id === userId);
  }

  /** Whether a token still exists, unexpired, for an enabled owner; asked of the store, not the cache. */
  async isTokenValid(ownerName: string, id: string): Promise<boolean> {
    const owner = await this.#store.users.getByName(ownerName);
    const token = owner && !owner.disabled ? await this.#store.tokens.get(owner.id, id) : undefined;
    const valid =
      token !== undefined &&
      (token.expiresAt === null || token.expiresAt.getTime() > this.#clock.now().getTime());
    if (!valid) this.#cache.deleteWhere((p) => p !== null && p.principal.credentialKey === id);
    return valid;
  }

  /** Called with a token's id when it is revoked, so websockets opened with it can be closed. */
  onRevoke(listener: (tokenId: string) => void): () => void {
    this.#revokeListeners.add(listener);
    return () => this.#revokeListeners.delete(listener);
  }
}
