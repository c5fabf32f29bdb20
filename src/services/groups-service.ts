import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, User } from "../domain/types.js";
import type { AuditLog } from "../ports/audit.js";
import type { Logger } from "../ports/logger.js";
import type { Group, Membership, Page, Store } from "../ports/store.js";
import { actedEntry, type ActedBy } from "./acted-by.js";

export type { Membership } from "../ports/store.js";

/** The group-name rule of the configuration's `auth.access.groupMap`, and of JupyterHub-style names. */
const GROUP_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/** Names an audit event lists in full; a longer list is cut there, with the count kept. */
const AUDIT_NAMES = 100;

export function isValidGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

export function assertGroupName(name: string): string {
  if (!isValidGroupName(name)) throw new SlipwayError("invalid_group_name");
  return name;
}

/** Names to add to a group and names to remove from it. */
export interface MemberChange {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** A group with its members, each with who made them one (an admin, or the identity provider). */
export interface GroupDetail {
  readonly name: string;
  readonly description: string;
  readonly createdAt: Date;
  readonly members: readonly Membership[];
}

/** The `reason` of an `admin_action` event about a group. */
export type GroupActionCode =
  "group_created" | "group_deleted" | "group_members_added" | "group_members_removed";

/**
 * Groups and their members, as admins manage them (API, admin page, CLI). Every request is checked
 * whole before anything is written: a bad name or an unknown user leaves the store as it was.
 * Memberships the identity provider sets at sign-in go through the store's `setIdpMemberships`,
 * not here; an admin adding such a member makes the membership the admin's.
 */
export class GroupsService {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #log: Logger;

  constructor(deps: { store: Store; audit: AuditLog; log: Logger }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#log = deps.log;
  }

  /** A page of groups by name, with their members (one query for the members of the whole page). */
  async list(offset: number, limit: number): Promise<Page<GroupDetail>> {
    const page = await this.#store.groups.list({ offset, limit });
    const members = await this.#store.groups.membershipsOf(page.items.map((g) => g.id));
    return { items: page.items.map((g) => detail(g, members.get(g.id) ?? [])), total: page.total };
  }

