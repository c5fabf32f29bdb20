import { chmod, lstat, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** Socket paths are `<dir>/<hub>-<server>-XXXXXX/jupyter.sock` and must fit in 107 bytes. */
const MAX_SOCKET_DIR = 64;

/**
 * Makes the directory that local servers' sockets live under, and checks it is what the proxy's
 * trust in a socket rests on (invariant 9): the hub's own directory, not a link, and either
 * private (servers run as the hub) or sticky (servers run as users: each user makes a directory of
 * their own in it, which nobody else can rename, remove or add to).
 */
export async function prepareSocketDir(path: string, runAs: "hub" | "user"): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_DIR) {
    throw new Error(
      `The socket directory ${path} is longer than ${MAX_SOCKET_DIR} bytes (a socket's path holds 107): set servers.socketDir to a shorter path.`,
    );
  }
  await mkdir(path, { mode: 0o700 }).catch((err: unknown) => {
    if (!(err instanceof Error && "code" in err && err.code === "EEXIST")) throw err;
  });
  const st = await lstat(path);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(
      `${path} is not a directory owned by the hub's account: remove it, or set servers.socketDir.`,
    );
  }
  const mode = runAs === "hub" ? 0o700 : 0o1733;
  if ((st.mode & 0o7777) !== mode) await chmod(path, mode);
  if (runAs === "user") await checkReachable(dirname(path), path);
}

/** Users' helpers must reach the directory: every directory above it must let others pass. */
async function checkReachable(dir: string, socketDir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const st = await lstat(d);
    if ((st.mode & 0o001) === 0) {
      throw new Error(
        `Servers run as users cannot reach ${socketDir}: ${d} does not let others pass (chmod o+x ${d}), or set servers.socketDir to a directory they can reach, such as /run/slipway (systemd: RuntimeDirectory=slipway).`,
      );
    }
    if (d === "/") return;
  }
}
