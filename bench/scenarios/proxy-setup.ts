import { dirname, join } from "node:path";
import { z } from "zod";
import type { ConfigInput } from "../../src/config/schema.js";
import { startChp, type Chp } from "../lib/chp.js";
import { freePort } from "../lib/free-port.js";
import { api, userModel } from "../lib/hub.js";
import { startNginx, type Nginx } from "../lib/nginx.js";
import { createSlipwayAdmin, startSlipway, type SlipwayHub } from "../lib/slipway-hub.js";
import type { BenchContext } from "./context.js";
import { rssMiB, type ProxyBackend, type ProxySubject } from "./proxy-measure.js";

export const BENCH_USER = "bench";

/** The bench user's server as Slipway's launcher started it; Slipway reaches it over its socket. */
export interface LaunchedServer {
  readonly pid: number;
  /** The Unix socket it listens on (`ServerApp.sock` of the config the launcher wrote). */
  readonly socket: string;
  /** The server's directory (its config, with its token, and its log). */
  readonly dir: string;
  readonly logPath: string;
}

/** The server process the anchors (direct, the CHPs, nginx) reach over TCP on 127.0.0.1. */
export interface AnchorServer {
  readonly pid: number;
  readonly port: number;
}

export interface ProxySetup<A extends AnchorServer = AnchorServer> {
  readonly hub: SlipwayHub;
  readonly launched: LaunchedServer;
  readonly anchor: A;
  readonly chps: readonly Chp[];
  /** Debian's nginx in front of the anchor server, when it is installed. */
  readonly nginx: Nginx | undefined;
}

const launcherState = z.object({
  pid: z.int().min(1),
  socket: z.string().min(1),
  logPath: z.string().min(1),
});

/**
 * A Slipway hub whose launcher starts `command` as the bench user's server, and the CHPs and
 * nginx routed to the TCP port of `anchorServer`: the same process where it can listen on a
 * socket and a port at once (the trivial backend), else an identically configured one.
 */
export async function setUpProxies<A extends AnchorServer>(
  ctx: BenchContext,
  command: readonly string[],
  workDir: string,
  anchorServer: (launched: LaunchedServer) => Promise<A>,
): Promise<ProxySetup<A>> {
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
  const parsed = launcherState.safeParse(state);
  if (!parsed.success) throw new Error(`no launcher state for the server: ${JSON.stringify(state)}`);
  const { pid, socket, logPath } = parsed.data;
  ctx.supervisor.adopt(pid, "user-server");
  const launched: LaunchedServer = { pid, socket, logPath, dir: dirname(logPath) };
  const anchor = await anchorServer(launched);
  const chps: Chp[] = [];
  const flavours = [
    ...(ctx.tools.chp5 ? (["chp5"] as const) : []),
    ...(ctx.options.withChp4 && ctx.tools.chp4 ? (["chp4"] as const) : []),
  ];
  for (const flavour of flavours) {
    const chp = await startChp(ctx.supervisor, flavour, await freePort(), await freePort());
    await chp.addRoute(`/user/${BENCH_USER}`, `http://127.0.0.1:${anchor.port}`);
    chps.push(chp);
  }
  const nginx = ctx.tools.nginx
    ? await startNginx(ctx.supervisor, join(ctx.tmp, "nginx"), await freePort(), {
        host: "127.0.0.1",
        port: anchor.port,
      })
    : undefined;
  return { hub, launched, anchor, chps, nginx };
}

/**
 * Direct, Slipway, each CHP and nginx, with the credentials each needs: Slipway reaches
 * `backends.launched`, every other subject `backends.anchor`.
 */
export function subjectsOf<B extends ProxyBackend>(
  setup: ProxySetup,
  hubHeaders: Record<string, string>,
  serverHeaders: Record<string, string>,
  backends: { readonly launched: B; readonly anchor: B },
): ProxySubject<B>[] {
  const anchor = { headers: serverHeaders, backend: backends.anchor };
  return [
    {
      name: "direct",
      baseUrl: `http://127.0.0.1:${setup.anchor.port}`,
      proxyPids: () => [],
      ...anchor,
    },
    {
      name: "slipway",
      baseUrl: setup.hub.url,
      headers: hubHeaders,
      proxyPids: () => [setup.hub.process.pid],
      backend: backends.launched,
    },
    ...setup.chps.map((chp) => ({
      name: chp.flavour,
      baseUrl: chp.url,
      proxyPids: () => [chp.process.pid],
      ...anchor,
    })),
    ...(setup.nginx === undefined
      ? []
      : [
          {
            name: "nginx",
            baseUrl: setup.nginx.url,
            proxyPids: () => (setup.nginx === undefined ? [] : [setup.nginx.process.pid]),
            ...anchor,
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
