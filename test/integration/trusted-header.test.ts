import assert from "node:assert/strict";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer } from "../support/start-server.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";
import { tokenFetch } from "../support/token-fetch.js";

// The authenticating front door: the hub takes the user's name from a header only on its
// front-door socket (the peer "unix"), once, clean; never from a request that reached its TCP port.

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request through the hub's front-door Unix socket, as Apache would send it; raw header list allowed. */
function viaSocket(
  socketPath: string,
  path: string,
  headers: OutgoingHttpHeaders | string[],
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { socketPath, path, headers, setHost: Array.isArray(headers) ? false : true, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A POST through the front-door socket, as a signed-in page would send it (JSON unless told). */
function viaSocketPost(
  socketPath: string,
  path: string,
  headers: OutgoingHttpHeaders,
  body = "{}",
  contentType = "application/json",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath,
        path,
        method: "POST",
        agent: false,
        headers: { ...headers, "content-type": contentType, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const sessionCookieOf = (answer: Answer): string | undefined =>
  [answer.headers["set-cookie"] ?? []]
    .flat()
    .map((line) => line.split(";")[0] ?? "")
    .find((pair) => pair.startsWith("slipway-session=") && pair.length > "slipway-session=".length);

describe("signing in through an authenticating front door (trusted header)", () => {
  let hub: TestHub;
  let dir: string;
  let socket: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "slipway-front-"));
    socket = join(dir, "front.sock");
    hub = await startTestHub(
      {
        hub: { frontDoorSocket: socket },
        auth: {
          type: "trusted-header",
          trustedHeader: {
            trustedPeers: ["unix"],
            userHeader: "X-Remote-User",
            groupsHeader: "X-Remote-Groups",
            zoneHeader: "X-Remote-Zone",
            logoutUrl: "/oidc/redirect_uri?logout=https%3A%2F%2Fhub.example%2Fhub%2Flogged-out",
          },
          access: { adminGroups: ["admins"] },
          logoutClearCookies: [{ name: "ROUTEID", path: "/" }],
        },
      },
      { name: "trusted-header" },
    );
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
    removeDir(dir);
  });

  const login = (headers: OutgoingHttpHeaders | string[]) =>
    viaSocket(socket, "/hub/login?next=%2Fhub%2Fhome", headers);

  it("offers no first-admin link and no set-up links: people sign in at the front door", async () => {
    assert.equal(hub.firstAdminUrl, undefined);
    assert.match(hub.firstAdminHint ?? "", /slipway user add NAME --admin/);
    const admin = await login({ host: "hub.example", "x-remote-user": "ada", "x-remote-groups": "admins" });
    const headers = {
      host: new URL(hub.url).host,
      origin: hub.url,
      cookie: sessionCookieOf(admin) ?? "",
      "x-remote-user": "ada",
    };
    const home = await viaSocket(socket, "/hub/home", headers);
    const xsrf = /name="slipway-xsrf" content="([^"]+)"/.exec(home.body)?.[1] ?? "";
    const created = await viaSocketPost(socket, "/hub/api/users/newbie", {
      ...headers,
      "x-xsrf-token": xsrf,
    });
    assert.equal(created.status, 201, created.body);
    assert.equal((JSON.parse(created.body) as { setup_url?: string }).setup_url, undefined);
    const link = await viaSocketPost(socket, "/hub/api/users/newbie/setup-link", {
      ...headers,
      "x-xsrf-token": xsrf,
    });
    assert.equal(link.status, 400);
    assert.equal((JSON.parse(link.body) as { code: string }).code, "setup_links_unused");
    assert.equal((await fetch(`${hub.url}/hub/first-admin/anything`)).status, 404);
    for (const path of ["/hub/oauth_login", "/hub/oauth_callback?code=x&state=y"]) {
      assert.equal((await fetch(`${hub.url}${path}`, { redirect: "manual" })).status, 404, path);
    }
  });

  it("signs in the user the front door names, with the groups and zone it passes", async () => {
    const answer = await login({
      host: "hub.example",
      "x-remote-user": "alice",
      "x-remote-groups": "/sdcc/gpu, admins",
      "x-remote-zone": "external",
    });
    assert.equal(answer.status, 303, answer.body);
    assert.equal(answer.headers.location, "/hub/home");
    const cookie = sessionCookieOf(answer);
    assert.ok(cookie);
    const me = await viaSocket(socket, "/hub/api/user", {
      host: "hub.example",
      cookie,
      "x-remote-user": "alice",
    });
    const user = JSON.parse(me.body) as {
      name: string;
      admin: boolean;
      groups: string[];
      slipway: { zone: string };
    };
    assert.deepEqual(
      [user.name, user.admin, user.groups, user.slipway.zone],
      ["alice", true, ["admins", "sdcc.gpu"], "external"],
    );
  });

  it("offers an external user no target on the centre's machines, and an internal user the local one", async () => {
    const as = async (name: string, zone: string) => {
      const cookie = sessionCookieOf(
        await login({ host: "hub.example", "x-remote-user": name, "x-remote-zone": zone }),
      );
      return { host: "hub.example", cookie: cookie ?? "", "x-remote-user": name, "x-remote-zone": zone };
    };
    const guest = await as("gina", "external");
    const offered = await viaSocket(socket, "/hub/api/users/gina/spawn-options", guest);
    assert.deepEqual((JSON.parse(offered.body) as { targets: unknown[] }).targets, []);
    const home = await viaSocket(socket, "/hub/home", guest);
    const xsrf = /name="slipway-xsrf" content="([^"]+)"/.exec(home.body)?.[1] ?? "";
    const start = await viaSocketPost(socket, "/hub/api/users/gina/server", {
      ...guest,
      host: new URL(hub.url).host,
      origin: hub.url,
      "x-xsrf-token": xsrf,
    });
    assert.equal(start.status, 403, start.body);
    assert.equal((JSON.parse(start.body) as { code: string }).code, "target_not_allowed");
    const page = await viaSocket(socket, "/hub/spawn", guest);
    assert.match(page.body, /id="no-targets"/);
    const staff = await as("sam", "internal");
    const staffOffer = JSON.parse(
      (await viaSocket(socket, "/hub/api/users/sam/spawn-options", staff)).body,
    ) as {
      targets: { name: string }[];
    };
    assert.deepEqual(
      staffOffer.targets.map((t) => t.name),
      ["local"],
    );
  });

  it("honours a session only while the front door still names its user, on the hub and at the proxy", async () => {
    const cookie = sessionCookieOf(await login({ host: "hub.example", "x-remote-user": "dora" })) ?? "";
    const as = (name: string | undefined) => ({
      host: "hub.example",
      cookie,
      ...(name !== undefined && { "x-remote-user": name }),
    });
    assert.equal((await viaSocket(socket, "/hub/api/user", as("dora"))).status, 200);
    // Another person signed in at the front door in the same browser, or the request bypassed it.
    assert.equal((await viaSocket(socket, "/hub/api/user", as("erin"))).status, 401);
    assert.equal((await viaSocket(socket, "/hub/api/user", as(undefined))).status, 401);
    const direct = await fetch(`${hub.url}/hub/api/user`, { headers: { cookie } });
    assert.equal(direct.status, 401);
    // The right name in the header, but not from the front door: the session still does not count.
    const forged = { cookie, "x-remote-user": "dora" };
    assert.equal((await fetch(`${hub.url}/hub/api/user`, { headers: forged })).status, 401);
    assert.equal((await fetch(`${hub.url}/user/dora/tree`, { headers: forged })).status, 401);
    const own = await viaSocket(socket, "/user/dora/tree", as("dora"));
    const other = await viaSocket(socket, "/user/dora/tree", as("erin"));
    assert.notEqual(own.status, 401, own.body);
    assert.equal(other.status, 401, other.body);
  });

  it(
    "holds a running server's traffic to the same rule, on the proxy's fast path too",
    { timeout: 60_000 },
    async () => {
      const cookie = sessionCookieOf(await login({ host: "hub.example", "x-remote-user": "fay" })) ?? "";
      const as = (name: string) => ({ host: new URL(hub.url).host, cookie, "x-remote-user": name });
      const home = await viaSocket(socket, "/hub/home", as("fay"));
      const xsrf = /name="slipway-xsrf" content="([^"]+)"/.exec(home.body)?.[1] ?? "";
      const made = await viaSocketPost(socket, "/hub/api/users/fay/tokens", {
        ...as("fay"),
        origin: hub.url,
        "x-xsrf-token": xsrf,
      });
      assert.equal(made.status, 201, made.body);
      const token = (JSON.parse(made.body) as { token: string }).token;
      await startServer(hub.url, token, "fay");
      try {
        // Plain GETs of a routed server: the front door's fast path answers them.
        assert.equal((await viaSocket(socket, "/user/fay/api/status", as("fay"))).status, 200);
        assert.equal((await viaSocket(socket, "/user/fay/api/status", as("gus"))).status, 401);
        const forged = await fetch(`${hub.url}/user/fay/api/status`, {
          headers: { cookie, "x-remote-user": "fay" },
        });
        assert.equal(forged.status, 401);
      } finally {
        await tokenFetch(hub.url, token, "DELETE", "/hub/api/users/fay/server").catch(() => undefined);
      }
    },
  );

  it("never signs in a request that reached the hub's own port, whatever header it carries", async () => {
    const res = await fetch(`${hub.url}/hub/login`, {
      headers: { "x-remote-user": "alice" },
      redirect: "manual",
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /data-code="header_untrusted"/);
    const admin = await login({ host: "hub.example", "x-remote-user": "alice", "x-remote-groups": "admins" });
    const trail = await viaSocket(socket, "/hub/api/audit?kind=sign_in_refused", {
      host: "hub.example",
      cookie: sessionCookieOf(admin) ?? "",
      "x-remote-user": "alice",
    });
    const events = (JSON.parse(trail.body) as { events: { reason: string; address: string }[] }).events;
    assert.ok(
      events.some((e) => e.reason === "header_untrusted" && e.address === "127.0.0.1"),
      trail.body,
    );
    assert.equal(
      res.headers.getSetCookie().some((c) => /^slipway-session=[^;]/.test(c)),
      false,
    );
  });

  it("refuses the header sent twice, with a comma, empty, or not a clean name (400), and starts no session", async () => {
    const cases: (OutgoingHttpHeaders | string[])[] = [
      ["Host", "hub.example", "X-Remote-User", "alice", "X-Remote-User", "bob"],
      { host: "hub.example", "x-remote-user": "alice,bob" },
      { host: "hub.example", "x-remote-user": "" },
      { host: "hub.example", "x-remote-user": "alice smith" },
      { host: "hub.example", "x-remote-user": "ali\u00e9ce" },
      { host: "hub.example", "x-remote-user": "alice", "x-remote-zone": "somewhere" },
    ];
    for (const headers of cases) {
      const answer = await login(headers);
      assert.equal(answer.status, 400, JSON.stringify(headers));
      assert.match(answer.body, /data-code="header_invalid"/);
      assert.equal(sessionCookieOf(answer), undefined);
    }
  });

  it("answers an oversized header with 431 and starts no session", async () => {
    const answer = await login({
      host: "hub.example",
      "x-remote-user": "alice",
      "x-remote-groups": "g,".repeat(20_000),
    });
    assert.equal(answer.status, 431);
    assert.equal(sessionCookieOf(answer), undefined);
  });

  it("asks the front door to sign in a request on its socket without the header (401)", async () => {
    const answer = await login({ host: "hub.example" });
    assert.equal(answer.status, 401);
  });

  it("signs out to the front door's logout and clears its balancer cookie", async () => {
    const signedIn = await login({ host: "hub.example", "x-remote-user": "carol" });
    const cookie = sessionCookieOf(signedIn) ?? "";
    const page = await viaSocket(socket, "/hub/logout", {
      host: "hub.example",
      cookie,
      "x-remote-user": "carol",
    });
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(page.body)?.[1] ?? "";
    const headers = { host: new URL(hub.url).host, origin: hub.url, cookie, "x-remote-user": "carol" };
    const form = `_xsrf=${encodeURIComponent(xsrf)}`;
    const out = await viaSocketPost(
      socket,
      "/hub/logout",
      headers,
      form,
      "application/x-www-form-urlencoded",
    );
    // A page that goes on by itself: the pages' form-action 'self' would stop a redirect chain
    // that leaves the hub through the front door's logout.
    assert.equal(out.status, 200);
    const target = "/oidc/redirect_uri?logout=https%3A%2F%2Fhub.example%2Fhub%2Flogged-out";
    const escaped = target.replaceAll("&", "&amp;");
    assert.ok(out.body.includes(`<meta http-equiv="refresh" content="0;url=${escaped}" />`), out.body);
    assert.ok(out.body.includes(`id="continue-sign-out" href="${escaped}"`));
    const cleared = [out.headers["set-cookie"] ?? []].flat();
    assert.ok(
      cleared.some(
        (c) => c.startsWith("ROUTEID=;") && /Path=\//.test(c) && /Expires=Thu, 01 Jan 1970/.test(c),
      ),
      cleared.join("\n"),
    );
  });
});
