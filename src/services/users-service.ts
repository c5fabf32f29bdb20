import { SlipwayError } from "../domain/errors.js";
import { assertUserName } from "../domain/names.js";
import type { JsonObject, User } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { Logger } from "../ports/logger.js";
import type { Page, Store } from "../ports/store.js";
import { actedEntry, unaudited, type ActedBy } from "./acted-by.js";
import type { IdentityService } from "./identity-service.js";
import type { ServersService } from "./servers-service.js";
import type { SessionService } from "./session-service.js";
import type { TokenService } from "./token-service.js";

/** The `reason` of an `admin_action` event: which action it was. */
export type AdminActionCode =
  | "user_created"
  | "user_deleted"
  | "user_made_admin"
  | "user_admin_removed"
  | "user_disabled"
  | "user_enabled"
  | "setup_link_issued";

/** Account administration: create, promote, disable, delete; each recorded in the audit trail. */
export class UsersService {
  readonly #store: Store;
  readonly #identity: IdentityService;
  readonly #sessions: SessionService;
  readonly #servers: ServersService;
  readonly #tokens: TokenService;
  readonly #setupLinks: boolean;
  readonly #log: Logger;
  readonly #audit: AuditLog;

  constructor(deps: {
    store: Store;
    identity: IdentityService;
    sessions: SessionService;
    servers: ServersService;
    tokens: TokenService;
    log: Logger;
    /** Where administrative actions are recorded (none when left out). */
    audit?: AuditLog;
    /**
     * Whether accounts are set up with one-time links (built-in accounts). With a provider or a
     * front door people sign in there, and no link is made.
     */
    setupLinks?: boolean;
  }) {
    this.#setupLinks = deps.setupLinks ?? true;
    this.#store = deps.store;
    this.#identity = deps.identity;
    this.#sessions = deps.sessions;
    this.#servers = deps.servers;
    this.#tokens = deps.tokens;
    this.#log = deps.log;
    this.#audit = deps.audit ?? unaudited;
  }

  list(offset: number, limit: number): Promise<Page<User>> {
    return this.#store.users.list({ offset, limit });
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#store.users.getByName(name)) !== undefined;
  }

  /**
   * Users filtered by their servers: `active` (a server not stopped), `ready` (one running),
   * `inactive` (none active). Active servers are few, so the filter starts from them.
   */
  async listByActivity(
    state: "active" | "ready" | "inactive",
    offset: number,
    limit: number,
  ): Promise<Page<User>> {
    const active = await this.#store.servers.listActive();
    const ids = new Set(
      active.filter((s) => state !== "ready" || s.state === "running").map((s) => s.userId),
    );
    if (state !== "inactive") {
      const sorted = [...ids].sort((a, b) => a - b);
      const users = [];
      for (const id of sorted.slice(offset, offset + limit)) {
        const user = await this.#store.users.getById(id);
        if (user) users.push(user);
      }
      return { items: users, total: sorted.length };
    }
    const items: User[] = [];
    let skipped = 0;
    let total = 0;
    const batch = 1000;
    for (let start = 0; ; start += batch) {
      const page = await this.#store.users.list({ offset: start, limit: batch });
      for (const user of page.items) {
        if (ids.has(user.id)) continue;
        total++;
        if (skipped < offset) skipped++;
        else if (items.length < limit) items.push(user);
      }
      if (start + batch >= page.total) break;
    }
    return { items, total };
  }

  async get(name: string): Promise<User> {
    const user = /^[a-z0-9][a-z0-9._-]{0,31}$/.test(name)
      ? await this.#store.users.getByName(name)
      : undefined;
    if (!user) throw new SlipwayError("user_not_found");
    return user;
  }

  /** Creates a user and returns a one-time set-up link token (null where sign-in is elsewhere). */
  async create(
    name: string,
    admin: boolean,
    by: ActedBy,
  ): Promise<{ user: User; setupToken: string | null }> {
    assertUserName(name);
    const user = await this.#store.users.create({ name, admin });
    const setupToken = this.#setupLinks ? await this.#identity.createSetupLink(user.id) : null;
    this.#log.info({ event: "user_created", user: name, admin }, "user created");
    await this.#record(by, name, "user_created", { admin });
    return { user, setupToken };
  }

  async newSetupLink(name: string, by: ActedBy): Promise<string> {
    if (!this.#setupLinks) throw new SlipwayError("setup_links_unused");
    const user = await this.get(name);
    const token = await this.#identity.createSetupLink(user.id);
    await this.#record(by, user.name, "setup_link_issued");
    return token;
  }

  async update(
    actor: User,
    name: string,
    patch: { admin?: boolean; disabled?: boolean },
    by: ActedBy,
  ): Promise<User> {
    const user = await this.get(name);
    if (user.id === actor.id && (patch.admin === false || patch.disabled === true)) {
      // An admin locking themselves out leaves a hub nobody can administer.
      throw new SlipwayError("forbidden", "You cannot remove your own admin rights or disable yourself.");
    }
    const updated = await this.#store.users.update(user.id, patch);
    this.#sessions.forgetUser(user.id);
    this.#tokens.forgetUser(user.id);
    if (patch.disabled === true && !user.disabled) {
      await this.#sessions.endUserSessions(user.id);
      await this.#servers.stopAllFor(user, "The account was disabled", by, "account_disabled");
      this.#log.info({ event: "user_disabled", user: name, by: actor.name }, "user disabled");
    }
    await this.#recordChanges(by, user, updated);
    return updated;
  }

  async delete(actor: User, name: string, by: ActedBy): Promise<void> {
    const user = await this.get(name);
    if (user.id === actor.id) throw new SlipwayError("forbidden", "You cannot delete yourself.");
    await this.#sessions.endUserSessions(user.id);
    await this.#servers.stopAllFor(user, "The account was deleted", by, "account_deleted");
    await this.#store.users.delete(user.id);
    this.#sessions.forgetUser(user.id);
    this.#tokens.forgetUser(user.id);
    this.#log.info({ event: "user_deleted", user: name, by: actor.name }, "user deleted");
    await this.#record(by, user.name, "user_deleted");
  }

  /** One event per change an update made: a flag set to what it already was changed nothing. */
  async #recordChanges(by: ActedBy, before: User, after: User): Promise<void> {
    if (before.admin !== after.admin) {
      await this.#record(by, after.name, after.admin ? "user_made_admin" : "user_admin_removed");
    }
    if (before.disabled !== after.disabled) {
      await this.#record(by, after.name, after.disabled ? "user_disabled" : "user_enabled");
    }
  }

  #record(by: ActedBy, subject: string, reason: AdminActionCode, details: JsonObject = {}): Promise<void> {
    return this.#audit.record(actedEntry(by, { kind: "admin_action", subject, reason, details }));
  }
}
