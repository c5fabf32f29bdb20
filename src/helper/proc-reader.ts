import { close, open, read, readdir, readFile } from "node:fs";
import { join } from "node:path";

export interface ProcStat {
  readonly pid: number;
  /** One letter: R, S, D, Z, ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Field 22: clock ticks after boot at which the process started. */
  readonly startTime: number;
}

export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

/** Parses one /proc/<pid>/stat line; undefined when it is not one. */
export function parseProcStat(line: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may itself hold spaces and ')', so the
  // fixed fields are counted from the last ')'.
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 1 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3, so field n is rest[n - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (state === undefined || ![pid, ppid, pgrp, startTime].every(Number.isSafeInteger)) return undefined;
  return { pid, state, ppid, pgrp, startTime };
}

function isMissing(err: unknown): boolean {
  // ESRCH shows up when a process exits while its /proc directory is being read.
  return err instanceof Error && "code" in err && (err.code === "ENOENT" || err.code === "ESRCH");
}

/**
 * A stat line is a pid, a command name of at most 64 bytes and 50 numbers: well under 1 KiB.
 * A read that fills the buffer is retried with readFile rather than trusted.
 */
const STAT_BUFFER_BYTES = 1024;
/** /proc reads in flight at once per reader: a scan of every process must not flood libuv's pool. */
const DEFAULT_CONCURRENCY = 8;

function openAsync(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, "r", (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readAsync(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, 0, buf.length, 0, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

function closeAsync(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

function readdirAsync(path: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    readdir(path, (err, names) => (err ? reject(err) : resolve(names))),
  );
}

function readTextAsync(path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    readFile(path, "utf8", (err, text) => (err ? reject(err) : resolve(text))),
  );
}

/**
 * Reads what the kernel says about processes. The root is injectable so tests can point it at a
 * fixture; production uses /proc. Nothing here needs privileges.
 *
 * Reads are cheap on purpose, because the hub polls every server it runs: a stat line is read
 * into one of a few reused 1 KiB buffers (readFile would allocate 64 KiB per call, since /proc
 * files report size 0), and at most `concurrency` reads are in flight however many are asked.
 */
export class ProcReader {
  private readonly free: Buffer[];
  private readonly waiting: ((buf: Buffer) => void)[] = [];
  /** Whether this kernel has /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN). */
  private childrenFiles: boolean | undefined;

  constructor(
    private readonly root = "/proc",
    concurrency = DEFAULT_CONCURRENCY,
  ) {
    this.free = Array.from({ length: Math.max(1, concurrency) }, () => Buffer.alloc(STAT_BUFFER_BYTES));
  }

  async stat(pid: number): Promise<ProcStat | undefined> {
    const path = join(this.root, String(pid), "stat");
    try {
      return parseProcStat(await this.readSmall(path));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /**
   * True when `pid` is the very process that was recorded. A zombie counts as gone: it has
   * exited, and on hosts whose pid 1 does not reap orphans it would otherwise look alive forever.
   */
  async isAlive(id: ProcessIdentity): Promise<boolean> {
    const s = await this.stat(id.pid);
    return s !== undefined && s.startTime === id.startTime && s.state !== "Z" && s.state !== "X";
  }

  /** Every process currently in /proc (those that vanish mid-scan are left out). */
  async all(): Promise<ProcStat[]> {
    const names = await readdirAsync(this.root);
    const stats = await Promise.all(
      names.filter((n) => /^\d+$/.test(n)).map((n) => this.stat(Number(n)).catch(() => undefined)),
    );
    return stats.filter((s): s is ProcStat => s !== undefined);
  }

  /** All live descendants of `pid`, found through parent links (the kernel here may lack `children`). */
  async descendants(pid: number): Promise<ProcessIdentity[]> {
    const out: ProcessIdentity[] = [];
    const direct = await this.childrenOf(pid);
    if (direct !== undefined) {
      // Breadth first through the kernel's own child lists: a handful of reads, not a /proc scan.
      const queue = [...direct];
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const s = await this.stat(next);
        if (s === undefined || s.state === "Z") continue;
        out.push({ pid: s.pid, startTime: s.startTime });
        queue.push(...((await this.childrenOf(next)) ?? []));
      }
      return out;
    }
    const byParent = new Map<number, ProcStat[]>();
    for (const s of await this.all()) {
      const list = byParent.get(s.ppid) ?? [];
      list.push(s);
      byParent.set(s.ppid, list);
    }
    const queue = [pid];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const child of byParent.get(next) ?? []) {
        if (child.state === "Z") continue;
        out.push({ pid: child.pid, startTime: child.startTime });
        queue.push(child.pid);
      }
    }
    return out;
  }

  /**
   * Children of every thread of `pid` from the kernel's `children` files; [] for a process that
   * is gone, undefined when this kernel has no such files.
   */
  private async childrenOf(pid: number): Promise<number[] | undefined> {
    if (this.childrenFiles === false) return undefined;
    const taskDir = join(this.root, String(pid), "task");
    let tids: string[];
    try {
      tids = await readdirAsync(taskDir);
    } catch (err) {
      if (isMissing(err)) return this.childrenFiles === undefined ? undefined : [];
      throw err;
    }
    const out: number[] = [];
    for (const tid of tids) {
      let text: string;
      try {
        text = await this.readSmall(join(taskDir, tid, "children"));
      } catch (err) {
        if (!isMissing(err)) throw err;
        // The thread ended, or the kernel lacks the file: the main thread tells which.
        if (tid === String(pid) && this.childrenFiles === undefined) {
          this.childrenFiles = false;
          return undefined;
        }
        continue;
      }
      this.childrenFiles = true;
      for (const p of text.split(" ")) if (/^\d+$/.test(p)) out.push(Number(p));
    }
    return out;
  }

  /** A small /proc file, read whole into a pooled buffer. */
  private async readSmall(path: string): Promise<string> {
    const buf = await this.acquire();
    try {
      const fd = await openAsync(path);
      let n: number;
      try {
        n = await readAsync(fd, buf);
      } finally {
        await closeAsync(fd);
      }
      if (n < buf.length) return buf.toString("latin1", 0, n);
    } finally {
      this.release(buf);
    }
    return readTextAsync(path);
  }

  private acquire(): Promise<Buffer> {
    const buf = this.free.pop();
    if (buf !== undefined) return Promise.resolve(buf);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(buf: Buffer): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(buf);
    else this.free.push(buf);
  }
}
