import type { ExpressionBuilder, SqlBool } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import type { User, UserCredentials } from "../domain/types.js";
import type { NewUser, Page, UserPatch, UserStore } from "../ports/store.js";
import { advanceLastActivity } from "./advance-last-activity.js";
import {
  decodeBool,
  decodeInteger,
  decodeOptionalInteger,
  decodeOptionalTime,
  decodeTime,
  decodeZone,
} from "./column-decoders.js";
import type { BoolValue, Database, TimeValue } from "./database.js";
import { chunks, type StoreContext } from "./store-context.js";

/** Names per statement in getByNames: well below both dialects' bound-parameter limits. */
const NAME_CHUNK = 1000;

// The secret columns are never selected here, only whether they are set.
function userSelection(eb: ExpressionBuilder<Database, "users">) {
  return [
    "users.id",
    "users.name",
    "users.admin",
    "users.disabled",
    "users.created_at",
    "users.last_activity",
    "users.zone",
    "users.display_name",
    "users.email",
    eb("users.password_hash", "is not", null).as("has_password"),
    eb("users.totp_secret_sealed", "is not", null).as("totp_enrolled"),
  ] as const;
}

interface UserRow {
  readonly id: number;
  readonly name: string;
  readonly admin: BoolValue;
  readonly disabled: BoolValue;
  readonly created_at: TimeValue;
  readonly last_activity: TimeValue | null;
  readonly zone: string;
  readonly display_name: string | null;
  readonly email: string | null;
  readonly has_password: SqlBool;
  readonly totp_enrolled: SqlBool;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    name: row.name,
    admin: decodeBool(row.admin, "users.admin"),
    disabled: decodeBool(row.disabled, "users.disabled"),
    createdAt: decodeTime(row.created_at, "users.created_at"),
    lastActivity: decodeOptionalTime(row.last_activity, "users.last_activity"),
    zone: decodeZone(row.zone, "users.zone"),
    displayName: row.display_name,
    email: row.email,
    hasPassword: decodeBool(row.has_password, "users.password_hash"),
    totpEnrolled: decodeBool(row.totp_enrolled, "users.totp_secret_sealed"),
  };
}

