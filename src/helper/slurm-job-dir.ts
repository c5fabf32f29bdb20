import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HelperFailure } from "./helper-failure.js";
import { checkOwnerOnlyDir, prepareOwnerOnlyDirs } from "./owner-only-dir.js";
import { certificatePem } from "./protocol.js";
import { writeFileAtomic } from "./server-dir.js";

/**
 * `~/.slipway/jobs/<hub>-<serverId>/` (0700): the files of a server's batch job. `job.json`
 * (0600) holds the callback credential and is deleted by the agent once read;
 * `jupyter_config.json` (0600) holds the token and `server.key` (0600) the launch's TLS key,
 * both deleted by the agent when Jupyter exits; `server.crt` is the launch's certificate
 * (public, kept so a restarted hub can pin it again); `job.log` is Slurm's output of the job;
 * `exit.json` is the agent's own exit record, for clusters without accounting.
 */
export class SlurmJobDir {
  readonly base: string;
  readonly dir: string;
  readonly jobFile: string;
  readonly configPath: string;
  readonly keyPath: string;
  readonly certificatePath: string;
  readonly logPath: string;
  readonly exitPath: string;
  readonly runtimeDir: string;

  constructor(
    home: string,
    hub: string,
    serverId: number,
    private readonly uid: number,
  ) {
    this.base = join(home, ".slipway");
    this.dir = join(this.base, "jobs", `${hub}-${serverId}`);
    this.jobFile = join(this.dir, "job.json");
    this.configPath = join(this.dir, "jupyter_config.json");
    this.keyPath = join(this.dir, "server.key");
    this.certificatePath = join(this.dir, "server.crt");
    this.logPath = join(this.dir, "job.log");
    this.exitPath = join(this.dir, "exit.json");
    this.runtimeDir = join(this.dir, "runtime");
  }

  async prepare(): Promise<void> {
    await prepareOwnerOnlyDirs([this.base, join(this.base, "jobs"), this.dir], this.uid);
    // A fresh attempt: nothing of the previous job's secrets or exit record stays.
    await rm(this.exitPath, { force: true });
    await rm(this.runtimeDir, { recursive: true, force: true });
    await mkdir(this.runtimeDir, { mode: 0o700 });
  }

  async exists(): Promise<boolean> {
    try {
      await checkOwnerOnlyDir(this.dir, this.uid);
      return true;
    } catch (err) {
      if (err instanceof HelperFailure) throw err;
      return false;
    }
  }

  write(path: string, data: object): Promise<void> {
    return writeFileAtomic(path, JSON.stringify(data, null, 2) + "\n", 0o600);
  }

  /** The launch's key and certificate; each replaces the previous submission's in one step. */
  async writeTls(tls: { readonly key: string; readonly certificate: string }): Promise<void> {
    await writeFileAtomic(this.keyPath, tls.key, 0o600);
    await writeFileAtomic(this.certificatePath, tls.certificate, 0o600);
  }

  /** The last submission's certificate, if it is there and still reads as one. */
  async readCertificate(): Promise<string | undefined> {
    try {
      const parsed = certificatePem.safeParse(await readFile(this.certificatePath, "utf8"));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async readExitCode(): Promise<number | undefined> {
    try {
      const parsed = z.object({ code: z.int() }).safeParse(JSON.parse(await readFile(this.exitPath, "utf8")));
      return parsed.success ? parsed.data.code : undefined;
    } catch {
      return undefined;
    }
  }

  async readToken(): Promise<string | undefined> {
    try {
      const parsed = z
        .object({ ServerApp: z.object({ token: z.string().min(1) }) })
        .safeParse(JSON.parse(await readFile(this.configPath, "utf8")));
      return parsed.success ? parsed.data.ServerApp.token : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes every file that holds a secret (after a failed submission). */
  async removeSecrets(): Promise<void> {
    await rm(this.jobFile, { force: true });
    await rm(this.configPath, { force: true });
    await rm(this.keyPath, { force: true });
    await rm(this.certificatePath, { force: true });
    await rm(this.runtimeDir, { recursive: true, force: true });
  }
}
