import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { http, json } from "../lib/http.js";
import { JUPYTER } from "../lib/paths.js";
import { processTree } from "../lib/proc.js";
import type { BenchContext, Scenario } from "./context.js";
import { measureProxies, type ProxyTest } from "./proxy-measure.js";
import { BENCH_USER, setUpProxies, subjectsOf, tearDownProxies } from "./proxy-setup.js";

const base = `/user/${BENCH_USER}`;

const serverConfig = z.object({ ServerApp: z.object({ token: z.string().min(1) }) });
const kernelModel = z.object({ id: z.string().min(1) });

/**
 * The proxy in front of a real single-user server: Debian's jupyter-server 1.23, started by
 * Slipway's launcher. Direct and CHP requests carry the server's own token (read from the
 * config the launcher wrote); Slipway's carry the hub token and Slipway swaps in the server's.
 * Websockets: the kernel's channels, `kernel_info_request` round trips on one connection.
 */
export const proxyJupyter: Scenario = {
  group: "proxy-jupyter",
  title: "Proxy in front of jupyter-server 1.23",
  async run(ctx: BenchContext) {
    if (!ctx.tools.jupyterServer) throw new Error("jupyter-server is not installed");
    const root = join(ctx.tmp, "notebooks");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "big.bin"), Buffer.alloc(1024 * 1024, 0x63));
    const setup = await setUpProxies(ctx, [JUPYTER, "server"], root);
    try {
      const config = serverConfig.parse(
        JSON.parse(readFileSync(join(setup.serverDir, "jupyter_config.json"), "utf8")),
      );
      const serverAuth = { authorization: `token ${config.ServerApp.token}` };
      const hubAuth = { authorization: `token ${setup.hub.token}` };
      const direct = `http://127.0.0.1:${setup.serverPort}`;
      const started = await http(`${direct}${base}/api/kernels`, {
        method: "POST",
        headers: serverAuth,
        body: { name: "python3" },
      });
      if (started.status !== 201)
        throw new Error(`no kernel: ${started.status} ${started.text.slice(0, 200)}`);
      const kernel = kernelModel.parse(json(started));
      const tests: ProxyTest[] = [
        { kind: "http", name: "status GET c1", path: `${base}/api/status`, connections: 1 },
        { kind: "http", name: "status GET c50", path: `${base}/api/status`, connections: 50, quick: true },
        { kind: "http", name: "1 MiB file GET c50", path: `${base}/files/big.bin`, connections: 50 },
        {
          kind: "ws",
          name: "kernel_info c1",
          path: `${base}/api/kernels/${kernel.id}/channels`,
          connections: 1,
          payloadBytes: 1,
          mode: "kernel-info",
          quick: true,
        },
      ];
      const subjects = subjectsOf(setup, hubAuth, serverAuth);
      await measureProxies(ctx, "proxy-jupyter", tests, subjects, {
        server: () => [setup.serverPid],
        kernel: () => processTree(setup.serverPid).filter((pid) => pid !== setup.serverPid),
      });
      await http(`${direct}${base}/api/kernels/${kernel.id}`, { method: "DELETE", headers: serverAuth });
      ctx.note(
        "kernel_info: jupyter_server 1.23 leaves Nagle's algorithm on, so replies wait for a delayed ACK " +
          "(about 40 ms) with or without a proxy; the first message about a request (iopub busy) shows the proxy's cost.",
      );
    } finally {
      await tearDownProxies(setup);
    }
  },
};
