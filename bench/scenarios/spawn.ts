import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../lib/free-port.js";
import { serverPid, spawnAndWait, stopAndWait, type Hub } from "../lib/hub.js";
import { waitFor200 } from "../lib/http.js";
import { jupyterHubToken, startJupyterHub } from "../lib/jupyterhub.js";
import { JUPYTER } from "../lib/paths.js";
import { CpuWindow } from "../lib/proc.js";
import { figureOf, fmt } from "../lib/report.js";
import { createSlipwayAdmin, startSlipway } from "../lib/slipway-hub.js";
import { summarize } from "../lib/stats.js";
import type { BenchContext, Scenario } from "./context.js";

const DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The bare server's own start: exec `jupyter server` with the config a launcher writes, to its first 200. */
async function bareStart(ctx: BenchContext, dir: string, run: number): Promise<number> {
  const port = await freePort();
  const token = jupyterHubToken();
  const root = join(dir, "home");
  mkdirSync(root, { recursive: true });
  const configFile = join(dir, `bare-${run}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      ServerApp: {
        token,
        base_url: "/user/bare/",
        ip: "127.0.0.1",
        port,
        port_retries: 0,
        open_browser: false,
        allow_remote_access: true,
        allow_root: true,
        root_dir: root,
      },
    }),
  );
  const t0 = performance.now();
  const proc = ctx.supervisor.start("bare-server", JUPYTER, ["server", `--config=${configFile}`], {
    cwd: root,
    env: { ...process.env, PATH: DEBIAN_PATH, JUPYTER_RUNTIME_DIR: join(dir, `runtime-${run}`) },
  });
  const ready = await waitFor200(`http://127.0.0.1:${port}/user/bare/api/status`, {
    headers: { authorization: `token ${token}` },
    timeoutMs: 60_000,
    intervalMs: 10,
  });
  await proc.stop(10_000);
  return (ready - t0) / 1000;
}

interface SpawnSeries {
  ready: number[];
  post: number[];
  hubCpu: number[];
}

async function oneUser(ctx: BenchContext, hub: Hub, user: string, series: SpawnSeries, record: boolean) {
  const window = new CpuWindow({ hub: () => Object.values(hub.hubPids()).filter((p) => p !== undefined) });
  const timing = await spawnAndWait(hub, user, 10, 120_000);
  const cpu = window.close()["hub"] ?? Number.NaN;
  const pid = await serverPid(hub, user);
  if (pid !== undefined) ctx.supervisor.adopt(pid, `${hub.kind}-server`);
  if (record) {
    series.ready.push(timing.readySeconds);
    series.post.push(timing.postSeconds);
    series.hubCpu.push(cpu);
  }
  ctx.log(
    `${hub.kind} 1 user: ready ${fmt(timing.readySeconds, 3)} s (POST ${fmt(timing.postSeconds, 3)} s)`,
  );
  await stopAndWait(hub, user, 60_000);
}

interface ManySeries {
  all: number[];
  first: number[];
  median: number[];
  hubCpu: number[];
}

async function manyUsers(ctx: BenchContext, hub: Hub, users: readonly string[], series: ManySeries) {
  const window = new CpuWindow({ hub: () => Object.values(hub.hubPids()).filter((p) => p !== undefined) });
  const timings = await Promise.all(users.map((u) => spawnAndWait(hub, u, 100, 300_000)));
  const cpu = window.close()["hub"] ?? Number.NaN;
  for (const u of users) {
    const pid = await serverPid(hub, u);
    if (pid !== undefined) ctx.supervisor.adopt(pid, `${hub.kind}-server`);
  }
  const ready = timings.map((t) => t.readySeconds);
  const s = summarize(ready);
  series.all.push(s.max);
  series.first.push(s.min);
  series.median.push(s.median);
  series.hubCpu.push(cpu);
  ctx.log(`${hub.kind} ${users.length} at once: all ready ${fmt(s.max, 2)} s, first ${fmt(s.min, 2)} s`);
  await Promise.all(users.map((u) => stopAndWait(hub, u, 120_000)));
}

/**
 * Spawn to first proxied 200 with the local launcher: the bare server's own start, Slipway and
 * JupyterHub; one user (after one discarded warm-up), then many at once.
 */
