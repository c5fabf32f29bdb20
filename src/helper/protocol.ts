import { createPrivateKey, X509Certificate } from "node:crypto";
import { z } from "zod";

/**
 * The wire protocol of `slipway-helper`: one JSON request on stdin, one JSON response on stdout.
 * The hub and the helper both import these schemas, so the two sides cannot drift apart; the hub
 * still validates every response, because it comes from another process (possibly another user).
 */

/** `/user/<name>/` or `/user/<name>/<server>/`, with the same name rules as the domain. */
export const BASE_URL = /^\/user\/[a-z0-9][a-z0-9._-]{0,31}\/([a-z][a-z0-9-]{0,29}\/)?$/;

/** Visible ASCII only: the token goes into an HTTP header and a JSON file, nowhere else. */
const TOKEN = /^[\x21-\x7e]{16,512}$/;

const serverId = z.int().positive();
/** The hub installation the server belongs to: two hubs on one account never share a folder. */
const hub = z.string().regex(/^[a-z0-9]{4,32}$/);
const pid = z.int().min(1);
/** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid from ours. */
const startTime = z.int().nonnegative();

const noNul = (s: string) => !s.includes("\0");

/**
 * The only path the request may carry. `~` is the running user's home; `..` segments are refused
 * so that the value names the directory it appears to name.
 */
const workDir = z
  .string()
  .min(1)
  .max(4096)
  .refine(noNul, "must not contain NUL")
  .refine((s) => s === "~" || s.startsWith("~/") || s.startsWith("/"), "must be absolute or start with ~")
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

/**
 * Where the server's Unix socket goes: a directory the hub prepared (0700 when servers run as the
 * hub, sticky and writable by all when they run as users, like /tmp), in which the helper makes a
 * directory of the user's own. Short, because a socket's path holds at most 107 bytes.
 */
const socketDir = z
  .string()
  .min(2)
  .max(64)
  .refine(noNul, "must not contain NUL")
  .refine((s) => s.startsWith("/"), "must be absolute")
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

export const startRequestSchema = z.strictObject({
  hub,
  serverId,
  attemptId: z.uuid(),
  baseUrl: z.string().regex(BASE_URL),
  token: z.string().regex(TOKEN),
  command: z.array(z.string().min(1).max(4096).refine(noNul, "must not contain NUL")).min(1).max(256),
  workDir,
  socketDir,
  startTimeoutMs: z
    .int()
    .min(1)
    .max(24 * 3600 * 1000),
});

export const findRequestSchema = z.strictObject({ hub, serverId, attemptId: z.uuid() });

export const pollRequestSchema = z.strictObject({ pid, startTime });

export const stopRequestSchema = z.strictObject({
  hub,
  serverId,
  pid,
  startTime,
  graceMs: z
    .int()
    .min(0)
    .max(10 * 60 * 1000),
});

export const logTailRequestSchema = z.strictObject({ hub, serverId, lines: z.int().min(1).max(10_000) });

export type StartRequest = z.infer<typeof startRequestSchema>;
export type FindRequest = z.infer<typeof findRequestSchema>;
export type PollRequest = z.infer<typeof pollRequestSchema>;
export type StopRequest = z.infer<typeof stopRequestSchema>;
export type LogTailRequest = z.infer<typeof logTailRequestSchema>;

/** The Unix socket a server listens on. */
const socket = z.string().min(2).max(107);

export const startResultSchema = z.strictObject({
  pid,
  startTime,
  socket,
  logPath: z.string(),
  dir: z.string(),
});

export const findResultSchema = z.discriminatedUnion("found", [
  z.strictObject({
    found: z.literal(true),
    pid,
    startTime,
    socket: socket.optional(),
    logPath: z.string(),
  }),
  z.strictObject({ found: z.literal(false) }),
]);

export const pollResultSchema = z.strictObject({ alive: z.boolean() });

export const stopResultSchema = z.strictObject({ stopped: z.literal(true) });

export const logTailResultSchema = z.strictObject({ text: z.string() });

export type StartResult = z.infer<typeof startResultSchema>;
export type FindResult = z.infer<typeof findResultSchema>;
export type PollResult = z.infer<typeof pollResultSchema>;
export type StopResult = z.infer<typeof stopResultSchema>;
export type LogTailResult = z.infer<typeof logTailResultSchema>;

// --- Slurm jobs (see slurm-batch-script.ts and README.md) ---------------------------------------

/** What a batch job may ask for; the only values that reach the batch script besides fixed paths. */
export const slurmJobSchema = z.strictObject({
  partition: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  cpus: z.int().min(1).max(4096),
  memoryMb: z
    .int()
    .min(1)
    .max(64 * 1024 * 1024),
  gpus: z.int().min(0).max(64),
  minutes: z
    .int()
    .min(1)
    .max(366 * 24 * 60),
});

/** A path that can stand in a script without quoting: absolute, no spaces, no shell syntax. */
export const SAFE_PATH = /^\/[A-Za-z0-9_./+-]{0,4095}$/;
const safePath = z
  .string()
  .regex(SAFE_PATH)
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

/**
 * PEM as Node writes it: the label's armour around base64 lines of at most 64 characters, with a
 * final newline. Nothing else may ride along (no second block, no headers, no text around it).
 */
