import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { addUsersThroughApi, type Hub } from "./hub.js";
import { waitFor200 } from "./http.js";
import { DEBIAN_NODE_PATH } from "./paths.js";
import { cmdlineOf, processTree } from "./proc.js";
import type { ManagedProcess, Supervisor } from "./supervisor.js";

export interface JupyterHubStart {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly hubPort: number;
  readonly proxyApiPort: number;
  readonly token: string;
  /** Where user servers start (SimpleLocalProcessSpawner's home_dir_template; must exist). */
  readonly homeDir: string;
  readonly readyTimeoutMs?: number;
}

const py = (value: string | number): string => JSON.stringify(value);

/**
 * The anchor as the baseline ran it: Debian's JupyterHub 3.0 with DummyAuthenticator,
 * SimpleLocalProcessSpawner, SQLite, and Debian's configurable-http-proxy 4.5.3 started by the
 * hub; single-user servers are `jupyterhub-singleuser` on jupyter_server (Debian's 1.23).
 * A service token with the admin role stands in for an admin's API token.
 */
export function jupyterHubConfig(options: JupyterHubStart): string {
  return [
    "c = get_config()  # noqa",
    `c.JupyterHub.ip = "127.0.0.1"`,
    `c.JupyterHub.port = ${options.port}`,
    `c.JupyterHub.hub_ip = "127.0.0.1"`,
    `c.JupyterHub.hub_port = ${options.hubPort}`,
    `c.ConfigurableHTTPProxy.api_url = ${py(`http://127.0.0.1:${options.proxyApiPort}`)}`,
    `c.ConfigurableHTTPProxy.pid_file = ${py(join(options.dir, "proxy.pid"))}`,
    `c.JupyterHub.pid_file = ${py(join(options.dir, "jupyterhub.pid"))}`,
    `c.JupyterHub.db_url = ${py(`sqlite:///${join(options.dir, "jupyterhub.sqlite")}`)}`,
    `c.JupyterHub.cookie_secret_file = ${py(join(options.dir, "cookie_secret"))}`,
    `c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"`,
    `c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"`,
    `c.SimpleLocalProcessSpawner.home_dir_template = ${py(options.homeDir)}`,
    `c.Spawner.cmd = ["/usr/bin/jupyterhub-singleuser"]`,
    `c.Spawner.args = ["--allow-root"]`,
    `c.Spawner.environment = {"JUPYTERHUB_SINGLEUSER_APP": "jupyter_server.serverapp.ServerApp"}`,
    `c.JupyterHub.services = [{"name": "bench", "api_token": ${py(options.token)}}]`,
    `c.JupyterHub.load_roles = [{"name": "admin", "services": ["bench"]}]`,
    "",
  ].join("\n");
}

export class JupyterHub implements Hub {
  readonly kind = "jupyterhub";

  constructor(
    readonly process: ManagedProcess,
    readonly url: string,
    readonly token: string,
    readonly dir: string,
    readonly readyAt: number,
    readonly startedAt: number,
  ) {}

  /** The hub's Python process and the CHP it started. */
  hubPids(): { hub: number; proxy: number | undefined } {
    const proxy = processTree(this.process.pid).find(
      (pid) => pid !== this.process.pid && cmdlineOf(pid).includes("configurable-http-proxy"),
    );
    return { hub: this.process.pid, proxy };
  }

  /**
   * Up to 200 users through the API (as an admin would); beyond that straight into SQLite,
   * rows and role as the API makes them, because the API takes about 19 s per 1,000 users here.
   */
  async addUsers(names: readonly string[]): Promise<void> {
    const viaApi = names.slice(0, 200);
    await addUsersThroughApi(this, viaApi, 200);
    const rest = names.slice(200);
    if (rest.length > 0) insertJupyterHubUsers(join(this.dir, "jupyterhub.sqlite"), rest);
  }
}

/** Inserts users as JupyterHub's API would: a `users` row and the `user` role each. */
export function insertJupyterHubUsers(dbPath: string, names: readonly string[]): void {
  const db = new Database(dbPath);
  try {
    db.pragma("busy_timeout = 10000");
    const role = db.prepare("SELECT id FROM roles WHERE name = 'user'").get();
    const roleId = typeof role === "object" && role !== null && "id" in role ? role.id : undefined;
    if (typeof roleId !== "number") throw new Error("JupyterHub's database has no 'user' role");
    const now = new Date().toISOString().replace("T", " ").replace("Z", "");
    const addUser = db.prepare(
      "INSERT INTO users (name, admin, created, cookie_id) VALUES (?, 0, ?, ?) RETURNING id",
    );
    const addRole = db.prepare("INSERT INTO user_role_map (user_id, role_id) VALUES (?, ?)");
    db.transaction(() => {
      for (const name of names) {
        const row = addUser.get(name, now, randomUUID().replaceAll("-", ""));
        const id = typeof row === "object" && row !== null && "id" in row ? row.id : undefined;
        if (typeof id !== "number") throw new Error(`no id for ${name}`);
        addRole.run(id, roleId);
      }
    })();
  } finally {
    db.close();
  }
}

export function jupyterHubToken(): string {
  return randomBytes(24).toString("hex");
}

/** Starts `jupyterhub` (which starts its CHP) and waits until `/hub/health` answers through the proxy. */
export async function startJupyterHub(supervisor: Supervisor, options: JupyterHubStart): Promise<JupyterHub> {
  mkdirSync(options.dir, { recursive: true });
  mkdirSync(options.homeDir, { recursive: true });
  const configFile = join(options.dir, "jupyterhub_config.py");
  writeFileSync(configFile, jupyterHubConfig(options));
  const startedAt = performance.now();
  const proc = supervisor.start("jupyterhub", "/usr/bin/jupyterhub", ["-f", configFile], {
    cwd: options.dir,
    env: {
      ...process.env,
      // Debian's python and Debian's Jupyter, whatever else is first on PATH.
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      NODE_PATH: DEBIAN_NODE_PATH,
    },
    capture: true,
  });
  const url = `http://127.0.0.1:${options.port}`;
  const readyAt = await Promise.race([
    waitFor200(`${url}/hub/health`, { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 5 }),
    proc.exited.then((exit) => {
      throw new Error(
        `JupyterHub exited (${exit.code ?? exit.signal}) before it was ready; see ${proc.logFile}`,
      );
    }),
  ]);
  return new JupyterHub(proc, url, options.token, options.dir, readyAt, startedAt);
}
