import { randomFillSync } from "node:crypto";
import { HOTP, Secret, TOTP } from "otpauth";
import type { TotpCodes } from "../ports/security.js";

// SHA-1, 6 digits and 30 s are what every authenticator app supports; most ignore the algorithm,
// digits and period parameters of the URI, so anything else would silently produce wrong codes.
// RFC 6238 §5.2 recommends the 30 s step; ASVS 6.5.5 caps a TOTP's lifetime at 30 s.
const ALGORITHM = "SHA1";
const DIGITS = 6;
const PERIOD_SECONDS = 30;
// RFC 6238 §5.2: "at most one time step is allowed as the network delay"; so t-1, t, t+1 only.
const WINDOW = 1;
// RFC 4226 §4 R6: the shared secret MUST be at least 128 bits; 160 bits is RECOMMENDED.
const SECRET_BYTES = 20;
const MIN_SECRET_BYTES = 16;
const CODE = /^[0-9]{6}$/;
const BASE32 = /^[A-Z2-7]+=*$/;

/**
 * Time-based one-time passwords (RFC 6238). `verify` returns the time step that matched, because a
 * code is only "successfully usable once" (RFC 6238 §5.2, ASVS 6.5.1): the caller must record that
 * step atomically (store.consumeTotpStep) and refuse any step not above the last one recorded.
 */
export class Totp implements TotpCodes {
  /** A fresh base32 seed of 160 random bits from the CSPRNG (ASVS 6.5.3). */
  generateSecret(): string {
    const bytes = randomFillSync(new Uint8Array(SECRET_BYTES));
    return new Secret({ buffer: bytes.buffer }).base32;
  }

  /** The `otpauth://totp/Issuer:account?...` URI an authenticator app scans. */
  provisioningUri(input: { issuer: string; account: string; secret: string }): string {
    // Key URI format: the label is "issuer:account", so neither part may hold a colon.
    if (input.issuer.includes(":") || input.account.includes(":")) {
      throw new RangeError("A TOTP issuer or account name cannot contain ':'.");
    }
    return new TOTP({
      issuer: input.issuer,
      label: input.account,
      secret: parseSecret(input.secret),
      algorithm: ALGORITHM,
      digits: DIGITS,
      period: PERIOD_SECONDS,
    }).toString();
  }

  /** The URI as an SVG QR code, for the enrolment page; loads the QR library on first use. */
  async qrSvg(uri: string): Promise<string> {
    const { qrSvg } = await import("./qr-svg.js");
    return qrSvg(uri);
  }

  /**
   * The time step (floor(unix seconds / 30)) whose code equals `code`, looking only at the steps
   * t-1, t and t+1 around `now`; null when none matches. `code` must be exactly six ASCII digits:
   * anything else is refused before any HMAC is computed. Comparison is constant-time (the
   * library uses timingSafeEqual). Throws on a malformed secret, which is a server-side fault.
   */
  verify(secret: string, code: string, now: Date): number | null {
    const step = stepAt(now);
    if (!CODE.test(code)) return null;
    const key = parseSecret(secret);
    const delta = HOTP.validate({
      token: code,
      secret: key,
      algorithm: ALGORITHM,
      digits: DIGITS,
      counter: step,
      window: WINDOW,
    });
    return delta === null ? null : step + delta;
  }

  /** The code an authenticator shows at `date` (for tests and scripted sign-ins). */
  codeAt(secret: string, date: Date): string {
    return HOTP.generate({
      secret: parseSecret(secret),
      algorithm: ALGORITHM,
      digits: DIGITS,
      counter: stepAt(date),
    });
  }
}

/** RFC 6238 §4.2: T = floor((unix time - T0) / X), with T0 = 0 and X = 30 s. */
function stepAt(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError("TOTP needs a valid date after 1970.");
  return TOTP.counter({ period: PERIOD_SECONDS, timestamp: ms });
}

function parseSecret(secret: string): Secret {
  if (!BASE32.test(secret)) throw new TypeError("A TOTP secret must be upper-case base32.");
  const parsed = Secret.fromBase32(secret);
  if (parsed.bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(`A TOTP secret must hold at least ${MIN_SECRET_BYTES} bytes.`);
  }
  return parsed;
}
