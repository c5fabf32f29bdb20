import { chmod, lstat, mkdir } from "node:fs/promises";
import { HelperFailure } from "./helper-failure.js";

/**
 * Makes each directory of `levels` in turn, outermost first (`~/.slipway`, `~/.slipway/servers`,
 * `~/.slipway/servers/<hub>-<id>`), and checks each one as {@link checkOwnerOnlyDir} does. The
 * innermost holds a server's token (and a batch job's TLS key), so no level may be anyone else's
 * way in: a level that fails the check stops the chain before anything is made below it.
 */
export async function prepareOwnerOnlyDirs(levels: readonly string[], uid: number): Promise<void> {
  for (const dir of levels) {
    await mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
      if (!(err instanceof Error && "code" in err && err.code === "EEXIST")) throw err;
    });
    await checkOwnerOnlyDir(dir, uid);
  }
}

/**
 * Refuses `dir` unless it is a real directory owned by `uid`, and puts its mode back to 0700 if it
 * is any other. `lstat`, not `stat`: a symlink, or a directory of another account, would let
 * someone else read or plant the files in it. A missing `dir` rejects with Node's ENOENT error.
 */
export async function checkOwnerOnlyDir(dir: string, uid: number): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== uid) {
    throw new HelperFailure("failed", `${dir} is not a directory owned by this user`);
  }
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}
