import type { ExpressionBuilder, Selectable, Updateable } from "kysely";
import { SlipwayError } from "../domain/errors.js";
import { SERVER_STATES, isActive, type ServerState } from "../domain/server-state.js";
import type { Server, ServerEvent } from "../domain/types.js";
import type { ServerPatch, ServerStore } from "../ports/store.js";
import { advanceLastActivity } from "./advance-last-activity.js";
import {
  decodeJsonObject,
  decodeOptionalTime,
  decodeServerState,
  decodeServerTarget,
  decodeTime,
} from "./column-decoders.js";
import type { Database, ServersTable } from "./database.js";
import type { DialectTraits } from "./dialect-traits.js";
import { chunks, type StoreContext } from "./store-context.js";

const ACTIVE_STATES = SERVER_STATES.filter(isActive);

/** User ids per statement in listForUsers: well below both dialects' bound-parameter limits. */
const USER_ID_CHUNK = 1000;

// The owner's name comes from a scalar subquery rather than a join, so that the same selection
// also works in RETURNING (SQLite cannot return columns of a joined table).
function serverSelection(eb: ExpressionBuilder<Database, "servers">) {
  return [
    "servers.id",
    "servers.user_id",
    "servers.name",
    "servers.display_name",
    "servers.state",
    "servers.reason",
    "servers.user_options",
    "servers.target",
    "servers.launcher_state",
    "servers.attempt_id",
    "servers.endpoint",
    "servers.token_sealed",
    "servers.created_at",
    "servers.started_at",
    "servers.state_changed_at",
    "servers.last_activity",
    "servers.version",
    eb.selectFrom("users").select("users.name").whereRef("users.id", "=", "servers.user_id").as("user_name"),
  ] as const;
}

type ServerRow = Omit<Selectable<ServersTable>, "event_seq"> & { readonly user_name: string | null };

function toServer(row: ServerRow): Server {
  // Deleting a user deletes its servers in the same statement, so an owner is always there.
  if (row.user_name === null) throw new SlipwayError("internal", "A stored server has no owner.");
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    name: row.name,
    displayName: row.display_name,
    state: decodeServerState(row.state, "servers.state"),
    reason: row.reason,
    userOptions: decodeJsonObject(row.user_options, "servers.user_options"),
    target: row.target,
    launcherState: decodeJsonObject(row.launcher_state, "servers.launcher_state"),
    attemptId: row.attempt_id,
    endpoint: row.endpoint === null ? null : decodeServerTarget(row.endpoint, "servers.endpoint"),
    tokenSealed: row.token_sealed,
    createdAt: decodeTime(row.created_at, "servers.created_at"),
    startedAt: decodeOptionalTime(row.started_at, "servers.started_at"),
    stateChangedAt: decodeTime(row.state_changed_at, "servers.state_changed_at"),
    lastActivity: decodeOptionalTime(row.last_activity, "servers.last_activity"),
    version: row.version,
  };
}

function patchColumns(patch: ServerPatch, dialect: DialectTraits): Updateable<ServersTable> {
  const set: Updateable<ServersTable> = {};
  if (patch.displayName !== undefined) set.display_name = patch.displayName;
  if (patch.reason !== undefined) set.reason = patch.reason;
  if (patch.userOptions !== undefined) set.user_options = JSON.stringify(patch.userOptions);
  if (patch.target !== undefined) set.target = patch.target;
  if (patch.launcherState !== undefined) set.launcher_state = JSON.stringify(patch.launcherState);
  if (patch.attemptId !== undefined) set.attempt_id = patch.attemptId;
  if (patch.endpoint !== undefined) set.endpoint = patch.endpoint && JSON.stringify(patch.endpoint);
  if (patch.tokenSealed !== undefined) set.token_sealed = patch.tokenSealed;
  if (patch.startedAt !== undefined) set.started_at = patch.startedAt && dialect.time(patch.startedAt);
  return set;
}

