import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { launchChromium, screenshot } from "../support/chromium.js";
import {
  allJobs,
  cancelHubJobs,
  cancelJob,
  fillDebugAsBob,
  isLive,
  serverModelOf,
  slurmHubConfig,
  slurmSkipReason,
  until,
} from "../support/slurm-cluster.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const SUITE = "in a browser: the Slurm spawn form, a server's time limit and a queued server";
const skip = slurmSkipReason(SUITE);
const STEP_TIMEOUT_MS = 30_000;
/** A batch job and Jupyter in it take seconds to come up; this bounds the wait, it is not a sleep. */
const SERVER_TIMEOUT_MS = 120_000;

describe(SUITE, { skip: skip ?? false, timeout: 600_000 }, () => {
  let hub: TestHub;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceToken = "";
  let filler: string | undefined;

  /** A browser page signed in as `who`, with the session the API client already holds. */
  const pageAs = async (who: SignedIn): Promise<Page> => {
    const context = await browser.newContext({ baseURL: hub.url });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    contexts.push(context);
    await context.addCookies([...who.client.cookies].map(([name, value]) => ({ name, value, url: hub.url })));
    return context.newPage();
  };

  const partitionOptions = async (page: Page) =>
    Promise.all(
      (await page.locator('select[name="partition"] option').all()).map((o) => o.getAttribute("value")),
    );
  const field = (page: Page, name: string) => page.locator(`[data-field="${name}"]`);
  const input = (page: Page, name: string) => page.locator(`input[name="${name}"]`);

  before(async () => {
    hub = await startTestHub(
      // Warn 20 minutes before the limit, so a 10-minute server is warned as soon as it runs.
      slurmHubConfig({ walltimeWarnings: [1200, 60] }),
      { name: "browser-slurm", slowSpawnWaitMs: 2_000 },
    );
    const admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    bob = await addUser(hub, admin.client, "bob");
    aliceToken = await apiToken(alice);
    browser = await launchChromium();
  });

  after(async () => {
    cancelJob(filler);
    for (const context of contexts) await context.close();
    await browser?.close();
    if (hub) {
      for (const server of ["wall", "waits"]) {
        await tokenFetch(hub.url, aliceToken, "DELETE", `/hub/api/users/alice/servers/${server}`).catch(
          () => undefined,
        );
      }
      await hub.stop();
      cancelHubJobs(hub.dataDir);
      removeDir(hub.dataDir);
    }
  });

  it("offers alice gpu with a GPU field, and bounds the fields by the partition she switches to", async () => {
    const page = await pageAs(alice);
    await page.goto("/hub/spawn/alice/form?target=lab");
    assert.ok(await page.locator('input[name="target"][value="lab"]').isChecked());
    assert.deepEqual(await partitionOptions(page), ["debug", "gpu"]);
    // debug has no GPUs: no GPU field, and its own 12-hour MaxTime bounds the runtime.
    assert.equal(await page.locator('select[name="partition"]').inputValue(), "debug");
    assert.ok(await field(page, "gpus").isHidden());
    assert.equal(await input(page, "runtime").getAttribute("max"), "720");

    await page.locator('select[name="partition"]').selectOption("gpu");
    await field(page, "gpus").waitFor({ state: "visible" });
    assert.equal(await input(page, "gpus").getAttribute("max"), "4");
    assert.ok(await input(page, "gpus").isEnabled());
    assert.equal(await input(page, "runtime").getAttribute("max"), "240");
    assert.equal(await input(page, "cpus").getAttribute("max"), "8");
    assert.match((await field(page, "runtime").textContent()) ?? "", /at most 240/);

    // A runtime beyond gpu's limit is brought back within it when switching there.
    await page.locator('select[name="partition"]').selectOption("debug");
    await input(page, "runtime").fill("600");
    await page.locator('select[name="partition"]').selectOption("gpu");
    assert.equal(await input(page, "runtime").inputValue(), "240");
    await page.locator('select[name="partition"]').selectOption("debug");
    assert.ok(await field(page, "gpus").isHidden());
    assert.ok(await input(page, "gpus").isDisabled(), "a hidden GPU field is not submitted");
    await screenshot(page, "browser-slurm-form-alice");
  });

  it("pre-selects the target, partition and numbers a spawn URL names, and ignores bad ones", async () => {
    const page = await pageAs(alice);
    await page.goto("/hub/spawn/alice/form?partition=gpu&gpus=2&runtime=99");
    assert.ok(await page.locator('input[name="target"][value="lab"]').isChecked());
    assert.equal(await page.locator('select[name="partition"]').inputValue(), "gpu");
    assert.equal(await input(page, "gpus").inputValue(), "2");
    assert.equal(await input(page, "runtime").inputValue(), "99");

    const res = await page.goto(
      "/hub/spawn/alice/form?target=lab&partition=nosuch&gpus=99&cpus=-1&runtime=100000&memory=1%0A%23SBATCH",
    );
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('select[name="partition"]').inputValue(), "debug");
    assert.equal(await input(page, "cpus").inputValue(), "1");
    assert.equal(await input(page, "memory").inputValue(), "512");
    assert.equal(await input(page, "runtime").inputValue(), "60");
    assert.ok(!(await page.content()).includes("nosuch"));
  });

  it("does not offer bob the gpu partition, not even when the URL names it", async () => {
    const page = await pageAs(bob);
    await page.goto("/hub/spawn/bob/form?target=lab&partition=gpu&gpus=1");
    assert.ok(await page.locator('input[name="target"][value="lab"]').isChecked());
    assert.deepEqual(await partitionOptions(page), ["debug"]);
    assert.ok(await field(page, "gpus").isHidden());
    await screenshot(page, "browser-slurm-form-bob");
  });

  it("shows a running server's time left on the home page, live, and warns before its time limit", async () => {
    const page = await pageAs(alice);
    await page.goto("/hub/spawn/alice/wall?target=lab&partition=gpu&gpus=1&runtime=10");
    await page.getByRole("button", { name: "Start" }).click();
    await page.waitForURL("**/hub/spawn-pending/alice/wall");
    // The home page follows the launch over server-sent events, without a reload.
    await page.goto("/hub/home");
    const row = page.locator('tr[data-server="wall"]');
    await page
      .locator('tr[data-server="wall"][data-state="running"]')
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    const remaining = row.locator('[data-role="remaining"]');
    await remaining.waitFor({ state: "visible" });
    assert.match((await remaining.textContent()) ?? "", /^ends at .+ \((9|10) min left\)$/);
    const warning = page.locator('#walltime-warnings [data-server="wall"]');
    await warning.waitFor({ state: "visible" });
    assert.match(
      (await warning.textContent()) ?? "",
      /^Your server wall reaches its time limit in (9|10) min, at .+: the cluster will stop it then\. Save your work\./,
    );
    assert.equal(await page.locator("#walltime-warnings").getAttribute("role"), "alert");
    const model = await serverModelOf(hub.url, aliceToken, "alice", "wall");
    assert.equal(model.slipway.state, "running");
    await screenshot(page, "browser-slurm-walltime-warning");

    await warning.getByRole("button", { name: "Dismiss" }).click();
    await warning.waitFor({ state: "detached" });
    await page.reload();
    await remaining.waitFor({ state: "visible" });
    assert.equal(await warning.count(), 0, "a dismissed warning stays dismissed");

    await row.getByRole("button", { name: "Stop" }).click();
    await page
      .locator('tr[data-server="wall"][data-state="stopped"]')
      .waitFor({ timeout: SERVER_TIMEOUT_MS });
    assert.ok(await remaining.isHidden());
  });

  it("shows a server queued behind a full partition with its job id and reason in words, and cancels it", async () => {
    filler = await fillDebugAsBob();
    const page = await pageAs(alice);
    await page.goto("/hub/spawn/alice/waits?target=lab&partition=debug&runtime=20");
    await page.getByRole("button", { name: "Start" }).click();
    await page.waitForURL("**/hub/spawn-pending/alice/waits");
    const reason = page.locator("#pending-reason");
    await until(
      async () =>
        (await page.locator("#pending-state").textContent()) === "queued" &&
        /^Job \d+ is queued in debug: /.test((await reason.textContent()) ?? ""),
      60_000,
      "the pending page shows the job and why it waits",
    );
    const text = (await reason.textContent()) ?? "";
    const match = /^Job (\d+) is queued in debug: (.+) \((Resources|Priority|None)\)/.exec(text);
    assert.ok(match, text);
    const [, jobId = "", words = ""] = match;
    assert.match(words, /\w+ \w+ \w+/, "the reason is in words, not only Slurm's code");
    const job = allJobs().find((j) => j.jobId === jobId);
    assert.equal(job?.state, "PENDING");
    assert.equal(job?.user, "alice");
    await screenshot(page, "browser-slurm-queued");

    await page.getByRole("button", { name: "Cancel" }).click();
    await page.waitForURL("**/hub/home");
    await until(() => !allJobs().some((j) => j.jobId === jobId && isLive(j)), 30_000, "the job is gone");
    const model = await serverModelOf(hub.url, aliceToken, "alice", "waits");
    assert.equal(model.slipway.state, "stopped");
    await page.locator('tr[data-server="waits"][data-state="stopped"]').waitFor();
  });
});
