import { z } from "zod";
import { parseDuration, parseEpoch } from "./slurm-time.js";

/**
 * Parsers for the text output of Slurm 22.05's tools, one function per command, each line
 * validated with zod (scheduler-interfaces.md §4.1 and §6: stdout only, `|`-separated fields,
 * regexes rather than positions, free text last).
 */

/** A job id as the hub tracks it: plain jobs only (no arrays, no steps). */
export const JOB_ID = /^[1-9]\d{0,9}$/;

export class SlurmParseError extends Error {
  constructor(what: string, line: string) {
    super(`unexpected ${what} output: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = "SlurmParseError";
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** Fields of a `|`-separated line; the last field keeps any `|` of its own (free text). */
function fields(line: string, count: number): string[] | undefined {
  const parts = line.split("|");
  if (parts.length < count) return undefined;
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join("|")];
}

const nullable = (s: string) => (s === "" || s === "(null)" || s === "n/a" || s === "N/A" ? null : s);

// --- sbatch --parsable ---------------------------------------------------------------------

const sbatchSchema = z.string().regex(/^(\d+)(?:;\S+)?$/);

/** `1234` or `1234;cluster` on the one line of stdout; stderr may carry plugin messages. */
export function parseSbatch(stdout: string): string {
  const line = lines(stdout).at(-1)?.trim() ?? "";
  const parsed = sbatchSchema.safeParse(line);
  if (!parsed.success) throw new SlurmParseError("sbatch", stdout);
  const id = parsed.data.split(";")[0] ?? "";
  if (!JOB_ID.test(id)) throw new SlurmParseError("sbatch", stdout);
  return id;
}

// --- squeue --------------------------------------------------------------------------------

/** `%A|%T|%r|%S|%e|%V|%L|%N|%B|%P|%u|%b|%j|%k`: the comment last, as it is free text. */
export const SQUEUE_FORMAT = "%A|%T|%r|%S|%e|%V|%L|%N|%B|%P|%u|%b|%j|%k";
const SQUEUE_FIELDS = 14;

export interface QueuedJob {
  readonly jobId: string;
  /** Long state (`PENDING`, `RUNNING`, `COMPLETED`, ...); flag states take precedence. */
  readonly state: string;
  readonly reason: string;
  /** Expected start while pending (backfill estimate), actual start once running. */
  readonly start: number | null;
  /** Expected end while running (start + limit), actual end once finished. */
  readonly end: number | null;
  readonly submit: number | null;
  /** Seconds left of the time limit, null when unlimited or not known. */
  readonly timeLeft: number | null;
  readonly nodes: string | null;
  /** The node running the batch script (`BatchHost`): where the server listens. */
  readonly batchHost: string | null;
  readonly partition: string;
  readonly user: string;
  /** `gres:gpu:1` or null. */
  readonly gres: string | null;
  readonly name: string;
  readonly comment: string | null;
}

const squeueLine = z
  .tuple([
    z.string().regex(JOB_ID),
    z.string().regex(/^[A-Z_]+$/),
    z.string().regex(/^[A-Za-z0-9_,:() .-]*$/),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
    z.string().regex(/^[A-Za-z0-9_.-]*$/),
    z.string().regex(/^[A-Za-z0-9_.-]+$/),
    z.string(),
    z.string(),
    z.string(),
  ])
  .transform(
    ([
      jobId,
      state,
      reason,
      start,
      end,
      submit,
      left,
      nodes,
      host,
      partition,
      user,
      gres,
      name,
      comment,
    ]) => ({
      jobId,
      state,
      reason,
      start: parseEpoch(start),
      end: parseEpoch(end),
      submit: parseEpoch(submit),
      timeLeft: parseDuration(left),
      nodes: nullable(nodes),
      batchHost: nullable(host),
      partition,
      user,
      gres: nullable(gres),
      name,
      comment: nullable(comment),
    }),
  );

export function parseSqueue(stdout: string): QueuedJob[] {
  return lines(stdout).map((line) => {
    const parts = fields(line, SQUEUE_FIELDS);
    const parsed = squeueLine.safeParse(parts);
    if (!parsed.success) throw new SlurmParseError("squeue", line);
    return parsed.data;
  });
}

/**
 * `squeue -j <one id>` for a job purged from memory prints this and exits 1; with two or more
 * ids it does not (scheduler-interfaces.md §4.1). It is a positive "not in the queue".
 */
export function isInvalidJobIdError(stderr: string): boolean {
  return /Invalid job id specified/.test(stderr);
}

// --- sacct ---------------------------------------------------------------------------------

export const SACCT_FORMAT = "JobIDRaw,State,ExitCode,Start,End,NodeList,Reason";

export interface AccountedJob {
  readonly jobId: string;
  /** The base state, without `by <uid>`. */
  readonly state: string;
  /** Set for `CANCELLED by <uid>`. */
  readonly cancelledBy: number | null;
  readonly exitCode: number;
  readonly signal: number;
  readonly start: number | null;
  readonly end: number | null;
  readonly nodes: string | null;
  readonly reason: string;
}

const sacctLine = z
  .tuple([
    z.string().regex(JOB_ID),
    z.string().regex(/^[A-Z_]+(?: by \d+)?$/),
    z.string().regex(/^\d+:\d+$/),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
  ])
  .transform(([jobId, stateText, exit, start, end, nodes, reason]) => {
    const [state = "", , by] = stateText.split(" ");
    const [code = "0", signal = "0"] = exit.split(":");
    return {
      jobId,
      state,
      cancelledBy: by === undefined ? null : Number.parseInt(by, 10),
      exitCode: Number.parseInt(code, 10),
      signal: Number.parseInt(signal, 10),
      start: parseEpoch(start),
      end: parseEpoch(end),
      nodes: nodes === "None assigned" ? null : nullable(nodes),
      reason,
    };
  });

/** `sacct -X -P -n -o <SACCT_FORMAT>`; rows of steps or arrays (ids with `.`, `_`, `+`) are skipped. */
export function parseSacct(stdout: string): AccountedJob[] {
  const out: AccountedJob[] = [];
  for (const line of lines(stdout)) {
    const parts = fields(line, 7);
    if (parts && !JOB_ID.test(parts[0] ?? "")) continue;
    const parsed = sacctLine.safeParse(parts);
    if (!parsed.success) throw new SlurmParseError("sacct", line);
    out.push(parsed.data);
  }
  return out;
}

/** sacct without slurmdbd: the cue to fall back on the job's own exit record. */
export function isAccountingDisabled(text: string): boolean {
  return /accounting storage is disabled/i.test(text);
}

// --- scontrol show partition -o --------------------------------------------------------------

export interface PartitionInfo {
  readonly name: string;
  /** null means ALL. */
  readonly allowGroups: readonly string[] | null;
  /** null means ALL. */
  readonly allowAccounts: readonly string[] | null;
  readonly denyAccounts: readonly string[];
  /** Seconds; null when unlimited. */
  readonly maxTime: number | null;
  readonly defaultTime: number | null;
  readonly up: boolean;
  readonly totalCpus: number | null;
  readonly hidden: boolean;
  readonly rootOnly: boolean;
}

const partitionName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
const list = (v: string | undefined): readonly string[] | null =>
  v === undefined || v === "ALL" ? null : v.split(",").filter((s) => s !== "" && s !== "(null)");

/** One partition per line, `Key=Value` separated by spaces. */
export function parsePartitions(stdout: string): PartitionInfo[] {
  return lines(stdout).map((line) => {
    const kv = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (m[1] !== undefined) kv.set(m[1], m[2] ?? "");
    const name = partitionName.safeParse(kv.get("PartitionName"));
    if (!name.success) throw new SlurmParseError("scontrol show partition", line);
    const time = (key: string) => {
      const v = kv.get(key);
      return v === undefined || v === "UNLIMITED" || v === "NONE" ? null : parseDuration(v);
    };
    const cpus = kv.get("TotalCPUs");
    return {
      name: name.data,
      allowGroups: list(kv.get("AllowGroups")),
      allowAccounts: list(kv.get("AllowAccounts")),
      denyAccounts: list(kv.get("DenyAccounts")) ?? [],
      maxTime: time("MaxTime"),
      defaultTime: time("DefaultTime"),
      up: kv.get("State") === "UP",
      totalCpus: cpus !== undefined && /^\d+$/.test(cpus) ? Number.parseInt(cpus, 10) : null,
      hidden: kv.get("Hidden") === "YES",
      rootOnly: kv.get("RootOnly") === "YES",
    };
  });
}

// --- sinfo -h -o '%R|%G' ---------------------------------------------------------------------

export const SINFO_GRES_FORMAT = "%R|%G";

/**
 * GPUs per node of each partition (the most any node group offers), from `%G`: `(null)`,
 * `gpu:4`, `gpu:a100:4(S:0-1)`, `gpu:2,shard:8`.
 */
export function parseGpusPerPartition(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines(stdout)) {
    const parts = fields(line, 2);
    const name = partitionName.safeParse(parts?.[0]);
    if (!parts || !name.success) throw new SlurmParseError("sinfo", line);
    let gpus = 0;
    for (const entry of (parts[1] ?? "").split(",")) {
      const m = /^gpu(?::[A-Za-z0-9_.-]+)?:(\d+)(?:\(.*\))?$/.exec(entry.trim());
      if (m?.[1] !== undefined) gpus += Number.parseInt(m[1], 10);
    }
    out.set(name.data, Math.max(out.get(name.data) ?? 0, gpus));
  }
  return out;
}

// --- sacctmgr -nP show user <u> withassoc format=DefaultAccount,Account ------------------------

export const SACCTMGR_USER_FORMAT = "DefaultAccount,Account";

/** A user's Slurm accounts: the default one (what a job without `--account` runs under) and all. */
export interface UserAccounts {
  /** null when the user has no association: a job then has no account at all. */
  readonly defaultAccount: string | null;
  readonly accounts: readonly string[];
}

const accountName = z.string().regex(/^[A-Za-z0-9_.@+-]{0,64}$/);
const sacctmgrLine = z.tuple([accountName, accountName]);

/** One `default|account` line per association; no lines when the user has none. */
export function parseUserAccounts(stdout: string): UserAccounts {
  let defaultAccount: string | null = null;
  const accounts: string[] = [];
  for (const line of lines(stdout)) {
    const parsed = sacctmgrLine.safeParse(line.trim().split("|"));
    if (!parsed.success) throw new SlurmParseError("sacctmgr", line);
    const [def, account] = parsed.data;
    if (def !== "") defaultAccount ??= def;
    if (account !== "" && !accounts.includes(account)) accounts.push(account);
  }
  return { defaultAccount, accounts };
}

/** `ClusterName = lab` from `scontrol show config`. */
export function parseClusterName(stdout: string): string {
  const match = /^ClusterName\s*=\s*([A-Za-z0-9_.-]{1,64})\s*$/m.exec(stdout);
  if (!match?.[1]) throw new SlurmParseError("scontrol", "no ClusterName in scontrol show config");
  return match[1];
}

/** sacctmgr on a cluster without slurmdbd: jobs there carry no account unless one is asked for. */
export function isAccountingStorageUnsupported(text: string): boolean {
  return /not running a supported accounting_storage plugin/i.test(text);
}

// --- id -Gn --------------------------------------------------------------------------------

export function parseGroups(stdout: string): string[] {
  return stdout
    .trim()
    .split(/\s+/)
    .filter((g) => /^[A-Za-z0-9_.][A-Za-z0-9_.$-]{0,63}$/.test(g));
}
