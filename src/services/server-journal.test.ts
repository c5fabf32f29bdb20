import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { isSlipwayError } from "../domain/errors.js";
import type { Server } from "../domain/types.js";
import { ServerJournal } from "./server-journal.js";
import { ManualClock, ServersWorld, T0 } from "./servers-test-fixture.js";

describe("the server journal's transitions", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let journal: ServerJournal;
  let server: Server;
  let notes: number;

  beforeEach(async () => {
    world = await ServersWorld.open();
    journal = new ServerJournal({ store: world.store, clock: new ManualClock(T0), notifier: world.notifier });
    server = await world.store.servers.create({
      userId: world.alice.id,
      name: "",
      displayName: "",
      target: "here",
    });
    notes = 0;
    world.notifier.subscribe(() => notes++);
  });

  afterEach(() => world.close());

  const illegal = (error: unknown) =>
    isSlipwayError(error) && error.code === "internal" && error.details?.["transition"] === "illegal";

  it("refuses a transition the lifecycle does not allow, loudly and before writing anything", async () => {
    await assert.rejects(journal.transition(server.id, ["stopped"], "running", {}), illegal);

    const after = await world.store.servers.getById(server.id);
    assert.deepEqual([after?.state, after?.version], ["stopped", server.version]);
    assert.equal(notes, 0, "nothing is announced");
  });

  it("refuses a set of states one of which may not move, even when the server is in another", async () => {
    await journal.transition(server.id, ["stopped"], "requested", { attemptId: "a1" });

    await assert.rejects(journal.transition(server.id, ["requested", "stopping"], "failed", {}), illegal);
    const seen = (await world.store.servers.getById(server.id)) ?? server;
    await assert.rejects(journal.transitionAttempt(seen, ["requested", "stopping"], "failed", {}), illegal);

    assert.equal((await world.store.servers.getById(server.id))?.state, "requested");
  });

  it("announces a transition that lands, and none that another writer won first", async () => {
    const requested = await journal.transition(server.id, ["stopped"], "requested", { attemptId: "a1" });
    assert.equal(requested?.state, "requested");
    assert.equal(notes, 1);

    assert.equal(await journal.transition(server.id, ["stopped", "failed"], "requested", {}), undefined);
    assert.equal(notes, 1);
  });
});
