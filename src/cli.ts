#!/usr/bin/env node
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { Config } from "./config/schema.js";
import { isSlipwayError } from "./domain/errors.js";
import { roleScopes } from "./domain/scopes.js";
import type { AdminDeps, CommandKit, CommonOptions } from "./cli-command-kit.js";
import { registerGroupCommands } from "./cli-groups.js";
import { registerUserAddCommand } from "./cli-user-add.js";
import { VERSION } from "./version.js";

// Each command imports what it needs when it runs: `serve` never loads the administrative
// commands' code, and `--version` or `--help` load neither (start-up time, see docs/deployment.md).

function fail(message: string): never {
  process.stderr.write(`slipway: ${message}\n`);
  process.exit(1);
}

async function configFrom(options: CommonOptions): Promise<Config> {
  const { loadConfig } = await import("./config/load-config.js");
  const result = await loadConfig(options.config);
  if (!result.ok) fail(`the configuration is not valid:\n  ${result.errors.join("\n  ")}`);
  return result.config;
}

function intArg(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** The store and identity services alone, for administrative commands that need no running hub. */
async function withStore<T>(options: CommonOptions, fn: (deps: AdminDeps) => Promise<T>): Promise<T> {
  const config = await configFrom(options);
  const dataDir = resolve(options.dataDir);
  const { openAdminServices } = await import("./bootstrap/admin-services.js");
  const services = await openAdminServices(config, dataDir);
  try {
    return await fn({ ...services, config, dataDir });
  } finally {
    await services.close();
  }
}

const program = new Command();
program.name("slipway").description("Jupyter on a computing centre's compute: the hub.").version(VERSION);

const common = (cmd: Command) =>
  cmd
    .option("--config <file>", "YAML configuration file")
    .option(
      "--data-dir <dir>",
      "data directory (database, keys)",
      process.env["SLIPWAY_DATA_DIR"] ?? "./.data",
    );
const kit: CommandKit = { common, withStore };

common(program.command("serve").description("run the hub"))
  .option("--port <n>", "port of the public listener", intArg("--port", 0, 65535))
  .option("--host <addr>", "address of the public listener")
  .action(async (opts: CommonOptions & { port?: number; host?: string }) => {
    // The hub's code loads while the configuration is read.
    const [config, { startHub }] = await Promise.all([configFrom(opts), import("./main.js")]);
    const merged: Config = {
      ...config,
      hub: {
        ...config.hub,
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.host ? { host: opts.host } : {}),
      },
    };
    const hub = await startHub({ config: merged, dataDir: opts.dataDir });
    // One write, so a supervisor reading the output sees the link together with the address.
    const firstAdmin = hub.firstAdminUrl
      ? `\nNo accounts exist yet. Open this one-time link to create the first admin:\n\n    ${hub.firstAdminUrl}\n`
      : hub.firstAdminHint
        ? `\n${hub.firstAdminHint}\n`
        : "";
    process.stdout.write(`${firstAdmin}\nSlipway is running at ${hub.url}/\n`);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      hub.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

const configCmd = program.command("config").description("work with configuration files");
common(
  configCmd
    .command("check")
    .argument("<file>", "configuration file to check")
    .description("validate a configuration file and report every error"),
).action(async (file: string) => {
  const { loadConfig } = await import("./config/load-config.js");
  const result = await loadConfig(file);
  if (result.ok) {
    process.stdout.write(`${file}: valid\n`);
    return;
  }
  process.stderr.write(
    `${file}: ${result.errors.length} error${result.errors.length === 1 ? "" : "s"}\n  ${result.errors.join("\n  ")}\n`,
  );
  process.exitCode = 1;
});

const userCmd = program.command("user").description("manage accounts");
registerUserAddCommand(userCmd, kit);

const tokenCmd = program.command("token").description("manage API tokens");
common(
  tokenCmd
    .command("create")
    .argument("<name>", "owner of the token")
    .option("--scopes <scopes...>", "scopes (default: everything the owner may do)")
    .option("--expires-in <seconds>", "lifetime in seconds", intArg("--expires-in", 1, 10 * 365 * 86400))
    .option("--note <text>", "what the token is for", "Created with the slipway CLI")
    .description("create an API token and print it once"),
).action(
  async (name: string, opts: CommonOptions & { scopes?: string[]; expiresIn?: number; note: string }) => {
    await withStore(opts, async ({ store, tokens }) => {
      const user = await store.users.getByName(name);
      if (!user) fail(`no user named ${name}`);
      const created = await tokens.create(
        user,
        { note: opts.note, scopes: opts.scopes, expiresIn: opts.expiresIn ?? null },
        // Whoever can run this can read and write the database, so acts with the owner's full authority.
        roleScopes(user.name, user.admin),
        { actor: null, via: "cli" },
      );
      process.stdout.write(`${created.token}\n`);
    });
  },
);

registerGroupCommands(program, kit);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isSlipwayError(err)) fail(`${err.message} (${err.code})`);
  fail(err instanceof Error ? err.message : String(err));
});
