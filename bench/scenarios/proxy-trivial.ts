import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { tsNodeArgv } from "../lib/node-argv.js";
import { figureOf } from "../lib/report.js";
import type { BenchContext, Scenario } from "./context.js";
import { measureProxies, type ProxyTest } from "./proxy-measure.js";
import {
  BENCH_USER,
  proxyRss,
  setUpProxies,
  subjectsOf,
  tearDownProxies,
  type LaunchedServer,
} from "./proxy-setup.js";

const BACKEND = fileURLToPath(new URL("../backends/trivial-backend.ts", import.meta.url));
const base = `/user/${BENCH_USER}`;

export const TRIVIAL_TESTS: readonly ProxyTest[] = [
  { kind: "http", name: "small GET c1", path: `${base}/`, connections: 1 },
  { kind: "http", name: "small GET c50", path: `${base}/`, connections: 50, quick: true },
  { kind: "http", name: "1 MiB GET c50", path: `${base}/big`, connections: 50, quick: true },
  {
    kind: "ws",
    name: "ws echo 32 B c1",
    path: `${base}/echo`,
    connections: 1,
    payloadBytes: 32,
    mode: "echo",
  },
  {
    kind: "ws",
    name: "ws echo 32 B c50",
    path: `${base}/echo`,
    connections: 50,
    payloadBytes: 32,
    mode: "echo",
  },
  {
    kind: "ws",
    name: "ws echo 64 KiB c1",
    path: `${base}/echo`,
    connections: 1,
    payloadBytes: 64 * 1024,
    mode: "echo",
  },
  {
    kind: "ws",
    name: "ws echo 64 KiB c50",
    path: `${base}/echo`,
    connections: 50,
    payloadBytes: 64 * 1024,
    mode: "echo",
  },
];

/**
 * The trivial backend listens on its socket and on a TCP port of 127.0.0.1, and prints the port
 * to its log (the launcher's `logPath`) once both listen, which may be just after the launcher
 * saw it answer on the socket.
 */
async function sameProcessOnTcp(launched: LaunchedServer): Promise<{ pid: number; port: number }> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(readFileSync(launched.logPath, "utf8"));
    if (match?.[1] !== undefined) return { pid: launched.pid, port: Number(match[1]) };
    if (performance.now() > deadline) {
      throw new Error(`the trivial backend did not report its TCP port in ${launched.logPath}`);
    }
    await sleep(20);
  }
}

/**
 * The proxy alone: a trivial Node backend (started by Slipway's own launcher as the bench
 * user's server) reached directly, through Slipway (over its socket) and through
 * configurable-http-proxy and nginx (over its TCP port).
 */
export const proxyTrivial: Scenario = {
  group: "proxy-trivial",
  title: "Proxy in front of a trivial Node backend",
  async run(ctx: BenchContext) {
    const setup = await setUpProxies(ctx, tsNodeArgv(BACKEND), ctx.tmp, sameProcessOnTcp);
    try {
      const auth = { authorization: `token ${setup.hub.token}` };
      // One process behind every subject.
      const backend = { roles: { backend: () => [setup.launched.pid] } };
      // The backend ignores credentials; every subject sends the same header so requests are alike.
      const subjects = subjectsOf(setup, auth, auth, { launched: backend, anchor: backend });
      const before = proxyRss(subjects);
      await measureProxies(ctx, "proxy-trivial", TRIVIAL_TESTS, subjects);
      const after = proxyRss(subjects);
      for (const [name, mib] of Object.entries(after)) {
        ctx.addRow({
          group: "proxy-trivial",
          test: "proxy RSS after the load",
          subject: name,
          primary: { name: "RSS", higherIsBetter: false, ...figureOf([mib], "MiB") },
          figures: { "RSS before": figureOf([before[name] ?? Number.NaN], "MiB") },
          note: name === "slipway" ? "the whole hub (proxy, API, store)" : "the proxy process",
        });
      }
    } finally {
      await tearDownProxies(setup);
    }
  },
};
