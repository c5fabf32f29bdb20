import { z } from "zod";
import { authModeSchema, checkAuthMode } from "./auth-schema.js";

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
    frontDoorSocket: z
      .string()
      .max(100)
      .regex(/^\/[A-Za-z0-9_./+-]+$/, "must be an absolute path without spaces")
      .optional()
      .describe(
        'A Unix socket the hub also listens on, for a front door on the same machine (mode 0660: give the front door\'s group access to its directory). Requests through it come from the peer "unix" (auth.trustedHeader.trustedPeers).',
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
    ...authModeSchema,
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
        // 30: a course behind one NAT signs in at once; spraying from one address gets ~30 guesses a quarter hour.
        freeFailuresPerAddress: z
          .number()
          .int()
          .min(0)
          .default(30)
          .describe(
            "Attempts allowed per client address (failed, or still being checked) before delays start.",
          ),
        baseDelay: seconds(1).describe("First delay after the free failures; doubles with each failure."),
        maxDelay: seconds(300).describe("The longest delay; nobody is ever locked out for good."),
      })
      .refine((t) => t.maxDelay >= t.baseDelay, {
        message: "maxDelay must not be less than baseDelay",
        path: ["maxDelay"],
      })
      .prefault({}),
  })
  .superRefine(checkAuthMode)
  .prefault({});

export const localTargetSchema = z.strictObject({
  type: z.literal("local"),
  displayName: z.string().min(1).max(80).default("This machine"),
  description: z.string().max(500).default(""),
});

const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9_./+-]{0,4095}$/, "must be an absolute path without spaces");

export const slurmPartitionSchema = z.strictObject({
  displayName: z.string().min(1).max(80).optional(),
  queueLimit: seconds(3600).describe(
    "How long a server may wait in this partition's queue before its job is cancelled (separate from startTimeout).",
  ),
  maxCpus: z.number().int().min(1).max(4096).optional().describe("Most CPUs a server may ask for here."),
  maxMemoryMb: z.number().int().min(1).optional().describe("Most memory (MiB) a server may ask for here."),
  maxGpus: z
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe("Most GPUs a server may ask for here (never more than the nodes' GRES)."),
});

export const slurmTargetSchema = z.strictObject({
  type: z.literal("slurm"),
  displayName: z.string().min(1).max(80).default("Slurm cluster"),
  description: z.string().max(500).default(""),
  cluster: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default("slurm")
    .describe("Name of the cluster, for metrics and messages."),
  partitions: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), slurmPartitionSchema)
    .refine((p) => Object.keys(p).length > 0, "name at least one partition")
    .describe(
      "Partitions servers may run in. A user is offered only those whose AllowGroups/AllowAccounts let them submit (read from `scontrol show partition`).",
    ),
  defaults: z
    .strictObject({
      cpus: z.number().int().min(1).default(1),
      memoryMb: z.number().int().min(1).default(2048),
      gpus: z.number().int().min(0).default(0),
      runtimeMinutes: z.number().int().min(1).default(60),
    })
    .prefault({}),
  maxCpus: z.number().int().min(1).max(4096).default(16),
  maxMemoryMb: z
    .number()
    .int()
    .min(1)
    .default(64 * 1024),
  maxRuntimeMinutes: z
    .number()
    .int()
    .min(1)
    .default(24 * 60)
    .describe("Upper bound on runtime; a partition's own MaxTime lowers it."),
  pollInterval: seconds(10).describe("One batched squeue per interval covers every tracked job."),
  commandTimeout: seconds(30).describe("A Slurm command that takes longer counts as unknown."),
  partitionCacheTtl: seconds(60).describe(
    "How long partitions and users' groups and Slurm accounts are cached.",
  ),
  commands: z
    .strictObject({
      sbatch: absolutePath.default("/usr/bin/sbatch"),
      squeue: absolutePath.default("/usr/bin/squeue"),
      sacct: absolutePath.default("/usr/bin/sacct"),
      scancel: absolutePath.default("/usr/bin/scancel"),
      scontrol: absolutePath.default("/usr/bin/scontrol"),
      sinfo: absolutePath.default("/usr/bin/sinfo"),
      sacctmgr: absolutePath.default("/usr/bin/sacctmgr"),
    })
    .prefault({}),
  python: absolutePath
    .default("/usr/bin/python3")
    .describe("Python on the compute nodes that runs the job agent."),
  agent: absolutePath
    .optional()
    .describe(
      "Path of job/slipway-job.py as the compute nodes see it. Default: the one installed with Slipway.",
    ),
  command: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("argv of Jupyter on the compute nodes. Default: servers.command or the detected one."),
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("The hub's URL as the compute nodes reach it. Default: hub.publicUrl or the listener."),
  localFallback: z
    .string()
    .optional()
    .describe("A local target to offer when a server's queue limit is reached (none if unset)."),
  walltimeWarnings: z
    .array(
      z
        .number()
        .int()
        .min(1)
        .max(7 * 24 * 3600),
    )
    .max(10)
    .default([600, 60])
    .describe(
      "Seconds before a server's job reaches its time limit (walltime) at which its owner is warned on the hub's pages; [] for no warnings.",
    ),
});

export const targetSchema = z.discriminatedUnion("type", [localTargetSchema, slurmTargetSchema]);

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
    socketDir: z
      .string()
      .max(64)
      .refine((s) => s.startsWith("/"), "must be an absolute path")
      .refine((s) => !s.split("/").includes(".."), "must not contain '..'")
      .optional()
      .describe(
        "Directory for local servers' Unix sockets, each in a subdirectory of its owner's (at most 64 characters: a socket path holds 107 bytes). The hub creates it, 0700 for runAs: hub and sticky 01733 for runAs: user, and refuses one it does not own. Default: <data dir>/sockets.",
      ),
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
    credentialCheckInterval: seconds(60).describe(
      "How often the sessions and tokens of open websockets are checked; those of ended ones are closed.",
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
