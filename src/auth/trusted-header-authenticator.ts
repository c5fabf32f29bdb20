import { hubUserName } from "../domain/access-policy.js";
import { SlipwayError } from "../domain/errors.js";
import type { UserZone } from "../domain/types.js";
import type {
  Authenticator,
  AuthenticatorCapabilities,
  SignInOutcome,
  SignInRequest,
  SignInStart,
} from "../ports/authenticator.js";

export interface TrustedHeaderSettings {
  /** Addresses of the front door, or "unix" for the hub's front-door socket. */
  readonly trustedPeers: readonly string[];
  /** Lower-case header names. */
  readonly userHeader: string;
  readonly groupsHeader?: string;
  readonly groupSeparator: string;
  readonly zoneHeader?: string;
  readonly logoutUrl: string;
}

/** The issuer a front door's identities are bound under: the header's value is the subject. */
export const FRONT_DOOR_ISSUER = "trusted-header";

/** Printable ASCII without spaces or commas: a name a front door sets, not a list or a joined header. */
const HEADER_NAME_VALUE = /^[\x21-\x2b\x2d-\x7e]{1,256}$/;

/**
 * An authenticating front door (Apache with mod_auth_openidc, nginx with auth_request) names the
 * signed-in user in a header. The header counts only from a configured peer — the socket's own
 * peer, never a forwarded address — and only when sent exactly once with one clean name.
 */
export class TrustedHeaderAuthenticator implements Authenticator {
  readonly kind = "header";
  readonly capabilities: AuthenticatorCapabilities = {
    keepsPasswords: false,
    ownSecondFactor: false,
    visitsProvider: false,
  };
  readonly #settings: TrustedHeaderSettings;

  constructor(settings: TrustedHeaderSettings) {
    this.#settings = settings;
  }

  async begin(): Promise<SignInStart> {
    return { kind: "complete" };
  }

  async complete(request: SignInRequest): Promise<SignInOutcome> {
    const values = request.headerValues(this.#settings.userHeader);
    if (!this.#settings.trustedPeers.includes(request.peer)) {
      throw new SlipwayError(values.length > 0 ? "header_untrusted" : "not_authenticated");
    }
    if (values.length === 0) throw new SlipwayError("not_authenticated");
    const raw = this.#single(values);
    const name = HEADER_NAME_VALUE.test(raw) ? hubUserName(raw) : undefined;
    if (name === undefined) throw new SlipwayError("header_invalid");
    const zone = this.#zone(request);
    return {
      kind: "identity",
      identity: {
        name,
        displayName: name,
        groups: this.#groups(request),
        provider: { issuer: FRONT_DOOR_ISSUER, subject: raw },
        ...(zone !== undefined && { zone }),
        authState: null,
      },
    };
  }

  async logoutUrl(): Promise<string> {
    return this.#settings.logoutUrl;
  }

  stillVouches(
    subject: string | undefined,
    headerValues: (name: string) => readonly string[],
    peer: string,
  ): boolean {
    if (!this.#settings.trustedPeers.includes(peer)) return false;
    const values = headerValues(this.#settings.userHeader);
    return subject !== undefined && values.length === 1 && values[0]?.trim() === subject;
  }

  #single(values: readonly string[]): string {
    // Two copies mean one of them did not come from the front door (or a proxy joined them).
    if (values.length !== 1) throw new SlipwayError("header_invalid");
    return (values[0] ?? "").trim();
  }

  #groups(request: SignInRequest): string[] {
    const header = this.#settings.groupsHeader;
    if (header === undefined) return [];
    const values = request.headerValues(header);
    if (values.length === 0) return [];
    const raw = this.#single(values);
    if (raw.length > 16_384 || /[^\x20-\x7e]/.test(raw)) throw new SlipwayError("header_invalid");
    return raw
      .split(this.#settings.groupSeparator)
      .map((g) => g.trim())
      .filter((g) => g.length > 0 && g.length <= 256);
  }

  #zone(request: SignInRequest): UserZone | undefined {
    const header = this.#settings.zoneHeader;
    if (header === undefined) return undefined;
    const values = request.headerValues(header);
    if (values.length === 0) return undefined;
    const raw = this.#single(values);
    if (raw !== "internal" && raw !== "external") throw new SlipwayError("header_invalid");
    return raw;
  }
}
