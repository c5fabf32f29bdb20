import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { User } from "../domain/types.js";
import type { ProxyRoute } from "../proxy/proxy.js";
import { RouteMisses, type RouteSource } from "./route-misses.js";

const alice: User = {
  id: 1,
  name: "alice",
  admin: false,
  zone: "internal",
  displayName: null,
  email: null,
  disabled: false,
  createdAt: new Date(0),
  lastActivity: null,
  totpEnrolled: false,
  hasPassword: true,
};

function route(serverName: string): ProxyRoute {
  return {
    serverId: serverName === "" ? 10 : 11,
    owner: "alice",
    serverName,
    target: { kind: "unix", socket: `/run/slipway/alice-${serverName}/jupyter.sock` },
    token: "t",
  };
}

/** A port over a store that knows only alice, served by a source with the given running servers. */
function misses(running: readonly string[]): { port: RouteMisses; rechecked: number[] } {
  const rechecked: number[] = [];
  const port = new RouteMisses({ getByName: async (name: string) => (name === "alice" ? alice : undefined) });
  const source: RouteSource = {
    routeFor: async (owner, serverName) =>
      owner.name === "alice" && running.includes(serverName) ? route(serverName) : undefined,
    recheck: (serverId) => void rechecked.push(serverId),
  };
  port.serve(source);
  return { port, rechecked };
}

describe("the proxy's port to the servers service", () => {
  it("answers a miss with the named server's route when it runs", async () => {
    const { port } = misses(["", "gpu"]);
    assert.deepEqual(await port.resolve("alice", "gpu"), route("gpu"));
  });

  it("falls back to the default server's route, whose path the name may be part of", async () => {
    const { port } = misses([""]);
    assert.deepEqual(await port.resolve("alice", "lab"), route(""));
    assert.deepEqual(await port.resolve("alice"), route(""));
  });

  it("finds no route for a user nobody has, or a user with nothing running", async () => {
    assert.equal(await misses([""]).port.resolve("mallory", "gpu"), undefined);
    assert.equal(await misses([]).port.resolve("alice", "gpu"), undefined);
  });

  it("passes the proxy's reports about a server on as a recheck of that server", () => {
    const { port, rechecked } = misses([""]);
    port.recheck(route("gpu"));
    assert.deepEqual(rechecked, [11]);
  });

  it("answers nothing and asks nothing before it is served, or once the service has gone", async () => {
    const lookUps: string[] = [];
    const port = new RouteMisses({
      getByName: async (name: string) => {
        lookUps.push(name);
        return undefined;
      },
    });
    assert.equal(await port.resolve("alice"), undefined);
    port.recheck(route(""));
    const rechecked: number[] = [];
    const stop = port.serve({ routeFor: async () => route(""), recheck: (id) => void rechecked.push(id) });
    stop();
    assert.equal(await port.resolve("alice"), undefined);
    port.recheck(route(""));
    assert.deepEqual(lookUps, []);
    assert.deepEqual(rechecked, []);
  });
});
