import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProcessRunner, RunResult } from "../../ports/process-runner.js";
import { SlurmClient } from "./slurm-client.js";
import { SLURM_TEST_COMMANDS } from "./slurm-test-commands.js";
import { SlurmPartitionAccess } from "./slurm-partition-access.js";

const COMMANDS = SLURM_TEST_COMMANDS;

/** `scontrol show partition -o` lines in the form Slurm 22.05 prints them, with the lists given. */
function partition(name: string, lists: string): string {
  return `PartitionName=${name} ${lists} AllowQos=ALL AllocNodes=ALL Default=NO QoS=N/A DefaultTime=01:00:00 DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED MaxTime=04:00:00 MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=cpu1 PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=16 TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED`;
}

/** The part of `scontrol show config` the hub reads, as Slurm 22.05 prints it. */
const SHOW_CONFIG = [
  "Configuration data as of 2026-11-25T10:00:00",
  "AccountingStorageType   = accounting_storage/slurmdbd",
  "ClusterName             = lab",
  "SLURM_VERSION           = 22.05.8",
].join("\n");

const ok = (stdout: string): RunResult => ({ code: 0, signal: null, stdout, stderr: "", timedOut: false });
const failed = (stderr: string, code = 1): RunResult => ({
  code,
  signal: null,
  stdout: "",
  stderr,
  timedOut: false,
});

/** Answers each Slurm command from a table the test can change; records every call. */
class FakeSlurm implements ProcessRunner {
  readonly calls: string[][] = [];
  partitions: string[] = [];
  groups: Record<string, string> = {};
  sacctmgr: (user: string) => RunResult = () => ok("");

  async run(argv: readonly string[]): Promise<RunResult> {
    this.calls.push([...argv]);
    const [command = "", ...args] = argv;
    if (command === COMMANDS.scontrol && args[1] === "config") return ok(SHOW_CONFIG);
    if (command === COMMANDS.scontrol) return ok(this.partitions.join("\n"));
    if (command === COMMANDS.sinfo)
      return ok(this.partitions.map((p) => `${/^PartitionName=(\S+)/.exec(p)?.[1]}|(null)`).join("\n"));
    if (command === "id") return ok(this.groups[args.at(-1) ?? ""] ?? "");
    if (command === COMMANDS.sacctmgr) {
      const user = args.find((a) => a.startsWith("name="))?.slice("name=".length) ?? "";
      return this.sacctmgr(user);
    }
    return failed(`unexpected command ${command}`);
  }

  count(command: string): number {
    return this.calls.filter((c) => c[0] === command).length;
  }
}

function accessWith(slurm: FakeSlurm, names: readonly string[], clock = { now: 0 }) {
  const client = new SlurmClient({ runner: slurm, commands: COMMANDS, timeoutMs: 1000 });
  return new SlurmPartitionAccess(client, {
    partitions: Object.fromEntries(names.map((n) => [n, { queueLimit: 600 }])),
    maxCpus: 4,
    maxMemoryMb: 4096,
    maxRuntimeMinutes: 600,
    defaultRuntimeMinutes: 60,
    ttlMs: 60_000,
    now: () => clock.now,
  });
}

const offered = async (access: SlurmPartitionAccess, user: string) =>
  (await access.partitionsFor(user)).map((p) => p.name);

