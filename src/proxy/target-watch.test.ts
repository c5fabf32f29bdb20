import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { listenOnTestSocket } from "./socket-fixture.js";
import { TargetPins } from "./target-connection.js";
import { TargetWatch } from "./target-watch.js";
import type { ProxyRoute } from "./types.js";

/** A server that hands each accepted connection to the test. */
async function serverOnSocket(): Promise<{
  server: Server;
  accepted: Socket[];
  target: ProxyRoute["target"];
}> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    accepted.push(socket);
    server.emit("accepted", socket);
  });
  return { server, accepted, target: await listenOnTestSocket(server) };
}

function routeTo(serverId: number, target: ProxyRoute["target"]): ProxyRoute {
  return { serverId, owner: "alice", serverName: "", target, token: "t" };
}

describe("TargetWatch", () => {
  const watches: TargetWatch[] = [];
  const open: Server[] = [];

  after(() => {
    for (const w of watches) w.close();
    for (const s of open) s.close();
  });

  function watchWith(onLost: (route: ProxyRoute) => void, retryMs = 10_000): TargetWatch {
    const watch = new TargetWatch({
      pins: new TargetPins(),
      onLost,
      retry: { firstMs: retryMs, maxMs: retryMs },
    });
    watches.push(watch);
    return watch;
  }

  it("tells at once that the process behind a route went away, with the route that reached it", async () => {
    const { server, accepted, target } = await serverOnSocket();
    const lost: ProxyRoute[] = [];
    const reported = new Promise<void>((resolve) => {
      const watch = watchWith((route) => {
        lost.push(route);
        resolve();
      });
      watch.watch(routeTo(7, target));
    });
    await once(server, "accepted");
    assert.equal(lost.length, 0, "reported while the server was up");
    // What the kernel does for a process that exits: its end of every connection closes.
    for (const socket of accepted) socket.destroy();
    await reported;
    server.close();
    assert.deepEqual(
      lost.map((r) => r.serverId),
      [7],
    );
  });

  it("says nothing of a route that was taken away before its server went", async () => {
    const { server, accepted, target } = await serverOnSocket();
    const lost: ProxyRoute[] = [];
    const watch = watchWith((route) => lost.push(route));
    const route = routeTo(8, target);
    watch.watch(route);
    const [connection] = (await once(server, "accepted")) as [Socket];
    const closed = once(connection, "close");
    watch.unwatch(route);
    await closed;
    server.close();
    for (const socket of accepted) socket.destroy();
    assert.equal(watch.size, 0);
    assert.deepEqual(lost, []);
  });

  it("connects again to a server that closed an idle connection but still runs", async () => {
    const { server, target } = await serverOnSocket();
    open.push(server);
    let losses = 0;
    const watch = watchWith(() => {
      losses += 1;
    }, 5);
    watch.watch(routeTo(9, target));
    const [first] = (await once(server, "accepted")) as [Socket];
    first.destroy();
    const [second] = (await once(server, "accepted")) as [Socket];
    assert.equal(losses, 1);
    assert.notEqual(second, first);
  });

  it("keeps one connection for a route set again to the same socket", async () => {
    const { server, accepted, target } = await serverOnSocket();
    open.push(server);
    const watch = watchWith(() => undefined);
    watch.watch(routeTo(10, target));
    await once(server, "accepted");
    watch.watch({ ...routeTo(10, target), token: "another" });
    assert.equal(watch.size, 1);
    assert.equal(accepted.length, 1);
  });
});
