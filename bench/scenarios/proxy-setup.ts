import { dirname, join } from "node:path";
import type { ConfigInput } from "../../src/config/schema.js";
import { startChp, type Chp } from "../lib/chp.js";
import { freePort } from "../lib/free-port.js";
import { api, userModel } from "../lib/hub.js";
import { startNginx, type Nginx } from "../lib/nginx.js";
import { createSlipwayAdmin, startSlipway, type SlipwayHub } from "../lib/slipway-hub.js";
import type { BenchContext } from "./context.js";
import { rssMiB, type ProxySubject } from "./proxy-measure.js";

export const BENCH_USER = "bench";

export interface ProxySetup {
  readonly hub: SlipwayHub;
  readonly serverPid: number;
  readonly serverPort: number;
  /** The server's directory (its config, with its token, and its log). */
  readonly serverDir: string;
  readonly chps: readonly Chp[];
  /** Debian's nginx in front of the same server, when it is installed. */
  readonly nginx: Nginx | undefined;
}

/**
 * A Slipway hub whose launcher starts `command` as the bench user's server, and the CHPs and
 * nginx routed to that same server process: every subject reaches one backend.
 */
export async function setUpProxies(
  ctx: BenchContext,
  command: readonly string[],
  workDir: string,
): Promise<ProxySetup> {
  const dataDir = join(ctx.tmp, "slipway");
  const token = await createSlipwayAdmin(ctx.supervisor, dataDir, BENCH_USER);
  const config: ConfigInput = { servers: { command: [...command], workDir } };
  const hub = await startSlipway(ctx.supervisor, {
    name: "slipway",
    dataDir,
    port: await freePort(),
    token,
    config,
  });
  const started = await api(hub, "POST", `/hub/api/users/${BENCH_USER}/server`);
  if (started.status !== 201) throw new Error(`the server did not start: ${started.status} ${started.text}`);
  const state = (await userModel(hub, BENCH_USER)).servers[""]?.state ?? {};
  const { pid, port, logPath } = state;
  if (typeof pid !== "number" || typeof port !== "number" || typeof logPath !== "string") {
    throw new Error(`no launcher state for the server: ${JSON.stringify(state)}`);
  }
  ctx.supervisor.adopt(pid, "user-server");
  const chps: Chp[] = [];
  const flavours = [
    ...(ctx.tools.chp5 ? (["chp5"] as const) : []),
    ...(ctx.options.withChp4 && ctx.tools.chp4 ? (["chp4"] as const) : []),
  ];
  for (const flavour of flavours) {
    const chp = await startChp(ctx.supervisor, flavour, await freePort(), await freePort());
    await chp.addRoute(`/user/${BENCH_USER}`, `http://127.0.0.1:${port}`);
    chps.push(chp);
  }
  const nginx = ctx.tools.nginx
    ? await startNginx(ctx.supervisor, join(ctx.tmp, "nginx"), await freePort(), { host: "127.0.0.1", port })
    : undefined;
  return { hub, serverPid: pid, serverPort: port, serverDir: dirname(logPath), chps, nginx };
}

/** Direct, Slipway, each CHP and nginx, with the credentials each needs. */
export function subjectsOf(
  setup: ProxySetup,
  hubHeaders: Record<string, string>,
  serverHeaders: Record<string, string>,
): ProxySubject[] {
  return [
    {
      name: "direct",
      baseUrl: `http://127.0.0.1:${setup.serverPort}`,
      headers: serverHeaders,
      proxyPids: () => [],
    },
    {
      name: "slipway",
      baseUrl: setup.hub.url,
      headers: hubHeaders,
      proxyPids: () => [setup.hub.process.pid],
    },
    ...setup.chps.map((chp) => ({
      name: chp.flavour,
      baseUrl: chp.url,
      headers: serverHeaders,
      proxyPids: () => [chp.process.pid],
    })),
    ...(setup.nginx === undefined
      ? []
      : [
          {
            name: "nginx",
            baseUrl: setup.nginx.url,
            headers: serverHeaders,
            proxyPids: () => (setup.nginx === undefined ? [] : [setup.nginx.process.pid]),
          },
        ]),
  ];
}

/** The proxies' RSS now, by subject name. */
export function proxyRss(subjects: readonly ProxySubject[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of subjects) if (s.proxyPids().length > 0) out[s.name] = rssMiB(s.proxyPids());
  return out;
}

export async function tearDownProxies(setup: ProxySetup): Promise<void> {
  await api(setup.hub, "DELETE", `/hub/api/users/${BENCH_USER}/server`).catch(() => undefined);
}
