import { isSlipwayError, SlipwayError } from "../domain/errors.js";
import { assertUserName } from "../domain/names.js";
import type { SessionStage, User } from "../domain/types.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { PasswordHashing, Sealer, TotpCodes } from "../ports/security.js";
import type { Store, ThrottleKey, ThrottleRule } from "../ports/store.js";
import {
  DEFAULT_PASSWORD_CHECK_LIMITS,
  LimitedPasswordHashing,
  type PasswordCheckLimits,
} from "./limited-password-hashing.js";
import type { SessionService, SignInResult } from "./session-service.js";

export interface IdentityPolicy {
  readonly totp: "required" | "optional";
  readonly issuer: string;
  readonly passwordMinLength: number;
  readonly setupLinkTtlMs: number;
  readonly throttle: {
    readonly freeFailures: number;
    readonly freeFailuresPerAddress: number;
    readonly baseDelay: number;
    readonly maxDelay: number;
  };
}

export interface Randomness {
  /** A fresh unguessable token (>= 256 bits), URL-safe. */
  token(): string;
  sha256(value: string): string;
}

/** A right password: the account, and the session of the step still needed when one is. */
export interface PasswordAccepted {
  readonly user: User;
  /** A session at stage "totp" or "enrol" for the second factor; null when the password was enough. */
  readonly pending: SignInResult | null;
}

export interface TotpEnrolment {
  readonly secret: string;
  readonly uri: string;
  readonly qrSvg: string;
  /** The secret sealed together with the user id, carried by the enrolment form. */
  readonly pending: string;
}

/** The counters one attempt is throttled under. */
interface AttemptKeys {
  /** The account, or the user name typed: a success clears it. */
  readonly account: string;
  /**
   * The client address: a success gives back only its own attempt, since others behind the same
   * address (a NAT, a proxy) may be the ones failing. Those others also sign in at the same
   * moment (a course starting), so the address has an allowance of its own, wider than a name's.
   */
  readonly address?: string;
}

/**
 * Attempts older than this no longer count: an address shared by many people (a NAT, a proxy)
 * must not stay slowed down forever by failures long past.
 */
const FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * Built-in accounts: passwords, TOTP, set-up links and the throttling of sign-in attempts. The
 * sign-in methods prove an account (through the steps of its second factor, each a session of its
 * own, kept by the session service) and leave the full session to `SignInService.start`,
 * which serves every authenticator.
 */
