import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { startServer } from "../support/start-server.js";
import { LOG_DIR, rememberSecret, removeDir, REPO, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

interface AuditEventModel {
  id: number;
  at: string;
  kind: string;
  actor: string | null;
  subject: string | null;
  reason: string | null;
  address: string | null;
  details: Record<string, unknown>;
}

/**
 * Runs the slipway command (from source) and resolves with what it printed; rejects unless it
 * exits 0. Asynchronous, so the test's idle connections to the hub see the hub close them.
 */
function slipway(...args: string[]): Promise<string> {
  const argv = ["--import", "tsx", join(REPO, "src/cli.ts"), ...args];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`slipway ${args.join(" ")}: ${stderr}`, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

/** The secret of a set-up link in an answer of the API. */
function setupSecret(body: unknown): string {
  const url = (body as { setup_url: string }).setup_url;
  return new URL(url).pathname.split("/").pop() ?? "";
}

interface AuditPage {
  events: AuditEventModel[];
  next: string | null;
}

describe("the audit trail: what is recorded, the API, the export and the page", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let adminToken: string;
  let aliceToken: string;
  const startedAt = new Date();

  const as = (token: string, method: string, path: string, body?: unknown) =>
    tokenFetch(hub.url, token, method, path, body);

  /** A page of the trail as the admin reads it; fails unless the API answers 200. */
  const audit = async (query: string): Promise<AuditPage> => {
    const res = await as(adminToken, "GET", `/hub/api/audit${query}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as AuditPage;
  };

  before(async () => {
    hub = await startTestHub({}, { name: "audit" });
    admin = await firstAdmin(hub);
    adminToken = await apiToken(admin);
    alice = await addUser(hub, admin.client, "alice");
    aliceToken = await apiToken(alice);
  });

  after(async () => {
    await as(aliceToken, "DELETE", "/hub/api/users/alice/server").catch(() => undefined);
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("records the configuration the hub started with: its auth type and a fingerprint", async () => {
    const { events } = await audit("?kind=config_reloaded");
    assert.equal(events.length, 1);
    const [event] = events;
    assert.deepEqual([event?.actor, event?.subject, event?.reason], [null, null, "hub_started"]);
    assert.equal(event?.details["authType"], "local");
    assert.match(String(event?.details["configSha256"]), /^[0-9a-f]{64}$/);
  });

  it("records the first admin, made through the hub's one-time link by nobody signed in", async () => {
    const { events } = await audit("?user=admin&kind=admin_action");
    const made = events.find((e) => e.reason === "user_created" && e.subject === "admin");
    assert.deepEqual(
      [made?.actor, made?.subject, made?.address, made?.details],
      [null, "admin", "127.0.0.1", { admin: true, firstAdminLink: true }],
    );
  });

  it("records a token created and revoked by its owner: its id and note, never the token", async () => {
    const res = await as(aliceToken, "POST", "/hub/api/users/alice/tokens", { note: "for the audit" });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { id: string; token: string };
    rememberSecret(created.token);
    assert.equal((await as(aliceToken, "DELETE", `/hub/api/users/alice/tokens/${created.id}`)).status, 204);

    const { events } = await audit("?user=alice&kind=token_created,token_revoked&limit=2");
    const [revoked, made] = events;
    assert.deepEqual(
      [made?.kind, made?.actor, made?.subject, made?.address],
      ["token_created", "alice", null, "127.0.0.1"],
    );
    assert.deepEqual([made?.details["tokenId"], made?.details["note"]], [created.id, "for the audit"]);
    assert.deepEqual(
      [revoked?.kind, revoked?.actor, revoked?.details["tokenId"], revoked?.details["note"]],
      ["token_revoked", "alice", created.id, "for the audit"],
    );
    const prefix = created.token.slice(4, 10);
    assert.ok(!JSON.stringify(events).includes(created.token), "the token is not in the trail");
    assert.ok(!JSON.stringify(events).includes(prefix), "nor is its prefix");
  });

  it("records a token an admin made for someone else, with the owner as subject", async () => {
    const res = await as(adminToken, "POST", "/hub/api/users/alice/tokens", { note: "from admin" });
    assert.equal(res.status, 201);
    rememberSecret(((await res.json()) as { token: string }).token);
    const [event] = (await audit("?kind=token_created&limit=1")).events;
    assert.deepEqual(
      [event?.actor, event?.subject, event?.details["note"]],
      ["admin", "alice", "from admin"],
    );
  });

  it("records each administrative action on an account with a stable reason code", async () => {
    const carol = await as(adminToken, "POST", "/hub/api/users/carol", {});
    assert.equal(carol.status, 201);
    rememberSecret(setupSecret(await carol.json()));
    const patch = (body: unknown) => as(adminToken, "PATCH", "/hub/api/users/carol", body);
    assert.equal((await patch({ admin: true })).status, 200);
    assert.equal((await patch({ admin: true })).status, 200, "no change: nothing recorded");
    assert.equal((await patch({ admin: false, disabled: true })).status, 200);
    assert.equal((await patch({ disabled: false })).status, 200);
    const link = await as(adminToken, "POST", "/hub/api/users/carol/setup-link");
    assert.equal(link.status, 201);
    rememberSecret(setupSecret(await link.json()));
    assert.equal((await as(adminToken, "DELETE", "/hub/api/users/carol")).status, 204);

    const { events } = await audit("?user=carol&kind=admin_action");
    assert.deepEqual(
      events.reverse().map((e) => [e.actor, e.subject, e.reason, e.address]),
      [
        "user_created",
        "user_made_admin",
        "user_admin_removed",
        "user_disabled",
        "user_enabled",
        "setup_link_issued",
        "user_deleted",
      ].map((reason) => ["admin", "carol", reason, "127.0.0.1"]),
    );
    assert.deepEqual(events[0]?.details, { admin: false });
  });

  it("records a server started and stopped by its owner, and stopped by an admin", async () => {
    await startServer(hub.url, aliceToken, "alice");
    const stop = await as(aliceToken, "DELETE", "/hub/api/users/alice/server");
    assert.ok([202, 204].includes(stop.status));
    await startServer(hub.url, aliceToken, "alice");
    const byAdmin = await as(adminToken, "DELETE", "/hub/api/users/alice/server");
    assert.ok([202, 204].includes(byAdmin.status));

    const { events } = await audit("?user=alice&kind=server_started,server_stopped");
    assert.deepEqual(
      events
        .reverse()
        .map((e) => [e.kind, e.actor, e.subject, e.reason, e.details["server"], e.details["target"]]),
      [
        ["server_started", "alice", null, null, "", "local"],
        ["server_stopped", "alice", null, "stopped_by_user", "", "local"],
        ["server_started", "alice", null, null, "", "local"],
        ["server_stopped", "admin", "alice", "stopped_by_admin", "", "local"],
      ],
    );
  });

  it("records what the slipway command does on the hub's host: no actor, via cli", async () => {
    const link = await slipway("user", "add", "dave", "--data-dir", hub.dataDir);
    rememberSecret(link.split("/").pop() ?? "");
    const token = await slipway(
      "token",
      "create",
      "dave",
      "--note",
      "from the shell",
      "--data-dir",
      hub.dataDir,
    );
    rememberSecret(token);
    const { events } = await audit("?user=dave");
    assert.deepEqual(
      events.reverse().map((e) => [e.kind, e.actor, e.subject, e.reason, e.address, e.details["via"]]),
      [
        ["admin_action", null, "dave", "user_created", null, "cli"],
        ["token_created", null, "dave", null, null, "cli"],
      ],
    );
    assert.equal(events[1]?.details["note"], "from the shell");
  });

  it("filters by user, by kinds (repeated or comma-separated) and by time", async () => {
    const byUser = await audit("?user=alice&limit=500");
    assert.ok(byUser.events.length > 0);
    assert.ok(byUser.events.every((e) => e.actor === "alice" || e.subject === "alice"));
    const comma = await audit("?kind=token_created,server_started&limit=500");
    const repeated = await audit("?kind=token_created&kind=server_started&limit=500");
    assert.deepEqual(comma, repeated);
    assert.deepEqual(new Set(comma.events.map((e) => e.kind)), new Set(["token_created", "server_started"]));

    const all = await audit("?limit=500");
    assert.equal((await audit(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).events.length, 0);
    assert.equal((await audit(`?until=${startedAt.toISOString()}`)).events.length, 0);
    const window = await audit(
      `?since=${startedAt.toISOString()}&until=${new Date().toISOString()}&limit=500`,
    );
    assert.deepEqual(window.events, all.events);
  });

  it("walks every page with the cursor, newest first, without a repeat or a gap", async () => {
    const whole = (await audit("?limit=500")).events.map((e) => e.id);
    assert.ok(whole.length > 12, `only ${whole.length} events: too few to page through`);
    const walked: number[] = [];
    let cursor: string | null = "";
    for (let pages = 0; cursor !== null; pages++) {
      assert.ok(pages <= whole.length, "the cursor never ends");
      const page: AuditPage = await audit(`?limit=3${cursor === "" ? "" : `&before=${cursor}`}`);
      assert.ok(page.events.length <= 3);
      walked.push(...page.events.map((e) => e.id));
      cursor = page.next;
    }
    assert.deepEqual(walked, whole);
    assert.deepEqual(
      [...walked].sort((a, b) => b - a),
      walked,
      "newest (highest id) first",
    );
  });

  it("exports the same events as JSON lines, as an attachment", async () => {
    const query = "?user=alice&kind=token_created,token_revoked,server_started,server_stopped";
    const res = await as(adminToken, "GET", `/hub/api/audit/export${query}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/x-ndjson/);
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /^attachment; filename="slipway-audit-\d{4}-\d{2}-\d{2}\.jsonl"$/,
    );
    const text = await res.text();
    assert.ok(text.endsWith("\n"));
    const lines = text.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as AuditEventModel),
      (await audit(`${query}&limit=500`)).events,
    );
  });

  it("exports the whole trail when no filter is given", async () => {
    const res = await as(adminToken, "GET", "/hub/api/audit/export");
    const exported = (await res.text())
      .trimEnd()
      .split("\n")
      .map((line) => (JSON.parse(line) as AuditEventModel).id);
    assert.deepEqual(
      exported,
      (await audit("?limit=500")).events.map((e) => e.id),
    );
  });

  it("answers a non-admin with 403, and bad filters with 400 and a stable code", async () => {
    for (const path of ["/hub/api/audit", "/hub/api/audit/export"]) {
      const res = await as(aliceToken, "GET", path);
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { code: string }).code, "forbidden");
    }
    const page = await alice.client.page("/hub/admin/audit");
    assert.equal(page.res.status, 403);
    const bad: [string, string][] = [
      ["?kind=sign_in,nonsense", "validation_failed"],
      ["?since=last-tuesday", "validation_failed"],
      ["?until=2026-02-30", "validation_failed"],
      ["?limit=0", "validation_failed"],
      ["?limit=501", "validation_failed"],
      ["?before=abc", "validation_failed"],
      ["?kinds=sign_in", "unknown_field"],
    ];
    for (const [query, code] of bad) {
      const res = await as(adminToken, "GET", `/hub/api/audit${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(((await res.json()) as { code: string }).code, code, query);
    }
    const exported = await as(adminToken, "GET", "/hub/api/audit/export?limit=5");
    assert.equal(exported.status, 400);
  });

  it("keeps no secret the suites handled in any event", async () => {
    const secrets = readFileSync(join(LOG_DIR, "secrets.txt"), "utf8")
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s.length >= 12);
    const text = await (await as(adminToken, "GET", "/hub/api/audit/export")).text();
    assert.ok(secrets.length > 5 && text.length > 0);
    assert.deepEqual(
      secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 6)}…`),
      [],
    );
    assert.doesNotMatch(text, /pw-[a-z0-9._-]*-correct-horse/);
  });
});

