import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { newToken, sha256Hex } from "../../src/auth/random-token.js";
import { SecretBox } from "../../src/auth/secret-box.js";
import type { JsonObject, ServerTarget, User } from "../../src/domain/types.js";
import type { Clock } from "../../src/ports/clock.js";
import type {
  LaunchContext,
  LaunchResult,
  LaunchSpec,
  Launcher,
  PollResult,
} from "../../src/ports/launcher.js";
import type { Logger } from "../../src/ports/logger.js";
import { ServersService, type RouteSink } from "../../src/services/servers-service.js";
import { SpawnOptions } from "../../src/services/spawn-options.js";
import { InProcessNotifier } from "../../src/store/in-process-notifier.js";
import type { KyselyStore } from "../../src/store/kysely-store.js";
import { openStore } from "../../src/store/open-store.js";

/** The route table as the proxy keeps it: one target per server, last write wins. */
class RecordingRoutes implements RouteSink {
  readonly table = new Map<string, ServerTarget>();
  setRoute(route: { owner: string; serverName: string; target: ServerTarget }): void {
    this.table.set(`${route.owner}/${route.serverName}`, route.target);
  }
  removeRoute(owner: string, serverName: string): void {
    this.table.delete(`${owner}/${serverName}`);
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Each attempt's socket is numbered, so that a test can tell attempts apart. */
function socketOf(n: number): ServerTarget {
  return { kind: "unix", socket: `/run/slipway-test/${n}.sock` };
}

function portOf(target: ServerTarget | null): number {
  const n = target?.kind === "unix" ? Number(/(\d+)\.sock$/.exec(target.socket)?.[1]) : NaN;
  assert.ok(Number.isInteger(n), "the server has a socket");
  return n;
}

/**
 * A launcher whose every attempt gets the next socket, and whose polls the test answers by hand:
 * the poll of a monitor pass can then be held while the server is stopped and started again.
 */
class ScriptedLauncher implements Launcher {
  readonly kind = "local";
  nextPort = 41_001;
  readonly polls: { state: JsonObject; answer: Deferred<PollResult> }[] = [];
  readonly pollAsked: Deferred<undefined>[] = [deferred<undefined>()];

  async start(spec: LaunchSpec, ctx: LaunchContext): Promise<LaunchResult> {
    const state = { serverId: spec.serverId, port: this.nextPort++ };
    await ctx.persist(state);
    return { state, target: socketOf(state.port) };
  }

  poll(_userName: string, state: JsonObject): Promise<PollResult> {
    const answer = deferred<PollResult>();
    this.polls.push({ state, answer });
    this.pollAsked.at(-1)?.resolve(undefined);
    this.pollAsked.push(deferred<undefined>());
    return answer.promise;
  }

  async recover(): Promise<JsonObject | undefined> {
    return undefined;
  }

  async stop(): Promise<void> {}

  async logTail(): Promise<string> {
    return "";
  }
}

const silent: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silent,
};

const realTimers: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

describe("a server stopped and started again while the monitor polls it", () => {
  let store: KyselyStore;
  let service: ServersService;
  let launcher: ScriptedLauncher;
  let routes: RecordingRoutes;
  let alice: User;

  afterEach(async () => {
    await service.close();
    await store.close();
  });

  /** A hub with one user and no servers, whose monitor runs only when a test calls reconcile. */
  async function fresh(): Promise<void> {
    store = await openStore("sqlite::memory:");
    await store.migrate();
    alice = await store.users.create({ name: "alice", admin: false });
    launcher = new ScriptedLauncher();
    routes = new RecordingRoutes();
    service = new ServersService({
      store,
      launchers: new Map([["local", launcher]]),
      options: new SpawnOptions(
        [{ name: "local", type: "local", displayName: "This machine", description: "" }],
        "local",
      ),
      clock: realTimers,
      sealer: new SecretBox(randomBytes(32)),
      random: { token: () => newToken(32), sha256: sha256Hex },
      notifier: new InProcessNotifier(),
      routes,
      probe: async () => 200,
      log: silent,
      policy: { namedServerLimit: 5, startTimeoutMs: 30_000, pollIntervalMs: 60_000 },
    });
  }

  async function startAndWait(name: string): Promise<number> {
    const server = await service.start(alice, name, {});
    const settled = await service.waitUntilSettled(server.id, 10_000);
    assert.equal(settled?.state, "running");
    return portOf(settled.endpoint);
  }

  it("keeps the new attempt's route when the poll of the old attempt answers running late", async () => {
    await fresh();
    const oldPort = await startAndWait("");
    assert.deepEqual(routes.table.get("alice/"), socketOf(oldPort));

    // The monitor reads the server (running, old port) and asks the launcher about it...
    const pass = service.reconcile();
    await launcher.pollAsked[0]?.promise;
    // ...while the user stops it and starts it again.
    await service.stop(alice, "");
    assert.equal(routes.table.get("alice/"), undefined);
    const newPort = await startAndWait("");
    assert.notEqual(newPort, oldPort);
    // The old process was still shutting down when polled: "running", on the old port.
    launcher.polls[0]?.answer.resolve({ status: "running", target: socketOf(oldPort) });
    await pass;

    assert.deepEqual(routes.table.get("alice/"), socketOf(newPort));
    assert.deepEqual((await service.get(alice, "")).endpoint, socketOf(newPort));
  });

  it("does not bring back the route of a server stopped while it was polled", async () => {
    await fresh();
    const oldPort = await startAndWait("stopme");
    const pass = service.reconcile();
    await launcher.pollAsked[0]?.promise;
    await service.stop(alice, "stopme");
    launcher.polls[0]?.answer.resolve({ status: "running", target: socketOf(oldPort) });
    await pass;

    assert.equal(routes.table.get("alice/stopme"), undefined);
    assert.equal((await service.get(alice, "stopme")).state, "stopped");
  });

  it("does not end the new attempt when the poll of the old attempt answers gone late", async () => {
    await fresh();
    await startAndWait("again");
    const pass = service.reconcile();
    await launcher.pollAsked[0]?.promise;
    await service.stop(alice, "again");
    const newPort = await startAndWait("again");
    launcher.polls[0]?.answer.resolve({ status: "gone", reason: "the server process exited", failed: false });
    await pass;

    const now = await service.get(alice, "again");
    assert.equal(now.state, "running");
    assert.deepEqual(now.endpoint, socketOf(newPort));
    assert.deepEqual(routes.table.get("alice/again"), socketOf(newPort));
  });
});
