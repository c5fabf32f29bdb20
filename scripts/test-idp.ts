/**
 * A local OpenID provider for trying Slipway's `auth.type: oidc` by hand (examples/oidc.yaml): the
 * test suites' provider (test/support/oidc-test-provider.ts) on 127.0.0.1, with a client for a hub
 * at http://127.0.0.1:8000 and a few accounts. Never for production: the accounts and their codes
 * are printed, and everything is forgotten when it stops.
 *
 *   node --import tsx scripts/test-idp.ts [--port 9000] [--hub http://127.0.0.1:8000]
 *       runs in the foreground (Ctrl-C stops it);
 *   ... --detach   starts it in the background (what `make idp-up` does) unless it already runs,
 *                  and prints the issuer and accounts; log in .data/idp/idp.log;
 *   ... --stop     stops the background one (`make idp-down`).
 *
 * The client secret is generated once into .data/idp/client-secret (mode 0600) and reused.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { TestAccount } from "../test/support/oidc-test-provider.js";

const DIR = fileURLToPath(new URL("../.data/idp/", import.meta.url));
const SECRET_FILE = join(DIR, "client-secret");
const PID_FILE = join(DIR, "idp.pid");
const LOG_FILE = join(DIR, "idp.log");
const BANNER_START = "Slipway test identity provider";
const OTP = "123456";

interface Person {
  readonly name: string;
  readonly groups: string[];
  readonly identityProvider?: string;
}

const PEOPLE: Person[] = [
  { name: "alice", groups: ["/sdcc/users", "/sdcc/gpu"] },
  { name: "bob", groups: ["/sdcc/users"] },
  { name: "carol", groups: ["/sdcc/users"], identityProvider: "cilogon" },
  { name: "dave", groups: ["/sdcc/users", "/sdcc/admins"] },
];

function account(p: Person): TestAccount {
  const claims: Record<string, unknown> = {
    preferred_username: p.name,
    name: p.name[0]?.toUpperCase() + p.name.slice(1),
    email: `${p.name}@example.org`,
    email_verified: true,
    groups: p.groups,
  };
  if (p.identityProvider !== undefined) claims["identity_provider"] = p.identityProvider;
  return { sub: `${p.name}-0001`, password: `${p.name}-password`, otp: OTP, claims };
}

/** The secret written the first time, read every time after (owner-only, no newline). */
function clientSecret(): string {
  try {
    return readFileSync(SECRET_FILE, "utf8").trim();
  } catch (err) {
    if (!(err instanceof Error && "code" in err && err.code === "ENOENT")) throw err;
  }
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(SECRET_FILE, secret, { mode: 0o600, flag: "wx" });
  return secret;
}

function banner(issuer: string, hub: string): string {
  const rows = PEOPLE.map((p) => {
    const external = p.identityProvider === undefined ? "" : `  (external: via ${p.identityProvider})`;
    return `    ${p.name.padEnd(6)} ${`${p.name}-password`.padEnd(15)} ${p.groups.join(" ")}${external}`;
  });
  return [
    `${BANNER_START} (for trying Slipway by hand; never for production)`,
    `  issuer         ${issuer}`,
    `  client         slipway, secret in ${SECRET_FILE}`,
    `  for a hub at   ${hub} (${hub}/hub/oauth_callback)`,
    `  one-time code  ${OTP} (asked when the hub requires urn:slipway:loa:2)`,
    "  accounts (user name, password, groups):",
    ...rows,
    `  hub config     examples/oidc.yaml: make start SERVE_ARGS='--config examples/oidc.yaml'`,
    "",
  ].join("\n");
}

async function serve(port: number, hub: string): Promise<void> {
  // Loaded here only: oidc-provider warns about Node 20 as it loads, which --detach and --stop need not.
  const { startTestProvider } = await import("../test/support/oidc-test-provider.js");
  const provider = await startTestProvider({
    port,
    accounts: PEOPLE.map(account),
    clients: [
      {
        clientId: "slipway",
        clientSecret: clientSecret(),
        redirectUris: [`${hub}/hub/oauth_callback`],
        postLogoutRedirectUris: [`${hub}/hub/logged-out`],
        backchannelLogoutUri: `${hub}/hub/oidc/backchannel-logout`,
      },
    ],
  });
  process.stdout.write(banner(provider.issuer, hub));
  const stop = (): void => {
    void provider.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Started by --detach: tell it the provider listens, and stop sharing its lifetime.
  if (process.send !== undefined) {
    writeFileSync(PID_FILE, `${process.pid}\n`, { mode: 0o600 });
    process.once("exit", () => rmSync(PID_FILE, { force: true }));
    process.send({ issuer: provider.issuer }, () => process.disconnect());
  }
}

/** The pid of the background provider, if it is alive and is this script. */
function runningPid(): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(PID_FILE, "utf8"), 10);
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("test-idp")) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

/** The banner the running provider printed last. */
function lastBanner(): string {
  const log = readFileSync(LOG_FILE, "utf8");
  return log.slice(Math.max(0, log.lastIndexOf(BANNER_START)));
}

async function detach(args: string[]): Promise<void> {
  const pid = runningPid();
  if (pid !== undefined) {
    process.stdout.write(`The test identity provider already runs (pid ${pid}).\n${lastBanner()}`);
    return;
  }
  const log = openSync(LOG_FILE, "a", 0o600);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
  });
  closeSync(log);
  const started = await new Promise<boolean>((resolve) => {
    child.once("message", () => resolve(true));
    child.once("exit", () => resolve(false));
    child.once("error", () => resolve(false));
  });
  if (!started) {
    process.stderr.write(
      `The test identity provider did not start; ${LOG_FILE} says:\n${readFileSync(LOG_FILE, "utf8")}`,
    );
    process.exitCode = 1;
    return;
  }
  if (child.connected) child.disconnect();
  child.unref();
  process.stdout.write(
    `Started in the background (pid ${child.pid}, log ${LOG_FILE}); make idp-down stops it.\n`,
  );
  process.stdout.write(lastBanner());
}

async function stop(): Promise<void> {
  const pid = runningPid();
  if (pid === undefined) {
    process.stdout.write("The test identity provider is not running.\n");
    return;
  }
  // Not our child, so no exit event: the provider removes its pid file as it exits.
  const gone = new Promise<void>((resolve) => {
    const done = (): void => {
      watcher.close();
      clearTimeout(timer);
      resolve();
    };
    const watcher = watch(DIR, () => {
      if (!existsSync(PID_FILE)) done();
    });
    const timer = setTimeout(done, 5000);
  });
  process.kill(pid, "SIGTERM");
  await gone;
  const still = runningPid() === undefined ? "" : " (asked to; it has not exited yet)";
  process.stdout.write(`Stopped the test identity provider (pid ${pid})${still}.\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "9000" },
      hub: { type: "string", default: "http://127.0.0.1:8000" },
      detach: { type: "boolean", default: false },
      stop: { type: "boolean", default: false },
    },
  });
  const port = Number.parseInt(values.port, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port ${values.port}: not a port`);
  const hub = new URL(values.hub).origin;
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  if (values.stop) return stop();
  if (values.detach) return detach(["--port", String(port), "--hub", hub]);
  return serve(port, hub);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