export class KyselyUserStore implements UserStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(input: NewUser): Promise<User> {
    const { db, dialect, clock } = this.#ctx;
    try {
      const row = await db
        .insertInto("users")
        .values({
          name: input.name,
          admin: dialect.bool(input.admin),
          disabled: dialect.bool(false),
          created_at: dialect.time(clock.now()),
          zone: input.zone ?? "internal",
          display_name: input.displayName ?? null,
          email: input.email ?? null,
        })
        .returning(userSelection)
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      // The unique index decides, so two replicas creating the same name cannot both win.
      if (dialect.isUniqueViolation(error)) throw new SlipwayError("user_exists");
      throw error;
    }
  }

  async getById(id: number): Promise<User | undefined> {
    const row = await this.#ctx.db
      .selectFrom("users")
      .select(userSelection)
      .where("users.id", "=", id)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async getByName(name: string): Promise<User | undefined> {
    const row = await this.#ctx.db
      .selectFrom("users")
      .select(userSelection)
      .where("users.name", "=", name)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async getByNames(names: readonly string[]): Promise<User[]> {
    const out: User[] = [];
    for (const chunk of chunks([...new Set(names)], NAME_CHUNK)) {
      const rows = await this.#ctx.db
        .selectFrom("users")
        .select(userSelection)
        .where("users.name", "in", chunk)
        .execute();
      for (const row of rows) out.push(toUser(row));
    }
    return out;
  }

  async list(options: { offset: number; limit: number }): Promise<Page<User>> {
    const rows = await this.#ctx.db
      .selectFrom("users")
      .select(userSelection)
      .orderBy("users.id")
      .limit(options.limit)
      .offset(options.offset)
      .execute();
    return { items: rows.map(toUser), total: await this.count() };
  }

  async count(): Promise<number> {
    const row = await this.#ctx.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
      .executeTakeFirstOrThrow();
    return decodeInteger(row.n, "count(users)");
  }

  async update(id: number, patch: UserPatch): Promise<User> {
    const { db, dialect } = this.#ctx;
    const set = {
      ...(patch.admin !== undefined && { admin: dialect.bool(patch.admin) }),
      ...(patch.disabled !== undefined && { disabled: dialect.bool(patch.disabled) }),
      ...(patch.zone !== undefined && { zone: patch.zone }),
      ...(patch.displayName !== undefined && { display_name: patch.displayName }),
      ...(patch.email !== undefined && { email: patch.email }),
    };
    const row =
      Object.keys(set).length === 0
        ? await this.getById(id)
        : await db
            .updateTable("users")
            .set(set)
            .where("users.id", "=", id)
            .returning(userSelection)
            .executeTakeFirst()
            .then((r) => r && toUser(r));
    if (!row) throw new SlipwayError("user_not_found");
    return row;
  }

  async delete(id: number): Promise<void> {
    // Sessions, tokens, set-up links, servers and their events go with it (ON DELETE CASCADE).
    await this.#ctx.db.deleteFrom("users").where("users.id", "=", id).execute();
  }

  async getCredentials(userId: number): Promise<UserCredentials | undefined> {
    const row = await this.#ctx.db
      .selectFrom("users")
      .select(["id", "password_hash", "totp_secret_sealed", "totp_last_step"])
      .where("id", "=", userId)
      .executeTakeFirst();
    return (
      row && {
        userId: row.id,
        passwordHash: row.password_hash,
        totpSecretSealed: row.totp_secret_sealed,
        totpLastStep: decodeOptionalInteger(row.totp_last_step, "users.totp_last_step"),
      }
    );
  }

  async setPassword(userId: number, passwordHash: string): Promise<void> {
    const result = await this.#ctx.db
      .updateTable("users")
      .set({ password_hash: passwordHash })
      .where("id", "=", userId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new SlipwayError("user_not_found");
  }

  async setTotp(userId: number, sealedSecret: string | null): Promise<void> {
    // A new seed starts a new sequence of steps; the old seed's last step means nothing to it.
    const result = await this.#ctx.db
      .updateTable("users")
      .set({ totp_secret_sealed: sealedSecret, totp_last_step: null })
      .where("id", "=", userId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new SlipwayError("user_not_found");
  }

  async consumeTotpStep(userId: number, step: number): Promise<boolean> {
    // One conditional UPDATE: the row lock makes a concurrent second use of the same code
    // re-check the condition against the first one's write, so exactly one of them succeeds.
    const result = await this.#ctx.db
      .updateTable("users")
      .set({ totp_last_step: step })
      .where("id", "=", userId)
      .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  recordActivity(entries: readonly { userId: number; at: Date }[]): Promise<void> {
    return advanceLastActivity(
      this.#ctx,
      "users",
      entries.map((e) => ({ id: e.userId, at: e.at })),
    );
  }

  async findByIdentity(issuer: string, subject: string): Promise<User | undefined> {
    const row = await this.#ctx.db
      .selectFrom("user_identities")
      .innerJoin("users", "users.id", "user_identities.user_id")
      .select(userSelection)
      .where("user_identities.issuer", "=", issuer)
      .where("user_identities.subject", "=", subject)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async identityOf(userId: number, issuer: string): Promise<string | undefined> {
    const row = await this.#ctx.db
      .selectFrom("user_identities")
      .select("subject")
      .where("user_id", "=", userId)
      .where("issuer", "=", issuer)
      .executeTakeFirst();
    return row?.subject;
  }

  async bindIdentity(userId: number, issuer: string, subject: string): Promise<boolean> {
    const { db, dialect, clock } = this.#ctx;
    try {
      await db
        .insertInto("user_identities")
        .values({ issuer, subject, user_id: userId, created_at: dialect.time(clock.now()) })
        .execute();
      return true;
    } catch (error) {
      // Either key is taken: the subject by another account, or the account by another subject.
      if (dialect.isUniqueViolation(error)) return (await this.identityOf(userId, issuer)) === subject;
      throw error;
    }
  }
}
