import type { HelperContext } from "./helper-context.js";
import type { LogTailRequest, LogTailResult } from "./protocol.js";
import { readLogTail } from "./read-log-tail.js";
import { ServerDir } from "./server-dir.js";

/** The last lines of a server's log, with its token redacted; "" when the server has no folder. */
export async function serverLogTail(req: LogTailRequest, ctx: HelperContext): Promise<LogTailResult> {
  const dir = new ServerDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  if (!(await dir.exists())) return { text: "" };
  return { text: await readLogTail(dir.logPath, req.lines, await dir.readToken()) };
}
