import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";

/**
 * Makes the hub's data directory (0700), or checks the one that is there: the hub's account's
 * own, and neither readable nor writable by group or others, for it holds the database,
 * `secret.key` and `callback.key`. A directory that is not is refused, with the `chmod` that fixes
 * it, rather than repaired: what it held may have been read already, and the operator should know.
 *
 * Others may pass through it (the x bit alone, e.g. 0711): servers run as users reach their
 * sockets in `<data dir>/sockets` that way. Without r they cannot list it and without w they cannot
 * add, remove or rename anything in it; a name they know gets them only to files that are 0600
 * themselves (the database files and keys are checked where they are opened).
 */
export async function prepareDataDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const stats = await stat(path);
  const uid = process.getuid?.();
  if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) {
    throw new Error(`The data directory ${path} is not a directory owned by the hub's account.`);
  }
  const mode = stats.mode & 0o777;
  if ((mode & 0o066) !== 0) {
    throw new Error(
      `The data directory ${path} has mode ${mode.toString(8).padStart(4, "0")}: group or others may ` +
        `read or write it, and it holds the database and the hub's keys. Run: chmod 700 ${path} ` +
        `(or chmod 711 ${path} if servers run as users must reach their sockets in it).`,
    );
  }
}

/**
 * Writes `text` to `path`, readable by the hub's account only whatever was there before: written
 * 0600 under a new name (O_EXCL, so never through a planted file or link), then renamed into place.
 */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: "wx" });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
