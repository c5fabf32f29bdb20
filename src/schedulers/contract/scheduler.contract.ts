import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRef, JobStatus, Scheduler, ServerJobRequest } from "../../ports/scheduler.js";

/**
 * The behaviour every adapter of the `Scheduler` port must have, run against a real scheduler
 * (Slurm's test cluster) or a faithful emulator of its command-line tools (HTCondor's). Jobs run
 * the real job agent; their "Jupyter" is a shell that sleeps or exits, so no server is needed.
 */

/** The cases, by name, so that an implementation can say which it skips and why. */
export type SchedulerCase =
  "submit" | "refuse" | "batched" | "cancel" | "exit" | "left-the-queue" | "never-known" | "find" | "unknown";

/** How one implementation plugs into the contract suite. */
export interface SchedulerHarness {
  /** Why the whole suite cannot run here (its scheduler is missing), or undefined. */
  readonly skip: string | undefined;
  /** Cases this implementation skips, each with its reason. */
  readonly skips?: Partial<Record<SchedulerCase, string>>;
  open(): Promise<SchedulerFixture>;
}

export interface SchedulerFixture {
  readonly scheduler: Scheduler;
  /** A job request of a test user's, in a queue where it starts at once, running `command`. */
  request(command: readonly string[]): Promise<ServerJobRequest>;
  /** How many batched status queries (squeue, condor_q) the scheduler has run so far. */
  statusQueries(): number;
  /** Makes every command of the scheduler fail as when its controller is down, or ends that. */
  outage(on: boolean): void;
  /** A job id the scheduler never had. */
  readonly neverKnownJobId: string;
  /** An ended job the scheduler's queue no longer lists, how it ended, when the implementation has one. */
  leftTheQueue?(): Promise<{ readonly ref: JobRef; readonly failed: boolean }>;
  /** How long a job may take to start, or to end once it was told to. */
  readonly settleMs: number;
  dispose(): Promise<void>;
}

/** The job's "Jupyter": the agent adds `--config=<file>`, which the shell takes as `$0`. */
const SLEEPS = ["/bin/sh", "-c", "sleep 300"];
const EXITS = (code: number) => ["/bin/sh", "-c", `exit ${code}`];

type State = JobStatus["state"];

/** Asks for the job's status until `done` holds of it, for at most `ms`; the last status. */
async function statusUntil(
  scheduler: Scheduler,
  ref: JobRef,
  done: (status: JobStatus) => boolean,
  ms: number,
): Promise<JobStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    // Each call waits for the scheduler's next batched query: no sleep is needed between them.
    const status = await scheduler.status(ref);
    if (done(status) || Date.now() > deadline) return status;
  }
}

const is =
  (...states: State[]) =>
  (status: JobStatus) =>
    states.includes(status.state);

/** What the cases of one run share: its fixture, and the jobs they submitted (cancelled at the end). */
interface Suite {
  fixture(): SchedulerFixture;
  /** Submits a job running `command`, which must be accepted. */
  submit(command: readonly string[]): Promise<JobRef>;
  /** Remembers a job to cancel at the end. */
  track(ref: JobRef): void;
  skip(c: SchedulerCase): string | false;
}

/** Registers the behaviour every scheduler adapter must have, for one implementation. */
export function schedulerContract(name: string, harness: SchedulerHarness): void {
  describe(`${name}: the Scheduler contract`, { skip: harness.skip ?? false }, () => {
    let fixture: SchedulerFixture | undefined;
    const submitted: JobRef[] = [];
    const suite: Suite = {
      fixture: () => fixture ?? assert.fail("the fixture is not open"),
      async submit(command) {
        const request = await suite.fixture().request(command);
        const outcome = await suite.fixture().scheduler.submit(request);
        assert.ok(outcome.state === "submitted", JSON.stringify(outcome));
        const ref = { jobId: outcome.jobId, userName: request.userName, serverId: request.serverId };
        submitted.push(ref);
        return ref;
      },
      track: (ref) => submitted.push(ref),
      skip: (c) => harness.skips?.[c] ?? false,
    };

    before(async () => {
      fixture = await harness.open();
    });
    after(async () => {
      if (!fixture) return;
      fixture.outage(false);
      for (const ref of submitted) await fixture.scheduler.cancel(ref);
      await fixture.dispose();
    });

    submittingCases(suite);
    endingCases(suite);
    unknownCases(suite);
  });
}

