import { SlipwayError } from "../domain/errors.js";
import { assertUserName } from "../domain/names.js";
import type { User } from "../domain/types.js";
import type { Logger } from "../ports/logger.js";
import type { Page, Store } from "../ports/store.js";
import type { IdentityService } from "./identity-service.js";
import type { ServersService } from "./servers-service.js";
import type { SessionService } from "./session-service.js";
import type { TokenService } from "./token-service.js";

/** Account administration: create, promote, disable, delete. */
export class UsersService {
  readonly #store: Store;
  readonly #identity: IdentityService;
  readonly #sessions: SessionService;
  readonly #servers: ServersService;
  readonly #tokens: TokenService;
  readonly #log: Logger;

  constructor(deps: {
    store: Store;
    identity: IdentityService;
    sessions: SessionService;
    servers: ServersService;
    tokens: TokenService;
    log: Logger;
  }) {
    this.#store = deps.store;
    this.#identity = deps.identity;
    this.#sessions = deps.sessions;
    this.#servers = deps.servers;
    this.#tokens = deps.tokens;
    this.#log = deps.log;
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

  /** Creates a user and returns a one-time set-up link token. */
  async create(name: string, admin: boolean): Promise<{ user: User; setupToken: string }> {
    assertUserName(name);
    const user = await this.#store.users.create({ name, admin });
    const setupToken = await this.#identity.createSetupLink(user.id);
    this.#log.info({ event: "user_created", user: name, admin }, "user created");
    return { user, setupToken };
  }

  async newSetupLink(name: string): Promise<string> {
    const user = await this.get(name);
    return this.#identity.createSetupLink(user.id);
  }

  async update(actor: User, name: string, patch: { admin?: boolean; disabled?: boolean }): Promise<User> {
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
      await this.#servers.stopAllFor(user, "The account was disabled");
      this.#log.info({ event: "user_disabled", user: name, by: actor.name }, "user disabled");
    }
    return updated;
  }

  async delete(actor: User, name: string): Promise<void> {
    const user = await this.get(name);
    if (user.id === actor.id) throw new SlipwayError("forbidden", "You cannot delete yourself.");
    await this.#sessions.endUserSessions(user.id);
    await this.#servers.stopAllFor(user, "The account was deleted");
    await this.#store.users.delete(user.id);
    this.#sessions.forgetUser(user.id);
    this.#tokens.forgetUser(user.id);
    this.#log.info({ event: "user_deleted", user: name, by: actor.name }, "user deleted");
  }
}
