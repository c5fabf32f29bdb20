import type { Selectable } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import type { ApiToken } from "../domain/types.js";
import type { TokenStore } from "../ports/store.js";
import { advanceLastActivity } from "./advance-last-activity.js";
import { decodeOptionalTime, decodeStringArray, decodeTime } from "./column-decoders.js";
import type { ApiTokensTable } from "./database.js";
import type { StoreContext } from "./store-context.js";

const PUBLIC_COLUMNS = [
  "id",
  "user_id",
  "prefix",
  "note",
  "scopes",
  "created_at",
  "expires_at",
  "last_activity",
] as const;

function toToken(row: Omit<Selectable<ApiTokensTable>, "hash">): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    prefix: row.prefix,
    note: row.note,
    scopes: decodeStringArray(row.scopes, "api_tokens.scopes"),
    createdAt: decodeTime(row.created_at, "api_tokens.created_at"),
    expiresAt: decodeOptionalTime(row.expires_at, "api_tokens.expires_at"),
    lastActivity: decodeOptionalTime(row.last_activity, "api_tokens.last_activity"),
  };
}

export class KyselyTokenStore implements TokenStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(token: ApiToken & { hash: string }): Promise<void> {
    const { db, dialect } = this.#ctx;
    try {
      await db
        .insertInto("api_tokens")
        .values({
          id: token.id,
          user_id: token.userId,
          hash: token.hash,
          prefix: token.prefix,
          note: token.note,
          scopes: JSON.stringify(token.scopes),
          created_at: dialect.time(token.createdAt),
          expires_at: token.expiresAt && dialect.time(token.expiresAt),
          last_activity: token.lastActivity && dialect.time(token.lastActivity),
        })
        .execute();
    } catch (error) {
      if (dialect.isForeignKeyViolation(error)) throw new SlipwayError("user_not_found");
      throw error;
    }
  }

  async getByHash(hash: string): Promise<(ApiToken & { hash: string }) | undefined> {
    const row = await this.#ctx.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("hash", "=", hash)
      .executeTakeFirst();
    return row && { ...toToken(row), hash: row.hash };
  }

  async get(userId: number, id: string): Promise<ApiToken | undefined> {
    const row = await this.#ctx.db
      .selectFrom("api_tokens")
      .select(PUBLIC_COLUMNS)
      .where("user_id", "=", userId)
      .where("id", "=", id)
      .executeTakeFirst();
    return row && toToken(row);
  }

  async listForUser(userId: number): Promise<ApiToken[]> {
    const rows = await this.#ctx.db
      .selectFrom("api_tokens")
      .select(PUBLIC_COLUMNS)
      .where("user_id", "=", userId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toToken);
  }

  async delete(userId: number, id: string): Promise<boolean> {
    const result = await this.#ctx.db
      .deleteFrom("api_tokens")
      .where("user_id", "=", userId)
      .where("id", "=", id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  touch(entries: readonly { id: string; at: Date }[]): Promise<void> {
    return advanceLastActivity(this.#ctx, "api_tokens", entries);
  }
}
