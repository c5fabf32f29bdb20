import type { Principal } from "../domain/principal.js";
import { roleScopes } from "../domain/scopes.js";
import type { Session, SessionAuth, SessionStage, User } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { IdpSessionKey, Store } from "../ports/store.js";
import type { Randomness } from "./identity-service.js";
import { TtlCache } from "./ttl-cache.js";

export interface SessionPolicy {
  readonly sessionIdleTimeoutMs: number;
  readonly sessionMaxAgeMs: number;
  /** How long a full session is answered from memory before the store is asked again. */
  readonly cacheTtlMs: number;
}

/** A session just started: its id (the cookie's value, never stored) and what it is for. */
export interface SignInResult {
  readonly sessionId: string;
  readonly session: Session;
  readonly user: User;
}

/** A live session, its user, and the principal a request made with it acts as. */
export interface ResolvedSession {
  readonly session: Session;
  readonly user: User;
  readonly principal: Principal;
}

/** Minimum gap between two store writes of a session's last-seen time. */
const TOUCH_INTERVAL_MS = 60_000;

/** How long a session at a sign-in step (a second factor, an enrolment) lasts. */
const STEP_SESSION_MAX_AGE_MS = 15 * 60_000;

/**
 * Sessions: started, looked up, kept alive and ended. Their ids are opaque random tokens; only
 * their SHA-256 is stored, so a database dump opens no session. Full sessions are cached for a
 * short while so that the proxy resolves a cookie without an await; the last-seen time is written
 * at most once a minute. Whoever must act when a session ends (the proxy's open websockets)
 * listens through `onSessionEnd`.
 */
