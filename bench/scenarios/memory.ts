import { chmodSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { loadOrCreateKey, SecretBox } from "../../src/auth/secret-box.js";
import { newToken } from "../../src/auth/random-token.js";
import { openStore } from "../../src/store/open-store.js";
import { freePort } from "../lib/free-port.js";
import { api } from "../lib/hub.js";
import { statusOf } from "../lib/http.js";
import { tsNodeArgv } from "../lib/node-argv.js";
import { openSockets, readStat, treeRssMiB } from "../lib/proc.js";
import { figureOf, fmt, type Figure } from "../lib/report.js";
import { createSlipwayAdmin, startSlipway, type SlipwayHub } from "../lib/slipway-hub.js";
import { runWrk } from "../lib/wrk.js";
import { runWsLoadProcess } from "../lib/ws-load-process.js";
import type { BenchContext, Scenario } from "./context.js";

const BACKEND = fileURLToPath(new URL("../backends/trivial-backend.ts", import.meta.url));

const HEAP_METRICS = {
  "V8 heap used": "slipway_nodejs_heap_size_used_bytes",
  "V8 heap total": "slipway_nodejs_heap_size_total_bytes",
  external: "slipway_nodejs_external_memory_bytes",
} as const;

/** Where the RSS goes, from the hub's own /hub/metrics (prom-client's default Node metrics), in MiB. */
async function heapBreakdown(hub: SlipwayHub): Promise<Record<string, number>> {
  const res = await api(hub, "GET", "/hub/metrics");
  const out: Record<string, number> = {};
  if (res.status !== 200) return out;
  for (const [label, metric] of Object.entries(HEAP_METRICS)) {
    const match = new RegExp(`^${metric} (\\d+)`, "m").exec(res.text);
    if (match?.[1] !== undefined) out[label] = Number(match[1]) / 1024 ** 2;
  }
  return out;
}

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `u${String(i).padStart(5, "0")}`);
}

/**
 * Gives the first `count` users a running default server at the trivial backend, through the
 * store, as the launcher would have left them: state `running`, the backend's socket as the
 * endpoint, sealed token and the launcher state of a live process (the backend's pid, start time
 * and socket). On its next start the hub adopts them like servers that outlived a restart,
 * routes each one and opens its watch connection to each.
 */
async function insertRunningServers(
  dataDir: string,
  count: number,
  backend: { pid: number; socket: string },
) {
  const stat = readStat(backend.pid);
  if (stat === undefined) throw new Error("the backend is gone");
  const sealer = new SecretBox(await loadOrCreateKey(join(dataDir, "secret.key")));
  const store = await openStore(`sqlite:${join(dataDir, "slipway.sqlite")}`);
  try {
    for (const name of names(count)) {
      const user = await store.users.getByName(name);
      if (!user) throw new Error(`no user ${name}`);
      const server = await store.servers.create({
        userId: user.id,
        name: "",
        displayName: "",
        target: "local",
      });
      const running = await store.servers.transition(
        server.id,
        ["stopped"],
        "running",
        {
          launcherState: {
            serverId: server.id,
            pid: backend.pid,
            startTime: stat.startTime,
            socket: backend.socket,
            logPath: "/dev/null",
          },
          endpoint: { kind: "unix", socket: backend.socket },
          tokenSealed: sealer.seal(newToken(32)),
          startedAt: new Date(),
          attemptId: null,
        },
        new Date(),
      );
      if (!running) throw new Error(`could not mark ${name}'s server running`);
    }
  } finally {
    await store.close();
  }
}

/**
 * Slipway's memory (VmRSS of the hub process, its proxy included): idle after a fresh start,
 * with 10,000 users, with 1,000 routes as well, then after proxy and API load, right after
 * and once settled.
 */
