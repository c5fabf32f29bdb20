import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";

/**
 * The files SQLite keeps for a database: the database, its write-ahead log and shared-memory
 * index (WAL mode), and the rollback journal it uses before WAL mode is on. Each holds rows:
 * password hashes, session and token hashes, sealed secrets.
 */
function sqliteFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`];
}

/**
 * Creates the database file 0600 if it is not there yet, before SQLite would create it 0644
 * (less the umask). SQLite gives the -wal, -shm and -journal files it makes the mode of the
 * database file, whatever the umask (os_unix.c, findCreateFileMode and robust_open), so they are
 * private too.
 */
export async function createPrivateDatabaseFile(path: string): Promise<void> {
  try {
    // O_EXCL: an existing file (or a link planted in its place) is left to the mode check.
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await handle.close();
  } catch (error) {
    if (!isCode(error, "EEXIST")) throw error;
  }
}

/**
 * Throws, naming each file and the `chmod` that fixes it, when group or others have any access to
 * the database or one of its side files. Refused rather than repaired: a file that was readable
 * may have been copied, and the operator should know.
 */
export async function refuseSharedDatabaseFiles(path: string): Promise<void> {
  const shared: { file: string; mode: number }[] = [];
  for (const file of sqliteFiles(path)) {
    try {
      const mode = (await stat(file)).mode & 0o777;
      if ((mode & 0o077) !== 0) shared.push({ file, mode });
    } catch (error) {
      if (!isCode(error, "ENOENT")) throw error;
    }
  }
  if (shared.length === 0) return;
  const listed = shared.map(({ file, mode }) => `${file} (mode ${mode.toString(8).padStart(4, "0")})`);
  throw new Error(
    `The database files ${listed.join(", ")} may be read or written by group or others; they must be ` +
      `the hub's account's alone. Run: chmod 600 ${shared.map(({ file }) => file).join(" ")}`,
  );
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
