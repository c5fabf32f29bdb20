import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import type { StopRequest, StopResult } from "./protocol.js";
import { ServerDir } from "./server-dir.js";
import { terminateProcess } from "./terminate-process.js";

/** Stops a server and removes its token from disk. Stopping a stopped server succeeds. */
export async function stopServer(req: StopRequest, ctx: HelperContext): Promise<StopResult> {
  const dir = new ServerDir(ctx.user.home, req.serverId, ctx.user.uid);
  if (!(await dir.exists())) return { stopped: true };
  const recorded = await dir.readPid();
  const same = recorded !== undefined && recorded.pid === req.pid && recorded.startTime === req.startTime;
  if (await ctx.proc.isAlive(req)) {
    // The helper only signals what it started for this server: a request naming any other live
    // process of the user is refused rather than obeyed.
    if (!same) throw new HelperFailure("failed", `Process ${req.pid} is not the one this server runs.`);
    await terminateProcess(req, req.graceMs, ctx);
  }
  // A newer attempt may own the directory now; its files are left alone unless it is dead too.
  if (same || recorded === undefined || !(await ctx.proc.isAlive(recorded))) {
    await dir.removePid();
    await dir.removeSecrets();
  }
  return { stopped: true };
}
