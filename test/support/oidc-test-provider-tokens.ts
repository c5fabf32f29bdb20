import { randomUUID } from "node:crypto";
import {
  CompactSign,
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
} from "jose";

/**
 * What the test provider can do to the next token (or userinfo) response. Each names the check a
 * relying party must make to refuse the result (OIDC Core §3.1.3.7, RFC 8725):
 * - `wrong-aud`, `wrong-iss`, `wrong-nonce`: the ID token claim is another value, re-signed with the
 *   provider's key;
 * - `expired`: `exp` 10 minutes ago (`iat` an hour ago), beyond any sane clock tolerance;
 * - `iat-future`: `iat` 10 minutes ahead (`exp` moved with it) — openid-client accepts this, so the
 *   relying party must bound `iat` itself;
 * - `alg-none`: unsigned (`alg: none`, empty signature);
 * - `unknown-key`: signed with a fresh key whose `kid` is not in the JWKS;
 * - `corrupt-signature`: the genuine token with bytes of its signature flipped;
 * - `hs256-public-key`: HS256 with the provider's public key (SPKI PEM text) as the HMAC secret, the
 *   algorithm-confusion attack;
 * - `userinfo-sub`: the ID token is untouched; the next userinfo answer names another `sub`.
 */
export const TAMPER_KINDS = [
  "wrong-aud",
  "wrong-iss",
  "expired",
  "iat-future",
  "alg-none",
  "unknown-key",
  "corrupt-signature",
  "hs256-public-key",
  "wrong-nonce",
  "userinfo-sub",
] as const;

export type TamperKind = (typeof TAMPER_KINDS)[number];

/** An RS256 signing key of the provider: the private JWK goes to oidc-provider's `jwks`. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly privateJwk: JWK;
}

export async function generateSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, privateJwk };
}

/** A compact JWS of `payload` with `key`: RS256 and its kid unless `header` says otherwise. */
export function signWith(
  key: SigningKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "RS256", kid: key.kid, ...header })
    .sign(key.privateKey);
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** Returns the ID token `kind` asks for, made from the genuine `idToken` the provider issued. */
export async function tamperIdToken(
  idToken: string,
  kind: Exclude<TamperKind, "userinfo-sub">,
  key: SigningKey,
): Promise<string> {
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const lifetime = (payload.exp ?? now + 3600) - (payload.iat ?? now);
  switch (kind) {
    case "wrong-aud":
      return signWith(key, { ...payload, aud: "another-client" });
    case "wrong-iss":
      return signWith(key, { ...payload, iss: "http://127.0.0.1:9/another-issuer" });
    case "wrong-nonce":
      return signWith(key, { ...payload, nonce: "not-the-nonce-that-was-sent" });
    case "expired":
      return signWith(key, { ...payload, iat: now - 3600, exp: now - 600 });
    case "iat-future":
      return signWith(key, { ...payload, iat: now + 600, exp: now + 600 + lifetime });
    case "alg-none":
      return `${encodeJson({ alg: "none" })}.${encodeJson(payload)}.`;
    case "unknown-key":
      return signWith(await generateSigningKey(`unknown-${randomUUID()}`), payload);
    case "corrupt-signature":
      return corruptSignature(idToken);
    case "hs256-public-key": {
      const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
      return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ ...header, alg: "HS256", kid: key.kid })
        .sign(secret);
    }
  }
}

function corruptSignature(jws: string): string {
  const [head, body, signature] = jws.split(".");
  if (head === undefined || body === undefined || signature === undefined)
    throw new Error("not a compact JWS");
  const bytes = base64url.decode(signature);
  for (let i = 0; i < Math.min(8, bytes.length); i++) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  return `${head}.${body}.${base64url.encode(bytes)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The token endpoint's JSON answer with its ID token tampered with, or undefined when the answer
 * carries no ID token (an error answer: the tamper then waits for the next one).
 */
export async function tamperTokenResponse(
  body: unknown,
  kind: Exclude<TamperKind, "userinfo-sub">,
  key: SigningKey,
): Promise<Record<string, unknown> | undefined> {
  if (!isRecord(body) || typeof body["id_token"] !== "string") return undefined;
  return { ...body, id_token: await tamperIdToken(body["id_token"], kind, key) };
}

/** The userinfo JSON answer naming another subject, or undefined when it is not one. */
export function tamperUserinfo(body: unknown): Record<string, unknown> | undefined {
  if (!isRecord(body) || typeof body["sub"] !== "string") return undefined;
  return { ...body, sub: `${body["sub"]}-someone-else` };
}
