import { decideAccess, type AccessPolicy } from "../domain/access-policy.js";
import { SlipwayError, isSlipwayError } from "../domain/errors.js";
import type { Session, SessionAuth, User } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { AuthState, Identity, ProviderLogout } from "../ports/authenticator.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Sealer } from "../ports/security.js";
import type { Store } from "../ports/store.js";
import type { SessionService, SignInResult } from "./session-service.js";

/**
 * Turns an identity an authenticator vouched for into a session: for a provider's identity, the
 * account is found by the subject it is bound to (or by name, and bound), made at first sign-in
 * when the rules allow, and given its admin flag, zone and groups from the rules of
 * `auth.access` and `auth.zones`; a second person whose name maps onto a bound account is
 * refused. Every sign-in, refusal and sign-out is recorded in the audit trail.
 */
export class SignInService {
  readonly #store: Store;
  readonly #sessions: SessionService;
  readonly #sealer: Sealer;
  readonly #audit: AuditLog;
  readonly #policy: AccessPolicy;
  readonly #method: string;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(deps: {
    store: Store;
    sessions: SessionService;
    sealer: Sealer;
    audit: AuditLog;
    policy: AccessPolicy;
    /** The authenticator's kind, recorded with sessions and events. */
    method: string;
    log: Logger;
    clock: Clock;
  }) {
    this.#clock = deps.clock;
    this.#store = deps.store;
    this.#sessions = deps.sessions;
    this.#sealer = deps.sealer;
    this.#audit = deps.audit;
    this.#policy = deps.policy;
    this.#method = deps.method;
    this.#log = deps.log;
  }

  /** Admits the identity and starts its full session; a refusal is recorded and thrown. */
  async start(identity: Identity, address: string): Promise<SignInResult> {
    let user: User;
    try {
      user = await this.#admit(identity);
    } catch (error) {
      if (isSlipwayError(error)) await this.refused(error.code, address, identity.name);
      throw error;
    }
    const result = await this.#sessions.createSession(user, "full", this.#sessionAuth(identity));
    const provider = identity.provider;
    if (provider?.session !== undefined) {
      // Remembered beyond the session itself: a logout token for a session that has ended since
      // (signed out here, timed out) is answered as done, one for a sid never seen is refused.
      await this.#store.usedTokenIds.use(
        issuedSidKey(provider.issuer, provider.session),
        result.session.expiresAt,
      );
    }
    await this.#audit.record({
      kind: "sign_in",
      actor: user.name,
      address,
      details: {
        method: this.#method,
        zone: user.zone,
        ...(identity.provider?.brokeredBy !== undefined && { brokeredBy: identity.provider.brokeredBy }),
      },
    });
    this.#log.info({ event: "sign_in", user: user.name, method: this.#method }, "signed in");
    return result;
  }

  /** Records a refused sign-in: `reason` is the refusal's code, `name` who it claimed to be, if known. */
  async refused(reason: string, address: string, name?: string): Promise<void> {
    await this.#audit.record({
      kind: "sign_in_refused",
      actor: null,
      subject: name?.slice(0, 64) ?? null,
      reason,
      address,
      details: { method: this.#method },
    });
  }

  /** What the session's method kept for its way out (the ID token), or null. */
  authStateOf(session: Session): AuthState | null {
    const sealed = session.auth?.stateSealed;
    if (sealed === undefined) return null;
    try {
      const parsed: unknown = JSON.parse(this.#sealer.open(sealed));
      if (typeof parsed !== "object" || parsed === null) return null;
      const state: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") state[k] = v;
      return state;
    } catch {
      return null;
    }
  }

  /** Ends a session at its user's request; records it. */
  async signOut(sessionId: string, user: User, address: string): Promise<void> {
    await this.#sessions.signOut(sessionId);
    await this.#audit.record({
      kind: "sign_out",
      actor: user.name,
      address,
      details: { method: this.#method },
    });
  }

  /**
   * Ends the sessions a provider's back-channel logout names; records it. A token naming a
   * provider session (`sid`) this hub never started — or has ended already — is refused
   * (`invalid_logout_token`): the provider is told, and nothing else of that person ends.
   */
  async providerLogout(logout: ProviderLogout, address: string): Promise<number> {
    const userIds = await this.#sessions.endProviderSessions({
      issuer: logout.issuer,
      ...(logout.subject !== undefined && { subject: logout.subject }),
      ...(logout.session !== undefined && { session: logout.session }),
    });
    if (logout.session !== undefined && userIds.length === 0) {
      const issued = await this.#store.usedTokenIds.seen(
        issuedSidKey(logout.issuer, logout.session),
        this.#clock.now(),
      );
      if (!issued)
        throw new SlipwayError("invalid_logout_token", "No session of this hub ever had that sid.");
    }
    const users = await Promise.all(userIds.map((id) => this.#store.users.getById(id)));
    const names = users.flatMap((u) => (u ? [u.name] : []));
    await this.#audit.record({
      kind: "backchannel_logout",
      actor: null,
      subject: names[0] ?? null,
      address,
      details: { sessionsEnded: names.length > 0, users: names, bySession: logout.session !== undefined },
    });
    return userIds.length;
  }

  /** Records a back-channel logout that was refused (a forged, replayed or malformed token). */
  async refusedLogout(reason: string, address: string): Promise<void> {
    await this.#audit.record({ kind: "backchannel_logout", actor: null, reason, address, details: {} });
  }

  #sessionAuth(identity: Identity): SessionAuth {
    const provider = identity.provider;
    return {
      kind: this.#method,
      ...(provider !== undefined && { idpIssuer: provider.issuer, idpSubject: provider.subject }),
      ...(provider?.session !== undefined && { idpSession: provider.session }),
      ...(identity.authState !== null && {
        stateSealed: this.#sealer.seal(JSON.stringify(identity.authState)),
      }),
    };
  }

  async #admit(identity: Identity): Promise<User> {
    const provider = identity.provider;
    if (provider === undefined) {
      const user = await this.#store.users.getByName(identity.name);
      if (!user) throw new SlipwayError("not_authenticated");
      if (user.disabled) throw new SlipwayError("user_disabled");
      return user;
    }
    const decision = decideAccess(
      {
        groups: identity.groups,
        ...(identity.zone !== undefined && { zone: identity.zone }),
        ...(provider.brokeredBy !== undefined && { brokeredBy: provider.brokeredBy }),
        ...(provider.zoneClaim !== undefined && { zoneClaim: provider.zoneClaim }),
      },
      this.#policy,
    );
    if (!decision.allowed) throw new SlipwayError("not_in_allowed_group");
    const account = await this.#account(identity, provider.issuer, provider.subject);
    if (account.disabled) throw new SlipwayError("user_disabled");
    const user = await this.#store.users.update(account.id, {
      zone: decision.zone,
      displayName: identity.displayName || null,
      email: identity.email ?? null,
      ...(decision.admin !== undefined && { admin: decision.admin }),
    });
    await this.#store.groups.setIdpMemberships(user.id, decision.groups);
    // Sessions of this user cached by this replica carry the account as it was: read it afresh.
    this.#sessions.forgetUser(user.id);
    return user;
  }

  /** The account bound to the subject, or the one of that name (bound now), or a new one. */
  async #account(identity: Identity, issuer: string, subject: string): Promise<User> {
    const bound = await this.#store.users.findByIdentity(issuer, subject);
    if (bound) {
      if (bound.name !== identity.name) throw new SlipwayError("name_collision");
      return bound;
    }
    let user = await this.#store.users.getByName(identity.name);
    if (!user) {
      if (!this.#policy.createUsers) throw new SlipwayError("user_not_provisioned");
      user = await this.#store.users
        .create({ name: identity.name, admin: false })
        .catch(async (error: unknown) => {
          // Another replica's sign-in of the same person made it first.
          const raced = isSlipwayError(error) && error.code === "user_exists";
          const existing = raced ? await this.#store.users.getByName(identity.name) : undefined;
          if (!existing) throw error;
          return existing;
        });
    }
    if (!(await this.#store.users.bindIdentity(user.id, issuer, subject)))
      throw new SlipwayError("name_collision");
    return user;
  }
}

/** The key under which a provider session id this hub signed someone in with is remembered. */
function issuedSidKey(issuer: string, sid: string): string {
  return `issued-sid:${issuer}#${sid}`;
}
