import { fileURLToPath } from "node:url";
import { tsNodeArgv } from "../lib/node-argv.js";
import { figureOf } from "../lib/report.js";
import type { BenchContext, Scenario } from "./context.js";
import { measureProxies, type ProxyTest } from "./proxy-measure.js";
import { BENCH_USER, proxyRss, setUpProxies, subjectsOf, tearDownProxies } from "./proxy-setup.js";

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
 * The proxy alone: a trivial Node backend (started by Slipway's own launcher as the bench
 * user's server) reached directly, through Slipway and through configurable-http-proxy.
 */
export const proxyTrivial: Scenario = {
  group: "proxy-trivial",
  title: "Proxy in front of a trivial Node backend",
  async run(ctx: BenchContext) {
    const setup = await setUpProxies(ctx, tsNodeArgv(BACKEND), ctx.tmp);
    try {
      const auth = { authorization: `token ${setup.hub.token}` };
      // The backend ignores credentials; every subject sends the same header so requests are alike.
      const subjects = subjectsOf(setup, auth, auth);
      const before = proxyRss(subjects);
      await measureProxies(ctx, "proxy-trivial", TRIVIAL_TESTS, subjects, {
        backend: () => [setup.serverPid],
      });
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
