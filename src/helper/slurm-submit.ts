import type { HelperContext } from "./helper-context.js";
import { HelperFailure } from "./helper-failure.js";
import { jupyterConfig } from "./jupyter-config.js";
import type { SlurmSubmitRequest, SlurmSubmitResult } from "./protocol.js";
import { runProgram } from "./run-program.js";
import { renderBatchScript } from "./slurm-batch-script.js";
import { SlurmJobDir } from "./slurm-job-dir.js";
import { expandWorkDir } from "./start-server.js";

/** sbatch retries for about 9 s when slurmctld is down; give it a little more. */
const SBATCH_TIMEOUT_MS = 30_000;

/**
 * Submits a server's batch job as the signed-in user: writes the secrets (token, callback
 * credential, TLS key) into 0600 files in the job's 0700 directory, renders the fixed template, and runs `sbatch --parsable` with the script
 * on stdin (scheduler-interfaces.md §4.1; slurm-single-node.md §3.1, §4).
 */
export async function slurmSubmit(req: SlurmSubmitRequest, ctx: HelperContext): Promise<SlurmSubmitResult> {
  const dir = new SlurmJobDir(ctx.user.home, req.hub, req.serverId, ctx.user.uid);
  await dir.prepare();
  const workDir = expandWorkDir(req.workDir, ctx.user.home);
  // The hub reaches the server on the node Slurm names (BatchHost), on every interface, so a
  // port alone proves nothing: the server speaks TLS with this launch's key, which the hub pins
  // (invariant 9), and the token still guards every request (threats §5a.17).
  const config = jupyterConfig({
    token: req.token,
    baseUrl: req.baseUrl,
    rootDir: workDir,
    listen: { tls: { certfile: dir.certificatePath, keyfile: dir.keyPath } },
    allowRoot: ctx.user.uid === 0,
  });
  let script;
  try {
    script = renderBatchScript({
      job: req.job,
      jobName: `slipway-${req.hub}-${req.serverId}`,
      attemptId: req.attemptId,
      logPath: dir.logPath,
      workDir,
      python: req.python,
      agent: req.agent,
      jobDir: dir.dir,
    });
  } catch (err) {
    throw new HelperFailure("bad_request", err instanceof Error ? err.message : String(err));
  }
  await dir.writeTls(req.tls);
  await dir.write(dir.configPath, config);
  await dir.write(dir.jobFile, {
    serverId: req.serverId,
    attemptId: req.attemptId,
    callbackUrl: req.callbackUrl,
    credential: req.credential,
    command: req.command,
    config: dir.configPath,
    keyFile: dir.keyPath,
    runtimeDir: dir.runtimeDir,
    exitFile: dir.exitPath,
  });
  const env = {
    PATH: ctx.path,
    HOME: ctx.user.home,
    USER: ctx.user.name,
    LOGNAME: ctx.user.name,
    LANG: ctx.lang,
    SLURM_TIME_FORMAT: "%s",
  };
  let run;
  try {
    run = await runProgram([req.sbatch, "--parsable", "--export=NONE", "--no-requeue"], {
      stdin: script,
      env,
      cwd: ctx.user.home,
      timeoutMs: SBATCH_TIMEOUT_MS,
    });
  } catch (err) {
    await dir.removeSecrets();
    throw new HelperFailure(
      "failed",
      `Could not run sbatch: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const id = /^(\d+)(?:;\S+)?\s*$/.exec(run.stdout.trim().split("\n").at(-1) ?? "")?.[1];
  if (run.code !== 0 || id === undefined) {
    await dir.removeSecrets();
    const why = run.timedOut
      ? "sbatch did not answer in time"
      : (
          run.stderr
            .trim()
            .split("\n")
            .filter((l) => l.includes("error"))
            .at(-1) ?? run.stderr.trim()
        ).slice(0, 500);
    throw new HelperFailure("failed", why || `sbatch exited with code ${run.code}`);
  }
  return { jobId: id, logPath: dir.logPath, dir: dir.dir };
}
