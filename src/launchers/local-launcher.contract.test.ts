import { userInfo } from "node:os";
import { launcherContract } from "./contract/launcher.contract.js";
import { freshSpec, RecordedLaunch } from "./contract/recorded-launch.js";
import { detectJupyterCommand, LocalLauncher } from "./local-launcher.js";
import {
  removeServerDir,
  TEST_HUB_ID,
  testClock,
  testProbe,
  testSocketDir,
  uniqueServerId,
} from "./local-launcher-test-fixture.js";
import { NodeProcessRunner } from "./node-process-runner.js";

const jupyter = detectJupyterCommand(process.env["PATH"]);
const me = userInfo();

launcherContract("LocalLauncher, servers as the hub's account", {
  skip:
    jupyter === undefined && !process.env["CI"]
      ? "Jupyter is not installed on this machine (it is in CI)."
      : undefined,
  skips: {
    queued: "servers run on this machine at once: there is no queue to wait in",
  },
  async open() {
    const socketDir = await testSocketDir("hub");
    const serverIds: number[] = [];
    return {
      launcher: ({ command, startTimeoutMs }) =>
        new LocalLauncher({
          runner: new NodeProcessRunner(),
          runAs: "hub",
          hubId: TEST_HUB_ID,
          command: command ?? jupyter ?? ["jupyter-is-missing"],
          workDir: "~",
          socketDir,
          probe: testProbe,
          startTimeoutMs,
          stopTimeoutMs: 5_000,
          clock: testClock,
        }),
      spec: () => {
        const serverId = uniqueServerId();
        serverIds.push(serverId);
        return freshSpec(me.username, serverId, {});
      },
      launch: (spec, startTimeoutMs) => new RecordedLaunch({ spec, startTimeoutMs, clock: testClock }),
      startTimeoutMs: 30_000,
      settleMs: 10_000,
      probe: testProbe,
      async dispose() {
        for (const id of serverIds) await removeServerDir(me.homedir, id);
      },
    };
  },
});
