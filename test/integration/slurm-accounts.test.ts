import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { after, afterEach, before, describe, it } from "node:test";
import { z } from "zod";
import { addUser, apiToken, firstAdmin } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import { hubJobs, slurmHubConfig, slurmSkipReason, until } from "../support/slurm-cluster.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "partitions limited by Slurm accounts on the test cluster";
const skip = slurmSkipReason(SUITE);

/**
 * The partition whose account lists the suite changes with `scontrol update`. Every user may use
 * `debug` as configured, so both alice and bob are affected; `gpu` already refuses bob by group.
 * Suites run one file at a time, and each test puts the partition back as it found it.
 */
const PARTITION = "debug";
/** The hub caches partitions and accounts this long, on its own (fake) clock. */
const TTL_S = 30;
/** The account each user gets an association with, made their default account. */
const ACCOUNT_OF = { alice: "physics", bob: "chem" } as const;
type TestUser = keyof typeof ACCOUNT_OF;

const spawnOptions = z.object({
  targets: z.array(
    z.object({
      name: z.string(),
      partitions: z.array(z.object({ name: z.string() })).optional(),
    }),
  ),
});
const refusal = z.object({ code: z.string(), message: z.string() });

function sacctmgr(args: readonly string[]): string {
  return execFileSync("sacctmgr", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Fails the suite, with what to do, when the cluster keeps no accounting to hold accounts. */
function requireAccounting(): void {
  const probe = spawnSync("sacctmgr", ["-n", "-P", "show", "cluster", "format=Cluster"], {
    encoding: "utf8",
  });
  const text = `${probe.error?.message ?? ""}${probe.stdout}${probe.stderr}`.trim();
  if (probe.status !== 0 || !/^lab$/m.test(probe.stdout)) {
    throw new Error(
      "This suite needs Slurm accounting (slurmdbd) on the test cluster to create accounts, " +
        "but sacctmgr could not list cluster `lab`" +
        (text === "" ? "" : ` (${text.slice(0, 300)})`) +
        ". Bring the cluster up with accounting: `make slurm-up` (SLIPWAY_SLURM_ACCOUNTING=1).",
    );
  }
}

/** Gives `user` an association with `account` and makes it their default, as often as asked. */
function ensureAssociation(user: string, account: string): void {
  if (sacctmgr(["-n", "-P", "show", "account", `name=${account}`, "format=Account"]).trim() === "") {
    sacctmgr(["-i", "add", "account", account, `Description=${account}`, "Organization=lab"]);
  }
  const assoc = sacctmgr([
    "-n",
    "-P",
    "show",
    "assoc",
    "where",
    "cluster=lab",
    `user=${user}`,
    `account=${account}`,
    "format=Account",
  ]);
  if (assoc.trim() === "") {
    sacctmgr(["-i", "add", "user", user, `Account=${account}`, `DefaultAccount=${account}`]);
  }
  if (sacctmgr(["-n", "-P", "show", "user", `name=${user}`, "format=DefaultAccount"]).trim() !== account) {
    sacctmgr(["-i", "modify", "user", "where", `name=${user}`, "set", `DefaultAccount=${account}`]);
  }
}

/** Whether slurmctld (not only the database) knows `account` as the user's default association. */
function controllerKnows(user: string, account: string): boolean {
  const out = execFileSync("scontrol", ["-o", "show", "assoc_mgr", `users=${user}`, "flags=assoc"], {
    encoding: "utf8",
  });
  return new RegExp(`Account=${account} UserName=${user}\\(\\d+\\) .*DefAssoc=Yes`).test(out);
}

interface AccountLists {
  readonly allow: string;
  readonly deny: string;
}

/** The partition's account lists as scontrol prints them: one of the two, the other absent. */
function accountListsOf(partition: string): AccountLists {
  const line = execFileSync("scontrol", ["show", "partition", partition, "-o"], { encoding: "utf8" });
  assert.match(line, new RegExp(`^PartitionName=${partition} `), line);
  return {
    allow: /\bAllowAccounts=(\S+)/.exec(line)?.[1] ?? "ALL",
    deny: /\bDenyAccounts=(\S+)/.exec(line)?.[1] ?? "",
  };
}

/** Sets both lists at once (an empty DenyAccounts clears it) and checks slurmctld took them. */
function setAccountLists(partition: string, lists: AccountLists): void {
  execFileSync("scontrol", [
    "update",
    `PartitionName=${partition}`,
    `AllowAccounts=${lists.allow}`,
    `DenyAccounts=${lists.deny}`,
  ]);
  assert.deepEqual(accountListsOf(partition), lists, `scontrol update of ${partition}`);
}

/** What slurmctld itself says of a job of `user` in the partition (`sbatch --test-only` queues nothing). */
function slurmAccepts(user: TestUser, partition: string): boolean {
  const run = spawnSync(
    "sudo",
    ["-n", "-u", user, "sbatch", "--test-only", "-p", partition, "-o", "/dev/null", "--wrap", "true"],
    { encoding: "utf8", cwd: "/tmp" },
  );
  if (run.status !== 0 && !/Invalid account or account\/partition combination/.test(run.stderr)) {
    throw new Error(`sbatch --test-only as ${user} failed otherwise: ${run.stderr.trim()}`);
  }
  return run.status === 0;
}

describe(SUITE, { skip: skip ?? false, timeout: 180_000 }, () => {
  const clock = new FakeClock();
  let hub: TestHub | undefined;
  let original: AccountLists | undefined;
  const tokens: Record<TestUser, string> = { alice: "", bob: "" };

  const restore = () => {
    if (original) setAccountLists(PARTITION, original);
  };

  /** Changes the partition on the cluster and lets the hub's cache of it expire. */
  const limit = (lists: AccountLists) => {
    setAccountLists(PARTITION, lists);
    clock.advance(TTL_S * 1000);
  };

  /** The partitions of the `lab` target that the hub offers `user`, as the API gives them. */
  const offered = async (user: TestUser): Promise<string[]> => {
    assert.ok(hub);
    const res = await tokenFetch(hub.url, tokens[user], "GET", `/hub/api/users/${user}/spawn-options`);
    assert.equal(res.status, 200);
    const lab = spawnOptions.parse(await res.json()).targets.find((t) => t.name === "lab");
    assert.ok(lab?.partitions, "the lab target lists partitions");
    return lab.partitions.map((p) => p.name);
  };

  /** Asks for a server in the partition anyway; the answer must be 400 and submit no job. */
  const refusedStart = async (user: TestUser) => {
    assert.ok(hub);
    const res = await tokenFetch(hub.url, tokens[user], "POST", `/hub/api/users/${user}/servers/acct`, {
      target: "lab",
      partition: PARTITION,
    });
    assert.equal(res.status, 400);
    const body = refusal.parse(await res.json());
    assert.equal(body.code, "invalid_option");
    assert.deepEqual(hubJobs(hub.dataDir), [], "the hub submitted no job");
    return body.message;
  };

  before(async () => {
    requireAccounting();
    for (const [user, account] of Object.entries(ACCOUNT_OF)) ensureAssociation(user, account);
    // slurmdbd pushes new associations to slurmctld on its own: nothing to wait on but the answer.
    await until(
      () => Object.entries(ACCOUNT_OF).every(([user, account]) => controllerKnows(user, account)),
      30_000,
      "slurmctld knows alice's and bob's default accounts",
    );
    original = accountListsOf(PARTITION);
    hub = await startTestHub(slurmHubConfig({ partitionCacheTtl: TTL_S }), {
      name: "slurm-accounts",
      clock,
    });
    const admin = await firstAdmin(hub);
    tokens.alice = await apiToken(await addUser(hub, admin.client, "alice"));
    tokens.bob = await apiToken(await addUser(hub, admin.client, "bob"));
  });

  afterEach(restore);

  after(async () => {
    restore();
    await hub?.stop();
    if (hub) removeDir(hub.dataDir);
  });

  it("starts from a partition without account lists, offered to both users", async () => {
    assert.deepEqual(
      original,
      { allow: "ALL", deny: "" },
      "debug as slurm.conf declares it; if a killed run left it changed: " +
        "scontrol update PartitionName=debug AllowAccounts=ALL DenyAccounts=",
    );
    assert.deepEqual(await offered("alice"), ["debug", "gpu"]);
    assert.deepEqual(await offered("bob"), ["debug"]);
  });

  it("offers an AllowAccounts partition only to a user whose default account it lists, and refuses a forced start with 400", async () => {
    limit({ allow: ACCOUNT_OF.alice, deny: "" });
    assert.equal(slurmAccepts("alice", PARTITION), true, "slurmctld admits alice");
    assert.equal(slurmAccepts("bob", PARTITION), false, "slurmctld refuses bob");
    assert.deepEqual(await offered("alice"), ["debug", "gpu"]);
    assert.deepEqual(await offered("bob"), []);
    assert.match(await refusedStart("bob"), /may not submit to any partition/);
  });

  it("keeps a DenyAccounts partition from a user whose default account it lists, and offers it to others", async () => {
    limit({ allow: "ALL", deny: ACCOUNT_OF.alice });
    assert.equal(slurmAccepts("alice", PARTITION), false, "slurmctld refuses alice");
    assert.equal(slurmAccepts("bob", PARTITION), true, "slurmctld admits bob");
    assert.deepEqual(await offered("alice"), ["gpu"]);
    assert.deepEqual(await offered("bob"), ["debug"]);
    assert.match(await refusedStart("alice"), /you may use gpu\b/);
  });

  it("offers the partition to both users again once its account lists are cleared", async () => {
    limit({ allow: "ALL", deny: "" });
    assert.deepEqual(await offered("alice"), ["debug", "gpu"]);
    assert.deepEqual(await offered("bob"), ["debug"]);
  });
});
