import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { z } from "zod";
import { BatchLauncher } from "../../src/launchers/batch-launcher.js";
import { launcherContract } from "../../src/launchers/contract/launcher.contract.js";
import { freshSpec, RecordedLaunch } from "../../src/launchers/contract/recorded-launch.js";
import { detectJupyterCommand } from "../../src/launchers/detect-jupyter-command.js";
import { NodeProcessRunner } from "../../src/launchers/node-process-runner.js";
import type { LaunchSpec } from "../../src/ports/launcher.js";
import { TargetPins } from "../../src/proxy/target-connection.js";
import { targetStatus } from "../../src/proxy/target-status.js";
import {
  cancelJob,
  ClusterRunner,
  fillDebugAsBob,
  freshHubId,
  liveClock,
  removeHubJobs,
  slurmSkipReason,
  testClusterScheduler,
  uniqueServerId,
} from "../support/slurm-cluster.js";

const SUITE = "BatchLauncher on the Slurm test cluster";
const USER = "alice";
const jupyter = detectJupyterCommand(process.env["PATH"]);

const reportSchema = z.strictObject({ port: z.int().min(1).max(65535) });

/**
 * The hub's job callback, as far as a launch needs it: a job's agent reports `{port}` with the
 * one-time credential of its server's attempt, and the launch waiting for that server gets it.
 */
class CallbackEndpoint {
  readonly #server: Server;
  readonly #waiting = new Map<number, { spec: LaunchSpec; resolve: (port: number) => void }>();

  constructor(private readonly verify: (serverId: number, attemptId: string, credential: string) => boolean) {
    this.#server = createServer((req, res) => {
      void this.#answer(req).then((status) => res.writeHead(status).end());
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  }

  expect(spec: LaunchSpec): Promise<number> {
    return new Promise<number>((resolve) => this.#waiting.set(spec.serverId, { spec, resolve }));
  }

  async #answer(req: IncomingMessage): Promise<number> {
    const serverId = Number(/^\/hub\/api\/batch\/servers\/(\d+)\/port$/.exec(req.url ?? "")?.[1]);
    const waiting = this.#waiting.get(serverId);
    const credential = (req.headers.authorization ?? "").replace(/^token /, "");
    if (!waiting || !this.verify(serverId, waiting.spec.attemptId, credential)) return 403;
    let body = "";
    for await (const chunk of req) body += String(chunk);
    let report;
    try {
      report = reportSchema.safeParse(JSON.parse(body));
    } catch {
      return 400;
    }
    if (!report.success) return 400;
    waiting.resolve(report.data.port);
    return 204;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

launcherContract(SUITE, {
  skip:
    slurmSkipReason(SUITE) ??
    (jupyter === undefined ? "Jupyter is not installed on this machine (it is in CI)." : undefined),
  async open() {
    const hubId = freshHubId("bl");
    const scheduler = testClusterScheduler(new ClusterRunner(new NodeProcessRunner()), hubId);
    const callbackKey = randomBytes(32);
    const probe = targetStatus(new TargetPins());
    const serverIds: number[] = [];
    let origin = "";
    const launcher = ({ command }: { readonly command?: readonly string[] }): BatchLauncher =>
      new BatchLauncher({
        scheduler,
        command: command ?? jupyter ?? ["jupyter-is-missing"],
        workDir: "~",
        callbackUrl: () => origin,
        callbackKey,
        queueLimit: () => 600,
        localFallback: undefined,
        metrics: { queueWait: () => undefined },
        probe,
        clock: liveClock,
      });
    const verifier = launcher({});
    const callback = new CallbackEndpoint((id, attempt, credential) =>
      verifier.verifyCallback(id, attempt, credential),
    );
    origin = await callback.listen();
    return {
      launcher,
      spec: () => {
        const serverId = uniqueServerId();
        serverIds.push(serverId);
        return freshSpec(USER, serverId, { partition: "debug", gpus: 0, cpus: 1, memory: 512, runtime: 10 });
      },
      launch: (spec, startTimeoutMs) =>
        new RecordedLaunch({ spec, startTimeoutMs, clock: liveClock, reportedPort: callback.expect(spec) }),
      startTimeoutMs: 120_000,
      settleMs: 60_000,
      probe,
      async holdQueue() {
        const filler = await fillDebugAsBob();
        return async () => cancelJob(filler);
      },
      async dispose() {
        await callback.close();
        scheduler.close();
        removeHubJobs(hubId, USER, serverIds);
      },
    };
  },
});
