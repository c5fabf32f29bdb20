import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { beginStart, POLICY, ServersWorld, socket, type Hub } from "./servers-test-fixture.js";

const TIMEOUT = POLICY.startTimeoutMs;

describe("a launch this hub drives (LaunchDriver, through ServersService)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let hub: Hub;
  beforeEach(async () => ({ world, hub } = await ServersWorld.withHub()));

  afterEach(() => world.close());

  it("fails a start the launcher refuses, with its reason, cleans up and keeps the log readable", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    await start.args.ctx.persist({ jobId: "812" });

    start.reject(new Error("sbatch: error: Invalid account or account/partition combination"));

    const failed = await world.untilEvent(server.id, "failed");
    assert.equal(failed.reason, "sbatch: error: Invalid account or account/partition combination");
    assert.deepEqual(hub.launcher.stopped, [{ jobId: "812" }], "what the launch left is stopped");
    assert.equal(await hub.service.logTail(world.alice, "", 50), 'log of {"jobId":"812"}');
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
  });

  it("looks a failed launch that stored nothing up by its attempt id, and stops what it finds", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    hub.launcher.recovers.answerWith(() => ({ pid: 99 }));

    start.reject(new Error("the helper crashed"));

    await world.untilEvent(server.id, "failed");
    assert.deepEqual(hub.launcher.recovers.made, [
      { userName: "alice", attemptId: server.attemptId, serverId: server.id },
    ]);
    assert.deepEqual(hub.launcher.stopped, [{ pid: 99 }]);
  });

  it("fails a server that does not answer within the start timeout, and stops its process", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    await start.args.ctx.persist({ pid: 17 });

    hub.clock.advance(TIMEOUT - 1);
    assert.equal(start.args.ctx.signal.aborted, false, "still within the start timeout");
    hub.clock.advance(1);
    assert.equal(start.args.ctx.signal.aborted, true, "the launch is aborted at the start timeout");

    const failed = await world.untilEvent(server.id, "failed");
    assert.equal(failed.reason, "The server did not start within 30 s");
    assert.deepEqual(hub.launcher.stopped, [{ pid: 17 }]);
  });

  it("lets a server wait in the queue past the start timeout, then gives it the whole timeout once its job runs", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    const ctx = start.args.ctx;
    assert.ok(ctx.phase, "the driver takes queue phases");

    // As a batch launcher reports a submitted job: queued, then its job id.
    await ctx.phase("queued", "Waiting for resources (Priority)");
    await ctx.persist({ jobId: "900" });
    const queued = await world.server();
    assert.deepEqual([queued.state, queued.reason], ["queued", "Waiting for resources (Priority)"]);
    hub.clock.advance(10 * TIMEOUT);
    assert.equal(ctx.signal.aborted, false, "a queue wait is a state, not a timeout");
    assert.equal((await world.server()).state, "queued");

    await ctx.phase("starting", "Running on node17");
    assert.equal((await world.server()).state, "starting");
    hub.clock.advance(TIMEOUT - 1);
    assert.equal(ctx.signal.aborted, false, "the start timeout starts when the job runs");
    hub.clock.advance(1);
    assert.equal(ctx.signal.aborted, true);
    const failed = await world.untilEvent(server.id, "failed");
    assert.equal(failed.reason, "The server did not start within 30 s");
  });

  it("shows a queued server's new pending reason, and announces an unchanged one no more", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    const phase = start.args.ctx.phase;
    assert.ok(phase);

    await phase("queued", "Waiting for resources (Priority)");
    await phase("queued", "Waiting for resources (Priority)");
    await phase("queued", "Waiting for resources (Resources)");

    const queuedEvents = (await hub.service.events(server.id, 0)).filter((e) => e.state === "queued");
    assert.deepEqual(
      queuedEvents.map((e) => e.message),
      ["Waiting for resources (Priority)", "Waiting for resources (Resources)"],
    );
    assert.equal((await world.server()).reason, "Waiting for resources (Resources)");
    start.reject(new Error("done"));
    await world.untilEvent(server.id, "failed");
  });

  it("aborts a launch stopped while it starts, and stops the process it had stored: nothing is orphaned", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    await start.args.ctx.persist({ pid: 23 });

    const stopped = await hub.service.stop(world.alice, "");

    assert.equal(start.args.ctx.signal.aborted, true, "the launch is aborted");
    assert.equal(stopped.state, "stopped");
    assert.equal(stopped.reason, "Stopped by the user");
    assert.deepEqual(hub.launcher.stopped, [{ pid: 23 }]);
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
    const states = (await hub.service.events(server.id, 0)).map((e) => e.state);
    assert.ok(!states.includes("failed"), "a stop on purpose is not a failure");
  });

  it("finds by its attempt id the process of a launch stopped before it stored anything, and stops it", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    hub.launcher.recovers.answerWith(() => ({ pid: 31 }));

    const stopped = await hub.service.stop(world.alice, "");

    assert.equal(start.args.ctx.signal.aborted, true);
    assert.equal(stopped.state, "stopped");
    assert.deepEqual(
      hub.launcher.recovers.made.map((r) => r.attemptId),
      [server.attemptId],
    );
    assert.deepEqual(hub.launcher.stopped, [{ pid: 31 }]);
  });

  it("hands the port a job reports to the launch waiting for it", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    const ctx = start.args.ctx;
    await ctx.persist({ jobId: "4410" });
    assert.ok(ctx.reportedPort);
    const reported = ctx.reportedPort();

    await hub.service.reportJobPort(server.id, `callback-${server.attemptId}`, 48_213);

    assert.equal(await reported, 48_213);
    start.resolve({ state: { jobId: "4410", port: 48_213 }, target: socket(2) });
    const running = await world.untilEvent(server.id, "running");
    assert.deepEqual(running.launcherState, { jobId: "4410", port: 48_213 });
  });
});
