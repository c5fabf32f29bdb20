import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import type { StopRequest, StopResult } from "./protocol.js";
import { ServerDir } from "./server-dir.js";
import { terminateProcess } from "./terminate-process.js";

/**
 * Stops a server and removes its token from disk. Stopping a stopped server succeeds; a live
 * process that this user's directory for the server does not name is refused, so `stopped`
 * always means the process is gone.
 */
export async function stopServer(req: StopRequest, ctx: HelperContext): Promise<StopResult> {
  const dir = new ServerDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  const exists = await dir.exists();
  const recorded = exists ? await dir.readPid() : undefined;
  const same = recorded !== undefined && recorded.pid === req.pid && recorded.startTime === req.startTime;
  if (await ctx.proc.isAlive(req)) {
    // The helper only signals what it started for this server, never any other process of the user.
    if (!same) throw new HelperFailure("failed", `Process ${req.pid} is not the one this server runs.`);
    await terminateProcess(req, req.graceMs, ctx);
    if (await ctx.proc.isAlive(req)) {
      throw new HelperFailure("failed", `Process ${req.pid} outlived SIGKILL.`);
    }
  }
  if (!exists) return { stopped: true };
  // A newer attempt may own the directory now; its files are left alone unless it is dead too.
  if (same || recorded === undefined || !(await ctx.proc.isAlive(recorded))) {
    await dir.removePid();
    await dir.removeSecrets();
  }
  return { stopped: true };
}