export const spawnLatency: Scenario = {
  group: "spawn",
  title: "Spawn to first proxied 200 (local launcher)",
  async run(ctx: BenchContext) {
    if (!ctx.tools.jupyterServer) throw new Error("jupyter-server is not installed");
    const { runs, concurrentSpawns } = ctx.options;
    const users = Array.from({ length: concurrentSpawns }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
    const hubs: Hub[] = [];
    const dataDir = join(ctx.tmp, "slipway");
    const token = await createSlipwayAdmin(ctx.supervisor, dataDir, "bench");
    const home = join(ctx.tmp, "slipway-home");
    mkdirSync(home, { recursive: true });
    const slipway = await startSlipway(ctx.supervisor, {
      name: "slipway",
      dataDir,
      port: await freePort(),
      token,
      config: { servers: { command: [JUPYTER, "server"], workDir: home } },
    });
    await slipway.addUsers(users);
    hubs.push(slipway);
    if (ctx.tools.jupyterhub) {
      const jh = await startJupyterHub(ctx.supervisor, {
        name: "jupyterhub",
        dir: join(ctx.tmp, "jupyterhub"),
        homeDir: join(ctx.tmp, "jupyterhub-home", "{username}"),
        port: await freePort(),
        hubPort: await freePort(),
        proxyApiPort: await freePort(),
        token: jupyterHubToken(),
      });
      await jh.addUsers(users);
      hubs.push(jh);
    } else ctx.note("JupyterHub is not installed: no JupyterHub spawn figures");

    const bare: number[] = [];
    const one = new Map<string, SpawnSeries>(hubs.map((h) => [h.kind, { ready: [], post: [], hubCpu: [] }]));
    await bareStart(ctx, ctx.tmp, -1);
    for (const hub of hubs)
      await oneUser(
        ctx,
        hub,
        users[0] ?? "s01",
        one.get(hub.kind) ?? { ready: [], post: [], hubCpu: [] },
        false,
      );
    for (let run = 0; run < runs; run++) {
      bare.push(await bareStart(ctx, ctx.tmp, run));
      ctx.log(`bare server: ${fmt(bare.at(-1) ?? Number.NaN, 3)} s`);
      for (const hub of hubs) {
        const series = one.get(hub.kind);
        if (series) await oneUser(ctx, hub, users[0] ?? "s01", series, true);
      }
    }
    const test = "1 user";
    ctx.addRow({
      group: "spawn",
      test,
      subject: "bare",
      primary: { name: "ready", higherIsBetter: false, ...figureOf(bare, "s") },
      figures: {},
      note: "exec `jupyter server` with a launcher's config until api/status answers 200 (polled every 10 ms)",
    });
    for (const hub of hubs) {
      const s = one.get(hub.kind);
      if (!s) continue;
      ctx.addRow({
        group: "spawn",
        test,
        subject: hub.kind,
        primary: { name: "ready", higherIsBetter: false, ...figureOf(s.ready, "s") },
        figures: { "POST answered": figureOf(s.post, "s"), "hub CPU": figureOf(s.hubCpu, "s/spawn") },
      });
    }

    const many = new Map<string, ManySeries>(
      hubs.map((h) => [h.kind, { all: [], first: [], median: [], hubCpu: [] }]),
    );
    for (let run = 0; run < runs; run++) {
      for (const hub of run % 2 === 0 ? hubs : [...hubs].reverse()) {
        const series = many.get(hub.kind);
        if (series) await manyUsers(ctx, hub, users, series);
      }
    }
    for (const hub of hubs) {
      const s = many.get(hub.kind);
      if (!s) continue;
      ctx.addRow({
        group: "spawn",
        test: `${users.length} at once`,
        subject: hub.kind,
        primary: { name: "all ready", higherIsBetter: false, ...figureOf(s.all, "s") },
        figures: {
          "first ready": figureOf(s.first, "s"),
          "median ready": figureOf(s.median, "s"),
          "hub CPU": figureOf(s.hubCpu, `s/${users.length} spawns`),
        },
      });
    }
    ctx.note(
      "The clock runs from the start request to the first 200 from /user/<name>/api/status through the " +
        "hub's public port; polling starts when the POST answers (both hubs answer once the server is up, or " +
        "with 202 after their slow-spawn wait), every 10 ms for one user and every 100 ms for many. " +
        "Hub CPU covers the hub process (and JupyterHub's CHP), not short-lived helpers.",
    );
  },
};