  async get(name: string): Promise<GroupDetail> {
    const group = await this.#find(name);
    return detail(group, await this.#memberships(group));
  }

  /** Creates one group, optionally with members; `group_exists`, `invalid_group_name`, `user_not_found`. */
  async create(name: string, users: readonly string[], by: ActedBy): Promise<GroupDetail> {
    const [created] = await this.createMany([name], users, by);
    if (!created) throw new SlipwayError("internal");
    return created;
  }

  /** Creates several groups, each with the same members; all names and users are checked first. */
  async createMany(
    groupNames: readonly string[],
    users: readonly string[],
    by: ActedBy,
  ): Promise<GroupDetail[]> {
    const wanted = [...new Set(groupNames)];
    for (const name of wanted) assertGroupName(name);
    for (const name of wanted) {
      if (await this.#store.groups.get(name)) {
        throw new SlipwayError("group_exists", `A group named ${name} exists already.`);
      }
    }
    const members = await this.#usersNamed(users);
    const created: GroupDetail[] = [];
    for (const name of wanted) {
      const group = await this.#store.groups.create({ name, description: "" });
      if (members.length > 0) await this.#store.groups.addMembers(group.id, ids(members));
      created.push(detail(group, await this.#memberships(group)));
      await this.#record(by, "group_created", { group: name, ...nameList("users", names(members)) });
    }
    return created;
  }

  async delete(name: string, by: ActedBy): Promise<void> {
    const group = await this.#find(name);
    await this.#store.groups.delete(group.name);
    await this.#record(by, "group_deleted", { group: group.name });
  }

  /** Adds members; those who are members already stay as they are (an idempotent request). */
  addMembers(name: string, users: readonly string[], by: ActedBy): Promise<GroupDetail> {
    return this.changeMembers(name, { add: users, remove: [] }, by);
  }

  /** Removes members; naming someone who is not a member changes nothing. */
  removeMembers(name: string, users: readonly string[], by: ActedBy): Promise<GroupDetail> {
    return this.changeMembers(name, { add: [], remove: users }, by);
  }

  /**
   * Adds and removes members in one request: every name is checked before either list is
   * written, and a name in both lists is refused (`validation_failed`).
   */
  async changeMembers(name: string, change: MemberChange, by: ActedBy): Promise<GroupDetail> {
    const group = await this.#find(name);
    const both = change.add.find((n) => change.remove.includes(n));
    if (both !== undefined) {
      throw new SlipwayError("validation_failed", `${both.slice(0, 64)} is both added and removed.`);
    }
    const [toAdd, toRemove] = [await this.#usersNamed(change.add), await this.#usersNamed(change.remove)];
    const before = await this.#memberships(group);
    // A provider's membership that an admin names becomes the admin's, so sign-in no longer removes it.
    const admins = new Set(before.filter((m) => m.source === "admin").map((m) => m.user));
    const added = toAdd.filter((u) => !admins.has(u.name));
    const members = new Set(before.map((m) => m.user));
    const removed = toRemove.filter((u) => members.has(u.name));
    if (added.length > 0) {
      await this.#store.groups.addMembers(group.id, ids(added));
      await this.#record(by, "group_members_added", {
        group: group.name,
        ...nameList("users", names(added)),
      });
    }
    if (removed.length > 0) {
      await this.#store.groups.removeMembers(group.id, ids(removed));
      const details = { group: group.name, ...nameList("users", names(removed)) };
      await this.#record(by, "group_members_removed", details);
    }
    return detail(group, await this.#memberships(group));
  }

  /** Names of the groups a user is in, sorted. */
  groupsOf(user: Pick<User, "id">): Promise<string[]> {
    return this.#store.groups.groupsOf(user.id);
  }

  /** Names of the groups of several users, by user id: one query for a whole page of users. */
  groupsOfUsers(users: readonly Pick<User, "id">[]): Promise<Map<number, string[]>> {
    return this.#store.groups.groupsOfUsers(users.map((u) => u.id));
  }

  async #find(name: string): Promise<Group> {
    const group = isValidGroupName(name) ? await this.#store.groups.get(name) : undefined;
    if (!group) throw new SlipwayError("group_not_found");
    return group;
  }

  async #memberships(group: Group): Promise<Membership[]> {
    return (await this.#store.groups.membershipsOf([group.id])).get(group.id) ?? [];
  }

  /** The users of these names, in one query; the first name without an account is `user_not_found`. */
  async #usersNamed(userNames: readonly string[]): Promise<User[]> {
    const wanted = [...new Set(userNames)];
    if (wanted.length === 0) return [];
    const found = new Map((await this.#store.users.getByNames(wanted)).map((u) => [u.name, u]));
    const missing = wanted.find((n) => !found.has(n));
    if (missing !== undefined) {
      throw new SlipwayError("user_not_found", `No such user: ${missing.slice(0, 64)}`, { user: missing });
    }
    return wanted.flatMap((n) => found.get(n) ?? []);
  }

  async #record(by: ActedBy, reason: GroupActionCode, details: JsonObject): Promise<void> {
    this.#log.info({ event: reason, by: by.actor, group: details["group"] }, reason);
    await this.#audit.record(actedEntry(by, { kind: "admin_action", reason, details }));
  }
}

function detail(group: Group, members: readonly Membership[]): GroupDetail {
  return { name: group.name, description: group.description, createdAt: group.createdAt, members };
}

function ids(users: readonly User[]): number[] {
  return users.map((u) => u.id);
}

function names(users: readonly User[]): string[] {
  return users.map((u) => u.name);
}

/** A list of names for an audit event: the first AUDIT_NAMES of them, and how many there were. */
function nameList(key: string, list: readonly string[]): JsonObject {
  return { [key]: list.slice(0, AUDIT_NAMES), [`${key}_count`]: list.length };
}
