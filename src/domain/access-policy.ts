import type { UserZone } from "./types.js";

/**
 * Who of the people an identity provider vouches for may use the hub, as what: the rules of
 * `auth.access` and `auth.zones`, applied afresh at every sign-in. Pure: the provisioning service
 * acts on the decision.
 */
export interface AccessPolicy {
  /** Provider group names; empty lets in everyone the provider vouches for. */
  readonly allowedGroups: readonly string[];
  /** Provider group names whose members are admins; empty leaves admin rights alone. */
  readonly adminGroups: readonly string[];
  /** Provider group → hub group. */
  readonly groupMap: Readonly<Record<string, string>>;
  readonly createUsers: boolean;
  readonly zones: ZonePolicy;
}

export interface ZonePolicy {
  readonly default: UserZone;
  readonly externalIdentityProviders: readonly string[];
  readonly externalGroups: readonly string[];
  readonly externalClaimValues: readonly string[];
}

/** What the provider said of the person, as far as the rules look. */
export interface ProviderFacts {
  readonly groups: readonly string[];
  /** A zone a front door stated outright. */
  readonly zone?: UserZone;
  /** The brokering identity provider's alias. */
  readonly brokeredBy?: string;
  readonly zoneClaim?: string;
}

export interface AccessDecision {
  readonly allowed: boolean;
  /** Whether the person is admin, or undefined when the rules leave it to the admin page. */
  readonly admin: boolean | undefined;
  /** Hub group names the provider's memberships give, sorted. */
  readonly groups: readonly string[];
  readonly zone: UserZone;
}

const GROUP_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/**
 * The hub's name for a provider group that the map does not name: Keycloak's full path without
 * its leading slash, the path's slashes as dots (`/sdcc/gpu` → `sdcc.gpu`), lower case. A name
 * that still does not fit the hub's pattern is left out rather than bent further, so two
 * provider groups never become one.
 */
export function hubGroupName(providerGroup: string): string | undefined {
  const name = providerGroup.replace(/^\//, "").replaceAll("/", ".").toLowerCase();
  return GROUP_NAME.test(name) ? name : undefined;
}

export function isValidGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

function zoneOf(facts: ProviderFacts, policy: ZonePolicy): UserZone {
  if (facts.zone !== undefined) return facts.zone;
  const external =
    (facts.brokeredBy !== undefined && policy.externalIdentityProviders.includes(facts.brokeredBy)) ||
    (facts.zoneClaim !== undefined && policy.externalClaimValues.includes(facts.zoneClaim)) ||
    facts.groups.some((g) => policy.externalGroups.includes(g));
  // A missing claim never makes anyone external, nor internal when the default is external.
  return external ? "external" : policy.default;
}

export function decideAccess(facts: ProviderFacts, policy: AccessPolicy): AccessDecision {
  const member = (list: readonly string[]) => facts.groups.some((g) => list.includes(g));
  const groups = new Set<string>();
  for (const g of facts.groups) {
    const name = policy.groupMap[g] ?? hubGroupName(g);
    if (name !== undefined) groups.add(name);
  }
  return {
    allowed: policy.allowedGroups.length === 0 || member(policy.allowedGroups),
    admin: policy.adminGroups.length === 0 ? undefined : member(policy.adminGroups),
    groups: [...groups].sort(),
    zone: zoneOf(facts, policy.zones),
  };
}

/**
 * The hub's user name for the name a provider or front door gives: lower case, and then it must
 * already be a valid Unix-safe name. Nothing is replaced or cut (`@` → `-at-`, say), since that
 * could map two people onto one name; a name that does not fit is refused.
 */
export function hubUserName(raw: string): string | undefined {
  const name = raw.normalize("NFKC").toLowerCase();
  return /^[a-z0-9][a-z0-9._-]{0,31}$/.test(name) ? name : undefined;
}
