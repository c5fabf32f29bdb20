import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { isSlipwayError } from "../../domain/errors.js";
import type {
  Authenticator,
  Identity,
  SignInOutcome,
  SignInRequest,
  SignInStart,
  SignInStep,
} from "../../ports/authenticator.js";

export type Credential = "right" | "wrong";

/** How one authenticator plugs into the contract: a fresh one for each test. */
export interface AuthenticatorHarness {
  open(): Promise<AuthenticatorFixture>;
}

/** An authenticator over a hub of its own that knows one account, and the parts the test plays. */
export interface AuthenticatorFixture {
  readonly authenticator: Authenticator;
  /** What the method must vouch for when the account's holder signs in (`authState` is its own). */
  readonly expected: Omit<Identity, "authState">;
  /**
   * Plays the browser's part after `begin`, and the IdP's or the front door's where there is one:
   * the request that answers `start` as the account's holder, with the right credential or a
   * wrong one (a wrong password, a code the IdP never issued, a header from an untrusted peer).
   * Requests are plain objects: the suite copies them with a field changed.
   */
  firstStep(start: SignInStart, credential: Credential): Promise<SignInRequest>;
  /** Methods with a second factor of their own: gives the account one from now on. */
  enrolSecondFactor?(): Promise<void>;
  /** Methods with a second factor of their own: the request that answers `step` for `handle`. */
  answerStep?(step: SignInStep, handle: string, credential: Credential): Promise<SignInRequest>;
  /** How many sessions, pending or full, the hub's store holds: a refusal adds none. */
  sessionCount(): Promise<number>;
  dispose(): Promise<void>;
}

/** A request with nothing in it, from the loopback address. */
export const EMPTY_REQUEST: SignInRequest = {
  params: {},
  header: () => undefined,
  headerValues: () => [],
  peer: "127.0.0.1",
  address: "127.0.0.1",
};

// Cases an implementation may skip, decided here from what the method says of itself (Hono's habit
// of naming each skip and its reason):
const SKIP_NO_OWN_SECOND_FACTOR =
  "the method has no second factor of its own: the IdP or the front door asks for it, out of the hub's sight";
const SKIP_NOTHING_PENDING =
  "the method keeps nothing between requests (a front door vouches for each request afresh): there is no pending sign-in to replay or forge";

/** A refusal is a client error with a code, never a fault of the hub. */
async function refused(attempt: Promise<unknown>): Promise<void> {
  await assert.rejects(attempt, (error: unknown) => {
    assert.ok(isSlipwayError(error), `expected a SlipwayError, got ${String(error)}`);
    assert.ok(error.status >= 400 && error.status < 500, `${error.code} is not a refusal`);
    return true;
  });
}

function identityOf(outcome: SignInOutcome): Identity {
  assert.equal(outcome.kind, "identity", `expected an identity, got ${JSON.stringify(outcome)}`);
  assert.ok(outcome.kind === "identity");
  return outcome.identity;
}

/** Begin, answer, and answer every step the method asks for, all with the same credential. */
async function signIn(fixture: AuthenticatorFixture, credential: Credential): Promise<SignInOutcome> {
  const { authenticator } = fixture;
  let outcome = await authenticator.complete(
    await fixture.firstStep(await authenticator.begin("/hub/home"), credential),
  );
  for (let steps = 0; outcome.kind === "step" && fixture.answerStep && steps < 3; steps++) {
    outcome = await authenticator.complete(
      await fixture.answerStep(outcome.step, outcome.handle, credential),
    );
  }
  return outcome;
}

/**
 * A completion that continues a pending sign-in, so may be used once: the answer to the method's
 * own second factor, or an IdP's callback. Undefined for a method that keeps nothing pending.
 */
async function pendingCompletion(fixture: AuthenticatorFixture): Promise<SignInRequest | undefined> {
  const { authenticator } = fixture;
  const start = await authenticator.begin("/hub/home");
  if (authenticator.capabilities.ownSecondFactor && fixture.enrolSecondFactor && fixture.answerStep) {
    await fixture.enrolSecondFactor();
    const outcome = await authenticator.complete(await fixture.firstStep(start, "right"));
    assert.equal(outcome.kind, "step");
    assert.ok(outcome.kind === "step");
    return fixture.answerStep(outcome.step, outcome.handle, "right");
  }
  return start.kind === "redirect" ? fixture.firstStep(start, "right") : undefined;
}

type WithFixture = (
  body: (fixture: AuthenticatorFixture, t: TestContext) => Promise<void>,
) => (t: TestContext) => Promise<void>;

/** Registers the behaviour every authenticator must have, for one implementation. */
export function authenticatorContract(name: string, harness: AuthenticatorHarness): void {
  const withFixture: WithFixture = (body) => async (t) => {
    const fixture = await harness.open();
    try {
      await body(fixture, t);
    } finally {
      await fixture.dispose();
    }
  };
  describe(`${name}: the Authenticator contract`, () => {
    signingInCases(withFixture);
    pendingSignInCases(withFixture);
  });
}

