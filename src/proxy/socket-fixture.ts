/** Unix sockets for the proxy's tests: each stand-in server listens in a fresh directory of its own. */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SocketTarget } from "../domain/types.js";

/** Listens on `<new dir>/s.sock`; the directory goes when the server closes. */
export async function listenOnTestSocket(server: Server): Promise<SocketTarget> {
  const dir = mkdtempSync(join(tmpdir(), "slipway-proxy-"));
  const socket = join(dir, "s.sock");
  server.once("close", () => rmSync(dir, { recursive: true, force: true }));
  server.listen(socket);
  await once(server, "listening");
  return { kind: "unix", socket };
}

/** A socket path nothing listens on (its directory exists and is empty). */
export function closedSocket(): SocketTarget {
  return { kind: "unix", socket: join(mkdtempSync(join(tmpdir(), "slipway-proxy-")), "s.sock") };
}
