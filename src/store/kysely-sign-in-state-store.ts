import type { SignInStateStore, UsedTokenIdStore } from "../ports/store.js";
import type { StoreContext } from "./store-context.js";

/** Sign-ins away at an identity provider: one row per sign-in, deleted by the read that uses it. */
export class KyselySignInStateStore implements SignInStateStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async put(handleHash: string, stateSealed: string, expiresAt: Date): Promise<void> {
    await this.#ctx.db
      .insertInto("sign_in_states")
      .values({
        handle_hash: handleHash,
        state_sealed: stateSealed,
        expires_at: this.#ctx.dialect.time(expiresAt),
      })
      .execute();
  }

  async take(handleHash: string, now: Date): Promise<string | undefined> {
    // DELETE … RETURNING: of two callbacks racing with the same handle (two replicas), one gets it.
    const row = await this.#ctx.db
      .deleteFrom("sign_in_states")
      .where("handle_hash", "=", handleHash)
      .returning(["state_sealed", "expires_at"])
      .executeTakeFirst();
    if (!row) return undefined;
    const expires = row.expires_at instanceof Date ? row.expires_at.getTime() : Number(row.expires_at);
    return expires > now.getTime() ? row.state_sealed : undefined;
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom("sign_in_states")
      .where("expires_at", "<=", this.#ctx.dialect.time(now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** One-time token ids already used, kept until the tokens themselves expire. */
export class KyselyUsedTokenIdStore implements UsedTokenIdStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async use(key: string, expiresAt: Date): Promise<boolean> {
    const result = await this.#ctx.db
      .insertInto("used_token_ids")
      .values({ key, expires_at: this.#ctx.dialect.time(expiresAt) })
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async seen(key: string, now: Date): Promise<boolean> {
    const row = await this.#ctx.db
      .selectFrom("used_token_ids")
      .select("key")
      .where("key", "=", key)
      .where("expires_at", ">", this.#ctx.dialect.time(now))
      .executeTakeFirst();
    return row !== undefined;
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom("used_token_ids")
      .where("expires_at", "<=", this.#ctx.dialect.time(now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
