import { Backoff } from "./backoff.js";
import type { HelperContext } from "./helper-context.js";
import type { ProcessIdentity } from "./proc-reader.js";

/** Most servers go within moments of SIGTERM; a slow shutdown is checked less often. */
const FIRST_CHECK_MS = 10;
const MAX_CHECK_MS = 100;
/** After SIGKILL the kernel needs only a moment; this bounds the wait if something is very wrong. */
const KILL_WAIT_MS = 5000;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: it is already gone, which is what we want.
    if (!(err instanceof Error && "code" in err && err.code === "ESRCH")) throw err;
  }
}

async function waitGone(id: ProcessIdentity, ms: number, ctx: HelperContext): Promise<boolean> {
  const deadline = ctx.now() + ms;
  const backoff = new Backoff(FIRST_CHECK_MS, MAX_CHECK_MS);
  for (;;) {
    if (!(await ctx.proc.isAlive(id))) return true;
    if (ctx.now() >= deadline) return false;
    await ctx.sleep(Math.min(backoff.next(), Math.max(1, deadline - ctx.now())));
  }
}

/**
 * Stops a server process: SIGTERM to its process group (Jupyter then shuts its kernels down),
 * SIGKILL after `graceMs`. Kernels run in sessions of their own, outside the group, so the
 * process's descendants are noted first and any that outlive it are killed too — otherwise a
 * SIGKILLed server would leave its kernels orphaned.
 */
export async function terminateProcess(
  id: ProcessIdentity,
  graceMs: number,
  ctx: HelperContext,
): Promise<void> {
  const st = await ctx.proc.stat(id.pid);
  if (st === undefined || st.startTime !== id.startTime || st.state === "Z") return;
  const family = await ctx.proc.descendants(id.pid);
  // The helper started it with setsid, so it leads its own group; if it has left that group,
  // signal the process alone rather than whatever group now has that number.
  const target = st.pgrp === id.pid ? -id.pid : id.pid;
  signal(target, "SIGTERM");
  if (!(await waitGone(id, graceMs, ctx))) {
    signal(target, "SIGKILL");
    await waitGone(id, KILL_WAIT_MS, ctx);
  }
  for (const member of family) {
    if (await ctx.proc.isAlive(member)) signal(member.pid, "SIGKILL");
  }
}