/** From `begin` to an identity or a refusal, and the way out. */
function signingInCases(withFixture: WithFixture): void {
  it(
    "begins the same way every time, and a redirect with a new handle each time",
    withFixture(async ({ authenticator }) => {
      const first = await authenticator.begin("/hub/home");
      const second = await authenticator.begin("/hub/spawn");
      assert.equal(second.kind, first.kind);
      if (first.kind === "redirect" && second.kind === "redirect") {
        assert.match(new URL(first.location).protocol, /^https?:$/);
        assert.notEqual(first.handle, second.handle);
      }
    }),
  );

  it(
    "vouches for the account's holder under the account's name",
    withFixture(async (fixture) => {
      assert.equal(identityOf(await signIn(fixture, "right")).name, fixture.expected.name);
    }),
  );

  it(
    "gives the display name, groups and zone the method has for the account, and no others",
    withFixture(async (fixture) => {
      const identity = identityOf(await signIn(fixture, "right"));
      assert.deepEqual(
        { displayName: identity.displayName, groups: [...identity.groups].sort(), zone: identity.zone },
        {
          displayName: fixture.expected.displayName,
          groups: [...fixture.expected.groups].sort(),
          zone: fixture.expected.zone,
        },
      );
    }),
  );

  it(
    "refuses a wrong credential and leaves no session behind",
    withFixture(async (fixture) => {
      const start = await fixture.authenticator.begin("/hub/home");
      await refused(fixture.authenticator.complete(await fixture.firstStep(start, "wrong")));
      assert.equal(await fixture.sessionCount(), 0);
    }),
  );

  it(
    "refuses a request that carries nothing, and leaves no session behind",
    withFixture(async (fixture) => {
      await refused(fixture.authenticator.complete(EMPTY_REQUEST));
      assert.equal(await fixture.sessionCount(), 0);
    }),
  );

  it(
    "sends a signed-out browser to a path on this hub or to an http(s) URL elsewhere",
    withFixture(async (fixture) => {
      const identity = identityOf(await signIn(fixture, "right"));
      const url = await fixture.authenticator.logoutUrl(identity.authState);
      if (url.startsWith("/")) assert.match(url, /^\/(?![/\\])/, "a path, not a scheme-relative URL");
      else assert.match(new URL(url).protocol, /^https?:$/);
    }),
  );
}

/** Sign-ins that wait between requests: the method's own second factor, a trip to an IdP. */
function pendingSignInCases(withFixture: WithFixture): void {
  /** A case about a pending sign-in's completion, skipped for a method that keeps none. */
  const withPending = (body: (fixture: AuthenticatorFixture, pending: SignInRequest) => Promise<void>) =>
    withFixture(async (fixture, t) => {
      const pending = await pendingCompletion(fixture);
      if (pending) await body(fixture, pending);
      else t.skip(SKIP_NOTHING_PENDING);
    });

  it(
    "asks an account with its own second factor for it: the pending step is no identity",
    withFixture(async (fixture, t) => {
      const { authenticator, enrolSecondFactor, answerStep } = fixture;
      if (!authenticator.capabilities.ownSecondFactor || !enrolSecondFactor || !answerStep) {
        t.skip(SKIP_NO_OWN_SECOND_FACTOR);
        return;
      }
      await enrolSecondFactor();
      const outcome = await authenticator.complete(
        await fixture.firstStep(await authenticator.begin("/hub/home"), "right"),
      );
      assert.deepEqual(outcome.kind === "step" && outcome.step, "second-factor");
      assert.ok(outcome.kind === "step");
      await refused(authenticator.complete(await answerStep(outcome.step, outcome.handle, "wrong")));
      const identity = identityOf(
        await authenticator.complete(await answerStep(outcome.step, outcome.handle, "right")),
      );
      assert.equal(identity.name, fixture.expected.name);
    }),
  );

  it(
    "refuses to continue a sign-in it never began, even with the right answer",
    withPending(async (fixture, pending) => {
      await refused(fixture.authenticator.complete({ ...pending, handle: "never-given" }));
      await refused(fixture.authenticator.complete({ ...pending, handle: undefined }));
      identityOf(await fixture.authenticator.complete(pending));
    }),
  );

  it(
    "completes a pending sign-in once: the same answer again vouches for no one",
    withPending(async (fixture, pending) => {
      identityOf(await fixture.authenticator.complete(pending));
      await refused(fixture.authenticator.complete(pending));
    }),
  );

  it(
    "lets exactly one of two simultaneous answers to one pending sign-in through",
    withPending(async (fixture, pending) => {
      const settled = await Promise.allSettled([
        fixture.authenticator.complete(pending),
        fixture.authenticator.complete(pending),
      ]);
      const identities = settled.filter((s) => s.status === "fulfilled" && s.value.kind === "identity");
      assert.equal(identities.length, 1);
      const loser = settled.find((s) => s.status === "rejected");
      assert.ok(loser?.status === "rejected");
      await refused(Promise.reject(loser.reason));
    }),
  );
}
