import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../lib/free-port.js";
import type { Hub } from "../lib/hub.js";
import { startJupyterHub } from "../lib/jupyterhub.js";
import { clockTicksPerSecond, processTree, readStat, treeRssMiB } from "../lib/proc.js";
import { figureOf, fmt } from "../lib/report.js";
import { createSlipwayAdmin, startSlipway } from "../lib/slipway-hub.js";
import type { BenchContext, Scenario } from "./context.js";

interface Series {
  ready: number[];
  stop: number[];
  cpu: number[];
  rss: number[];
}

const empty = (): Series => ({ ready: [], stop: [], cpu: [], rss: [] });

/** CPU seconds the hub's process tree has used so far (its proxy included). */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.cpuTicks ?? 0;
  return ticks / clockTicksPerSecond();
}

type Starter = (dir: string) => Promise<Hub & { readonly readyAt: number; readonly startedAt: number }>;

async function once(
  ctx: BenchContext,
  start: Starter,
  dir: string,
  series: Series | undefined,
): Promise<void> {
  const hub = await start(dir);
  const ready = (hub.readyAt - hub.startedAt) / 1000;
  const cpu = treeCpuSeconds(hub.process.pid);
  await sleep(1000);
  const rss = treeRssMiB(hub.process.pid);
  const stop = (await hub.process.stop(15_000)) / 1000;
  ctx.log(`${hub.kind} ${dir.split("/").at(-1) ?? ""}: ready ${fmt(ready, 3)} s, stop ${fmt(stop, 3)} s`);
  if (series) {
    series.ready.push(ready);
    series.stop.push(stop);
    series.cpu.push(cpu);
    series.rss.push(rss);
  }
}

/**
 * Hub cold start: exec to the first 200 from `/hub/health` on the public port (polled every 5 ms),
 * from an empty data directory and again with 200 users in the database; then SIGTERM to exit.
 */
export const coldStart: Scenario = {
  group: "cold-start",
  title: "Hub cold start to /hub/health",
  async run(ctx: BenchContext) {
    const { runs } = ctx.options;
    const starters: { kind: string; start: Starter; prepare: (dir: string) => Promise<void> }[] = [];
    const slipwayStart: Starter = async (dir) =>
      startSlipway(ctx.supervisor, { name: "slipway", dataDir: dir, port: await freePort(), token: "" });
    starters.push({
      kind: "slipway",
      start: slipwayStart,
      async prepare(dir) {
        const token = await createSlipwayAdmin(ctx.supervisor, dir, "bench");
        const hub = await startSlipway(ctx.supervisor, {
          name: "slipway",
          dataDir: dir,
          port: await freePort(),
          token,
        });
        await hub.addUsers(Array.from({ length: 199 }, (_, i) => `u${String(i).padStart(5, "0")}`));
        await hub.process.stop(15_000);
      },
    });
    if (ctx.tools.jupyterhub) {
      const jhStart: Starter = async (dir) =>
        startJupyterHub(ctx.supervisor, {
          name: "jupyterhub",
          dir,
          homeDir: join(dir, "home", "{username}"),
          port: await freePort(),
          hubPort: await freePort(),
          proxyApiPort: await freePort(),
          token: "bench-cold-start-token-0123456789abcdef",
        });
      starters.push({
        kind: "jupyterhub",
        start: jhStart,
        async prepare(dir) {
          const hub = await jhStart(dir);
          await hub.addUsers(Array.from({ length: 200 }, (_, i) => `u${String(i).padStart(5, "0")}`));
          await hub.process.stop(15_000);
        },
      });
    } else ctx.note("JupyterHub is not installed: no JupyterHub cold-start figures");

    const fresh = new Map<string, Series>(starters.map((s) => [s.kind, empty()]));
    const restart = new Map<string, Series>(starters.map((s) => [s.kind, empty()]));
    for (const s of starters) {
      const dir = join(ctx.tmp, `${s.kind}-populated`);
      // A hub's data directory must be its own (0700): Slipway refuses one others may read.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await s.prepare(dir);
      if (!ctx.options.quick) await once(ctx, s.start, join(ctx.tmp, `${s.kind}-warmup`), undefined);
    }
    for (let run = 0; run < runs; run++) {
      for (const s of run % 2 === 0 ? starters : [...starters].reverse()) {
        await once(ctx, s.start, join(ctx.tmp, `${s.kind}-fresh-${run}`), fresh.get(s.kind));
        await once(ctx, s.start, join(ctx.tmp, `${s.kind}-populated`), restart.get(s.kind));
      }
    }
    for (const [test, table] of [
      ["fresh data directory", fresh],
      ["restart with 200 users", restart],
    ] as const) {
      for (const s of starters) {
        const series = table.get(s.kind) ?? empty();
        ctx.addRow({
          group: "cold-start",
          test,
          subject: s.kind,
          primary: { name: "ready", higherIsBetter: false, ...figureOf(series.ready, "s") },
          figures: {
            stop: figureOf(series.stop, "s"),
            "hub CPU to ready": figureOf(series.cpu, "s"),
            "RSS 1 s after ready": figureOf(series.rss, "MiB"),
          },
        });
      }
    }
    ctx.note(
      "JupyterHub's figures include the CHP it starts (CPU and RSS of its process tree); " +
        "JupyterHub's token is a service token from its config, Slipway's data directory starts empty.",
    );
  },
};
