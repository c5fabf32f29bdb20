import { SlipwayError } from "../domain/errors.js";
import type { SetupLinkStore } from "../ports/store.js";
import type { StoreContext } from "./store-context.js";

export class KyselySetupLinkStore implements SetupLinkStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(link: { hash: string; userId: number; expiresAt: Date }): Promise<void> {
    const { db, dialect, clock } = this.#ctx;
    try {
      await db
        .insertInto("setup_links")
        .values({
          hash: link.hash,
          user_id: link.userId,
          created_at: dialect.time(clock.now()),
          expires_at: dialect.time(link.expiresAt),
          used_at: null,
        })
        .execute();
    } catch (error) {
      if (dialect.isForeignKeyViolation(error)) throw new SlipwayError("user_not_found");
      throw error;
    }
  }

  async consume(hash: string, now: Date): Promise<number | undefined> {
    const at = this.#ctx.dialect.time(now);
    // One conditional UPDATE, so two requests racing with the same link cannot both get it.
    const row = await this.#ctx.db
      .updateTable("setup_links")
      .set({ used_at: at })
      .where("hash", "=", hash)
      .where("used_at", "is", null)
      .where("expires_at", ">", at)
      .returning("user_id")
      .executeTakeFirst();
    return row?.user_id;
  }
}
