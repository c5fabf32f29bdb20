import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** What /proc says about one process at one instant. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks (children that were reaped are not included). */
  readonly cpuTicks: number;
  /** Field 22: clock ticks after boot at which the process started. */
  readonly startTime: number;
}

/** `getconf CLK_TCK` (100 on every Linux this runs on, but asked rather than assumed). */
const TICKS_PER_SECOND = ((): number => {
  const out = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  return Number.isInteger(out) && out > 0 ? out : 100;
})();

export function clockTicksPerSecond(): number {
  return TICKS_PER_SECOND;
}

export function readStat(pid: number): ProcStat | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may contain spaces and ')': count from the last ')'.
  const rest = line
    .slice(line.lastIndexOf(")") + 2)
    .trim()
    .split(" ");
  // rest[0] is field 3, so field n is rest[n - 3].
  const ppid = Number(rest[1]);
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  const startTime = Number(rest[19]);
  if (![ppid, cpuTicks, startTime].every(Number.isSafeInteger)) return undefined;
  return { pid, ppid, cpuTicks, startTime };
}

/** VmRSS in KiB, or undefined when the process is gone. */
export function readRssKiB(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** `pid` and all its live descendants, found through parent links. */
export function processTree(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === undefined) continue;
    const siblings = byParent.get(stat.ppid) ?? [];
    siblings.push(stat.pid);
    byParent.set(stat.ppid, siblings);
  }
  const out: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    out.push(next);
    queue.push(...(byParent.get(next) ?? []));
  }
  return out;
}

/** Sum of VmRSS over a process tree, in MiB. */
export function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) kib += readRssKiB(p) ?? 0;
  return kib / 1024;
}

/** How many sockets `pid` has open (listening ones included), or 0 when it is gone. */
export function openSockets(pid: number): number {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  let sockets = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets += 1;
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

/** Which processes make up one role (the proxy, the backend, ...): resolved when a window opens. */
export type RolePids = () => readonly number[];

/**
 * CPU time of named roles over a window: utime+stime deltas read from /proc/<pid>/stat of each
 * process of the role. A process that exits inside the window loses its last ticks, so roles
 * are meant to be long-lived processes.
 */
export class CpuWindow {
  private readonly start = new Map<string, Map<number, number>>();

  constructor(private readonly roles: Readonly<Record<string, RolePids>>) {
    for (const [role, pids] of Object.entries(roles)) {
      const ticks = new Map<number, number>();
      for (const pid of pids()) {
        const stat = readStat(pid);
        if (stat !== undefined) ticks.set(pid, stat.cpuTicks);
      }
      this.start.set(role, ticks);
    }
  }

  /** CPU seconds used by each role since the window opened. */
  close(): Record<string, number> {
    const out: Record<string, number> = {};
    const hz = clockTicksPerSecond();
    for (const [role, ticks] of this.start) {
      let used = 0;
      for (const [pid, before] of ticks) {
        const stat = readStat(pid);
        if (stat !== undefined) used += stat.cpuTicks - before;
      }
      out[role] = used / hz;
    }
    return out;
  }

  get roleNames(): string[] {
    return Object.keys(this.roles);
  }
}

/** The argv of a process joined by spaces, or "" when it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
