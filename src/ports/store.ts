import type {
  ApiToken,
  JsonObject,
  Server,
  ServerEvent,
  ServerTarget,
  Session,
  SessionStage,
  User,
  UserCredentials,
  UserZone,
} from "../domain/types.js";
import type { ServerState } from "../domain/server-state.js";
import type { ThrottlePolicy } from "../domain/throttle-policy.js";
import type { AuditEntry, AuditEvent, AuditFilter } from "./audit.js";

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
}

export interface NewUser {
  readonly name: string;
  readonly admin: boolean;
  readonly zone?: UserZone;
  readonly displayName?: string | null;
  readonly email?: string | null;
}

export interface UserPatch {
  readonly admin?: boolean;
  readonly disabled?: boolean;
  readonly zone?: UserZone;
  readonly displayName?: string | null;
  readonly email?: string | null;
}

export interface UserStore {
  /** Throws SlipwayError("user_exists") when the name is taken. */
  create(input: NewUser): Promise<User>;
  getById(id: number): Promise<User | undefined>;
  getByName(name: string): Promise<User | undefined>;
  /** The users of these names that exist, in no particular order; one query, not one per name. */
  getByNames(names: readonly string[]): Promise<User[]>;
  /** Ordered by id. */
  list(options: { offset: number; limit: number }): Promise<Page<User>>;
  count(): Promise<number>;
  /** Throws SlipwayError("user_not_found"). */
  update(id: number, patch: UserPatch): Promise<User>;
  /** Deletes the user and everything it owns (sessions, tokens, servers, events). */
  delete(id: number): Promise<void>;
  getCredentials(userId: number): Promise<UserCredentials | undefined>;
  setPassword(userId: number, passwordHash: string): Promise<void>;
  /** Sets (or clears, with null) the sealed TOTP seed and forgets the last used step. */
  setTotp(userId: number, sealedSecret: string | null): Promise<void>;
  /**
   * Records `step` as used, atomically, only if it is later than the last used step.
   * Returns false when the step (or a later one) was already used: the code is spent.
   */
  consumeTotpStep(userId: number, step: number): Promise<boolean>;
  recordActivity(entries: readonly { userId: number; at: Date }[]): Promise<void>;
  /** The account a provider's subject is bound to. */
  findByIdentity(issuer: string, subject: string): Promise<User | undefined>;
  /** The subject the account is bound to at that issuer, if any. */
  identityOf(userId: number, issuer: string): Promise<string | undefined>;
  /**
   * Binds the account to the provider's subject. False, and nothing written, when the account is
   * bound to another subject at that issuer or the subject to another account.
   */
  bindIdentity(userId: number, issuer: string, subject: string): Promise<boolean>;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  get(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, lastSeenAt: Date): Promise<void>;
  setStage(idHash: string, stage: SessionStage): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteForUser(userId: number): Promise<number>;
  deleteExpired(now: Date): Promise<number>;
  /**
   * Ends the sessions an identity provider names: by its session id (`sid`) when given, else
   * every session of its subject (`sub`) at that issuer. Returns what was ended.
   */
  deleteForIdp(key: IdpSessionKey): Promise<{ idHash: string; userId: number }[]>;
}

/** The provider's names for a session, by which a back-channel logout finds it. */
export interface IdpSessionKey {
  readonly issuer: string;
  readonly subject?: string;
  readonly session?: string;
}

export interface TokenStore {
  create(token: ApiToken & { hash: string }): Promise<void>;
  /** Looks a token up by the hash of its secret. */
  getByHash(hash: string): Promise<(ApiToken & { hash: string }) | undefined>;
  get(userId: number, id: string): Promise<ApiToken | undefined>;
  listForUser(userId: number): Promise<ApiToken[]>;
  delete(userId: number, id: string): Promise<boolean>;
  touch(entries: readonly { id: string; at: Date }[]): Promise<void>;
}

export interface SetupLinkStore {
  create(link: { hash: string; userId: number; expiresAt: Date }): Promise<void>;
  /** Marks the link used, atomically; returns its user only on the first use before expiry. */
  consume(hash: string, now: Date): Promise<number | undefined>;
}

export interface ServerPatch {
  readonly displayName?: string;
  readonly reason?: string | null;
  readonly userOptions?: JsonObject;
  readonly target?: string;
  readonly launcherState?: JsonObject;
  readonly attemptId?: string | null;
  readonly endpoint?: ServerTarget | null;
  readonly tokenSealed?: string | null;
  readonly startedAt?: Date | null;
}

export interface ServerStore {
  /** Creates a stopped server; throws SlipwayError("server_exists"). */
  create(input: { userId: number; name: string; displayName: string; target: string }): Promise<Server>;
  getById(id: number): Promise<Server | undefined>;
  get(userId: number, name: string): Promise<Server | undefined>;
  listForUser(userId: number): Promise<Server[]>;
  listForUsers(userIds: readonly number[]): Promise<Server[]>;
  /** Every server not stopped or failed. */
  listActive(): Promise<Server[]>;
  /**
   * Compare-and-set transition: moves the server to `to` only if its state is one of `from`,
   * applying `patch` in the same write and bumping `version`. Returns undefined when the
   * state had changed underneath (another replica or request won). With `attemptId`, also only
   * while the server is still on that attempt: a verdict on an old attempt never touches a new one.
   */
  transition(
    id: number,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
    at: Date,
    attemptId?: string,
  ): Promise<Server | undefined>;
  /** Updates fields without changing state; with `attemptId`, only while on that attempt. */
  update(id: number, patch: ServerPatch, attemptId?: string): Promise<Server | undefined>;
  delete(id: number): Promise<void>;
  recordActivity(entries: readonly { serverId: number; at: Date }[]): Promise<void>;
  appendEvent(event: Omit<ServerEvent, "seq">): Promise<ServerEvent>;
  /** Events of the server with seq greater than `afterSeq`, oldest first. */
  listEvents(serverId: number, afterSeq: number): Promise<ServerEvent[]>;
}

