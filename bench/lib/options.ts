export const GROUPS = [
  "proxy-trivial",
  "proxy-jupyter",
  "spawn",
  "hub-api",
  "cold-start",
  "memory",
  "audit",
] as const;
export type GroupName = (typeof GROUPS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly only: readonly GroupName[];
  /** Measured runs per figure (the median is over these). */
  readonly runs: number;
  /** Seconds per load run (wrk, websocket load). */
  readonly durationSeconds: number;
  /** Seconds of load before each measured window, not counted. */
  readonly warmupSeconds: number;
  /** Servers started at once in the concurrent spawn test. */
  readonly concurrentSpawns: number;
  /** Users in the largest user-list and memory tests. */
  readonly manyUsers: number;
  /** Routes in the memory test. */
  readonly routes: number;
  /** Also measure Debian's configurable-http-proxy 4.5.3 in the proxy groups. */
  readonly withChp4: boolean;
  readonly skipInstall: boolean;
  readonly keepTemp: boolean;
}

export const USAGE = `usage: node --import tsx bench/run.ts [options]

  --quick             smoke run (~3-4 min): a subset of the proxy tests, 1 run of 1 s per
                      figure, no warm-up runs, 5 concurrent spawns
  --only <groups>     comma-separated: ${GROUPS.join(", ")}
                      ("proxy" means both proxy groups); may be repeated
  --runs <n>          measured runs per figure (default 5; quick 1)
  --duration <s>      seconds per load run (default 2; quick 1)
  --with-chp4         also measure Debian's configurable-http-proxy 4.5.3 standalone
  --skip-install      do not check or install packages
  --keep-temp         keep the temporary data directories and logs
  --help`;

function groupsOf(value: string): GroupName[] {
  const out: GroupName[] = [];
  for (const name of value.split(",").map((s) => s.trim())) {
    if (name === "") continue;
    if (name === "proxy") out.push("proxy-trivial", "proxy-jupyter");
    else {
      const group = GROUPS.find((g) => g === name);
      if (group === undefined) throw new Error(`unknown group "${name}"; groups: ${GROUPS.join(", ")}`);
      out.push(group);
    }
  }
  return out;
}

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n <= 0)
    throw new Error(`${name} needs a positive number`);
  return n;
}

/** Parses argv (without node and the script); throws with a message on anything unknown. */
export function parseOptions(argv: readonly string[]): BenchOptions | "help" {
  let quick = false;
  const only: GroupName[] = [];
  let runs: number | undefined;
  let duration: number | undefined;
  let withChp4 = false;
  let skipInstall = false;
  let keepTemp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--quick":
        quick = true;
        break;
      case "--only":
        only.push(...groupsOf(value() ?? ""));
        break;
      case "--runs":
        runs = Math.round(positive("--runs", value()));
        break;
      case "--duration":
        duration = positive("--duration", value());
        break;
      case "--with-chp4":
        withChp4 = true;
        break;
      case "--skip-install":
        skipInstall = true;
        break;
      case "--keep-temp":
        keepTemp = true;
        break;
      case "--help":
      case "-h":
        return "help";
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return {
    quick,
    only: only.length > 0 ? [...new Set(only)] : [...GROUPS],
    runs: runs ?? (quick ? 1 : 5),
    durationSeconds: duration ?? (quick ? 1 : 2),
    warmupSeconds: quick ? 0.3 : 0.5,
    concurrentSpawns: quick ? 5 : 20,
    manyUsers: 10_000,
    routes: 1000,
    withChp4,
    skipInstall,
    keepTemp,
  };
}
