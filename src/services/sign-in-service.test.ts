import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import pino from "pino";
import type { AccessPolicy } from "../domain/access-policy.js";
import type { Identity } from "../ports/authenticator.js";
import type { Store } from "../ports/store.js";
import { openStore } from "../store/open-store.js";
import { FakeClock } from "../store/store.contract.js";
import { AuditService } from "./audit-service.js";
import { SessionService } from "./session-service.js";
import { SignInService } from "./sign-in-service.js";

const MINUTE = 60_000;
const ISSUER = "https://sso.example.org/realms/sdcc";
const POLICY: AccessPolicy = {
  allowedGroups: ["/sdcc/users"],
  adminGroups: ["/sdcc/admins"],
  groupMap: { "/sdcc/gpu": "gpu" },
  createUsers: true,
  zones: {
    default: "internal",
    externalIdentityProviders: ["cilogon"],
    externalGroups: [],
    externalClaimValues: [],
  },
};

let tokens = 0;
const random = {
  token: () => `token-${++tokens}`,
  sha256: (value: string) => createHash("sha256").update(value).digest("hex"),
};
/** Sealing is not what is tested here: a visible wrapper. */
const sealer = { seal: (plain: string) => `sealed:${plain}`, open: (sealed: string) => sealed.slice(7) };

function person(name: string, subject: string, groups: string[], extra: Partial<Identity> = {}): Identity {
  return {
    name,
    displayName: `${name} (display)`,
    email: `${name}@example.org`,
    groups,
    provider: { issuer: ISSUER, subject, session: `sid-${subject}` },
    authState: { idToken: `id-token-of-${subject}` },
    ...extra,
  };
}

