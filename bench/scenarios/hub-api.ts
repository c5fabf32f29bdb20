import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../lib/free-port.js";
import { api, type Hub } from "../lib/hub.js";
import { jupyterHubToken, startJupyterHub } from "../lib/jupyterhub.js";
import { CpuWindow, treeRssMiB } from "../lib/proc.js";
import { figureOf, fmt, type Figure } from "../lib/report.js";
import { createSlipwayAdmin, startSlipway } from "../lib/slipway-hub.js";
import { runWrk } from "../lib/wrk.js";
import type { BenchContext, Scenario } from "./context.js";

const PAGINATION = "application/jupyterhub-pagination+json";

interface ListTest {
  readonly name: string;
  readonly users: number;
  readonly path: string;
  readonly connections: number;
  readonly paginated: boolean;
}

function userNames(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `u${String(from + i).padStart(5, "0")}`);
}

interface Sample {
  rate: number;
  p50: number;
  p99: number;
  cpu: Record<string, number>;
}

/** The hub's process tree: JupyterHub's holds its CHP; Slipway's proxy is in the hub process. */
function rssOf(hub: Hub): number {
  return treeRssMiB(hub.hubPids().hub);
}

/**
 * `GET /hub/api/users` on both hubs, through their public port, with an admin token: all users
 * (`?limit=200`, JupyterHub's page size without the pagination header) at 20 and 200 users, and
 * one page of 200 from the middle of 10,000 users with the pagination header.
 */
