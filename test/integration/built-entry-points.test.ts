import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { VERSION } from "../../src/version.js";
import { removeDir, REPO } from "../support/test-hub.js";

// The bundle (scripts/build.mjs) is what `bin`, `make start`, the staged helper and the bench
// run; the other suites run the sources through tsx, so they would not notice a broken bundle.
const CLI = join(REPO, "dist/src/cli.js");
const HELPER = join(REPO, "dist/src/helper/cli.js");
const missing = existsSync(CLI) && existsSync(HELPER) ? undefined : "dist/ is not built (npm run build)";

describe("the built entry points", { skip: missing ? `Skipped: ${missing}.` : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-dist-"));
  after(() => removeDir(dir));

  it("prints the version", () => {
    const out = spawnSync(process.execPath, [CLI, "--version"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), VERSION);
  });

  it("serves: health, the browser assets, and a clean exit on SIGTERM", async () => {
    const config = join(dir, "config.yaml");
    writeFileSync(config, "hub:\n  host: 127.0.0.1\n  port: 0\nlogging:\n  level: warn\n");
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--config", config, "--data-dir", join(dir, "data")],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let text = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          const match = /Slipway is running at (http:\/\/\S+?)\/\n/.exec(text);
          if (match?.[1]) resolve(match[1]);
        });
        child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
        void exited.then((code) => reject(new Error(`the hub exited with ${code}:\n${text}`)));
      });
      assert.match(text, /one-time link to create the first admin/);
      const health = await fetch(`${url}/hub/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      // The assets are found relative to the bundle's own files.
      const css = await fetch(`${url}/hub/static/slipway.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("runs the helper, which refuses an unknown verb with exit code 2", () => {
    const out = spawnSync(process.execPath, [HELPER, "no-such-verb"], {
      encoding: "utf8",
      input: "{}",
      timeout: 30_000,
    });
    assert.equal(out.status, 2, out.stderr);
    assert.match(out.stdout, /^\{"ok":false,"error":\{"code":"bad_request"/);
    assert.match(out.stdout, /Unknown verb/);
  });
});
