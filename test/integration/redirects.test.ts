import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser, firstAdmin, type SignedIn } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import { codeFor, field, hiddenField, HubClient } from "../support/hub-client.js";
import { removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const STEP = 30_000;

/**
 * Password steps sent at once. They are all alice's, and each is reserved under her user name
 * before it is checked, so more at once than the name's allowance would be answered 429: this
 * suite is about redirects, not throttling (sign-in.test.ts is).
 */
const PASSWORDS_AT_ONCE = 5;

/** The open-redirect table of threats §5a.1, with the JupyterHub regressions and their neighbours. */
function hostileNexts(host: string): string[] {
  return [
    "//evil.com",
    "///evil.com",
    "\\\\evil.com",
    "/\\evil.com",
    "\\/evil.com",
    "%2f%2fevil.com",
    "/%2f/evil.com",
    "/%2F%2Fevil.com",
    "/%5c%5cevil.com",
    "/%5C/evil.com",
    `https://${host}//evil.com/`,
    `http://${host}//evil.com/`,
    `//${host}//evil.com/`,
    "https:evil.com",
    "https:/evil.com",
    "https://evil.com",
    "ftp://evil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "relative/path",
    "evil.com",
    "/%0d%0aLocation:%20https://evil.com",
    "/hub/home%0d%0aLocation:%20https://evil.com",
    "%0d%0a//evil.com",
    "/\r\n//evil.com",
    "/%09/evil.com",
    "/\t/evil.com",
    "\t//evil.com",
    " //evil.com",
    `//evil.com@${host}`,
    `https://evil.com@${host}/hub/home`,
    `https://${host}@evil.com/`,
    "@evil.com",
    "/@evil.com",
    "/hub/../..//evil.com",
    "/hub/%2e%2e/%2e%2e//evil.com",
    "/user/..//evil.com",
  ];
}

/** A Location a browser resolves to this hub: one leading slash, no control characters, our origin. */
function assertStaysHere(location: string | null, base: string, label: string): void {
  assert.ok(location, `${label}: no Location`);
  assert.ok(location.startsWith("/"), `${label}: ${JSON.stringify(location)} is not a path`);
  assert.ok(!location.startsWith("//"), `${label}: ${JSON.stringify(location)} is protocol-relative`);
  assert.ok(
    [...location].every((c) => c > " " && c !== "\u007f" && c !== "\\"),
    `${label}: ${JSON.stringify(location)} has a space, control character or backslash`,
  );
  assert.equal(new URL(location, base).origin, base, `${label}: ${JSON.stringify(location)} leaves the hub`);
}

/** Also checks a `next` the Location carries on, since the page it leads to will redirect to it. */
function assertStaysHereAfterwards(location: string | null, base: string, label: string): void {
  assertStaysHere(location, base, label);
  const inner = new URL(location ?? "", base).searchParams.get("next");
  if (inner !== null) assertStaysHere(inner, base, `${label} (next carried on)`);
}

describe("open redirects through next= (threats §5a.1)", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let alice: SignedIn;
  let values: string[];

  const freshStep = (): Date => {
    clock.set(new Date(Math.floor(clock.now().getTime() / STEP) * STEP + STEP + 5_000));
    return clock.now();
  };
  const queries = (value: string) => [
    `next=${encodeURIComponent(value)}`,
    // As typed into a link: the server decodes %2f, %0d%0a and friends itself.
    `next=${value}`,
  ];
  const get = (client: HubClient | undefined, path: string) =>
    fetch(hub.url + path, {
      headers: { accept: "text/html", ...(client ? { cookie: client.cookieHeader() } : {}) },
      redirect: "manual",
    });

  /**
   * Password then TOTP, with `next` sent as is in both forms; returns both Locations per value.
   * The password steps (scrypt) run side by side, in batches no larger than alice's allowance;
   * each code needs a step of its own, so the second steps run one by one, after each batch, so a
   * pending sign-in stays valid.
   */
  const signInWithNext = async (nexts: readonly string[]): Promise<[string | null, string | null][]> => {
    const out: [string | null, string | null][] = [];
    for (let start = 0; start < nexts.length; start += PASSWORDS_AT_ONCE) {
      const pending = await Promise.all(
        nexts.slice(start, start + PASSWORDS_AT_ONCE).map(async (next) => {
          const client = new HubClient(hub.url);
          const login = await client.page("/hub/login");
          const password = await client.postForm("/hub/login", {
            _xsrf: field(login.html, hiddenField("_xsrf")),
            username: "alice",
            password: alice.account.password,
            next,
          });
          assert.equal(password.status, 303);
          return { client, next, toTotp: password.headers.get("location") };
        }),
      );
      for (const { client, next, toTotp } of pending) {
        const page = await client.page(toTotp ?? "/hub/login/totp");
        assert.equal(page.res.status, 200, `the TOTP page for ${JSON.stringify(next)}`);
        const done = await client.postForm("/hub/login/totp", {
          _xsrf: field(page.html, hiddenField("_xsrf")),
          code: codeFor(alice.account.totpSecret, freshStep()),
          next,
        });
        assert.equal(done.status, 303, `sign-in with next ${JSON.stringify(next)}`);
        out.push([toTotp, done.headers.get("location")]);
      }
    }
    return out;
  };

  before(async () => {
    hub = await startTestHub(
      { auth: { throttle: { freeFailures: PASSWORDS_AT_ONCE } } },
      { name: "redirects", clock },
    );
    const admin = await firstAdmin(hub);
    alice = await addUser(hub, admin.client, "alice");
    // Enrolment used codes of the real time, which may be a step ahead of this clock: start past them.
    clock.set(new Date(Date.now() + 2 * STEP));
    values = hostileNexts(new URL(hub.url).host);
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("keeps the redirect of a signed-in visit to /hub/login on this hub", async () => {
    for (const value of values) {
      for (const query of queries(value)) {
        const res = await get(alice.client, `/hub/login?${query}`);
        assert.equal(res.status, 302, query);
        assertStaysHere(res.headers.get("location"), hub.url, query);
      }
    }
  });

  it("puts only a path on this hub into the sign-in form's hidden next", async () => {
    for (const value of values) {
      for (const query of queries(value)) {
        const res = await get(undefined, `/hub/login?${query}`);
        assert.equal(res.status, 200, query);
        assertStaysHere(field(await res.text(), hiddenField("next")), hub.url, query);
      }
    }
  });

  it("lands on this hub after the whole sign-in, whatever next the forms were posted with", async () => {
    const locations = await signInWithNext(values);
    for (const [i, value] of values.entries()) {
      const [toTotp, done] = locations[i] ?? [null, null];
      assertStaysHereAfterwards(toTotp, hub.url, `${JSON.stringify(value)} after the password`);
      assertStaysHere(done, hub.url, `${JSON.stringify(value)} after the code`);
    }
  });

  it("sends a visit to the second-factor pages without a pending sign-in back to /hub/login with a safe next", async () => {
    for (const value of values) {
      for (const path of ["/hub/login/totp", "/hub/enrol-totp"]) {
        for (const query of queries(value)) {
          const res = await get(undefined, `${path}?${query}`);
          assert.equal(res.status, 302, `${path}?${query}`);
          assertStaysHereAfterwards(res.headers.get("location"), hub.url, `${path}?${query}`);
        }
      }
      const posted = await new HubClient(hub.url).postForm("/hub/login/totp", {
        _xsrf: "x",
        code: "123456",
        next: value,
      });
      assert.equal(posted.status, 303);
      assertStaysHereAfterwards(posted.headers.get("location"), hub.url, `POST ${JSON.stringify(value)}`);
    }
  });

  it("keeps a safe next exactly, so the checks above are not passing by always going home", async () => {
    const safe = ["/user/alice/tree?x=1", "/hub/token", "/user/alice/lab/tree/a%20b.ipynb"];
    const locations = await signInWithNext(safe);
    for (const [i, next] of safe.entries()) {
      const res = await get(alice.client, `/hub/login?next=${encodeURIComponent(next)}`);
      assert.equal(res.headers.get("location"), next);
      const [toTotp, done] = locations[i] ?? [null, null];
      assert.equal(toTotp, `/hub/login/totp?next=${encodeURIComponent(next)}`);
      assert.equal(done, next);
    }
  });

  it("sends unauthenticated browsers from the proxy to sign-in with a next on this hub", async () => {
    for (const path of [
      "/user/alice/tree",
      "/user/alice/%2F%2Fevil.com",
      "/user/alice/tree?next=//evil.com",
      "/user/alice/@evil.com",
      "/user/alice/%5Cevil.com",
    ]) {
      const res = await get(undefined, path);
      await res.body?.cancel();
      if (res.status === 302) assertStaysHereAfterwards(res.headers.get("location"), hub.url, path);
      else assert.ok(res.status >= 400 && res.status < 500, `${path} answered ${res.status}`);
    }
  });

  it("carries no ?token= into next, from the proxy, the hub's pages or the sign-in form", async () => {
    const toLab = "/user/alice/lab?token=abc&reset=1&token=def";
    const fromProxy = await get(undefined, toLab);
    assert.equal(fromProxy.status, 302);
    assert.equal(fromProxy.headers.get("location"), "/hub/login?next=%2Fuser%2Falice%2Flab%3Freset%3D1");

    const fromPage = await get(undefined, "/hub/home?token=abc");
    assert.equal(fromPage.status, 302);
    assert.equal(fromPage.headers.get("location"), "/hub/login?next=%2Fhub%2Fhome");

    const query = `next=${encodeURIComponent(toLab)}`;
    const form = await get(undefined, `/hub/login?${query}`);
    assert.equal(field(await form.text(), hiddenField("next")), "/user/alice/lab?reset=1");
    const signedIn = await get(alice.client, `/hub/login?${query}`);
    assert.equal(signedIn.headers.get("location"), "/user/alice/lab?reset=1");
  });

  it("ends sign-out on the sign-in page, with or without a session", async () => {
    const res = await new HubClient(hub.url).postForm("/hub/logout", {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/hub/login");
  });
});
