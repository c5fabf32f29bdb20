import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { rememberSecret, removeDir, REPO, startTestHub } from "../support/test-hub.js";

function slipway(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "src/cli.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command that must succeed; its output. */
function ok(...args: string[]): string {
  const out = slipway(...args);
  assert.equal(out.code, 0, `slipway ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

/** Runs a command that must fail with exit 1 and name `code`. */
function refused(code: string, ...args: string[]): void {
  const out = slipway(...args);
  assert.equal(out.code, 1, `slipway ${args.join(" ")} should fail: ${out.stdout}`);
  assert.match(out.stderr, new RegExp(`\\(${code}\\)`), out.stderr);
}

/** Who a token belongs to, as a hub on the same data directory sees it. */
async function whoami(dataDir: string, token: string) {
  const hub = await startTestHub({}, { dataDir, name: "cli-groups" });
  try {
    const res = await fetch(`${hub.url}/hub/api/user`, { headers: { authorization: `token ${token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as {
      name: string;
      admin: boolean;
      groups: string[];
      slipway: { zone: string };
    };
  } finally {
    await hub.stop();
  }
}

describe("the slipway group and account commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-cli-groups-"));
  after(() => removeDir(dir));

  it("creates groups, changes and lists their members, and writes nothing on bad input", () => {
    const data = ["--data-dir", join(dir, "groups")];
    assert.match(ok("group", "add", "physics", ...data), /^created group physics\n$/);
    refused("invalid_group_name", "group", "add", "Physics", ...data);
    refused("group_exists", "group", "add", "physics", ...data);
    rememberSecret(
      ok("user", "add", "alice", ...data)
        .trim()
        .split("/")
        .pop() ?? "",
    );
    rememberSecret(
      ok("user", "add", "bob", "--group", "physics", ...data)
        .trim()
        .split("/")
        .pop() ?? "",
    );
    assert.equal(ok("group", "add", "hep", "--user", "alice", ...data), "created group hep\nalice\tadmin\n");
    refused("user_not_found", "group", "add", "astro", "--user", "mallory", ...data);
    refused(
      "user_not_found",
      "group",
      "members",
      "physics",
      "--add",
      "alice",
      "--remove",
      "mallory",
      ...data,
    );
    refused(
      "validation_failed",
      "group",
      "members",
      "physics",
      "--add",
      "alice",
      "--remove",
      "alice",
      ...data,
    );
    refused("group_not_found", "group", "members", "nope", "--add", "alice", ...data);
    assert.equal(ok("group", "members", "physics", ...data), "bob\tadmin\n", "nothing was half-done");
    assert.equal(
      ok("group", "members", "physics", "--add", "alice", "--add", "alice", "--remove", "bob", ...data),
      "alice\tadmin\n",
    );
    assert.equal(ok("group", "list", ...data), "hep\t1\t0\nphysics\t1\t0\n");
  });

  it("pre-creates a local account in its groups and zone, with a set-up link", async () => {
    const dataDir = join(dir, "local");
    const data = ["--data-dir", dataDir];
    ok("group", "add", "gpu", ...data);
    refused("group_not_found", "user", "add", "carol", "--group", "gpu", "--group", "nope", ...data);
    const noToken = slipway("token", "create", "carol", ...data);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /no user named carol/, "the refused add made no account");
    const added = slipway("user", "add", "carol", "--zone", "external", "--group", "gpu", ...data);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^http:\/\/\S+\/hub\/setup\/[A-Za-z0-9_-]{43}\n$/);
    rememberSecret(added.stdout.trim().split("/").pop() ?? "");
    const badZone = slipway("user", "add", "dave", "--zone", "moon", ...data);
    assert.equal(badZone.code, 1);
    assert.match(badZone.stderr, /internal, external/);
    const token = ok("token", "create", "carol", "--scopes", "read:users!user=carol", ...data).trim();
    rememberSecret(token);
    const me = await whoami(dataDir, token);
    assert.deepEqual([me.name, me.admin, me.groups, me.slipway.zone], ["carol", false, ["gpu"], "external"]);
  });

  for (const [mode, auth, how] of [
    [
      "oidc",
      "auth:\n  type: oidc\n  oidc:\n    issuer: https://sso.example.org/realms/lab\n    clientId: slipway\n    clientSecretFile: secret\n",
      /signs in through the identity provider \(https:\/\/sso\.example\.org\/realms\/lab\)/,
    ],
    [
      "trusted-header",
      "auth:\n  type: trusted-header\n  trustedHeader:\n    trustedPeers: [127.0.0.1]\n",
      /signs in through the front door, which names them in x-remote-user/,
    ],
  ] as const) {
    it(`pre-creates an account in ${mode} mode without a set-up link, and makes it a working token`, async () => {
      const dataDir = join(dir, mode);
      const config = join(dir, `${mode}.yaml`);
      writeFileSync(config, auth);
      const args = ["--config", config, "--data-dir", dataDir];
      ok("group", "add", "staff", ...args);
      const added = slipway(
        "user",
        "add",
        "erin",
        "--admin",
        "--zone",
        "internal",
        "--group",
        "staff",
        ...args,
      );
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, how);
      assert.doesNotMatch(added.stdout, /\/hub\/setup\//);
      assert.match(added.stderr, /note: the zone is set again from auth\.zones/);
      const token = ok(
        "token",
        "create",
        "erin",
        "--note",
        "automation",
        "--expires-in",
        "600",
        ...args,
      ).trim();
      rememberSecret(token);
      const me = await whoami(dataDir, token);
      assert.deepEqual(
        [me.name, me.admin, me.groups, me.slipway.zone],
        ["erin", true, ["staff"], "internal"],
      );
    });
  }
});
