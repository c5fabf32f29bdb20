import type { HelperContext } from "./helper-context.js";
import type { PollRequest, PollResult } from "./protocol.js";

export async function pollProcess(req: PollRequest, ctx: HelperContext): Promise<PollResult> {
  return { alive: await ctx.proc.isAlive(req) };
}
