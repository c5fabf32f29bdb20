import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** ASVS 7.2.3: session and API tokens carry at least 128 bits from a CSPRNG. */
const MIN_TOKEN_BYTES = 16;
const MAX_TOKEN_BYTES = 1024;
const API_TOKEN_PREFIX = "slw_";
const API_TOKEN_BYTES = 32;
/** Shown in token lists so a user can tell tokens apart; 48 of the 256 bits, the rest stays secret. */
const DISPLAY_PREFIX_CHARS = 8;

/** A fresh API token, shown once; only `hash` and `prefix` are stored. */
export interface NewApiToken {
  /** `slw_` and 43 base64url characters (256 bits). */
  readonly token: string;
  /** The first 8 characters after `slw_`. */
  readonly prefix: string;
  /** sha256Hex(token), the lookup key in the tokens table. */
  readonly hash: string;
}

/** `bytes` random bytes from the CSPRNG as base64url without padding (32 bytes → 43 characters). */
export function newToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_TOKEN_BYTES || bytes > MAX_TOKEN_BYTES) {
    throw new RangeError(`A token has ${MIN_TOKEN_BYTES} to ${MAX_TOKEN_BYTES} random bytes, not ${bytes}.`);
  }
  return randomBytes(bytes).toString("base64url");
}

/** SHA-256 of the UTF-8 bytes of `s`, as lower-case hex. */
export function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

/**
 * String equality whose time does not depend on where the strings differ, nor (beyond hashing)
 * on their lengths: timingSafeEqual needs equal lengths, so it compares the SHA-256 digests.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

/**
 * A new API token. The stored hash is a plain SHA-256, not a salted slow hash: with 256 random
 * bits there is nothing to guess or precompute, and an unsalted digest lets the token be looked
 * up by hash in one indexed query instead of being compared against every row.
 */
export function newApiToken(): NewApiToken {
  const secret = newToken(API_TOKEN_BYTES);
  const token = `${API_TOKEN_PREFIX}${secret}`;
  return { token, prefix: secret.slice(0, DISPLAY_PREFIX_CHARS), hash: sha256Hex(token) };
}
