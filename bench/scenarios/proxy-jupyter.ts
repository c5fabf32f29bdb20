import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { freePort } from "../lib/free-port.js";
import { http, json, waitFor200 } from "../lib/http.js";
import { JUPYTER } from "../lib/paths.js";
import { processTree } from "../lib/proc.js";
import type { BenchContext, Scenario } from "./context.js";
import { measureProxies, type ProxyBackend, type ProxyTest } from "./proxy-measure.js";
import {
  BENCH_USER,
  setUpProxies,
  subjectsOf,
  tearDownProxies,
  type AnchorServer,
  type LaunchedServer,
} from "./proxy-setup.js";

const base = `/user/${BENCH_USER}`;
const COMMAND = [JUPYTER, "server"] as const;

const section = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const launcherConfig = z
  .object({ ServerApp: section.and(z.object({ token: z.string().min(1) })) })
  .catchall(section);
const kernelModel = z.object({ id: z.string().min(1) });

interface JupyterBackend extends ProxyBackend {
  /** Where this server is reached with its own token (the anchors' TCP port, or through Slipway). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The kernel whose channels the websocket test uses: each server has its own. */
  readonly kernelId: string;
}

/**
 * jupyter-server listens on a socket or on a port, never both (`--port and --sock are mutually
 * exclusive`), so the anchors reach a second server: the same command, the config the launcher
 * wrote with `sock` swapped for `ip` and `port`, the same root directory and environment (a
 * runtime directory of its own), started before any measurement and left running beside the
 * launched one.
 */
async function identicalServerOnTcp(
  ctx: BenchContext,
  launched: LaunchedServer,
  root: string,
): Promise<AnchorServer & { token: string }> {
  const written = launcherConfig.parse(
    JSON.parse(readFileSync(join(launched.dir, "jupyter_config.json"), "utf8")),
  );
  const port = await freePort();
  const config: Record<string, Record<string, string | number | boolean>> = {};
  for (const [name, values] of Object.entries(written)) {
    const { sock: _sock, sock_mode: _mode, ...rest } = values;
    config[name] = { ...rest, ip: "127.0.0.1", port, port_retries: 0 };
  }
  const dir = join(ctx.tmp, "anchor-server");
  mkdirSync(join(dir, "runtime"), { recursive: true, mode: 0o700 });
  const configFile = join(dir, "jupyter_config.json");
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const [command, ...args] = COMMAND;
  // What the launcher's helper hands a server that runs as the hub's account.
  const env: NodeJS.ProcessEnv = { JUPYTER_RUNTIME_DIR: join(dir, "runtime") };
  for (const name of ["PATH", "HOME", "USER", "LOGNAME", "LANG", "SHELL"]) env[name] = process.env[name];
  const proc = ctx.supervisor.start("anchor-server", command, [...args, `--config=${configFile}`], {
    cwd: root,
    env,
  });
  await waitFor200(`http://127.0.0.1:${port}${base}/api/status`, {
    headers: { authorization: `token ${written.ServerApp.token}` },
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  return { pid: proc.pid, port, token: written.ServerApp.token };
}

async function startKernel(backend: Omit<JupyterBackend, "kernelId">): Promise<string> {
  const started = await http(`${backend.url}${base}/api/kernels`, {
    method: "POST",
    headers: backend.headers,
    body: { name: "python3" },
  });
  if (started.status !== 201) throw new Error(`no kernel: ${started.status} ${started.text.slice(0, 200)}`);
  return kernelModel.parse(json(started)).id;
}

function serverRoles(pid: number): ProxyBackend["roles"] {
  return {
    server: () => [pid],
    kernel: () => processTree(pid).filter((p) => p !== pid),
  };
}

/**
 * The proxy in front of a real single-user server: Debian's jupyter-server 1.23, started by
 * Slipway's launcher on a Unix socket, which Slipway's proxy reaches; direct, the CHPs and nginx
 * reach an identical server on a TCP port. Direct and CHP requests carry that server's token
 * (the launcher's, copied with its config); Slipway's carry the hub token and Slipway swaps in
 * the server's. Websockets: each server's own kernel's channels, `kernel_info_request` round
 * trips on one connection.
 */
export const proxyJupyter: Scenario = {
  group: "proxy-jupyter",
  title: "Proxy in front of jupyter-server 1.23",
  async run(ctx: BenchContext) {
    if (!ctx.tools.jupyterServer) throw new Error("jupyter-server is not installed");
    const root = join(ctx.tmp, "notebooks");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "big.bin"), Buffer.alloc(1024 * 1024, 0x63));
    const setup = await setUpProxies(ctx, COMMAND, root, (launched) =>
      identicalServerOnTcp(ctx, launched, root),
    );
    const backends: JupyterBackend[] = [];
    try {
      const serverAuth = { authorization: `token ${setup.anchor.token}` };
      const hubAuth = { authorization: `token ${setup.hub.token}` };
      const launched = { url: setup.hub.url, headers: hubAuth, roles: serverRoles(setup.launched.pid) };
      const anchor = {
        url: `http://127.0.0.1:${setup.anchor.port}`,
        headers: serverAuth,
        roles: serverRoles(setup.anchor.pid),
      };
      const both = {
        launched: { ...launched, kernelId: await startKernel(launched) },
        anchor: { ...anchor, kernelId: await startKernel(anchor) },
      };
      backends.push(both.launched, both.anchor);
      const tests: ProxyTest<JupyterBackend>[] = [
        { kind: "http", name: "status GET c1", path: `${base}/api/status`, connections: 1 },
        { kind: "http", name: "status GET c50", path: `${base}/api/status`, connections: 50, quick: true },
        { kind: "http", name: "1 MiB file GET c50", path: `${base}/files/big.bin`, connections: 50 },
        {
          kind: "ws",
          name: "kernel_info c1",
          path: (backend) => `${base}/api/kernels/${backend.kernelId}/channels`,
          connections: 1,
          payloadBytes: 1,
          mode: "kernel-info",
          quick: true,
        },
      ];
      await measureProxies(ctx, "proxy-jupyter", tests, subjectsOf(setup, hubAuth, serverAuth, both));
      ctx.note(
        "kernel_info: jupyter_server 1.23 leaves Nagle's algorithm on, so on TCP (direct, the CHPs, nginx) replies wait " +
          "for a delayed ACK (about 40 ms); Slipway reaches its server over a Unix socket, which has no such delay. " +
          "The first message about a request (iopub busy) shows the proxy's cost.",
      );
      ctx.note(
        "Slipway reaches the server its launcher started, over that server's Unix socket; direct, the CHPs and nginx " +
          "reach an identical jupyter-server (same command, config, root and environment) on a TCP port of 127.0.0.1, " +
          "because one jupyter-server cannot listen on both. Each server has its own kernel; CPU is that of the server " +
          "(and kernel) the subject reached.",
      );
    } finally {
      for (const backend of backends) {
        await http(`${backend.url}${base}/api/kernels/${backend.kernelId}`, {
          method: "DELETE",
          headers: backend.headers,
        }).catch(() => undefined);
      }
      await tearDownProxies(setup);
    }
  },
};
