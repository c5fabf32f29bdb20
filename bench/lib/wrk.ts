import type { Supervisor } from "./supervisor.js";

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** wrk threads; one keeps the load generator's own CPU small on a 2-core machine. */
  readonly threads?: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return Number.NaN;
  return Number(match[1]) * (TIME_UNITS[match[2]] ?? Number.NaN);
}

function bytes(text: string): number {
  const match = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return Number.NaN;
  return Number(match[1]) * (SIZE_UNITS[match[2]] ?? Number.NaN);
}

function field(text: string, pattern: RegExp): string | undefined {
  return pattern.exec(text)?.[1];
}

/** Reads wrk's report (run with `--latency`). Throws when the figures that matter are missing. */
export function parseWrk(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+\w+),/.exec(text);
  const rps = field(text, /Requests\/sec:\s+([\d.]+)/);
  const p50 = field(text, /^\s+50%\s+(\S+)/m);
  const p99 = field(text, /^\s+99%\s+(\S+)/m);
  if (!total?.[1] || !total[2] || rps === undefined || p50 === undefined || p99 === undefined) {
    throw new Error(`unexpected wrk output:\n${text}`);
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: Number(total[1]),
    seconds: durationMs(total[2]) / 1000,
    requestsPerSecond: Number(rps),
    bytesPerSecond: bytes(field(text, /Transfer\/sec:\s+(\S+)/) ?? "0B"),
    p50Ms: durationMs(p50),
    p99Ms: durationMs(p99),
    non2xx: Number(field(text, /Non-2xx or 3xx responses: (\d+)/) ?? 0),
    socketErrors,
  };
}

export async function runWrk(supervisor: Supervisor, options: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(options.threads ?? 1, options.connections);
  const args = [
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    "--timeout",
    "10s",
    "--latency",
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  args.push(options.url);
  const out = await supervisor.run("wrk", "wrk", args, (options.durationSeconds + 20) * 1000);
  return parseWrk(out);
}
