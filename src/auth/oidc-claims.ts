import { SlipwayError } from "../domain/errors.js";
import type { Identity } from "../ports/authenticator.js";

/** Which claims say what (`auth.oidc.claims` and the zone claims of `auth.zones`). */
export interface OidcClaimNames {
  readonly username: string;
  readonly groups: string;
  readonly displayName: string;
  readonly email: string;
  readonly identityProvider: string;
  readonly zone?: string;
}

const MAX_GROUPS = 1000;

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= max ? value : undefined;
}

/** The provider's groups: an array of strings, or one string; anything else is no groups. */
function groupsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return list
    .filter((g): g is string => typeof g === "string" && g.length > 0 && g.length <= 256)
    .slice(0, MAX_GROUPS);
}

/**
 * The identity a provider's claims (ID token over userinfo) give. The user name must already be
 * the hub's form once lower-cased (`normalise`); otherwise the sign-in is refused, never bent.
 */
export function identityFromClaims(
  claims: Record<string, unknown>,
  names: OidcClaimNames,
  normalise: (raw: string) => string | undefined,
): Omit<Identity, "authState"> {
  const raw = text(claims[names.username], 256);
  const name = raw === undefined ? undefined : normalise(raw);
  if (name === undefined) {
    throw new SlipwayError(
      "idp_claim_missing",
      raw === undefined
        ? `The provider did not send the "${names.username}" claim.`
        : `The user name the provider sent is not one this hub can use (lower-case letters, digits, '.', '_' or '-', at most 32).`,
    );
  }
  const issuer = text(claims["iss"], 2048);
  const subject = text(claims["sub"], 255);
  if (issuer === undefined || subject === undefined) throw new SlipwayError("idp_claim_missing");
  const session = text(claims["sid"], 255);
  const brokeredBy = text(claims[names.identityProvider], 128);
  const zoneClaim = names.zone === undefined ? undefined : text(claims[names.zone], 128);
  return {
    name,
    displayName: text(claims[names.displayName], 256) ?? name,
    email: text(claims[names.email], 256) ?? null,
    groups: groupsOf(claims[names.groups]),
    provider: {
      issuer,
      subject,
      ...(session !== undefined && { session }),
      ...(brokeredBy !== undefined && { brokeredBy }),
      ...(zoneClaim !== undefined && { zoneClaim }),
    },
  };
}
