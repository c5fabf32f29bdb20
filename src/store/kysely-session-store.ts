import type { Selectable } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import type { Session, SessionStage } from "../domain/types.js";
import type { IdpSessionKey, SessionStore } from "../ports/store.js";
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
    ...(row.auth_kind !== null && {
      auth: {
        kind: row.auth_kind,
        ...(row.idp_issuer !== null && { idpIssuer: row.idp_issuer }),
        ...(row.idp_subject !== null && { idpSubject: row.idp_subject }),
        ...(row.idp_session !== null && { idpSession: row.idp_session }),
        ...(row.auth_state_sealed !== null && { stateSealed: row.auth_state_sealed }),
      },
    }),
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
          auth_kind: session.auth?.kind ?? null,
          idp_issuer: session.auth?.idpIssuer ?? null,
          idp_subject: session.auth?.idpSubject ?? null,
          idp_session: session.auth?.idpSession ?? null,
          auth_state_sealed: session.auth?.stateSealed ?? null,
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

  async deleteForIdp(key: IdpSessionKey): Promise<{ idHash: string; userId: number }[]> {
    if (key.session === undefined && key.subject === undefined) return [];
    let query = this.#ctx.db.deleteFrom("sessions").where("idp_issuer", "=", key.issuer);
    query =
      key.session !== undefined
        ? query.where("idp_session", "=", key.session)
        : query.where("idp_subject", "=", key.subject ?? "");
    // A sid names one session at the provider; with a sub as well, both must match.
    if (key.session !== undefined && key.subject !== undefined) {
      query = query.where("idp_subject", "=", key.subject);
    }
    const rows = await query.returning(["id_hash", "user_id"]).execute();
    return rows.map((r) => ({ idHash: r.id_hash, userId: r.user_id }));
  }
}
