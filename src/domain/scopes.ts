/**
 * JupyterHub-compatible scopes, the subset that has meaning here. A scope may carry a
 * `!user=<name>` filter; an unfiltered scope applies to every user.
 */
export const SCOPES = [
  "admin:users",
  "read:users",
  "list:users",
  "admin:servers",
  "admin:server_state",
  "servers",
  "read:servers",
  "delete:servers",
  "access:servers",
  "tokens",
  "read:tokens",
  "users:activity",
  "read:hub",
  "read:metrics",
  "admin:groups",
  "groups",
  "read:groups",
  "list:groups",
  "delete:groups",
] as const;

export type Scope = (typeof SCOPES)[number];

/** What `self` expands to for a user: everything about their own account and servers. */
const SELF_SCOPES: readonly Scope[] = [
  "read:users",
  "servers",
  "read:servers",
  "delete:servers",
  "access:servers",
  "tokens",
  "read:tokens",
  "users:activity",
];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The scopes a user holds by role: admins hold every scope unfiltered. */
export function roleScopes(userName: string, admin: boolean): Set<string> {
  if (admin) return new Set<string>(SCOPES);
  const out = new Set<string>(["read:hub"]);
  for (const s of SELF_SCOPES) out.add(`${s}!user=${userName}`);
  return out;
}

/**
 * Expands `self`/`inherit` into `inheritable` (what the requester may pass on to the new token) and
 * returns the concrete scope strings a token asks for.
 */
export function expandRequested(requested: readonly string[], inheritable: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const r of requested) {
    if (r === "self" || r === "inherit") {
      for (const s of inheritable) out.add(s);
    } else {
      out.add(r);
    }
  }
  return out;
}

/** Parses `scope` or `scope!user=name`; returns undefined for anything else. */
export function parseScope(value: string): { scope: Scope; user: string | null } | undefined {
  const [base, filter, ...rest] = value.split("!");
  if (base === undefined || rest.length > 0 || !isScope(base)) return undefined;
  if (filter === undefined) return { scope: base, user: null };
  if (!filter.startsWith("user=") || filter.length <= 5) return undefined;
  return { scope: base, user: filter.slice(5) };
}

/**
 * Scopes that imply others, as in JupyterHub: `admin:servers` covers every server scope;
 * `admin:groups` covers `groups` (members) and `delete:groups`, and `groups` covers reading them.
 */
const IMPLIED_BY: Partial<Record<Scope, Scope>> = {
  servers: "admin:servers",
  "read:servers": "admin:servers",
  "delete:servers": "admin:servers",
  groups: "admin:groups",
  "delete:groups": "admin:groups",
  "read:groups": "groups",
  "list:groups": "groups",
};

/** True when `held` grants `scope` for `userName` (or unfiltered when userName is null). */
export function grants(held: ReadonlySet<string>, scope: Scope, userName: string | null): boolean {
  if (held.has(scope)) return true;
  const parent = IMPLIED_BY[scope];
  if (parent !== undefined && grants(held, parent, userName)) return true;
  if (userName === null) return false;
  return held.has(`${scope}!user=${userName}`);
}

/** A scope string is within an owner's scopes when the owner holds it, filtered or not. */
export function isWithin(owner: ReadonlySet<string>, requested: string): boolean {
  const parsed = parseScope(requested);
  if (!parsed) return false;
  return grants(owner, parsed.scope, parsed.user) || (parsed.user === null && owner.has(parsed.scope));
}

/**
 * The scopes held by both `a` and `b`, as JupyterHub intersects a requester's scopes with a token
 * owner's: a token can never be given more than the credential that asks for it holds. An
 * unfiltered scope met by a filtered one keeps the filter; `admin:servers` on one side meets the
 * server scopes it implies on the other.
 */
export function intersectScopes(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const both = (s: string) => isWithin(a, s) && isWithin(b, s);
  const out = new Set<string>();
  for (const candidate of new Set([...a, ...b])) {
    const parsed = parseScope(candidate);
    if (!parsed) continue;
    if (both(candidate)) {
      out.add(candidate);
      continue;
    }
    // `admin:servers!user=x` against `servers`: the implied scope is shared even though its parent is not.
    for (const child of SCOPES.filter((s) => IMPLIED_BY[s] === parsed.scope)) {
      const narrowed = parsed.user === null ? child : `${child}!user=${parsed.user}`;
      if (both(narrowed)) out.add(narrowed);
    }
  }
  // A filtered scope adds nothing next to the same scope unfiltered.
  for (const s of out) {
    const parsed = parseScope(s);
    if (parsed !== undefined && parsed.user !== null && out.has(parsed.scope)) out.delete(s);
  }
  return out;
}
