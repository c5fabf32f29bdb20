import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SignInOutcome, SignInRequest } from "../ports/authenticator.js";
import { rejectsWithCode } from "../store/contract/contract-kit.js";
import {
  authenticatorContract,
  type AuthenticatorFixture,
  type Credential,
} from "./contract/authenticator.contract.js";
import {
  ALICE_PASSWORD,
  FREE_FAILURES_PER_ADDRESS,
  openLocalAccounts,
  type LocalAccountsFixture,
} from "./local-accounts-test-fixture.js";
import { LocalAuthenticator } from "./local-authenticator.js";

/** A code that is not `right`: its first digit changed. */
function wrongCode(right: string): string {
  return `${(Number(right[0]) + 1) % 10}${right.slice(1)}`;
}

interface LocalFixture extends AuthenticatorFixture {
  answerStep: NonNullable<AuthenticatorFixture["answerStep"]>;
  readonly accounts: LocalAccountsFixture;
}

/** The built-in accounts' authenticator, and the parts of alice and her authenticator app. */
async function openLocal(totp: "optional" | "required" = "optional"): Promise<LocalFixture> {
  const accounts = await openLocalAccounts({ totp });
  const { identity, store, clock, sealer, codes, alice } = accounts;
  let secret: string | undefined;
  const code = (seed: string, credential: Credential): string => {
    const right = codes.codeAt(seed, clock.now());
    return credential === "right" ? right : wrongCode(right);
  };
  const request = (
    fields: Omit<SignInRequest, "header" | "headerValues" | "peer" | "address">,
  ): SignInRequest => ({
    header: () => undefined,
    headerValues: () => [],
    peer: "127.0.0.1",
    address: "192.0.2.1",
    ...fields,
  });

  return {
    authenticator: new LocalAuthenticator(identity),
    expected: { name: "alice", displayName: "alice", groups: [] },
    accounts,
    firstStep: async (start, credential) => {
      assert.equal(start.kind, "form");
      const password = credential === "right" ? ALICE_PASSWORD : `not ${ALICE_PASSWORD}`;
      return request({ params: { username: "alice", password } });
    },
    enrolSecondFactor: async () => {
      secret = codes.generateSecret();
      await store.users.setTotp(alice.id, sealer.seal(secret));
    },
    answerStep: async (step, handle, credential) => {
      if (step === "enrol-second-factor") {
        const enrolment = await identity.beginTotpEnrolment(alice);
        const params = { pending: enrolment.pending, code: code(enrolment.secret, credential) };
        return request({ step, handle, params });
      }
      if (secret === undefined) throw new Error("the account has no second factor to answer");
      return request({ step, handle, params: { code: code(secret, credential) } });
    },
    sessionCount: () => accounts.sessionCount(),
    dispose: () => accounts.dispose(),
  };
}

async function withLocal(
  totp: "optional" | "required",
  body: (fixture: LocalFixture) => Promise<void>,
): Promise<void> {
  const fixture = await openLocal(totp);
  try {
    await body(fixture);
  } finally {
    await fixture.dispose();
  }
}

function stepOf(outcome: SignInOutcome): { step: string; handle: string } {
  assert.ok(outcome.kind === "step", `expected a step, got ${outcome.kind}`);
  return outcome;
}

authenticatorContract("Built-in accounts", { open: () => openLocal() });

describe("LocalAuthenticator", () => {
  it("keeps passwords and has a second factor of its own", () =>
    withLocal("optional", async ({ authenticator }) => {
      assert.deepEqual(authenticator.capabilities, {
        keepsPasswords: true,
        ownSecondFactor: true,
        visitsProvider: false,
      });
      assert.equal(authenticator.kind, "local");
    }));

  it("sends a signed-out browser back to the hub's sign-in page", () =>
    withLocal("optional", async ({ authenticator }) => {
      assert.equal(await authenticator.logoutUrl(null), "/hub/login");
    }));

  it("asks for an authenticator's enrolment when TOTP is required, then for its codes", () =>
    withLocal("required", async (fixture) => {
      const { authenticator } = fixture;
      const { clock, store, alice } = fixture.accounts;
      const first = await fixture.firstStep(await authenticator.begin("/hub/home"), "right");
      const enrol = stepOf(await authenticator.complete(first));
      assert.equal(enrol.step, "enrol-second-factor");
      assert.equal(await fixture.sessionCount(), 1, "the step is a session of its own");
      const answer = (credential: Credential) =>
        fixture.answerStep("enrol-second-factor", enrol.handle, credential);
      await rejectsWithCode(authenticator.complete(await answer("wrong")), "invalid_totp");
      const signedIn = await authenticator.complete(await answer("right"));
      assert.equal(signedIn.kind === "identity" && signedIn.identity.name, "alice");
      assert.equal(await fixture.sessionCount(), 0, "the step's session ended; the hub starts the full one");
      assert.equal((await store.users.getById(alice.id))?.totpEnrolled, true);

      clock.advance(30_000);
      assert.equal(stepOf(await authenticator.complete(first)).step, "second-factor");
    }));

  it("refuses a disabled account with user_disabled, and starts no step", () =>
    withLocal("optional", async (fixture) => {
      await fixture.accounts.store.users.update(fixture.accounts.alice.id, { disabled: true });
      const first = await fixture.firstStep(await fixture.authenticator.begin("/hub/home"), "right");
      await rejectsWithCode(fixture.authenticator.complete(first), "user_disabled");
      assert.equal(await fixture.sessionCount(), 0);
    }));

  it("counts attempts under the request's address, not its peer", () =>
    withLocal("optional", async ({ authenticator }) => {
      const from = (address: string, name: string): SignInRequest => ({
        params: { username: name, password: "not the password" },
        header: () => undefined,
        headerValues: () => [],
        peer: "127.0.0.1",
        address,
      });
      for (let i = 0; i < FREE_FAILURES_PER_ADDRESS; i++) {
        await rejectsWithCode(
          authenticator.complete(from("192.0.2.7", `nobody-${i}`)),
          "invalid_credentials",
        );
      }
      await rejectsWithCode(authenticator.complete(from("192.0.2.7", "someone")), "too_many_attempts");
      await rejectsWithCode(authenticator.complete(from("192.0.2.8", "someone")), "invalid_credentials");
    }));
});
