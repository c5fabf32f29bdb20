import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { PasswordHashing } from "../ports/security.js";

/** scrypt's cost parameters (RFC 7914 §2): CPU/memory cost N, block size r, parallelism p. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Derives `keylen` bytes from a password; injectable so tests can observe the work done. */
export type ScryptKdf = (password: string, salt: Buffer, keylen: number, cost: ScryptCost) => Promise<Buffer>;

export interface PasswordHasherOptions {
  /** Cost for new hashes; defaults to N=2^15, r=8, p=1. */
  readonly cost?: ScryptCost;
  readonly kdf?: ScryptKdf;
}

const DEFAULT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;

// Bounds on what a stored encoding may ask for. The stored hash is ours, but a bad row must not
// be able to make a single verification allocate gigabytes or run for minutes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MAX_WORK = 2 ** 22; // N·r·p, 16 times the default
const MAX_SALT_BYTES = 64;

const ENCODED =
  /^scrypt\$([1-9][0-9]{0,9})\$([1-9][0-9]{0,4})\$([1-9][0-9]{0,4})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

interface Parsed {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/**
 * Password hashing with scrypt (ASVS 11.4.2), encoded as `scrypt$N$r$p$<salt b64>$<hash b64>` so
 * the cost can be raised later: `needsRehash` tells the caller to re-hash at the next sign-in.
 */
export class PasswordHasher implements PasswordHashing {
  readonly #cost: ScryptCost;
  readonly #kdf: ScryptKdf;

  constructor(options: PasswordHasherOptions = {}) {
    const cost = options.cost ?? DEFAULT_COST;
    if (!isAcceptableCost(cost)) {
      throw new RangeError(
        `Unacceptable scrypt cost N=${cost.N} r=${cost.r} p=${cost.p}: N must be a power of two from 2 to 2^20, ` +
          `r 1..${MAX_R}, p 1..${MAX_P}, using at most 256 MiB.`,
      );
    }
    this.#cost = { N: cost.N, r: cost.r, p: cost.p };
    this.#kdf = options.kdf ?? nodeScrypt;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const hash = await this.#kdf(normalize(password), salt, HASH_BYTES, this.#cost);
    const { N, r, p } = this.#cost;
    return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${hash.toString("base64")}`;
  }

  /** True when the password matches. A malformed or out-of-bounds encoding is a mismatch, not an error. */
  async verify(password: string, encoded: string): Promise<boolean> {
    const parsed = parse(encoded);
    if (parsed === null) return false;
    const derived = await this.#kdf(normalize(password), parsed.salt, HASH_BYTES, parsed.cost);
    // Both buffers are HASH_BYTES long, so timingSafeEqual never throws here.
    return derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash);
  }

  /**
   * Spends one full key derivation at the current cost, for a user that does not exist, so the
   * response time does not reveal which user names are real (ASVS 6.3.8).
   */
  async verifyDummy(): Promise<void> {
    const salt = randomBytes(SALT_BYTES);
    const derived = await this.#kdf("", salt, HASH_BYTES, this.#cost);
    timingSafeEqual(derived, randomBytes(derived.length));
  }

  /** True when the encoding is malformed or was made with other parameters than the current ones. */
  needsRehash(encoded: string): boolean {
    const parsed = parse(encoded);
    if (parsed === null) return true;
    const { N, r, p } = parsed.cost;
    return (
      N !== this.#cost.N || r !== this.#cost.r || p !== this.#cost.p || parsed.salt.length !== SALT_BYTES
    );
  }
}

/**
 * NIST SP 800-63B §5.1.1.2: passwords SHOULD be normalised (NFKC or NFKD) before hashing, so the
 * same password typed on two keyboards or platforms gives the same bytes.
 */
function normalize(password: string): string {
  return password.normalize("NFKC");
}

function parse(encoded: string): Parsed | null {
  const match = ENCODED.exec(encoded);
  if (match === null) return null;
  const [, nText, rText, pText, saltText, hashText] = match;
  if (nText === undefined || rText === undefined || pText === undefined) return null;
  if (saltText === undefined || hashText === undefined) return null;
  const cost: ScryptCost = { N: Number(nText), r: Number(rText), p: Number(pText) };
  if (!isAcceptableCost(cost)) return null;
  const salt = decodeCanonicalBase64(saltText);
  const hash = decodeCanonicalBase64(hashText);
  if (salt === null || hash === null) return null;
  if (salt.length < SALT_BYTES || salt.length > MAX_SALT_BYTES) return null;
  // scrypt's output is a PBKDF2 stream, so a truncated hash is a prefix of the right one and would
  // still match: only the full length we write is accepted.
  if (hash.length !== HASH_BYTES) return null;
  return { cost, salt, hash };
}

/** Node's base64 decoder skips junk silently; only accept text that is exactly what we would write. */
function decodeCanonicalBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

function isAcceptableCost({ N, r, p }: ScryptCost): boolean {
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p)) return false;
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return false;
  if (r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
  return memoryFor({ N, r, p }) <= MAX_MEMORY_BYTES && N * r * p <= MAX_WORK;
}

/**
 * OpenSSL refuses scrypt when 128·r·(N+2) bytes for V plus 128·r·p for B exceed `maxmem`; Node's
 * default maxmem (32 MiB) is just below what N=2^15, r=8 needs, so it is set exactly.
 */
function memoryFor({ N, r, p }: ScryptCost): number {
  return 128 * r * (N + p + 2);
}

function nodeScrypt(password: string, salt: Buffer, keylen: number, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      keylen,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: memoryFor(cost) },
      (error, key) => {
        if (error) reject(error);
        else resolve(key);
      },
    );
  });
}
