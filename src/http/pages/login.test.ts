import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { SlipwayError } from "../../domain/errors.js";
import type { Authenticator, SignInStart } from "../../ports/authenticator.js";
import { openLocalAccounts, type LocalAccountsFixture } from "../../auth/local-accounts-test-fixture.js";
import { newToken, sha256Hex } from "../../auth/random-token.js";
import type { AccessPolicy } from "../../domain/access-policy.js";
import { AuditService } from "../../services/audit-service.js";
import { SignInService } from "../../services/sign-in-service.js";
import { TokenService } from "../../services/token-service.js";
import { cookieNames, readCookie } from "../cookies.js";
import { registerLoginPage } from "./login.js";

/**
 * A method that names the user in `x-remote-user` (as a front door would) and may carry a `next`
 * of its own, beginning however the test says. `seen` has the header as each request gave it.
 */
function headerMethod(
  start: SignInStart,
  carriedNext?: string,
): Authenticator & { seen: (string | undefined)[] } {
  const seen: (string | undefined)[] = [];
  return {
    seen,
    kind: "test",
    capabilities: { keepsPasswords: false, ownSecondFactor: false, visitsProvider: false },
    begin: async () => start,
    complete: async (request) => {
      const name = request.header("x-remote-user");
      seen.push(name);
      if (name === undefined) throw new SlipwayError("not_authenticated");
      const identity = { name, displayName: name, groups: [] as const, authState: null };
      return carriedNext === undefined
        ? { kind: "identity", identity }
        : { kind: "identity", identity, next: carriedNext };
    },
    logoutUrl: async () => "/hub/login",
  };
}

const openAccess: AccessPolicy = {
  allowedGroups: [],
  adminGroups: [],
  groupMap: {},
  createUsers: false,
  zones: { default: "internal", externalIdentityProviders: [], externalGroups: [], externalClaimValues: [] },
};

describe("the sign-in page, whatever the authenticator begins with", () => {
  let accounts: LocalAccountsFixture;
  let app: FastifyInstance | undefined;
  const cookies = cookieNames(false);

  beforeEach(async () => {
    accounts = await openLocalAccounts();
  });

  afterEach(async () => {
    await app?.close();
    await accounts.dispose();
  });

  const serve = async (authenticator: Authenticator): Promise<FastifyInstance> => {
    const random = { token: () => newToken(32), sha256: sha256Hex };
    const log = pino({ level: "silent" });
    const tokens = new TokenService({
      ...accounts,
      random,
      log,
      maxExpiresInSeconds: undefined,
      cacheTtlMs: 0,
    });
    app = Fastify();
    await app.register(cookie);
    await app.register(formbody);
    const audit = new AuditService({ store: accounts.store, clock: accounts.clock, log });
    const signIn = new SignInService({
      store: accounts.store,
      sessions: accounts.sessions,
      sealer: accounts.sealer,
      audit,
      policy: openAccess,
      method: authenticator.kind,
      log,
      clock: accounts.clock,
    });
    const ctx = {
      authenticator,
      identity: accounts.identity,
      sessions: accounts.sessions,
      signIn,
      tokens,
      cookies,
      publicOrigin: "http://hub.test",
      trustForwarded: false,
      logoutClearCookies: [],
    };
    registerLoginPage(app, ctx, () => newToken(32));
    return app;
  };

  const sessionOf = (setCookie: string | string[] | undefined): string | undefined =>
    readCookie(
      [setCookie ?? []]
        .flat()
        .map((line) => line.split(";")[0])
        .join("; "),
      cookies.session,
    );

  it("shows the hub's own form to a form method, with the sign-in form's XSRF cookie", async () => {
    const res = await (await serve(headerMethod({ kind: "form" }))).inject("/hub/login");
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<form method="post" action="\/hub\/login">/);
    assert.ok(readCookie(`${res.headers["set-cookie"]}`.split(";")[0], cookies.loginXsrf));
  });

  it("sends the browser where a redirecting method begins, with its handle in the session cookie", async () => {
    const start = {
      kind: "redirect",
      location: "https://idp.test/auth?state=s1",
      handle: "handle-1",
    } as const;
    const res = await (await serve(headerMethod(start))).inject("/hub/login?next=/hub/spawn");
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, "https://idp.test/auth?state=s1");
    assert.equal(sessionOf(res.headers["set-cookie"]), "handle-1");
  });

  it("signs in at once from a request that carries the identity, and lands on next", async () => {
    const hub = await serve(headerMethod({ kind: "complete" }));
    const res = await hub.inject({
      url: "/hub/login?next=/hub/spawn",
      headers: { "x-remote-user": "alice" },
    });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, "/hub/spawn");
    const session = await accounts.sessions.resolveSession(sessionOf(res.headers["set-cookie"]) ?? "");
    assert.equal(session?.session.stage, "full");
    assert.equal(session?.user.name, "alice");
  });

  it("gives the method no header that was sent twice, and starts no session", async () => {
    const method = headerMethod({ kind: "complete" });
    const hub = await serve(method);
    const res = await hub.inject({ url: "/hub/login", headers: { "x-remote-user": ["alice", "alice"] } });
    assert.deepEqual(method.seen, [undefined]);
    assert.notEqual(res.statusCode, 303);
    assert.equal(sessionOf(res.headers["set-cookie"]), undefined);
    assert.equal(await accounts.sessionCount(), 0);
  });

  it("lands on this hub whatever next the method carried across its redirect", async () => {
    const hub = await serve(headerMethod({ kind: "complete" }, "https://elsewhere.test/phish"));
    const res = await hub.inject({ url: "/hub/login", headers: { "x-remote-user": "alice" } });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, "/hub/home");
  });
});
