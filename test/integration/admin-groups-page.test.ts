import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../../src/store/open-store.js";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { field, hiddenField } from "../support/hub-client.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

const PAGE = "/hub/admin/groups";

describe("the admin page of groups", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let adminToken: string;

  /** The page, and the XSRF token of its forms. */
  const groupsPage = async (who: SignedIn = admin) => {
    const { res, html } = await who.client.page(PAGE);
    return { res, html, xsrf: res.status === 200 ? field(html, hiddenField("_xsrf")) : "" };
  };
  const submit = async (path: string, fields: Record<string, string>, who: SignedIn = admin) =>
    who.client.postForm(path, { _xsrf: (await groupsPage(who)).xsrf, ...fields });
  const membersOf = async (name: string) => {
    const res = await tokenFetch(hub.url, adminToken, "GET", `/hub/api/groups/${name}`);
    return res.status === 200 ? ((await res.json()) as { users: string[] }).users : undefined;
  };

  before(async () => {
    hub = await startTestHub({}, { name: "admin-groups" });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    adminToken = await apiToken(admin);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("is linked from the admin page, whose users table shows zones and groups", async () => {
    await tokenFetch(hub.url, adminToken, "POST", "/hub/api/groups/physics", { users: ["alice"] });
    const { res, html } = await admin.client.page("/hub/admin");
    assert.equal(res.status, 200);
    assert.match(html, /<a href="\/hub\/admin\/groups" id="groups-link">/);
    const row = /<tr data-user="alice"[\s\S]*?<\/tr>/.exec(html)?.[0] ?? "";
    assert.match(row, /data-zone="internal"/);
    assert.match(row, /<td class="groups">\s*<span class="server-chip">physics<\/span>/);
  });

  it("creates a group through its form, and shows it", async () => {
    const res = await submit(PAGE, { name: "astro" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), PAGE);
    const { html } = await groupsPage();
    assert.match(html, /<tr data-group="astro">/);
    assert.deepEqual(await membersOf("astro"), []);
  });

  it("refuses a form without the session's XSRF token, or from another site, and writes nothing", async () => {
    const missing = await admin.client.postForm(PAGE, { name: "nox" });
    assert.equal(missing.status, 403);
    const wrong = await admin.client.postForm(PAGE, { _xsrf: "not-the-token", name: "nox" });
    assert.equal(wrong.status, 403);
    const { xsrf } = await groupsPage();
    const crossSite = await admin.client.postForm(
      PAGE,
      { _xsrf: xsrf, name: "nox" },
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    assert.equal(crossSite.status, 403);
    assert.equal(await membersOf("nox"), undefined);
  });

  it("shows why a form was refused, with its status, and writes nothing", async () => {
    const bad = await submit(PAGE, { name: "Not A Name" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id="groups-error">A group name is 1 to 64 characters/);
    const unknown = await submit(`${PAGE}/physics/members`, { users: "astrid, mallory", action: "add" });
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /No such user: astrid/);
    assert.deepEqual(await membersOf("physics"), ["alice"]);
    const exists = await submit(PAGE, { name: "physics" });
    assert.equal(exists.status, 409);
  });

  it("adds and removes members, and marks those the identity provider set", async () => {
    const made = await tokenFetch(hub.url, adminToken, "POST", "/hub/api/users/bob", {});
    assert.equal(made.status, 201);
    assert.equal(
      (await submit(`${PAGE}/astro/members`, { users: "alice,\nbob", action: "add" })).status,
      303,
    );
    assert.deepEqual(await membersOf("astro"), ["alice", "bob"]);
    assert.equal((await submit(`${PAGE}/astro/members`, { users: "alice", action: "remove" })).status, 303);
    assert.deepEqual(await membersOf("astro"), ["bob"]);

    // A sign-in through the provider writes memberships this way; a second store plays it.
    const store = await openStore(`sqlite:${join(hub.dataDir, "slipway.sqlite")}`);
    try {
      const alice = await store.users.getByName("alice");
      assert.ok(alice);
      await store.groups.setIdpMemberships(alice.id, ["astro"]);
    } finally {
      await store.close();
    }
    const { html } = await groupsPage();
    const row = /<tr data-group="astro">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? "";
    assert.match(row, /2\s+members <span class="badge" data-idp="1">1 from the identity provider<\/span>/);
    assert.match(row, /data-member="alice" data-source="idp"/);
    assert.match(row, /data-member="bob" data-source="admin"/);
  });

  it("deletes a group through its form", async () => {
    const res = await submit(`${PAGE}/astro/delete`, {});
    assert.equal(res.status, 303);
    assert.equal(await membersOf("astro"), undefined);
    const again = await submit(`${PAGE}/astro/delete`, {});
    assert.equal(again.status, 404);
  });

  it("is for admins only: a user gets 403 and changes nothing", async () => {
    const { res } = await alice.client.page(PAGE);
    assert.equal(res.status, 403);
    await alice.client.refreshXsrf();
    const post = await alice.client.postForm(`${PAGE}/physics/delete`, { _xsrf: alice.client.xsrf });
    assert.equal(post.status, 403);
    assert.deepEqual(await membersOf("physics"), ["alice"]);
    const anonymous = await fetch(`${hub.url}${PAGE}`, { redirect: "manual" });
    assert.equal(anonymous.status, 302);
  });
});