/** Submitting, refusing, finding, and the one batched query. */
function submittingCases(suite: Suite): void {
  it(
    "submits a job as its user, which runs on a host until its time limit",
    { skip: suite.skip("submit") },
    async () => {
      const { scheduler, settleMs } = suite.fixture();
      const ref = await suite.submit(SLEEPS);
      const status = await statusUntil(scheduler, ref, is("running"), settleMs);
      assert.ok(status.state === "running", JSON.stringify(status));
      assert.ok(status.host, "the scheduler names the host the server listens on");
      assert.ok(status.endsAt !== undefined && status.endsAt > Date.now() / 1000, "with its end");
    },
  );

  it(
    "refuses values that could add a line or a flag, and submits nothing",
    { skip: suite.skip("refuse") },
    async () => {
      const f = suite.fixture();
      const { scheduler } = f;
      const valid = await f.request(SLEEPS);
      for (const queue of ["debug\n#SBATCH --uid=0", "--partition=gpu", "debug cpu"]) {
        const outcome = await scheduler.submit({ ...valid, resources: { ...valid.resources, queue } });
        assert.equal(outcome.state, "refused", `${JSON.stringify(queue)}: ${JSON.stringify(outcome)}`);
      }
      assert.deepEqual(await scheduler.find(valid.userName, valid.serverId, valid.attemptId), {
        state: "none",
      });
    },
  );

  it("answers questions about many jobs with one query", { skip: suite.skip("batched") }, async () => {
    const f = suite.fixture();
    const { scheduler } = f;
    const refs = await Promise.all([suite.submit(SLEEPS), suite.submit(SLEEPS), suite.submit(SLEEPS)]);
    // Let a query that was already due go by, then ask about every job at once.
    await scheduler.status(refs[0] ?? assert.fail());
    const before = f.statusQueries();
    const statuses = await Promise.all(refs.map((ref) => scheduler.status(ref)));
    assert.equal(f.statusQueries() - before, 1, "one query for all the jobs");
    for (const status of statuses) assert.ok(is("queued", "running")(status), JSON.stringify(status));
  });

  it(
    "finds the job an attempt submitted, and nothing for another attempt",
    { skip: suite.skip("find") },
    async () => {
      const f = suite.fixture();
      const { scheduler } = f;
      const sent = await f.request(SLEEPS);
      const outcome = await scheduler.submit(sent);
      assert.ok(outcome.state === "submitted", JSON.stringify(outcome));
      suite.track({ jobId: outcome.jobId, userName: sent.userName, serverId: sent.serverId });
      const found = await scheduler.find(sent.userName, sent.serverId, sent.attemptId);
      assert.ok(found.state === "found", JSON.stringify(found));
      assert.deepEqual([found.job.jobId, found.job.queue], [outcome.jobId, sent.resources.queue]);
      const other = await scheduler.find(
        sent.userName,
        sent.serverId,
        "00000000-0000-4000-8000-000000000000",
      );
      assert.deepEqual(other, { state: "none" });
    },
  );
}

/** How a job ends, and what is said of one that is gone. */
function endingCases(suite: Suite): void {
  it(
    "cancels a job as its owner, which then ends without failure",
    { skip: suite.skip("cancel") },
    async () => {
      const { scheduler, settleMs } = suite.fixture();
      const ref = await suite.submit(SLEEPS);
      await statusUntil(scheduler, ref, is("running"), settleMs);
      assert.deepEqual(await scheduler.cancel(ref), { state: "cancelled" });
      const status = await statusUntil(scheduler, ref, is("ended", "missing"), settleMs);
      assert.ok(status.state === "ended", JSON.stringify(status));
      assert.equal(status.failed, false);
      assert.match(status.reason, /cancel/);
      assert.deepEqual(await scheduler.cancel(ref), { state: "cancelled" }, "a second cancel is harmless");
    },
  );

  it(
    "says how a job that exits by itself ended: failed by a non-zero exit only",
    { skip: suite.skip("exit") },
    async () => {
      const { scheduler, settleMs } = suite.fixture();
      const refs = await Promise.all([suite.submit(EXITS(0)), suite.submit(EXITS(3))]);
      const [zero, three] = await Promise.all(
        refs.map((ref) => statusUntil(scheduler, ref, is("ended", "missing"), settleMs)),
      );
      assert.ok(zero?.state === "ended" && !zero.failed, JSON.stringify(zero));
      assert.ok(three?.state === "ended" && three.failed, JSON.stringify(three));
    },
  );

  it(
    "says how a job that left the queue ended, from the scheduler's records",
    { skip: suite.skip("left-the-queue") },
    async () => {
      const { scheduler, leftTheQueue } = suite.fixture();
      assert.ok(leftTheQueue, "the fixture has a job that left the queue");
      const { ref, failed } = await leftTheQueue();
      const status = await scheduler.status(ref);
      assert.ok(status.state === "ended", JSON.stringify(status));
      assert.equal(status.failed, failed);
    },
  );

  it("says a job it never had is missing, not unknown", { skip: suite.skip("never-known") }, async () => {
    const f = suite.fixture();
    const { userName, serverId } = await f.request(SLEEPS);
    const status = await f.scheduler.status({ jobId: f.neverKnownJobId, userName, serverId });
    assert.equal(status.state, "missing", JSON.stringify(status));
  });
}

/** Unknown is not dead (architecture invariant 2). */
function unknownCases(suite: Suite): void {
  it(
    "says unknown while the scheduler cannot be asked, and stops nothing",
    { skip: suite.skip("unknown") },
    async () => {
      const f = suite.fixture();
      const { scheduler, settleMs } = f;
      const ref = await suite.submit(SLEEPS);
      await statusUntil(scheduler, ref, is("running"), settleMs);
      f.outage(true);
      try {
        const status = await scheduler.status(ref);
        assert.ok(status.state === "unknown" && status.reason !== "", JSON.stringify(status));
        assert.equal((await scheduler.cancel(ref)).state, "unknown");
        assert.equal((await scheduler.find(ref.userName, ref.serverId, "x")).state, "unknown");
        assert.equal((await scheduler.submit(await f.request(SLEEPS))).state, "unknown");
      } finally {
        f.outage(false);
      }
      const after = await scheduler.status(ref);
      assert.equal(after.state, "running", "the job kept running through the outage");
    },
  );
}