export const hubApi: Scenario = {
  group: "hub-api",
  title: "GET /hub/api/users with 20, 200 and 10,000 users",
  async run(ctx: BenchContext) {
    const { runs, durationSeconds, manyUsers, quick } = ctx.options;
    const hubs: Hub[] = [];
    const dataDir = join(ctx.tmp, "slipway");
    const token = await createSlipwayAdmin(ctx.supervisor, dataDir, "bench");
    hubs.push(
      await startSlipway(ctx.supervisor, { name: "slipway", dataDir, port: await freePort(), token }),
    );
    if (ctx.tools.jupyterhub) {
      hubs.push(
        await startJupyterHub(ctx.supervisor, {
          name: "jupyterhub",
          dir: join(ctx.tmp, "jupyterhub"),
          homeDir: join(ctx.tmp, "jupyterhub-home", "{username}"),
          port: await freePort(),
          hubPort: await freePort(),
          proxyApiPort: await freePort(),
          token: jupyterHubToken(),
        }),
      );
    } else ctx.note("JupyterHub is not installed: no JupyterHub API figures");
    await sleep(1000);
    const rss = new Map<string, Record<string, number>>(hubs.map((h) => [h.kind, { idle: rssOf(h) }]));

    const concurrency = quick ? [1] : [1, 10];
    const tests: ListTest[] = [];
    for (const users of [20, 200]) {
      for (const c of concurrency) {
        tests.push({
          name: `${users} users c${c}`,
          users,
          path: "/hub/api/users?limit=200",
          connections: c,
          paginated: false,
        });
      }
    }
    for (const c of concurrency) {
      tests.push({
        name: `${manyUsers} users page c${c}`,
        users: manyUsers,
        path: `/hub/api/users?offset=${manyUsers / 2}&limit=200`,
        connections: c,
        paginated: true,
      });
    }
    // Slipway counts its admin ("bench") among the users; JupyterHub's admin is a service.
    const have = new Map<string, number>(hubs.map((h) => [h.kind, h.kind === "slipway" ? 1 : 0]));
    for (const test of tests) {
      for (const hub of hubs) {
        const now = have.get(hub.kind) ?? 0;
        if (now < test.users) {
          const offset = hub.kind === "slipway" ? 1 : 0;
          await hub.addUsers(userNames(now - offset, test.users - offset));
          have.set(hub.kind, test.users);
          await sleep(500);
          const r = rss.get(hub.kind);
          if (r) r[`${test.users} users`] = rssOf(hub);
        }
      }
      const samples = new Map<string, Sample[]>(hubs.map((h) => [h.kind, []]));
      const bytes = new Map<string, number>();
      for (const hub of hubs) {
        const res = await api(hub, "GET", test.path, undefined, test.paginated ? PAGINATION : undefined);
        if (res.status !== 200) throw new Error(`${hub.kind} ${test.path} answered ${res.status}`);
        bytes.set(hub.kind, Buffer.byteLength(res.text));
        // Warm-up (JupyterHub's first requests after a bulk insert load the users).
        await runWrk(ctx.supervisor, {
          url: hub.url + test.path,
          connections: test.connections,
          durationSeconds: 1,
          headers: headersOf(hub, test),
        });
      }
      for (let run = 0; run < runs; run++) {
        for (const hub of run % 2 === 0 ? hubs : [...hubs].reverse()) {
          const pids = hub.hubPids();
          const window = new CpuWindow({
            hub: () => [pids.hub],
            ...(pids.proxy !== undefined ? { proxy: () => [pids.proxy ?? 0] } : {}),
          });
          const r = await runWrk(ctx.supervisor, {
            url: hub.url + test.path,
            connections: test.connections,
            durationSeconds,
            headers: headersOf(hub, test),
          });
          if (r.non2xx > 0 || r.socketErrors > 0)
            throw new Error(`${hub.kind} ${test.name}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
          const cpu = window.close();
          const perReq: Record<string, number> = {};
          for (const [role, seconds] of Object.entries(cpu))
            perReq[role] = (seconds * 1e6) / Math.max(1, r.requests);
          samples.get(hub.kind)?.push({ rate: r.requestsPerSecond, p50: r.p50Ms, p99: r.p99Ms, cpu: perReq });
          ctx.log(
            `${test.name} run ${run + 1}/${runs} ${hub.kind}: ${fmt(r.requestsPerSecond)} req/s p50 ${fmt(r.p50Ms)} ms`,
          );
        }
      }
      for (const hub of hubs) {
        const list = samples.get(hub.kind) ?? [];
        const figures: Record<string, Figure> = {
          p50: figureOf(
            list.map((s) => s.p50),
            "ms",
          ),
          p99: figureOf(
            list.map((s) => s.p99),
            "ms",
          ),
        };
        for (const role of Object.keys(list[0]?.cpu ?? {})) {
          figures[`CPU ${role}`] = figureOf(
            list.map((s) => s.cpu[role] ?? Number.NaN),
            "µs/req",
          );
        }
        ctx.addRow({
          group: "hub-api",
          test: test.name,
          subject: hub.kind,
          primary: {
            name: "req/s",
            higherIsBetter: true,
            ...figureOf(
              list.map((s) => s.rate),
              "req/s",
            ),
          },
          figures,
          note: `${bytes.get(hub.kind) ?? 0} bytes per response (${test.path}${test.paginated ? ", paginated" : ""})`,
        });
      }
    }
    for (const hub of hubs) {
      const r = rss.get(hub.kind) ?? {};
      const figures: Record<string, Figure> = {};
      for (const [point, mib] of Object.entries(r))
        if (point !== "idle") figures[`RSS ${point}`] = figureOf([mib], "MiB");
      ctx.addRow({
        group: "hub-api",
        test: "hub RSS (idle, then with users)",
        subject: hub.kind,
        primary: { name: "RSS idle", higherIsBetter: false, ...figureOf([r["idle"] ?? Number.NaN], "MiB") },
        figures,
        note: hub.kind === "jupyterhub" ? "hub and its CHP together" : "the hub process (its proxy is in it)",
      });
    }
    ctx.note(
      `JupyterHub gets its first 200 users through its API and the rest of the ${manyUsers} straight into ` +
        "its SQLite database (its API takes about 19 s per 1,000 users here); Slipway gets all of them through its API.",
    );
  },
};

function headersOf(hub: Hub, test: ListTest): Record<string, string> {
  return { authorization: `token ${hub.token}`, ...(test.paginated ? { accept: PAGINATION } : {}) };
}
