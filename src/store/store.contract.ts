import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { T0, withStoreFrom, type StoreHarness } from "./contract/contract-kit.js";
import { identityStoreContract } from "./contract/identity-store.contract.js";
import { serverStoreContract } from "./contract/server-store.contract.js";
import { sessionStoreContract } from "./contract/session-store.contract.js";
import { setupLinkStoreContract } from "./contract/setup-link-store.contract.js";
import { throttleStoreContract } from "./contract/throttle-store.contract.js";
import { tokenStoreContract } from "./contract/token-store.contract.js";
import { userStoreContract } from "./contract/user-store.contract.js";

export type { OpenedStore, StoreHarness } from "./contract/contract-kit.js";
export { FakeClock } from "./contract/contract-kit.js";

/**
 * Registers the behaviour every Store must have, for one implementation. Each test gets a store
 * of its own on an empty database, so tests neither see nor wait for each other.
 */
export function storeContract(name: string, harness: StoreHarness): void {
  const withStore = withStoreFrom(harness);
  describe(name, () => {
    it(
      "migrates again without harm",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        await store.migrate();
        assert.deepEqual(await store.users.getById(alice.id), alice);
        assert.deepEqual(alice.createdAt, T0);
      }),
    );
    userStoreContract(withStore);
    sessionStoreContract(withStore);
    tokenStoreContract(withStore);
    setupLinkStoreContract(withStore);
    serverStoreContract(withStore);
    throttleStoreContract(withStore);
    identityStoreContract(withStore);
  });
}
