import assert from "node:assert/strict";
import { startServer } from "../support/start-server.js";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { addUser, apiToken, firstAdmin, type SignedIn } from "../support/accounts.js";
import { FakeClock } from "../support/fake-clock.js";
import {
  codeFor,
  completeSetup,
  field,
  hiddenField,
  HubClient,
  signIn,
  type Account,
} from "../support/hub-client.js";
import { tryWebsocket } from "../support/jupyter-kernel.js";
import { rememberSecret, removeDir, startTestHub, type TestHub } from "../support/test-hub.js";

const STEP = 30_000;
type Init = RequestInit & { headers?: Record<string, string> };

function headersOf(init: Init): Record<string, string> {
  return Object.fromEntries(Object.entries(init.headers ?? {}));
}

/** A browser at `address`: the hub in these suites trusts X-Forwarded-For, so each test has its own. */
class ClientFrom extends HubClient {
  readonly address: string;

  constructor(base: string, address: string) {
    super(base);
    this.address = address;
  }

  override request(path: string, init: Init = {}): Promise<Response> {
    return super.request(path, { ...init, headers: { "x-forwarded-for": this.address, ...headersOf(init) } });
  }
}

interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names and name=value pairs, lower-cased. */
  readonly attributes: ReadonlySet<string>;
}

function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((line) => {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const eq = pair.indexOf("=");
    return {
      name: pair.slice(0, eq),
      value: pair.slice(eq + 1),
      attributes: new Set(attributes.map((a) => a.toLowerCase())),
    };
  });
}

function sessionSet(res: Response, name = "slipway-session"): string {
  const cookie = setCookies(res).find((c) => c.name === name);
  assert.ok(cookie && cookie.value !== "", `no ${name} cookie in ${res.status} answer`);
  return cookie.value;
}

/** Posts the password form; a client already signed in (no form shown) reuses its sign-in XSRF cookie. */
async function passwordStep(client: HubClient, name: string, password: string): Promise<Response> {
  const xsrf =
    client.cookies.get("slipway-login-xsrf") ??
    field((await client.page("/hub/login")).html, hiddenField("_xsrf"));
  return client.postForm("/hub/login", { _xsrf: xsrf, username: name, password });
}

async function totpStep(client: HubClient, code: string): Promise<Response> {
  const page = await client.page("/hub/login/totp");
  return client.postForm("/hub/login/totp", {
    _xsrf: field(page.html, hiddenField("_xsrf")),
    code,
    next: "/hub/home",
  });
}

/** A six-digit code that is none of the codes the hub accepts around `at`. */
function wrongCode(secret: string, at: Date): string {
  const valid = new Set([-1, 0, 1].map((d) => codeFor(secret, new Date(at.getTime() + d * STEP))));
  const wrong = ["000000", "123456", "999999", "424242"].find((c) => !valid.has(c));
  assert.ok(wrong);
  return wrong;
}

async function whoAmI(base: string, cookie: string): Promise<number> {
  const res = await fetch(`${base}/hub/api/user`, { headers: { cookie } });
  await res.body?.cancel();
  return res.status;
}

