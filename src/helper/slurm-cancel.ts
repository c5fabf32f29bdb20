import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import { readLogTail } from "./read-log-tail.js";
import type {
  SlurmCancelRequest,
  SlurmCancelResult,
  SlurmLogTailRequest,
  SlurmLogTailResult,
} from "./protocol.js";
import { runProgram } from "./run-program.js";
import { SlurmJobDir } from "./slurm-job-dir.js";

/** `scancel <id>` as the job's owner: silent with exit 0, even for a job already gone. */
export async function slurmCancel(req: SlurmCancelRequest, ctx: HelperContext): Promise<SlurmCancelResult> {
  const run = await runProgram([req.scancel, req.jobId], {
    stdin: "",
    env: { PATH: ctx.path, HOME: ctx.user.home, USER: ctx.user.name, LANG: ctx.lang },
    cwd: ctx.user.home,
    timeoutMs: 30_000,
  });
  if (run.code !== 0) {
    throw new HelperFailure(
      "failed",
      run.timedOut ? "scancel did not answer in time" : run.stderr.trim().slice(0, 500),
    );
  }
  return { cancelled: true };
}

/**
 * The last lines of the job's output (token redacted), the agent's exit code if it wrote one, and
 * the job's certificate (public) if it is there.
 */
export async function slurmLogTail(
  req: SlurmLogTailRequest,
  ctx: HelperContext,
): Promise<SlurmLogTailResult> {
  const dir = new SlurmJobDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  if (!(await dir.exists())) return { text: "" };
  const text = await readLogTail(dir.logPath, req.lines, await dir.readToken());
  const exitCode = await dir.readExitCode();
  const certificate = await dir.readCertificate();
  return {
    text,
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(certificate === undefined ? {} : { certificate }),
  };
}