export class SessionService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #random: Randomness;
  readonly #policy: SessionPolicy;
  readonly #log: Logger;
  readonly #sessions: TtlCache<ResolvedSession>;
  readonly #lastTouch = new Map<string, number>();
  readonly #sessionEndListeners = new Set<(credentialKey: string, userId: number) => void>();

  constructor(deps: { store: Store; clock: Clock; random: Randomness; policy: SessionPolicy; log: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#policy = deps.policy;
    this.#log = deps.log;
    this.#sessions = new TtlCache({
      ttlMs: deps.policy.cacheTtlMs,
      maxEntries: 50_000,
      now: () => deps.clock.now().getTime(),
    });
  }

  /** Called when sessions end (sign-out, disable) so open websockets can be closed. */
  onSessionEnd(listener: (credentialKey: string, userId: number) => void): () => void {
    this.#sessionEndListeners.add(listener);
    return () => this.#sessionEndListeners.delete(listener);
  }

  /**
   * Starts a session for `user` at `stage`: full, or a sign-in step that lasts 15 minutes; `auth`
   * says how it was signed in (kept so that the provider can end it, and logout can reach it).
   */
  async createSession(user: User, stage: SessionStage, auth?: SessionAuth): Promise<SignInResult> {
    const sessionId = this.#random.token();
    const now = this.#clock.now();
    const maxAgeMs = stage === "full" ? this.#policy.sessionMaxAgeMs : STEP_SESSION_MAX_AGE_MS;
    const session: Session = {
      idHash: this.#random.sha256(sessionId),
      userId: user.id,
      stage,
      xsrfToken: this.#random.token(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + maxAgeMs),
      ...(auth !== undefined && { auth }),
    };
    await this.#store.sessions.create(session);
    return { sessionId, session, user };
  }

  /**
   * Resolves a session cookie. Returns synchronously when the session is cached, so the proxy's
   * hot path has no await; otherwise consults the store once.
   */
  resolveSession(sessionId: string): ResolvedSession | null | Promise<ResolvedSession | null> {
    if (sessionId.length === 0 || sessionId.length > 128) return null;
    const idHash = this.#random.sha256(sessionId);
    const cached = this.#sessions.get(idHash);
    if (cached !== undefined) {
      if (!this.#isLive(cached.session)) return null;
      this.#maybeTouch(idHash);
      return cached;
    }
    return this.loadSession(sessionId);
  }

  /** The session and its user from the store, at any stage; null when it ended or its user did. */
  async loadSession(sessionId: string): Promise<ResolvedSession | null> {
    const idHash = this.#random.sha256(sessionId);
    const session = await this.#store.sessions.get(idHash);
    if (!session || !this.#isLive(session)) return null;
    const user = await this.#store.users.getById(session.userId);
    if (!user || user.disabled) return null;
    const entry: ResolvedSession = {
      session,
      user,
      principal: {
        user,
        scopes: roleScopes(user.name, user.admin),
        via: "cookie",
        credentialKey: idHash,
        xsrfToken: session.xsrfToken,
      },
    };
    if (session.stage === "full") this.#sessions.set(idHash, entry);
    this.#maybeTouch(idHash);
    return entry;
  }

  /**
   * Whether a full session is still good, asked of the store rather than the cache so that a
   * sign-out on another replica counts. `used` records use that reached no hub page (traffic on
   * a websocket opened with the session), so working in a notebook keeps the session alive.
   */
  async isSessionValid(idHash: string, used: boolean): Promise<boolean> {
    const session = await this.#store.sessions.get(idHash);
    const user =
      session && session.stage === "full" ? await this.#store.users.getById(session.userId) : undefined;
    if (!session || !user || user.disabled || !this.#isLive(session)) {
      this.#sessions.delete(idHash);
      this.#lastTouch.delete(idHash);
      return false;
    }
    if (used) this.#maybeTouch(idHash);
    return true;
  }

  async signOut(sessionId: string): Promise<void> {
    const current = await this.loadSession(sessionId);
    await this.endSession(sessionId);
    if (current) this.#log.info({ event: "sign_out", user: current.user.name }, "signed out");
  }

  /** Ends one session, here and in the store, and tells the listeners. */
  async endSession(sessionId: string): Promise<void> {
    const idHash = this.#random.sha256(sessionId);
    const cached = this.#sessions.get(idHash);
    this.#sessions.delete(idHash);
    this.#lastTouch.delete(idHash);
    await this.#store.sessions.delete(idHash);
    for (const listener of this.#sessionEndListeners) listener(idHash, cached?.user.id ?? -1);
  }

  /**
   * Ends the sessions an identity provider names (back-channel logout): in the store, in this
   * replica's cache, and their open websockets. Returns the users whose sessions ended.
   */
  async endProviderSessions(key: IdpSessionKey): Promise<number[]> {
    const ended = await this.#store.sessions.deleteForIdp(key);
    for (const { idHash, userId } of ended) {
      this.#sessions.delete(idHash);
      this.#lastTouch.delete(idHash);
      for (const listener of this.#sessionEndListeners) listener(idHash, userId);
    }
    return [...new Set(ended.map((e) => e.userId))];
  }

  /** Ends every session of a user (disable, credential reset), on this replica at once. */
  async endUserSessions(userId: number): Promise<void> {
    await this.#store.sessions.deleteForUser(userId);
    this.#sessions.deleteWhere((entry) => entry.user.id === userId);
    for (const listener of this.#sessionEndListeners) listener(`user:${userId}`, userId);
  }

  /** Drops a user's cached sessions, so that the next request reads the account afresh. */
  forgetUser(userId: number): void {
    this.#sessions.deleteWhere((entry) => entry.user.id === userId);
  }

  #isLive(session: Session): boolean {
    const now = this.#clock.now().getTime();
    if (session.expiresAt.getTime() <= now) return false;
    const lastSeen = Math.max(session.lastSeenAt.getTime(), this.#lastTouch.get(session.idHash) ?? 0);
    return now - lastSeen < this.#policy.sessionIdleTimeoutMs;
  }

  #maybeTouch(idHash: string): void {
    const now = this.#clock.now().getTime();
    const last = this.#lastTouch.get(idHash) ?? 0;
    if (now - last < TOUCH_INTERVAL_MS) return;
    this.#lastTouch.set(idHash, now);
    this.#store.sessions.touch(idHash, new Date(now)).catch((err: unknown) => {
      this.#log.warn({ err }, "could not record session activity");
    });
  }
}