export const memory: Scenario = {
  group: "memory",
  title: "Hub memory: idle, 10,000 users, 1,000 routes, after load",
  async run(ctx: BenchContext) {
    const { manyUsers, routes, durationSeconds, quick } = ctx.options;
    const settleMs = quick ? 3000 : 10_000;
    const dataDir = join(ctx.tmp, "slipway");
    const token = await createSlipwayAdmin(ctx.supervisor, dataDir, "bench");
    const config = { servers: { command: tsNodeArgv(BACKEND), workDir: ctx.tmp } };
    const points: { test: string; rss: number; heap: Record<string, number>; note?: string }[] = [];
    const rss = (hub: SlipwayHub) => treeRssMiB(hub.process.pid);
    const point = async (hub: SlipwayHub, test: string, note?: string) => {
      // RSS first: reading the metrics allocates.
      const mib = rss(hub);
      points.push({ test, rss: mib, heap: await heapBreakdown(hub), ...(note ? { note } : {}) });
    };

    let hub = await startSlipway(ctx.supervisor, {
      name: "slipway",
      dataDir,
      port: await freePort(),
      token,
      config,
    });
    await sleep(2000);
    await point(hub, "idle, fresh");
    await hub.addUsers(names(manyUsers - 1));
    await sleep(2000);
    await point(hub, `${manyUsers} users`);
    await hub.process.stop(15_000);

    // Where the launcher would put a server's socket: a new directory of its own in the hub's
    // socket directory (made by the hub's first start).
    const socketDir = mkdtempSync(join(dataDir, "sockets", "bench-"));
    chmodSync(socketDir, 0o711);
    const socket = join(socketDir, "jupyter.sock");
    const [node = process.execPath, ...args] = tsNodeArgv(BACKEND);
    const backend = ctx.supervisor.start("trivial-backend", node, [...args, "--socket", socket], {
      capture: true,
    });
    await backend.waitForOutput(/listening on unix:/, 20_000);
    await insertRunningServers(dataDir, routes, { pid: backend.pid, socket });
    hub = await startSlipway(ctx.supervisor, {
      name: "slipway",
      dataDir,
      port: await freePort(),
      token,
      config,
    });
    const auth = { authorization: `token ${hub.token}` };
    await sleep(1000);
    await point(hub, "restarted with routes", "right after the restart, before any proxied request");
    let ok = 0;
    for (const name of names(routes)) if ((await statusOf(`${hub.url}/user/${name}/`, auth)) === 200) ok += 1;
    if (ok !== routes) throw new Error(`only ${ok} of ${routes} routes answered 200`);
    await sleep(2000);
    await point(
      hub,
      "before the load",
      `${manyUsers} users and ${routes} routes (servers adopted from the store at start, all at one trivial backend, ` +
        `which holds ${openSockets(backend.pid)} sockets: the proxy's idle watch connection to each route among them)`,
    );

    const seconds = durationSeconds * 2;
    const loads: [string, () => Promise<unknown>][] = [
      [
        "small GET c50",
        () =>
          runWrk(ctx.supervisor, {
            url: `${hub.url}/user/u00000/`,
            connections: 50,
            durationSeconds: seconds,
            headers: auth,
          }),
      ],
      [
        "1 MiB GET c50",
        () =>
          runWrk(ctx.supervisor, {
            url: `${hub.url}/user/u00001/big`,
            connections: 50,
            durationSeconds: seconds,
            headers: auth,
          }),
      ],
      [
        "ws echo 64 KiB c50",
        () =>
          runWsLoadProcess(
            ctx.supervisor,
            {
              url: `${hub.url.replace(/^http/, "ws")}/user/u00002/echo`,
              headers: auth,
              connections: 50,
              payloadBytes: 64 * 1024,
              warmupMs: 0,
              durationMs: seconds * 1000,
              mode: "echo",
            },
            { open: () => undefined, close: () => undefined },
          ),
      ],
      [
        "user list pages",
        async () => {
          for (let offset = 0; offset < manyUsers; offset += 200) {
            const res = await api(
              hub,
              "GET",
              `/hub/api/users?offset=${offset}&limit=200`,
              undefined,
              "application/jupyterhub-pagination+json",
            );
            if (res.status !== 200) throw new Error(`user page answered ${res.status}`);
          }
        },
      ],
    ];
    for (const [name, load] of loads) {
      await load();
      ctx.log(`load ${name} done; RSS ${fmt(rss(hub), 1)} MiB`);
    }
    await point(hub, "after the load");
    await sleep(settleMs);
    await point(hub, "after the load, settled", `${settleMs / 1000} s after the load ended`);
    for (const { test, rss: mib, heap, note } of points) {
      const figures: Record<string, Figure> = {};
      for (const [label, value] of Object.entries(heap)) figures[label] = figureOf([value], "MiB");
      ctx.addRow({
        group: "memory",
        test,
        subject: "slipway",
        primary: { name: "RSS", higherIsBetter: false, ...figureOf([mib], "MiB") },
        figures,
        ...(note ? { note } : {}),
      });
      ctx.log(
        `${test}: ${fmt(mib, 1)} MiB (${Object.entries(heap)
          .map(([k, v]) => `${k} ${fmt(v, 1)}`)
          .join(", ")})`,
      );
    }
  },
};