describe("SignInService", () => {
  let store: Store;
  let clock: FakeClock;

  const service = (policy: AccessPolicy = POLICY) => {
    const log = pino({ level: "silent" });
    const sessions = new SessionService({
      store,
      clock,
      random,
      policy: { sessionIdleTimeoutMs: 60 * MINUTE, sessionMaxAgeMs: 24 * 60 * MINUTE, cacheTtlMs: 0 },
      log,
    });
    const audit = new AuditService({ store, clock, log });
    return new SignInService({ store, sessions, sealer, audit, policy, method: "oidc", log, clock });
  };
  const refusals = async () =>
    (await store.audit.list({ kinds: ["sign_in_refused"] }, 100)).items.map((e) => [e.subject, e.reason]);

  beforeEach(async () => {
    clock = new FakeClock(new Date(Date.UTC(2025, 2, 1, 12)));
    store = await openStore("sqlite::memory:", { clock });
    await store.migrate();
  });

  afterEach(() => store.close());

  it("starts a session for one of the hub's own accounts only when it exists and is enabled", async () => {
    const alice = await store.users.create({ name: "alice", admin: false });
    const local: Identity = { name: "alice", displayName: "alice", groups: [], authState: null };
    const signIn = service();
    const started = await signIn.start(local, "192.0.2.1");
    assert.deepEqual([started.session.stage, started.user.id], ["full", alice.id]);
    await assert.rejects(signIn.start({ ...local, name: "nobody" }, "192.0.2.1"), {
      code: "not_authenticated",
    });
    await store.users.update(alice.id, { disabled: true });
    await assert.rejects(signIn.start(local, "192.0.2.1"), { code: "user_disabled" });
    assert.deepEqual(await refusals(), [
      ["alice", "user_disabled"],
      ["nobody", "not_authenticated"],
    ]);
  });

  it("makes an account at the first sign-in, binds it to the subject, and keeps what the provider says", async () => {
    const started = await service().start(
      person("alice", "s-a", ["/sdcc/users", "/sdcc/gpu", "/sdcc/admins"]),
      "a",
    );
    const user = started.user;
    assert.deepEqual(
      [user.name, user.admin, user.zone, user.displayName, user.email],
      ["alice", true, "internal", "alice (display)", "alice@example.org"],
    );
    assert.equal((await store.users.findByIdentity(ISSUER, "s-a"))?.id, user.id);
    assert.deepEqual(await store.groups.groupsOf(user.id), ["gpu", "sdcc.admins", "sdcc.users"]);
    assert.deepEqual(started.session.auth, {
      kind: "oidc",
      idpIssuer: ISSUER,
      idpSubject: "s-a",
      idpSession: "sid-s-a",
      stateSealed: 'sealed:{"idToken":"id-token-of-s-a"}',
    });
    assert.deepEqual(service().authStateOf(started.session), { idToken: "id-token-of-s-a" });
  });

  it("sets admin rights, zone and groups afresh at every sign-in", async () => {
    const signIn = service();
    await signIn.start(person("alice", "s-a", ["/sdcc/users", "/sdcc/admins", "/sdcc/gpu"]), "a");
    const again = await signIn.start(
      person("alice", "s-a", ["/sdcc/users"], {
        provider: { issuer: ISSUER, subject: "s-a", brokeredBy: "cilogon" },
      }),
      "a",
    );
    assert.deepEqual([again.user.admin, again.user.zone], [false, "external"]);
    assert.deepEqual(await store.groups.groupsOf(again.user.id), ["sdcc.users"]);
  });

  it("binds an account made beforehand (slipway user add) at its holder's first sign-in", async () => {
    const made = await store.users.create({ name: "alice", admin: false });
    const started = await service({ ...POLICY, createUsers: false }).start(
      person("alice", "s-a", ["/sdcc/users"]),
      "a",
    );
    assert.equal(started.user.id, made.id);
    assert.equal(await store.users.identityOf(made.id, ISSUER), "s-a");
  });

  it("refuses, records and starts nothing for a person outside the rules or onto another's account", async () => {
    const signIn = service();
    await signIn.start(person("alice", "s-a", ["/sdcc/users"]), "a");
    const cases: [Identity, string, AccessPolicy?][] = [
      [person("eve", "s-e", ["/elsewhere"]), "not_in_allowed_group"],
      [person("alice", "s-mallory", ["/sdcc/users"]), "name_collision"],
      [person("bob", "s-b", ["/sdcc/users"]), "user_not_provisioned", { ...POLICY, createUsers: false }],
    ];
    for (const [identity, code, policy] of cases) {
      await assert.rejects(service(policy).start(identity, "a"), { code }, code);
    }
    assert.equal(await store.users.getByName("eve"), undefined);
    assert.equal(await store.users.getByName("bob"), undefined);
    const sessions = await store.sessions.deleteForIdp({ issuer: ISSUER, subject: "s-mallory" });
    assert.deepEqual(sessions, []);
    assert.deepEqual((await refusals()).map(([, reason]) => reason).sort(), [
      "name_collision",
      "not_in_allowed_group",
      "user_not_provisioned",
    ]);
  });

  it("refuses a subject whose account has another name now (renamed at the provider)", async () => {
    const signIn = service();
    await signIn.start(person("alice", "s-a", ["/sdcc/users"]), "a");
    await assert.rejects(signIn.start(person("alicia", "s-a", ["/sdcc/users"]), "a"), {
      code: "name_collision",
    });
  });

  it("ends the sessions a provider's logout names, and tells a sid it issued from one it never did", async () => {
    const signIn = service();
    const first = await signIn.start(person("alice", "s-a", ["/sdcc/users"]), "a");
    assert.equal(await signIn.providerLogout({ issuer: ISSUER, session: "sid-s-a" }, "idp"), 1);
    assert.equal(await store.sessions.get(first.session.idHash), undefined);
    assert.equal(
      await signIn.providerLogout({ issuer: ISSUER, session: "sid-s-a" }, "idp"),
      0,
      "ended already",
    );
    await assert.rejects(signIn.providerLogout({ issuer: ISSUER, session: "sid-never" }, "idp"), {
      code: "invalid_logout_token",
    });
    assert.equal(await signIn.providerLogout({ issuer: ISSUER, subject: "s-nobody" }, "idp"), 0);
  });
});
