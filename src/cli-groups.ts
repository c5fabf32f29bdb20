import type { Command } from "commander";
import type { CommandKit, AdminDeps, CommonOptions } from "./cli-command-kit.js";
import { collect } from "./cli-command-kit.js";
import type { GroupDetail, GroupsService } from "./services/groups-service.js";

/** The `slipway` command acts for whoever may read the data directory; the audit trail says `via: cli`. */
export const CLI_ACTOR = { actor: null, via: "cli" } as const;

const LIST_PAGE = 200;

/** The groups service over the command's store; its log lines go to stderr, warnings only. */
export async function groupsOf(deps: AdminDeps): Promise<GroupsService> {
  const [{ GroupsService }, { default: pino }] = await Promise.all([
    import("./services/groups-service.js"),
    import("pino"),
  ]);
  const log = pino({ level: "warn" }, pino.destination(2));
  return new GroupsService({ store: deps.store, audit: deps.audit, log });
}

/** One member a line: the name, a tab, and who set the membership (`admin` or `idp`). */
function membersText(group: GroupDetail): string {
  return group.members.map((m) => `${m.user}\t${m.source}\n`).join("");
}

/**
 * `slipway group add NAME [--user U]...`, `slipway group members NAME [--add U]... [--remove U]...`
 * and `slipway group list`: groups managed from the hub's host, as on the admin page.
 */
export function registerGroupCommands(program: Command, kit: CommandKit): void {
  const groupCmd = program.command("group").description("manage groups");

  kit
    .common(
      groupCmd
        .command("add")
        .argument("<name>", "group name: [a-z][a-z0-9._-]{0,63}")
        .option("--user <name>", "a first member (repeat for more)", collect, [])
        .description("create a group"),
    )
    .action(async (name: string, opts: CommonOptions & { user: string[] }) => {
      await kit.withStore(opts, async (deps) => {
        const group = await (await groupsOf(deps)).create(name, opts.user, CLI_ACTOR);
        process.stdout.write(`created group ${group.name}\n${membersText(group)}`);
      });
    });

  kit
    .common(
      groupCmd
        .command("members")
        .argument("<name>", "group name")
        .option("--add <user>", "add a member (repeat for more)", collect, [])
        .option("--remove <user>", "remove a member (repeat for more)", collect, [])
        .description("change a group's members, then print them: one a line, with who set it (admin or idp)"),
    )
    .action(async (name: string, opts: CommonOptions & { add: string[]; remove: string[] }) => {
      await kit.withStore(opts, async (deps) => {
        const groups = await groupsOf(deps);
        const change = { add: opts.add, remove: opts.remove };
        const group =
          change.add.length + change.remove.length === 0
            ? await groups.get(name)
            : await groups.changeMembers(name, change, CLI_ACTOR);
        process.stdout.write(membersText(group));
      });
    });

  kit
    .common(
      groupCmd
        .command("list")
        .description("list the groups: name, members, and how many of them the identity provider set"),
    )
    .action(async (opts: CommonOptions) => {
      await kit.withStore(opts, async (deps) => {
        const groups = await groupsOf(deps);
        for (let offset = 0; ; offset += LIST_PAGE) {
          const page = await groups.list(offset, LIST_PAGE);
          for (const g of page.items) {
            const idp = g.members.filter((m) => m.source === "idp").length;
            process.stdout.write(`${g.name}\t${g.members.length}\t${idp}\n`);
          }
          if (offset + LIST_PAGE >= page.total) break;
        }
      });
    });
}
