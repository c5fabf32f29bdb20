import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { field, hiddenField, HubClient } from "../support/hub-client.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

/** The payload of threats §5a.3: breaks out of a quoted attribute and opens an element. */
const XSS = `'"><svg onload=alert(1)>`;
/** What the payload must look like once escaped for HTML (text and attribute context alike). */
const ESCAPED = "&#39;&quot;&gt;&lt;svg onload=alert(1)&gt;";

/** No markup from the payload made it into the page: neither the element nor an attribute break-out. */
function assertInert(html: string, label: string): void {
  assert.ok(!html.includes(XSS), `${label}: the payload came back as it was sent`);
  assert.ok(!html.includes("<svg"), `${label}: an <svg> element reached the page`);
  assert.ok(!html.includes(`'"`), `${label}: the quotes that close an attribute came back raw`);
  assert.ok(!html.includes("onload=alert(1)>"), `${label}: the payload is not escaped`);
}

function assertHtmlHeaders(res: Response, label: string): void {
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, label);
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /frame-ancestors 'none'/, `${label}: CSP ${csp}`);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", label);
  assert.match(res.headers.get("referrer-policy") ?? "", /^(no-referrer|same-origin|strict-origin)/, label);
}

describe("escaping in the hub's pages and security headers on every answer (threats §5a.3, §5a.19)", () => {
  let hub: TestHub;
  let admin: SignedIn;
  let alice: SignedIn;
  let aliceToken: string;

  const page = async (client: HubClient | undefined, path: string) => {
    const res = await fetch(hub.url + path, {
      headers: { accept: "text/html", ...(client ? { cookie: client.cookieHeader() } : {}) },
      redirect: "manual",
    });
    return { res, html: await res.text() };
  };

  before(async () => {
    hub = await startTestHub({}, { name: "headers-and-escaping" });
    admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    aliceToken = await apiToken(alice);
    const named = await fetch(`${hub.url}/hub/api/users/alice/servers/shown`, {
      method: "PUT",
      headers: { authorization: `token ${aliceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ display_name: XSS }),
    });
    assert.equal(named.status, 201, await named.text());
    const noted = await fetch(`${hub.url}/hub/api/users/alice/tokens`, {
      method: "POST",
      headers: { authorization: `token ${aliceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ note: XSS }),
    });
    assert.equal(noted.status, 201);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("escapes a hostile next in the sign-in forms", async () => {
    for (const next of [XSS, `/hub/home?x=${XSS}`, `/user/alice/${XSS}`, `/hub/${encodeURIComponent(XSS)}`]) {
      for (const query of [`next=${encodeURIComponent(next)}`, `next=${next}`]) {
        const login = await page(undefined, `/hub/login?${query}`);
        assert.equal(login.res.status, 200);
        assertInert(login.html, `/hub/login?${query}`);
        assert.ok(field(login.html, hiddenField("next")).startsWith("/"));
      }
    }
  });

  it("escapes a user name echoed after a failed sign-in, in the input's value attribute", async () => {
    const client = new HubClient(hub.url);
    const login = await client.page("/hub/login");
    const res = await client.postForm("/hub/login", {
      _xsrf: field(login.html, hiddenField("_xsrf")),
      username: XSS,
      password: "not-the-password",
    });
    assert.equal(res.status, 401);
    const html = await res.text();
    assertInert(html, "failed sign-in");
    assert.ok(html.includes(`value="${ESCAPED}"`), "the name comes back escaped in its attribute");
    assertHtmlHeaders(res, "failed sign-in");
  });

  it("escapes a hostile field name echoed in an error message, in text context", async () => {
    const client = new HubClient(hub.url);
    const login = await client.page("/hub/login");
    const res = await client.postForm(
      "/hub/login",
      { _xsrf: field(login.html, hiddenField("_xsrf")), username: "alice", password: "x", [XSS]: "1" },
      { accept: "text/html" },
    );
    assert.equal(res.status, 400);
    const html = await res.text();
    assertInert(html, "unknown field");
    assert.ok(html.includes(ESCAPED), "the field name comes back escaped as text");
    assertHtmlHeaders(res, "unknown field");
  });

  it("escapes a server's display name on /hub/home, and /hub/admin shows no raw markup", async () => {
    const home = await page(alice.client, "/hub/home");
    assert.equal(home.res.status, 200);
    assertInert(home.html, "/hub/home");
    assert.ok(home.html.includes(ESCAPED), "the display name is shown, escaped");
    const adminPage = await page(admin.client, "/hub/admin");
    assert.equal(adminPage.res.status, 200);
    assertInert(adminPage.html, "/hub/admin");
    assert.match(adminPage.html, /data-server="shown"/, "the admin page lists alice's server");
  });

  it("escapes a renamed display name and a token's note", async () => {
    const renamed = await fetch(`${hub.url}/hub/api/users/alice/servers/shown`, {
      method: "PATCH",
      headers: { authorization: `token ${aliceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ display_name: `${XSS}<script>alert(2)</script>` }),
    });
    assert.equal(renamed.status, 200);
    const home = await page(alice.client, "/hub/home");
    assertInert(home.html, "/hub/home after rename");
    assert.ok(!home.html.includes("<script>alert(2)"), "no script element from the name");
    const tokens = await page(alice.client, "/hub/token");
    assert.equal(tokens.res.status, 200);
    assertInert(tokens.html, "/hub/token");
    assert.ok(tokens.html.includes(ESCAPED), "the note is shown, escaped");
  });

  it("escapes hostile paths in the proxy's own pages", async () => {
    for (const path of [
      `/user/alice/${encodeURIComponent(XSS)}`,
      `/user/alice/tree?x=${encodeURIComponent(XSS)}`,
      `/user/${encodeURIComponent(XSS)}/tree`,
      `/user/admin/${encodeURIComponent(XSS)}`,
    ]) {
      const res = await page(alice.client, path);
      assertInert(res.html, path);
      if (res.res.headers.get("content-type")?.startsWith("text/html")) assertHtmlHeaders(res.res, path);
    }
  });

  it("puts CSP with frame-ancestors 'none', nosniff and a Referrer-Policy on every HTML page", async () => {
    const visits: [HubClient | undefined, string][] = [
      [undefined, "/hub/login"],
      [undefined, "/hub/setup/not-a-link"],
      [undefined, "/hub/first-admin/not-a-secret"],
      [undefined, "/hub/no-such-page"],
      [alice.client, "/hub/home"],
      [alice.client, "/hub/token"],
      [alice.client, "/hub/spawn"],
      [alice.client, "/hub/logout"],
      [alice.client, "/hub/admin"],
      [admin.client, "/hub/admin"],
      [alice.client, "/user/alice/tree"],
      [alice.client, "/user/admin/tree"],
      [alice.client, "/user/alice/./tree"],
      [undefined, "/user/alice/%2e%2e/admin/tree"],
    ];
    let checked = 0;
    for (const [client, path] of visits) {
      const { res } = await page(client, path);
      if (res.status >= 300 && res.status < 400) continue;
      assertHtmlHeaders(res, `${path} (${res.status})`);
      checked++;
    }
    assert.ok(checked >= visits.length - 1, `only ${checked} HTML pages were checked`);
  });

  it("answers the API and the proxy's refusals with JSON and nosniff, never HTML", async () => {
    const calls: [string, Record<string, string>][] = [
      ["/hub/api/", {}],
      ["/hub/api/user", {}],
      ["/hub/api/user", { authorization: `token ${aliceToken}` }],
      ["/hub/api/users", { authorization: `token ${aliceToken}` }],
      ["/hub/api/users/alice/servers/shown", { authorization: `token ${aliceToken}` }],
      ["/hub/api/users/alice/servers/shown", { authorization: `token ${aliceToken}`, accept: "text/html" }],
      ["/hub/api/nothing-here", { accept: "text/html" }],
      ["/user/alice/api/status", {}],
      ["/user/alice/api/status", { authorization: `token ${aliceToken}` }],
      ["/user/admin/api/status", { authorization: `token ${aliceToken}` }],
    ];
    for (const [path, headers] of calls) {
      const res = await fetch(hub.url + path, { headers });
      const label = `${path} ${JSON.stringify(Object.keys(headers))} (${res.status})`;
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/, label);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", label);
      const body = await res.text();
      assert.doesNotThrow(() => JSON.parse(body), label);
      if (path.includes("servers/shown") && res.status === 200) {
        assert.equal((JSON.parse(body) as { display_name?: string }).display_name?.startsWith(XSS), true);
      }
    }
  });
});