export class KyselyServerStore implements ServerStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(input: {
    userId: number;
    name: string;
    displayName: string;
    target: string;
  }): Promise<Server> {
    const { db, dialect, clock } = this.#ctx;
    const now = dialect.time(clock.now());
    try {
      const row = await db
        .insertInto("servers")
        .values({
          user_id: input.userId,
          name: input.name,
          display_name: input.displayName,
          state: "stopped",
          reason: null,
          user_options: "{}",
          target: input.target,
          launcher_state: "{}",
          attempt_id: null,
          endpoint: null,
          token_sealed: null,
          created_at: now,
          started_at: null,
          state_changed_at: now,
          last_activity: null,
          version: 1,
          event_seq: 0,
        })
        .returning(serverSelection)
        .executeTakeFirstOrThrow();
      return toServer(row);
    } catch (error) {
      // The unique (user_id, name) constraint decides, so racing requests cannot both create it.
      if (dialect.isUniqueViolation(error)) throw new SlipwayError("server_exists");
      if (dialect.isForeignKeyViolation(error)) throw new SlipwayError("user_not_found");
      throw error;
    }
  }

  async getById(id: number): Promise<Server | undefined> {
    const row = await this.#ctx.db
      .selectFrom("servers")
      .select(serverSelection)
      .where("servers.id", "=", id)
      .executeTakeFirst();
    return row && toServer(row);
  }

  async get(userId: number, name: string): Promise<Server | undefined> {
    const row = await this.#ctx.db
      .selectFrom("servers")
      .select(serverSelection)
      .where("servers.user_id", "=", userId)
      .where("servers.name", "=", name)
      .executeTakeFirst();
    return row && toServer(row);
  }

  async listForUser(userId: number): Promise<Server[]> {
    const rows = await this.#ctx.db
      .selectFrom("servers")
      .select(serverSelection)
      .where("servers.user_id", "=", userId)
      .orderBy("servers.name")
      .execute();
    return rows.map(toServer);
  }

  /** Ordered by user id, then server name. */
  async listForUsers(userIds: readonly number[]): Promise<Server[]> {
    const ids = [...new Set(userIds)].sort((a, b) => a - b);
    const out: Server[] = [];
    for (const chunk of chunks(ids, USER_ID_CHUNK)) {
      const rows = await this.#ctx.db
        .selectFrom("servers")
        .select(serverSelection)
        .where("servers.user_id", "in", chunk)
        .orderBy("servers.user_id")
        .orderBy("servers.name")
        .execute();
      for (const row of rows) out.push(toServer(row));
    }
    return out;
  }

  async listActive(): Promise<Server[]> {
    // A positive list of states, so that the index on state is used.
    const rows = await this.#ctx.db
      .selectFrom("servers")
      .select(serverSelection)
      .where("servers.state", "in", ACTIVE_STATES)
      .orderBy("servers.id")
      .execute();
    return rows.map(toServer);
  }

  async transition(
    id: number,
    from: readonly ServerState[],
    to: ServerState,
    patch: ServerPatch,
    at: Date,
    attemptId?: string,
  ): Promise<Server | undefined> {
    if (from.length === 0) return undefined;
    const { db, dialect } = this.#ctx;
    // Compare-and-set in one statement: of two replicas moving the same server, the second
    // finds the state already changed and updates nothing.
    const row = await db
      .updateTable("servers")
      .set((eb) => ({
        ...patchColumns(patch, dialect),
        state: to,
        state_changed_at: dialect.time(at),
        version: eb("servers.version", "+", 1),
      }))
      .where("servers.id", "=", id)
      .where("servers.state", "in", from)
      .$if(attemptId !== undefined, (qb) => qb.where("servers.attempt_id", "=", attemptId ?? null))
      .returning(serverSelection)
      .executeTakeFirst();
    return row && toServer(row);
  }

  async update(id: number, patch: ServerPatch, attemptId?: string): Promise<Server | undefined> {
    const { db, dialect } = this.#ctx;
    const set = patchColumns(patch, dialect);
    if (Object.keys(set).length === 0) {
      const server = await this.getById(id);
      return attemptId === undefined || server?.attemptId === attemptId ? server : undefined;
    }
    const row = await db
      .updateTable("servers")
      .set((eb) => ({ ...set, version: eb("servers.version", "+", 1) }))
      .where("servers.id", "=", id)
      .$if(attemptId !== undefined, (qb) => qb.where("servers.attempt_id", "=", attemptId ?? null))
      .returning(serverSelection)
      .executeTakeFirst();
    return row && toServer(row);
  }

  async delete(id: number): Promise<void> {
    await this.#ctx.db.deleteFrom("servers").where("servers.id", "=", id).execute();
  }

  /** Activity is not a lifecycle write, so it leaves `version` alone. */
  recordActivity(entries: readonly { serverId: number; at: Date }[]): Promise<void> {
    return advanceLastActivity(
      this.#ctx,
      "servers",
      entries.map((e) => ({ id: e.serverId, at: e.at })),
    );
  }

  async appendEvent(event: Omit<ServerEvent, "seq">): Promise<ServerEvent> {
    const { db, dialect } = this.#ctx;
    return db.transaction().execute(async (trx) => {
      // Bumping the server's counter takes its row lock, so concurrent appends to one server
      // queue up and each gets the next seq; appends to different servers do not contend.
      const bumped = await trx
        .updateTable("servers")
        .set((eb) => ({ event_seq: eb("servers.event_seq", "+", 1) }))
        .where("servers.id", "=", event.serverId)
        .returning("servers.event_seq")
        .executeTakeFirst();
      if (!bumped) throw new SlipwayError("server_not_found");
      await trx
        .insertInto("server_events")
        .values({
          server_id: event.serverId,
          seq: bumped.event_seq,
          at: dialect.time(event.at),
          state: event.state,
          progress: event.progress,
          message: event.message,
        })
        .execute();
      return { ...event, seq: bumped.event_seq };
    });
  }

  async listEvents(serverId: number, afterSeq: number): Promise<ServerEvent[]> {
    const rows = await this.#ctx.db
      .selectFrom("server_events")
      .selectAll()
      .where("server_id", "=", serverId)
      .where("seq", ">", afterSeq)
      .orderBy("seq")
      .execute();
    return rows.map((row) => ({
      serverId: row.server_id,
      seq: row.seq,
      at: decodeTime(row.at, "server_events.at"),
      state: decodeServerState(row.state, "server_events.state"),
      progress: row.progress,
      message: row.message,
    }));
  }
}
