import type { HelperContext } from "./helper-context.js";
import type { PollRequest, PollResult } from "./protocol.js";

export async function pollProcess(req: PollRequest, ctx: HelperContext): Promise<PollResult> {
  if (!(await ctx.proc.isAlive(req))) return { alive: false };
  const port = (await ctx.proc.listeningPorts(req.pid))[0];
  return port === undefined ? { alive: true } : { alive: true, port };
}
