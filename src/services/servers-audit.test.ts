import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { AuditEvent } from "../ports/audit.js";
import type { PollResult } from "../ports/launcher.js";
import { bringUp, ServersWorld, type Hub } from "./servers-test-fixture.js";

/** One monitor pass in which every poll gets `answer`. */
async function pollAll(hub: Hub, answer: PollResult): Promise<void> {
  hub.launcher.polls.answerWith(() => answer);
  await hub.service.reconcile();
  hub.launcher.polls.hold();
}

/** The events of a kind, oldest first, as the fields a reader cares about. */
async function trail(world: ServersWorld, kind: AuditEvent["kind"]) {
  const { items } = await world.store.audit.list({ kinds: [kind] }, 100);
  return items.reverse().map(({ actor, subject, reason, address, details }) => ({
    actor,
    subject,
    reason,
    address,
    details,
  }));
}

describe("the audit trail of servers started and stopped (ServersService)", { timeout: 10_000 }, () => {
  let world: ServersWorld;
  let hub: Hub;
  beforeEach(async () => ({ world, hub } = await ServersWorld.withHub()));

  afterEach(() => world.close());

  it("records a start by its owner: no subject, the server, its target and its attempt", async () => {
    const server = await bringUp(world, hub, 1, "analysis");
    assert.deepEqual(await trail(world, "server_started"), [
      {
        actor: "alice",
        subject: null,
        reason: null,
        address: null,
        details: { server: "analysis", target: "here", attemptId: server.attemptId },
      },
    ]);
  });

  it("records who started someone else's server, with the owner as subject and the address", async () => {
    const by = { actor: "root-admin", address: "192.0.2.7" };
    const started = await hub.service.start(world.alice, "", {}, by);
    const launch = await hub.launcher.starts.next();
    launch.reject(new Error("not this time"));
    await world.untilEvent(started.id, "failed");
    const [event] = await trail(world, "server_started");
    assert.deepEqual(event, {
      actor: "root-admin",
      subject: "alice",
      reason: null,
      address: "192.0.2.7",
      details: { server: "", target: "here", attemptId: started.attemptId },
    });
  });

  it("records a stop as the owner's or an admin's", async () => {
    await bringUp(world, hub, 1);
    await hub.service.stop(world.alice, "");
    await bringUp(world, hub, 2);
    await hub.service.stop(world.alice, "", undefined, { actor: "root-admin", address: "192.0.2.7" });

    assert.deepEqual(await trail(world, "server_stopped"), [
      {
        actor: "alice",
        subject: null,
        reason: "stopped_by_user",
        address: null,
        details: { server: "", target: "here" },
      },
      {
        actor: "root-admin",
        subject: "alice",
        reason: "stopped_by_admin",
        address: "192.0.2.7",
        details: { server: "", target: "here" },
      },
    ]);
    assert.equal((await world.server()).reason, "Stopped by an admin", "the server says who stopped it");
  });

  it("records nothing for a stop of a server that was not running", async () => {
    await bringUp(world, hub, 1);
    await hub.service.stop(world.alice, "");
    await hub.service.stop(world.alice, "");
    assert.equal((await trail(world, "server_stopped")).length, 1);
  });

  it("records a server that ended by itself as the hub's, with how it ended", async () => {
    await bringUp(world, hub, 1);
    await pollAll(hub, {
      status: "gone",
      reason: "Slurm job 7 ended: it reached its time limit (walltime).",
      failed: true,
    });
    await bringUp(world, hub, 2);
    await pollAll(hub, { status: "gone", reason: "The server process exited", failed: false });

    assert.deepEqual(
      (await trail(world, "server_stopped")).map((e) => [e.actor, e.subject, e.reason, e.details["message"]]),
      [
        [null, "alice", "failed", "Slurm job 7 ended: it reached its time limit (walltime)."],
        [null, "alice", "ended", "The server process exited"],
      ],
    );
  });

  it("records the stops of an account's servers with the admin's reason code", async () => {
    await bringUp(world, hub, 1);
    await bringUp(world, hub, 2, "second");
    await hub.service.stopAllFor(
      world.alice,
      "The account was disabled",
      { actor: "root-admin" },
      "account_disabled",
    );
    const stops = await trail(world, "server_stopped");
    assert.deepEqual(stops.map((e) => [e.actor, e.subject, e.reason, e.details["server"]]).sort(), [
      ["root-admin", "alice", "account_disabled", ""],
      ["root-admin", "alice", "account_disabled", "second"],
    ]);
  });
});