describe("the partitions a user is offered", () => {
  it("compares AllowGroups with the user's groups and never asks for accounts when no partition limits them", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [
      partition("debug", "AllowGroups=ALL AllowAccounts=ALL"),
      partition("gpu", "AllowGroups=gpu AllowAccounts=ALL"),
    ];
    slurm.groups = { alice: "alice gpu\n", bob: "bob\n" };
    const access = accessWith(slurm, ["debug", "gpu"]);
    assert.deepEqual(await offered(access, "alice"), ["debug", "gpu"]);
    assert.deepEqual(await offered(access, "bob"), ["debug"]);
    assert.equal(slurm.count(COMMANDS.sacctmgr), 0);
  });

  it("offers an AllowAccounts partition only when the user's default account is listed", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [
      partition("debug", "AllowGroups=ALL AllowAccounts=ALL"),
      partition("physics", "AllowGroups=ALL AllowAccounts=phys,astro"),
    ];
    slurm.sacctmgr = (user) =>
      ok({ alice: "phys|phys\nphys|chem\n", bob: "chem|chem\nchem|phys\n", carol: "" }[user] ?? "");
    const access = accessWith(slurm, ["debug", "physics"]);
    assert.deepEqual(await offered(access, "alice"), ["debug", "physics"]);
    // bob has an association with phys, but a job without --account runs under his default, chem.
    assert.deepEqual(await offered(access, "bob"), ["debug"]);
    // No association: the job has no account, which AllowAccounts refuses.
    assert.deepEqual(await offered(access, "carol"), ["debug"]);
    assert.deepEqual(
      slurm.calls.find((c) => c[0] === COMMANDS.sacctmgr),
      [
        COMMANDS.sacctmgr,
        "-n",
        "-P",
        "show",
        "user",
        "name=alice",
        "cluster=lab",
        "withassoc",
        "format=DefaultAccount,Account",
      ],
    );
  });

  it("keeps a DenyAccounts partition from a user whose default account it lists, and lets no account through", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [partition("shared", "AllowGroups=ALL AllowAccounts=ALL DenyAccounts=guests")];
    slurm.sacctmgr = (user) => ok({ alice: "lab|lab\n", guest: "guests|guests\n" }[user] ?? "");
    const access = accessWith(slurm, ["shared"]);
    assert.deepEqual(await offered(access, "alice"), ["shared"]);
    assert.deepEqual(await offered(access, "guest"), []);
    assert.deepEqual(await offered(access, "nobody"), ["shared"]);
  });

  it("ignores DenyAccounts where AllowAccounts is set, as slurmctld does", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [partition("p", "AllowGroups=ALL AllowAccounts=lab DenyAccounts=lab")];
    slurm.sacctmgr = () => ok("lab|lab\n");
    assert.deepEqual(await offered(accessWith(slurm, ["p"]), "alice"), ["p"]);
  });

  it("without slurmdbd, offers no AllowAccounts partition but a DenyAccounts one (jobs carry no account)", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [
      partition("debug", "AllowGroups=ALL AllowAccounts=ALL"),
      partition("physics", "AllowGroups=ALL AllowAccounts=phys"),
      partition("shared", "AllowGroups=ALL AllowAccounts=ALL DenyAccounts=guests"),
    ];
    slurm.sacctmgr = () =>
      failed(
        "You are not running a supported accounting_storage plugin\nOnly 'accounting_storage/slurmdbd' is supported.\n",
      );
    assert.deepEqual(await offered(accessWith(slurm, ["debug", "physics", "shared"]), "alice"), [
      "debug",
      "shared",
    ]);
  });

  it("when accounting does not answer, offers only partitions without account lists, and asks again next time", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [
      partition("debug", "AllowGroups=ALL AllowAccounts=ALL"),
      partition("physics", "AllowGroups=ALL AllowAccounts=phys"),
      partition("shared", "AllowGroups=ALL AllowAccounts=ALL DenyAccounts=guests"),
    ];
    slurm.sacctmgr = () => failed("sacctmgr: error: Problem talking to the database: Connection refused");
    const access = accessWith(slurm, ["debug", "physics", "shared"]);
    assert.deepEqual(await offered(access, "alice"), ["debug"]);
    slurm.sacctmgr = () => ok("phys|phys\n");
    assert.deepEqual(await offered(access, "alice"), ["debug", "physics", "shared"]);
    assert.equal(slurm.count(COMMANDS.sacctmgr), 2);
  });

  it("caches a user's accounts for the TTL and picks up a changed association after it, without a restart", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [partition("physics", "AllowGroups=ALL AllowAccounts=phys")];
    slurm.sacctmgr = () => ok("chem|chem\n");
    const clock = { now: 0 };
    const access = accessWith(slurm, ["physics"], clock);
    assert.deepEqual(await offered(access, "alice"), []);
    slurm.sacctmgr = () => ok("phys|phys\n");
    clock.now = 59_000;
    assert.deepEqual(await offered(access, "alice"), []);
    assert.equal(slurm.count(COMMANDS.sacctmgr), 1);
    clock.now = 61_000;
    assert.deepEqual(await offered(access, "alice"), ["physics"]);
    assert.equal(slurm.count(COMMANDS.sacctmgr), 2);
  });

  it("refuses sacctmgr output it cannot read rather than guessing", async () => {
    const slurm = new FakeSlurm();
    slurm.partitions = [partition("physics", "AllowGroups=ALL AllowAccounts=phys")];
    slurm.sacctmgr = () => ok("phys|phys|extra field; rm -rf\n");
    assert.deepEqual(await offered(accessWith(slurm, ["physics"]), "alice"), []);
  });
});