/** What a throttle key's counted attempts allow. */
export interface ThrottleRule {
  readonly policy: ThrottlePolicy;
  /** A key whose last attempt is older than this starts counting afresh. */
  readonly windowMs: number;
}

/** A key an attempt is counted under, held to its own rule (an address allows more than a name). */
export interface ThrottleKey {
  readonly key: string;
  readonly rule: ThrottleRule;
}

/**
 * Attempt counters for sign-in throttling, shared by all replicas. An attempt is counted before
 * it is checked, so attempts sent together cannot all pass a look at the count; a success takes
 * it back or clears the key.
 */
export interface ThrottleStore {
  get(key: string): Promise<{ failures: number; lastFailureAt: Date } | undefined>;
  /**
   * Counts one attempt at `at` under every key, or under none: refused with
   * SlipwayError("too_many_attempts", details.retryAfter in seconds) while any key's delay, by
   * that key's rule, has not run out. Decided by conditional upserts in one transaction, so
   * concurrent callers on any replica never get more attempts through than each key's rule
   * allows. A key named twice is a RangeError.
   */
  reserve(keys: readonly ThrottleKey[], at: Date): Promise<void>;
  /** Takes back one counted attempt (it succeeded, or was never checked); never below zero. */
  release(key: string): Promise<void>;
  clear(key: string): Promise<void>;
}

export interface Group {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly createdAt: Date;
}

/** Who set a membership: the admin page, API or CLI, or the identity provider at sign-in. */
export type MembershipSource = "admin" | "idp";

/** A member of a group, and who made them one. */
export interface Membership {
  readonly user: string;
  readonly source: MembershipSource;
}

export interface GroupStore {
  /** Throws SlipwayError("group_exists"). */
  create(input: { name: string; description: string }): Promise<Group>;
  get(name: string): Promise<Group | undefined>;
  list(options: { offset: number; limit: number }): Promise<Page<Group>>;
  /** Throws SlipwayError("group_not_found"). */
  delete(name: string): Promise<void>;
  /** User names of the group's members, sorted. */
  members(groupId: number): Promise<string[]>;
  /** Member names of several groups at once, by group id. */
  membersOf(groupIds: readonly number[]): Promise<Map<number, string[]>>;
  /** The memberships of several groups at once, with their sources, by group id; sorted by user name. */
  membershipsOf(groupIds: readonly number[]): Promise<Map<number, Membership[]>>;
  /** Adds members as the admin set them; a membership the provider set becomes the admin's. */
  addMembers(groupId: number, userIds: readonly number[]): Promise<void>;
  removeMembers(groupId: number, userIds: readonly number[]): Promise<void>;
  /** Names of the groups a user is in, sorted. */
  groupsOf(userId: number): Promise<string[]>;
  /** Names of the groups of several users at once, by user id. */
  groupsOfUsers(userIds: readonly number[]): Promise<Map<number, string[]>>;
  /**
   * Makes the provider's memberships of a user exactly `names`, creating groups that do not
   * exist; memberships an admin set are left as they are. One transaction.
   */
  setIdpMemberships(userId: number, names: readonly string[]): Promise<void>;
}

/** A sign-in away at an identity provider: sealed state kept for one use, briefly. */
export interface SignInStateStore {
  put(handleHash: string, stateSealed: string, expiresAt: Date): Promise<void>;
  /** The state, deleted as it is read: a second take of the same handle gets nothing. */
  take(handleHash: string, now: Date): Promise<string | undefined>;
  deleteExpired(now: Date): Promise<number>;
}

/** Ids of one-time tokens already used (a logout token's `jti`), remembered until they expire. */
export interface UsedTokenIdStore {
  /** Records the id; false when it was recorded before (a replay). */
  use(key: string, expiresAt: Date): Promise<boolean>;
  /** Whether the id was recorded and has not expired. */
  seen(key: string, now: Date): Promise<boolean>;
  deleteExpired(now: Date): Promise<number>;
}

export interface AuditStore {
  append(entry: AuditEntry & { at: Date }): Promise<void>;
  /** Newest first, at most `limit`; `hasMore` says whether an older page exists. */
  list(filter: AuditFilter, limit: number): Promise<{ items: AuditEvent[]; hasMore: boolean }>;
}

export interface Store {
  readonly dialect: "sqlite" | "postgres";
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly tokens: TokenStore;
  readonly setupLinks: SetupLinkStore;
  readonly servers: ServerStore;
  readonly throttle: ThrottleStore;
  readonly groups: GroupStore;
  readonly signInStates: SignInStateStore;
  readonly usedTokenIds: UsedTokenIdStore;
  readonly audit: AuditStore;
  /** Runs pending migrations; idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
