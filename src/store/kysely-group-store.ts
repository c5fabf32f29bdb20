import { SlipwayError } from "../domain/errors.js";
import type { Group, GroupStore, Membership, MembershipSource, Page } from "../ports/store.js";
import { decodeTime } from "./column-decoders.js";
import type { Database, TimeValue } from "./database.js";
import { chunks, type StoreContext } from "./store-context.js";
import type { Transaction } from "kysely";

/** Ids per statement: well below both dialects' bound-parameter limits. */
const ID_CHUNK = 1000;

interface GroupRow {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly created_at: TimeValue;
}

function toGroup(row: GroupRow): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: decodeTime(row.created_at, "groups.created_at"),
  };
}

const groupColumns = ["groups.id", "groups.name", "groups.description", "groups.created_at"] as const;

export class KyselyGroupStore implements GroupStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(input: { name: string; description: string }): Promise<Group> {
    const { db, dialect, clock } = this.#ctx;
    try {
      const row = await db
        .insertInto("groups")
        .values({ name: input.name, description: input.description, created_at: dialect.time(clock.now()) })
        .returning(groupColumns)
        .executeTakeFirstOrThrow();
      return toGroup(row);
    } catch (error) {
      if (dialect.isUniqueViolation(error)) throw new SlipwayError("group_exists");
      throw error;
    }
  }

  async get(name: string): Promise<Group | undefined> {
    const row = await this.#ctx.db
      .selectFrom("groups")
      .select(groupColumns)
      .where("groups.name", "=", name)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async list(options: { offset: number; limit: number }): Promise<Page<Group>> {
    const rows = await this.#ctx.db
      .selectFrom("groups")
      .select(groupColumns)
      .orderBy("groups.name")
      .limit(options.limit)
      .offset(options.offset)
      .execute();
    const count = await this.#ctx.db
      .selectFrom("groups")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    return { items: rows.map(toGroup), total: Number(count.n) };
  }

  async delete(name: string): Promise<void> {
    const result = await this.#ctx.db.deleteFrom("groups").where("name", "=", name).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new SlipwayError("group_not_found");
  }

  async members(groupId: number): Promise<string[]> {
    return (await this.membersOf([groupId])).get(groupId) ?? [];
  }

  async membersOf(groupIds: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>(groupIds.map((id) => [id, []]));
    for (const chunk of chunks([...new Set(groupIds)], ID_CHUNK)) {
      const rows = await this.#ctx.db
        .selectFrom("group_members")
        .innerJoin("users", "users.id", "group_members.user_id")
        .select(["group_members.group_id", "users.name"])
        .where("group_members.group_id", "in", chunk)
        .orderBy("users.name")
        .execute();
      for (const row of rows) out.get(row.group_id)?.push(row.name);
    }
    return out;
  }

  async membershipsOf(groupIds: readonly number[]): Promise<Map<number, Membership[]>> {
    const out = new Map<number, Membership[]>(groupIds.map((id) => [id, []]));
    for (const chunk of chunks([...new Set(groupIds)], ID_CHUNK)) {
      const rows = await this.#ctx.db
        .selectFrom("group_members")
        .innerJoin("users", "users.id", "group_members.user_id")
        .select(["group_members.group_id", "group_members.source", "users.name"])
        .where("group_members.group_id", "in", chunk)
        .orderBy("users.name")
        .execute();
      for (const row of rows) out.get(row.group_id)?.push({ user: row.name, source: sourceOf(row.source) });
    }
    return out;
  }

  async addMembers(groupId: number, userIds: readonly number[]): Promise<void> {
    await this.#ctx.db.transaction().execute(async (trx) => {
      for (const chunk of chunks([...new Set(userIds)], ID_CHUNK)) {
        await insertMembers(trx, groupId, chunk, "admin", true);
      }
    });
  }

  async removeMembers(groupId: number, userIds: readonly number[]): Promise<void> {
    for (const chunk of chunks([...new Set(userIds)], ID_CHUNK)) {
      await this.#ctx.db
        .deleteFrom("group_members")
        .where("group_id", "=", groupId)
        .where("user_id", "in", chunk)
        .execute();
    }
  }

  async groupsOf(userId: number): Promise<string[]> {
    return (await this.groupsOfUsers([userId])).get(userId) ?? [];
  }

  async groupsOfUsers(userIds: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>(userIds.map((id) => [id, []]));
    for (const chunk of chunks([...new Set(userIds)], ID_CHUNK)) {
      const rows = await this.#ctx.db
        .selectFrom("group_members")
        .innerJoin("groups", "groups.id", "group_members.group_id")
        .select(["group_members.user_id", "groups.name"])
        .where("group_members.user_id", "in", chunk)
        .orderBy("groups.name")
        .execute();
      for (const row of rows) out.get(row.user_id)?.push(row.name);
    }
    return out;
  }

  async setIdpMemberships(userId: number, names: readonly string[]): Promise<void> {
    const { db, dialect, clock } = this.#ctx;
    const wanted = [...new Set(names)].sort();
    await db.transaction().execute(async (trx) => {
      if (wanted.length > 0) {
        // Groups the provider names come into being; a concurrent sign-in making the same is fine.
        await trx
          .insertInto("groups")
          .values(wanted.map((name) => ({ name, description: "", created_at: dialect.time(clock.now()) })))
          .onConflict((oc) => oc.column("name").doNothing())
          .execute();
      }
      const groups =
        wanted.length === 0
          ? []
          : await trx.selectFrom("groups").select(["id", "name"]).where("name", "in", wanted).execute();
      const wantedIds = groups.map((g) => g.id);
      let stale = trx.deleteFrom("group_members").where("user_id", "=", userId).where("source", "=", "idp");
      if (wantedIds.length > 0) stale = stale.where("group_id", "not in", wantedIds);
      await stale.execute();
      for (const groupId of wantedIds) await insertMembers(trx, groupId, [userId], "idp", false);
    });
  }
}

/** A source as stored; anything but the provider's counts as an admin's, which sign-in never undoes. */
function sourceOf(value: string): MembershipSource {
  return value === "idp" ? "idp" : "admin";
}

/** Adds memberships; `takeOver` makes an existing one the given source's, otherwise it stays as it was. */
async function insertMembers(
  trx: Transaction<Database>,
  groupId: number,
  userIds: readonly number[],
  source: MembershipSource,
  takeOver: boolean,
): Promise<void> {
  if (userIds.length === 0) return;
  await trx
    .insertInto("group_members")
    .values(userIds.map((userId) => ({ group_id: groupId, user_id: userId, source })))
    .onConflict((oc) =>
      takeOver
        ? oc.columns(["group_id", "user_id"]).doUpdateSet({ source })
        : oc.columns(["group_id", "user_id"]).doNothing(),
    )
    .execute();
}
