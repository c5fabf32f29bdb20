import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HelperFailure } from "./helper-failure.js";
import { checkOwnerOnlyDir, prepareOwnerOnlyDirs } from "./owner-only-dir.js";
import type { ProcessIdentity } from "./proc-reader.js";

const SOCKET_NAME = "jupyter.sock";
/** Linux's `sun_path` holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

const pidFileSchema = z.strictObject({ pid: z.int().min(1), startTime: z.int().nonnegative() });

function isMissing(err: unknown): boolean {
  return err instanceof Error && "code" in err && err.code === "ENOENT";
}

/** Writes a file that is never seen half-written and never, even briefly, with a wider mode. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  // "wx": never follow or reuse something already at the temporary name.
  const fh = await open(tmp, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * `~/.slipway/servers/<hub>-<serverId>/`: everything the helper keeps about one server. Only the owner
 * may enter it (0700), because it holds the token (config and Jupyter's runtime files).
 */
export class ServerDir {
  readonly base: string;
  readonly dir: string;
  readonly configPath: string;
  readonly attemptPath: string;
  readonly pidPath: string;
  readonly logPath: string;
  readonly runtimeDir: string;
  /** Names the directory that holds the server's socket (outside the home: the hub must reach it). */
  readonly socketRecordPath: string;

  constructor(
    home: string,
    private readonly hub: string,
    private readonly serverId: number,
    private readonly uid: number,
  ) {
    this.base = join(home, ".slipway");
    this.dir = join(this.base, "servers", `${hub}-${serverId}`);
    this.configPath = join(this.dir, "jupyter_config.json");
    this.attemptPath = join(this.dir, "attempt");
    this.pidPath = join(this.dir, "pid");
    this.logPath = join(this.dir, "server.log");
    this.runtimeDir = join(this.dir, "runtime");
    this.socketRecordPath = join(this.dir, "socket");
  }

  /** Creates the directory chain, each level a real directory owned by us with mode 0700. */
  async prepare(): Promise<void> {
    await prepareOwnerOnlyDirs([this.base, join(this.base, "servers"), this.dir], this.uid);
  }

  /** True when the directory exists (and is ours); used by the verbs that only read. */
  async exists(): Promise<boolean> {
    try {
      await checkOwnerOnlyDir(this.dir, this.uid);
      return true;
    } catch (err) {
      if (err instanceof HelperFailure) throw err;
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async writeConfig(config: object): Promise<void> {
    await writeFileAtomic(this.configPath, JSON.stringify(config, null, 2) + "\n", 0o600);
  }

  async writeAttempt(attemptId: string): Promise<void> {
    await writeFileAtomic(this.attemptPath, attemptId + "\n", 0o600);
  }

  async readAttempt(): Promise<string | undefined> {
    return (await this.readOptional(this.attemptPath))?.trim();
  }

  async writePid(id: ProcessIdentity): Promise<void> {
    await writeFileAtomic(
      this.pidPath,
      JSON.stringify({ pid: id.pid, startTime: id.startTime }) + "\n",
      0o600,
    );
  }

  async readPid(): Promise<ProcessIdentity | undefined> {
    const text = await this.readOptional(this.pidPath);
    if (text === undefined) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = pidFileSchema.safeParse(data);
    return parsed.success ? parsed.data : undefined;
  }

  async removePid(): Promise<void> {
    await unlink(this.pidPath).catch((err: unknown) => {
      if (!isMissing(err)) throw err;
    });
  }

  /** The token as written in the config, to redact it from anything read back. */
  async readToken(): Promise<string | undefined> {
    const text = await this.readOptional(this.configPath);
    if (text === undefined) return undefined;
    try {
      const parsed = z
        .object({ ServerApp: z.object({ token: z.string().min(1) }) })
        .safeParse(JSON.parse(text));
      return parsed.success ? parsed.data.ServerApp.token : undefined;
    } catch {
      return undefined;
    }
  }

  /** A fresh, empty runtime directory (Jupyter writes a copy of the token into it). */
  async resetRuntime(): Promise<void> {
    await rm(this.runtimeDir, { recursive: true, force: true });
    await mkdir(this.runtimeDir, { mode: 0o700 });
  }

  /**
   * A new directory of this user's own under `socketDir`, for the server's socket, recorded in
   * the server's folder. `mkdtemp` never reuses a name, and in a sticky `socketDir` nobody else
   * can rename or remove it: whatever listens on a socket in it, this user (or root) put there.
   * 0711: the hub's account may reach the socket, nobody may list or add to the directory.
   */
  async createSocket(socketDir: string): Promise<string> {
    await this.removeSocket();
    const where = await mkdtemp(join(socketDir, `${this.hub}-${this.serverId}-`));
    const socket = join(where, SOCKET_NAME);
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      await rm(where, { recursive: true, force: true });
      throw new HelperFailure("failed", `The socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes.`);
    }
    await chmod(where, 0o711);
    await writeFileAtomic(this.socketRecordPath, where + "\n", 0o600);
    return socket;
  }

  /** The server's socket, if it was created and still exists as a socket in its own directory. */
  async readSocket(): Promise<string | undefined> {
    const where = (await this.readOptional(this.socketRecordPath))?.trim();
    if (where === undefined || where === "") return undefined;
    const socket = join(where, SOCKET_NAME);
    const st = await lstat(socket).catch(() => undefined);
    return st?.isSocket() ? socket : undefined;
  }

  /** Removes the socket's directory (a server that exited may leave its socket behind). */
  async removeSocket(): Promise<void> {
    const where = (await this.readOptional(this.socketRecordPath))?.trim();
    if (where !== undefined && where !== "") {
      const st = await lstat(where).catch(() => undefined);
      // Only a directory of this user's: the record is the user's own file, but it is checked anyway.
      if (st?.isDirectory() && st.uid === this.uid) await rm(where, { recursive: true, force: true });
    }
    await rm(this.socketRecordPath, { force: true });
  }

  /** Removes every file that holds the token, and the socket the server listened on. */
  async removeSecrets(): Promise<void> {
    await rm(this.configPath, { force: true });
    await rm(this.runtimeDir, { recursive: true, force: true });
    await this.removeSocket();
  }

  private async readOptional(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }
}
