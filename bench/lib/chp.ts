import { http } from "./http.js";
import { CHP4_BIN, CHP5_BIN, DEBIAN_NODE_PATH } from "./paths.js";
import type { ManagedProcess, Supervisor } from "./supervisor.js";
import { setTimeout as sleep } from "node:timers/promises";

export type ChpFlavour = "chp5" | "chp4";

export interface Chp {
  readonly flavour: ChpFlavour;
  readonly process: ManagedProcess;
  readonly url: string;
  addRoute(prefix: string, target: string): Promise<void>;
}

/**
 * Starts configurable-http-proxy standalone, as JupyterHub runs it (default options, log level
 * info): `chp5` is the newest 5.x from npm in bench/.deps, `chp4` Debian's 4.5.3.
 */
export async function startChp(
  supervisor: Supervisor,
  flavour: ChpFlavour,
  port: number,
  apiPort: number,
): Promise<Chp> {
  const token = `bench-${port}-${apiPort}`;
  const bin = flavour === "chp5" ? CHP5_BIN : CHP4_BIN;
  const env: NodeJS.ProcessEnv = { ...process.env, CONFIGPROXY_AUTH_TOKEN: token };
  if (flavour === "chp4") env["NODE_PATH"] = DEBIAN_NODE_PATH;
  const proc = supervisor.start(
    flavour,
    process.execPath,
    [
      bin,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--api-ip",
      "127.0.0.1",
      "--api-port",
      String(apiPort),
    ],
    { env, capture: true },
  );
  const apiUrl = `http://127.0.0.1:${apiPort}/api/routes`;
  const headers = { authorization: `token ${token}` };
  for (let i = 0; ; i++) {
    const status = await http(apiUrl, { headers, timeoutMs: 1000 }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (!proc.running || i > 300) throw new Error(`${flavour} did not start; see ${proc.logFile}`);
    await sleep(20);
  }
  return {
    flavour,
    process: proc,
    url: `http://127.0.0.1:${port}`,
    async addRoute(prefix, target) {
      const res = await http(`${apiUrl}${prefix}`, { method: "POST", headers, body: { target } });
      if (res.status !== 201) throw new Error(`${flavour} refused the route: ${res.status} ${res.text}`);
    },
  };
}
