import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../../ports/store.js";
import { at, countWinners, rejectsWithCode, T0, type WithStore } from "./contract-kit.js";

/** A TLS endpoint, the richer of the two kinds: every field must come back as stored. */
const ENDPOINT = {
  kind: "tls",
  host: "node17",
  port: 48_123,
  certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
} as const;

async function aliceWithServer(store: Store, name = "") {
  const alice = await store.users.create({ name: "alice", admin: false });
  const server = await store.servers.create({
    userId: alice.id,
    name,
    displayName: "Default",
    target: "local",
  });
  return { alice, server };
}

export function serverStoreContract(withStore: WithStore): void {
  describe("servers", () => {
    it(
      "creates a stopped server with nothing launched yet",
      withStore(async ({ store }) => {
        const { alice, server } = await aliceWithServer(store);
        assert.deepEqual(server, {
          id: server.id,
          userId: alice.id,
          userName: "alice",
          name: "",
          displayName: "Default",
          state: "stopped",
          reason: null,
          userOptions: {},
          target: "local",
          launcherState: {},
          attemptId: null,
          endpoint: null,
          tokenSealed: null,
          createdAt: T0,
          startedAt: null,
          stateChangedAt: T0,
          lastActivity: null,
          version: 1,
        });
        assert.deepEqual(await store.servers.getById(server.id), server);
        assert.deepEqual(await store.servers.get(alice.id, ""), server);
        assert.equal(await store.servers.get(alice.id, "gpu"), undefined);
        assert.equal(await store.servers.getById(server.id + 1000), undefined);
      }),
    );

    it(
      "refuses a second server of the same name for a user as server_exists, but not for another user",
      withStore(async ({ store }) => {
        const { alice } = await aliceWithServer(store, "gpu");
        const bob = await store.users.create({ name: "bob", admin: false });
        await rejectsWithCode(
          store.servers.create({ userId: alice.id, name: "gpu", displayName: "", target: "slurm" }),
          "server_exists",
        );
        await store.servers.create({ userId: alice.id, name: "", displayName: "", target: "local" });
        await store.servers.create({ userId: bob.id, name: "gpu", displayName: "", target: "local" });
        assert.deepEqual(
          (await store.servers.listForUser(alice.id)).map((s) => s.name),
          ["", "gpu"],
        );
      }),
    );

    it(
      "lets exactly one of several concurrent creations of a server succeed",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const attempts = Array.from({ length: 6 }, () =>
          store.servers.create({ userId: alice.id, name: "gpu", displayName: "", target: "local" }),
        );
        assert.equal((await countWinners(attempts, "server_exists")).length, 1);
      }),
    );

    it(
      "refuses a server for a missing user as user_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(
          store.servers.create({ userId: 999, name: "", displayName: "", target: "local" }),
          "user_not_found",
        );
      }),
    );

    it(
      "moves a server only from an expected state, applying the patch and bumping the version",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const requested = await store.servers.transition(
          server.id,
          ["stopped", "failed"],
          "requested",
          { reason: "asked", userOptions: { partition: "gpu", gpus: 2 }, attemptId: "attempt-1" },
          at(5_000),
        );
        assert.ok(requested);
        assert.equal(requested.state, "requested");
        assert.equal(requested.reason, "asked");
        assert.deepEqual(requested.userOptions, { partition: "gpu", gpus: 2 });
        assert.equal(requested.attemptId, "attempt-1");
        assert.deepEqual(requested.stateChangedAt, at(5_000));
        assert.equal(requested.version, server.version + 1);
        assert.deepEqual(await store.servers.getById(server.id), requested);

        const lost = await store.servers.transition(
          server.id,
          ["stopped"],
          "submitting",
          { reason: "x" },
          at(6_000),
        );
        assert.equal(lost, undefined);
        assert.deepEqual(await store.servers.getById(server.id), requested);
        assert.equal(await store.servers.transition(server.id, [], "submitting", {}, at(6_000)), undefined);
        assert.equal(await store.servers.transition(999, ["stopped"], "requested", {}, at(6_000)), undefined);
      }),
    );

    it(
      "moves or updates a server for a named attempt only while it is still on that attempt",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const first = await store.servers.transition(
          server.id,
          ["stopped"],
          "running",
          { attemptId: "a1" },
          at(1),
        );
        assert.equal(first?.attemptId, "a1");
        const second = await store.servers.transition(
          server.id,
          ["running"],
          "running",
          { attemptId: "a2", endpoint: { kind: "unix", socket: "/run/s/2.sock" } },
          at(2),
        );
        assert.equal(second?.attemptId, "a2");

        const stale = await store.servers.transition(server.id, ["running"], "stopped", {}, at(3), "a1");
        assert.equal(stale, undefined);
        assert.equal(
          await store.servers.update(
            server.id,
            { endpoint: { kind: "unix", socket: "/run/s/1.sock" } },
            "a1",
          ),
          undefined,
        );
        assert.equal(await store.servers.update(server.id, {}, "a1"), undefined);
        assert.deepEqual(await store.servers.getById(server.id), second);

        const updated = await store.servers.update(server.id, { reason: "busy" }, "a2");
        assert.equal(updated?.reason, "busy");
        const ended = await store.servers.transition(server.id, ["running"], "stopped", {}, at(4), "a2");
        assert.equal(ended?.state, "stopped");
      }),
    );

    it(
      "lets exactly one of several concurrent transitions from the same state win",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const attempts = Array.from({ length: 6 }, (_, i) =>
          store.servers.transition(server.id, ["stopped"], "requested", { attemptId: `a${i}` }, at(i)),
        );
        const winners = (await Promise.all(attempts)).filter((s) => s !== undefined);
        assert.equal(winners.length, 1);
        assert.deepEqual(await store.servers.getById(server.id), winners[0]);
        assert.equal(winners[0]?.version, 2);
      }),
    );

    it(
      "updates fields without changing state, clearing them with null",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const running = await store.servers.update(server.id, {
          displayName: "Mine",
          target: "slurm",
          launcherState: { jobId: "4242", cluster: "main", nested: { list: [1, "two", null, true] } },
          endpoint: ENDPOINT,
          tokenSealed: "sealed-token",
          startedAt: at(1_000),
        });
        assert.ok(running);
        assert.equal(running.state, "stopped");
        assert.equal(running.version, server.version + 1);
        assert.deepEqual(
          {
            displayName: running.displayName,
            target: running.target,
            launcherState: running.launcherState,
            endpoint: running.endpoint,
            tokenSealed: running.tokenSealed,
            startedAt: running.startedAt,
          },
          {
            displayName: "Mine",
            target: "slurm",
            launcherState: { jobId: "4242", cluster: "main", nested: { list: [1, "two", null, true] } },
            endpoint: ENDPOINT,
            tokenSealed: "sealed-token",
            startedAt: at(1_000),
          },
        );
        const cleared = await store.servers.update(server.id, {
          endpoint: null,
          tokenSealed: null,
          startedAt: null,
          attemptId: null,
          reason: null,
        });
        assert.deepEqual(
          [cleared?.endpoint, cleared?.tokenSealed, cleared?.startedAt, cleared?.attemptId, cleared?.reason],
          [null, null, null, null, null],
        );
        assert.equal(cleared?.displayName, "Mine");
        assert.equal(cleared?.version, server.version + 2);
        assert.deepEqual(await store.servers.update(server.id, {}), cleared);
        assert.equal(await store.servers.update(999, { reason: "x" }), undefined);
      }),
    );

    it(
      "returns user options exactly as stored, whatever JSON they hold",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const userOptions = {
          image: "docker://jupyter/scipy:2024",
          "ünïcödé ✓": 'çødé "quoted" \\ back\nslash',
          nested: { empty: {}, list: [], mixed: [0, -1.5, 1e21, "x", false, null, { deep: [[]] }] },
        };
        const updated = await store.servers.update(server.id, { userOptions });
        assert.deepEqual(updated?.userOptions, userOptions);
        assert.deepEqual((await store.servers.getById(server.id))?.userOptions, userOptions);
      }),
    );

    it(
      "lists the servers not stopped or failed as active",
      withStore(async ({ store }) => {
        const alice = await store.users.create({ name: "alice", admin: false });
        const bob = await store.users.create({ name: "bob", admin: false });
        const make = (userId: number, name: string) =>
          store.servers.create({ userId, name, displayName: "", target: "local" });
        const a = await make(alice.id, "");
        const b = await make(alice.id, "gpu");
        const c = await make(bob.id, "");
        await make(bob.id, "idle");
        await store.servers.transition(a.id, ["stopped"], "running", {}, T0);
        await store.servers.transition(b.id, ["stopped"], "queued", {}, T0);
        await store.servers.transition(c.id, ["stopped"], "failed", {}, T0);
        const active = await store.servers.listActive();
        assert.deepEqual(
          active.map((s) => [s.userName, s.name, s.state]),
          [
            ["alice", "", "running"],
            ["alice", "gpu", "queued"],
          ],
        );
      }),
    );

    it(
      "lists the servers of thousands of users at once, by user and name",
      withStore(async ({ store }) => {
        const userIds: number[] = [];
        // More users than one statement takes, so the list is split and put back together.
        for (let batch = 0; batch < 25; batch++) {
          const created = await Promise.all(
            Array.from({ length: 100 }, (_, i) =>
              store.users.create({ name: `user${String(batch * 100 + i).padStart(4, "0")}`, admin: false }),
            ),
          );
          await Promise.all(
            created.map((u) =>
              store.servers.create({ userId: u.id, name: "", displayName: "", target: "local" }),
            ),
          );
          userIds.push(...created.map((u) => u.id));
        }
        const first = userIds[0];
        assert.ok(first !== undefined);
        await store.servers.create({ userId: first, name: "gpu", displayName: "", target: "slurm" });

        const everyone = await store.servers.listForUsers([...userIds].reverse().concat(first, 999_999));
        assert.equal(everyone.length, 2_501);
        const sortedIds = [...userIds].sort((a, b) => a - b);
        assert.deepEqual([...new Set(everyone.map((s) => s.userId))], sortedIds);
        assert.deepEqual(
          everyone.filter((s) => s.userId === first).map((s) => s.name),
          ["", "gpu"],
        );
        assert.deepEqual(await store.servers.listForUsers([]), []);
      }),
    );

    it(
      "records activity in batches, only ever moving it forward and leaving the version alone",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        await store.servers.recordActivity([
          { serverId: server.id, at: at(2_000) },
          { serverId: server.id, at: at(4_000) },
          { serverId: 999, at: at(4_000) },
        ]);
        await store.servers.recordActivity([{ serverId: server.id, at: at(3_000) }]);
        const stored = await store.servers.getById(server.id);
        assert.deepEqual(stored?.lastActivity, at(4_000));
        assert.equal(stored?.version, server.version);
      }),
    );

    it(
      "numbers each server's events from 1 and lists those after a given seq, oldest first",
      withStore(async ({ store }) => {
        const { alice, server } = await aliceWithServer(store);
        const other = await store.servers.create({
          userId: alice.id,
          name: "gpu",
          displayName: "",
          target: "local",
        });
        const first = await store.servers.appendEvent({
          serverId: server.id,
          at: at(1),
          state: "requested",
          progress: 0,
          message: "Requested",
        });
        assert.deepEqual(first, {
          serverId: server.id,
          seq: 1,
          at: at(1),
          state: "requested",
          progress: 0,
          message: "Requested",
        });
        await store.servers.appendEvent({
          serverId: other.id,
          at: at(2),
          state: "requested",
          progress: 0,
          message: "",
        });
        await store.servers.appendEvent({
          serverId: server.id,
          at: at(3),
          state: "queued",
          progress: 37.5,
          message: "In queue",
        });
        await store.servers.appendEvent({
          serverId: server.id,
          at: at(4),
          state: "running",
          progress: 100,
          message: "Up",
        });
        const after1 = await store.servers.listEvents(server.id, 1);
        assert.deepEqual(after1, [
          { serverId: server.id, seq: 2, at: at(3), state: "queued", progress: 37.5, message: "In queue" },
          { serverId: server.id, seq: 3, at: at(4), state: "running", progress: 100, message: "Up" },
        ]);
        assert.deepEqual(
          (await store.servers.listEvents(other.id, 0)).map((e) => e.seq),
          [1],
        );
        assert.deepEqual(await store.servers.listEvents(server.id, 3), []);
      }),
    );

    it(
      "gives concurrent events of one server distinct, gapless seqs",
      withStore(async ({ store }) => {
        const { server } = await aliceWithServer(store);
        const appended = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.servers.appendEvent({
              serverId: server.id,
              at: at(i),
              state: "starting",
              progress: i,
              message: `${i}`,
            }),
          ),
        );
        const seqs = appended.map((e) => e.seq).sort((a, b) => a - b);
        assert.deepEqual(
          seqs,
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          (await store.servers.listEvents(server.id, 0)).map((e) => e.seq),
          seqs,
        );
      }),
    );

    it(
      "refuses an event for a missing server as server_not_found",
      withStore(async ({ store }) => {
        await rejectsWithCode(
          store.servers.appendEvent({ serverId: 999, at: T0, state: "requested", progress: 0, message: "" }),
          "server_not_found",
        );
      }),
    );

    it(
      "deletes a server with its events, and never hands out its id again",
      withStore(async ({ store }) => {
        const { alice, server } = await aliceWithServer(store);
        await store.servers.appendEvent({
          serverId: server.id,
          at: T0,
          state: "requested",
          progress: 0,
          message: "",
        });
        await store.servers.delete(server.id);
        await store.servers.delete(server.id);
        assert.equal(await store.servers.getById(server.id), undefined);
        assert.deepEqual(await store.servers.listEvents(server.id, 0), []);
        const again = await store.servers.create({
          userId: alice.id,
          name: "",
          displayName: "",
          target: "local",
        });
        assert.ok(again.id > server.id);
        assert.deepEqual(await store.servers.listEvents(again.id, 0), []);
      }),
    );
  });
}
