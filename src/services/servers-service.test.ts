import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { beginStart, bringUp, ServersWorld, socket, type Hub } from "./servers-test-fixture.js";

describe("the server lifecycle (ServersService)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let hub: Hub;
  beforeEach(async () => ({ world, hub } = await ServersWorld.withHub()));

  afterEach(() => world.close());

  it("writes its intent, with a new attempt id, before it calls the launcher", async () => {
    const { server, start } = await beginStart(hub, world.alice);

    const atCall = await world.server();
    assert.equal(atCall.state, "submitting");
    assert.ok(atCall.attemptId, "the attempt has an id");
    assert.equal(start.args.spec.attemptId, atCall.attemptId, "the launcher gets the stored attempt id");
    assert.equal(start.args.spec.baseUrl, "/user/alice/");
    assert.equal(atCall.tokenSealed, `sealed:${start.args.spec.token}`, "the token is stored sealed");
    const events = await hub.service.events(server.id, 0);
    assert.deepEqual(
      events.map((e) => e.state),
      ["requested", "submitting"],
    );

    start.reject(new Error("no"));
    await world.untilEvent(server.id, "failed");
    const again = await beginStart(hub, world.alice);
    assert.notEqual(
      again.start.args.spec.attemptId,
      start.args.spec.attemptId,
      "each start is a new attempt",
    );
    const seq = await world.lastSeq(server.id);
    again.start.reject(new Error("no"));
    await world.untilEvent(server.id, "failed", seq);
  });

  it("stores the launcher's state as soon as the launcher reports it, before the server answers", async () => {
    const { start } = await beginStart(hub, world.alice);

    await start.args.ctx.persist({ pid: 4242 });

    const stored = await world.server();
    assert.deepEqual(stored.launcherState, { pid: 4242 });
    assert.notEqual(stored.state, "running");
    assert.equal(hub.routes.targetOf("alice", ""), undefined, "no route before the server answers");
    start.resolve({ state: { pid: 4242 }, target: socket(1) });
    await world.untilEvent(stored.id, "running");
  });

  it("is running, with its endpoint and route, once the launcher says it listens", async () => {
    const running = await bringUp(world, hub, 1);

    assert.deepEqual(running.endpoint, socket(1));
    assert.equal(running.reason, null);
    assert.deepEqual(running.startedAt, hub.clock.now());
    assert.deepEqual(hub.routes.table.get("alice/"), { serverId: running.id, target: socket(1) });
    const last = (await hub.service.events(running.id, 0)).at(-1);
    assert.deepEqual([last?.state, last?.progress], ["running", 100]);
  });

  it("gives back a running server when asked to start it again, and launches nothing", async () => {
    const running = await bringUp(world, hub, 1);

    const again = await hub.service.start(world.alice, "", {});

    assert.equal(again.attemptId, running.attemptId);
    assert.equal(hub.launcher.starts.made.length, 1);
  });

  it("refuses to start a server while it is stopping", async () => {
    await bringUp(world, hub, 1);
    hub.launcher.stops.hold();
    const stopping = hub.service.stop(world.alice, "");
    const stop = await hub.launcher.stops.next();

    await assert.rejects(hub.service.start(world.alice, "", {}), {
      name: "SlipwayError",
      code: "server_busy",
    });

    stop.resolve();
    assert.equal((await stopping).state, "stopped");
  });

  it("says server_not_found for a server that does not exist", async () => {
    await assert.rejects(hub.service.get(world.alice, "nothing-here"), {
      name: "SlipwayError",
      code: "server_not_found",
    });
    await assert.rejects(hub.service.stop(world.alice, "nothing-here"), {
      name: "SlipwayError",
      code: "server_not_found",
    });
  });

  it("removes the route and marks the server stopping before it stops the process, then stopped", async () => {
    const running = await bringUp(world, hub, 7);
    hub.launcher.stops.hold();

    const stopping = hub.service.stop(world.alice, "", "Stopped by the user");
    const stop = await hub.launcher.stops.next();

    assert.deepEqual(stop.args.state, { pid: 7 }, "the launcher stops this launch's process");
    assert.equal((await world.server()).state, "stopping");
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
    stop.resolve();
    const stopped = await stopping;
    assert.equal(stopped.state, "stopped");
    assert.equal(stopped.reason, "Stopped by the user");
    assert.equal(stopped.endpoint, null);
    assert.equal(stopped.tokenSealed, null, "the token of a stopped server is forgotten");
    assert.equal(stopped.attemptId, running.attemptId);
  });

  it("leaves a stop the launcher could not finish in stopping, for the monitor to finish", async () => {
    await bringUp(world, hub, 3);
    hub.launcher.stops.answerWith(() => {
      throw new Error("the helper timed out");
    });

    assert.equal((await hub.service.stop(world.alice, "")).state, "stopping");

    hub.launcher.stops.answerWith(() => undefined);
    await hub.service.reconcile();
    const after = await world.server();
    assert.equal(after.state, "stopped");
    assert.deepEqual(hub.launcher.stopped, [{ pid: 3 }, { pid: 3 }]);
  });

  it("stops a running server before removing it", async () => {
    const running = await bringUp(world, hub, 5, "scratch");

    await hub.service.remove(world.alice, "scratch");

    assert.deepEqual(hub.launcher.stopped, [{ pid: 5 }]);
    assert.equal(await hub.service.getById(running.id), undefined);
    assert.equal(hub.routes.targetOf("alice", "scratch"), undefined);
  });
});
