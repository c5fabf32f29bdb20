import { readdir, readFile, readlink } from "node:fs/promises";
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

/** The local ports of the LISTEN rows of a /proc/net/tcp{,6} table whose inode is in `inodes`. */
export function parseListeningPorts(table: string, inodes: ReadonlySet<string>): number[] {
  const ports: number[] = [];
  for (const row of table.split("\n").slice(1)) {
    const f = row.trim().split(/\s+/);
    const local = f[1];
    // st 0A is TCP_LISTEN; field 9 is the socket's inode.
    if (local === undefined || f[3] !== "0A" || f[9] === undefined || !inodes.has(f[9])) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isInteger(port) && port > 0) ports.push(port);
  }
  return ports;
}

function isMissing(err: unknown): boolean {
  // ESRCH shows up when a process exits while its /proc directory is being read.
  return err instanceof Error && "code" in err && (err.code === "ENOENT" || err.code === "ESRCH");
}

/**
 * Reads what the kernel says about processes. The root is injectable so tests can point it at a
 * fixture; production uses /proc. Nothing here needs privileges except `listeningPorts`, which
 * must read the fd links of a process and so only works for the process's owner (or root).
 */
export class ProcReader {
  constructor(private readonly root = "/proc") {}

  async stat(pid: number): Promise<ProcStat | undefined> {
    try {
      return parseProcStat(await readFile(join(this.root, String(pid), "stat"), "utf8"));
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
    const names = await readdir(this.root);
    const stats = await Promise.all(
      names.filter((n) => /^\d+$/.test(n)).map((n) => this.stat(Number(n)).catch(() => undefined)),
    );
    return stats.filter((s): s is ProcStat => s !== undefined);
  }

  /** All live descendants of `pid`, found through parent links (the kernel here may lack `children`). */
  async descendants(pid: number): Promise<ProcessIdentity[]> {
    const byParent = new Map<number, ProcStat[]>();
    for (const s of await this.all()) {
      const list = byParent.get(s.ppid) ?? [];
      list.push(s);
      byParent.set(s.ppid, list);
    }
    const out: ProcessIdentity[] = [];
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
   * TCP ports on which `pid`, or else another member of its process group, listens. The server's
   * own runtime file cannot tell: started with port 0 it records 0, so the kernel is asked by
   * matching the process's socket inodes against the LISTEN rows of its network namespace.
   */
  async listeningPorts(pid: number): Promise<number[]> {
    const own = await this.portsOf(pid);
    if (own.length > 0) return own;
    // A wrapper (a shell script, a sandbox) may fork the real server instead of exec'ing it.
    const members = (await this.all()).filter((s) => s.pgrp === pid && s.pid !== pid && s.state !== "Z");
    for (const m of members) {
      const ports = await this.portsOf(m.pid).catch((err: unknown) => {
        if (isMissing(err)) return [];
        throw err;
      });
      if (ports.length > 0) return ports;
    }
    return [];
  }

  private async portsOf(pid: number): Promise<number[]> {
    const fdDir = join(this.root, String(pid), "fd");
    let fds: string[];
    try {
      fds = await readdir(fdDir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const inodes = new Set<string>();
    for (const fd of fds) {
      const target = await readlink(join(fdDir, fd)).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] !== undefined) inodes.add(m[1]);
    }
    if (inodes.size === 0) return [];
    const ports = new Set<number>();
    for (const table of ["tcp", "tcp6"]) {
      const text = await readFile(join(this.root, String(pid), "net", table), "utf8").catch(() => "");
      for (const p of parseListeningPorts(text, inodes)) ports.add(p);
    }
    return [...ports];
  }
}
