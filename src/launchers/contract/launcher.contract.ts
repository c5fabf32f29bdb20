import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isSlipwayError } from "../../domain/errors.js";
import type { JsonObject } from "../../domain/types.js";
import type { LaunchResult, LaunchSpec, Launcher } from "../../ports/launcher.js";
import type { TargetProbe } from "../../ports/target-probe.js";
import type { RecordedLaunch } from "./recorded-launch.js";

/**
 * The behaviour every launcher must have, run against the real thing: the local launcher with
 * real Jupyter, the batch launcher on the real Slurm cluster. One Jupyter server is started for
 * the cases that need one (start, progress, poll, log, adopt, stop, in that order); the failures
 * start servers of their own that exit or never answer.
 */

export type LauncherCase =
  "start" | "progress" | "poll" | "log" | "adopt" | "stop" | "queued" | "exits" | "timeout";

export interface LauncherHarness {
  /** Why the whole suite cannot run here (no Jupyter, no cluster), or undefined. */
  readonly skip: string | undefined;
  /** Cases this implementation skips, each with its reason. */
  readonly skips?: Partial<Record<LauncherCase, string>>;
  open(): Promise<LauncherFixture>;
}

export interface LauncherFixture {
  /** A launcher whose servers run `command` (Jupyter when absent), with this start timeout. */
  launcher(options: { readonly command?: readonly string[]; readonly startTimeoutMs: number }): Launcher;
  /** A fresh server of the test user's: a new server id, attempt id and token. */
  spec(): LaunchSpec;
  /** A context as the launch driver gives one for `spec` (with the job's callback, for batch jobs). */
  launch(spec: LaunchSpec, startTimeoutMs: number): RecordedLaunch;
  /** Long enough for Jupyter to come up here. */
  readonly startTimeoutMs: number;
  /** How long a server may take to end once it was stopped. */
  readonly settleMs: number;
  /** Asks a server over the channel the proxy uses. */
  readonly probe: TargetProbe;
  /** Keeps every new job waiting in the queue until the function it resolves with is called. */
  holdQueue?(): Promise<() => Promise<void>>;
  dispose(): Promise<void>;
}

/** A server that fails before it answers; the agent or helper adds `--config=<file>`, the shell's `$0`. */
const EXITS = ["/bin/sh", "-c", "echo 'no such option' >&2; exit 3"];
/** A server whose process runs but never listens. */
const SILENT = ["/bin/sh", "-c", "echo starting slowly; exec sleep 600"];
/** Short, to reach in a test; the failure cases wait it out. */
const SHORT_TIMEOUT_MS = 4_000;
/** What a queued launch waits out in the queue, and then its Jupyter has to come up. */
const QUEUED_TIMEOUT_MS = 10_000;