function pem(label: string, max: number) {
  return z
    .string()
    .max(max)
    .regex(new RegExp(`^-----BEGIN ${label}-----\\n(?:[A-Za-z0-9+/=]{1,64}\\n)+-----END ${label}-----\\n$`));
}

function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

function keyOfCertificate(tls: { key: string; certificate: string }): boolean {
  try {
    return new X509Certificate(tls.certificate).checkPrivateKey(createPrivateKey(tls.key));
  } catch {
    return false;
  }
}

/** A launch's certificate (public): what the proxy pins for a batch job's server (invariant 9). */
export const certificatePem = pem("CERTIFICATE", 8192).refine(
  (s) => parses(() => new X509Certificate(s)),
  "must be an X.509 certificate",
);

/**
 * The key pair of one launch: the server proves it holds `key` in every TLS handshake with the
 * hub. The key is a secret like the token: checked here, never echoed in a message.
 */
export const launchTlsSchema = z
  .strictObject({
    key: pem("PRIVATE KEY", 4096).refine((s) => parses(() => createPrivateKey(s)), "must be a PKCS#8 key"),
    certificate: certificatePem,
  })
  .refine(keyOfCertificate, { message: "the key must be the certificate's", path: ["key"] });

export const slurmSubmitRequestSchema = z.strictObject({
  hub,
  serverId,
  attemptId: z.uuid(),
  baseUrl: z.string().regex(BASE_URL),
  token: z.string().regex(TOKEN),
  /** The one-time credential of the job's callback; like the token, it goes into a 0600 file only. */
  credential: z.string().regex(TOKEN),
  /** The server's TLS key and certificate for this launch; into 0600 files only, like the token. */
  tls: launchTlsSchema,
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2048),
  command: z.array(z.string().min(1).max(4096).refine(noNul, "must not contain NUL")).min(1).max(256),
  workDir,
  job: slurmJobSchema,
  /** The Python that runs the job agent on the compute node. */
  python: safePath,
  /** The job agent (`job/slipway-job.py`), readable on the compute nodes. */
  agent: safePath,
  sbatch: safePath,
});

export const slurmCancelRequestSchema = z.strictObject({
  jobId: z.string().regex(/^[1-9]\d{0,9}$/),
  scancel: safePath,
});

export const slurmLogTailRequestSchema = z.strictObject({ hub, serverId, lines: z.int().min(1).max(10_000) });

export type SlurmJob = z.infer<typeof slurmJobSchema>;
export type SlurmSubmitRequest = z.infer<typeof slurmSubmitRequestSchema>;
export type SlurmCancelRequest = z.infer<typeof slurmCancelRequestSchema>;
export type SlurmLogTailRequest = z.infer<typeof slurmLogTailRequestSchema>;

export const slurmSubmitResultSchema = z.strictObject({
  jobId: z.string().regex(/^[1-9]\d{0,9}$/),
  logPath: z.string(),
  dir: z.string(),
});
export const slurmCancelResultSchema = z.strictObject({ cancelled: z.literal(true) });
export const slurmLogTailResultSchema = z.strictObject({
  text: z.string(),
  /** From the job agent's own exit record, when the job got that far. */
  exitCode: z.int().optional(),
  /**
   * The certificate of the job's last submission, as it lies in the job's directory: a hub that
   * stopped before it stored the launch's state rebuilds the route from it.
   */
  certificate: certificatePem.optional(),
});

export type SlurmSubmitResult = z.infer<typeof slurmSubmitResultSchema>;
export type SlurmCancelResult = z.infer<typeof slurmCancelResultSchema>;
export type SlurmLogTailResult = z.infer<typeof slurmLogTailResultSchema>;

/** Each verb with the schema of its request and of its result. */
export const verbs = {
  start: { request: startRequestSchema, result: startResultSchema },
  find: { request: findRequestSchema, result: findResultSchema },
  poll: { request: pollRequestSchema, result: pollResultSchema },
  stop: { request: stopRequestSchema, result: stopResultSchema },
  "log-tail": { request: logTailRequestSchema, result: logTailResultSchema },
  "slurm-submit": { request: slurmSubmitRequestSchema, result: slurmSubmitResultSchema },
  "slurm-cancel": { request: slurmCancelRequestSchema, result: slurmCancelResultSchema },
  "slurm-log-tail": { request: slurmLogTailRequestSchema, result: slurmLogTailResultSchema },
} as const;

export type Verb = keyof typeof verbs;

export function isVerb(value: string): value is Verb {
  return Object.hasOwn(verbs, value);
}

/**
 * Why a request failed. `bad_request`: the request itself (exit 2). `exited`: the server process
 * ended before it listened. `timeout`: it did not listen in time. `failed`: anything else.
 */
export const failureCodes = ["bad_request", "exited", "timeout", "failed"] as const;
export type FailureCode = (typeof failureCodes)[number];

export const failureSchema = z.strictObject({
  code: z.enum(failureCodes),
  message: z.string(),
  logTail: z.string().optional(),
});

export type Failure = z.infer<typeof failureSchema>;

/** The envelope around every response. */
export function responseSchema<T extends z.ZodType>(result: T) {
  return z.discriminatedUnion("ok", [
    z.strictObject({ ok: z.literal(true), result }),
    z.strictObject({ ok: z.literal(false), error: failureSchema }),
  ]);
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_REQUEST = 2;
