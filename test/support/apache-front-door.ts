import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { LOG_DIR, REPO } from "./test-hub.js";

/** The example the documentation hands out; the fixture runs this very file, not a copy. */
export const APACHE_EXAMPLE = join(REPO, "examples/apache-oidc-front-door.conf");
export const APACHE_BINARY = process.env["APACHE2_PATH"] ?? "/usr/sbin/apache2";
const MODULE_DIR = "/usr/lib/apache2/modules";

/** What the example needs, besides log_config and unixd, which Debian compiles in. */
const MODULES = [
  ["mpm_event", "mod_mpm_event.so"],
  ["authn_core", "mod_authn_core.so"],
  ["authz_core", "mod_authz_core.so"],
  ["authz_user", "mod_authz_user.so"],
  ["headers", "mod_headers.so"],
  ["proxy", "mod_proxy.so"],
  ["proxy_http", "mod_proxy_http.so"],
  ["auth_openidc", "mod_auth_openidc.so"],
] as const;

export interface ApacheSite {
  readonly port: number;
  readonly hubSocket: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly passphrase: string;
}

/**
 * The example's variables for a site on http://127.0.0.1:<port>. `true` is a bare flag. They go
 * in the wrapper as Define lines: httpd 2.4.71's `-D NAME=value` defines a flag named
 * "NAME=value", so the example's default would still apply.
 */
export function testDefines(site: ApacheSite): Record<string, string | true> {
  const origin = `http://127.0.0.1:${site.port}`;
  return {
    SLIPWAY_PUBLIC_HOST: `127.0.0.1:${site.port}`,
    SLIPWAY_PUBLIC_URL: origin,
    SLIPWAY_LISTEN: `127.0.0.1:${site.port}`,
    SLIPWAY_PLAIN_HTTP: true,
    SLIPWAY_SOCKET: site.hubSocket,
    OIDC_ISSUER: site.issuer.replace(/\/$/, ""),
    OIDC_CLIENT_ID: site.clientId,
    OIDC_CLIENT_SECRET: site.clientSecret,
    OIDC_PASSPHRASE: site.passphrase,
  };
}

/** A Define line; refuses what would need quoting rules Apache does not have. */
function defineLine(name: string, value: string | true): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`not a Define name: ${name}`);
  if (value === true) return `Define ${name}`;
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(value) || value.includes("${")) {
    throw new Error(`${name}: the value must be printable ASCII without spaces, quotes, backslashes or \${`);
  }
  return `Define ${name} "${value}"`;
}

export interface ApacheMainConfig {
  /** ServerRoot, DefaultRuntimeDir and PidFile live here. */
  readonly dir: string;
  readonly port: number;
  readonly defines: Record<string, string | true>;
  readonly errorLog: string;
  readonly accessLog?: string;
  /** As root: the workers' account and group (Apache refuses to serve as root). */
  readonly runAs?: { readonly user: string; readonly gid: number };
  readonly include?: string;
  readonly extraModules?: readonly (readonly [string, string])[];
}

/**
 * Apache's own main configuration, in `dir`: nothing of /etc/apache2 is read. It loads the
 * modules, sets the defines and Includes the example (or `include`). Returns its path.
 */