/** Polls until the launcher says the server is gone, for at most `ms`; the last answer. */
async function pollUntilGone(launcher: Launcher, userName: string, state: JsonObject, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await launcher.poll(userName, state);
    if (result.status === "gone" || Date.now() > deadline) return result;
    // The process or job ends outside this process, which announces nothing to it.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What the cases of one run share: its fixture, its Jupyter launcher, and every start it made. */
class Suite {
  #fixture: LauncherFixture | undefined;
  #launcher: Launcher | undefined;
  /** Every start the suite made, to stop in the end whatever is left of it. */
  readonly #tried: { launch: RecordedLaunch; launcher: Launcher }[] = [];

  constructor(private readonly harness: LauncherHarness) {}

  async open(): Promise<void> {
    this.#fixture = await this.harness.open();
    this.#launcher = this.#fixture.launcher({ startTimeoutMs: this.#fixture.startTimeoutMs });
  }

  get fixture(): LauncherFixture {
    return this.#fixture ?? assert.fail("the fixture is not open");
  }

  /** The launcher whose servers are Jupyter. */
  get launcher(): Launcher {
    return this.#launcher ?? assert.fail("the fixture is not open");
  }

  skip(c: LauncherCase): string | false {
    return this.harness.skips?.[c] ?? false;
  }

  /** Starts a fresh server with `launcher`, under the driver's start timeout. */
  start(
    launcher: Launcher,
    startTimeoutMs: number,
  ): { launch: RecordedLaunch; started: Promise<LaunchResult> } {
    const spec = this.fixture.spec();
    const launch = this.fixture.launch(spec, startTimeoutMs);
    this.#tried.push({ launch, launcher });
    const started = launcher.start(spec, launch.ctx).finally(() => launch.done());
    // Awaited by the case; a rejection before then is not unhandled.
    started.catch(() => undefined);
    return { launch, started };
  }

  /** Whatever the attempt left is gone: nothing found by its attempt id, or what is found ended. */
  async nothingLeft(launcher: Launcher, spec: LaunchSpec): Promise<void> {
    const left = await launcher.recover(spec.userName, spec.attemptId, spec.serverId);
    if (left === undefined) return;
    const result = await pollUntilGone(launcher, spec.userName, left, this.fixture.settleMs);
    assert.equal(
      result.status,
      "gone",
      `the attempt left ${JSON.stringify(left)}: ${JSON.stringify(result)}`,
    );
  }

  async close(): Promise<void> {
    if (!this.#fixture) return;
    for (const { launch, launcher } of this.#tried) {
      launch.done();
      const { userName, attemptId, serverId } = launch.spec;
      for (const state of launch.persisted()) await launcher.stop(userName, state).catch(() => undefined);
      const left = await launcher.recover(userName, attemptId, serverId).catch(() => undefined);
      if (left) await launcher.stop(userName, left).catch(() => undefined);
    }
    await this.#fixture.dispose();
  }
}

/** Registers the behaviour every launcher must have, for one implementation. */
export function launcherContract(name: string, harness: LauncherHarness): void {
  describe(`${name}: the Launcher contract`, { skip: harness.skip ?? false }, () => {
    const suite = new Suite(harness);
    before(() => suite.open());
    after(() => suite.close());
    describe("one Jupyter server, from start to stop", () => oneServerCases(suite));
    queueCases(suite);
    failureCases(suite);
  });
}

/** One Jupyter server through its whole life, in order: start, progress, poll, log, adopt, stop. */
function oneServerCases(suite: Suite): void {
  let main: { spec: LaunchSpec; launch: RecordedLaunch; result: LaunchResult };
  const status = (token: string) =>
    suite.fixture.probe(main.result.target, `${main.spec.baseUrl}api/status`, token, 5_000);

  before(async () => {
    const { launch, started } = suite.start(suite.launcher, suite.fixture.startTimeoutMs);
    main = { spec: launch.spec, launch, result: await started };
  });

  it(
    "starts a server that answers its token, and no other, where it says",
    { skip: suite.skip("start") },
    async () => {
      assert.equal(await status(main.spec.token), 200);
      assert.equal(await status("not-the-token-0000"), 403);
    },
  );

  it(
    "stores its state before it waits, says when the server starts, and reports progress",
    { skip: suite.skip("progress") },
    () => {
      const said = main.launch.said;
      const firstPersist = said.findIndex((s) => s.kind === "persist");
      const starting = said.findIndex((s) => s.kind === "phase" && s.phase === "starting");
      assert.ok(firstPersist >= 0, "the launcher stored its state");
      assert.ok(starting > firstPersist, "its state was stored before the server was said to start");
      assert.equal(main.launch.phases().at(-1), "starting");
      const progress = said.flatMap((s) => (s.kind === "progress" ? [s.progress] : []));
      assert.equal(progress.at(-1), 100);
    },
  );

  it("polls the running server as running, where it listens", { skip: suite.skip("poll") }, async () => {
    const polled = await suite.launcher.poll(main.spec.userName, main.result.state);
    assert.equal(polled.status, "running", JSON.stringify(polled));
    assert.deepEqual(polled.status === "running" ? polled.target : undefined, main.result.target);
  });

  it("shows the last lines of the server's log, without its token", { skip: suite.skip("log") }, async () => {
    const text = await suite.launcher.logTail(main.spec.userName, main.result.state, 50);
    assert.match(text, /Jupyter|jupyter/);
    assert.ok(!text.includes(main.spec.token));
  });

  it(
    "is found from its attempt id alone by a restarted hub's launcher, and nothing for another attempt",
    { skip: suite.skip("adopt") },
    async () => {
      const restarted = suite.fixture.launcher({ startTimeoutMs: suite.fixture.startTimeoutMs });
      const { userName, attemptId, serverId } = main.spec;
      const found = await restarted.recover(userName, attemptId, serverId);
      assert.ok(found, "the running server is found");
      const polled = await restarted.poll(userName, found);
      assert.ok(["running", "pending"].includes(polled.status), JSON.stringify(polled));
      assert.equal(
        await restarted.recover(userName, "00000000-0000-4000-8000-000000000000", serverId),
        undefined,
      );
    },
  );

  it(
    "stops the server, which then no longer answers and polls as gone; a second stop is harmless",
    { skip: suite.skip("stop") },
    async () => {
      const { userName } = main.spec;
      await suite.launcher.stop(userName, main.result.state);
      const polled = await pollUntilGone(suite.launcher, userName, main.result.state, suite.fixture.settleMs);
      assert.equal(polled.status, "gone", JSON.stringify(polled));
      assert.notEqual(await status(main.spec.token), 200);
      await suite.launcher.stop(userName, main.result.state);
    },
  );
}

/** A queue wait is a state, not a timeout (architecture invariant 3). */
function queueCases(suite: Suite): void {
  it(
    "says the launch is queued while its job waits, and runs no start timeout meanwhile",
    { skip: suite.skip("queued") },
    async () => {
      const { fixture } = suite;
      assert.ok(fixture.holdQueue, "the fixture can hold the queue");
      const release = await fixture.holdQueue();
      const { launch, started } = suite.start(suite.launcher, QUEUED_TIMEOUT_MS);
      try {
        // The condition under test is time passing in the queue: longer than the start timeout.
        await new Promise((resolve) => setTimeout(resolve, QUEUED_TIMEOUT_MS * 1.5));
        assert.equal(launch.aborted, false, "a queue wait is a state, not a timeout");
        assert.equal(launch.phases().at(-1), "queued");
      } finally {
        await release();
      }
      // Once its job runs, the whole start timeout is the server's.
      const result = await started;
      assert.equal(launch.phases().at(-1), "starting");
      const path = `${launch.spec.baseUrl}api/status`;
      assert.equal(await fixture.probe(result.target, path, launch.spec.token, 5_000), 200);
    },
  );
}

/** Starts that fail, and leave nothing running behind them. */
function failureCases(suite: Suite): void {
  it(
    "fails a server that exits before it answers, with the end of its log, and leaves nothing",
    { skip: suite.skip("exits") },
    async () => {
      const failing = suite.fixture.launcher({
        command: EXITS,
        startTimeoutMs: suite.fixture.startTimeoutMs,
      });
      const { launch, started } = suite.start(failing, suite.fixture.startTimeoutMs);
      await assert.rejects(started, (err: unknown) => {
        assert.ok(isSlipwayError(err), String(err));
        assert.equal(err.code, "launch_failed");
        assert.match(err.message, /no such option/);
        return true;
      });
      await suite.nothingLeft(failing, launch.spec);
    },
  );

  it(
    "gives up on a server that does not answer within the start timeout, and leaves nothing",
    { skip: suite.skip("timeout") },
    async () => {
      const silent = suite.fixture.launcher({ command: SILENT, startTimeoutMs: SHORT_TIMEOUT_MS });
      const { launch, started } = suite.start(silent, SHORT_TIMEOUT_MS);
      await assert.rejects(started);
      await suite.nothingLeft(silent, launch.spec);
    },
  );
}
