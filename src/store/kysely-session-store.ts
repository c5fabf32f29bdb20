import type { Selectable } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import type { Session, SessionStage } from "../domain/types.js";
import type { SessionStore } from "../ports/store.js";
import { decodeSessionStage, decodeTime } from "./column-decoders.js";
import type { SessionsTable } from "./database.js";
import type { StoreContext } from "./store-context.js";

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    stage: decodeSessionStage(row.stage, "sessions.stage"),
    xsrfToken: row.xsrf_token,
    createdAt: decodeTime(row.created_at, "sessions.created_at"),
    lastSeenAt: decodeTime(row.last_seen_at, "sessions.last_seen_at"),
    expiresAt: decodeTime(row.expires_at, "sessions.expires_at"),
  };
}

export class KyselySessionStore implements SessionStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(session: Session): Promise<void> {
    const { db, dialect } = this.#ctx;
    try {
      await db
        .insertInto("sessions")
        .values({
          id_hash: session.idHash,
          user_id: session.userId,
          stage: session.stage,
          xsrf_token: session.xsrfToken,
          created_at: dialect.time(session.createdAt),
          last_seen_at: dialect.time(session.lastSeenAt),
          expires_at: dialect.time(session.expiresAt),
        })
        .execute();
    } catch (error) {
      // The user was deleted while signing in.
      if (dialect.isForeignKeyViolation(error)) throw new SlipwayError("user_not_found");
      throw error;
    }
  }

  async get(idHash: string): Promise<Session | undefined> {
    const row = await this.#ctx.db
      .selectFrom("sessions")
      .selectAll()
      .where("id_hash", "=", idHash)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async touch(idHash: string, lastSeenAt: Date): Promise<void> {
    const at = this.#ctx.dialect.time(lastSeenAt);
    // Touches are fire-and-forget from several replicas; a late one must not move time back.
    await this.#ctx.db
      .updateTable("sessions")
      .set({ last_seen_at: at })
      .where("id_hash", "=", idHash)
      .where("last_seen_at", "<", at)
      .execute();
  }

  async setStage(idHash: string, stage: SessionStage): Promise<void> {
    await this.#ctx.db.updateTable("sessions").set({ stage }).where("id_hash", "=", idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.#ctx.db.deleteFrom("sessions").where("id_hash", "=", idHash).execute();
  }

  async deleteForUser(userId: number): Promise<number> {
    const result = await this.#ctx.db.deleteFrom("sessions").where("user_id", "=", userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A session is expired from its `expiresAt` on. */
  async deleteExpired(now: Date): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom("sessions")
      .where("expires_at", "<=", this.#ctx.dialect.time(now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
