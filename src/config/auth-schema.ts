import { z } from "zod";

/**
 * How people sign in: built-in accounts, an OpenID Connect provider (Keycloak), or an
 * authenticating front door that names the user in a header; and how the identities of the last
 * two become Slipway accounts (who may sign in, who is admin, groups, zones). See docs/auth.md.
 */

/** A file path without spaces; a relative one is taken from the configuration file's folder. */
const filePath = z.string().regex(/^[A-Za-z0-9_./+@-]{1,4096}$/, "must be a file path without spaces");

const claimName = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, "must be a claim name");

/** Lower-case header names, as the hub reads them. */
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name (letters, digits and '-')")
  .transform((s) => s.toLowerCase());

const groupName = z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, "must match [a-z][a-z0-9._-]{0,63}");

export const zoneNames = ["internal", "external"] as const;

export const zonesSchema = z
  .strictObject({
    default: z
      .enum(zoneNames)
      .default("internal")
      .describe("The zone of a user whom no rule below places elsewhere."),
    external: z
      .strictObject({
        identityProviders: z
          .array(z.string().min(1).max(128))
          .default([])
          .describe(
            "Brokering identity providers (Keycloak's `identity_provider` session note) whose users are external.",
          ),
        groups: z
          .array(z.string().min(1).max(256))
          .default([])
          .describe("Groups, as the provider names them, whose members are external."),
        claimValues: z
          .array(z.string().min(1).max(128))
          .default([])
          .describe("Values of `zoneClaim` that make a user external."),
      })
      .prefault({}),
    zoneClaim: claimName
      .optional()
      .describe("A claim (OIDC) whose value, when in external.claimValues, makes a user external."),
    identityProviderClaim: claimName
      .default("identity_provider")
      .describe("The claim naming the brokering identity provider."),
  })
  .prefault({});

export const accessSchema = z
  .strictObject({
    allowedGroups: z
      .array(z.string().min(1).max(256))
      .default([])
      .describe(
        "Only members of one of these groups (as the provider names them) may sign in; [] lets in everyone the provider vouches for.",
      ),
    adminGroups: z
      .array(z.string().min(1).max(256))
      .default([])
      .describe(
        "Members of one of these groups are admins, and others are not, set at every sign-in. [] leaves admin rights to the admin page and CLI.",
      ),
    groupMap: z
      .record(z.string().min(1).max(256), groupName)
      .default({})
      .describe(
        "Provider group → Slipway group. Membership of mapped groups is set at every sign-in; groups made on the admin page are left alone.",
      ),
    createUsers: z
      .boolean()
      .default(true)
      .describe(
        "Create an account at a person's first sign-in. false: only accounts made with `slipway user add` or the admin page may sign in.",
      ),
  })
  .prefault({});

export const oidcSchema = z.strictObject({
  issuer: z
    .url({ protocol: /^https?$/ })
    .describe("The provider's issuer, e.g. https://sso.example.org/realms/sdcc (discovery is read from it)."),
  clientId: z.string().min(1).max(256),
  clientSecretFile: filePath.describe(
    "File holding the client secret, readable only by the hub's account; relative to this file's folder unless absolute. The secret itself is never written in the configuration.",
  ),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/))
    .default(["openid", "profile", "email"]),
  claims: z
    .strictObject({
      username: claimName.default("preferred_username"),
      groups: claimName.default("groups"),
      displayName: claimName.default("name"),
      email: claimName.default("email"),
    })
    .prefault({}),
  acrValues: z
    .array(z.string().min(1).max(256))
    .default([])
    .describe(
      "Authentication levels that satisfy the hub, e.g. Keycloak's LoA aliases. The hub asks for them (acr_values) and refuses a sign-in whose acr is not one of them. [] requires none.",
    ),
  autoLogin: z
    .boolean()
    .default(false)
    .describe("/hub/login goes straight to the provider instead of showing a page with a button."),
  buttonLabel: z.string().min(1).max(80).default("Sign in with your institution"),
  clockTolerance: z
    .number()
    .int()
    .min(0)
    .max(300)
    .default(30)
    .describe("Seconds of clock difference allowed with the provider (ID and logout tokens)."),
  loginTimeout: z
    .number()
    .int()
    .min(30)
    .max(3600)
    .default(600)
    .describe("Seconds a sign-in may spend at the provider before its state is forgotten."),
  endSession: z
    .boolean()
    .default(true)
    .describe("Sign-out goes on to the provider's end_session_endpoint (with id_token_hint)."),
  signingAlgorithm: z
    .enum(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"])
    .default("RS256")
    .describe(
      "The one algorithm the provider signs ID tokens with (Keycloak: the realm's default, or the client's ID token signature algorithm); any other is refused, as is none.",
    ),
  logoutTokenType: z
    .string()
    .max(64)
    .default("logout+jwt")
    .describe('The `typ` header a back-channel logout token must carry; "" accepts any.'),
});

export const trustedHeaderSchema = z.strictObject({
  trustedPeers: z
    .array(z.union([z.ipv4(), z.ipv6(), z.literal("unix")]))
    .min(1)
    .describe(
      "Addresses of the front door (the socket's peer, never X-Forwarded-For); \"unix\" means the hub's front-door Unix socket (hub.frontDoorSocket).",
    ),
  userHeader: headerName.default("x-remote-user"),
  groupsHeader: headerName.optional().describe("Header with the user's groups, separated by groupSeparator."),
  groupSeparator: z.string().min(1).max(1).default(","),
  zoneHeader: headerName.optional().describe("Header with the user's zone (internal or external)."),
  logoutUrl: z
    .string()
    .regex(/^(\/|https?:\/\/)[\x21-\x7E]{0,2047}$/, "must be a path or an http(s) URL")
    .default("/")
    .describe(
      "Where sign-out leads: the front door's own logout (mod_auth_openidc: /oidc/redirect_uri?logout=…).",
    ),
});

export const clearCookieSchema = z.strictObject({
  name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, "must be a cookie name"),
  path: z
    .string()
    .regex(/^\/[\x21-\x3A\x3C-\x7E]{0,255}$/)
    .default("/"),
  domain: z
    .string()
    .regex(/^\.?[A-Za-z0-9.-]{1,253}$/)
    .optional(),
});

export const authModeSchema = {
  type: z
    .enum(["local", "oidc", "trusted-header"])
    .default("local")
    .describe(
      "local: built-in accounts (password and TOTP). oidc: an OpenID Connect provider. trusted-header: an authenticating front door.",
    ),
  oidc: oidcSchema.optional(),
  trustedHeader: trustedHeaderSchema.optional(),
  access: accessSchema,
  zones: zonesSchema,
  logoutClearCookies: z
    .array(clearCookieSchema)
    .max(16)
    .default([])
    .describe("Cookies of the front door or load balancer to clear at sign-out, e.g. Apache's ROUTEID."),
};

/** Checks that the mode named has its section; added to the auth object's own refinements. */
export function checkAuthMode(
  auth: { type: string; oidc?: unknown; trustedHeader?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (auth.type === "oidc" && auth.oidc === undefined) {
    ctx.addIssue({ code: "custom", path: ["oidc"], message: "auth.type is oidc: configure auth.oidc" });
  }
  if (auth.type === "trusted-header" && auth.trustedHeader === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["trustedHeader"],
      message: "auth.type is trusted-header: configure auth.trustedHeader",
    });
  }
}
