import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { PollResult } from "../ports/launcher.js";
import {
  beginStart,
  bringUp,
  callbackCredential,
  POLICY,
  ServersWorld,
  socket,
  type Hub,
} from "./servers-test-fixture.js";

const TIMEOUT = POLICY.startTimeoutMs;
const UNKNOWN: PollResult = { status: "unknown", reason: "squeue: error: Socket timed out on send/recv" };

/** One monitor pass in which every poll gets `answer`. */
async function pollAll(hub: Hub, answer: PollResult): Promise<void> {
  hub.launcher.polls.answerWith(() => answer);
  await hub.service.reconcile();
  hub.launcher.polls.hold();
}

describe("the monitor's polls (ServerMonitor)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let hub: Hub;
  beforeEach(async () => ({ world, hub } = await ServersWorld.withHub()));

  afterEach(() => world.close());

  it("keeps a server whose status is unknown running and routed, says so once, and clears it when a poll answers", async () => {
    const running = await bringUp(world, hub, 1);
    let notes = 0;
    const unsubscribe = hub.service.subscribe(running.id, () => notes++);

    await pollAll(hub, UNKNOWN);
    await pollAll(hub, UNKNOWN);

    assert.equal((await world.server()).state, "running");
    assert.deepEqual(hub.routes.targetOf("alice", ""), socket(1));
    assert.deepEqual(hub.launcher.stopped, [], "unknown stops nothing");
    assert.deepEqual(hub.launcher.released, []);
    assert.equal(hub.service.unknownReason(running.id), UNKNOWN.reason);
    assert.equal(notes, 1, "pages hear once that the status is unknown");

    await pollAll(hub, { status: "running", target: socket(1) });
    assert.equal(hub.service.unknownReason(running.id), undefined);
    assert.equal(notes, 2, "and once that it is known again");
    unsubscribe();
  });

  it("stops a server whose process ended, removes its route and releases what it left", async () => {
    await bringUp(world, hub, 4);

    await pollAll(hub, { status: "gone", reason: "The server process exited", failed: false });

    const ended = await world.server();
    assert.deepEqual([ended.state, ended.reason], ["stopped", "The server process exited"]);
    assert.equal(ended.endpoint, null);
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
    assert.deepEqual(hub.launcher.released, [{ pid: 4 }]);
    assert.deepEqual(hub.launcher.stopped, [], "a process that ended is not stopped again");
  });

  it("fails a running server whose target is no longer configured, and takes its route away", async () => {
    const running = await bringUp(world, hub, 4);
    await world.store.servers.update(running.id, { target: "retired" });

    await hub.service.reconcile();

    const ended = await world.server();
    assert.deepEqual([ended.state, ended.reason], ["failed", "Target retired is no longer configured"]);
    assert.equal(ended.endpoint, null);
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
  });

  it("finishes the stop of a server whose target is no longer configured, instead of leaving it stopping", async () => {
    const running = await bringUp(world, hub, 4);
    await world.store.servers.transition(
      running.id,
      ["running"],
      "stopping",
      { target: "retired" },
      hub.clock.now(),
    );

    await hub.service.reconcile();

    assert.equal((await world.server()).state, "stopped");
  });

  it("marks a server failed when its job failed", async () => {
    await bringUp(world, hub, 4);

    await pollAll(hub, { status: "gone", reason: "The job failed (exit code 1)", failed: true });

    const ended = await world.server();
    assert.deepEqual([ended.state, ended.reason], ["failed", "The job failed (exit code 1)"]);
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
  });

  it("does not end or unroute the new attempt when a gone answer about the old one comes late", async () => {
    await bringUp(world, hub, 1);
    const pass = hub.service.reconcile();
    const poll = await hub.launcher.polls.next();
    await hub.service.stop(world.alice, "");
    await bringUp(world, hub, 2);

    poll.resolve({ status: "gone", reason: "The server process exited", failed: false });
    await pass;

    const now = await world.server();
    assert.deepEqual([now.state, now.endpoint], ["running", socket(2)]);
    assert.deepEqual(hub.routes.targetOf("alice", ""), socket(2));
    assert.deepEqual(hub.launcher.released, [], "the new attempt's files are left alone");
  });

  it("re-checks one server at once when asked (the proxy saw its connection close), and stops it if gone", async () => {
    const running = await bringUp(world, hub, 6);

    hub.service.recheck(running.id);
    const poll = await hub.launcher.polls.next();
    assert.deepEqual(poll.args.state, { pid: 6 });
    poll.resolve({ status: "gone", reason: "The server process exited", failed: false });

    const stopped = await world.untilEvent(running.id, "stopped");
    assert.equal(stopped.state, "stopped");
    assert.equal(hub.routes.targetOf("alice", ""), undefined);
  });

  it("keeps the route of a re-checked server whose status is unknown", async () => {
    const running = await bringUp(world, hub, 6);

    hub.service.recheck(running.id);
    const poll = await hub.launcher.polls.next();
    const noted = world.notified(running.id);
    poll.resolve(UNKNOWN);
    await noted;

    assert.equal(hub.service.unknownReason(running.id), UNKNOWN.reason);
    assert.equal((await world.server()).state, "running");
    assert.deepEqual(hub.routes.targetOf("alice", ""), socket(6));
  });
});

