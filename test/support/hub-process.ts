import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ConfigInput } from "../../src/config/schema.js";
import { LOG_DIR, REPO } from "./test-hub.js";

export interface HubProcess {
  readonly url: string;
  readonly firstAdminUrl: string | undefined;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

let counter = 0;

/** Runs `slipway serve` as a separate process (so it can be killed at any instant) and waits until it listens. */
export async function spawnHubProcess(dataDir: string, config: ConfigInput = {}): Promise<HubProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const configFile = join(dataDir, "test-config.yaml");
  writeFileSync(
    configFile,
    stringify({ ...config, hub: { host: "127.0.0.1", port: 0, ...config.hub }, logging: { level: "debug" } }),
  );
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO, "src/cli.ts"), "serve", "--config", configFile, "--data-dir", dataDir],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log = createWriteStream(join(LOG_DIR, `hub-process-${process.pid}-${counter++}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let text = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = /Slipway is running at (http:\/\/\S+?)\/\n/.exec(text);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the hub exited with ${code} before listening:\n${text}`)));
  });
  const first = /one-time link to create the first admin:\s+(\S+)/.exec(text);
  return { url, firstAdminUrl: first?.[1], child, exited };
}