export class IdentityService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #hasher: LimitedPasswordHashing;
  readonly #totp: TotpCodes;
  readonly #sealer: Sealer;
  readonly #random: Randomness;
  readonly #policy: IdentityPolicy;
  readonly #accountRule: ThrottleRule;
  readonly #addressRule: ThrottleRule;
  readonly #log: Logger;
  readonly #sessions: SessionService;

  constructor(deps: {
    store: Store;
    clock: Clock;
    hasher: PasswordHashing;
    totp: TotpCodes;
    sealer: Sealer;
    random: Randomness;
    policy: IdentityPolicy;
    log: Logger;
    sessions: SessionService;
    passwordChecks?: PasswordCheckLimits;
  }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#hasher = new LimitedPasswordHashing(
      deps.hasher,
      deps.passwordChecks ?? DEFAULT_PASSWORD_CHECK_LIMITS,
    );
    this.#totp = deps.totp;
    this.#sealer = deps.sealer;
    this.#random = deps.random;
    this.#policy = deps.policy;
    const { freeFailures, freeFailuresPerAddress, baseDelay, maxDelay } = deps.policy.throttle;
    const rule = (free: number): ThrottleRule => ({
      policy: { freeFailures: free, baseDelaySeconds: baseDelay, maxDelaySeconds: maxDelay },
      windowMs: FAILURE_WINDOW_MS,
    });
    this.#accountRule = rule(freeFailures);
    this.#addressRule = rule(freeFailuresPerAddress);
    this.#log = deps.log;
    this.#sessions = deps.sessions;
  }

  get totpRequired(): boolean {
    return this.#policy.totp === "required";
  }

  // --- password step -------------------------------------------------------------------------

  async signInWithPassword(name: string, password: string, address: string): Promise<PasswordAccepted> {
    const keys = { account: `user:${name.toLowerCase().slice(0, 64)}`, address: `addr:${address}` };
    const user = await this.#attempt(keys, async () => {
      const found = /^[a-z0-9][a-z0-9._-]{0,31}$/.test(name)
        ? await this.#store.users.getByName(name)
        : undefined;
      const credentials = found ? await this.#store.users.getCredentials(found.id) : undefined;
      return (await this.#checkPassword(password, credentials?.passwordHash)) ? found : undefined;
    });
    if (!user) {
      this.#log.info({ event: "sign_in_failed", user: name.slice(0, 32), address }, "sign-in failed");
      throw new SlipwayError("invalid_credentials");
    }
    if (user.disabled) throw new SlipwayError("user_disabled");
    const stage: SessionStage = user.totpEnrolled ? "totp" : this.totpRequired ? "enrol" : "full";
    this.#log.info({ event: "password_ok", user: user.name, stage }, "password accepted");
    return { user, pending: stage === "full" ? null : await this.#sessions.createSession(user, stage) };
  }

  // --- TOTP ----------------------------------------------------------------------------------

  /** Second factor at sign-in: ends the session at stage "totp" and returns its user, now proven. */
  async completeTotp(sessionId: string, code: string, address: string): Promise<User> {
    const current = await this.#sessions.loadSession(sessionId);
    if (!current || current.session.stage !== "totp") throw new SlipwayError("not_authenticated");
    const user = current.user;
    const accepted = await this.#attempt(
      { account: `totp:${user.id}`, address: `addr:${address}` },
      async () => {
        const credentials = await this.#store.users.getCredentials(user.id);
        const secret = credentials?.totpSecretSealed ? this.#sealer.open(credentials.totpSecretSealed) : null;
        const step = secret ? this.#totp.verify(secret, code, this.#clock.now()) : null;
        // The step is consumed atomically in the store: a code works exactly once, across replicas.
        return step !== null && (await this.#store.users.consumeTotpStep(user.id, step)) ? step : undefined;
      },
    );
    if (accepted === undefined) {
      this.#log.info({ event: "totp_failed", user: user.name, address }, "one-time code refused");
      throw new SlipwayError("invalid_totp");
    }
    await this.#sessions.endSession(sessionId);
    this.#log.info({ event: "sign_in", user: user.name }, "signed in");
    return user;
  }

  async beginTotpEnrolment(user: User): Promise<TotpEnrolment> {
    const secret = this.#totp.generateSecret();
    const uri = this.#totp.provisioningUri({ issuer: this.#policy.issuer, account: user.name, secret });
    const qrSvg = await this.#totp.qrSvg(uri);
    const pending = this.#sealer.seal(
      JSON.stringify({ u: user.id, s: secret, t: this.#clock.now().getTime() }),
    );
    return { secret, uri, qrSvg, pending };
  }

  /**
   * Finishes the enrolment asked for at sign-in, from a session at stage "enrol": ends that
   * session and returns the user, now with an authenticator.
   */
  async completeTotpEnrolment(sessionId: string, pending: string, code: string): Promise<User> {
    const current = await this.#sessions.loadSession(sessionId);
    if (!current || current.session.stage !== "enrol") throw new SlipwayError("not_authenticated");
    return this.#finishEnrolment(sessionId, current.user, pending, code);
  }

  /**
   * Enrols an authenticator for a signed-in user who has none yet (TOTP optional). The password
   * is asked again, so a session left open on a shared machine cannot bind someone else's
   * authenticator to the account. Returns a new full session in place of the old one.
   */
  async enrolTotpSignedIn(
    sessionId: string,
    password: string,
    pending: string,
    code: string,
    address: string,
  ): Promise<SignInResult> {
    const current = await this.#sessions.loadSession(sessionId);
    if (!current || current.session.stage !== "full") throw new SlipwayError("not_authenticated");
    const user = current.user;
    if (user.totpEnrolled) {
      throw new SlipwayError("validation_failed", "Your account already has an authenticator.");
    }
    const confirmed = await this.#attempt(
      { account: `user:${user.name}`, address: `addr:${address}` },
      async () => {
        const credentials = await this.#store.users.getCredentials(user.id);
        return (await this.#checkPassword(password, credentials?.passwordHash)) ? user : undefined;
      },
    );
    if (!confirmed) throw new SlipwayError("invalid_credentials", "The password is not right.");
    return this.#sessions.createSession(await this.#finishEnrolment(sessionId, user, pending, code), "full");
  }

  /** Checks the code against the secret sealed in `pending`, stores it, and ends the session. */
  async #finishEnrolment(sessionId: string, user: User, pending: string, code: string): Promise<User> {
    let secret: string;
    try {
      const parsed: unknown = JSON.parse(this.#sealer.open(pending));
      if (
        typeof parsed !== "object" ||
        parsed === null ||
        !("u" in parsed) ||
        !("s" in parsed) ||
        !("t" in parsed) ||
        parsed.u !== user.id ||
        typeof parsed.s !== "string" ||
        typeof parsed.t !== "number" ||
        this.#clock.now().getTime() - parsed.t > 3_600_000
      ) {
        throw new Error("mismatch");
      }
      secret = parsed.s;
    } catch {
      throw new SlipwayError("validation_failed", "The enrolment expired; start again.");
    }
    const step = await this.#attempt(
      { account: `totp:${user.id}` },
      async () => this.#totp.verify(secret, code, this.#clock.now()) ?? undefined,
    );
    if (step === undefined) throw new SlipwayError("invalid_totp");
    await this.#store.users.setTotp(user.id, this.#sealer.seal(secret));
    await this.#store.users.consumeTotpStep(user.id, step);
    await this.#sessions.endSession(sessionId);
    this.#log.info({ event: "totp_enrolled", user: user.name }, "authenticator enrolled");
    const fresh = await this.#store.users.getById(user.id);
    if (!fresh) throw new SlipwayError("user_not_found");
    return fresh;
  }

  // --- set-up links --------------------------------------------------------------------------

  async createSetupLink(userId: number): Promise<string> {
    const token = this.#random.token();
    await this.#store.setupLinks.create({
      hash: this.#random.sha256(token),
      userId,
      expiresAt: new Date(this.#clock.now().getTime() + this.#policy.setupLinkTtlMs),
    });
    return token;
  }

  /** Sets the password through a one-time link and signs the user in (stage enrol or full). */
  async completeSetup(linkToken: string, password: string): Promise<SignInResult> {
    this.#checkPasswordPolicy(password);
    const hash = await this.#hasher.hash(password);
    const userId = await this.#store.setupLinks.consume(this.#random.sha256(linkToken), this.#clock.now());
    if (userId === undefined) throw new SlipwayError("setup_link_invalid");
    const user = await this.#store.users.getById(userId);
    if (!user) throw new SlipwayError("setup_link_invalid");
    if (user.disabled) throw new SlipwayError("user_disabled");
    await this.#store.users.setPassword(user.id, hash);
    // A set-up link replaces the credentials: it must not leave an old authenticator behind.
    await this.#store.users.setTotp(user.id, null);
    await this.#sessions.endUserSessions(user.id);
    const fresh = await this.#store.users.getById(user.id);
    if (!fresh) throw new SlipwayError("user_not_found");
    this.#log.info({ event: "setup_completed", user: user.name }, "account set up");
    return this.#sessions.createSession(fresh, this.totpRequired ? "enrol" : "full");
  }

  /** Creates the first admin from the bootstrap link; refused once any user exists. */
  async createFirstAdmin(name: string, password: string): Promise<User> {
    assertUserName(name);
    this.#checkPasswordPolicy(password);
    if ((await this.#store.users.count()) > 0) throw new SlipwayError("setup_link_invalid");
    const hash = await this.#hasher.hash(password);
    const user = await this.#store.users.create({ name, admin: true });
    await this.#store.users.setPassword(user.id, hash);
    this.#log.info({ event: "first_admin_created", user: name }, "first admin created");
    return user;
  }

  async signInAfterSetup(user: User): Promise<SignInResult> {
    return this.#sessions.createSession(user, this.totpRequired ? "enrol" : "full");
  }

  checkPasswordPolicy(password: string): void {
    this.#checkPasswordPolicy(password);
  }

  // --- throttling ----------------------------------------------------------------------------

  /**
   * Counts an attempt before `check` runs, so attempts sent together cannot all pass a look at
   * the count: the store refuses with `too_many_attempts` once either key's rule allows no more
   * (`freeFailures` for the account, `freeFailuresPerAddress` for the address). A check that
   * yields a value is a success: the account's count is cleared and the address gets its attempt
   * back. A failure stays counted; so does an attempt whose check threw, except when the hub was
   * too busy to check it at all (`sign_in_busy`).
   */
  async #attempt<T>(keys: AttemptKeys, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const all: ThrottleKey[] = [{ key: keys.account, rule: this.#accountRule }];
    if (keys.address !== undefined) all.push({ key: keys.address, rule: this.#addressRule });
    await this.#store.throttle.reserve(all, this.#clock.now());
    let result: T | undefined;
    try {
      result = await check();
    } catch (error) {
      if (isSlipwayError(error) && error.code === "sign_in_busy") {
        for (const { key } of all) await this.#store.throttle.release(key);
      }
      throw error;
    }
    if (result === undefined) return undefined;
    await this.#store.throttle.clear(keys.account);
    if (keys.address !== undefined) await this.#store.throttle.release(keys.address);
    return result;
  }

  /** Whether `password` matches; with no hash to match, spends the same time and says no. */
  async #checkPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
    if (encoded) return this.#hasher.verify(password, encoded);
    await this.#hasher.verifyDummy();
    return false;
  }

  #checkPasswordPolicy(password: string): void {
    if (password.length < this.#policy.passwordMinLength) {
      throw new SlipwayError(
        "validation_failed",
        `The password must have at least ${this.#policy.passwordMinLength} characters.`,
      );
    }
    if (password.length > 1024) throw new SlipwayError("validation_failed", "The password is too long.");
  }
}