describe("signing in with password and TOTP (fake clock)", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let base: string;
  let admin: SignedIn;
  const users = new Map<string, Account>();
  const account = (name: string): Account => {
    const found = users.get(name);
    assert.ok(found, name);
    return found;
  };

  /** Moves the hub's clock 5 s into the next 30 s TOTP step and returns that time. */
  const freshStep = (): Date => {
    clock.set(new Date(Math.floor(clock.now().getTime() / STEP) * STEP + STEP + 5_000));
    return clock.now();
  };

  before(async () => {
    hub = await startTestHub(
      {
        hub: { trustForwardedHeaders: true },
        auth: {
          throttle: { freeFailures: 3, freeFailuresPerAddress: 12, baseDelay: 30, maxDelay: 300 },
          sessionIdleTimeout: 600,
          sessionMaxAge: 3600,
        },
      },
      { name: "sign-in", clock },
    );
    base = hub.url;
    admin = await firstAdmin(hub);
    // Every account is enrolled now, on the real time the helpers use; the tests then move the
    // clock forward only, so each sign-in has TOTP steps no one has used yet.
    for (const name of ["ana", "ben", "cai", "dov", "eli", "fay", "gus", "hal", "ivy", "jan", "kit"]) {
      users.set(name, (await addUser(hub, admin.client, name)).account);
    }
    // Enrolment used codes of the real time, which may be a step ahead of this clock: start past them.
    clock.set(new Date(Date.now() + 2 * STEP));
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  describe("one-time codes", () => {
    it("accepts a code once: the same code in a later sign-in is refused (invalid_totp)", async () => {
      const ana = account("ana");
      const code = codeFor(ana.totpSecret, freshStep());
      const first = new ClientFrom(base, "10.0.1.1");
      assert.equal((await passwordStep(first, ana.name, ana.password)).status, 303);
      const ok = await totpStep(first, code);
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get("location"), "/hub/home");
      // One step later the code is still inside the ±1 window, so only its use decides.
      clock.advance(STEP);
      const second = new ClientFrom(base, "10.0.1.2");
      assert.equal((await passwordStep(second, ana.name, ana.password)).status, 303);
      const replay = await totpStep(second, code);
      assert.equal(replay.status, 401);
      assert.match(await replay.text(), /already used/);
      assert.equal(await whoAmI(base, second.cookieHeader()), 401);
    });

    it("refuses a code reused within the same 30 s step by a second sign-in", async () => {
      const ana = account("ana");
      const code = codeFor(ana.totpSecret, freshStep());
      const one = new ClientFrom(base, "10.0.1.3");
      const two = new ClientFrom(base, "10.0.1.4");
      assert.equal((await passwordStep(one, ana.name, ana.password)).status, 303);
      assert.equal((await passwordStep(two, ana.name, ana.password)).status, 303);
      assert.equal((await totpStep(one, code)).status, 303);
      const again = await totpStep(two, code);
      assert.equal(again.status, 401);
      assert.match(await again.text(), /already used/);
      assert.equal(await whoAmI(base, one.cookieHeader()), 200);
      assert.equal(await whoAmI(base, two.cookieHeader()), 401);
    });

    it("lets exactly one of two simultaneous submissions of a code through", async () => {
      const cai = account("cai");
      const code = codeFor(cai.totpSecret, freshStep());
      const clients = [new ClientFrom(base, "10.0.1.5"), new ClientFrom(base, "10.0.1.6")];
      for (const c of clients) assert.equal((await passwordStep(c, cai.name, cai.password)).status, 303);
      const pages = await Promise.all(clients.map((c) => c.page("/hub/login/totp")));
      const answers = await Promise.all(
        clients.map((c, i) =>
          c.postForm("/hub/login/totp", {
            _xsrf: field(pages[i]?.html ?? "", hiddenField("_xsrf")),
            code,
            next: "/hub/home",
          }),
        ),
      );
      assert.deepEqual(answers.map((r) => r.status).sort(), [303, 401]);
    });

    it("refuses an unused code from a step before the last one used", async () => {
      const cai = account("cai");
      const at = freshStep();
      const client = new ClientFrom(base, "10.0.1.7");
      assert.equal((await passwordStep(client, cai.name, cai.password)).status, 303);
      assert.equal(
        (await totpStep(client, codeFor(cai.totpSecret, new Date(at.getTime() + STEP)))).status,
        303,
      );
      const older = new ClientFrom(base, "10.0.1.8");
      assert.equal((await passwordStep(older, cai.name, cai.password)).status, 303);
      assert.equal((await totpStep(older, codeFor(cai.totpSecret, at))).status, 401);
    });

    it("accepts codes from one step before or after, and refuses codes two steps away", async () => {
      const ben = account("ben");
      const at = freshStep();
      const codeAt = (steps: number) => codeFor(ben.totpSecret, new Date(at.getTime() + steps * STEP));
      const client = new ClientFrom(base, "10.0.1.9");
      assert.equal((await passwordStep(client, ben.name, ben.password)).status, 303);
      assert.equal((await totpStep(client, codeAt(-2))).status, 401, "two steps behind");
      assert.equal((await totpStep(client, codeAt(2))).status, 401, "two steps ahead");
      assert.equal((await totpStep(client, codeAt(-1))).status, 303, "one step behind");
      assert.equal(await whoAmI(base, client.cookieHeader()), 200);

      const later = freshStep();
      const ahead = new ClientFrom(base, "10.0.1.10");
      assert.equal((await passwordStep(ahead, ben.name, ben.password)).status, 303);
      const code = codeFor(ben.totpSecret, new Date(later.getTime() + STEP));
      assert.equal((await totpStep(ahead, code)).status, 303, "one step ahead");
    });
  });

  describe("rate limiting", () => {
    it("signs in 10 people who send their passwords at once from one address", async () => {
      freshStep();
      const names = ["ana", "ben", "cai", "dov", "eli", "fay", "gus", "hal", "ivy", "jan"];
      const answers = await Promise.all(
        names.map((name) => passwordStep(new ClientFrom(base, "10.0.7.1"), name, account(name).password)),
      );
      assert.deepEqual(
        answers.map((res) => res.status),
        names.map(() => 303),
      );
      await Promise.all(answers.map((res) => res.body?.cancel()));
    });

    it("answers 429 with Retry-After after 3 wrong passwords, for that user from any address", async () => {
      const dov = account("dov");
      freshStep();
      const attacker = new ClientFrom(base, "10.0.2.1");
      for (let i = 0; i < 3; i++) {
        assert.equal((await passwordStep(attacker, dov.name, `wrong-${i}-password`)).status, 401);
      }
      for (const address of ["10.0.2.1", "10.0.2.2"]) {
        const blocked = await passwordStep(new ClientFrom(base, address), dov.name, dov.password);
        assert.equal(blocked.status, 429, address);
        const wait = Number(blocked.headers.get("retry-after"));
        assert.ok(wait > 0 && wait <= 30, `Retry-After ${wait}`);
        assert.equal(setCookies(blocked).filter((c) => c.name === "slipway-session").length, 0);
      }
    });

    it("leaves other users alone while one is slowed down", async () => {
      const dov = account("dov");
      const eli = account("eli");
      const attacker = new ClientFrom(base, "10.0.2.3");
      for (let i = 0; i < 3; i++) await passwordStep(attacker, dov.name, `wrong-${i}-password`);
      assert.equal(
        (await passwordStep(new ClientFrom(base, "10.0.2.4"), dov.name, dov.password)).status,
        429,
      );
      const other = new ClientFrom(base, "10.0.2.5");
      assert.equal((await signIn(other, eli, freshStep())).status, 303);
      assert.equal(await whoAmI(base, other.cookieHeader()), 200);
    });

    it("lets the right password in once the delay is over: slowed down, never locked out", async () => {
      const dov = account("dov");
      const attacker = new ClientFrom(base, "10.0.2.6");
      for (let i = 0; i < 4; i++) await passwordStep(attacker, dov.name, `wrong-${i}-password`);
      const owner = new ClientFrom(base, "10.0.2.7");
      const blocked = await passwordStep(owner, dov.name, dov.password);
      assert.equal(blocked.status, 429);
      clock.advance((Number(blocked.headers.get("retry-after")) + 1) * 1000);
      assert.equal((await signIn(owner, dov, freshStep())).status, 303);
      assert.equal(await whoAmI(base, owner.cookieHeader()), 200);
    });

    it("checks no more than 3 of 100 wrong passwords sent at once, and answers the rest 429", async () => {
      const jan = account("jan");
      freshStep();
      const attacker = new ClientFrom(base, "10.0.20.1");
      await attacker.page("/hub/login");
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => passwordStep(attacker, jan.name, `wrong-${i}-password`)),
      );
      const statuses = answers.map((res) => res.status);
      assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(" "));
      assert.equal(statuses.filter((s) => s === 429).length, 97, statuses.join(" "));
      for (const res of answers.filter((r) => r.status === 429)) {
        assert.ok(Number(res.headers.get("retry-after")) > 0);
      }
      await Promise.all(answers.map((res) => res.body?.cancel()));
    });

    it("refuses the right password sent at the end of a burst of wrong ones", async () => {
      const kit = account("kit");
      freshStep();
      const attacker = new ClientFrom(base, "10.0.20.2");
      const owner = new ClientFrom(base, "10.0.20.3");
      await Promise.all([attacker.page("/hub/login"), owner.page("/hub/login")]);
      const wrong = Array.from({ length: 29 }, (_, i) =>
        passwordStep(attacker, kit.name, `wrong-${i}-password`),
      );
      // Sent after the 29 are on their way, while their passwords are still being checked: before
      // the fix all 30 passed the look at the count, and this one signed in.
      const right = await passwordStep(owner, kit.name, kit.password);
      const answers = await Promise.all(wrong);
      assert.equal(right.status, 429);
      assert.equal(setCookies(right).filter((c) => c.name === "slipway-session").length, 0);
      assert.equal(await whoAmI(base, owner.cookieHeader()), 401);
      assert.equal(answers.filter((res) => res.status === 401).length, 3);
      await Promise.all([right, ...answers].map((res) => res.body?.cancel()));
    });

    it("slows down an address once it fails for 12 user names, not the users elsewhere", async () => {
      const fay = account("fay");
      freshStep();
      const crowd = new ClientFrom(base, "10.0.3.1");
      for (let i = 1; i <= 12; i++) {
        assert.equal((await passwordStep(crowd, `nobody-${i}`, "some-password")).status, 401, `nobody-${i}`);
      }
      const fromCrowd = await passwordStep(crowd, fay.name, fay.password);
      assert.equal(fromCrowd.status, 429);
      assert.ok(Number(fromCrowd.headers.get("retry-after")) > 0);
      const elsewhere = new ClientFrom(base, "10.0.3.2");
      assert.equal((await signIn(elsewhere, fay, freshStep())).status, 303);
    });

    it("slows down guessing of one-time codes per user, and takes the right code after the delay", async () => {
      const gus = account("gus");
      const at = freshStep();
      const client = new ClientFrom(base, "10.0.4.1");
      assert.equal((await passwordStep(client, gus.name, gus.password)).status, 303);
      for (let i = 0; i < 3; i++) {
        assert.equal((await totpStep(client, wrongCode(gus.totpSecret, at))).status, 401);
      }
      const blocked = await totpStep(client, codeFor(gus.totpSecret, at));
      assert.equal(blocked.status, 429);
      const wait = Number(blocked.headers.get("retry-after"));
      assert.ok(wait > 0 && wait <= 30, `Retry-After ${wait}`);
      clock.advance((wait + 1) * 1000);
      const retry = await passwordStep(new ClientFrom(base, "10.0.4.2"), gus.name, gus.password);
      assert.equal(retry.status, 303, "the password step is not what was throttled");
      const late = new ClientFrom(base, "10.0.4.3");
      assert.equal((await signIn(late, gus, freshStep())).status, 303);
    });

    it("refuses a 1 MB user name with 413 and logs no more than a short prefix of any user name", async () => {
      const client = new ClientFrom(base, "10.0.5.1");
      const login = await client.page("/hub/login");
      const xsrf = field(login.html, hiddenField("_xsrf"));
      const huge = "zq".repeat(512 * 1024);
      const asForm = await client.postForm("/hub/login", { _xsrf: xsrf, username: huge, password: "x" });
      assert.equal(asForm.status, 413);
      const asJson = await client.request("/hub/login", {
        method: "POST",
        headers: { "content-type": "application/json", origin: base, accept: "application/json" },
        body: JSON.stringify({ _xsrf: xsrf, username: huge, password: "x" }),
      });
      assert.equal(asJson.status, 413);
      assert.equal(((await asJson.json()) as { code: string }).code, "body_too_large");

      const long = new ClientFrom(base, "10.0.5.2");
      assert.equal((await passwordStep(long, "zq".repeat(100), "some-password")).status, 401);
      const log = readFileSync(hub.logFile, "utf8");
      assert.match(log, /"user":"(zq){16}"/, "the failure is logged, cut to 32 characters");
      assert.ok(!log.includes("zq".repeat(17)), "no user name reaches the log beyond 32 characters");
    });

    it("writes a user name with CR/LF into the log as one escaped line", async () => {
      const forged = 'x\r\n{"level":60,"msg":"forged"}';
      const client = new ClientFrom(base, "10.0.5.3");
      assert.equal((await passwordStep(client, forged, "some-password")).status, 401);
      const lines = readFileSync(hub.logFile, "utf8").split("\n").filter(Boolean);
      const records = lines.map((line) => JSON.parse(line) as { msg?: string; user?: string });
      assert.ok(records.every((r) => r.msg !== "forged"));
      assert.ok(records.some((r) => r.user?.startsWith("x\r\n")));
    });
  });

  describe("sessions", () => {
    it("gives a new session id at each step of sign-in (password → TOTP → signed in) and ends the old ones", async () => {
      const hal = account("hal");
      const client = new ClientFrom(base, "10.0.6.1");
      assert.equal((await signIn(client, hal, freshStep())).status, 303);
      const signedIn = client.cookies.get("slipway-session") ?? "";
      assert.equal(await whoAmI(base, `slipway-session=${signedIn}`), 200);

      const password = await passwordStep(client, hal.name, hal.password);
      assert.equal(password.status, 303);
      const halfway = sessionSet(password);
      assert.notEqual(halfway, signedIn);
      assert.equal(
        await whoAmI(base, `slipway-session=${signedIn}`),
        401,
        "signing in again ends the earlier session",
      );

      const totp = await totpStep(client, codeFor(hal.totpSecret, freshStep()));
      assert.equal(totp.status, 303);
      const full = sessionSet(totp);
      assert.notEqual(full, halfway);
      assert.notEqual(full, signedIn);
      assert.equal(await whoAmI(base, `slipway-session=${full}`), 200);
    });

    it("opens nothing with the half-signed-in cookie, before or after the sign-in completes", async () => {
      const hal = account("hal");
      freshStep();
      const client = new ClientFrom(base, "10.0.6.2");
      const halfway = `slipway-session=${sessionSet(await passwordStep(client, hal.name, hal.password))}`;
      const reaches = async () => {
        assert.equal(await whoAmI(base, halfway), 401);
        const proxied = await fetch(`${base}/user/hal/api/status`, { headers: { cookie: halfway } });
        assert.equal(proxied.status, 401);
        const home = await fetch(`${base}/hub/home`, {
          headers: { cookie: halfway, accept: "text/html" },
          redirect: "manual",
        });
        assert.equal(home.status, 302);
        assert.match(home.headers.get("location") ?? "", /^\/hub\/login/);
      };
      await reaches();
      assert.equal((await totpStep(client, codeFor(hal.totpSecret, clock.now()))).status, 303);
      await reaches();
      const totpPage = await fetch(`${base}/hub/login/totp`, {
        headers: { cookie: halfway, accept: "text/html" },
        redirect: "manual",
      });
      assert.equal(totpPage.status, 302, "the pending second step is gone");
    });

    it("ignores a planted session cookie and replaces it at sign-in", async () => {
      const hal = account("hal");
      const planted = randomBytes(32).toString("base64url");
      const client = new ClientFrom(base, "10.0.6.3");
      client.cookies.set("slipway-session", planted);
      assert.equal((await client.api("GET", "/hub/api/user")).status, 401);
      assert.equal((await signIn(client, hal, freshStep())).status, 303);
      assert.notEqual(client.cookies.get("slipway-session"), planted);
      assert.equal(await whoAmI(base, client.cookieHeader()), 200);
      assert.equal(await whoAmI(base, `slipway-session=${planted}`), 401);
    });

    it("does not let an attacker fix a victim's session with their own half-signed-in id", async () => {
      const hal = account("hal");
      const eli = account("eli");
      freshStep();
      const attacker = new ClientFrom(base, "10.0.6.4");
      const planted = sessionSet(await passwordStep(attacker, eli.name, eli.password));
      const victim = new ClientFrom(base, "10.0.6.5");
      victim.cookies.set("slipway-session", planted);
      assert.equal((await signIn(victim, hal, freshStep())).status, 303);
      assert.notEqual(victim.cookies.get("slipway-session"), planted);
      assert.equal(await whoAmI(base, `slipway-session=${planted}`), 401);
      const page = await attacker.page("/hub/login/totp");
      assert.equal(page.res.status, 302, "the attacker's pending sign-in ended with the victim's");
    });

    it("treats a session cookie sent twice as no session at all", async () => {
      const hal = account("hal");
      const client = new ClientFrom(base, "10.0.6.6");
      assert.equal((await signIn(client, hal, freshStep())).status, 303);
      const value = client.cookies.get("slipway-session") ?? "";
      assert.equal(await whoAmI(base, `slipway-session=${value}`), 200, "control: one cookie works");
      for (const cookie of [
        `slipway-session=${value}; slipway-session=${value}`,
        `slipway-session=tossed; slipway-session=${value}`,
        `slipway-session=${value}; other=1; slipway-session=tossed`,
      ]) {
        assert.equal(await whoAmI(base, cookie), 401, cookie);
        const proxied = await fetch(`${base}/user/hal/api/status`, { headers: { cookie } });
        assert.equal(proxied.status, 401, cookie);
      }
    });

    it("marks the session and sign-in cookies HttpOnly, SameSite=Lax, Path=/ and host-only", async () => {
      const hal = account("hal");
      freshStep();
      const client = new ClientFrom(base, "10.0.6.7");
      const loginPage = await client.request("/hub/login", { headers: { accept: "text/html" } });
      await loginPage.body?.cancel();
      const password = await passwordStep(client, hal.name, hal.password);
      const totp = await totpStep(client, codeFor(hal.totpSecret, clock.now()));
      const cookies = [...setCookies(loginPage), ...setCookies(password), ...setCookies(totp)];
      assert.deepEqual([...new Set(cookies.map((c) => c.name))].sort(), [
        "slipway-login-xsrf",
        "slipway-session",
      ]);
      for (const c of cookies) {
        assert.ok(c.attributes.has("httponly"), `${c.name} HttpOnly`);
        assert.ok(c.attributes.has("samesite=lax"), `${c.name} SameSite=Lax`);
        assert.ok(c.attributes.has("path=/"), `${c.name} Path=/`);
        assert.ok(![...c.attributes].some((a) => a.startsWith("domain=")), `${c.name} has no Domain`);
      }
    });

    it("ends a session left unused for the idle timeout, on the API, pages and proxy", async () => {
      const ivy = account("ivy");
      const client = new ClientFrom(base, "10.0.7.1");
      assert.equal((await signIn(client, ivy, freshStep())).status, 303);
      const cookie = client.cookieHeader();
      clock.advance(590_000);
      assert.equal(await whoAmI(base, cookie), 200);
      clock.advance(590_000);
      assert.equal(await whoAmI(base, cookie), 200, "use keeps the session alive");
      clock.advance(610_000);
      assert.equal(await whoAmI(base, cookie), 401);
      assert.equal((await fetch(`${base}/user/ivy/api/status`, { headers: { cookie } })).status, 401);
      const home = await fetch(`${base}/hub/home`, {
        headers: { cookie, accept: "text/html" },
        redirect: "manual",
      });
      assert.equal(home.status, 302);
    });

    it("ends a session at its maximum age however busy it is", async () => {
      const ivy = account("ivy");
      const client = new ClientFrom(base, "10.0.7.2");
      assert.equal((await signIn(client, ivy, freshStep())).status, 303);
      const cookie = client.cookieHeader();
      for (let elapsed = 590; elapsed <= 3540; elapsed += 590) {
        clock.advance(590_000);
        assert.equal(await whoAmI(base, cookie), 200, `after ${elapsed} s`);
      }
      clock.advance(61_000);
      assert.equal(await whoAmI(base, cookie), 401, "after 3601 s");
      assert.equal((await fetch(`${base}/user/ivy/api/status`, { headers: { cookie } })).status, 401);
    });
  });
});

