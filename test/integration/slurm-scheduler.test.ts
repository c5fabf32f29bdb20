import { randomBytes, randomUUID } from "node:crypto";
import { makeLaunchCertificate } from "../../src/launchers/launch-certificate.js";
import { NodeProcessRunner } from "../../src/launchers/node-process-runner.js";
import { schedulerContract } from "../../src/schedulers/contract/scheduler.contract.js";
import {
  ClusterRunner,
  freshHubId,
  removeHubJobs,
  slurmSkipReason,
  testClusterScheduler,
  uniqueServerId,
} from "../support/slurm-cluster.js";

const SUITE = "SlurmScheduler on the test cluster";
const USER = "alice";

schedulerContract(SUITE, {
  skip: slurmSkipReason(SUITE),
  skips: {
    "left-the-queue":
      "Slurm lists an ended job for MinJobAge (300 s on the test cluster) before it leaves the queue; " +
      "the sacct and exit-record paths run on recorded output in src/schedulers/slurm/slurm-scheduler.test.ts",
  },
  async open() {
    const hubId = freshHubId("sc");
    const runner = new ClusterRunner(new NodeProcessRunner());
    const scheduler = testClusterScheduler(runner, hubId);
    const serverIds: number[] = [];
    return {
      scheduler,
      async request(command) {
        const serverId = uniqueServerId();
        serverIds.push(serverId);
        return {
          userName: USER,
          serverId,
          attemptId: randomUUID(),
          baseUrl: `/user/${USER}/`,
          token: randomBytes(24).toString("hex"),
          // Nothing listens there: the jobs' shells never listen, so their agents never call.
          callbackUrl: "http://127.0.0.1:9",
          callbackCredential: randomBytes(24).toString("hex"),
          tls: await makeLaunchCertificate({ now: new Date(), seconds: 3600 }),
          command,
          workDir: "~",
          resources: { queue: "debug", cpus: 1, memoryMb: 256, gpus: 0, minutes: 10 },
        };
      },
      statusQueries: () => runner.statusQueries,
      outage: (on) => runner.outage(on),
      neverKnownJobId: "999999999",
      settleMs: 60_000,
      async dispose() {
        scheduler.close();
        removeHubJobs(hubId, USER, serverIds);
      },
    };
  },
});
