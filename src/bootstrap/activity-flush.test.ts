import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import pino from "pino";
import type { Store } from "../ports/store.js";
import type { ActivityRecord } from "../proxy/proxy.js";
import { openStore } from "../store/open-store.js";
import { ActivityFlush } from "./activity-flush.js";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

describe("the activity flush", () => {
  let store: Store;
  let lookUps = 0;
  let seen: ActivityRecord[] = [];
  let tokenUse: { id: string; at: Date }[] = [];
  let flush: ActivityFlush;

  beforeEach(async () => {
    store = await openStore("sqlite::memory:");
    await store.migrate();
    lookUps = 0;
    const users = store.users;
    // The real store, counting the look-ups of users (the flush's type offers no other kind).
    const counted = {
      getByNames: (names: readonly string[]) => (lookUps++, users.getByNames(names)),
      recordActivity: (entries: readonly { userId: number; at: Date }[]) => users.recordActivity(entries),
    };
    flush = new ActivityFlush({
      serverActivity: () => seen.splice(0),
      tokenUse: () => tokenUse.splice(0),
      store: { servers: store.servers, users: counted, tokens: store.tokens },
      intervalMs: 60_000,
      log: pino({ level: "silent" }),
    });
  });
  afterEach(() => store.close());

  async function userWithServer(name: string) {
    const user = await store.users.create({ name, admin: false });
    const server = await store.servers.create({
      userId: user.id,
      name: "",
      displayName: "",
      target: "local",
    });
    return { user, server };
  }

  it("records servers' and their owners' activity, finding every owner in one look-up", async () => {
    const people = await Promise.all(["alice", "bob", "carol"].map(userWithServer));
    seen = people.flatMap(({ user, server }, i) => [
      { serverId: server.id, userName: user.name, at: at(i) },
      { serverId: server.id, userName: user.name, at: at(i + 10) },
    ]);
    await flush.flush();
    assert.equal(lookUps, 1);
    for (const [i, { user, server }] of people.entries()) {
      assert.deepEqual((await store.users.getById(user.id))?.lastActivity, at(i + 10));
      assert.deepEqual((await store.servers.getById(server.id))?.lastActivity, at(i + 10));
    }
  });

  it("skips owners deleted since, and asks nothing when nothing was seen", async () => {
    const { user, server } = await userWithServer("alice");
    seen = [
      { serverId: server.id, userName: "alice", at: at(5) },
      { serverId: 999, userName: "gone", at: at(6) },
    ];
    await flush.flush();
    assert.deepEqual((await store.users.getById(user.id))?.lastActivity, at(5));
    await flush.flush();
    assert.equal(lookUps, 1);
  });

  it("records the use of API tokens", async () => {
    const { user } = await userWithServer("alice");
    const token = {
      id: "t1",
      userId: user.id,
      hash: "h1",
      prefix: "abcdef",
      note: "",
      scopes: [],
      createdAt: at(0),
      expiresAt: null,
      lastActivity: null,
    };
    await store.tokens.create(token);
    tokenUse = [{ id: "t1", at: at(8) }];
    await flush.flush();
    assert.deepEqual((await store.tokens.get(user.id, "t1"))?.lastActivity, at(8));
    assert.equal(lookUps, 0);
  });

  it("writes what is left when it stops", async () => {
    const { user, server } = await userWithServer("alice");
    flush.start();
    seen = [{ serverId: server.id, userName: "alice", at: at(7) }];
    await flush.stop();
    assert.deepEqual((await store.users.getById(user.id))?.lastActivity, at(7));
    assert.deepEqual(seen, []);
  });
});
