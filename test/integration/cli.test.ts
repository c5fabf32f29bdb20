import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { rememberSecret, removeDir, REPO, startTestHub } from "../support/test-hub.js";

/** The bundle that `bin` and `make start` run; the other cases run the sources through tsx. */
const BUILT_CLI = join(REPO, "dist/src/cli.js");

function slipway(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "src/cli.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the slipway command", () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-cli-"));
  after(() => removeDir(dir));

  it("reports every configuration error at once and exits 1", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      "hub:\n  port: high\n  colour: blue\nservers:\n  defaultTarget: moon\nauth:\n  totp: sometimes\n",
    );
    const out = slipway("config", "check", file);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /4 errors/);
    for (const key of ["hub.port", "hub", "servers.defaultTarget", "auth.totp"])
      assert.match(out.stderr, new RegExp(key));
    assert.match(out.stderr, /unknown key "colour"/);
  });

  it("accepts a valid configuration file", () => {
    const file = join(dir, "good.yaml");
    writeFileSync(file, "hub:\n  port: 8123\nauth:\n  totp: required\n");
    const out = slipway("config", "check", file);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /valid/);
  });

  it(
    "accepts examples/keycloak.yaml with the built command (node dist/src/cli.js config check)",
    { skip: existsSync(BUILT_CLI) ? false : "dist/ is not built (npm run build)" },
    () => {
      const out = spawnSync(process.execPath, [BUILT_CLI, "config", "check", "examples/keycloak.yaml"], {
        cwd: REPO,
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout, "examples/keycloak.yaml: valid\n");
    },
  );

  it("refuses a file that is not YAML with the reason", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "hub: [unclosed\n");
    const out = slipway("config", "check", file);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /broken\.yaml/);
  });

  it("adds a user with a working one-time set-up link, and creates a working API token", async () => {
    const dataDir = join(dir, "data");
    const hub = await startTestHub({}, { dataDir, name: "cli" });
    try {
      const added = slipway("user", "add", "carol", "--admin", "--data-dir", dataDir);
      assert.equal(added.code, 0, added.stderr);
      const link = added.stdout.trim();
      assert.match(link, /\/hub\/setup\/[A-Za-z0-9_-]{43}$/);
      rememberSecret(link.split("/").pop() ?? "");
      const page = await fetch(hub.url + new URL(link).pathname);
      assert.equal(page.status, 200);

      const made = slipway("token", "create", "carol", "--expires-in", "600", "--data-dir", dataDir);
      assert.equal(made.code, 0, made.stderr);
      const token = made.stdout.trim();
      rememberSecret(token);
      const me = await fetch(`${hub.url}/hub/api/user`, { headers: { authorization: `token ${token}` } });
      assert.equal(me.status, 200);
      const body = (await me.json()) as { name: string; admin: boolean };
      assert.deepEqual([body.name, body.admin], ["carol", true]);

      const again = slipway("user", "add", "carol", "--data-dir", dataDir);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /user_exists/);
      const bad = slipway("user", "add", "Not Valid", "--data-dir", dataDir);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid_user_name/);
    } finally {
      await hub.stop();
    }
  });
});
