import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import {
  fakeAuthenticate,
  route,
  send,
  startBackend,
  startGateway,
  type Backend,
  type Gateway,
} from "./proxy-test-fixture.js";
import type { ProxyRoute } from "./types.js";

const ALICE = { cookie: "slipway-session=alice" };

/** A store look-up the test answers when it likes. */
interface Asked {
  readonly owner: string;
  readonly serverName: string | undefined;
  answer(route: ProxyRoute | undefined): void;
}

/** Calls, in order, and a promise for each one still to come. */
class Signals<T> {
  private readonly seen: T[] = [];
  private readonly waiting: ((value: T) => void)[] = [];
  private taken = 0;

  push(value: T): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(value);
    else this.seen.push(value);
  }

  /** The next call not yet taken, now or when it comes. */
  next(): Promise<T> {
    this.taken += 1;
    const value = this.seen.shift();
    if (value !== undefined) return Promise.resolve(value);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  get count(): number {
    return this.taken + this.seen.length;
  }
}

describe("the proxy's store look-ups while routes change", () => {
  let oldServer: Backend;
  let newServer: Backend;
  let gateway: Gateway;
  let asks: Signals<Asked>;
  /** Every request that reached the gate; it asks or joins a look-up before the event loop turns. */
  let arrivals: Signals<true>;

  before(async () => {
    oldServer = await startBackend();
    newServer = await startBackend();
    const authenticate = fakeAuthenticate(["alice", "bob"]);
    gateway = await startGateway(
      {
        authenticate: (req) => {
          arrivals.push(true);
          return authenticate(req);
        },
        resolveMiss: (owner, serverName) => new Promise((answer) => asks.push({ owner, serverName, answer })),
      },
      // One way in, so that each request reaches the gate once.
      { fastPath: false },
    );
  });

  beforeEach(() => {
    asks = new Signals();
    arrivals = new Signals();
  });

  afterEach(() => {
    gateway.proxy.routes.removeRoute("alice", "");
    gateway.proxy.routes.removeRoute("bob", "");
  });

  after(async () => {
    await gateway.close();
    await oldServer.close();
    await newServer.close();
  });

  it("does not give a request that missed after the owner's routes changed the answer of an earlier look-up", async () => {
    const firstArrival = arrivals.next();
    const first = send(gateway.port, "/user/alice/lab", { headers: ALICE });
    await firstArrival;
    const firstAsk = await asks.next();
    // The server stops while the store is being asked about it.
    gateway.proxy.routes.setRoute(route(6, "alice", "", oldServer.target));
    gateway.proxy.routes.removeRoute("alice", "");
    const secondArrival = arrivals.next();
    const secondAsk = asks.next();
    const second = send(gateway.port, "/user/alice/lab", { headers: ALICE });
    await secondArrival;

    firstAsk.answer(route(6, "alice", "", oldServer.target));
    assert.equal((await first).status, 200);
    const asked = await Promise.race([secondAsk, second.then(() => undefined)]);
    assert.ok(
      asked !== undefined,
      "the later request was answered by the look-up that began before the change",
    );
    asked.answer(route(7, "alice", "", newServer.target));
    assert.equal((await second).status, 200);
    assert.equal(oldServer.requests.length, 1);
    assert.equal(newServer.requests.length, 1);
    assert.equal(gateway.proxy.routes.getRoute("alice", "")?.serverId, 7);
  });

  it("caches a look-up's answer when only another owner's routes changed meanwhile", async () => {
    const asksBefore = asks.count;
    const first = send(gateway.port, "/user/alice/tree", { headers: ALICE });
    const ask = await asks.next();
    gateway.proxy.routes.setRoute(route(8, "bob", "", oldServer.target));
    ask.answer(route(9, "alice", "", newServer.target));
    assert.equal((await first).status, 200);
    assert.equal(gateway.proxy.routes.getRoute("alice", "")?.serverId, 9);
    assert.equal((await send(gateway.port, "/user/alice/tree", { headers: ALICE })).status, 200);
    assert.equal(asks.count - asksBefore, 1);
  });

  it("does not cache an answer when the owner's routes changed meanwhile", async () => {
    const first = send(gateway.port, "/user/alice/tree", { headers: ALICE });
    const ask = await asks.next();
    gateway.proxy.routes.setRoute(route(10, "alice", "gpu", oldServer.target));
    ask.answer(route(11, "alice", "", newServer.target));
    assert.equal((await first).status, 200);
    assert.equal(gateway.proxy.routes.getRoute("alice", ""), undefined);
    gateway.proxy.routes.removeRoute("alice", "gpu");
  });
});
