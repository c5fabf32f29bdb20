import { SlipwayError } from "../domain/errors.js";
import type { SessionStage, User } from "../domain/types.js";
import type {
  Authenticator,
  AuthenticatorCapabilities,
  SignInOutcome,
  SignInRequest,
  SignInStart,
} from "../ports/authenticator.js";

/**
 * The sign-in methods of the built-in accounts that this adapter drives. The identity service has
 * them; they are named here so that this folder needs nothing from src/services.
 */
export interface LocalAccounts {
  /** A right password: the user, and the session of the second-factor step when one is needed. */
  signInWithPassword(
    name: string,
    password: string,
    address: string,
  ): Promise<{
    readonly user: User;
    readonly pending: {
      readonly sessionId: string;
      readonly session: { readonly stage: SessionStage };
    } | null;
  }>;
  /** Ends the session at stage "totp" when `code` is right, and returns its user. */
  completeTotp(sessionId: string, code: string, address: string): Promise<User>;
  /** Ends the session at stage "enrol" when `code` matches the sealed enrolment, and returns its user. */
  completeTotpEnrolment(sessionId: string, pending: string, code: string): Promise<User>;
}

/**
 * The hub's built-in accounts as an Authenticator: the hub's form (user name and password), then
 * the account's TOTP code, or its enrolment when TOTP is required and it has none yet. Each step
 * still needed is a session of its own, whose id is the step's handle. Built-in accounts are the
 * centre's own and have no groups from a provider.
 */
export class LocalAuthenticator implements Authenticator {
  readonly kind = "local";
  readonly capabilities: AuthenticatorCapabilities = {
    keepsPasswords: true,
    ownSecondFactor: true,
    visitsProvider: false,
  };
  readonly #accounts: LocalAccounts;

  constructor(accounts: LocalAccounts) {
    this.#accounts = accounts;
  }

  async begin(): Promise<SignInStart> {
    return { kind: "form" };
  }

  async complete(request: SignInRequest): Promise<SignInOutcome> {
    const param = (name: string): string => request.params[name] ?? "";
    if (request.step === undefined) {
      const accepted = await this.#accounts.signInWithPassword(
        param("username"),
        param("password"),
        request.address,
      );
      const pending = accepted.pending;
      if (!pending) return signedIn(accepted.user);
      const step = pending.session.stage === "totp" ? "second-factor" : "enrol-second-factor";
      return { kind: "step", step, handle: pending.sessionId };
    }
    if (request.handle === undefined) throw new SlipwayError("not_authenticated");
    // Codes are often pasted with a space around them.
    const code = param("code").trim();
    const user =
      request.step === "second-factor"
        ? await this.#accounts.completeTotp(request.handle, code, request.address)
        : await this.#accounts.completeTotpEnrolment(request.handle, param("pending"), code);
    return signedIn(user);
  }

  async logoutUrl(): Promise<string> {
    return "/hub/login";
  }
}

function signedIn(user: User): SignInOutcome {
  return {
    kind: "identity",
    identity: { name: user.name, displayName: user.name, groups: [], authState: null },
  };
}