describe("a hub started again after one was killed mid-launch (ServerMonitor)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let killed: Hub;

  beforeEach(async () => {
    world = await ServersWorld.open();
    killed = world.openHub();
  });

  afterEach(() => world.close());

  /** The killed hub's launch, left waiting for its job in the queue with the job id stored. */
  async function leftQueued(): Promise<number> {
    const { server, start } = await beginStart(killed, world.alice);
    await start.args.ctx.phase?.("queued", "Waiting for resources (Priority)");
    await start.args.ctx.persist({ jobId: "5150" });
    assert.equal((await world.server()).state, "queued");
    return server.id;
  }

  it("adopts a server the killed hub left starting only once it answers its readiness probe", async () => {
    const { server, start } = await beginStart(killed, world.alice);
    await start.args.ctx.persist({ pid: 8 });
    await start.args.ctx.phase?.("starting", "The server process runs");
    assert.equal((await world.server()).state, "starting");
    const after = world.openHub();
    after.probe.status = undefined;

    await pollAll(after, { status: "running", target: socket(8) });
    assert.notEqual((await world.server()).state, "running", "no answer, no adoption");
    assert.equal(after.routes.targetOf("alice", ""), undefined);

    after.probe.status = 200;
    await pollAll(after, { status: "running", target: socket(8) });
    const adopted = await world.server();
    assert.deepEqual([adopted.state, adopted.endpoint], ["running", socket(8)]);
    assert.deepEqual(after.routes.targetOf("alice", ""), socket(8));
    assert.deepEqual(after.probe.asked, [socket(8), socket(8)]);
    assert.equal(adopted.attemptId, server.attemptId);
  });

  it("finds by its attempt id a launch the killed hub had not yet stored, and adopts it", async () => {
    const { server } = await beginStart(killed, world.alice);
    const after = world.openHub();
    after.launcher.recovers.answerWith(() => ({ pid: 9 }));

    await pollAll(after, { status: "running", target: socket(9) });

    assert.deepEqual(after.launcher.recovers.made, [
      { userName: "alice", attemptId: server.attemptId, serverId: server.id },
    ]);
    assert.deepEqual(after.launcher.polls.made, [{ userName: "alice", state: { pid: 9 } }]);
    const adopted = await world.server();
    assert.deepEqual([adopted.state, adopted.launcherState], ["running", { pid: 9 }]);
    assert.deepEqual(after.routes.targetOf("alice", ""), socket(9));
  });

  it("gives a launch it cannot find the start timeout, then fails it: nothing is stuck pending", async () => {
    await beginStart(killed, world.alice);
    const after = world.openHub();

    after.clock.advance(TIMEOUT - 1);
    await after.service.reconcile();
    assert.equal((await world.server()).state, "submitting", "its helper may still be starting it");

    after.clock.advance(1);
    await after.service.reconcile();
    const failed = await world.server();
    assert.equal(failed.state, "failed");
    assert.match(failed.reason ?? "", /hub restarted while starting the server/);
    assert.equal(after.launcher.recovers.made.length, 2, "it looked for the launch each time");
  });

  it("fails a server the killed hub had only requested, once the start timeout has passed", async () => {
    const server = await killed.service.ensure(world.alice, "");
    await world.store.servers.transition(
      server.id,
      ["stopped"],
      "requested",
      { attemptId: "attempt-cut-short", tokenSealed: "sealed:t" },
      killed.clock.now(),
    );
    const after = world.openHub();

    after.clock.advance(TIMEOUT);
    await after.service.reconcile();

    assert.equal((await world.server()).state, "failed");
    assert.deepEqual(
      after.launcher.recovers.made.map((r) => r.attemptId),
      ["attempt-cut-short"],
    );
  });

  it("never fails or cancels an adopted job whose status is unknown, however long it lasts", async () => {
    await leftQueued();
    const after = world.openHub();

    await pollAll(after, UNKNOWN);
    after.clock.advance(100 * TIMEOUT);
    await pollAll(after, UNKNOWN);

    const still = await world.server();
    assert.deepEqual([still.state, still.launcherState], ["queued", { jobId: "5150" }]);
    assert.deepEqual(after.launcher.stopped, []);
  });

  it("shows the pending reason of an adopted queued job as the scheduler gives it", async () => {
    await leftQueued();
    const after = world.openHub();

    await pollAll(after, { status: "pending", detail: "Waiting for resources (Resources)" });

    const still = await world.server();
    assert.deepEqual([still.state, still.reason], ["queued", "Waiting for resources (Resources)"]);
  });

  it("cancels an adopted job that the launcher says must go (gone with cancel), then fails the server", async () => {
    await leftQueued();
    const after = world.openHub();

    await pollAll(after, {
      status: "gone",
      reason: "The job waited longer than the partition's queue limit",
      failed: true,
      cancel: true,
    });

    assert.deepEqual(after.launcher.stopped, [{ jobId: "5150" }]);
    const ended = await world.server();
    assert.deepEqual(
      [ended.state, ended.reason],
      ["failed", "The job waited longer than the partition's queue limit"],
    );
    assert.deepEqual(after.launcher.released, [{ jobId: "5150" }]);
  });

  it("finishes a stop the killed hub left stopping", async () => {
    await bringUp(world, killed, 12);
    killed.launcher.stops.hold();
    void killed.service.stop(world.alice, "");
    await killed.launcher.stops.next();
    const after = world.openHub();

    await after.service.reconcile();

    assert.equal((await world.server()).state, "stopped");
    assert.deepEqual(after.launcher.stopped, [{ pid: 12 }]);
  });
});