export function writeApacheConfig(config: ApacheMainConfig): string {
  const modules = [...MODULES, ...(config.extraModules ?? [])];
  const lines = [
    `ServerRoot "${config.dir}"`,
    `DefaultRuntimeDir "${config.dir}"`,
    `PidFile "${join(config.dir, "apache2.pid")}"`,
    `ErrorLog "${config.errorLog}"`,
    "LogLevel warn auth_openidc:info",
    "ServerName 127.0.0.1",
    ...modules.map(([name, file]) => `LoadModule ${name}_module "${join(MODULE_DIR, file)}"`),
    // A handful of threads is plenty for one browser, and keeps start and stop quick.
    "StartServers 1",
    "ServerLimit 2",
    "ThreadsPerChild 32",
    "MaxRequestWorkers 64",
    "MinSpareThreads 8",
    "MaxSpareThreads 64",
    ...(config.runAs ? [`User ${config.runAs.user}`, `Group "#${config.runAs.gid}"`] : []),
    `Listen 127.0.0.1:${config.port}`,
    ...(config.accessLog
      ? [
          // No query strings: they carry authorization codes and logout targets.
          `LogFormat "%h %t \\"%m %U %H\\" %>s %b %Dus" slipway_test`,
          `CustomLog "${config.accessLog}" slipway_test`,
        ]
      : []),
    ...Object.entries(config.defines).map(([name, value]) => defineLine(name, value)),
    `Include "${config.include ?? APACHE_EXAMPLE}"`,
  ];
  const path = join(config.dir, "apache2.conf");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** A port free on 127.0.0.1 a moment ago: Apache cannot listen on port 0 and say which it got. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

export interface ApacheFrontDoorOptions {
  readonly hubSocket: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly port?: number;
  /** As root, the account Apache's workers run as; www-data unless given. */
  readonly user?: string;
}

export interface ApacheFrontDoor {
  /** http://127.0.0.1:<port>: the hub's publicUrl. */
  readonly url: string;
  /** To register at the provider. */
  readonly redirectUri: string;
  /** Apache's error log (mod_auth_openidc's messages included), under .test-logs/. */
  readonly errorLog: string;
  /** The front door's sign-out, which then sends the browser to the provider's end_session_endpoint. */
  logoutUrl(returnTo: string): string;
  /** Stops Apache and removes its directory. */
  close(): Promise<void>;
}

let counter = 0;

/**
 * Debian's Apache in the foreground, running examples/apache-oidc-front-door.conf on
 * 127.0.0.1 with a configuration, runtime directory and pid file of its own (nothing under
 * /etc/apache2 or /run is read or written), logging under .test-logs/.
 *
 * What it needs: the hub listening on `hubSocket` (hub.frontDoorSocket), and the provider
 * answering at `issuer` once the first browser arrives (Apache reads the discovery document then,
 * not at start). As root, Apache's workers run as `user` (www-data) with the group of the
 * socket's directory, so the test makes that directory group-searchable and setgid with a group
 * `user` may hold, and the hub's 0660 socket inherits it (as in production). Not as root, Apache
 * runs as the test's own account, which owns the socket.
 */
export async function startApacheFrontDoor(options: ApacheFrontDoorOptions): Promise<ApacheFrontDoor> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "slipway-apache-"));
  mkdirSync(LOG_DIR, { recursive: true });
  const name = `apache-front-door-${process.pid}-${counter++}`;
  const errorLog = join(LOG_DIR, `${name}-error.log`);
  const asRoot = process.getuid?.() === 0;
  const conf = writeApacheConfig({
    dir,
    port,
    defines: testDefines({ ...options, port, passphrase: randomBytes(32).toString("base64url") }),
    // To the fixture, which reads it to know when Apache serves and copies it to errorLog. A
    // piped logger, as Node gives a child a socket for stderr, which /dev/stderr cannot reopen.
    errorLog: "|/bin/cat",
    accessLog: join(LOG_DIR, `${name}-access.log`),
    ...(asRoot
      ? { runAs: { user: options.user ?? "www-data", gid: statSync(dirname(options.hubSocket)).gid } }
      : {}),
  });
  const child = spawn(APACHE_BINARY, ["-d", dir, "-f", conf, "-DFOREGROUND"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Should the test process die first, Apache must not outlive it holding the port.
  // SIGTERM: the parent then stops its workers (after SIGKILL they would linger, orphaned).
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  try {
    await waitUntilServing(child, errorLog);
  } catch (error) {
    process.removeListener("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  const redirectUri = `${url}/oidc/redirect_uri`;
  return {
    url,
    redirectUri,
    errorLog,
    logoutUrl: (returnTo) => `${redirectUri}?logout=${encodeURIComponent(returnTo)}`,
    async close() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves when Apache logs that it serves (AH00489, written once its listening sockets are open,
 * so a connection is accepted from then on); rejects with what it printed if it exits first. The
 * error log arrives on the child's stdout (the piped logger's), what came before on its stderr;
 * both are copied to `errorLog` as they arrive.
 */
async function waitUntilServing(child: ChildProcess, errorLog: string): Promise<void> {
  const log = createWriteStream(errorLog);
  let printed = "";
  const serving = new Promise<void>((resolve) => {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        log.write(chunk);
        if (printed.includes("AH00489")) return;
        printed += chunk.toString();
        if (printed.includes("AH00489")) resolve();
      });
    }
  });
  // "close", not "exit": by then everything it printed has been read.
  const closed = once(child, "close").then(([code, signal]: unknown[]) => `${String(code ?? signal)}`);
  const failure = await Promise.race([serving.then(() => undefined), closed]);
  if (failure !== undefined) throw new Error(`apache2 exited (${failure}) before serving:\n${printed}`);
}