describe("cookies behind an https public URL", () => {
  const publicUrl = "https://hub.example.test";
  let hub: TestHub;
  let listening: string;
  let client: HttpsClient;

  /** Talks to the plain-http listener as a browser on the https site would (Origin is the site). */
  class HttpsClient extends HubClient {
    readonly seen: SetCookie[] = [];

    override async request(path: string, init: Init = {}): Promise<Response> {
      const headers = headersOf(init);
      if (headers["origin"] !== undefined) headers["origin"] = publicUrl;
      const res = await super.request(path, { ...init, headers });
      this.seen.push(...setCookies(res));
      return res;
    }
  }

  before(async () => {
    hub = await startTestHub({ hub: { publicUrl } }, { name: "https-cookies" });
    listening = `http://127.0.0.1:${hub.port}`;
    assert.ok(hub.firstAdminUrl);
    rememberSecret(new URL(hub.firstAdminUrl).pathname.split("/").pop() ?? "");
    client = new HttpsClient(listening);
    await completeSetup(
      client,
      new URL(hub.firstAdminUrl).pathname,
      { name: "admin", password: "pw-admin-correct-horse" },
      { askName: true },
    );
  });

  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("names its cookies __Host- and marks them Secure, HttpOnly, SameSite=Lax, Path=/", () => {
    assert.ok(client.seen.length >= 2);
    assert.deepEqual([...new Set(client.seen.map((c) => c.name))].sort(), [
      "__Host-slipway-login-xsrf",
      "__Host-slipway-session",
    ]);
    for (const c of client.seen) {
      for (const attribute of ["secure", "httponly", "samesite=lax", "path=/"]) {
        assert.ok(c.attributes.has(attribute), `${c.name} ${attribute}`);
      }
      assert.ok(![...c.attributes].some((a) => a.startsWith("domain=")), `${c.name} has no Domain`);
    }
  });

  it("reads the session only from the __Host- cookie, never from a tossed bare name", async () => {
    const value = client.cookies.get("__Host-slipway-session") ?? "";
    assert.equal(await whoAmI(listening, `__Host-slipway-session=${value}`), 200);
    assert.equal(await whoAmI(listening, `slipway-session=${value}`), 401);
  });

  it("sends HSTS and takes cookie writes only from the https origin", async () => {
    const home = await client.page("/hub/home");
    assert.equal(home.res.status, 200);
    assert.match(home.res.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
    const cookie = client.cookieHeader();
    const write = (origin: string) =>
      fetch(`${listening}/hub/api/users/admin/tokens`, {
        method: "POST",
        headers: {
          cookie,
          origin,
          "x-xsrf-token": client.xsrf,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({ note: "https" }),
      });
    const plain = await write(listening);
    assert.equal(plain.status, 403);
    assert.equal(((await plain.json()) as { code: string }).code, "cross_origin");
    const same = await write(publicUrl);
    assert.equal(same.status, 201);
    rememberSecret(((await same.json()) as { token: string }).token);
  });
});

describe("signing out, and credentials at the proxy (real Jupyter)", () => {
  const clock = new FakeClock();
  let hub: TestHub;
  let wes: SignedIn;
  let token: string;
  let kernel: string;

  const freshStep = (): Date => {
    clock.set(new Date(Math.floor(clock.now().getTime() / STEP) * STEP + STEP + 5_000));
    return clock.now();
  };
  const withToken = (method: string, path: string, body?: unknown) =>
    fetch(hub.url + path, {
      method,
      headers: {
        authorization: `token ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const channels = (server: string, id: string) =>
    `${hub.url.replace("http", "ws")}/user/wes/${server ? `${server}/` : ""}api/kernels/${id}/channels`;
  const freshSession = async (): Promise<HubClient> => {
    const client = new HubClient(hub.url);
    assert.equal((await signIn(client, wes.account, freshStep())).status, 303);
    return client;
  };

  before(async () => {
    hub = await startTestHub({ servers: { pollInterval: 3600 } }, { name: "sign-out", clock });
    const admin = await firstAdmin(hub);
    wes = await addUser(hub, admin.client, "wes");
    // Enrolment used codes of the real time, which may be a step ahead of this clock: start past them.
    clock.set(new Date(Date.now() + 2 * STEP));
    token = await apiToken(wes);
    await Promise.all([startServer(hub.url, token, "wes"), startServer(hub.url, token, "wes", "doomed", {})]);
    const created = await withToken("POST", "/user/wes/api/kernels", { name: "python3" });
    assert.equal(created.status, 201);
    kernel = ((await created.json()) as { id: string }).id;
  });

  after(async () => {
    for (const path of ["/hub/api/users/wes/server", "/hub/api/users/wes/servers/doomed"]) {
      await withToken("DELETE", path).catch(() => undefined);
    }
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it("ends the session on the server: the old cookie gets 401 from the API and is turned away by the proxy", async () => {
    const client = await freshSession();
    const cookie = client.cookieHeader();
    assert.equal(await whoAmI(hub.url, cookie), 200);
    const status = await fetch(`${hub.url}/user/wes/api/status`, { headers: { cookie } });
    assert.equal(status.status, 200, "control: the session reaches the server");

    const out = await client.postForm("/hub/logout", { _xsrf: client.xsrf });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/hub/login");

    assert.equal(await whoAmI(hub.url, cookie), 401);
    const api = await fetch(`${hub.url}/user/wes/api/status`, { headers: { cookie } });
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { code: string }).code, "not_authenticated");
    const page = await fetch(`${hub.url}/user/wes/api/status`, {
      headers: { cookie, accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(page.status, 302);
    assert.match(page.headers.get("location") ?? "", /^\/hub\/login\?next=/);
  });

  it(
    "closes an open kernel websocket at sign-out and refuses the handshake replayed with the old cookie",
    {
      timeout: 20_000,
    },
    async () => {
      const client = await freshSession();
      const cookie = client.cookieHeader();
      const ws = new WebSocket(channels("", kernel), { headers: { cookie, origin: hub.url } });
      await once(ws, "open");
      const closed = once(ws, "close");
      const out = await client.postForm("/hub/logout", { _xsrf: client.xsrf });
      assert.equal(out.status, 303);
      await closed;
      assert.equal(await tryWebsocket(channels("", kernel), { cookie, origin: hub.url }), 401);
      assert.equal(
        await tryWebsocket(channels("", kernel), { authorization: `token ${token}` }),
        "open",
        "control: the kernel itself is still there",
      );
    },
  );

  it("takes no API token from the query string, on the proxy or the hub", async () => {
    const api = await fetch(`${hub.url}/user/wes/api/status?token=${token}`);
    assert.equal(api.status, 401);
    const page = await fetch(`${hub.url}/user/wes/tree?token=${token}`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(page.status, 302);
    assert.match(page.headers.get("location") ?? "", /^\/hub\/login\?/);
    assert.equal((await fetch(`${hub.url}/hub/api/user?token=${token}`)).status, 401);
    const home = await fetch(`${hub.url}/hub/home?token=${token}`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(home.status, 302);
    assert.equal(
      await tryWebsocket(`${channels("", kernel)}?token=${token}`, { origin: hub.url }),
      401,
      "nor on a websocket handshake",
    );
  });

  it(
    "keeps credentials out of the logs when requests carrying them fail, a dead server's included",
    {
      timeout: 20_000,
    },
    async () => {
      const client = await freshSession();
      const session = client.cookies.get("slipway-session") ?? "";
      const secrets = {
        authorization: `token ${token}`,
        referer: `${hub.url}/hub/token?token=${token}&_xsrf=${client.xsrf}`,
        cookie: client.cookieHeader(),
        "x-xsrf-token": client.xsrf,
      };

      // The named server's own process is killed from its kernel, so the proxy meets a dead target.
      const made = await withToken("POST", "/user/wes/doomed/api/kernels", { name: "python3" });
      assert.equal(made.status, 201);
      const doomedKernel = ((await made.json()) as { id: string }).id;
      const ws = new WebSocket(channels("doomed", doomedKernel), {
        headers: { authorization: `token ${token}` },
      });
      await once(ws, "open");
      const closed = once(ws, "close");
      ws.send(executeRequest("import os; os.kill(os.getppid(), 9)"));
      await closed;

      const dead = await fetch(`${hub.url}/user/wes/doomed/api/contents?token=${token}`, {
        headers: secrets,
      });
      assert.ok(dead.status >= 500, `a dead server answered ${dead.status}`);
      const failures = [
        fetch(`${hub.url}/hub/api/users/wes/tokens`, {
          method: "POST",
          headers: { ...secrets, "content-type": "application/json" },
          body: "{not json",
        }),
        fetch(`${hub.url}/hub/api/users/wes/tokens`, {
          method: "POST",
          headers: { ...secrets, "content-type": "application/json" },
          body: JSON.stringify({ note: "x".repeat(200_000) }),
        }),
        fetch(`${hub.url}/hub/api/users/nobody?token=${token}`, { headers: secrets }),
        fetch(`${hub.url}/user/wes/%ZZ/api?token=${token}`, { headers: secrets }),
      ];
      for (const res of await Promise.all(failures)) {
        assert.ok(res.status >= 400, String(res.status));
        await res.body?.cancel();
      }

      const log = readFileSync(hub.logFile, "utf8");
      assert.match(
        log,
        /"serverName":"doomed".*"msg":"user's server did not answer"/,
        "the failed proxying was logged",
      );
      for (const secret of [token, session, client.xsrf]) {
        assert.ok(!log.includes(secret), `a credential reached ${hub.logFile}`);
      }
    },
  );
});

function executeRequest(code: string): string {
  return JSON.stringify({
    header: {
      msg_id: randomUUID(),
      username: "test",
      session: randomUUID(),
      msg_type: "execute_request",
      version: "5.3",
      date: new Date().toISOString(),
    },
    parent_header: {},
    metadata: {},
    content: {
      code,
      silent: false,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    },
    channel: "shell",
    buffers: [],
  });
}