describe("the callback of a batch job (ServerMonitor)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let hub: Hub;
  beforeEach(async () => ({ world, hub } = await ServersWorld.withHub()));

  afterEach(() => world.close());

  /** A launch on `hub` whose job is submitted (id stored) and waits for its agent's port. */
  async function submitted(on: Hub): Promise<{ id: number; credential: string }> {
    const { server, start } = await beginStart(on, world.alice);
    await start.args.ctx.phase?.("queued", "Waiting for resources (Priority)");
    await start.args.ctx.persist({ jobId: "7001" });
    return { id: server.id, credential: callbackCredential(server.attemptId ?? "") };
  }

  it("refuses a wrong credential and stores no port", async () => {
    const { id } = await submitted(hub);

    await assert.rejects(hub.service.reportJobPort(id, "callback-guessed", 40_001), {
      name: "SlipwayError",
      code: "forbidden",
    });

    assert.deepEqual((await world.server()).launcherState, { jobId: "7001" });
  });

  it("takes a port once per attempt", async () => {
    const { id, credential } = await submitted(hub);

    await hub.service.reportJobPort(id, credential, 40_001);
    await assert.rejects(hub.service.reportJobPort(id, credential, 40_002), {
      name: "SlipwayError",
      code: "forbidden",
    });

    assert.deepEqual((await world.server()).launcherState, { jobId: "7001", port: 40_001 });
  });

  it("refuses the credential of an earlier attempt of the same server", async () => {
    const first = await beginStart(hub, world.alice);
    first.start.reject(new Error("sbatch failed"));
    await world.untilEvent(first.server.id, "failed");
    const { id } = await submitted(hub);

    const stale = callbackCredential(first.server.attemptId ?? "");
    await assert.rejects(hub.service.reportJobPort(id, stale, 40_001), {
      name: "SlipwayError",
      code: "forbidden",
    });
  });

  it("asks the agent to try again while the hub has not stored the job id", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    await start.args.ctx.phase?.("queued", "Submitted");
    const credential = callbackCredential(server.attemptId ?? "");

    await assert.rejects(hub.service.reportJobPort(server.id, credential, 40_001), {
      name: "SlipwayError",
      code: "server_busy",
    });

    await start.args.ctx.persist({ jobId: "7002" });
    await hub.service.reportJobPort(server.id, credential, 40_001);
    assert.equal((await world.server()).launcherState["port"], 40_001);
  });

  it("refuses a report for a server that is not starting", async () => {
    const { server, start } = await beginStart(hub, world.alice);
    start.resolve({ state: { jobId: "7003" }, target: socket(3) });
    await world.untilEvent(server.id, "running");

    const credential = callbackCredential(server.attemptId ?? "");
    await assert.rejects(hub.service.reportJobPort(server.id, credential, 40_001), {
      name: "SlipwayError",
      code: "forbidden",
    });
  });

  it("polls at once a job whose launch this hub is not driving (after a restart), and adopts it", async () => {
    const { id, credential } = await submitted(hub);
    const after = world.openHub();
    const routed = after.routes.nextRoute("alice", "");

    await after.service.reportJobPort(id, credential, 40_001);
    const poll = await after.launcher.polls.next();
    assert.deepEqual(poll.args.state, { jobId: "7001", port: 40_001 });
    poll.resolve({ status: "running", target: socket(7) });

    assert.deepEqual(await routed, socket(7));
    const adopted = await world.server();
    assert.deepEqual([adopted.state, adopted.endpoint], ["running", socket(7)]);
  });
});
