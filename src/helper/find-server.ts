import type { HelperContext } from "./helper-context.js";
import type { FindRequest, FindResult } from "./protocol.js";
import { ServerDir } from "./server-dir.js";

/**
 * What an attempt left behind, for a hub that died before it stored the process: found only if
 * the directory still belongs to that attempt and the recorded process is the same one alive.
 */
export async function findServer(req: FindRequest, ctx: HelperContext): Promise<FindResult> {
  const dir = new ServerDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  if (!(await dir.exists())) return { found: false };
  if ((await dir.readAttempt()) !== req.attemptId) return { found: false };
  const id = await dir.readPid();
  if (id === undefined || !(await ctx.proc.isAlive(id))) return { found: false };
  const socket = await dir.readSocket();
  return {
    found: true,
    pid: id.pid,
    startTime: id.startTime,
    logPath: dir.logPath,
    ...(socket !== undefined ? { socket } : {}),
  };
}