describe("the audit trail's page", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let adminToken: string;

  before(async () => {
    hub = await startTestHub({}, { name: "audit-page" });
    admin = await firstAdmin(hub);
    adminToken = await apiToken(admin);
    const bob = await addUser(hub, admin.client, "bob");
    const token = await tokenFetch(hub.url, await apiToken(bob), "POST", "/hub/api/users/bob/tokens", {
      note: `<script>alert("x")</script>`,
    });
    rememberSecret(((await token.json()) as { token: string }).token);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("is linked from the admin page", async () => {
    const { html } = await admin.client.page("/hub/admin");
    assert.match(html, /<a href="\/hub\/admin\/audit"/);
  });

  it("shows the events newest first, with the filters filled in and every value escaped", async () => {
    const { res, html } = await admin.client.page("/hub/admin/audit?user=bob&kind=token_created");
    assert.equal(res.status, 200);
    const kinds = [...html.matchAll(/<tr data-event="(\d+)" data-kind="([a-z_]+)"/g)];
    assert.ok(kinds.length >= 2, "bob's token from the account helper and the one with the odd note");
    assert.ok(kinds.every(([, , kind]) => kind === "token_created"));
    assert.match(html, /name="user" value="bob"/);
    assert.match(html, /<option value="token_created" selected>/);
    assert.doesNotMatch(html, /<option value="sign_in" selected>/);
    assert.ok(!html.includes(`<script>alert("x")</script>`), "the note is escaped");
    assert.ok(html.includes("note=&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert.match(html, /href="\/hub\/api\/audit\/export\?user=bob&amp;kind=token_created"/);
  });

  it("pages back with Older and returns with Newest, keeping the filters", async () => {
    const first = await admin.client.page("/hub/admin/audit?kind=token_created,admin_action&limit=1");
    const older = /<a id="audit-older" href="([^"]+)"/.exec(first.html)?.[1]?.replaceAll("&amp;", "&");
    assert.ok(older, "an Older link");
    assert.match(older, /kind=token_created%2Cadmin_action/);
    assert.match(older, /limit=1/);
    const second = await admin.client.page(older);
    assert.equal(second.res.status, 200);
    const ids = (html: string) => [...html.matchAll(/<tr data-event="(\d+)"/g)].map((m) => Number(m[1]));
    assert.ok((ids(second.html)[0] ?? Infinity) < (ids(first.html)[0] ?? 0), "older events on the next page");
    const newest = /<a id="audit-newest" href="([^"]+)"/.exec(second.html)?.[1]?.replaceAll("&amp;", "&");
    assert.equal(newest, "/hub/admin/audit?kind=token_created%2Cadmin_action&limit=1");
    assert.doesNotMatch(first.html, /id="audit-newest"/, "the first page has no Newest link");
  });

  it("says what is wrong with a filter, with a 400, instead of showing everything", async () => {
    const { res, html } = await admin.client.page("/hub/admin/audit?kind=nonsense");
    assert.equal(res.status, 400);
    assert.match(html, /id="audit-error"[^>]*>kind: unknown kind &quot;nonsense&quot;/);
    assert.doesNotMatch(html, /<tr data-event=/);
  });

  it("sends a visitor who is not signed in to the sign-in page", async () => {
    const res = await fetch(`${hub.url}/hub/admin/audit`, { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.match(res.headers.get("location") ?? "", /^\/hub\/login\?next=/);
    assert.equal((await tokenFetch(hub.url, adminToken, "GET", "/hub/admin/audit")).status, 302);
  });
});
