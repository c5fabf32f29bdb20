import { z } from "zod";

/**
 * The one configuration schema. Every key has a default, so an empty file (or none) gives the
 * embedded setup: SQLite in the data directory, the local launcher, built-in accounts with TOTP.
 * Durations are in seconds. Each key is documented in docs/configuration.md.
 */
const seconds = (def: number) => z.number().int().positive().default(def);

export const hubSchema = z
  .strictObject({
    host: z.string().min(1).default("127.0.0.1").describe("Address the public listener binds."),
    port: z.number().int().min(0).max(65535).default(8000).describe("Port of the public listener."),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .refine(
        (u) => new URL(u).pathname === "/",
        "must be an origin only (scheme, host and port), without a path",
      )
      .optional()
      .describe(
        "The URL users type, e.g. https://jupyter.example.org. Used for same-origin checks, links and Secure cookies. Defaults to http://<host>:<port>.",
      ),
    trustForwardedHeaders: z
      .boolean()
      .default(false)
      .describe(
        "Trust X-Forwarded-For/Proto/Host from the peer: the client address for throttling comes from X-Forwarded-For, and the headers are passed on to users' servers. Only behind a front proxy that overwrites them.",
      ),
  })
  .prefault({});

export const databaseSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(sqlite:|postgres(ql)?:\/\/)/, "must start with sqlite: or postgres://")
      .optional()
      .describe(
        "sqlite:<path> or postgres://user:pass@host/db. Defaults to sqlite:<dataDir>/slipway.sqlite.",
      ),
  })
  .prefault({});

export const authSchema = z
  .strictObject({
    totp: z
      .enum(["required", "optional"])
      .default("required")
      .describe("Whether built-in accounts must enrol a TOTP authenticator."),
    issuer: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[^:]+$/, "must not contain ':' (it separates issuer and account in authenticator apps)")
      .default("Slipway")
      .describe("Name shown in authenticator apps."),
    passwordMinLength: z.number().int().min(8).max(1024).default(10),
    sessionIdleTimeout: seconds(8 * 3600).describe("A session unused this long ends."),
    sessionMaxAge: seconds(7 * 24 * 3600).describe("A session ends this long after sign-in, used or not."),
    setupLinkTtl: seconds(7 * 24 * 3600).describe("How long a one-time set-up link stays valid."),
    throttle: z
      .strictObject({
        freeFailures: z.number().int().min(0).default(5).describe("Failures allowed before delays start."),
        baseDelay: seconds(1).describe("First delay after the free failures; doubles with each failure."),
        maxDelay: seconds(300).describe("The longest delay; nobody is ever locked out for good."),
      })
      .refine((t) => t.maxDelay >= t.baseDelay, {
        message: "maxDelay must not be less than baseDelay",
        path: ["maxDelay"],
      })
      .prefault({}),
  })
  .prefault({});

export const localTargetSchema = z.strictObject({
  type: z.literal("local"),
  displayName: z.string().min(1).max(80).default("This machine"),
  description: z.string().max(500).default(""),
});

export const targetSchema = z.discriminatedUnion("type", [localTargetSchema]);

export const serversSchema = z
  .strictObject({
    namedServerLimit: z.number().int().min(0).max(1000).default(10),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "argv of the single-user server. Default: the first of `jupyter lab`, `jupyter notebook`, `jupyter server` found on PATH.",
      ),
    runAs: z
      .enum(["hub", "user"])
      .default("hub")
      .describe(
        "hub: servers run as the hub's own account (one person, one machine). user: each runs as the signed-in user's Unix account through the helper and sudo.",
      ),
    helper: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Absolute path of slipway-helper (for runAs: user). Default: the one installed with Slipway.",
      ),
    workDir: z
      .string()
      .refine(
        (s) => s === "~" || s.startsWith("~/") || s.startsWith("/"),
        "must be absolute or start with ~/",
      )
      .refine((s) => !s.split("/").includes(".."), "must not contain '..'")
      .default("~")
      .describe("Directory the server starts in; ~ is the home of the account the server runs as."),
    startTimeout: seconds(120).describe("How long a started process may take to listen and answer."),
    stopTimeout: seconds(10).describe("Grace period between SIGTERM and SIGKILL."),
    pollInterval: seconds(10).describe("How often every active server is checked."),
    targets: z
      .record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), targetSchema)
      .default({ local: { type: "local", displayName: "This machine", description: "" } })
      .describe("Where servers can run, by name."),
    defaultTarget: z.string().default("local"),
  })
  // Checked here rather than on the whole file, so `config check` reports it with other errors.
  .superRefine((servers, ctx) => {
    if (!(servers.defaultTarget in servers.targets)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultTarget"],
        message: `names no configured target (have: ${Object.keys(servers.targets).join(", ")})`,
      });
    }
  })
  .prefault({});

export const proxySchema = z
  .strictObject({
    activityFlushInterval: seconds(30).describe(
      "How often activity seen by the proxy is written to the store.",
    ),
    routeCacheTtl: seconds(5).describe(
      "How long a credential checked by the proxy is trusted without a store look-up.",
    ),
  })
  .prefault({});

export const tokensSchema = z
  .strictObject({
    maxExpiresIn: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Upper bound on API token lifetimes; longer requests are capped."),
  })
  .prefault({});

export const loggingSchema = z
  .strictObject({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  })
  .prefault({});

export const configSchema = z.strictObject({
  hub: hubSchema,
  database: databaseSchema,
  auth: authSchema,
  servers: serversSchema,
  proxy: proxySchema,
  tokens: tokensSchema,
  logging: loggingSchema,
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
