import { Option, type Command } from "commander";
import type { AdminDeps, CommandKit, CommonOptions } from "./cli-command-kit.js";
import { collect } from "./cli-command-kit.js";
import { CLI_ACTOR, groupsOf } from "./cli-groups.js";
import type { Config } from "./config/schema.js";
import { isSlipwayError, SlipwayError } from "./domain/errors.js";
import { assertUserName } from "./domain/names.js";
import type { UserZone } from "./domain/types.js";
import { actedEntry } from "./services/acted-by.js";

interface UserAddOptions extends CommonOptions {
  admin?: boolean;
  zone?: UserZone;
  group: string[];
}

/**
 * `slipway user add NAME [--admin] [--zone internal|external] [--group G]...`: an account made
 * ahead of its owner, in every sign-in mode. With built-in accounts it prints the one-time set-up
 * link; with an identity provider or a front door there is no password to set, so it says how the
 * user signs in instead.
 */
export function registerUserAddCommand(userCmd: Command, kit: CommandKit): void {
  kit
    .common(
      userCmd
        .command("add")
        .argument("<name>", "user name")
        .option("--admin", "make the user an administrator")
        .addOption(
          new Option("--zone <zone>", "internal or external (default: internal)").choices([
            "internal",
            "external",
          ]),
        )
        .option("--group <name>", "put the user in this existing group (repeat for more)", collect, [])
        .description("create a user; with built-in accounts, print a one-time set-up link"),
    )
    .action(async (name: string, opts: UserAddOptions) => {
      await kit.withStore(opts, async (deps) => {
        process.stdout.write(await addUser(deps, name, opts));
        for (const note of providerNotes(deps.config, opts)) process.stderr.write(`slipway: note: ${note}\n`);
      });
    });
}

/** Makes the account and its memberships; what to print. */
async function addUser(deps: AdminDeps, name: string, opts: UserAddOptions): Promise<string> {
  const { store, audit, identity, config } = deps;
  assertUserName(name);
  const groups = await groupsOf(deps);
  const groupNames = [...new Set(opts.group)];
  // Every group is checked before the account is made: a misspelt one leaves nothing behind.
  for (const group of groupNames) {
    await groups.get(group).catch((err: unknown) => {
      if (isSlipwayError(err) && err.code === "group_not_found")
        throw new SlipwayError(
          "group_not_found",
          `No such group: ${group}. Create it with slipway group add.`,
        );
      throw err;
    });
  }
  const user = await store.users.create({
    name,
    admin: opts.admin === true,
    ...(opts.zone && { zone: opts.zone }),
  });
  await audit.record(
    actedEntry(CLI_ACTOR, {
      kind: "admin_action",
      subject: user.name,
      reason: "user_created",
      details: { admin: user.admin, zone: user.zone },
    }),
  );
  for (const group of groupNames) await groups.addMembers(group, [user.name], CLI_ACTOR);
  if (config.auth.type === "local") {
    const token = await identity.createSetupLink(user.id);
    const { PublicOrigin } = await import("./bootstrap/public-origin.js");
    return `${new PublicOrigin(config.hub).value}/hub/setup/${token}\n`;
  }
  const how =
    config.auth.type === "oidc"
      ? `through the identity provider (${config.auth.oidc?.issuer ?? "auth.oidc"})`
      : `through the front door, which names them in ${config.auth.trustedHeader?.userHeader ?? "its header"}`;
  return `${user.name} is ready and signs in ${how}: no set-up link, no password.\n`;
}

/** What a provider's answer at sign-in sets again, so the admin knows what the options hold until then. */
function providerNotes(config: Config, opts: UserAddOptions): string[] {
  if (config.auth.type === "local") return [];
  const notes: string[] = [];
  if (opts.zone !== undefined) notes.push("the zone is set again from auth.zones at each sign-in.");
  if (opts.admin === true && config.auth.access.adminGroups.length > 0)
    notes.push("auth.access.adminGroups is set, so admin rights are set again from it at each sign-in.");
  return notes;
}
