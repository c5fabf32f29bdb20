import { constants } from "node:fs";
import { link, open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Sealer } from "../ports/security.js";

const KEY_BYTES = 32;
// A 96-bit IV is the length GCM is defined for without an extra GHASH step (NIST SP 800-38D §5.2.1.1).
// Random IVs are safe up to 2^32 seals per key (§8.3), far beyond what a hub stores.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = "v1";
/** Sealed values may arrive in form fields (the pending TOTP enrolment): bound the work on junk. */
const MAX_SEALED_CHARS = 64 * 1024;
const MAX_PLAIN_BYTES = 32 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KEY_FILE_TEXT = /^[A-Za-z0-9+/]{43}=$/;

/** A sealed value that is malformed, was altered, or was sealed under another key. */
export class SecretBoxError extends Error {
  override readonly name = "SecretBoxError";
}

/**
 * Authenticated encryption of short strings at rest (TOTP seeds, Jupyter server tokens), as
 * RFC 6238 §5.1 and ASVS 13.3.1 ask: a database dump alone opens nothing. AES-256-GCM, output
 * `v1.<iv b64url>.<ciphertext+tag b64url>`; the version leaves room for a key or cipher change.
 */
export class SecretBox implements Sealer {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new RangeError(`A secret-box key has ${KEY_BYTES} bytes, not ${key.length}.`);
    }
    // A private copy: the caller's buffer may be reused or zeroed.
    this.#key = Buffer.from(key);
  }

  seal(plain: string): string {
    const bytes = Buffer.from(plain, "utf8");
    if (bytes.length > MAX_PLAIN_BYTES) {
      throw new RangeError(`A secret box holds at most ${MAX_PLAIN_BYTES} bytes, not ${bytes.length}.`);
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    const body = Buffer.concat([cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  }

  /** The original string; throws SecretBoxError when the value is malformed or fails authentication. */
  open(sealed: string): string {
    if (sealed.length > MAX_SEALED_CHARS) throw new SecretBoxError("The sealed value is too long.");
    const parts = sealed.split(".");
    const [version, ivText, bodyText] = parts;
    if (parts.length !== 3 || version === undefined || ivText === undefined || bodyText === undefined) {
      throw new SecretBoxError("The sealed value is malformed: expected v1.<iv>.<ciphertext>.");
    }
    if (version !== VERSION) throw new SecretBoxError(`Unknown secret-box version "${version.slice(0, 8)}".`);
    const iv = decodeCanonicalBase64Url(ivText);
    const body = decodeCanonicalBase64Url(bodyText);
    if (iv === null || body === null || iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new SecretBoxError("The sealed value is malformed: bad IV or ciphertext.");
    }
    // Fixing authTagLength refuses truncated tags, which would weaken the check (SP 800-38D §5.2.1.2).
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plain.toString("utf8");
    } catch {
      throw new SecretBoxError(
        "The sealed value failed authentication: it was altered, truncated or sealed with another key.",
      );
    }
  }
}

/**
 * Reads the 32-byte key (base64, one line) from `path`, or creates it if the file does not exist.
 * Creation is atomic: the key is written and fsynced under a temporary name, then hard-linked into
 * place, which fails if the file appeared meanwhile, so two replicas starting together on a shared
 * filesystem agree on one key and no reader ever sees a half-written file. A key file that group
 * or others may read is refused rather than used: whoever can read it can open every seed.
 */
export async function loadOrCreateKey(path: string): Promise<Buffer> {
  const existing = await readKeyFile(path);
  if (existing !== undefined) return existing;

  const key = randomBytes(KEY_BYTES);
  const temporary = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  // O_EXCL | O_NOFOLLOW: never write through a planted file or symlink. Mode 0600 at creation, so
  // there is no moment when the key is readable by others (umask can only remove bits).
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(`${key.toString("base64")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    // Another process created the key first; its key is the one in use.
    const winner = await readKeyFile(path);
    if (winner === undefined) {
      throw new Error(`Key file ${path} vanished while it was being created.`, { cause: error });
    }
    return winner;
  } finally {
    await unlink(temporary);
  }
  // Make the new directory entry durable: losing the key after a crash would lose every sealed value.
  await syncDirectory(dirname(path));
  return key;
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    // fstat the opened file, not the path, so the checks apply to the bytes we read.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`Key file ${path} is not a regular file.`);
    const mode = stats.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `Key file ${path} has mode ${mode.toString(8).padStart(4, "0")}; it must be readable by its owner ` +
          `only. Run: chmod 600 ${path}`,
      );
    }
    const text = (await handle.readFile({ encoding: "utf8" })).trim();
    const key = KEY_FILE_TEXT.test(text) ? Buffer.from(text, "base64") : undefined;
    if (key?.length !== KEY_BYTES || key.toString("base64") !== text) {
      throw new Error(`Key file ${path} does not hold a base64-encoded ${KEY_BYTES}-byte key.`);
    }
    return key;
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function decodeCanonicalBase64Url(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : null;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
